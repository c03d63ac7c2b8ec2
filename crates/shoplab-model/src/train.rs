//! Training: seeded mini-batches, Adam, validation each epoch with early stopping, progress
//! events, cancel, a checkpoint after every epoch, resume, and a clear stop on divergence.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use rand_chacha::ChaCha8Rng;
use shoplab_data::Workspace;

use crate::dataset::Dataset;
use crate::device;
use crate::error::{ModelError, Result};
use crate::metrics::{self, Evaluation};
use crate::models::{
    self, Factorization, Hyper, ModelKind, NeuMf, Optimizer, Recommender, SasRec, Trainable,
};
use crate::optim::Adam;
use crate::registry::{EpochRow, Runs};

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
}

/// What training tells its front-end.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    Started {
        run_id: i64,
        device: String,
        epochs: usize,
        steps: usize,
    },
    Step {
        epoch: usize,
        step: usize,
        steps: usize,
        loss: f64,
    },
    Epoch {
        epoch: usize,
        epochs: usize,
        loss: f64,
        /// The validation metric and its value, when the split has a validation part.
        validation: Option<(String, f64)>,
        seconds: f64,
    },
    Evaluating,
}

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

pub(crate) const CHECKPOINT: &str = "checkpoint.safetensors";
pub(crate) const BEST: &str = "best.safetensors";
pub(crate) const MODEL: &str = "model.safetensors";
pub(crate) const STATE: &str = "state.json";
pub(crate) const OPTIMIZER: &str = "optimizer.safetensors";

/// Early-stopping state, saved with each checkpoint.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct State {
    /// A text run's linear-probe validation value, where its fine-tuning started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<f64>,
    pub best_epoch: Option<usize>,
    pub best_value: Option<f64>,
    pub bad_epochs: usize,
}

impl State {
    /// Records an epoch's validation value; true when it is the best so far.
    pub fn observe(&mut self, epoch: usize, value: f64, higher_is_better: bool) -> bool {
        let better = self.best_value.is_none_or(|b| {
            if higher_is_better {
                value > b
            } else {
                value < b
            }
        });
        if better {
            self.best_value = Some(value);
            self.best_epoch = Some(epoch);
            self.bad_epochs = 0;
        } else {
            self.bad_epochs += 1;
        }
        better
    }
}

/// Trains a new run on `cfg.split`.
pub fn train(
    ws: &Workspace,
    cfg: &TrainConfig,
    on: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
) -> Result<TrainOutcome> {
    if cfg.k == 0 || cfg.batch_size == 0 {
        return Err(ModelError::Config {
            model: cfg.model.name().into(),
            message: "k and batch size must be at least 1".into(),
        });
    }
    if cfg.model == ModelKind::Conversion {
        return crate::conversion::train(ws, cfg, on, cancel);
    }
    let ds = Dataset::from_split(ws, &cfg.split)?;
    let (dev, dev_name) = device_for(cfg);
    let runs = Runs::new(ws);
    let params = serde_json::to_string(cfg).unwrap_or_default();
    let (run_id, dir) = runs.create(&cfg.split, cfg.model.name(), &params, &dev_name)?;
    write_json(&dir.join("ids.json"), &(&ds.users, &ds.items))?;
    run(ws, &ds, cfg, run_id, &dir, (dev, dev_name), 0, on, cancel)
}

/// Continues a cancelled (or interrupted) run from its last checkpoint.
pub fn resume(
    ws: &Workspace,
    run_id: i64,
    on: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
) -> Result<TrainOutcome> {
    let runs = Runs::new(ws);
    let r = runs.get(run_id)?;
    if crate::finetune::is_text_run(&r.params) {
        return Err(ModelError::Run(
            run_id,
            format!(
                "is a text run ({}); continue it with `finetune --resume {run_id}`",
                r.model
            ),
        ));
    }
    if r.status == "finished" {
        return Err(ModelError::Run(
            run_id,
            "is finished; nothing to resume".into(),
        ));
    }
    let cfg: TrainConfig = serde_json::from_str(&r.params)
        .map_err(|e| ModelError::Run(run_id, format!("stored parameters: {e}")))?;
    if cfg.model == ModelKind::Conversion {
        return Err(ModelError::Run(
            run_id,
            "a conversion run has no checkpoint; train it again (--model conversion)".into(),
        ));
    }
    let ds = Dataset::from_split(ws, &cfg.split)?;
    check_ids(&r.artifacts, &ds, run_id)?;
    let (dev, dev_name) = device_for(&cfg);
    runs.set_status(run_id, "running", None)?;
    run(
        ws,
        &ds,
        &cfg,
        run_id,
        &r.artifacts,
        (dev, dev_name),
        r.epochs_done as usize,
        on,
        cancel,
    )
}

/// The run's device: the fused SGD pass and the Gibbs sampler run on the CPU whatever
/// `cfg.device` asks.
fn device_for(cfg: &TrainConfig) -> (candle_core::Device, String) {
    if cfg.model == ModelKind::Bpmf
        || (cfg.model.is_iterative() && cfg.hyper.optimizer == Optimizer::Sgd)
    {
        device::select("cpu")
    } else {
        device::select(&cfg.device)
    }
}

/// A finished run's registry row and its stored training configuration.
pub(crate) fn finished_run(
    ws: &Workspace,
    run_id: i64,
) -> Result<(crate::RunSummary, TrainConfig)> {
    let r = Runs::new(ws).get(run_id)?;
    if r.status != "finished" {
        return Err(ModelError::Run(
            run_id,
            format!("is {}, not finished", r.status),
        ));
    }
    if let Ok(t) = serde_json::from_str::<crate::FinetuneConfig>(&r.params)
        && t.task == crate::TextTask::TwoTower
    {
        // Its user and item vectors load like a factorization's.
        let cfg = TrainConfig {
            k: t.k,
            epochs: t.epochs,
            batch_size: t.batch_size,
            seed: t.seed,
            patience: t.patience,
            device: t.device,
            ..TrainConfig::new(t.split.as_deref().unwrap_or("main"), ModelKind::TwoTower)
        };
        return Ok((r, cfg));
    }
    if crate::finetune::is_text_run(&r.params) {
        return Err(ModelError::Run(
            run_id,
            format!(
                "is a text model ({}): it predicts from review text, it has no users or recommendations",
                r.model
            ),
        ));
    }
    let cfg: TrainConfig = serde_json::from_str(&r.params)
        .map_err(|e| ModelError::Run(run_id, format!("stored parameters: {e}")))?;
    Ok((r, cfg))
}

/// Loads a finished run's model, with the dataset of its split.
pub fn load_run(
    ws: &Workspace,
    run_id: i64,
) -> Result<(Dataset, TrainConfig, Box<dyn Recommender>)> {
    let (r, cfg) = finished_run(ws, run_id)?;
    if r.model == ModelKind::Conversion.name() {
        return Err(ModelError::Run(
            run_id,
            "is a conversion model: it predicts purchases, it has no recommendations".into(),
        ));
    }
    let ds = Dataset::from_split(ws, &cfg.split)?;
    check_ids(&r.artifacts, &ds, run_id)?;
    let (dev, _) = device::select(&cfg.device);
    let model = models::load(cfg.model, &ds, &cfg.hyper, &r.artifacts.join(MODEL), &dev)?;
    Ok((ds, cfg, model))
}

#[allow(clippy::too_many_arguments)]
fn run(
    ws: &Workspace,
    ds: &Dataset,
    cfg: &TrainConfig,
    run_id: i64,
    dir: &Path,
    (dev, dev_name): (candle_core::Device, String),
    done: usize,
    on: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
) -> Result<TrainOutcome> {
    let runs = Runs::new(ws);
    let result = (|| -> Result<TrainOutcome> {
        let mut outcome = TrainOutcome {
            run_id,
            model: cfg.model,
            device: dev_name.clone(),
            status: "finished".into(),
            epochs_done: done,
            seconds: 0.0,
            seconds_per_epoch: None,
            best_epoch: None,
            test: Evaluation::default(),
        };
        let model: Box<dyn Recommender> = if cfg.model.is_iterative() {
            let m: Box<dyn Trainable> = if cfg.model == ModelKind::NeuMf {
                Box::new(NeuMf::new(ds, &cfg.hyper, cfg.seed, &dev)?)
            } else if cfg.model == ModelKind::SasRec {
                Box::new(SasRec::new(ds, &cfg.hyper, cfg.seed, &dev)?)
            } else {
                Box::new(Factorization::new(
                    cfg.model, ds, &cfg.hyper, cfg.seed, &dev,
                )?)
            };
            match fit_epochs(
                ws,
                ds,
                cfg,
                m,
                run_id,
                dir,
                &dev_name,
                done,
                on,
                cancel,
                &mut outcome,
            )? {
                Some(m) => m,
                None => return Ok(outcome),
            }
        } else if cfg.model == ModelKind::Bpmf {
            match fit_sweeps(ws, ds, cfg, run_id, &dev_name, on, cancel, &mut outcome)? {
                Some(m) => Box::new(m),
                None => return Ok(outcome),
            }
        } else {
            on(&Progress::Started {
                run_id,
                device: dev_name.clone(),
                epochs: 0,
                steps: 0,
            });
            let t = Instant::now();
            let m = models::fit_closed_form(cfg.model, ds, &cfg.hyper)?;
            outcome.seconds = t.elapsed().as_secs_f64();
            runs.add_seconds(run_id, outcome.seconds)?;
            m
        };
        model.save(&dir.join(MODEL))?;
        on(&Progress::Evaluating);
        outcome.test = metrics::evaluate(model.as_ref(), ds, &ds.test, cfg.k)?;
        runs.finish(run_id, "test", &outcome.test, &ds.users)?;
        Ok(outcome)
    })();
    runs.settle(
        run_id,
        result.as_ref().map(|o| (o.status.as_str(), o.epochs_done)),
        "train",
    )?;
    result
}

/// The validation value of an epoch: RMSE for a rating model (lower is better), else NDCG@k.
fn validate(model: &dyn Trainable, ds: &Dataset, k: usize) -> Result<Option<(String, f64, bool)>> {
    if ds.valid.is_empty() {
        return Ok(None);
    }
    if model.rates() {
        let ev = metrics::rating_evaluation(model, ds, &ds.valid)?.unwrap_or_default();
        return Ok(ev.get("rmse").map(|v| ("rmse".to_string(), v, false)));
    }
    let (m, _) = metrics::ranking_evaluation(model, ds, &ds.valid, k)?;
    Ok(Some((format!("ndcg@{k}"), m.ndcg, true)))
}

/// Trains epoch after epoch. `None` when cancelled (the last checkpoint stays).
#[allow(clippy::too_many_arguments)]
fn fit_epochs(
    ws: &Workspace,
    ds: &Dataset,
    cfg: &TrainConfig,
    mut model: Box<dyn Trainable>,
    run_id: i64,
    dir: &Path,
    dev_name: &str,
    done: usize,
    on: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
    outcome: &mut TrainOutcome,
) -> Result<Option<Box<dyn Recommender>>> {
    let runs = Runs::new(ws);
    let mut state = State::default();
    if done > 0 {
        model.load(&dir.join(CHECKPOINT))?;
        state = read_json(&dir.join(STATE))?;
        outcome.seconds = runs.get(run_id)?.seconds;
    }
    let mut opt = match cfg.hyper.optimizer {
        Optimizer::Adam => Some(Adam::new(
            model.vars(),
            cfg.hyper.lr,
            cfg.hyper.weight_decay,
        )?),
        Optimizer::Sgd => None,
    };
    if done > 0
        && let Some(opt) = opt.as_mut()
        && dir.join(OPTIMIZER).exists()
    {
        // Runs checkpointed before the optimizer state was saved resume with fresh moments.
        opt.load(&dir.join(OPTIMIZER))?;
    }
    let steps = ds.train.len().div_ceil(cfg.batch_size);
    let mut session_seconds = 0.0;
    on(&Progress::Started {
        run_id,
        device: dev_name.into(),
        epochs: cfg.epochs,
        steps,
    });
    for epoch in done + 1..=cfg.epochs {
        let t = Instant::now();
        // Each epoch has its own seed, so a resumed run sees the batches it would have seen.
        let mut rng: ChaCha8Rng = rand::SeedableRng::seed_from_u64(
            cfg.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        // Called after each step with its mean loss: stops on a non-finite loss (an error)
        // or a cancel (false), and reports every 20th step.
        let mut each = |step: usize, value: f64| -> Result<bool> {
            if !value.is_finite() {
                return Err(ModelError::Diverged {
                    epoch,
                    step,
                    loss: value,
                    lr: cfg.hyper.lr,
                });
            }
            if step % 20 == 1 || step == steps {
                on(&Progress::Step {
                    epoch,
                    step,
                    steps,
                    loss: value,
                });
            }
            Ok(!cancel.load(Ordering::Relaxed))
        };
        let loss = match opt.as_mut() {
            Some(opt) => adam_epoch(model.as_ref(), opt, ds, cfg.batch_size, &mut rng, &mut each)?,
            None => {
                model.sgd_epoch(ds, cfg.hyper.lr as f32, cfg.batch_size, &mut rng, &mut each)?
            }
        };
        let Some(loss) = loss else {
            outcome.status = "cancelled".into();
            return Ok(None);
        };
        let seconds = t.elapsed().as_secs_f64();
        let val = validate(model.as_ref(), ds, cfg.k)?;
        if let Some((_, v, higher)) = &val
            && state.observe(epoch, *v, *higher)
        {
            replace_file(&dir.join(BEST), |tmp| model.save(tmp))?;
        }
        replace_file(&dir.join(CHECKPOINT), |tmp| model.save(tmp))?;
        if let Some(opt) = &opt {
            replace_file(&dir.join(OPTIMIZER), |tmp| opt.save(tmp))?;
        }
        write_json(&dir.join(STATE), &state)?;
        runs.epoch(
            run_id,
            &EpochRow {
                epoch: epoch as i64,
                loss: Some(loss),
                metric: val.as_ref().map(|v| v.0.clone()),
                value: val.as_ref().map(|v| v.1),
                seconds,
            },
        )?;
        outcome.epochs_done = epoch;
        outcome.seconds += seconds;
        session_seconds += seconds;
        on(&Progress::Epoch {
            epoch,
            epochs: cfg.epochs,
            loss,
            validation: val.map(|(n, v, _)| (n, v)),
            seconds,
        });
        if cfg.patience > 0 && state.bad_epochs >= cfg.patience {
            break;
        }
    }
    let trained = outcome.epochs_done.saturating_sub(done).max(1);
    outcome.seconds_per_epoch = Some(session_seconds / trained as f64);
    if state.best_epoch.is_some() {
        model.load(&dir.join(BEST))?;
    }
    outcome.best_epoch = state.best_epoch;
    model.prepare_test();
    Ok(Some(model as Box<dyn Recommender>))
}

/// Samples a BPMF chain, a sweep an epoch: the loss is the sweep's train RMSE, the
/// validation value the RMSE of the running posterior mean. A chain has no checkpoint: a
/// resumed run samples it again from the start (the same seed gives the same chain).
#[allow(clippy::too_many_arguments)]
fn fit_sweeps(
    ws: &Workspace,
    ds: &Dataset,
    cfg: &TrainConfig,
    run_id: i64,
    dev_name: &str,
    on: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
    outcome: &mut TrainOutcome,
) -> Result<Option<Factorization>> {
    let runs = Runs::new(ws);
    on(&Progress::Started {
        run_id,
        device: dev_name.into(),
        epochs: cfg.epochs,
        steps: 1,
    });
    outcome.seconds = 0.0;
    let mut t = Instant::now();
    let mut best: Option<(usize, f64)> = None;
    let model = models::bpmf::fit(ds, &cfg.hyper, cfg.epochs, cfg.seed, &mut |sweep, s| {
        let seconds = t.elapsed().as_secs_f64();
        let validation = s.valid_rmse.map(|v| ("rmse".to_string(), v));
        if let Some(v) = s.valid_rmse
            && best.is_none_or(|(_, b)| v < b)
        {
            best = Some((sweep, v));
        }
        runs.epoch(
            run_id,
            &EpochRow {
                epoch: sweep as i64,
                loss: Some(s.train_rmse),
                metric: validation.as_ref().map(|v| v.0.clone()),
                value: validation.as_ref().map(|v| v.1),
                seconds,
            },
        )?;
        outcome.epochs_done = sweep;
        outcome.seconds += seconds;
        on(&Progress::Epoch {
            epoch: sweep,
            epochs: cfg.epochs,
            loss: s.train_rmse,
            validation,
            seconds,
        });
        t = Instant::now();
        Ok(!cancel.load(Ordering::Relaxed))
    })?;
    if model.is_none() {
        outcome.status = "cancelled".into();
    }
    outcome.seconds_per_epoch = Some(outcome.seconds / outcome.epochs_done.max(1) as f64);
    outcome.best_epoch = best.map(|b| b.0);
    Ok(model)
}

/// One epoch of mini-batch Adam through candle's autograd; the mean batch loss, or `None`
/// when `each` stops it.
fn adam_epoch(
    model: &dyn Trainable,
    opt: &mut Adam,
    ds: &Dataset,
    batch_size: usize,
    rng: &mut ChaCha8Rng,
    each: &mut dyn FnMut(usize, f64) -> Result<bool>,
) -> Result<Option<f64>> {
    let batches = model.batches(ds, batch_size, rng)?;
    let mut total = 0.0;
    for (step, b) in batches.iter().enumerate() {
        let loss = model.loss(b)?;
        let value = f64::from(loss.to_scalar::<f32>()?);
        if !each(step + 1, value)? {
            return Ok(None);
        }
        opt.backward_step(&loss)?;
        total += value;
    }
    Ok(Some(total / batches.len().max(1) as f64))
}

/// Writes `path` through `write` into a temporary file, then renames it into place, so a
/// checkpoint (or its state) is either the old one or the new one.
pub(crate) fn replace_file(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let tmp: PathBuf = path.with_extension("tmp");
    write(&tmp)?;
    std::fs::rename(&tmp, path).map_err(|e| ModelError::io(path.display().to_string(), e))
}

pub(crate) fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string(value).unwrap_or_default();
    replace_file(path, |tmp| {
        std::fs::write(tmp, text).map_err(|e| ModelError::io(tmp.display().to_string(), e))
    })
}

pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).map_err(|e| ModelError::io(path.display().to_string(), e))?;
    serde_json::from_str(&text).map_err(|e| {
        ModelError::io(
            path.display().to_string(),
            std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        )
    })
}

/// The run's user and item numbering must be the split's.
pub(crate) fn check_ids(dir: &Path, ds: &Dataset, run_id: i64) -> Result<()> {
    let (users, items): (Vec<String>, Vec<String>) = read_json(&dir.join("ids.json"))?;
    if users != ds.users || items != ds.items {
        return Err(ModelError::Run(
            run_id,
            format!(
                "split \"{}\" changed since the run was trained (users/items differ)",
                ds.split
            ),
        ));
    }
    Ok(())
}
