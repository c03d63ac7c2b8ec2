//! How a run's session ended.

use std::path::PathBuf;

use super::RunContext;
use crate::metrics::Evaluation;
use crate::models::ModelKind;

/// How a run ended.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    pub run_id: i64,
    pub model: ModelKind,
    pub device: String,
    /// `finished` or `cancelled` (a cancelled run can be resumed).
    pub status: String,
    pub epochs_done: usize,
    /// Training time (validation and test evaluation excluded).
    pub seconds: f64,
    pub seconds_per_epoch: Option<f64>,
    pub best_epoch: Option<usize>,
    /// Test metrics (empty for a cancelled run).
    pub test: Evaluation,
}

impl TrainOutcome {
    /// A session of `ctx`'s run that has not trained yet.
    pub(crate) fn start(ctx: &RunContext, model: ModelKind) -> Self {
        TrainOutcome {
            run_id: ctx.run_id,
            model,
            device: ctx.device_name.clone(),
            status: "finished".into(),
            epochs_done: ctx.done,
            seconds: 0.0,
            seconds_per_epoch: None,
            best_epoch: None,
            test: Evaluation::default(),
        }
    }
}

/// How a text run ended.
#[derive(Debug, Clone)]
pub struct FinetuneOutcome {
    pub run_id: i64,
    /// The run's model name (`lora8:rating`, `tfidf:recommend`, ...).
    pub model: String,
    pub device: String,
    /// `finished` or `cancelled` (a cancelled run can be resumed).
    pub status: String,
    pub epochs_done: usize,
    /// Training time in seconds (the probe and the fine-tuning; evaluation excluded).
    pub seconds: f64,
    /// Training examples per second of fine-tuning (forward, backward and update).
    pub examples_per_second: Option<f64>,
    pub best_epoch: Option<usize>,
    /// The linear probe's validation value: the frozen encoder's, where fine-tuning starts.
    pub probe: Option<f64>,
    pub train_size: usize,
    pub valid: Evaluation,
    pub test: Evaluation,
    /// The fine-tuned model folder (Hugging Face layout).
    pub export: Option<PathBuf>,
}

impl FinetuneOutcome {
    /// Records how the session ended (`result`: its fitting and testing) and hands the
    /// outcome back when it did not fail; `finetune --resume` continues it.
    pub(crate) fn settle(self, ctx: &RunContext, result: crate::Result<()>) -> crate::Result<Self> {
        ctx.settle(
            result
                .as_ref()
                .map(|()| (self.status.as_str(), self.epochs_done)),
            "finetune",
        )?;
        result.map(|()| self)
    }

    /// A session of `ctx`'s run, named `model`, on `train_size` training examples, that has
    /// not trained yet.
    pub(crate) fn start(ctx: &RunContext, model: String, train_size: usize) -> Self {
        FinetuneOutcome {
            run_id: ctx.run_id,
            model,
            device: ctx.device_name.clone(),
            status: "finished".into(),
            epochs_done: ctx.done,
            seconds: 0.0,
            examples_per_second: None,
            best_epoch: None,
            probe: None,
            train_size,
            valid: Evaluation::default(),
            test: Evaluation::default(),
            export: None,
        }
    }

    pub(crate) fn cancel(&mut self) {
        self.status = "cancelled".into();
    }
}
