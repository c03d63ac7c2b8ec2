//! Reading many runs at once, as an experiment tracker does: each run's parameters as flat
//! name → value pairs, the parameters that differ between runs, runs grouped by a parameter
//! or by "same configuration, another seed or fold" into a mean with its 95% interval, and
//! how much each parameter matters for a metric (Spearman's rank correlation for a numeric
//! parameter, η² for a categorical one).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::registry::RunSummary;

/// A parameter's value: a number, or anything else as text.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Value {
    Num(f64),
    Text(String),
}

impl Value {
    pub fn as_num(&self) -> Option<f64> {
        match self {
            Value::Num(x) => Some(*x),
            Value::Text(_) => None,
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Num(x) => write!(f, "{x}"),
            Value::Text(s) => f.write_str(s),
        }
    }
}

/// Parameters that say which replicate a run is, not what was run: runs that differ only in
/// these are the same configuration.
pub const REPLICATE_PARAMS: [&str; 2] = ["seed", "split"];

/// A run's parameters as flat pairs: the stored configuration's fields (nested ones as
/// `outer.inner`), with `model` and `split` as the registry has them. `kind` says which run
/// kind the configuration is.
pub fn params(run: &RunSummary) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(&run.params) {
        flatten("", &v, &mut out);
    }
    out.insert("model".into(), Value::Text(run.model.clone()));
    out.insert("split".into(), Value::Text(run.split.clone()));
    out
}

fn flatten(prefix: &str, v: &serde_json::Value, out: &mut BTreeMap<String, Value>) {
    use serde_json::Value as J;
    let value = match v {
        J::Object(map) => {
            for (k, inner) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, inner, out);
            }
            return;
        }
        J::Number(n) => Value::Num(n.as_f64().unwrap_or(f64::NAN)),
        J::Bool(b) => Value::Text(b.to_string()),
        J::String(s) => Value::Text(s.clone()),
        J::Null => Value::Text("none".into()),
        J::Array(items) => Value::Text(
            items
                .iter()
                .map(|i| match i {
                    J::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" "),
        ),
    };
    out.insert(prefix.to_string(), value);
}

/// A run's parameters as flat pairs.
pub type Params = BTreeMap<String, Value>;

/// A run with its parameters read once (what the functions over many runs work on).
#[derive(Debug, Clone, PartialEq)]
pub struct RunParams {
    pub run_id: i64,
    pub params: Params,
    pub metrics: Vec<(String, f64)>,
}

impl RunParams {
    pub fn of(run: &RunSummary) -> Self {
        RunParams {
            run_id: run.run_id,
            params: params(run),
            metrics: run.metrics.clone(),
        }
    }

    /// The value of `metric` in the run's test metrics.
    pub fn metric(&self, name: &str) -> Option<f64> {
        find_metric(&self.metrics, name)
    }
}

fn parsed(runs: &[RunSummary]) -> Vec<RunParams> {
    runs.iter().map(RunParams::of).collect()
}

/// The parameters whose value is not the same in every run (a parameter some runs lack
/// differs), in name order.
pub fn differing(runs: &[RunSummary]) -> Vec<String> {
    differing_of(&parsed(runs).iter().collect::<Vec<_>>())
}

/// [`differing`] over runs read once.
pub fn differing_of(runs: &[&RunParams]) -> Vec<String> {
    let names: BTreeSet<&String> = runs.iter().flat_map(|r| r.params.keys()).collect();
    names
        .into_iter()
        .filter(|name| {
            let first = runs.first().and_then(|r| r.params.get(*name));
            runs.iter().any(|r| r.params.get(*name) != first)
        })
        .cloned()
        .collect()
}

/// Every metric the runs have, the usual ones first (ranking, rating, classification),
/// then the rest by name.
pub fn metric_names(runs: &[RunSummary]) -> Vec<String> {
    const FIRST: [&str; 9] = [
        "ndcg@10",
        "recall@10",
        "hit@10",
        "mrr@10",
        "rmse",
        "mae",
        "auc",
        "logloss",
        "cold_ndcg@10",
    ];
    let present: BTreeSet<&str> = runs
        .iter()
        .flat_map(|r| r.metrics.iter().map(|m| m.0.as_str()))
        .collect();
    let mut out: Vec<String> = FIRST
        .iter()
        .filter(|m| present.contains(*m))
        .map(|m| m.to_string())
        .collect();
    out.extend(
        present
            .into_iter()
            .filter(|m| !FIRST.contains(m))
            .map(str::to_string),
    );
    out
}

/// Whether a lower value of `metric` is better (errors and losses).
pub fn lower_is_better(metric: &str) -> bool {
    let m = metric.trim_start_matches("probe_");
    [
        "rmse",
        "mae",
        "logloss",
        "loss",
        "squared_error",
        "abs_error",
    ]
    .iter()
    .any(|x| m == *x || m.ends_with(&format!("_{x}")))
}

/// The value of `metric` in a run's test metrics.
pub fn metric(run: &RunSummary, metric: &str) -> Option<f64> {
    find_metric(&run.metrics, metric)
}

/// A finite value of `name` among (metric, value) pairs.
fn find_metric(metrics: &[(String, f64)], name: &str) -> Option<f64> {
    metrics
        .iter()
        .find(|m| m.0 == name)
        .map(|m| m.1)
        .filter(|v| v.is_finite())
}

/// How runs are grouped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupBy {
    /// By one parameter's value.
    Param(String),
    /// Runs that differ only in their seed or split (replicates of one configuration).
    Replicates,
}

/// A group of runs and a metric's mean over them.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Group {
    /// What the runs share: `factors=64`, or the configuration's differing parameters.
    pub label: String,
    pub runs: Vec<i64>,
    /// Runs with the metric.
    pub n: usize,
    pub mean: f64,
    /// 95% t interval of the mean over the runs (none for a single run).
    pub interval: Option<(f64, f64)>,
}

/// Groups `runs` (those with `metric`) and gives each group's mean with its 95% interval;
/// groups in order of their first run.
pub fn group(runs: &[RunSummary], by: &GroupBy, metric_name: &str) -> Vec<Group> {
    group_of(&parsed(runs).iter().collect::<Vec<_>>(), by, metric_name)
}

/// [`group`] over runs read once.
pub fn group_of(runs: &[&RunParams], by: &GroupBy, metric_name: &str) -> Vec<Group> {
    let with: Vec<&RunParams> = runs
        .iter()
        .copied()
        .filter(|r| r.metric(metric_name).is_some())
        .collect();
    let varying = differing_of(&with);
    let mut order: Vec<String> = Vec::new();
    let mut members: HashMap<String, Vec<&RunParams>> = HashMap::new();
    for r in &with {
        let p = &r.params;
        let label = match by {
            GroupBy::Param(name) => format!(
                "{name}={}",
                p.get(name).map_or("none".into(), |v| v.to_string())
            ),
            GroupBy::Replicates => {
                let parts: Vec<String> = varying
                    .iter()
                    .filter(|k| !REPLICATE_PARAMS.contains(&k.as_str()))
                    .map(|k| format!("{k}={}", p.get(k).map_or("none".into(), |v| v.to_string())))
                    .collect();
                if parts.is_empty() {
                    "all runs".into()
                } else {
                    parts.join(" ")
                }
            }
        };
        if !members.contains_key(&label) {
            order.push(label.clone());
        }
        members.entry(label).or_default().push(r);
    }
    order
        .into_iter()
        .map(|label| {
            let rs = &members[&label];
            let values: Vec<f64> = rs.iter().filter_map(|r| r.metric(metric_name)).collect();
            let (mean, interval) = mean_interval(&values);
            Group {
                label,
                runs: rs.iter().map(|r| r.run_id).collect(),
                n: values.len(),
                mean,
                interval,
            }
        })
        .collect()
}

/// The mean of `values` and its 95% t interval (none for fewer than two values).
pub fn mean_interval(values: &[f64]) -> (f64, Option<(f64, f64)>) {
    let n = values.len() as f64;
    if values.is_empty() {
        return (f64::NAN, None);
    }
    let mean = values.iter().sum::<f64>() / n;
    if values.len() < 2 {
        return (mean, None);
    }
    let var = values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let q = StudentsT::new(0.0, 1.0, n - 1.0).map_or(1.96, |t| t.inverse_cdf(0.975));
    let half = q * (var / n).sqrt();
    (mean, Some((mean - half, mean + half)))
}

/// How a parameter's importance was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// Spearman's rank correlation between the parameter and the metric (−1 to 1).
    Spearman,
    /// η²: the share of the metric's variance between the parameter's values (0 to 1).
    EtaSquared,
}

impl Measure {
    pub fn name(self) -> &'static str {
        match self {
            Measure::Spearman => "Spearman ρ",
            Measure::EtaSquared => "η²",
        }
    }
}

/// One parameter's importance for a metric.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Importance {
    pub param: String,
    pub measure: Measure,
    /// ρ (signed) or η².
    pub value: f64,
    /// Runs it was measured over.
    pub n: usize,
    /// Distinct values the parameter took.
    pub levels: usize,
}

impl Importance {
    /// The strength, 0 to 1, that parameters are ranked by (|ρ| or η²).
    pub fn strength(&self) -> f64 {
        self.value.abs()
    }
}

/// The importance of every parameter that varies among the runs with `metric` (at least
/// three runs): numeric parameters by Spearman's ρ, others by η²; strongest first.
pub fn importance(runs: &[RunSummary], metric_name: &str) -> Vec<Importance> {
    importance_of(&parsed(runs).iter().collect::<Vec<_>>(), metric_name)
}

/// [`importance`] over runs read once.
pub fn importance_of(runs: &[&RunParams], metric_name: &str) -> Vec<Importance> {
    let with: Vec<(&Params, f64)> = runs
        .iter()
        .filter_map(|r| Some((&r.params, r.metric(metric_name)?)))
        .collect();
    if with.len() < 3 {
        return Vec::new();
    }
    let names: BTreeSet<&String> = with.iter().flat_map(|(p, _)| p.keys()).collect();
    let mut out = Vec::new();
    for name in names {
        let pairs: Vec<(Value, f64)> = with
            .iter()
            .map(|(p, y)| {
                (
                    p.get(name).cloned().unwrap_or(Value::Text("none".into())),
                    *y,
                )
            })
            .collect();
        let levels = pairs
            .iter()
            .map(|p| p.0.to_string())
            .collect::<BTreeSet<_>>()
            .len();
        if levels < 2 {
            continue;
        }
        let ys: Vec<f64> = pairs.iter().map(|p| p.1).collect();
        let numeric: Option<Vec<f64>> = pairs.iter().map(|p| p.0.as_num()).collect();
        let (measure, value) = match numeric {
            Some(xs) => (Measure::Spearman, spearman(&xs, &ys)),
            None => {
                let labels: Vec<String> = pairs.iter().map(|p| p.0.to_string()).collect();
                (Measure::EtaSquared, eta_squared(&labels, &ys))
            }
        };
        if value.is_finite() {
            out.push(Importance {
                param: name.clone(),
                measure,
                value,
                n: pairs.len(),
                levels,
            });
        }
    }
    out.sort_by(|a, b| {
        b.strength()
            .total_cmp(&a.strength())
            .then(a.param.cmp(&b.param))
    });
    out
}

/// Ranks from 1, ties sharing their mean rank.
fn ranks(xs: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..xs.len()).collect();
    idx.sort_by(|&a, &b| xs[a].total_cmp(&xs[b]));
    let mut r = vec![0.0; xs.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && xs[idx[j + 1]] == xs[idx[i]] {
            j += 1;
        }
        let mean = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = mean;
        }
        i = j + 1;
    }
    r
}

fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx).powi(2);
        syy += (b - my).powi(2);
    }
    if sxx == 0.0 || syy == 0.0 {
        return 0.0;
    }
    sxy / (sxx * syy).sqrt()
}

/// Spearman's rank correlation (Pearson's on tie-averaged ranks).
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    pearson(&ranks(x), &ranks(y))
}

/// η²: between-group sum of squares over the total sum of squares.
pub fn eta_squared(groups: &[String], y: &[f64]) -> f64 {
    let n = y.len() as f64;
    let mean = y.iter().sum::<f64>() / n;
    let total: f64 = y.iter().map(|v| (v - mean).powi(2)).sum();
    if total == 0.0 {
        return 0.0;
    }
    let mut sums: HashMap<&str, (f64, f64)> = HashMap::new();
    for (g, v) in groups.iter().zip(y) {
        let e = sums.entry(g.as_str()).or_default();
        e.0 += v;
        e.1 += 1.0;
    }
    let between: f64 = sums.values().map(|(s, c)| c * (s / c - mean).powi(2)).sum();
    between / total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(id: i64, params: &str, ndcg: f64) -> RunSummary {
        RunSummary {
            run_id: id,
            split: "rr".into(),
            model: "bpr".into(),
            params: params.into(),
            device: "cpu".into(),
            status: "finished".into(),
            message: None,
            epochs_done: 1,
            seconds: 1.0,
            artifacts: Default::default(),
            created_at: String::new(),
            metrics: vec![("ndcg@10".into(), ndcg), ("rmse".into(), 1.0)],
            tags: Vec::new(),
            note: None,
        }
    }

    fn sweep() -> Vec<RunSummary> {
        let mut runs = Vec::new();
        let mut id = 0;
        for factors in [16, 64] {
            for seed in 1..=3 {
                id += 1;
                let y = if factors == 16 { 0.30 } else { 0.40 } + seed as f64 * 0.001;
                runs.push(run(
                    id,
                    &format!(r#"{{"kind":"train","factors":{factors},"lr":0.05,"seed":{seed},"opt":{{"name":"adam"}}}}"#),
                    y,
                ));
            }
        }
        runs
    }

    #[test]
    fn flattens_nested_params_and_lists_what_differs() {
        let runs = sweep();
        let p = params(&runs[0]);
        assert_eq!(p["opt.name"], Value::Text("adam".into()));
        assert_eq!(p["factors"], Value::Num(16.0));
        assert_eq!(p["model"], Value::Text("bpr".into()));
        assert_eq!(differing(&runs), vec!["factors", "seed"]);
        assert_eq!(metric_names(&runs), vec!["ndcg@10", "rmse"]);
        assert!(lower_is_better("rmse") && lower_is_better("probe_rmse"));
        assert!(!lower_is_better("ndcg@10") && !lower_is_better("auc"));
    }

    #[test]
    fn replicates_group_over_seeds_with_a_t_interval() {
        let groups = group(&sweep(), &GroupBy::Replicates, "ndcg@10");
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].label, "factors=16");
        assert_eq!(groups[0].runs, vec![1, 2, 3]);
        assert_eq!(groups[0].n, 3);
        assert!((groups[0].mean - 0.302).abs() < 1e-12);
        // sd of (0.301, 0.302, 0.303) is 0.001; t(0.975, 2) = 4.3027.
        let (lo, hi) = groups[0].interval.unwrap();
        let half = 4.302_652_7 * 0.001 / 3f64.sqrt();
        assert!((hi - groups[0].mean - half).abs() < 1e-6, "{lo} {hi}");
        let by_seed = group(&sweep(), &GroupBy::Param("seed".into()), "ndcg@10");
        assert_eq!(by_seed[0].label, "seed=1");
        assert_eq!(by_seed[0].runs, vec![1, 4]);
    }

    #[test]
    fn importance_ranks_the_parameter_that_moves_the_metric_first() {
        let imp = importance(&sweep(), "ndcg@10");
        assert_eq!(imp[0].param, "factors");
        assert_eq!(imp[0].measure, Measure::Spearman);
        // factors explains the big step; within it seed adds a little: ρ = 0.878.
        assert!((imp[0].value - 0.878).abs() < 0.001, "{}", imp[0].value);
        assert_eq!(imp[1].param, "seed");
        assert_eq!((imp[0].n, imp[0].levels), (6, 2));
        let labels: Vec<String> = ["a", "a", "b", "b"].map(String::from).to_vec();
        assert!((eta_squared(&labels, &[1.0, 1.0, 3.0, 3.0]) - 1.0).abs() < 1e-12);
        assert_eq!(eta_squared(&labels, &[1.0, 3.0, 1.0, 3.0]), 0.0);
        assert!((spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 15.0]) - 0.5).abs() < 1e-12);
    }
}
