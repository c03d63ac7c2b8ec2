//! `shoplab simulate`: a what-if scenario over its seeds, in batch or in real time.

use std::fmt;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::Serialize;
use shoplab_engine::{CategoryResult, Estimate, LiveDay, Session, SimReport, StoredSim};

use crate::cli::{SimsArgs, SimulateArgs};
use crate::output::Printer;
use crate::progress;

pub fn run(args: SimulateArgs) -> Result<()> {
    let out = Printer::new(args.output.json);
    let text = std::fs::read_to_string(&args.scenario)
        .with_context(|| format!("reading {}", args.scenario.display()))?;
    let session = super::open(&args.workspace)?;
    let origin = args.scenario.display().to_string();
    if let Some(spec) = &args.sweep {
        return super::sim_sweep::run(
            &session,
            &text,
            &origin,
            spec,
            args.seeds,
            args.threads,
            &out,
        );
    }
    let report = if args.realtime {
        progress::catch_ctrl_c();
        let pace = match args.speed {
            Some(x) if x > 0.0 && x.is_finite() => Duration::from_secs_f64(86_400.0 / x),
            Some(x) => bail!("--speed must be positive, got {x}"),
            None => Duration::from_millis(args.day_ms),
        };
        session.simulate_live(&text, &origin, args.seeds, pace, &mut |day| {
            // A day that cannot be written is dropped; the simulation goes on.
            let _ = out.line(&Today(day));
            !progress::interrupted()
        })?
    } else {
        session.simulate(&text, &origin, args.seeds, args.threads)?
    };
    out.line(&Simulated::new(&report))?;
    Ok(())
}

/// `shoplab sims`: the stored simulations, or one of them read back (`--show`).
pub fn list(args: SimsArgs) -> Result<()> {
    let out = Printer::new(args.output.json);
    let session = Session::open_read_only(&args.workspace)?;
    match args.show {
        Some(id) => out.print(&Simulated::new(&session.past_simulation(id)?.report))?,
        None => out.print(&Sims(&session.simulations()?))?,
    }
    Ok(())
}

#[derive(Serialize)]
#[serde(transparent)]
struct Sims<'a>(&'a [StoredSim]);

impl fmt::Display for Sims<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:>5}  {:<19}  {:>5} {:>5} {:>8}  {:<40} policies",
            "sim", "created", "seeds", "days", "seconds", "name"
        )?;
        for s in self.0 {
            writeln!(
                f,
                "{:>5}  {:<19}  {:>5} {:>5} {:>8.1}  {:<40} {}",
                s.sim_id,
                s.created_at,
                s.seeds,
                s.days,
                s.seconds,
                crate::output::truncate(&s.name, 40),
                s.policies.join(", ")
            )?;
        }
        Ok(())
    }
}

/// One simulated day of one policy, as it happens.
#[derive(Serialize)]
#[serde(transparent)]
struct Today<'a>(&'a LiveDay);

impl fmt::Display for Today<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        writeln!(
            f,
            "day {:>3}  {:<22} conversion {:>6.2}%  revenue {:>12.0}  margin {:>11.0}{}",
            d.day + 1,
            d.policy,
            100.0 * d.conversion,
            d.revenue,
            d.margin,
            d.regret
                .map(|r| format!("  regret {r:>9.0}"))
                .unwrap_or_default()
        )
    }
}

/// Each policy's totals over the horizon: mean over replicates with a 95% interval.
type Summary = Vec<(&'static str, Estimate)>;

/// Each policy's conversion, revenue and margin over the horizon, the revenue relative to
/// the first policy, the regret against the oracle (when it ran) and the error of the
/// policy's predicted conversion (when it predicts).
struct Simulated<'a> {
    report: &'a SimReport,
    rows: Vec<(&'a str, Summary)>,
    /// Each policy's results by category.
    categories: Vec<Vec<CategoryResult>>,
}

impl<'a> Simulated<'a> {
    fn new(report: &'a SimReport) -> Self {
        let rows = report
            .runs
            .iter()
            .map(|r| (r.policy.as_str(), r.summary()))
            .collect();
        let categories = report.runs.iter().map(|r| r.category_results()).collect();
        Simulated {
            report,
            rows,
            categories,
        }
    }
}

/// Categories the text table shows (the rest: `--json`).
const SHOWN_CATEGORIES: usize = 12;

fn get(s: &Summary, metric: &str) -> Option<Estimate> {
    s.iter().find(|m| m.0 == metric).map(|m| m.1)
}

impl Serialize for Simulated<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let policies: Vec<serde_json::Value> = self
            .rows
            .iter()
            .zip(&self.categories)
            .map(|((name, summary), categories)| {
                let mut m = serde_json::Map::new();
                m.insert("policy".into(), serde_json::json!(name));
                for (metric, e) in summary {
                    m.insert(
                        (*metric).into(),
                        serde_json::json!({"mean": e.mean, "low": e.low, "high": e.high}),
                    );
                }
                m.insert("categories".into(), serde_json::json!(categories));
                serde_json::Value::Object(m)
            })
            .collect();
        serde_json::json!({
            "sim_id": self.report.sim_id,
            "name": self.report.name,
            "policies": policies,
        })
        .serialize(s)
    }
}

impl fmt::Display for Simulated<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let report = self.report;
        let replicates = report.runs.first().map_or(0, |r| r.replicates.len());
        writeln!(
            f,
            "simulation {}: {} ({replicates} replicates)",
            report.sim_id, report.name
        )?;
        writeln!(
            f,
            "{:<22} {:>10} {:>30} {:>30} {:>9} {:>22} {:>10}",
            "policy",
            "conversion",
            "revenue (95% CI)",
            "margin (95% CI)",
            "vs first",
            "regret vs oracle",
            "conv. RMSE"
        )?;
        let first = self
            .rows
            .first()
            .and_then(|r| get(&r.1, "revenue"))
            .map_or(1.0, |e| e.mean);
        let ci = |e: Option<Estimate>| {
            e.map_or("-".into(), |e| {
                format!("{:.0} [{:.0}, {:.0}]", e.mean, e.low, e.high)
            })
        };
        for (name, s) in &self.rows {
            let margin = get(s, "margin");
            let regret = get(s, "regret").map_or("-".into(), |r| {
                let oracle = r.mean + margin.map_or(0.0, |m| m.mean);
                format!(
                    "{:.0} ({:.1}%)",
                    r.mean,
                    100.0 * r.mean / oracle.abs().max(1e-9)
                )
            });
            let rmse = get(s, "conversion_mse").map_or("-".into(), |e| {
                format!("{:.2} pp", 100.0 * e.mean.max(0.0).sqrt())
            });
            writeln!(
                f,
                "{:<22} {:>9.2}% {:>30} {:>30} {:>8.3}× {:>22} {:>10}",
                name,
                100.0 * get(s, "conversion").map_or(0.0, |e| e.mean),
                ci(get(s, "revenue")),
                ci(margin),
                get(s, "revenue").map_or(0.0, |e| e.mean) / first,
                regret,
                rmse
            )?;
        }
        self.by_category(f)
    }
}

impl Simulated<'_> {
    /// Each category's margin per policy (the categories the first policy earns most in
    /// first), when the shop has more than one.
    fn by_category(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(first) = self.categories.first().filter(|c| c.len() > 1) else {
            return Ok(());
        };
        let mut order: Vec<usize> = (0..first.len()).collect();
        order.sort_by(|&a, &b| first[b].revenue.mean.total_cmp(&first[a].revenue.mean));
        writeln!(
            f,
            "\nmargin by category (mean over replicates; conversion, revenue and intervals: --json)"
        )?;
        write!(f, "{:<28} {:>9}", "category", "sessions")?;
        for (name, _) in &self.rows {
            write!(f, " {:>14}", crate::output::truncate(name, 14))?;
        }
        writeln!(f)?;
        for &c in order.iter().take(SHOWN_CATEGORIES) {
            let name = match first[c].category.as_str() {
                "" => "(none)",
                code => code,
            };
            write!(
                f,
                "{:<28} {:>9.0}",
                crate::output::truncate(name, 28),
                first[c].sessions
            )?;
            for results in &self.categories {
                let margin = results.get(c).map_or(0.0, |r| r.margin.mean);
                write!(f, " {margin:>14.0}")?;
            }
            writeln!(f)?;
        }
        if order.len() > SHOWN_CATEGORIES {
            writeln!(f, "… {} more categories", order.len() - SHOWN_CATEGORIES)?;
        }
        Ok(())
    }
}
