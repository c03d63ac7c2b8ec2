//! Paired comparison of two runs on one metric, user by user: the mean difference with a
//! paired t-test interval and a bootstrap percentile interval.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::error::{ModelError, Result};
use crate::registry::Runs;

/// Resamples of the bootstrap.
pub const BOOTSTRAP: usize = 10_000;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Comparison {
    pub metric: String,
    pub run_a: i64,
    pub run_b: i64,
    /// Users with a value in both runs.
    pub users: usize,
    pub mean_a: f64,
    pub mean_b: f64,
    /// Mean of (b − a).
    pub diff: f64,
    /// 95% paired t interval of the mean difference.
    pub t_interval: (f64, f64),
    /// Two-sided p-value of the paired t-test.
    pub p_value: f64,
    /// 95% bootstrap percentile interval of the mean difference (seeded, reproducible).
    pub bootstrap_interval: (f64, f64),
}

/// The per-unit metric a paired comparison on `metric` uses: `metric` itself when run `run`
/// keeps per-user values of it, else its per-review counterpart of a text run (`rmse` →
/// `squared_error`, `mae` → `abs_error`, `auc` → `logloss`).
pub fn unit_metric(runs: &Runs, run: i64, metric: &str) -> Result<String> {
    if !runs.user_values(run, metric)?.is_empty() {
        return Ok(metric.to_string());
    }
    let fallback = match metric {
        "rmse" => "squared_error",
        "mae" => "abs_error",
        "auc" | "logloss" => "logloss",
        _ => return Ok(metric.to_string()),
    };
    Ok(if runs.user_values(run, fallback)?.is_empty() {
        metric.to_string()
    } else {
        fallback.to_string()
    })
}

/// Compares run `b` with run `a` on `metric` (e.g. `ndcg@10`, `rmse`; for text runs, which
/// keep per-review values, `rmse` compares squared errors review by review, see
/// [`unit_metric`]).
pub fn compare_runs(runs: &Runs, a: i64, b: i64, metric: &str) -> Result<Comparison> {
    let metric = unit_metric(runs, a, metric)?;
    let metric = metric.as_str();
    let va = runs.user_values(a, metric)?;
    let vb = runs.user_values(b, metric)?;
    let mut pairs: Vec<(&String, f64, f64)> = va
        .iter()
        .filter_map(|(u, x)| vb.get(u).map(|y| (u, *x, *y)))
        .collect();
    pairs.sort_by(|p, q| p.0.cmp(q.0));
    if pairs.len() < 2 {
        return Err(ModelError::Run(
            b,
            format!(
                "runs {a} and {b} share {} users with a per-user \"{metric}\"; need at least 2 (are both finished, on the same split?)",
                pairs.len()
            ),
        ));
    }
    let n = pairs.len() as f64;
    let d: Vec<f64> = pairs.iter().map(|p| p.2 - p.1).collect();
    let mean = d.iter().sum::<f64>() / n;
    let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let se = (var / n).sqrt();
    let t = StudentsT::new(0.0, 1.0, n - 1.0).map_err(|e| ModelError::Run(b, e.to_string()))?;
    let q = t.inverse_cdf(0.975);
    let p_value = if se > 0.0 {
        2.0 * (1.0 - t.cdf((mean / se).abs()))
    } else if mean == 0.0 {
        1.0
    } else {
        0.0
    };
    let mut rng: ChaCha8Rng = rand::SeedableRng::seed_from_u64(0);
    let mut means: Vec<f64> = (0..BOOTSTRAP)
        .map(|_| {
            (0..d.len())
                .map(|_| d[rng.random_range(0..d.len())])
                .sum::<f64>()
                / n
        })
        .collect();
    means.sort_by(f64::total_cmp);
    let at = |p: f64| means[((BOOTSTRAP as f64 - 1.0) * p).round() as usize];
    Ok(Comparison {
        metric: metric.into(),
        run_a: a,
        run_b: b,
        users: pairs.len(),
        mean_a: pairs.iter().map(|p| p.1).sum::<f64>() / n,
        mean_b: pairs.iter().map(|p| p.2).sum::<f64>() / n,
        diff: mean,
        t_interval: (mean - q * se, mean + q * se),
        p_value,
        bootstrap_interval: (at(0.025), at(0.975)),
    })
}
