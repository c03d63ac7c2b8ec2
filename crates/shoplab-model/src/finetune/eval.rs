//! A review task's metrics: of the predictions as a whole, and per review (for paired
//! comparison of two runs).

use crate::metrics::{self, Evaluation};
use crate::spec::TextTask;

/// A task's metrics of predictions (ratings, or probabilities of the flag): RMSE, MAE and
/// the RMSE of predicting the train mean; or AUC, log loss and the base rate's log loss.
pub fn evaluate(task: TextTask, preds: &[f32], targets: &[f32], train_mean: f64) -> Evaluation {
    match task {
        TextTask::Rating => {
            let n = targets.len().max(1) as f64;
            let se = |a: f64, b: f32| (a - f64::from(b)).powi(2);
            let rmse = (preds
                .iter()
                .zip(targets)
                .map(|(p, t)| se(f64::from(*p), *t))
                .sum::<f64>()
                / n)
                .sqrt();
            let mae = preds
                .iter()
                .zip(targets)
                .map(|(p, t)| (p - t).abs() as f64)
                .sum::<f64>()
                / n;
            let base = (targets.iter().map(|t| se(train_mean, *t)).sum::<f64>() / n).sqrt();
            Evaluation {
                metrics: vec![
                    ("rmse".into(), rmse),
                    ("mae".into(), mae),
                    ("rmse_train_mean".into(), base),
                ],
                per_user: Vec::new(),
            }
        }
        TextTask::Recommend | TextTask::TwoTower => metrics::binary(preds, targets, train_mean),
    }
}

/// Each test review's error, for paired comparison of two text runs on one split (`shoplab
/// compare`, review by review): squared and absolute error of a rating, log loss of a flag;
/// and its prediction and target, for looking inside the run (residuals, ROC, calibration).
pub(super) fn per_review(
    task: TextTask,
    preds: &[f32],
    targets: &[f32],
) -> Vec<(u32, String, f64)> {
    let mut out = Vec::new();
    for (k, (&p, &y)) in preds.iter().zip(targets).enumerate() {
        let k = k as u32;
        let error = f64::from(p) - f64::from(y);
        out.push((k, "prediction".to_string(), f64::from(p)));
        out.push((k, "target".to_string(), f64::from(y)));
        match task {
            TextTask::Rating => {
                out.push((k, "squared_error".to_string(), error * error));
                out.push((k, "abs_error".to_string(), error.abs()));
            }
            TextTask::Recommend | TextTask::TwoTower => {
                out.push((k, "logloss".to_string(), metrics::log_loss(f64::from(p), y)));
            }
        }
    }
    out
}

/// The task's validation metric in `ev`.
pub(super) fn headline(task: TextTask, ev: &Evaluation) -> f64 {
    ev.get(task.metric().0).unwrap_or(f64::NAN)
}
