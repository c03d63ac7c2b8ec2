//! Sweeps: a queue of training runs over a grid or a random draw of hyper-parameters, each
//! trial a normal run tagged with the sweep's name, and the reading of many runs at once
//! (groups over seeds, parameter importance) that a sweep is made for.

use std::sync::Arc;
use std::sync::Mutex;

use shoplab_model::{Progress, SweepSpec, TrainConfig, TrainOutcome};

use crate::job::{Job, JobEvent};
use crate::{Result, RunSummary, Session};

/// A planned sweep: its tag and every trial's configuration, checked before any runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    /// Every trial's run gets this tag (`sweep-3` unless one is given).
    pub tag: String,
    pub trials: Vec<TrainConfig>,
}

impl Sweep {
    /// What trial `i` sets, in words (`factors=64 lr=0.05 seed=2`): the options that vary
    /// between the trials.
    pub fn describe(&self, i: usize) -> String {
        let Some(t) = self.trials.get(i) else {
            return String::new();
        };
        let json = |c: &TrainConfig| serde_json::to_value(c).unwrap_or_default();
        let all: Vec<serde_json::Value> = self.trials.iter().map(json).collect();
        let mine = json(t);
        let Some(obj) = mine.as_object() else {
            return String::new();
        };
        obj.iter()
            .filter(|(k, v)| all.iter().any(|o| o.get(k.as_str()) != Some(*v)))
            .map(|(k, v)| format!("{}={v}", k.replace('_', "-")))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl Session {
    /// Plans a sweep: expands and checks every trial (nothing is recorded when one is
    /// refused) and names it: `tag`, or `sweep-N`, the first number no run's tag has.
    pub fn plan_sweep(&self, spec: &SweepSpec, tag: Option<&str>) -> Result<Sweep> {
        let trials = spec.trials()?;
        let tag = match tag.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => t.to_string(),
            None => {
                let runs = self.runs()?;
                let taken = |n: usize| {
                    let name = format!("sweep-{n}");
                    runs.iter().any(|r| r.tags.contains(&name))
                };
                let n = (1..).find(|n| !taken(*n)).expect("some number is free");
                format!("sweep-{n}")
            }
        };
        Ok(Sweep { tag, trials })
    }

    /// Trains trial `i` of `sweep` on a background thread (as [`Session::train_job`]) and
    /// tags its run with the sweep's name, also when it is cancelled or fails.
    pub fn sweep_trial_job(&self, sweep: &Sweep, i: usize) -> Result<Job<TrainOutcome>> {
        let cfg = sweep.trials.get(i).cloned().ok_or_else(|| {
            crate::EngineError::BadArgument(format!(
                "trial {} of a sweep of {}",
                i + 1,
                sweep.trials.len()
            ))
        })?;
        let ws = self.ws.try_clone()?;
        let tag = sweep.tag.clone();
        let name = format!(
            "{} trial {}/{}: {}",
            sweep.tag,
            i + 1,
            sweep.trials.len(),
            sweep.describe(i)
        );
        Ok(Job::spawn(name, None, move |tx, cancel| {
            let started = Arc::new(Mutex::new(None));
            let seen = started.clone();
            let mut on = |p: &Progress| {
                if let Progress::Started { run_id, .. } = p {
                    *seen.lock().expect("not poisoned") = Some(*run_id);
                }
                let _ = tx.try_send(JobEvent::Train(p.clone()));
            };
            let result = shoplab_model::train(&ws, &cfg, &mut on, cancel);
            let run = *started.lock().expect("not poisoned");
            if let Some(run_id) = run {
                shoplab_model::Runs::new(&ws).set_tags(run_id, &[tag])?;
            }
            Ok(result?)
        }))
    }

    /// The runs of a sweep (those tagged `tag`), in run order.
    pub fn sweep_runs(&self, tag: &str) -> Result<Vec<RunSummary>> {
        Ok(self
            .runs()?
            .into_iter()
            .filter(|r| r.tags.iter().any(|t| t == tag))
            .collect())
    }
}
