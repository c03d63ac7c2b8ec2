//! What every kind of run shares above the registry: the progress it reports, its
//! early-stopping state, how it ended, and the [`RunContext`] a run's steps work in (the
//! registry row and folder, the device, progress and cancel) instead of long argument
//! lists.

mod outcome;

pub use outcome::{FinetuneOutcome, TrainOutcome};

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::Device;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use shoplab_data::Workspace;

use crate::error::{ModelError, Result};
use crate::registry::{EpochRow, RunSummary, Runs};
use crate::spec::RunSpec;

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

/// Early-stopping state, saved with each checkpoint.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct State {
    /// A text run's linear-probe validation value, where its fine-tuning started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<f64>,
    pub best_epoch: Option<usize>,
    pub best_value: Option<f64>,
    pub bad_epochs: usize,
    /// The run's first step loss: a later loss [`BLOW_UP`] times above it is divergence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_loss: Option<f64>,
}

/// How far above the first step's loss a loss may rise before the run counts as diverged
/// (a training that blows up without reaching NaN: Adam at a huge learning rate).
pub(crate) const BLOW_UP: f64 = 100.0;

/// How far a validation value may fall from the best so far (a ranking metric below
/// 1/COLLAPSE of its best, an error above COLLAPSE times its best) before the run counts as
/// diverged.
pub(crate) const COLLAPSE: f64 = 5.0;

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

    /// Whether a step's `loss` shows divergence: not finite, or [`BLOW_UP`] times the run's
    /// first loss. The first loss is remembered.
    pub fn blown_up(&mut self, loss: f64) -> bool {
        if !loss.is_finite() {
            return true;
        }
        match self.first_loss {
            Some(first) => first > 0.0 && loss > BLOW_UP * first,
            None => {
                self.first_loss = Some(loss);
                false
            }
        }
    }

    /// Whether an epoch's validation `value` collapsed against the best so far (see
    /// [`COLLAPSE`]).
    pub fn collapsed(&self, value: f64, higher_is_better: bool) -> bool {
        match self.best_value {
            _ if !value.is_finite() => true,
            Some(best) if higher_is_better => best > 0.0 && value < best / COLLAPSE,
            Some(best) => best > 0.0 && value > best * COLLAPSE,
            None => false,
        }
    }

    /// Whether `patience` epochs without a better value have passed (0: never).
    pub fn exhausted(&self, patience: usize) -> bool {
        patience > 0 && self.bad_epochs >= patience
    }
}

/// The random stream of one epoch: each epoch has its own seed, so a resumed run sees the
/// batches it would have seen.
pub(crate) fn epoch_rng(seed: u64, epoch: usize) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// The caller's side of a run: the workspace, where progress goes, and the cancel flag.
pub(crate) struct Caller<'a> {
    pub ws: &'a Workspace,
    pub on: &'a mut dyn FnMut(&Progress),
    pub cancel: &'a AtomicBool,
}

/// One session of one run: its registry row and folder, the device it trains on, the
/// epochs finished before (0 for a new run), and the caller's progress and cancel.
pub(crate) struct RunContext<'a> {
    pub runs: Runs<'a>,
    pub run_id: i64,
    /// The run's folder (`<workspace>.runs/run-<id>`).
    pub dir: PathBuf,
    pub device: Device,
    pub device_name: String,
    /// Epochs finished in earlier sessions: this one starts at `done + 1`.
    pub done: usize,
    on: &'a mut dyn FnMut(&Progress),
    cancel: &'a AtomicBool,
}

impl<'a> RunContext<'a> {
    /// Registers a new run of `spec` (status `running`) on `split` as `model`, and creates
    /// its folder.
    pub fn create(
        caller: Caller<'a>,
        spec: &RunSpec,
        (split, model): (&str, &str),
        (device, device_name): (Device, String),
    ) -> Result<Self> {
        let runs = Runs::new(caller.ws);
        let (run_id, dir) = runs.create(split, model, &spec.to_params(), &device_name)?;
        Ok(RunContext {
            runs,
            run_id,
            dir,
            device,
            device_name,
            done: 0,
            on: caller.on,
            cancel: caller.cancel,
        })
    }

    /// Reopens a stored run to continue it after its last finished epoch (status
    /// `running` again).
    pub fn reopen(
        caller: Caller<'a>,
        r: &RunSummary,
        (device, device_name): (Device, String),
    ) -> Result<Self> {
        let runs = Runs::new(caller.ws);
        runs.set_status(r.run_id, "running", None)?;
        Ok(RunContext {
            runs,
            run_id: r.run_id,
            dir: r.artifacts.clone(),
            device,
            device_name,
            done: r.epochs_done as usize,
            on: caller.on,
            cancel: caller.cancel,
        })
    }

    /// A file of the run's folder.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    pub fn report(&mut self, p: &Progress) {
        (self.on)(p);
    }

    /// Reports the start of training: `epochs` of `steps` each.
    pub fn started(&mut self, epochs: usize, steps: usize) {
        let p = Progress::Started {
            run_id: self.run_id,
            device: self.device_name.clone(),
            epochs,
            steps,
        };
        self.report(&p);
    }

    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Training seconds stored by earlier sessions.
    pub fn stored_seconds(&self) -> Result<f64> {
        Ok(self.runs.get(self.run_id)?.seconds)
    }

    /// Stores a finished epoch's row (with the run's epoch count) and reports it.
    pub fn record_epoch(&mut self, row: &EpochRow, epochs: usize) -> Result<()> {
        self.runs.epoch(self.run_id, row)?;
        self.report(&Progress::Epoch {
            epoch: row.epoch as usize,
            epochs,
            loss: row.loss.unwrap_or(f64::NAN),
            validation: row.metric.clone().zip(row.value),
            seconds: row.seconds,
        });
        Ok(())
    }

    /// Records how the session ended (see [`Runs::settle`]); `command` resumes it.
    pub fn settle(
        &self,
        ended: std::result::Result<(&str, usize), &ModelError>,
        command: &str,
    ) -> Result<()> {
        self.runs.settle(self.run_id, ended, command)
    }
}

/// A finished run's registry row and its spec.
pub(crate) fn finished(ws: &Workspace, run_id: i64) -> Result<(RunSummary, RunSpec)> {
    let r = Runs::new(ws).get(run_id)?;
    if r.status != "finished" {
        return Err(ModelError::NotFinished {
            run_id,
            status: r.status,
        });
    }
    let spec = stored_spec(&r)?;
    Ok((r, spec))
}

/// The spec stored with a run.
pub(crate) fn stored_spec(r: &RunSummary) -> Result<RunSpec> {
    RunSpec::from_params(&r.params)
        .map_err(|e| ModelError::Run(r.run_id, format!("stored parameters: {e}")))
}
