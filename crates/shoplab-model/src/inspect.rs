//! Looking inside a finished run: for a rating model, predicted against actual ratings on
//! the test part and the residuals' histogram; for a classifier (the conversion model), the
//! ROC curve and the calibration curve on its test sessions; for a recommender, its metric
//! by how active users were in training and how popular what it recommends is; for any run
//! with item vectors, a 2-D map of them (their first two principal components).

use std::collections::HashMap;

use nalgebra::{DMatrix, SymmetricEigen};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use shoplab_data::Workspace;

use crate::conversion;
use crate::error::Result;
use crate::lab::load_run;
use crate::metrics::top_k;
use crate::registry::Runs;
use crate::spec::RunSpec;

/// Rating pairs drawn in the scatter plot at most (a seeded sample).
pub const MAX_PAIRS: usize = 5_000;
/// Items placed on the vector map at most (the most popular in training).
pub const MAX_MAP_ITEMS: usize = 2_000;
/// Users per activity bucket whose top 10 is scored for the popularity of what is recommended.
pub const POPULARITY_USERS: usize = 200;

/// What can be seen inside one run; parts that do not apply are empty, and `notes` says why.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Inspection {
    pub run_id: i64,
    pub model: String,
    pub ratings: Option<RatingCheck>,
    pub classifier: Option<ClassifierCheck>,
    /// The recommender's per-user metric by the user's training activity.
    pub activity: Vec<ActivityBucket>,
    pub metric: Option<String>,
    pub map: Vec<MapPoint>,
    /// What is not shown and why.
    pub notes: Vec<String>,
}

/// Predicted against actual ratings on the test part.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct RatingCheck {
    /// (actual, predicted), a seeded sample of at most [`MAX_PAIRS`].
    pub pairs: Vec<(f32, f32)>,
    /// Residual (predicted − actual) histogram over every test rating: (low, high, count).
    pub residuals: Vec<(f64, f64, usize)>,
    pub rmse: f64,
    pub n: usize,
}

/// A binary classifier on its test examples.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ClassifierCheck {
    /// (false positive rate, true positive rate), from (0, 0) to (1, 1).
    pub roc: Vec<(f64, f64)>,
    pub auc: f64,
    /// Per decile of the predicted probability: (mean predicted, observed rate, examples).
    pub calibration: Vec<(f64, f64, usize)>,
    pub n: usize,
    pub positives: usize,
}

/// A recommender's per-user metric over the users of one activity bucket.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ActivityBucket {
    /// `light (5–19)`: training interactions per user.
    pub label: String,
    pub users: usize,
    /// Mean per-user metric with its 95% interval (normal approximation).
    pub mean: f64,
    pub low: f64,
    pub high: f64,
    /// Mean popularity percentile (0 = least, 100 = most popular in training) of the items
    /// in the bucket's top 10s, over up to [`POPULARITY_USERS`] users.
    pub recommended_popularity: Option<f64>,
    /// The same of the bucket's test items (what the users went on to choose).
    pub test_popularity: Option<f64>,
}

/// An item on the 2-D map of a run's item vectors.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MapPoint {
    pub item: String,
    pub x: f32,
    pub y: f32,
    pub category: Option<String>,
    pub title: Option<String>,
}

/// Activity buckets: (label, lowest training count, highest).
const BUCKETS: [(&str, usize, usize); 4] = [
    ("cold (1–4)", 1, 4),
    ("light (5–19)", 5, 19),
    ("medium (20–99)", 20, 99),
    ("heavy (100+)", 100, usize::MAX),
];

/// Looks inside finished run `run_id`.
pub fn inspect(ws: &Workspace, run_id: i64) -> Result<Inspection> {
    let runs = Runs::new(ws);
    let summary = runs.get(run_id)?;
    let mut out = Inspection {
        run_id,
        model: summary.model.clone(),
        ..Default::default()
    };
    let spec = RunSpec::from_params(&summary.params)
        .map_err(|e| crate::error::ModelError::Run(run_id, e.to_string()))?;
    match spec {
        RunSpec::Conversion(_) => {
            let (probs, labels) = conversion::test_predictions(ws, run_id)?;
            out.classifier = Some(classifier(&probs, &labels));
            out.notes
                .push("a conversion model: no users' rankings or item vectors to show".into());
        }
        RunSpec::Finetune(cfg) => {
            let predicted = runs.user_values(run_id, "prediction")?;
            let target = runs.user_values(run_id, "target")?;
            let mut keys: Vec<&String> = predicted
                .keys()
                .filter(|k| target.contains_key(*k))
                .collect();
            keys.sort_by_key(|k| k.parse::<u64>().unwrap_or(u64::MAX));
            let p: Vec<f32> = keys.iter().map(|k| predicted[*k] as f32).collect();
            let y: Vec<f32> = keys.iter().map(|k| target[*k] as f32).collect();
            if p.is_empty() {
                out.notes.push(
                    "a text run recorded before runs kept each review's prediction: train it again to look inside".into(),
                );
            } else {
                match cfg.task {
                    crate::spec::TextTask::Rating => out.ratings = Some(ratings(&y, &p, cfg.seed)),
                    crate::spec::TextTask::Recommend | crate::spec::TextTask::TwoTower => {
                        out.classifier = Some(classifier(&p, &y));
                    }
                }
            }
            out.notes
                .push("a text model on reviews: no users' rankings or item vectors to show".into());
        }
        RunSpec::Train(_) | RunSpec::TwoTower(_) => {
            recommender(ws, &runs, run_id, &mut out)?;
        }
    }
    Ok(out)
}

fn recommender(ws: &Workspace, runs: &Runs, run_id: i64, out: &mut Inspection) -> Result<()> {
    let (ds, cfg, model) = load_run(ws, run_id)?;
    // Rating models: predicted against actual on the test part.
    let pairs: Vec<(u32, u32)> = ds.test.iter().map(|x| (x.user, x.item)).collect();
    match (cfg.model.predicts_ratings(), model.predict(&pairs)?) {
        (true, Some(pred)) if !pred.is_empty() => {
            let actual: Vec<f32> = ds.test.iter().map(|x| x.value).collect();
            out.ratings = Some(ratings(&actual, &pred, cfg.seed));
        }
        _ => out.notes.push(format!(
            "{} ranks items; it does not predict ratings",
            cfg.model.name()
        )),
    }
    // The per-user metric by training activity, and the popularity of what is recommended.
    let metric = if cfg.model.predicts_ratings() {
        "rmse".to_string()
    } else {
        format!("ndcg@{}", cfg.k)
    };
    let values = runs.user_values(run_id, &metric)?;
    let percentile = popularity_percentiles(&ds.item_counts);
    let mut tests: HashMap<u32, Vec<u32>> = HashMap::new();
    for x in &ds.test {
        tests.entry(x.user).or_default().push(x.item);
    }
    for (label, lo, hi) in BUCKETS {
        let mut users: Vec<u32> = (0..ds.users.len() as u32)
            .filter(|&u| (lo..=hi).contains(&ds.seen[u as usize].len()))
            .collect();
        let v: Vec<f64> = users
            .iter()
            .filter_map(|&u| values.get(&ds.users[u as usize]).copied())
            .collect();
        if v.is_empty() {
            out.activity.push(ActivityBucket {
                label: label.into(),
                users: 0,
                mean: f64::NAN,
                low: f64::NAN,
                high: f64::NAN,
                recommended_popularity: None,
                test_popularity: None,
            });
            continue;
        }
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
        let half = 1.96 * sd / n.sqrt();
        users.retain(|u| tests.contains_key(u));
        users.shuffle(&mut ChaCha8Rng::seed_from_u64(cfg.seed));
        users.truncate(POPULARITY_USERS);
        let (mut rec, mut test) = (Vec::new(), Vec::new());
        for &u in &users {
            let scores = model.score_users(&[u])?;
            for i in top_k(&scores, &ds.seen[u as usize], 10) {
                rec.push(percentile[i as usize]);
            }
            test.extend(tests[&u].iter().map(|&i| percentile[i as usize]));
        }
        let avg = |x: &[f64]| (!x.is_empty()).then(|| x.iter().sum::<f64>() / x.len() as f64);
        out.activity.push(ActivityBucket {
            label: label.into(),
            users: v.len(),
            mean,
            low: mean - half,
            high: mean + half,
            recommended_popularity: avg(&rec),
            test_popularity: avg(&test),
        });
    }
    out.metric = Some(metric);
    // The item vectors' map.
    match model.item_vectors()? {
        Some((vectors, dim)) if dim >= 2 => {
            let labels = shoplab_data::catalog::item_labels(ws)?;
            let mut order: Vec<usize> = (0..ds.items.len()).collect();
            order.sort_by_key(|&i| std::cmp::Reverse(ds.item_counts.get(i).copied().unwrap_or(0)));
            order.truncate(MAX_MAP_ITEMS);
            let xy = project_2d(&vectors, dim, &order);
            out.map = order
                .iter()
                .zip(xy)
                .map(|(&i, (x, y))| {
                    let id = &ds.items[i];
                    let (title, category) = labels.get(id).cloned().unwrap_or_default();
                    MapPoint {
                        item: id.clone(),
                        x,
                        y,
                        category,
                        title,
                    }
                })
                .collect();
        }
        _ => out
            .notes
            .push(format!("{} has no item vectors to map", cfg.model.name())),
    }
    Ok(())
}

/// Predicted against actual: a seeded sample of pairs, the residuals' histogram, RMSE.
pub fn ratings(actual: &[f32], predicted: &[f32], seed: u64) -> RatingCheck {
    let residual: Vec<f64> = actual
        .iter()
        .zip(predicted)
        .map(|(a, p)| f64::from(*p) - f64::from(*a))
        .collect();
    let n = residual.len();
    let rmse = (residual.iter().map(|r| r * r).sum::<f64>() / n.max(1) as f64).sqrt();
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    idx.truncate(MAX_PAIRS);
    idx.sort_unstable();
    let pairs = idx.iter().map(|&i| (actual[i], predicted[i])).collect();
    // 30 bins over ±4 (rating scales are small), the ends catching the rest.
    let bins = 30;
    let (lo, hi) = (-4.0, 4.0);
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    for r in &residual {
        let b = (((r - lo) / width).floor() as i64).clamp(0, bins as i64 - 1) as usize;
        counts[b] += 1;
    }
    RatingCheck {
        pairs,
        residuals: (0..bins)
            .map(|b| {
                (
                    lo + b as f64 * width,
                    lo + (b + 1) as f64 * width,
                    counts[b],
                )
            })
            .collect(),
        rmse,
        n,
    }
}

/// ROC (each distinct threshold, from the highest), its area, and the calibration by
/// decile of the predicted probability.
pub fn classifier(probs: &[f32], labels: &[f32]) -> ClassifierCheck {
    let mut order: Vec<usize> = (0..probs.len()).collect();
    order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
    let positives = labels.iter().filter(|&&y| y > 0.5).count();
    let negatives = labels.len() - positives;
    let (p, q) = (positives.max(1) as f64, negatives.max(1) as f64);
    let mut roc = vec![(0.0, 0.0)];
    let (mut tp, mut fp, mut auc) = (0usize, 0usize, 0.0);
    let mut k = 0;
    while k < order.len() {
        let mut j = k;
        while j + 1 < order.len() && probs[order[j + 1]] == probs[order[k]] {
            j += 1;
        }
        let (tp0, fp0) = (tp, fp);
        for &o in &order[k..=j] {
            if labels[o] > 0.5 {
                tp += 1;
            } else {
                fp += 1;
            }
        }
        // Trapezoid between the two points (ties make a diagonal step).
        auc += (fp - fp0) as f64 / q * (tp + tp0) as f64 / (2.0 * p);
        roc.push((fp as f64 / q, tp as f64 / p));
        k = j + 1;
    }
    // Thin the curve to at most ~500 points for drawing, keeping the ends.
    if roc.len() > 500 {
        let step = roc.len() / 500;
        let last = *roc.last().expect("not empty");
        roc = roc.into_iter().step_by(step).collect();
        roc.push(last);
    }
    let mut calibration = Vec::new();
    let n = order.len();
    let mut asc = order;
    asc.reverse();
    for d in 0..10 {
        let chunk = &asc[d * n / 10..(d + 1) * n / 10];
        if chunk.is_empty() {
            continue;
        }
        let mean_p = chunk.iter().map(|&i| f64::from(probs[i])).sum::<f64>() / chunk.len() as f64;
        let rate = chunk.iter().filter(|&&i| labels[i] > 0.5).count() as f64 / chunk.len() as f64;
        calibration.push((mean_p, rate, chunk.len()));
    }
    ClassifierCheck {
        roc,
        auc,
        calibration,
        n,
        positives,
    }
}

/// Each item's popularity percentile by training count (0 least, 100 most popular).
fn popularity_percentiles(counts: &[u32]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..counts.len()).collect();
    order.sort_by_key(|&i| counts[i]);
    let mut out = vec![0.0; counts.len()];
    let n = counts.len().max(2) as f64 - 1.0;
    for (rank, i) in order.into_iter().enumerate() {
        out[i] = 100.0 * rank as f64 / n;
    }
    out
}

/// The `rows` of a row-major `dim`-wide matrix projected on their first two principal
/// components (eigenvectors of their covariance).
pub fn project_2d(vectors: &[f32], dim: usize, rows: &[usize]) -> Vec<(f32, f32)> {
    if rows.is_empty() {
        return Vec::new();
    }
    let m = DMatrix::from_fn(rows.len(), dim, |r, c| {
        f64::from(vectors[rows[r] * dim + c])
    });
    let mean = m.row_mean();
    let centered = DMatrix::from_fn(rows.len(), dim, |r, c| m[(r, c)] - mean[c]);
    let cov = centered.transpose() * &centered / (rows.len().max(2) - 1) as f64;
    let eig = SymmetricEigen::new(cov);
    let mut idx: Vec<usize> = (0..dim).collect();
    idx.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
    let (a, b) = (
        eig.eigenvectors.column(idx[0]),
        eig.eigenvectors.column(idx[1]),
    );
    (0..rows.len())
        .map(|r| {
            let row = centered.row(r);
            (
                row.dot(&a.transpose()) as f32,
                row.dot(&b.transpose()) as f32,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roc_and_calibration_of_a_known_classifier() {
        // Perfectly ranked: AUC 1; reversed: 0; ties: 0.5.
        let labels = [0.0, 0.0, 1.0, 1.0];
        assert!((classifier(&[0.1, 0.2, 0.8, 0.9], &labels).auc - 1.0).abs() < 1e-12);
        assert!(classifier(&[0.9, 0.8, 0.2, 0.1], &labels).auc.abs() < 1e-12);
        let tied = classifier(&[0.5; 4], &labels);
        assert!((tied.auc - 0.5).abs() < 1e-12);
        assert_eq!(tied.roc, vec![(0.0, 0.0), (1.0, 1.0)]);
        // Calibrated probabilities: each decile's observed rate near its mean prediction.
        let probs: Vec<f32> = (0..10_000).map(|i| (i % 100) as f32 / 100.0).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let labels: Vec<f32> = probs
            .iter()
            .map(|p| f32::from(u8::from(rand::Rng::random::<f32>(&mut rng) < *p)))
            .collect();
        let c = classifier(&probs, &labels);
        assert_eq!(c.calibration.len(), 10);
        for (p, rate, n) in &c.calibration {
            assert_eq!(*n, 1_000);
            assert!((p - rate).abs() < 0.05, "{p} {rate}");
        }
        assert_eq!(c.roc.first(), Some(&(0.0, 0.0)));
        assert_eq!(c.roc.last(), Some(&(1.0, 1.0)));
    }

    #[test]
    fn residuals_and_projection() {
        let r = ratings(&[1.0, 2.0, 3.0, 4.0], &[1.5, 2.0, 2.5, 4.0], 1);
        assert_eq!(r.n, 4);
        assert!((r.rmse - (0.5f64 / 4.0).sqrt()).abs() < 1e-9);
        assert_eq!(r.residuals.iter().map(|b| b.2).sum::<usize>(), 4);
        assert_eq!(r.pairs.len(), 4);
        // Points along a line in 3-D: the first component carries all of it.
        let v: Vec<f32> = (0..10)
            .flat_map(|i| [i as f32, 2.0 * i as f32, 1.0])
            .collect();
        let xy = project_2d(&v, 3, &(0..10).collect::<Vec<_>>());
        let spread = |f: fn(&(f32, f32)) -> f32| {
            let (lo, hi) = xy
                .iter()
                .map(f)
                .fold((f32::MAX, f32::MIN), |a, x| (a.0.min(x), a.1.max(x)));
            hi - lo
        };
        assert!((spread(|p| p.0) - 9.0 * 5f32.sqrt()).abs() < 1e-3);
        assert!(spread(|p| p.1) < 1e-3);
        let pct = popularity_percentiles(&[5, 1, 3]);
        assert_eq!(pct, vec![100.0, 0.0, 50.0]);
    }
}
