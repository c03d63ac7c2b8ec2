//! The top layer: the entry points that dispatch across run kinds. A new run goes to its
//! kind's module by its configuration; a stored run by the [`RunSpec`] stored with it.
//! Nothing below imports this module.

use std::sync::atomic::AtomicBool;

use shoplab_data::Workspace;

use crate::conversion;
use crate::dataset::Dataset;
use crate::device;
use crate::error::{ModelError, Result};
use crate::files::{MODEL, check_ids};
use crate::finetune as review_task;
use crate::models::{self, Fit, ModelKind, Recommender};
use crate::registry::Runs;
use crate::run::{self, Caller, FinetuneOutcome, Progress, TrainOutcome};
use crate::spec::{FinetuneConfig, RunSpec, TextTask, TrainConfig};
use crate::train as recommender;
use crate::two_tower;

/// Trains a new run on `cfg.split`: a recommender, or the conversion model on the log's
/// sessions.
pub fn train(
    ws: &Workspace,
    cfg: &TrainConfig,
    on: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
) -> Result<TrainOutcome> {
    cfg.check()?;
    let caller = Caller { ws, on, cancel };
    match cfg.model.fit() {
        Fit::ClosedForm | Fit::Epochs | Fit::Sweeps => recommender::train(caller, cfg),
        Fit::Conversion => conversion::train(caller, cfg),
        Fit::TwoTower => Err(ModelError::Config {
            model: cfg.model.name().into(),
            message: "is a text run: train it with `finetune --task two-tower`".into(),
        }),
    }
}

/// Continues a cancelled (or interrupted) run from its last checkpoint.
pub fn resume(
    ws: &Workspace,
    run_id: i64,
    on: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
) -> Result<TrainOutcome> {
    let r = Runs::new(ws).get(run_id)?;
    match run::stored_spec(&r)? {
        RunSpec::Finetune(_) | RunSpec::TwoTower(_) => Err(ModelError::Run(
            run_id,
            format!(
                "is a text run ({}); continue it with `finetune --resume {run_id}`",
                r.model
            ),
        )),
        RunSpec::Train(cfg) => {
            refuse_finished(&r)?;
            recommender::resume(Caller { ws, on, cancel }, &r, &cfg)
        }
        RunSpec::Conversion(_) => {
            refuse_finished(&r)?;
            Err(ModelError::Run(
                run_id,
                "a conversion run has no checkpoint; train it again (--model conversion)".into(),
            ))
        }
    }
}

/// Trains a new text run: a review task, or the two-tower recommender.
pub fn finetune(
    ws: &Workspace,
    cfg: &FinetuneConfig,
    on: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
) -> Result<FinetuneOutcome> {
    cfg.check()?;
    let caller = Caller { ws, on, cancel };
    match cfg.task {
        TextTask::Rating | TextTask::Recommend => review_task::train(caller, cfg),
        TextTask::TwoTower => two_tower::train(caller, cfg),
    }
}

/// Continues a cancelled text run from its last checkpoint.
pub fn resume_finetune(
    ws: &Workspace,
    run_id: i64,
    on: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
) -> Result<FinetuneOutcome> {
    let r = Runs::new(ws).get(run_id)?;
    refuse_finished(&r)?;
    let caller = Caller { ws, on, cancel };
    match run::stored_spec(&r)? {
        RunSpec::Finetune(cfg) => review_task::resume(caller, &r, &cfg),
        RunSpec::TwoTower(cfg) => two_tower::resume(caller, &r, &cfg),
        RunSpec::Train(_) | RunSpec::Conversion(_) => Err(ModelError::Run(
            run_id,
            format!(
                "is not a text run ({}); continue it with `train --resume {run_id}`",
                r.model
            ),
        )),
    }
}

fn refuse_finished(r: &crate::registry::RunSummary) -> Result<()> {
    if r.status == "finished" {
        return Err(ModelError::Run(
            r.run_id,
            "is finished; nothing to resume".into(),
        ));
    }
    Ok(())
}

/// Loads a finished recommender run's model, with the dataset of its split and its
/// training configuration (a two-tower run's as a [`ModelKind::TwoTower`] configuration:
/// its user and item vectors load like a factorization's).
pub fn load_run(
    ws: &Workspace,
    run_id: i64,
) -> Result<(Dataset, TrainConfig, Box<dyn Recommender>)> {
    let (r, spec) = run::finished(ws, run_id)?;
    let cfg = match spec {
        RunSpec::Train(cfg) => cfg,
        RunSpec::TwoTower(t) => TrainConfig {
            k: t.k,
            epochs: t.epochs,
            batch_size: t.batch_size,
            seed: t.seed,
            patience: t.patience,
            device: t.device,
            ..TrainConfig::new(t.split.as_deref().unwrap_or("main"), ModelKind::TwoTower)
        },
        RunSpec::Finetune(_) => {
            return Err(ModelError::WrongKind(
                run_id,
                format!(
                    "is a text model ({}): it predicts from review text, it has no users or recommendations",
                    r.model
                ),
            ));
        }
        RunSpec::Conversion(_) => {
            return Err(ModelError::WrongKind(
                run_id,
                "is a conversion model: it predicts purchases, it has no recommendations".into(),
            ));
        }
    };
    let ds = Dataset::from_split(ws, &cfg.split)?;
    check_ids(&r.artifacts, &ds, run_id)?;
    let (dev, _) = device::select(&cfg.device);
    let model = models::load(cfg.model, &ds, &cfg.hyper, &r.artifacts.join(MODEL), &dev)?;
    Ok((ds, cfg, model))
}
