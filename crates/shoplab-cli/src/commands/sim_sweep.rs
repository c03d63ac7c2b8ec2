//! `shoplab simulate --sweep PATH=…`: a scenario parameter over values, each run over the
//! seeds and stored; per value and policy, conversion, revenue and margin with 95%
//! intervals.

use std::fmt;

use anyhow::Result;
use shoplab_engine::{Estimate, ParamSweep, Session, SimSweepReport, SweepPoint};

use crate::output::Printer;
use crate::progress;

pub fn run(
    session: &Session,
    text: &str,
    origin: &str,
    spec: &str,
    seeds: Option<u64>,
    threads: usize,
    out: &Printer,
) -> Result<()> {
    let sweep = ParamSweep::parse(spec)?;
    progress::catch_ctrl_c();
    let total = sweep.values.len();
    let report = session.simulate_sweep(text, origin, &sweep, seeds, threads, &mut |n, p| {
        // A value that cannot be written is dropped; the sweep goes on.
        let _ = out.line(&Point {
            path: &sweep.path,
            done: n,
            total,
            point: p,
        });
        !progress::interrupted()
    })?;
    out.line(&Swept(&report))?;
    Ok(())
}

/// One value, as it finishes.
#[derive(serde::Serialize)]
struct Point<'a> {
    #[serde(skip)]
    path: &'a str,
    #[serde(skip)]
    done: usize,
    #[serde(skip)]
    total: usize,
    #[serde(flatten)]
    point: &'a SweepPoint,
}

fn ci(e: Option<&Estimate>, scale: f64, digits: usize) -> String {
    e.map_or("-".into(), |e| {
        format!(
            "{:.digits$} [{:.digits$}, {:.digits$}]",
            scale * e.mean,
            scale * e.low,
            scale * e.high
        )
    })
}

fn rows(f: &mut fmt::Formatter<'_>, path: &str, p: &SweepPoint) -> fmt::Result {
    for pol in &p.policies {
        writeln!(
            f,
            "{path}={:<10} {:<22} {:>26} {:>30} {:>30}",
            p.value,
            pol.policy,
            ci(pol.metrics.get("conversion"), 100.0, 3),
            ci(pol.metrics.get("revenue"), 1.0, 0),
            ci(pol.metrics.get("margin"), 1.0, 0),
        )?;
    }
    Ok(())
}

impl fmt::Display for Point<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "[{}/{}] simulation {}",
            self.done, self.total, self.point.sim_id
        )?;
        rows(f, self.path, self.point)
    }
}

#[derive(serde::Serialize)]
#[serde(transparent)]
struct Swept<'a>(&'a SimSweepReport);

impl fmt::Display for Swept<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        writeln!(
            f,
            "\nsweep of {} in {:?}: {} values × {} replicates in {:.1} s{}",
            r.path,
            r.name,
            r.points.len(),
            r.seeds,
            r.seconds,
            if r.complete { "" } else { " (stopped)" }
        )?;
        writeln!(
            f,
            "{:<width$} {:<22} {:>26} {:>30} {:>30}",
            "value",
            "policy",
            "conversion % (95% CI)",
            "revenue (95% CI)",
            "margin (95% CI)",
            width = r.path.len() + 11
        )?;
        for p in &r.points {
            rows(f, &r.path, p)?;
        }
        Ok(())
    }
}
