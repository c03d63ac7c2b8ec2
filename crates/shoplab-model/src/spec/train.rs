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
    pub fn new(split: &str, model: ModelKind) -> Self {
        TrainConfig {
            split: split.into(),
            model,
            hyper: Hyper::default(),
            epochs: 30,
            batch_size: 1024,
            seed: 1,
            k: 10,
            patience: 5,
            device: "auto".into(),
        }
    }

    /// Refuses settings no run can start with.
    pub(crate) fn check(&self) -> Result<()> {
        if self.k == 0 || self.batch_size == 0 {
            return Err(ModelError::Config {
                model: self.model.name().into(),
                message: "k and batch size must be at least 1".into(),
            });
        }
        Ok(())
    }
}
