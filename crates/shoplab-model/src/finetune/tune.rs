//! Fine-tuning the encoder with the head: the linear probe on the pretrained embeddings
//! (LP-FT: fine-tuning starts from its head), then epochs of steps over batches of texts of
//! similar length, validated each epoch, checkpointed, resumable.

use std::time::Instant;

use candle_core::{DType, Tensor, Var};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::eval::{evaluate, headline};
use super::head::{Head, predict_all};
use super::linear::{Features, fit_probe};
use super::reviews::TextSplit;
use crate::encoder::{Encoder, embed_all, load_trainable};
use crate::error::Result;
use crate::files::{BEST, CHECKPOINT, STATE, read_json, write_json};
use crate::models::bce_with_logits;
use crate::registry::EpochRow;
use crate::run::{FinetuneOutcome, RunContext, State, epoch_rng};
use crate::spec::{FinetuneConfig, TextTask};
use crate::steps::Steps;

/// A review split's texts, tokenized for the encoder.
pub(super) struct Tokenized<'a> {
    pub split: &'a TextSplit,
    pub train: Vec<tokenizers::Encoding>,
    pub valid: Vec<tokenizers::Encoding>,
    pub test: Vec<tokenizers::Encoding>,
}

/// What the epochs work with.
struct Tuning<'a> {
    cfg: &'a FinetuneConfig,
    enc: &'a Encoder,
    data: &'a Tokenized<'a>,
    head: Head,
    /// Tokens of each training text (for batches of similar length).
    lens: Vec<usize>,
}

/// The linear probe on the pretrained embeddings, then (for `full` and `lora`) epochs of
/// fine-tuning from it. Returns the head (and leaves the encoder at its best epoch), or
/// `None` when cancelled.
pub(super) fn fine_tune(
    ctx: &mut RunContext,
    cfg: &FinetuneConfig,
    enc: &Encoder,
    data: &Tokenized,
    outcome: &mut FinetuneOutcome,
) -> Result<Option<Head>> {
    let micro = data.train.len().div_ceil(cfg.batch_size);
    let steps = micro.div_ceil(cfg.accumulate);
    let epochs = if cfg.method.trains_encoder() {
        cfg.epochs
    } else {
        0
    };
    ctx.started(epochs, steps);
    let (head, mut state) = if ctx.done == 0 {
        probe(ctx, cfg, enc, data, outcome)?
    } else {
        restore(ctx, enc, outcome)?
    };
    outcome.probe = state.probe;
    if epochs == 0 {
        return Ok(Some(head));
    }
    let mut vars = enc.vars();
    vars.push(head.w.clone());
    vars.push(head.b.clone());
    let mut opt = Steps::new(ctx, cfg, vars, (steps, epochs))?;
    let t = Tuning {
        cfg,
        enc,
        data,
        head,
        lens: data.train.iter().map(|e| e.get_ids().len()).collect(),
    };
    let (mut trained_seconds, mut trained_examples) = (0.0, 0usize);
    for epoch in ctx.done + 1..=epochs {
        let start = Instant::now();
        let Some((total_loss, examples)) = t.epoch_steps(ctx, &mut opt, epoch)? else {
            outcome.cancel();
            return Ok(None);
        };
        trained_examples += examples;
        let seconds = start.elapsed().as_secs_f64();
        trained_seconds += seconds;
        let v = t.validate()?;
        let best = state.observe(epoch, v, cfg.task.metric().1);
        opt.checkpoint(ctx, (enc, &t.head.named()), &state, best)?;
        let row = EpochRow {
            epoch: epoch as i64,
            loss: Some(total_loss / steps.max(1) as f64),
            metric: Some(cfg.task.metric().0.to_string()),
            value: Some(v),
            seconds,
        };
        ctx.record_epoch(&row, epochs)?;
        outcome.epochs_done = epoch;
        outcome.seconds += seconds;
        if state.exhausted(cfg.patience) {
            break;
        }
    }
    if trained_seconds > 0.0 {
        outcome.examples_per_second = Some(trained_examples as f64 / trained_seconds);
    }
    if state.best_epoch.is_some() {
        load_trainable(enc, &t.head.named(), &ctx.file(BEST))?;
    }
    outcome.best_epoch = state.best_epoch;
    Ok(Some(t.head))
}

/// The probe: pretrained embeddings, a linear model, λ by validation. Its validation value
/// is kept in the state (and saved, when epochs follow).
fn probe(
    ctx: &mut RunContext,
    cfg: &FinetuneConfig,
    enc: &Encoder,
    data: &Tokenized,
    outcome: &mut FinetuneOutcome,
) -> Result<(Head, State)> {
    let split = data.split;
    let t = Instant::now();
    let xt = Features::dense(&embed_all(enc, &data.train)?);
    let xv = Features::dense(&embed_all(enc, &data.valid)?);
    let (m, _) = fit_probe(
        cfg.task,
        (&xt, &split.train.targets),
        (&xv, &split.valid.targets),
        split.train.mean(),
    );
    let seconds = t.elapsed().as_secs_f64();
    ctx.runs.add_seconds(ctx.run_id, seconds)?;
    outcome.seconds += seconds;
    let v = evaluate(
        cfg.task,
        &m.predict(&xv),
        &split.valid.targets,
        split.train.mean(),
    );
    let state = State {
        probe: Some(headline(cfg.task, &v)),
        ..State::default()
    };
    if cfg.method.trains_encoder() {
        write_json(&ctx.file(STATE), &state)?;
    }
    Ok((Head::from_linear(&m, &enc.device)?, state))
}

/// A resumed run's head and encoder from its checkpoint, and its state.
fn restore(
    ctx: &RunContext,
    enc: &Encoder,
    outcome: &mut FinetuneOutcome,
) -> Result<(Head, State)> {
    outcome.seconds = ctx.stored_seconds()?;
    let state = read_json(&ctx.file(STATE))?;
    // Shaped for the checkpoint, which sets it.
    let dim = enc.folder.config.hidden_size;
    let head = Head {
        w: Var::zeros((dim, 1), DType::F32, &enc.device)?,
        b: Var::zeros(1, DType::F32, &enc.device)?,
    };
    load_trainable(enc, &head.named(), &ctx.file(CHECKPOINT))?;
    Ok((head, state))
}

impl Tuning<'_> {
    /// One epoch's optimizer steps: the summed step losses and the texts trained on, or
    /// `None` when cancelled.
    fn epoch_steps(
        &self,
        ctx: &mut RunContext,
        opt: &mut Steps,
        epoch: usize,
    ) -> Result<Option<(f64, usize)>> {
        let cfg = self.cfg;
        let mut rng = epoch_rng(cfg.seed, epoch);
        let batches = grouped_batches(&self.lens, cfg.batch_size, &mut rng);
        let (mut total_loss, mut examples) = (0.0, 0usize);
        for (step, group) in batches.chunks(cfg.accumulate).enumerate() {
            let n_step: usize = group.iter().map(Vec::len).sum();
            for batch in group {
                let loss = self.batch_loss(batch)?;
                // Each micro-batch weighs by its share of the step's texts.
                opt.add(&(loss * (batch.len() as f64 / n_step as f64))?, self.enc)?;
            }
            examples += n_step;
            let Some(loss) = opt.step(ctx, epoch, step)? else {
                return Ok(None);
            };
            total_loss += loss;
        }
        Ok(Some((total_loss, examples)))
    }

    /// The task's loss on one micro-batch of training texts.
    fn batch_loss(&self, batch: &[usize]) -> Result<Tensor> {
        let (enc, split) = (self.enc, self.data.split);
        let e: Vec<&tokenizers::Encoding> = batch.iter().map(|&k| &self.data.train[k]).collect();
        let y: Vec<f32> = batch.iter().map(|&k| split.train.targets[k]).collect();
        let y = Tensor::from_vec(y, batch.len(), &enc.device)?;
        let x = enc.pooled(&e, true)?;
        let z = x
            .matmul(self.head.w.as_tensor())?
            .squeeze(1)?
            .broadcast_add(self.head.b.as_tensor())?;
        Ok(match self.cfg.task {
            TextTask::Rating => (z - &y)?.sqr()?.mean_all()?,
            TextTask::Recommend | TextTask::TwoTower => bce_with_logits(&z, &y)?,
        })
    }

    /// The validation value of the encoder and head as they are.
    fn validate(&self) -> Result<f64> {
        let (cfg, split) = (self.cfg, self.data.split);
        let preds = predict_all(self.enc, &self.head, cfg.task, &self.data.valid)?;
        Ok(headline(
            cfg.task,
            &evaluate(cfg.task, &preds, &split.valid.targets, split.train.mean()),
        ))
    }
}

/// Micro-batches of `size` texts of similar length: shuffled, sorted by length within pools
/// of 50 batches, cut, and the batches shuffled.
fn grouped_batches(lens: &[usize], size: usize, rng: &mut ChaCha8Rng) -> Vec<Vec<usize>> {
    let mut idx: Vec<usize> = (0..lens.len()).collect();
    idx.shuffle(rng);
    for pool in idx.chunks_mut(size * 50) {
        pool.sort_by_key(|&i| lens[i]);
    }
    let mut batches: Vec<Vec<usize>> = idx.chunks(size).map(<[usize]>::to_vec).collect();
    batches.shuffle(rng);
    batches
}
