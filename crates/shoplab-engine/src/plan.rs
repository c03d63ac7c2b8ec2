//! The A/B test planner: two policies of a scenario on its shop (a calibrated one is the
//! shop's own), each arm at its share of the day's traffic, over many replicates; the
//! simulated power and minimum detectable effect per test length against the textbook
//! formula (see [`shoplab_sim::plan`]).

use shoplab_sim::Scenario;
use shoplab_sim::plan::{AbPlan, PlanOptions, plan};

use crate::{EngineError, Result, Session};

/// What to plan.
#[derive(Debug, Clone, PartialEq)]
pub struct AbQuery {
    /// The policies' names in the scenario: the control and the treatment.
    pub a: String,
    pub b: String,
    pub options: PlanOptions,
    /// Simulated tests.
    pub replicates: u64,
    /// The longest test considered (default: the scenario's horizon).
    pub days: Option<u32>,
    /// Each arm's share of the day's sessions.
    pub share: f64,
}

impl Default for AbQuery {
    fn default() -> Self {
        AbQuery {
            a: String::new(),
            b: String::new(),
            options: PlanOptions::default(),
            replicates: 200,
            days: None,
            share: 0.5,
        }
    }
}

impl Session {
    /// Plans an A/B test of `q.b` against `q.a`, two policies of `scenario` (TOML text;
    /// `origin` names it in errors). Nothing is stored.
    pub fn plan_ab(
        &self,
        scenario: &str,
        origin: &str,
        q: &AbQuery,
        threads: usize,
    ) -> Result<AbPlan> {
        if !(q.share > 0.0 && q.share <= 0.5) || q.replicates < 2 {
            return Err(EngineError::BadArgument(format!(
                "--share must be in (0, 0.5] and --replicates at least 2 (got {} and {})",
                q.share, q.replicates
            )));
        }
        let mut s = Scenario::from_toml(scenario, origin)?;
        let pick = |name: &str| {
            s.policies
                .iter()
                .find(|p| p.name == name)
                .cloned()
                .ok_or_else(|| {
                    EngineError::BadArgument(format!(
                        "{origin}: no policy named {name:?} (the scenario has: {})",
                        s.policies
                            .iter()
                            .map(|p| format!("{:?}", p.name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })
        };
        let (a, b) = (pick(&q.a)?, pick(&q.b)?);
        if a.name == b.name {
            return Err(EngineError::BadArgument(
                "an A/B test needs two different policies".into(),
            ));
        }
        s.policies = vec![a, b];
        s.oracle = false;
        s.seeds = q.replicates;
        s.days = q.days.unwrap_or(s.days);
        // The shop's traffic (the scenario's or the calibrated log's), each arm its share.
        let mut market = self.scenario_market(s)?;
        market.share_traffic(q.share);
        let runs = market.run(threads)?;
        Ok(plan(&runs[0], &runs[1], q.options)?)
    }
}
