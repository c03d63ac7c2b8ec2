//! A scenario parameter swept: each value's scenario (all checked before the first runs) run
//! over the seeds and stored as a simulation named after the value; per value and policy,
//! conversion, revenue, margin (and regret, and the predicted conversion's MSE where there
//! are) with 95% intervals over the replicates.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;

use serde::Serialize;
use shoplab_sim::Estimate;
use shoplab_sim::sweep::ParamSweep;

use crate::job::{Job, JobEvent};
use crate::{EngineError, Result, Session};

/// One policy at one value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepPolicy {
    pub policy: String,
    /// Totals over the horizon, means over replicates (see `PolicyRun::summary`).
    pub metrics: BTreeMap<String, Estimate>,
}

/// One value of the parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepPoint {
    pub value: f64,
    pub sim_id: i64,
    pub policies: Vec<SweepPolicy>,
}

/// A finished (or stopped) sweep.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimSweepReport {
    pub name: String,
    pub path: String,
    pub seeds: u64,
    pub seconds: f64,
    /// False when it was stopped before its last value.
    pub complete: bool,
    pub points: Vec<SweepPoint>,
}

impl Session {
    /// Runs `sweep` over `scenario` (TOML text; `origin` names it in errors), `seeds`
    /// replicates per value when given, each value's replicates over `threads`. `on` hears
    /// each value when it is done and returns false to stop.
    pub fn simulate_sweep(
        &self,
        scenario: &str,
        origin: &str,
        sweep: &ParamSweep,
        seeds: Option<u64>,
        threads: usize,
        on: &mut dyn FnMut(usize, &SweepPoint) -> bool,
    ) -> Result<SimSweepReport> {
        let started = std::time::Instant::now();
        let mut points = sweep.scenarios(scenario, origin)?;
        for (_, _, s) in &mut points {
            if let Some(n) = seeds {
                s.seeds = n.max(1);
            }
        }
        let name = points
            .first()
            .map(|p| p.2.name.clone())
            .ok_or_else(|| EngineError::BadArgument("a sweep needs a value".into()))?;
        // Every value's world and models are built before the first runs.
        let markets = points
            .into_iter()
            .map(|(value, text, s)| Ok((value, text, self.scenario_market(s)?)))
            .collect::<Result<Vec<_>>>()?;
        let seeds = markets[0].2.scenario.seeds;
        let mut done = Vec::new();
        let total = markets.len();
        for (value, text, market) in markets {
            let t = std::time::Instant::now();
            let runs = market.run(threads)?;
            let summaries: Vec<SweepPolicy> = runs
                .iter()
                .map(|r| SweepPolicy {
                    policy: r.policy.clone(),
                    metrics: r
                        .summary()
                        .into_iter()
                        .map(|(k, e)| (k.to_string(), e))
                        .collect(),
                })
                .collect();
            let mut named = market.scenario.clone();
            named.name = format!("{name} · {}={value}", sweep.path);
            let stored = self.store_runs(&text, &named, t.elapsed().as_secs_f64(), runs)?;
            let point = SweepPoint {
                value,
                sim_id: stored.sim_id,
                policies: summaries,
            };
            let go_on = on(done.len() + 1, &point);
            done.push(point);
            if !go_on && done.len() < total {
                break;
            }
        }
        Ok(SimSweepReport {
            name,
            path: sweep.path.clone(),
            seeds,
            seconds: started.elapsed().as_secs_f64(),
            complete: done.len() == total,
            points: done,
        })
    }

    /// [`Session::simulate_sweep`] on a thread of its own: a stage per value, cancel stops
    /// after the value running.
    pub fn simulate_sweep_job(
        &self,
        scenario: String,
        origin: String,
        sweep: ParamSweep,
        seeds: Option<u64>,
        threads: usize,
    ) -> Result<Job<SimSweepReport>> {
        // Checked here, so a bad sweep is an error of the call, not of the job.
        sweep.scenarios(&scenario, &origin)?;
        let session = self.try_clone()?;
        let total = sweep.values.len();
        Ok(Job::spawn(
            format!("sweep of {}", sweep.path),
            None,
            move |tx: &SyncSender<JobEvent>, cancel: &AtomicBool| {
                let _ = tx.try_send(JobEvent::Stage(format!(
                    "{}={} (1 of {total})",
                    sweep.path, sweep.values[0]
                )));
                session.simulate_sweep(&scenario, &origin, &sweep, seeds, threads, &mut |n, _| {
                    let _ = tx.try_send(JobEvent::Progress(n as f64 / total as f64));
                    if let Some(v) = sweep.values.get(n) {
                        let _ = tx.try_send(JobEvent::Stage(format!(
                            "{}={v} ({} of {total})",
                            sweep.path,
                            n + 1
                        )));
                    }
                    !cancel.load(Ordering::Relaxed)
                })
            },
        ))
    }
}
