//! `shoplab plan-ab`: how long an A/B test of two policies must run, by simulation on the
//! scenario's shop and by the textbook formula.

use std::fmt;

use anyhow::{Context, Result};
use shoplab_engine::{AbPlan, AbQuery, PlanOptions, Session};

use crate::cli::PlanAbArgs;
use crate::output::Printer;

pub fn run(args: PlanAbArgs) -> Result<()> {
    let text = std::fs::read_to_string(&args.scenario)
        .with_context(|| format!("reading {}", args.scenario.display()))?;
    let session = Session::open_read_only(&args.workspace)?;
    let plan = session.plan_ab(
        &text,
        &args.scenario.display().to_string(),
        &AbQuery {
            a: args.a,
            b: args.b,
            options: PlanOptions {
                alpha: args.alpha,
                power: args.power,
            },
            replicates: args.replicates,
            days: args.days,
            share: args.share,
        },
        args.threads,
    )?;
    Printer::new(args.output.json).print(&Plan(&plan))?;
    Ok(())
}

#[derive(serde::Serialize)]
#[serde(transparent)]
struct Plan<'a>(&'a AbPlan);

fn days(d: Option<u32>, horizon: usize) -> String {
    d.map_or(format!("more than {horizon}"), |d| d.to_string())
}

impl fmt::Display for Plan<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.0;
        let pct = |e: &shoplab_engine::Estimate| {
            format!(
                "{:.3}% [{:.3}, {:.3}]",
                100.0 * e.mean,
                100.0 * e.low,
                100.0 * e.high
            )
        };
        writeln!(
            f,
            "A/B test of {:?} (B) against {:?} (A): α {} two-sided, power {}, {} simulated tests",
            p.b, p.a, p.options.alpha, p.options.power, p.tests
        )?;
        writeln!(
            f,
            "conversion A {}, B {}; effect {:+.3} points ({:+.1}% relative)",
            pct(&p.conversion_a),
            pct(&p.conversion_b),
            100.0 * p.effect,
            100.0 * p.relative_effect
        )?;
        let horizon = p.curve.len();
        writeln!(
            f,
            "days needed: simulated power ≥ {}: {}; simulated MDE ≤ effect: {}; formula: {}",
            p.options.power,
            days(p.days_by_power, horizon),
            days(p.days_by_mde, horizon),
            p.days_formula.map_or("- (no effect)".into(), |d| format!(
                "{d:.1} ({:.0} sessions per arm)",
                p.sessions_formula.unwrap_or_default()
            ))
        )?;
        writeln!(
            f,
            "\n{:>4} {:>14} {:>22} {:>16} {:>14}",
            "days", "sessions/arm", "power [95% interval]", "MDE simulated", "MDE formula"
        )?;
        for c in &p.curve {
            writeln!(
                f,
                "{:>4} {:>14.0} {:>6.3} [{:.3}, {:.3}] {:>15.3}% {:>13.3}%",
                c.days,
                c.sessions_per_arm,
                c.power,
                c.power_interval[0],
                c.power_interval[1],
                100.0 * c.mde_simulated,
                100.0 * c.mde_formula
            )?;
        }
        Ok(())
    }
}
