//! `shoplab train … --grid/--range/--random/--seeds`: a sweep, one run per trial in turn,
//! then its runs grouped over seeds (mean with a 95% interval, N) and each option's
//! importance for the chosen metric.

use std::fmt;

use anyhow::{Result, bail};
use serde::Serialize;
use shoplab_engine::{
    Axis, Group, GroupBy, Importance, Search, Session, SweepSpec, TrainConfig, group_runs,
    lower_is_better, metric_names, param_importance,
};

use super::train::Trained;
use crate::cli::TrainArgs;
use crate::output::Printer;
use crate::progress;

pub fn run(session: &Session, args: &TrainArgs, base: TrainConfig, out: Printer) -> Result<()> {
    let s = &args.sweep;
    let mut axes = Vec::new();
    for text in &s.grid {
        axes.push(Axis::parse(text)?);
    }
    if !s.range.is_empty() && s.random.is_none() {
        bail!("--range draws values: give --random N, the number of configurations to draw");
    }
    for text in &s.range {
        axes.push(Axis::parse(text)?);
    }
    let search = match s.random {
        Some(n) => Search::Random {
            trials: n as usize,
            seed: s.search_seed,
        },
        None => Search::Grid,
    };
    let spec = SweepSpec {
        base,
        axes,
        search,
        seeds: s.seeds.clone(),
    };
    let sweep = session.plan_sweep(&spec, s.tag.as_deref())?;
    let n = sweep.trials.len();
    if !out.json() {
        eprintln!("{}: {n} trials", sweep.tag);
    }
    let mut stopped = false;
    for i in 0..n {
        if !out.json() {
            eprintln!("trial {}/{n}: {}", i + 1, sweep.describe(i));
        }
        let outcome = progress::training(session.sweep_trial_job(&sweep, i)?, out.json())?;
        out.line(&Trained::new(&outcome, &args.workspace))?;
        if outcome.status != "finished" {
            stopped = true;
            break;
        }
    }
    let runs = session.sweep_runs(&sweep.tag)?;
    let metric = match &s.metric {
        Some(m) => m.clone(),
        None => metric_names(&runs)
            .into_iter()
            .next()
            .unwrap_or_else(|| "ndcg@10".into()),
    };
    out.line(&Summary {
        tag: &sweep.tag,
        trials: n,
        stopped,
        metric: &metric,
        groups: group_runs(&runs, &GroupBy::Replicates, &metric),
        importance: param_importance(&runs, &metric),
    })?;
    Ok(())
}

/// A sweep's runs grouped over seeds, and each option's importance.
#[derive(Serialize)]
struct Summary<'a> {
    tag: &'a str,
    trials: usize,
    stopped: bool,
    metric: &'a str,
    groups: Vec<Group>,
    importance: Vec<Importance>,
}

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.stopped {
            writeln!(
                f,
                "{}: stopped before its last trial; the summary covers the runs so far",
                self.tag
            )?;
        }
        let better = if lower_is_better(self.metric) {
            "lower is better"
        } else {
            "higher is better"
        };
        writeln!(
            f,
            "{}: test {} by configuration (mean over seeds, 95% t interval; {better}):",
            self.tag, self.metric
        )?;
        let width = self.groups.iter().map(|g| g.label.len()).max().unwrap_or(0);
        for g in &self.groups {
            let interval = g
                .interval
                .map(|(lo, hi)| format!("[{lo:.4}, {hi:.4}]"))
                .unwrap_or_else(|| "(one run)".into());
            writeln!(
                f,
                "  {:<width$}  {:.4}  {interval}  N={}  runs {}",
                g.label,
                g.mean,
                g.n,
                g.runs
                    .iter()
                    .map(|r| r.to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            )?;
        }
        writeln!(
            f,
            "parameter importance for {} (numeric: Spearman's rank correlation ρ with the metric; categorical: η², the share of its variance between the values):",
            self.metric
        )?;
        if self.importance.is_empty() {
            writeln!(
                f,
                "  (needs at least 3 runs with the metric and an option that varies)"
            )?;
        }
        for i in &self.importance {
            writeln!(
                f,
                "  {:<14} {} = {:+.3}  (N={}, {} values)",
                i.param,
                i.measure.name(),
                i.value,
                i.n,
                i.levels
            )?;
        }
        Ok(())
    }
}
