//! What the Compare view shows, computed from the runs once per change (not per frame):
//! the rows the filter keeps, the metrics present, the parameters that differ, groups,
//! parameter importance, and the figures drawn from them. Plain functions of plain data.

use std::collections::{BTreeMap, BTreeSet};

use shoplab_engine::{
    EpochRow, Group, GroupBy, Importance, Measure, ParamValue, RunParams, RunSummary, differing_of,
    group_of, importance_of, lower_is_better, metric_names, run_metric,
};

use crate::figure::{Figure, Kind, Series};
use crate::worker::Curve;

/// A parallel-coordinates axis: its name and the range of its values.
pub type ParallelAxis = (String, f64, f64);
/// A run's line over the axes, each value scaled to 0–1.
pub type ParallelLine = (i64, Vec<f64>);

/// How the selected runs are grouped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Grouping {
    #[default]
    None,
    /// Same configuration, another seed or split.
    Replicates,
    /// By one parameter's value.
    Param(String),
}

impl Grouping {
    pub fn label(&self) -> String {
        match self {
            Grouping::None => "no grouping".into(),
            Grouping::Replicates => "same config, any seed/fold".into(),
            Grouping::Param(p) => format!("by {p}"),
        }
    }

    pub fn by(&self) -> Option<GroupBy> {
        match self {
            Grouping::None => None,
            Grouping::Replicates => Some(GroupBy::Replicates),
            Grouping::Param(p) => Some(GroupBy::Param(p.clone())),
        }
    }
}

/// Whether a run matches the filter: words that must all match; `#tag` matches a tag,
/// other words the model, split, status, parameters, tags or note.
pub fn matches(run: &RunSummary, filter: &str) -> bool {
    filter.split_whitespace().all(|word| {
        let w = word.to_lowercase();
        if let Some(tag) = w.strip_prefix('#') {
            return run.tags.iter().any(|t| t.to_lowercase().contains(tag));
        }
        run.model.to_lowercase().contains(&w)
            || run.split.to_lowercase().contains(&w)
            || run.status.contains(&w)
            || run.params.to_lowercase().contains(&w)
            || run.run_id.to_string() == w
            || run.tags.iter().any(|t| t.to_lowercase().contains(&w))
            || run
                .note
                .as_ref()
                .is_some_and(|n| n.to_lowercase().contains(&w))
    })
}

/// Everything the view draws from the runs, for one filter, metric, grouping and selection.
#[derive(Debug, Clone, Default)]
pub struct Derived {
    /// Indices into the runs of the rows the filter keeps.
    pub shown: Vec<usize>,
    /// Every metric the runs have.
    pub metrics: Vec<String>,
    /// Every tag in use.
    pub tags: Vec<String>,
    /// The selected runs, in run order.
    pub selected: Vec<RunSummary>,
    /// Parameters of the selected runs: every one, or those that differ.
    pub param_names: Vec<String>,
    pub params: Vec<BTreeMap<String, ParamValue>>,
    /// Parameters that differ among the shown runs (what grouping and importance offer).
    pub varying: Vec<String>,
    pub groups: Vec<Group>,
    /// Importance of each parameter over the shown runs, for the metric.
    pub importance: Vec<Importance>,
    pub metric_figure: Figure,
    pub importance_figure: Figure,
    /// Parallel coordinates over the shown runs: the axes (name, min, max) and each run's
    /// line scaled to 0–1 per axis, and the figure (selected runs in colour).
    pub axes: Vec<ParallelAxis>,
    pub lines: Vec<ParallelLine>,
    pub parallel_figure: Figure,
}

impl Derived {
    /// What is drawn; `parsed[i]` is `runs[i]` with its parameters read (once per read of
    /// the runs, not per change).
    pub fn new(
        runs: &[RunSummary],
        parsed: &[RunParams],
        filter: &str,
        metric: &str,
        grouping: &Grouping,
        selected: &BTreeSet<i64>,
        differences_only: bool,
    ) -> Self {
        let shown: Vec<usize> = (0..runs.len())
            .filter(|&i| matches(&runs[i], filter))
            .collect();
        let shown_runs: Vec<&RunParams> = shown.iter().map(|&i| &parsed[i]).collect();
        let chosen_idx: Vec<usize> = (0..runs.len())
            .filter(|&i| selected.contains(&runs[i].run_id))
            .collect();
        let chosen: Vec<&RunParams> = chosen_idx.iter().map(|&i| &parsed[i]).collect();
        let params: Vec<BTreeMap<String, ParamValue>> =
            chosen.iter().map(|r| r.params.clone()).collect();
        let param_names = if differences_only {
            differing_of(&chosen)
        } else {
            params
                .iter()
                .flat_map(|p| p.keys().cloned())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        };
        let groups = grouping
            .by()
            .map(|by| group_of(&chosen, &by, metric))
            .unwrap_or_default();
        let importance = importance_of(&shown_runs, metric);
        let tags: BTreeSet<String> = runs.iter().flat_map(|r| r.tags.iter().cloned()).collect();
        let (axes, lines) = parallel(&shown_runs, metric);
        let selected_runs: Vec<RunSummary> = chosen_idx.iter().map(|&i| runs[i].clone()).collect();
        Derived {
            metrics: metric_names(runs),
            tags: tags.into_iter().collect(),
            varying: differing_of(&shown_runs),
            parallel_figure: parallel_figure(&axes, &lines, selected, metric),
            metric_figure: metric_figure(&selected_runs, &groups, grouping, metric),
            importance_figure: importance_figure(&importance, metric),
            shown,
            selected: selected_runs,
            param_names,
            params,
            groups,
            importance,
            axes,
            lines,
        }
    }
}

/// The test metric per selected run (no grouping), or per group: mean with its 95%
/// interval over the group's runs, N in the group's name.
pub fn metric_figure(
    runs: &[RunSummary],
    groups: &[Group],
    grouping: &Grouping,
    metric: &str,
) -> Figure {
    let better = if lower_is_better(metric) {
        "lower is better"
    } else {
        "higher is better"
    };
    let mut f = Figure {
        title: format!("test {metric} ({better})"),
        y_label: metric.into(),
        ..Default::default()
    };
    if grouping == &Grouping::None {
        f.x_label = "run".into();
        for (i, r) in runs.iter().enumerate() {
            f.x_ticks.push(format!("run {} {}", r.run_id, r.model));
            if let Some(v) = run_metric(r, metric) {
                f.series.push(Series {
                    name: format!("run {}", r.run_id),
                    kind: Kind::Bars,
                    points: vec![[i as f64, v]],
                    intervals: Vec::new(),
                    color: i,
                });
            }
        }
        return f;
    }
    f.title = format!("test {metric} by group: mean over runs, 95% t interval ({better})");
    f.x_label = grouping.label();
    for (i, g) in groups.iter().enumerate() {
        f.x_ticks.push(format!("{} (N={})", g.label, g.n));
        f.series.push(Series {
            name: format!("{} (N={})", g.label, g.n),
            kind: Kind::Bars,
            points: vec![[i as f64, g.mean]],
            intervals: g.interval.map(|(a, b)| vec![[a, b]]).unwrap_or_default(),
            color: i,
        });
    }
    f
}

/// Each parameter's importance for the metric: |ρ| or η², ranked.
pub fn importance_figure(importance: &[Importance], metric: &str) -> Figure {
    let mut f = Figure {
        title: format!("parameter importance for {metric}"),
        x_label: "parameter".into(),
        y_label: "strength: |ρ| or η²".into(),
        ..Default::default()
    };
    for (i, imp) in importance.iter().enumerate() {
        f.x_ticks.push(imp.param.clone());
        let measure = match imp.measure {
            Measure::Spearman => format!("ρ = {:+.2}", imp.value),
            Measure::EtaSquared => format!("η² = {:.2}", imp.value),
        };
        f.series.push(Series {
            name: format!("{} {measure}", imp.param),
            kind: Kind::Bars,
            points: vec![[i as f64, imp.strength()]],
            intervals: Vec::new(),
            color: i,
        });
    }
    f
}

/// Loss or validation value per epoch: one line per run, or per group the mean over its
/// runs at each epoch with the 95% interval (epochs some runs lack use the runs that have them).
pub fn epoch_figure(curves: &[Curve], groups: Option<&[Group]>, validation: bool) -> Figure {
    let value = |e: &EpochRow| if validation { e.value } else { e.loss };
    let metric = curves
        .iter()
        .flat_map(|c| c.epochs.iter())
        .find_map(|e| e.metric.clone())
        .unwrap_or_else(|| "validation".into());
    let mut f = Figure {
        title: if validation {
            format!("validation {metric} per epoch")
        } else {
            "train loss per epoch".into()
        },
        x_label: "epoch".into(),
        y_label: if validation { metric } else { "loss".into() },
        ..Default::default()
    };
    match groups {
        None => {
            for (i, c) in curves.iter().enumerate() {
                let points: Vec<[f64; 2]> = c
                    .epochs
                    .iter()
                    .filter_map(|e| Some([e.epoch as f64, value(e)?]))
                    .collect();
                f.series.push(Series {
                    name: format!("run {}", c.run_id),
                    kind: Kind::Line,
                    points,
                    intervals: Vec::new(),
                    color: i,
                });
            }
        }
        Some(groups) => {
            for (i, g) in groups.iter().enumerate() {
                let mut by_epoch: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
                for c in curves.iter().filter(|c| g.runs.contains(&c.run_id)) {
                    for e in &c.epochs {
                        if let Some(v) = value(e) {
                            by_epoch.entry(e.epoch).or_default().push(v);
                        }
                    }
                }
                let mut points = Vec::new();
                let mut intervals = Vec::new();
                for (epoch, vs) in by_epoch {
                    let (mean, iv) = shoplab_engine::mean_interval(&vs);
                    points.push([epoch as f64, mean]);
                    intervals.push(iv.map_or([mean, mean], |(a, b)| [a, b]));
                }
                f.series.push(Series {
                    name: format!("{} (N={})", g.label, g.n),
                    kind: Kind::Line,
                    points,
                    intervals,
                    color: i,
                });
            }
        }
    }
    f
}

/// A run's best and last validation epochs: (epoch, value) each.
pub fn best_and_last(epochs: &[EpochRow]) -> Option<((i64, f64), (i64, f64))> {
    let with: Vec<(i64, f64, &str)> = epochs
        .iter()
        .filter_map(|e| Some((e.epoch, e.value?, e.metric.as_deref().unwrap_or(""))))
        .collect();
    let last = *with.last()?;
    let lower = lower_is_better(last.2);
    let best = with.iter().copied().reduce(|a, b| {
        let better = if lower { b.1 < a.1 } else { b.1 > a.1 };
        if better { b } else { a }
    })?;
    Some(((best.0, best.1), (last.0, last.1)))
}

/// The parallel-coordinates plot's axes over `runs`: every numeric parameter that varies,
/// then the metric; each run's values scaled to 0–1 per axis (a run without a value on an
/// axis is left out). Returns the axes with their (min, max) and each run's scaled line.
pub fn parallel(runs: &[&RunParams], metric: &str) -> (Vec<ParallelAxis>, Vec<ParallelLine>) {
    let mut names: Vec<String> = differing_of(runs)
        .into_iter()
        .filter(|n| {
            runs.iter()
                .all(|r| r.params.get(n).and_then(ParamValue::as_num).is_some())
        })
        .collect();
    names.push(metric.to_string());
    let value = |i: usize, name: &str| -> Option<f64> {
        if name == metric {
            runs[i].metric(metric)
        } else {
            runs[i].params.get(name).and_then(ParamValue::as_num)
        }
    };
    let axes: Vec<(String, f64, f64)> = names
        .iter()
        .map(|n| {
            let vs: Vec<f64> = (0..runs.len()).filter_map(|i| value(i, n)).collect();
            let lo = vs.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = vs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            (n.clone(), lo, hi)
        })
        .collect();
    let lines = (0..runs.len())
        .filter_map(|i| {
            let scaled: Option<Vec<f64>> = axes
                .iter()
                .map(|(n, lo, hi)| {
                    let v = value(i, n)?;
                    Some(if hi > lo { (v - lo) / (hi - lo) } else { 0.5 })
                })
                .collect();
            Some((runs[i].run_id, scaled?))
        })
        .collect();
    (axes, lines)
}

/// The parallel-coordinates figure: an axis per parameter and the metric (its range in
/// the tick), a line per run; selected runs in colour and named, the others grey.
pub fn parallel_figure(
    axes: &[ParallelAxis],
    lines: &[ParallelLine],
    selected: &BTreeSet<i64>,
    metric: &str,
) -> Figure {
    let mut f = Figure {
        title: format!(
            "parallel coordinates: parameters and {metric}, each axis scaled to its range"
        ),
        x_label: "parameter (range)".into(),
        y_label: "scaled value (0 = lowest, 1 = highest)".into(),
        x_ticks: axes
            .iter()
            .map(|(n, lo, hi)| format!("{n} [{}, {}]", short(*lo), short(*hi)))
            .collect(),
        series: Vec::new(),
    };
    // The axes, then grey lines, so the selected ones are drawn over them.
    for i in 0..axes.len() {
        f.series.push(Series {
            name: String::new(),
            kind: Kind::Line,
            points: vec![[i as f64, 0.0], [i as f64, 1.0]],
            intervals: Vec::new(),
            color: GREY,
        });
    }
    let mut colour = 0;
    for pass in [false, true] {
        for (run, ys) in lines {
            if selected.contains(run) != pass {
                continue;
            }
            let points = ys.iter().enumerate().map(|(i, y)| [i as f64, *y]).collect();
            let (name, color) = if pass {
                colour += 1;
                (format!("run {run}"), colour - 1)
            } else {
                (String::new(), GREY)
            };
            f.series.push(Series {
                name,
                kind: Kind::Line,
                points,
                intervals: Vec::new(),
                color,
            });
        }
    }
    f
}

/// The palette's grey, for runs not selected.
pub const GREY: usize = 9;

fn short(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e9 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: i64, factors: u32, seed: u32, ndcg: f64, tags: &[&str]) -> RunSummary {
        RunSummary {
            run_id: id,
            split: "main".into(),
            model: "bpr".into(),
            params: format!(r#"{{"kind":"train","factors":{factors},"lr":0.05,"seed":{seed}}}"#),
            device: "cpu".into(),
            status: "finished".into(),
            message: None,
            epochs_done: 3,
            seconds: 1.0,
            artifacts: Default::default(),
            created_at: String::new(),
            metrics: vec![("ndcg@10".into(), ndcg), ("hit@10".into(), ndcg * 2.0)],
            tags: tags.iter().map(|t| t.to_string()).collect(),
            note: (id == 2).then(|| "the odd one".into()),
        }
    }

    fn runs() -> Vec<RunSummary> {
        vec![
            run(1, 16, 1, 0.20, &["sweep-1"]),
            run(2, 16, 2, 0.22, &["sweep-1"]),
            run(3, 64, 1, 0.30, &["sweep-1", "best"]),
            run(4, 64, 2, 0.32, &["sweep-1"]),
        ]
    }

    #[test]
    fn the_filter_reads_tags_notes_and_params() {
        let r = runs();
        let kept = |f: &str| -> Vec<i64> {
            r.iter()
                .filter(|x| matches(x, f))
                .map(|x| x.run_id)
                .collect()
        };
        assert_eq!(kept("#best"), vec![3]);
        assert_eq!(kept("odd"), vec![2]);
        assert_eq!(kept("\"factors\":64"), vec![3, 4]);
        assert_eq!(kept("#sweep-1 \"seed\":2"), vec![2, 4]);
        // A bare number matches a run id, and any parameter holding it ("factors":64).
        assert_eq!(kept("4"), vec![3, 4]);
        assert_eq!(kept(""), vec![1, 2, 3, 4]);
    }

    #[test]
    fn groups_differences_and_figures() {
        let r = runs();
        let sel: BTreeSet<i64> = [1, 2, 3, 4].into();
        let p: Vec<RunParams> = r.iter().map(RunParams::of).collect();
        let d = Derived::new(&r, &p, "", "ndcg@10", &Grouping::Replicates, &sel, true);
        assert_eq!(d.param_names, vec!["factors", "seed"]);
        assert_eq!(d.metrics, vec!["ndcg@10", "hit@10"]);
        assert_eq!(d.tags, vec!["best", "sweep-1"]);
        assert_eq!(d.groups.len(), 2);
        assert_eq!(
            d.metric_figure.x_ticks,
            vec!["factors=16 (N=2)", "factors=64 (N=2)"]
        );
        let bar = &d.metric_figure.series[1];
        assert!((bar.points[0][1] - 0.31).abs() < 1e-12);
        assert_eq!(bar.intervals.len(), 1);
        assert_eq!(d.importance[0].param, "factors");
        assert_eq!(d.importance_figure.x_ticks[0], "factors");
        // Without grouping: a bar per run.
        let d = Derived::new(&r, &p, "", "ndcg@10", &Grouping::None, &sel, false);
        assert_eq!(d.metric_figure.series.len(), 4);
        assert!(d.param_names.contains(&"lr".to_string()));
    }

    #[test]
    fn parallel_axes_scale_each_run_to_its_range() {
        let r = runs();
        let p: Vec<RunParams> = r.iter().map(RunParams::of).collect();
        let refs: Vec<&RunParams> = p.iter().collect();
        let (axes, lines) = parallel(&refs, "ndcg@10");
        let names: Vec<&str> = axes.iter().map(|a| a.0.as_str()).collect();
        assert_eq!(names, vec!["factors", "seed", "ndcg@10"]);
        assert_eq!(lines[0], (1, vec![0.0, 0.0, 0.0]));
        assert_eq!(lines[3], (4, vec![1.0, 1.0, 1.0]));
        assert!((lines[2].1[2] - 10.0 / 12.0).abs() < 1e-9);
    }

    #[test]
    fn best_epoch_goes_by_the_metrics_direction() {
        let e = |epoch, metric: &str, value| EpochRow {
            epoch,
            loss: Some(1.0),
            metric: Some(metric.into()),
            value: Some(value),
            seconds: 1.0,
        };
        let ndcg = [
            e(1, "ndcg@10", 0.1),
            e(2, "ndcg@10", 0.3),
            e(3, "ndcg@10", 0.2),
        ];
        assert_eq!(best_and_last(&ndcg), Some(((2, 0.3), (3, 0.2))));
        let rmse = [e(1, "rmse", 1.1), e(2, "rmse", 0.9), e(3, "rmse", 0.95)];
        assert_eq!(best_and_last(&rmse), Some(((2, 0.9), (3, 0.95))));
    }
}
