//! The configuration of a recommender or conversion run (`train`).

use crate::error::{ModelError, Result};
use crate::models::{Hyper, ModelKind};

/// Everything a run needs; stored with the run as JSON.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainConfig {
    pub split: String,
    pub model: ModelKind,
    #[serde(flatten)]
    pub hyper: Hyper,
    pub epochs: usize,
    pub batch_size: usize,
    pub seed: u64,
    /// Cut-off of the ranking metrics.
    pub k: usize,
    /// Epochs without a better validation value before stopping; 0 trains every epoch.
    pub patience: usize,
    /// "cpu", "cuda" or "auto".
    pub device: String,
}

impl TrainConfig {
    /// A run of `model` on `split` with the model's defaults ([`ModelKind::defaults`]).
    pub fn new(split: &str, model: ModelKind) -> Self {
        let d = model.defaults();
        TrainConfig {
            split: split.into(),
            model,
            hyper: d.hyper,
            epochs: d.epochs,
            batch_size: 1024,
            seed: 1,
            k: 10,
            patience: d.patience,
            device: "auto".into(),
        }
    }

    /// Refuses settings no run can start with, before anything is recorded: every option
    /// out of its range, named as on the command line, with the range it must be in.
    pub(crate) fn check(&self) -> Result<()> {
        let mut c = Checks::default();
        let h = &self.hyper;
        c.at_least("--epochs", self.epochs, 1);
        c.at_least("--batch-size", self.batch_size, 1);
        c.at_least("-k/--k", self.k, 1);
        c.positive("--lr", h.lr);
        c.non_negative("--reg", h.reg);
        c.non_negative("--weight-decay", h.weight_decay);
        c.positive("init_std", h.init_std);
        match self.model {
            ModelKind::Pop => {}
            ModelKind::ItemKnn => {
                c.at_least("--neighbors", h.neighbors, 1);
                c.non_negative("shrink", h.shrink);
            }
            ModelKind::Ease => c.positive("--lambda", h.lambda),
            ModelKind::Mf | ModelKind::Bpr | ModelKind::Conversion | ModelKind::TwoTower => {
                c.at_least("--factors", h.factors, 1);
            }
            ModelKind::NeuMf => {
                c.at_least("--factors", h.factors, 2);
                c.at_least("--negatives", h.negatives, 1);
            }
            ModelKind::SasRec => {
                c.at_least("--factors", h.factors, 2);
                if !h.factors.is_multiple_of(2) {
                    c.fail(format!(
                        "--factors must be a multiple of 2 (the attention heads) (got {})",
                        h.factors
                    ));
                }
                c.at_least("--max-len", h.max_len, 1);
            }
            ModelKind::Bpmf => {
                c.at_least("--factors", h.factors, 1);
                c.positive("--alpha", h.noise_precision);
                if h.burn_in >= self.epochs {
                    c.fail(format!(
                        "--burn-in must be below --epochs (the sweeps averaged come after it) (got --burn-in {} with --epochs {})",
                        h.burn_in, self.epochs
                    ));
                }
            }
        }
        c.finish(self.model.name())
    }
}

/// The range checks of one configuration: every failure is collected, so one message
/// names them all.
#[derive(Default)]
pub(crate) struct Checks {
    failures: Vec<String>,
}

impl Checks {
    pub(crate) fn fail(&mut self, message: String) {
        self.failures.push(message);
    }

    /// A count that must be at least `min`.
    pub(crate) fn at_least(&mut self, option: &str, value: usize, min: usize) {
        if value < min {
            self.fail(format!("{option} must be at least {min} (got {value})"));
        }
    }

    /// A finite number > 0.
    pub(crate) fn positive(&mut self, option: &str, value: f64) {
        if !(value.is_finite() && value > 0.0) {
            self.fail(format!("{option} must be a number > 0 (got {value})"));
        }
    }

    /// A finite number ≥ 0.
    pub(crate) fn non_negative(&mut self, option: &str, value: f64) {
        if !(value.is_finite() && value >= 0.0) {
            self.fail(format!("{option} must be a number ≥ 0 (got {value})"));
        }
    }

    pub(crate) fn finish(self, model: &str) -> Result<()> {
        if self.failures.is_empty() {
            return Ok(());
        }
        Err(ModelError::Config {
            model: model.into(),
            message: format!(
                "refused, nothing was recorded: {}",
                self.failures.join("; ")
            ),
        })
    }
}
