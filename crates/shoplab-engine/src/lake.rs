//! A shop's log in a lake: the workspace's tables written as hive-partitioned Parquet for
//! the lake, and the event log's profile computed on Apache Spark through Spark Connect
//! (`shoplab-spark`): only the figures come back, stored in `profiles` with where they were
//! computed; the hashed split computed there, its rows stored as the workspace's own split.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use shoplab_data::import::{ImportOptions, ImportReport};
use shoplab_data::lake::LakeTable;
use shoplab_data::profile::Profile;
use shoplab_data::split::{SplitSpec, SplitSummary};
use shoplab_spark::Lake;

use crate::{CalibrateOptions, CalibrationReport, Job, JobEvent, Result, Session};

impl Session {
    /// Writes the events (partitioned by `partition_by`), items and users under `dir` as
    /// Parquet (see [`shoplab_data::lake`]).
    pub fn export_lake(&self, dir: &Path, partition_by: &[String]) -> Result<Vec<LakeTable>> {
        Ok(self.ws.export_lake(dir, partition_by)?)
    }

    /// The event log at `path` profiled on the Spark Connect server at `remote` (`step`
    /// hears each step as it starts; setting `stop` cancels the running query on the
    /// cluster), stored in this workspace's `profiles`.
    pub fn profile_on_spark(
        &self,
        remote: &str,
        path: &str,
        step: &mut dyn FnMut(&str),
        stop: &AtomicBool,
    ) -> Result<Profile> {
        let profile = on_lake(Lake::open(remote, path)?, stop, |lake| {
            Ok(lake.profile(step)?)
        })?;
        self.ws.store_profile(&profile)?;
        Ok(profile)
    }

    /// The hashed split `spec` of the event log at `path`, computed on the Spark Connect
    /// server at `remote` and stored in this workspace (`splits`, `split_interactions`) with
    /// where it was computed: the rows and parts `create_split` gives for the same events.
    pub fn split_on_spark(
        &self,
        remote: &str,
        path: &str,
        spec: &SplitSpec,
        step: &mut dyn FnMut(&str),
        stop: &AtomicBool,
    ) -> Result<SplitSummary> {
        spec.check()?;
        let (origin, rows) = on_lake(Lake::open(remote, path)?, stop, |lake| {
            Ok((lake.origin(), lake.split(spec, step)?))
        })?;
        Ok(self.ws.store_computed_split(spec, &origin, &rows)?)
    }

    /// The simulator fitted to the sessions of the event log at `path`, computed on the
    /// Spark Connect server at `remote` (one row per session and item comes back; the
    /// workspace's catalog is joined here), stored as a new calibration whose origin says
    /// where its sessions were computed.
    pub fn calibrate_on_spark(
        &self,
        remote: &str,
        path: &str,
        (opts, run): (&CalibrateOptions, Option<i64>),
        step: &mut dyn FnMut(&str),
        stop: &AtomicBool,
    ) -> Result<CalibrationReport> {
        let (origin, sessions) = on_lake(Lake::open(remote, path)?, stop, |lake| {
            Ok((lake.origin(), lake.choice_sessions(step)?))
        })?;
        step("fitting");
        let rows = shoplab_data::simlab::choice_rows_from(&self.ws, &sessions)?;
        self.calibrate_log(crate::simulate::choice_log(rows), opts, run, Some(&origin))
    }

    /// The events file at `path` (the server's: CSV or Parquet) imported through the Spark
    /// Connect server at `remote`: its first records come here for the mapping to be
    /// recognized (or `opts.mapping` is used), every record is read and checked on the
    /// cluster by the staging query in Spark's SQL, and the staged records are loaded here
    /// as a local import's are (rejects with their reason and, for CSV, line), recorded
    /// with where it ran. Nothing changes on failure.
    pub fn import_on_spark(
        &self,
        remote: &str,
        path: &str,
        opts: &ImportOptions,
        step: &mut dyn FnMut(&str),
        stop: &AtomicBool,
    ) -> Result<ImportReport> {
        on_lake(Lake::connect(remote)?, stop, |lake| {
            Ok(lake.import(&self.ws, path, opts, step)?)
        })
    }
}

/// Runs `job` on `lake`, cancelling its query on the cluster when `stop` is set.
fn on_lake<T: Send>(
    lake: Lake,
    stop: &AtomicBool,
    job: impl FnOnce(&Lake) -> Result<T>,
) -> Result<T> {
    let canceller = lake.canceller();
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                if stop.load(Ordering::Relaxed) {
                    canceller.cancel();
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let out = job(&lake);
        done.store(true, Ordering::Relaxed);
        out
    })
}

/// A workspace step sent to a Spark cluster (see the `*_on_spark` methods).
#[derive(Debug, Clone)]
pub enum SparkTask {
    Profile,
    Import(ImportOptions),
    /// A hashed split.
    Split(SplitSpec),
    Calibrate(CalibrateOptions),
}

impl SparkTask {
    /// The step in words.
    pub fn describe(&self) -> String {
        match self {
            SparkTask::Profile => "the profile".into(),
            SparkTask::Import(_) => "the import".into(),
            SparkTask::Split(s) => format!("the hashed split {}", s.name),
            SparkTask::Calibrate(_) => "the calibration's sessions".into(),
        }
    }
}

/// What a [`SparkTask`] stored in the workspace.
#[derive(Debug, Clone)]
pub enum SparkOutcome {
    Profiled(Box<Profile>),
    Imported(Box<ImportReport>),
    Split(SplitSummary),
    Calibrated(Box<CalibrationReport>),
}

impl Session {
    /// Runs `task` on the Spark Connect server at `remote` over the events at `path`, on a
    /// job of its own (each step it starts is a [`crate::JobEvent::Stage`]; cancelling the
    /// job cancels the query on the cluster).
    pub fn spark_job(
        &self,
        remote: String,
        path: String,
        task: SparkTask,
    ) -> Result<Job<SparkOutcome>> {
        let session = self.try_clone()?;
        Ok(Job::spawn(
            format!("{} on Spark", task.describe()),
            None,
            move |tx, stop| {
                let mut step = |s: &str| {
                    let _ = tx.try_send(JobEvent::Stage(s.to_string()));
                };
                let (remote, path) = (remote.as_str(), path.as_str());
                Ok(match task {
                    SparkTask::Profile => SparkOutcome::Profiled(Box::new(
                        session.profile_on_spark(remote, path, &mut step, stop)?,
                    )),
                    SparkTask::Import(opts) => SparkOutcome::Imported(Box::new(
                        session.import_on_spark(remote, path, &opts, &mut step, stop)?,
                    )),
                    SparkTask::Split(spec) => SparkOutcome::Split(
                        session.split_on_spark(remote, path, &spec, &mut step, stop)?,
                    ),
                    SparkTask::Calibrate(opts) => SparkOutcome::Calibrated(Box::new(
                        session.calibrate_on_spark(remote, path, (&opts, None), &mut step, stop)?,
                    )),
                })
            },
        ))
    }
}
