//! Recommender runs on a stored split: seeded mini-batches, Adam (or the fused SGD pass),
//! validation each epoch with early stopping, progress events, cancel, a checkpoint after
//! every epoch, resume, and a clear stop on divergence; Gibbs sweeps for BPMF; a single fit
//! for the closed-form models.

use std::time::Instant;

use rand_chacha::ChaCha8Rng;

use crate::dataset::Dataset;
use crate::device;
use crate::error::{ModelError, Result};
use crate::files::{BEST, CHECKPOINT, MODEL, OPTIMIZER, STATE, check_ids, read_json};
use crate::files::{replace_file, write_ids, write_json};
use crate::metrics;
use crate::models::{self, Factorization, Fit, Optimizer, Recommender, Trainable};
use crate::optim::Adam;
use crate::registry::{EpochRow, RunSummary};
use crate::run::{Caller, Progress, RunContext, State, TrainOutcome, epoch_rng};
use crate::spec::{RunSpec, TrainConfig};

/// Trains a new recommender run on `cfg.split`.
pub(crate) fn train(caller: Caller, cfg: &TrainConfig) -> Result<TrainOutcome> {
    let ds = Dataset::from_split(caller.ws, &cfg.split)?;
    let spec = RunSpec::Train(cfg.clone());
    let mut ctx = RunContext::create(
        caller,
        &spec,
        (&cfg.split, cfg.model.name()),
        device_for(cfg),
    )?;
    write_ids(&ctx.dir, &ds)?;
    run(&mut ctx, &ds, cfg)
}

/// Continues the cancelled (or interrupted) run `r` from its last checkpoint.
pub(crate) fn resume(caller: Caller, r: &RunSummary, cfg: &TrainConfig) -> Result<TrainOutcome> {
    let ds = Dataset::from_split(caller.ws, &cfg.split)?;
    check_ids(&r.artifacts, &ds, r.run_id)?;
    let mut ctx = RunContext::reopen(caller, r, device_for(cfg))?;
    run(&mut ctx, &ds, cfg)
}

/// The run's device: the fused SGD pass and the Gibbs sampler run on the CPU whatever
/// `cfg.device` asks.
fn device_for(cfg: &TrainConfig) -> (candle_core::Device, String) {
    if cfg.model.trains_on_cpu(cfg.hyper.optimizer) {
        device::select("cpu")
    } else {
        device::select(&cfg.device)
    }
}

/// Fits and tests the model, then records how the session ended.
fn run(ctx: &mut RunContext, ds: &Dataset, cfg: &TrainConfig) -> Result<TrainOutcome> {
    let result = fit_and_test(ctx, ds, cfg);
    ctx.settle(
        result.as_ref().map(|o| (o.status.as_str(), o.epochs_done)),
        "train",
    )?;
    result
}

fn fit_and_test(ctx: &mut RunContext, ds: &Dataset, cfg: &TrainConfig) -> Result<TrainOutcome> {
    let mut outcome = TrainOutcome::start(ctx, cfg.model);
    let fitted: Option<Box<dyn Recommender>> = match cfg.model.fit() {
        Fit::Epochs => {
            let m = models::trainable(cfg.model, ds, &cfg.hyper, cfg.seed, &ctx.device)?;
            fit_epochs(ctx, ds, cfg, m, &mut outcome)?
        }
        Fit::Sweeps => {
            fit_sweeps(ctx, ds, cfg, &mut outcome)?.map(|m| Box::new(m) as Box<dyn Recommender>)
        }
        Fit::ClosedForm => Some(fit_closed_form(ctx, ds, cfg, &mut outcome)?),
        Fit::Conversion | Fit::TwoTower => {
            return Err(ModelError::Config {
                model: cfg.model.name().into(),
                message: "is not a recommender trained on a split by `train`".into(),
            });
        }
    };
    let Some(model) = fitted else {
        return Ok(outcome);
    };
    model.save(&ctx.file(MODEL))?;
    ctx.report(&Progress::Evaluating);
    outcome.test = metrics::evaluate(model.as_ref(), ds, &ds.test, cfg.k)?;
    ctx.runs
        .finish(ctx.run_id, "test", &outcome.test, &ds.users)?;
    Ok(outcome)
}

/// Fits a closed-form model (popularity, item-kNN, EASE) in one go.
fn fit_closed_form(
    ctx: &mut RunContext,
    ds: &Dataset,
    cfg: &TrainConfig,
    outcome: &mut TrainOutcome,
) -> Result<Box<dyn Recommender>> {
    ctx.started(0, 0);
    let t = Instant::now();
    let m = models::fit_closed_form(cfg.model, ds, &cfg.hyper)?;
    outcome.seconds = t.elapsed().as_secs_f64();
    ctx.runs.add_seconds(ctx.run_id, outcome.seconds)?;
    Ok(m)
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
fn fit_epochs(
    ctx: &mut RunContext,
    ds: &Dataset,
    cfg: &TrainConfig,
    mut model: Box<dyn Trainable>,
    outcome: &mut TrainOutcome,
) -> Result<Option<Box<dyn Recommender>>> {
    let mut opt = match cfg.hyper.optimizer {
        Optimizer::Adam => Some(Adam::new(
            model.vars(),
            cfg.hyper.lr,
            cfg.hyper.weight_decay,
        )?),
        Optimizer::Sgd => None,
    };
    let mut state = State::default();
    if ctx.done > 0 {
        state = restore(ctx, model.as_mut(), opt.as_mut())?;
        outcome.seconds = ctx.stored_seconds()?;
    }
    let steps = ds.train.len().div_ceil(cfg.batch_size);
    let mut session_seconds = 0.0;
    ctx.started(cfg.epochs, steps);
    for epoch in ctx.done + 1..=cfg.epochs {
        let t = Instant::now();
        let run = (epoch, steps);
        let Some(loss) = epoch_steps(ctx, model.as_mut(), opt.as_mut(), ds, cfg, &mut state, run)?
        else {
            outcome.status = "cancelled".into();
            return Ok(None);
        };
        let seconds = t.elapsed().as_secs_f64();
        let val = validate(model.as_ref(), ds, cfg.k)?;
        if let Some((_, v, higher)) = &val
            && state.collapsed(*v, *higher)
        {
            return Err(ModelError::Diverged {
                epoch,
                step: steps,
                loss,
                lr: cfg.hyper.lr,
            });
        }
        if let Some((_, v, higher)) = &val
            && state.observe(epoch, *v, *higher)
        {
            replace_file(&ctx.file(BEST), |tmp| model.save(tmp))?;
        }
        checkpoint(ctx, model.as_ref(), opt.as_ref(), &state)?;
        let row = EpochRow {
            epoch: epoch as i64,
            loss: Some(loss),
            metric: val.as_ref().map(|v| v.0.clone()),
            value: val.as_ref().map(|v| v.1),
            seconds,
        };
        ctx.record_epoch(&row, cfg.epochs)?;
        outcome.epochs_done = epoch;
        outcome.seconds += seconds;
        session_seconds += seconds;
        if state.exhausted(cfg.patience) {
            break;
        }
    }
    let trained = outcome.epochs_done.saturating_sub(ctx.done).max(1);
    outcome.seconds_per_epoch = Some(session_seconds / trained as f64);
    if state.best_epoch.is_some() {
        model.load(&ctx.file(BEST))?;
    }
    outcome.best_epoch = state.best_epoch;
    model.prepare_test();
    Ok(Some(model as Box<dyn Recommender>))
}

/// A resumed run's model, optimizer moments and early-stopping state from its checkpoint.
fn restore(ctx: &RunContext, model: &mut dyn Trainable, opt: Option<&mut Adam>) -> Result<State> {
    model.load(&ctx.file(CHECKPOINT))?;
    let state = read_json(&ctx.file(STATE))?;
    if let Some(opt) = opt
        && ctx.file(OPTIMIZER).exists()
    {
        // Runs checkpointed before the optimizer state was saved resume with fresh moments.
        opt.load(&ctx.file(OPTIMIZER))?;
    }
    Ok(state)
}

/// The end-of-epoch checkpoint: the model, the optimizer's moments and the state.
fn checkpoint(
    ctx: &RunContext,
    model: &dyn Trainable,
    opt: Option<&Adam>,
    state: &State,
) -> Result<()> {
    replace_file(&ctx.file(CHECKPOINT), |tmp| model.save(tmp))?;
    if let Some(opt) = opt {
        replace_file(&ctx.file(OPTIMIZER), |tmp| opt.save(tmp))?;
    }
    write_json(&ctx.file(STATE), state)
}

/// The steps of one epoch (`epoch` of the run, `steps` per epoch): its mean loss, or `None`
/// when cancelled. A non-finite loss, or one far above the run's first (see
/// [`State::blown_up`]), stops the run with an error; every 20th step is reported.
fn epoch_steps(
    ctx: &mut RunContext,
    model: &mut dyn Trainable,
    opt: Option<&mut Adam>,
    ds: &Dataset,
    cfg: &TrainConfig,
    state: &mut State,
    (epoch, steps): (usize, usize),
) -> Result<Option<f64>> {
    let mut rng = epoch_rng(cfg.seed, epoch);
    let lr = cfg.hyper.lr;
    let mut each = |step: usize, value: f64| -> Result<bool> {
        if state.blown_up(value) {
            return Err(ModelError::Diverged {
                epoch,
                step,
                loss: value,
                lr,
            });
        }
        if step % 20 == 1 || step == steps {
            ctx.report(&Progress::Step {
                epoch,
                step,
                steps,
                loss: value,
            });
        }
        Ok(!ctx.cancelled())
    };
    match opt {
        Some(opt) => adam_epoch(&*model, opt, ds, cfg.batch_size, &mut rng, &mut each),
        None => model.sgd_epoch(ds, lr as f32, cfg.batch_size, &mut rng, &mut each),
    }
}

/// Samples a BPMF chain, a sweep an epoch: the loss is the sweep's train RMSE, the
/// validation value the RMSE of the running posterior mean. A chain has no checkpoint: a
/// resumed run samples it again from the start (the same seed gives the same chain).
fn fit_sweeps(
    ctx: &mut RunContext,
    ds: &Dataset,
    cfg: &TrainConfig,
    outcome: &mut TrainOutcome,
) -> Result<Option<Factorization>> {
    ctx.started(cfg.epochs, 1);
    outcome.seconds = 0.0;
    let mut t = Instant::now();
    let mut best: Option<(usize, f64)> = None;
    let model = models::bpmf::fit(ds, &cfg.hyper, cfg.epochs, cfg.seed, &mut |sweep, s| {
        let seconds = t.elapsed().as_secs_f64();
        if let Some(v) = s.valid_rmse
            && best.is_none_or(|(_, b)| v < b)
        {
            best = Some((sweep, v));
        }
        let row = EpochRow {
            epoch: sweep as i64,
            loss: Some(s.train_rmse),
            metric: s.valid_rmse.map(|_| "rmse".to_string()),
            value: s.valid_rmse,
            seconds,
        };
        ctx.record_epoch(&row, cfg.epochs)?;
        outcome.epochs_done = sweep;
        outcome.seconds += seconds;
        t = Instant::now();
        Ok(!ctx.cancelled())
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
