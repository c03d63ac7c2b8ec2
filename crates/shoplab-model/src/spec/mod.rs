//! What a run is: one [`RunSpec`] per kind of run, stored with the run (`runs.params`) as
//! JSON tagged by its kind (`{"kind": "train", ...}`), so a stored run says what it is
//! instead of being recognized by which configuration its parameters parse as.

mod sweep;
mod text;
mod train;

pub use sweep::{Axis, MAX_TRIALS, Search, SweepSpec, Values};
pub use text::{FinetuneConfig, Precision, TextField, TextMethod, TextTask};
pub use train::TrainConfig;

use crate::models::Fit;

/// A run's kind and configuration, as stored with it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RunSpec {
    /// A recommender on a stored split (`train`): closed form, epochs or Gibbs sweeps.
    Train(TrainConfig),
    /// The conversion model on the event log's sessions (`train --model conversion`).
    Conversion(TrainConfig),
    /// A review task (rating or recommended flag) predicted from review text (`finetune`).
    Finetune(FinetuneConfig),
    /// The text-aware two-tower recommender on a stored split (`finetune --task two-tower`).
    TwoTower(FinetuneConfig),
}

impl RunSpec {
    /// The parameters stored with the run.
    pub fn to_params(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads stored parameters. Runs stored before the kind was written (no `kind` field)
    /// are recognized as they were then: a text run's configuration if they parse as one
    /// (its task telling a two-tower from a review task), else a training configuration
    /// (its model telling the conversion model from a recommender). This is the only place
    /// that guesses.
    pub fn from_params(params: &str) -> Result<Self, serde_json::Error> {
        let value: serde_json::Value = serde_json::from_str(params)?;
        if value.get("kind").is_some() {
            return serde_json::from_value(value);
        }
        if let Ok(cfg) = serde_json::from_value::<FinetuneConfig>(value.clone()) {
            return Ok(Self::of_text(cfg));
        }
        let cfg: TrainConfig = serde_json::from_value(value)?;
        Ok(match cfg.model.fit() {
            Fit::Conversion => RunSpec::Conversion(cfg),
            Fit::ClosedForm | Fit::Epochs | Fit::Sweeps | Fit::TwoTower => RunSpec::Train(cfg),
        })
    }

    /// The spec of a text run: a two-tower or a review task, by its task.
    pub fn of_text(cfg: FinetuneConfig) -> Self {
        match cfg.task {
            TextTask::TwoTower => RunSpec::TwoTower(cfg),
            TextTask::Rating | TextTask::Recommend => RunSpec::Finetune(cfg),
        }
    }

    /// Whether the run is a text run (`finetune`, `finetune --resume`).
    pub fn is_text(&self) -> bool {
        match self {
            RunSpec::Finetune(_) | RunSpec::TwoTower(_) => true,
            RunSpec::Train(_) | RunSpec::Conversion(_) => false,
        }
    }
}

/// Whether a stored run configuration is a text run's.
pub fn is_text_run(params: &str) -> bool {
    RunSpec::from_params(params).is_ok_and(|s| s.is_text())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ModelKind;

    #[test]
    fn tagged_specs_round_trip_and_keep_the_config_fields() {
        let t = RunSpec::Train(TrainConfig::new("rr", ModelKind::Bpr));
        let params = t.to_params();
        assert!(params.starts_with(r#"{"kind":"train","split":"rr","model":"bpr","#));
        assert_eq!(RunSpec::from_params(&params).unwrap(), t);
        // The stored parameters still read as the bare configuration.
        let bare: TrainConfig = serde_json::from_str(&params).unwrap();
        assert_eq!(bare.model, ModelKind::Bpr);
        let f = RunSpec::of_text(FinetuneConfig::new(
            "minilm",
            TextTask::TwoTower,
            TextMethod::Lora,
        ));
        assert!(f.to_params().starts_with(r#"{"kind":"two-tower","#));
        assert_eq!(RunSpec::from_params(&f.to_params()).unwrap(), f);
    }

    #[test]
    fn untagged_params_of_older_runs_still_load() {
        let conv = TrainConfig::new("sessions 80/10/10", ModelKind::Conversion);
        let legacy = serde_json::to_string(&conv).unwrap();
        assert_eq!(
            RunSpec::from_params(&legacy).unwrap(),
            RunSpec::Conversion(conv)
        );
        let mf = TrainConfig::new("rr", ModelKind::Mf);
        let legacy = serde_json::to_string(&mf).unwrap();
        assert_eq!(RunSpec::from_params(&legacy).unwrap(), RunSpec::Train(mf));
        for task in [TextTask::Rating, TextTask::TwoTower] {
            let cfg = FinetuneConfig::new("minilm", task, TextMethod::Frozen);
            let legacy = serde_json::to_string(&cfg).unwrap();
            assert!(is_text_run(&legacy));
            assert_eq!(
                RunSpec::from_params(&legacy).unwrap(),
                RunSpec::of_text(cfg)
            );
        }
        assert!(!is_text_run(
            &serde_json::to_string(&TrainConfig::new("rr", ModelKind::Pop)).unwrap()
        ));
        assert!(RunSpec::from_params("{\"split\": 3}").is_err());
    }
}
