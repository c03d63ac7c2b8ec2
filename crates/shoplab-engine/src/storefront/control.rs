//! The control room: policy A against policy B on the shop as its calibration fitted it (or
//! the synthetic world without one), streamed day by day.

use super::Storefront;
use crate::{EngineError, LiveDay, Result, SimReport};

/// A policy the control room can run: a recommender and a pricing rule, as scenario TOML.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlPolicy {
    pub id: &'static str,
    pub label: &'static str,
    pub help: &'static str,
    /// The policy's scenario lines (`{run}` stands for the best recommender run).
    toml: &'static str,
}

pub const CONTROL_POLICIES: &[ControlPolicy] = &[
    ControlPolicy {
        id: "list",
        label: "List price",
        help: "popular items at the catalog's prices",
        toml: "recommend = \"popularity\"\npricing = { kind = \"list\" }",
    },
    ControlPolicy {
        id: "thompson",
        label: "Thompson sampling",
        help: "learns each item's price among 90–110% of list, moving at most 5% a day",
        toml: "recommend = \"popularity\"\npricing = { kind = \"thompson\", grid = [0.9, 0.95, 1.0, 1.05, 1.1] }\nmax_move = 0.05",
    },
    ControlPolicy {
        id: "elasticity-optimal",
        label: "Elasticity-optimal",
        help: "prices each item where its category's known sensitivity puts the best margin",
        toml: "recommend = \"popularity\"\npricing = { kind = \"elasticity-optimal\" }\nmax_move = 0.05",
    },
    ControlPolicy {
        id: "best-run",
        label: "Best run's recommendations",
        help: "the best finished run's slates at list prices",
        toml: "recommend = \"run:{run}\"\npricing = { kind = \"list\" }",
    },
];

impl Storefront {
    /// The scenario of a control-room run of `a` against `b`.
    pub fn control_scenario(&self, a: &str, b: &str, days: u32, seeds: u64) -> Result<String> {
        if a == b {
            return Err(EngineError::BadArgument(format!(
                "policies A and B are both {a:?}: pick two different ones"
            )));
        }
        if !(1..=365).contains(&days) || !(1..=50).contains(&seeds) {
            return Err(EngineError::BadArgument(format!(
                "days must be 1–365 and seeds 1–50 (got {days} days, {seeds} seeds)"
            )));
        }
        let mut text = format!(
            "name = \"control room: {a} against {b}\"\ndays = {days}\nseeds = {seeds}\nslate = 6\noracle = false\n"
        );
        match self.calibration {
            Some(id) => text.push_str(&format!("world = {{ calibration = {id} }}\n")),
            None => text.push_str("sessions_per_day = 600\n"),
        }
        for id in [a, b] {
            let policy = CONTROL_POLICIES
                .iter()
                .find(|p| p.id == id)
                .ok_or_else(|| {
                    EngineError::BadArgument(format!(
                        "unknown control-room policy {id:?} (known: {})",
                        CONTROL_POLICIES
                            .iter()
                            .map(|p| p.id)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })?;
            let lines = if policy.toml.contains("{run}") {
                let run = self.default_run().ok_or_else(|| {
                    EngineError::NotSupported(
                        "the workspace has no finished recommender run".into(),
                    )
                })?;
                policy.toml.replace("{run}", &run.to_string())
            } else {
                policy.toml.to_string()
            };
            text.push_str(&format!(
                "\n[[policies]]\nname = \"{}\"\n{lines}\n",
                policy.label
            ));
        }
        Ok(text)
    }

    /// Runs `a` against `b` at `days_per_second`, each day's means to `on` (false stops it);
    /// stored like any simulation.
    pub fn control_room(
        &self,
        a: &str,
        b: &str,
        days: u32,
        seeds: u64,
        days_per_second: f64,
        on: &mut dyn FnMut(&LiveDay) -> bool,
    ) -> Result<SimReport> {
        if !(days_per_second.is_finite() && days_per_second > 0.0) {
            return Err(EngineError::BadArgument(format!(
                "speed must be a positive number of days per second (got {days_per_second})"
            )));
        }
        let scenario = self.control_scenario(a, b, days, seeds)?;
        // A session of its own: the storefront stays usable while the days run.
        let session = self.session().try_clone()?;
        session.simulate_live(
            &scenario,
            "control room",
            None,
            std::time::Duration::from_secs_f64(1.0 / days_per_second),
            on,
        )
    }
}
