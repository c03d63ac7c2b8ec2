//! `shoplab runs` (the registry), `shoplab compare` (two runs, paired) and `shoplab inside`
//! (what is inside one run).

use std::fmt;

use anyhow::Result;
use serde::Serialize;
use shoplab_engine::{Comparison, Inspection, RunSummary, Session};

use crate::cli::{CompareArgs, InsideArgs, RunsArgs, TagArgs};
use crate::output::{Printer, truncate};

pub fn list(args: RunsArgs) -> Result<()> {
    let session = Session::open_read_only(&args.workspace)?;
    let mut runs = session.runs()?;
    if let Some(tag) = &args.tag {
        runs.retain(|r| r.tags.contains(tag));
    }
    Printer::new(args.output.json).print(&Runs(&runs))?;
    Ok(())
}

pub fn tag(args: TagArgs) -> Result<()> {
    let session = super::open(&args.workspace)?;
    let run = session.run(args.run)?;
    let mut tags = run.tags;
    tags.retain(|t| !args.remove.contains(t));
    tags.extend(args.add.iter().cloned());
    let tags = session.set_run_tags(args.run, &tags)?;
    if let Some(note) = &args.note {
        session.set_run_note(args.run, Some(note))?;
    }
    let run = session.run(args.run)?;
    debug_assert_eq!(run.tags, tags);
    Printer::new(args.output.json).print(&Runs(std::slice::from_ref(&run)))?;
    Ok(())
}

pub fn compare(args: CompareArgs) -> Result<()> {
    let session = Session::open_read_only(&args.workspace)?;
    let c = session.compare(args.a, args.b, &args.metric)?;
    Printer::new(args.output.json).print(&Compared(&c))?;
    Ok(())
}

pub fn inside(args: InsideArgs) -> Result<()> {
    let session = Session::open_read_only(&args.workspace)?;
    let i = session.inspect_run(args.run)?;
    Printer::new(args.output.json).print(&Inside(&i))?;
    Ok(())
}

/// What is inside a run, in words (every point in `--json`).
#[derive(Serialize)]
#[serde(transparent)]
struct Inside<'a>(&'a Inspection);

impl fmt::Display for Inside<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = self.0;
        writeln!(f, "run {} ({})", i.run_id, i.model)?;
        if let Some(r) = &i.ratings {
            let mode = r
                .residuals
                .iter()
                .max_by_key(|b| b.2)
                .map(|b| format!("[{:+.2}, {:+.2})", b.0, b.1))
                .unwrap_or_default();
            writeln!(
                f,
                "  ratings: {} test ratings, RMSE {:.4}; most residuals in {mode}",
                r.n, r.rmse
            )?;
        }
        if let Some(c) = &i.classifier {
            writeln!(
                f,
                "  classifier: {} test examples ({} positive), AUC {:.4}",
                c.n, c.positives, c.auc
            )?;
            for (p, rate, n) in &c.calibration {
                writeln!(f, "    predicted {p:.4}  observed {rate:.4}  ({n})")?;
            }
        }
        if let Some(m) = &i.metric {
            writeln!(f, "  {m} by training interactions per user:")?;
            for b in &i.activity {
                if b.users == 0 {
                    writeln!(f, "    {:<16} no users", b.label)?;
                    continue;
                }
                let pop = |x: Option<f64>| x.map_or("-".into(), |v| format!("{v:.1}"));
                writeln!(
                    f,
                    "    {:<16} {:>5} users  {:.4} [{:.4}, {:.4}]  popularity: recommended {}, chosen {}",
                    b.label,
                    b.users,
                    b.mean,
                    b.low,
                    b.high,
                    pop(b.recommended_popularity),
                    pop(b.test_popularity)
                )?;
            }
        }
        if !i.map.is_empty() {
            writeln!(
                f,
                "  item map: {} items on two principal components",
                i.map.len()
            )?;
        }
        for n in &i.notes {
            writeln!(f, "  ({n})")?;
        }
        Ok(())
    }
}

/// The metrics the runs table shows (every metric is in `--json`).
const SHOWN: [&str; 7] = [
    "rmse",
    "ndcg@",
    "recall@",
    "precision@",
    "cold_ndcg@",
    "auc",
    "logloss",
];

/// The registry: one line per run.
#[derive(Serialize)]
#[serde(transparent)]
pub(crate) struct Runs<'a>(pub &'a [RunSummary]);

impl fmt::Display for Runs<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:>4}  {:<16} {:<10} {:<8} {:<9} {:>6} {:>9}  metrics",
            "run", "model", "split", "device", "status", "epochs", "seconds"
        )?;
        for r in self.0 {
            let shown: Vec<String> = r
                .metrics
                .iter()
                .filter(|(n, _)| SHOWN.iter().any(|p| n.starts_with(p)))
                .map(|(n, v)| format!("{n} {v:.4}"))
                .collect();
            writeln!(
                f,
                "{:>4}  {:<16} {:<10} {:<8} {:<9} {:>6} {:>9.2}  {}",
                r.run_id,
                r.model,
                truncate(&r.split, 10),
                r.device,
                r.status,
                r.epochs_done,
                r.seconds,
                shown.join("  ")
            )?;
            if !r.tags.is_empty() || r.note.is_some() {
                let tags = r.tags.iter().map(|t| format!("#{t}")).collect::<Vec<_>>();
                let note = r
                    .note
                    .as_deref()
                    .map(|n| format!("  \"{n}\""))
                    .unwrap_or_default();
                writeln!(f, "{:>4}  {}{note}", "", tags.join(" "))?;
            }
        }
        Ok(())
    }
}

/// A paired comparison: both means, the difference with t and bootstrap intervals.
#[derive(Serialize)]
#[serde(transparent)]
struct Compared<'a>(&'a Comparison);

impl fmt::Display for Compared<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = self.0;
        let (a, b) = (c.run_a, c.run_b);
        writeln!(
            f,
            "{} over {} users (run {b} - run {a}):",
            c.metric, c.users
        )?;
        writeln!(f, "  run {a}: {:.4}   run {b}: {:.4}", c.mean_a, c.mean_b)?;
        writeln!(
            f,
            "  difference {:+.4}  paired t 95% CI [{:+.4}, {:+.4}]  p = {:.4}",
            c.diff, c.t_interval.0, c.t_interval.1, c.p_value
        )?;
        writeln!(
            f,
            "  bootstrap 95% CI [{:+.4}, {:+.4}] (10,000 resamples of users)",
            c.bootstrap_interval.0, c.bootstrap_interval.1
        )
    }
}
