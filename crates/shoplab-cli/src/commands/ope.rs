//! `shoplab ope`: off-policy estimates of a target policy on a logged policy's impressions.

use std::fmt;

use anyhow::Result;
use serde::Serialize;
use shoplab_engine::{OpeReport, Session};

use crate::cli::OpeArgs;
use crate::output::Printer;

pub fn run(args: OpeArgs) -> Result<()> {
    let session = Session::open_read_only(&args.workspace)?;
    let report = session.ope(
        &args.log,
        args.campaign.as_deref(),
        &args.policy,
        args.resamples,
        args.rounds,
    )?;
    Printer::new(args.output.json).print(&Estimated(&report))?;
    Ok(())
}

/// IPS, SNIPS, DM and DR with their intervals (and relative errors against a logged target).
#[derive(Serialize)]
#[serde(transparent)]
struct Estimated<'a>(&'a OpeReport);

impl fmt::Display for Estimated<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        writeln!(
            f,
            "{} on the log of {}{}: {} rows, {} actions, {} positions",
            r.target,
            r.behavior,
            r.campaign
                .as_deref()
                .map(|c| format!(" ({c})"))
                .unwrap_or_default(),
            r.rows,
            r.actions,
            r.positions
        )?;
        let errors = r.relative_errors.map(|e| e.map(Some)).unwrap_or([None; 4]);
        writeln!(
            f,
            "{:<7} {:>10} {:>24} {:>22}",
            "", "estimate", "95% bootstrap interval", "relative error (sd)"
        )?;
        for ((name, e), err) in r.estimates.rows().iter().zip(errors) {
            let err = err
                .map(|(m, sd)| format!("{m:.3} ({sd:.3})"))
                .unwrap_or_default();
            writeln!(
                f,
                "{name:<7} {:>10.5} {:>24} {err:>22}",
                e.value,
                format!("[{:.5}, {:.5}]", e.low, e.high)
            )?;
        }
        if let Some(t) = r.truth {
            writeln!(f, "on-policy mean reward of the target's own log: {t:.5}")?;
        }
        Ok(())
    }
}
