//! The plumbing every import path shares: the names of its scratch tables, the transaction
//! around it, how its errors read, and its timing trace.

use std::path::Path;
use std::time::Instant;

use crate::error::{DataError, Result};
use crate::source::first_lines;
use crate::workspace::Workspace;

/// The staging table: canonical columns, `__extra`, `_reason`, `_raw`, one row per record.
pub(super) const STAGE: &str = "_shoplab_stage";
/// The CSV reader's rejects: one row per error.
pub(super) const REJ_ERR: &str = "_shoplab_rej_err";
/// The CSV reader's scans (which file, which options).
pub(super) const REJ_SCAN: &str = "_shoplab_rej_scan";

/// With `SHOPLAB_TRACE` set, prints how long each step of an import took (stderr).
pub(super) fn trace(step: &str, since: Instant) {
    if std::env::var_os("SHOPLAB_TRACE").is_some() {
        eprintln!("[import] {step}: {:.3} s", since.elapsed().as_secs_f64());
    }
}

impl Workspace {
    /// Runs `work` in a transaction: commits when it returns `Some`, rolls back on `None` or
    /// an error; the scratch tables are dropped either way.
    pub(super) fn in_transaction<T>(
        &self,
        path: &Path,
        work: impl FnOnce() -> Result<Option<T>>,
    ) -> Result<Option<T>> {
        let conn = self.connection();
        conn.execute_batch("BEGIN TRANSACTION")?;
        let result = match work() {
            Ok(Some(v)) => conn
                .execute_batch("COMMIT")
                .map(|()| Some(v))
                .map_err(|e| import_failed(path, e.to_string())),
            Ok(None) => conn
                .execute_batch("ROLLBACK")
                .map(|()| None)
                .map_err(DataError::from),
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(import_error(path, e))
            }
        };
        self.drop_scratch();
        result
    }

    /// Starts writing the blocks an insert just wrote to the workspace file to disk, on a
    /// thread of its own that waits for the disk, while the import goes on computing: the
    /// commit's own flush (`fsync`) then finds them written. That wait was 0.1 s after a
    /// 10M-event insert, with both cores idle.
    pub(super) fn write_back_early(&self) {
        let path = self.path().to_path_buf();
        std::thread::spawn(move || {
            // Nothing depends on it: the commit flushes what is left either way.
            if let Ok(file) = std::fs::File::open(&path) {
                let _ = file.sync_data();
            }
        });
    }

    /// Drops the scratch tables.
    pub(super) fn drop_scratch(&self) {
        let _ = self.connection().execute_batch(&format!(
            "DROP TABLE IF EXISTS temp.{STAGE}; DROP TABLE IF EXISTS temp.{REJ_ERR}; DROP TABLE IF EXISTS temp.{REJ_SCAN};"
        ));
    }
}

/// How an error met while importing reaches the user: a cancel, or a failure naming the file.
pub(super) fn import_error(path: &Path, e: DataError) -> DataError {
    match e {
        DataError::Db(db) => {
            let msg = db.to_string();
            if msg.contains("INTERRUPT") || msg.contains("Interrupted") {
                DataError::Cancelled
            } else {
                import_failed(path, first_lines(&msg, 4))
            }
        }
        DataError::BadInput { message, .. } => import_failed(path, message),
        other => other,
    }
}

pub(super) fn import_failed(path: &Path, message: String) -> DataError {
    DataError::ImportFailed {
        path: path.to_path_buf(),
        message,
    }
}

/// The database's clock, as the `imports` row records it.
pub(super) fn chrono_now(conn: &duckdb::Connection) -> Result<String> {
    Ok(conn.query_row(
        "SELECT CAST(CAST(now() AS TIMESTAMP) AS VARCHAR)",
        [],
        |r| r.get(0),
    )?)
}
