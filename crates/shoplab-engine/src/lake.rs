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

use crate::{CalibrateOptions, CalibrationReport, Result, Session};

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
