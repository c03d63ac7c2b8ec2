//! Linear models on fixed features: the TF-IDF baseline's and the frozen-embedding probe's
//! (where fine-tuning starts), fitted by full-batch Adam, λ chosen on validation.

use super::eval::{evaluate, headline};
use crate::spec::TextTask;

/// Rows of (feature index, value).
#[derive(Debug, Clone)]
pub struct Features {
    pub(super) rows: Vec<Vec<(u32, f32)>>,
    pub(super) dim: usize,
}

impl Features {
    pub(super) fn dense(rows: &[Vec<f32>]) -> Self {
        let dim = rows.first().map_or(0, Vec::len);
        Features {
            rows: rows
                .iter()
                .map(|r| r.iter().enumerate().map(|(j, &v)| (j as u32, v)).collect())
                .collect(),
            dim,
        }
    }
}

/// A linear model: a regression, or a logistic regression (its predictions probabilities).
#[derive(Debug, Clone)]
pub struct Linear {
    pub w: Vec<f32>,
    pub b: f32,
    pub logistic: bool,
}

const LINEAR_STEPS: usize = 400;

impl Linear {
    /// Minimizes the mean loss (half squared error, or cross-entropy) plus λ/2·|w|² by
    /// full-batch Adam, from w = 0 and the bias at the mean target.
    pub fn fit(x: &Features, y: &[f32], logistic: bool, lambda: f64) -> Self {
        let n = y.len().max(1) as f64;
        let mean = y.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let b0 = if logistic {
            (mean.clamp(1e-4, 1.0 - 1e-4) / (1.0 - mean.clamp(1e-4, 1.0 - 1e-4))).ln()
        } else {
            mean
        };
        let mut m = Linear {
            w: vec![0.0; x.dim],
            b: b0 as f32,
            logistic,
        };
        let (lr, b1, b2, eps) = (0.02f64, 0.9f64, 0.999f64, 1e-8f64);
        let mut mw = vec![0.0f64; x.dim + 1];
        let mut vw = vec![0.0f64; x.dim + 1];
        let mut g = vec![0.0f64; x.dim + 1];
        for t in 1..=LINEAR_STEPS {
            g.iter_mut().for_each(|v| *v = 0.0);
            for (row, &target) in x.rows.iter().zip(y) {
                let p = m.predict_row(row);
                let r = f64::from(p - target) / n;
                for &(j, v) in row {
                    g[j as usize] += r * f64::from(v);
                }
                g[x.dim] += r;
            }
            for (j, w) in m.w.iter().enumerate() {
                g[j] += lambda * f64::from(*w);
            }
            let (c1, c2) = (1.0 - b1.powi(t as i32), 1.0 - b2.powi(t as i32));
            for j in 0..=x.dim {
                mw[j] = b1 * mw[j] + (1.0 - b1) * g[j];
                vw[j] = b2 * vw[j] + (1.0 - b2) * g[j] * g[j];
                let step = lr * (mw[j] / c1) / ((vw[j] / c2).sqrt() + eps);
                if j == x.dim {
                    m.b -= step as f32;
                } else {
                    m.w[j] -= step as f32;
                }
            }
        }
        m
    }

    fn predict_row(&self, row: &[(u32, f32)]) -> f32 {
        let z = self.b
            + row
                .iter()
                .map(|&(j, v)| self.w[j as usize] * v)
                .sum::<f32>();
        if self.logistic {
            1.0 / (1.0 + (-z).exp())
        } else {
            z
        }
    }

    pub fn predict(&self, x: &Features) -> Vec<f32> {
        x.rows.iter().map(|r| self.predict_row(r)).collect()
    }
}

/// Regularization strengths tried; the best on validation is kept.
const LAMBDAS: [f64; 4] = [1e-4, 1e-3, 1e-2, 1e-1];

/// Fits a linear model for each λ and keeps the best on validation; returns it and its λ.
pub(super) fn fit_probe(
    task: TextTask,
    train: (&Features, &[f32]),
    valid: (&Features, &[f32]),
    train_mean: f64,
) -> (Linear, f64) {
    let mut best: Option<(Linear, f64, f64)> = None;
    for lambda in LAMBDAS {
        let m = Linear::fit(train.0, train.1, task.is_classification(), lambda);
        let v = headline(
            task,
            &evaluate(task, &m.predict(valid.0), valid.1, train_mean),
        );
        let higher_is_better = task.metric().1;
        let better = best
            .as_ref()
            .is_none_or(|(_, _, b)| if higher_is_better { v > *b } else { v < *b });
        if better {
            best = Some((m, lambda, v));
        }
    }
    let (m, lambda, _) = best.expect("at least one lambda");
    (m, lambda)
}
