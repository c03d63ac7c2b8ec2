//! The staging path: the file read once into a temporary table, every record with its
//! canonical values and, where a check failed, its reject reason; then loaded and
//! accounted for in one transaction.

use crate::error::{DataError, Result};
use crate::interaction::Row;
use crate::mapping::Mapping;
use crate::source::{FileKind, Source};
use crate::workspace::Workspace;

use super::context::Run;
use super::hashing::Hashing;
use super::plan::StagePlan;
use super::report::{Counts, ImportReport};
use super::scratch::{REJ_ERR, REJ_SCAN, STAGE, chrono_now, import_error, import_failed, trace};

impl Workspace {
    /// Imports the run through the staging table, unless its content was imported before.
    pub(super) fn import_through_staging(
        &self,
        run: &Run,
        hashing: &mut Hashing,
        dedupe: bool,
    ) -> Result<ImportReport> {
        let hash = hashing.wait()?.to_string();
        trace("hash", run.started);
        if let Some(prev) = self.find_import(&hash, run.mapping.target)? {
            return Ok(ImportReport::already_imported(run, prev));
        }
        // Read the file into a temporary staging table (not part of the workspace file),
        // then load it in one transaction.
        if let Err(e) = self.stage(run.src, &run.plan) {
            self.drop_scratch();
            return Err(e);
        }
        self.in_transaction(&run.src.path, || {
            self.load_staged_run(run, &hash, dedupe).map(Some)
        })?
        .ok_or_else(|| import_failed(&run.src.path, "nothing was loaded".into()))
    }

    /// Reads the file into the staging table.
    fn stage(&self, src: &Source, plan: &StagePlan) -> Result<()> {
        self.connection()
            .execute_batch(&format!(
                "DROP TABLE IF EXISTS temp.{STAGE}; DROP TABLE IF EXISTS temp.{REJ_ERR}; DROP TABLE IF EXISTS temp.{REJ_SCAN}; {}",
                plan.stage_sql()
            ))
            .map_err(|e| import_error(&src.path, src.read_error(e)))
    }

    /// Loads the staged rows, keeps the rejects and writes the `imports` row.
    pub(super) fn load_staged_run(
        &self,
        run: &Run,
        hash: &str,
        dedupe: bool,
    ) -> Result<ImportReport> {
        let (src, mapping) = (run.src, run.mapping);
        let conn = self.connection();
        let started_at = chrono_now(conn)?;
        let import_id = self.next_import_id()?;
        let staged: i64 =
            conn.query_row(&format!("SELECT count(*) FROM {STAGE}"), [], |r| r.get(0))?;
        if let Some(key) = mapping.target.unique_key() {
            self.reject_repeated_ids(key)?;
        }
        let (loaded, items_upserted) = self.load_staged(mapping, import_id, dedupe)?;
        self.write_back_early();
        let ok: i64 = conn.query_row(
            &format!("SELECT count(*) FROM {STAGE} WHERE _reason IS NULL"),
            [],
            |r| r.get(0),
        )?;
        let duplicates = (ok as u64).saturating_sub(loaded);

        // Rows the CSV reader itself refused (wrong column count, bad bytes, over-long lines).
        let structural_lines = self.structural_rejects(src, import_id)?;
        let semantic = self.semantic_rejects(src, import_id, &structural_lines)?;
        let rejected = semantic + structural_lines.len() as u64;
        let rows_read = staged as u64 + structural_lines.len() as u64;

        self.record_import(
            run,
            hash,
            (import_id, &started_at),
            Counts {
                read: rows_read,
                loaded,
                rejected,
                duplicate: duplicates,
                items_upserted,
            },
        )
    }

    /// Items and users: one row per id; later repeats of an id (the canonical column
    /// `col`) are rejected.
    fn reject_repeated_ids(&self, col: &str) -> Result<()> {
        let key = format!("__c_{col}");
        self.connection().execute_batch(&format!(
            "UPDATE {STAGE} SET _reason = '{col}: repeats an id seen on an earlier row' WHERE rowid IN (
               SELECT rid FROM (SELECT rowid AS rid, row_number() OVER (PARTITION BY {key} ORDER BY rowid) AS k
                                FROM {STAGE} WHERE _reason IS NULL AND {key} IS NOT NULL) WHERE k > 1)"
        ))?;
        Ok(())
    }

    /// Reads a file through the staging query only, for data that is not loaded into a table
    /// (split files): (user, item, value, time in µs). Any rejected row is an error.
    pub(crate) fn stage_rows(&self, src: &Source, mapping: &Mapping) -> Result<Vec<Row>> {
        let conn = self.connection();
        let plan = StagePlan::new(src, mapping, None);
        let result = (|| -> Result<Vec<Row>> {
            self.stage(src, &plan)?;
            if src.kind == FileKind::Csv {
                let mut stmt = conn.prepare(&format!(
                    "SELECT line, error_message FROM {REJ_ERR} ORDER BY line LIMIT 1"
                ))?;
                let mut rows = stmt.query([])?;
                if let Some(r) = rows.next()? {
                    return Err(DataError::BadLine {
                        path: src.path.clone(),
                        line: r.get::<_, i64>(0)? as u64,
                        message: r.get(1)?,
                    });
                }
            }
            let mut stmt = conn.prepare(&format!("SELECT rowid, _reason FROM {STAGE} WHERE _reason IS NOT NULL ORDER BY rowid LIMIT 1"))?;
            let mut rows = stmt.query([])?;
            if let Some(r) = rows.next()? {
                let base = src
                    .dialect
                    .as_ref()
                    .map(|d| d.skip + u64::from(d.header))
                    .unwrap_or(0);
                return Err(DataError::BadLine {
                    path: src.path.clone(),
                    line: base + r.get::<_, i64>(0)? as u64 + 1,
                    message: r.get(1)?,
                });
            }
            let mut stmt = conn.prepare(&format!(
                "SELECT __c_user_id, __c_item_id, __c_value, epoch_us(__c_event_time) FROM {STAGE} ORDER BY __c_user_id, __c_event_time, __c_item_id"
            ))?;
            let rows = Row::read_all(&mut stmt)?;
            Ok(rows)
        })();
        self.drop_scratch();
        result
    }
}
