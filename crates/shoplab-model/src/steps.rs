//! The optimizer side of a text run's epochs, shared by the review fine-tuning and the
//! two-tower: AdamW over the trainable variables (its moments restored on resume), the
//! warm-up and decay schedule, micro-batch gradients summed into one step, progress and
//! cancel after each step, and the end-of-epoch checkpoint.

use candle_core::{Tensor, Var};

use crate::encoder::{Encoder, save_trainable};
use crate::error::{ModelError, Result};
use crate::files::{BEST, CHECKPOINT, OPTIMIZER, STATE, replace_file, write_json};
use crate::optim::Adam;
use crate::run::{Progress, RunContext, State};
use crate::spec::FinetuneConfig;

/// The optimizer steps of a text run (see the module's description).
pub(crate) struct Steps {
    vars: Vec<Var>,
    opt: Adam,
    grads: Vec<Option<Tensor>>,
    loss: f64,
    peak: f64,
    warm: usize,
    total: usize,
    per_epoch: usize,
}

impl Steps {
    /// The steps of a run in `ctx` over `vars`: `per_epoch` optimizer steps in each of
    /// `epochs`; a resumed run (`ctx.done > 0`) restores the optimizer's moments.
    pub(crate) fn new(
        ctx: &RunContext,
        cfg: &FinetuneConfig,
        vars: Vec<Var>,
        (per_epoch, epochs): (usize, usize),
    ) -> Result<Self> {
        let mut opt = Adam::new(vars.clone(), cfg.lr, cfg.weight_decay)?;
        if ctx.done > 0 && ctx.file(OPTIMIZER).exists() {
            opt.load(&ctx.file(OPTIMIZER))?;
        }
        let total = per_epoch * epochs;
        Ok(Steps {
            grads: vec![None; vars.len()],
            vars,
            opt,
            loss: 0.0,
            peak: cfg.lr,
            warm: (cfg.warmup * total as f64).ceil() as usize,
            total,
            per_epoch,
        })
    }

    /// Back-propagates one micro-batch's (weighted) loss into the step's gradients,
    /// through `enc`'s own pass where its forward ran one.
    pub(crate) fn add(&mut self, loss: &Tensor, enc: &Encoder) -> Result<()> {
        self.loss += f64::from(loss.to_scalar::<f32>()?);
        let mut g = loss.backward()?;
        enc.backward(&mut g)?;
        for (slot, v) in self.grads.iter_mut().zip(&self.vars) {
            if let Some(gv) = g.get(v) {
                *slot = Some(match slot.take() {
                    Some(acc) => (acc + gv)?,
                    None => gv.clone(),
                });
            }
        }
        Ok(())
    }

    /// Takes optimizer step `step` (0-based) of `epoch` with the summed gradients and
    /// reports it. Returns the step's loss, or `None` when `cancel` is set.
    pub(crate) fn step(
        &mut self,
        ctx: &mut RunContext,
        epoch: usize,
        step: usize,
    ) -> Result<Option<f64>> {
        let loss = std::mem::take(&mut self.loss);
        if !loss.is_finite() {
            return Err(ModelError::Diverged {
                epoch,
                step: step + 1,
                loss,
                lr: self.peak,
            });
        }
        let global = (epoch - 1) * self.per_epoch + step;
        self.opt
            .set_lr(schedule(self.peak, global, self.warm, self.total));
        let grads = std::mem::replace(&mut self.grads, vec![None; self.vars.len()]);
        self.opt.step_with(&grads)?;
        ctx.report(&Progress::Step {
            epoch,
            step: step + 1,
            steps: self.per_epoch,
            loss,
        });
        Ok((!ctx.cancelled()).then_some(loss))
    }

    /// The epoch's checkpoint: the trainable tensors (also as the best when `best`), the
    /// optimizer's state and the early-stopping state.
    pub(crate) fn checkpoint(
        &self,
        ctx: &RunContext,
        (enc, extra): (&Encoder, &[(&str, &Var)]),
        state: &State,
        best: bool,
    ) -> Result<()> {
        if best {
            save_trainable(enc, extra, &ctx.file(BEST))?;
        }
        save_trainable(enc, extra, &ctx.file(CHECKPOINT))?;
        replace_file(&ctx.file(OPTIMIZER), |tmp| self.opt.save(tmp))?;
        write_json(&ctx.file(STATE), state)
    }
}

/// The learning rate at optimizer step `step` (from 0) of `total`: linear warm-up over
/// `warm` steps, then linear decay to zero.
pub fn schedule(lr: f64, step: usize, warm: usize, total: usize) -> f64 {
    if step < warm {
        lr * (step + 1) as f64 / warm as f64
    } else {
        lr * (total.saturating_sub(step)) as f64 / (total - warm).max(1) as f64
    }
}
