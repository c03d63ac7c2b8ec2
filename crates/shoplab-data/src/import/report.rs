//! The import's bookkeeping: its `imports` row, the report it returns, the earlier
//! imports it is checked against (idempotence), and the pseudonym salt.

use std::path::PathBuf;

use duckdb::params;

use crate::canonical::Target;
use crate::error::Result;
use crate::mapping::Mapping;
use crate::quality::{Finding, ValueChecks};
use crate::workspace::Workspace;

use super::context::Run;

/// One rejected row.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Reject {
    pub line: Option<u64>,
    pub column: Option<String>,
    pub reason: String,
    pub raw: Option<String>,
}

/// What an import did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImportReport {
    pub import_id: i64,
    pub file: PathBuf,
    pub format: String,
    pub target: Target,
    pub rows_read: u64,
    pub rows_loaded: u64,
    pub rows_rejected: u64,
    pub rows_duplicate: u64,
    /// Items created or completed from the attributes an event log carries.
    pub items_upserted: u64,
    /// True when the same content was imported before: nothing was loaded again.
    pub already_imported: bool,
    pub seconds: f64,
    /// The first rejected rows.
    pub rejects: Vec<Reject>,
    /// An event log's refunds, guest rows and suspicious values (all zero for other tables).
    pub checks: ValueChecks,
    /// The non-zero checks, each with the query listing its rows.
    pub findings: Vec<Finding>,
    pub mapping: Mapping,
}

impl ImportReport {
    /// The report for a file whose content was imported before: nothing loaded again.
    pub(super) fn already_imported(run: &Run, prev: Previous) -> Self {
        ImportReport {
            import_id: prev.import_id,
            file: run.src.path.clone(),
            format: run.mapping.format.clone(),
            target: run.mapping.target,
            rows_read: prev.rows_read,
            rows_loaded: prev.rows_loaded,
            rows_rejected: prev.rows_rejected,
            rows_duplicate: 0,
            items_upserted: 0,
            already_imported: true,
            seconds: run.started.elapsed().as_secs_f64(),
            rejects: Vec::new(),
            checks: ValueChecks::default(),
            findings: Vec::new(),
            mapping: run.mapping.clone(),
        }
    }
}

const REJECTS_SHOWN: usize = 20;

/// Row counts of one import.
pub(super) struct Counts {
    pub(super) read: u64,
    pub(super) loaded: u64,
    pub(super) rejected: u64,
    pub(super) duplicate: u64,
    pub(super) items_upserted: u64,
}

/// An earlier import of the same content.
pub(super) struct Previous {
    import_id: i64,
    rows_loaded: u64,
    rows_read: u64,
    rows_rejected: u64,
}

impl Workspace {
    /// Whether a file of `bytes` bytes was imported before.
    pub(super) fn imported_a_file_of(&self, bytes: u64) -> Result<bool> {
        Ok(self.connection().query_row(
            "SELECT count(*) > 0 FROM imports WHERE file_bytes = ?",
            params![bytes as i64],
            |r| r.get(0),
        )?)
    }

    /// The id the next import gets.
    pub(super) fn next_import_id(&self) -> Result<i64> {
        Ok(self.connection().query_row(
            "SELECT coalesce(max(import_id), 0) + 1 FROM imports",
            [],
            |r| r.get(0),
        )?)
    }

    /// The first import of the same content into the same table.
    pub(super) fn find_import(&self, hash: &str, target: Target) -> Result<Option<Previous>> {
        let mut stmt = self.connection().prepare(
            "SELECT import_id, rows_loaded, rows_read, rows_rejected FROM imports WHERE file_hash = ? AND target = ? ORDER BY import_id LIMIT 1",
        )?;
        let mut rows = stmt.query(params![hash, target.table()])?;
        Ok(match rows.next()? {
            Some(r) => Some(Previous {
                import_id: r.get(0)?,
                rows_loaded: r.get::<_, i64>(1)? as u64,
                rows_read: r.get::<_, i64>(2)? as u64,
                rows_rejected: r.get::<_, i64>(3)? as u64,
            }),
            None => None,
        })
    }

    /// The workspace's pseudonym salt, made on first use.
    pub(super) fn pseudonym_salt(&self) -> Result<String> {
        if let Some(s) = self.meta("pseudonym_salt")? {
            return Ok(s);
        }
        let salt: String = self.connection().query_row(
            "SELECT replace(CAST(uuid() AS VARCHAR), '-', '')",
            [],
            |r| r.get(0),
        )?;
        self.set_meta("pseudonym_salt", &salt)?;
        Ok(salt)
    }

    /// Writes the `imports` row and builds the report.
    pub(super) fn record_import(
        &self,
        run: &Run,
        hash: &str,
        (import_id, started_at): (i64, &str),
        n: Counts,
    ) -> Result<ImportReport> {
        let (src, mapping) = (run.src, run.mapping);
        let checks = match mapping.target {
            Target::Events => ValueChecks::of_import(self, import_id)?,
            Target::Items | Target::Users | Target::BanditLog | Target::Reviews => {
                ValueChecks::default()
            }
        };
        super::scratch::trace("value checks", run.started);
        self.connection().execute(
            "INSERT INTO imports (import_id, file, file_hash, file_bytes, format, target, mapping, rows_read,
                                  rows_loaded, rows_rejected, rows_duplicate, pseudonymized, started_at, finished_at,
                                  rows_refund, rows_guest, rows_zero_price, rows_far_time, rows_repeated)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS TIMESTAMP), CAST(now() AS TIMESTAMP), ?, ?, ?, ?, ?)",
            params![
                import_id,
                src.path.to_string_lossy().to_string(),
                hash,
                src.bytes as i64,
                mapping.format,
                mapping.target.table(),
                mapping.to_toml(),
                n.read as i64,
                n.loaded as i64,
                n.rejected as i64,
                n.duplicate as i64,
                run.salt.is_some(),
                started_at,
                checks.refunds as i64,
                checks.guest_rows as i64,
                checks.zero_prices as i64,
                checks.far_times as i64,
                checks.repeated as i64,
            ],
        )?;
        Ok(ImportReport {
            import_id,
            file: src.path.clone(),
            format: mapping.format.clone(),
            target: mapping.target,
            rows_read: n.read,
            rows_loaded: n.loaded,
            rows_rejected: n.rejected,
            rows_duplicate: n.duplicate,
            items_upserted: n.items_upserted,
            already_imported: false,
            seconds: run.started.elapsed().as_secs_f64(),
            rejects: self.rejects(import_id, REJECTS_SHOWN)?,
            checks,
            findings: checks.findings(Some(import_id)),
            mapping: mapping.clone(),
        })
    }
}
