//! The single pass: a CSV (plain or compressed) or Parquet event log read once, typed, straight into `events`, with
//! every check raising an error. A file with anything to reject falls back to staging
//! (the transaction is rolled back), which gives each reject its line and reason.

use crate::canonical::Target;
use crate::error::Result;
use crate::source::FileKind;
use crate::workspace::Workspace;

use super::context::Run;
use super::hashing::Hashing;
use super::load::{event_items_of, insert_events_sql, upsert_event_items_sql};
use super::plan::STRICT_MARK;
use super::report::{Counts, ImportReport};
use super::scratch::{REJ_ERR, REJ_SCAN, chrono_now, import_error, trace};

impl Workspace {
    /// Whether the run may try the single pass: a CSV (plain or compressed) or Parquet
    /// event log without `--dedupe`, whose size no earlier import had (else its hash is awaited first).
    pub(super) fn single_pass_fits(&self, run: &Run, dedupe: bool) -> Result<bool> {
        let src = run.src;
        Ok(run.mapping.target == Target::Events
            && !dedupe
            && matches!(src.kind, FileKind::Csv | FileKind::Parquet)
            && !self.imported_a_file_of(src.bytes)?)
    }

    /// Loads the file in a single pass, in its own transaction. `None` when it has rows to
    /// reject (nothing was kept; staging follows); the earlier import's report when the
    /// content turns out to have been imported before.
    pub(super) fn import_in_one_pass(
        &self,
        run: &Run,
        hashing: &mut Hashing,
    ) -> Result<Option<ImportReport>> {
        let mut found = None;
        let loaded = self.in_transaction(&run.src.path, || {
            let Some((import_id, started_at, counts)) = self.load_in_one_pass(run)? else {
                return Ok(None);
            };
            let hash = hashing.wait()?;
            trace("hash", run.started);
            found = self.find_import(hash, run.mapping.target)?;
            if found.is_some() {
                return Ok(None);
            }
            self.record_import(run, hash, (import_id, started_at.as_str()), counts)
                .map(Some)
        })?;
        trace("single pass", run.started);
        if let Some(prev) = found {
            return Ok(Some(ImportReport::already_imported(run, prev)));
        }
        Ok(loaded)
    }

    /// Loads an event log straight into `events`. Returns `None` (and the caller rolls back)
    /// when the file has rows to reject, which need the staging path's line numbers.
    fn load_in_one_pass(&self, run: &Run) -> Result<Option<(i64, String, Counts)>> {
        let (src, mapping, plan) = (run.src, run.mapping, &run.plan);
        let conn = self.connection();
        let started_at = chrono_now(conn)?;
        let import_id = self.next_import_id()?;
        conn.execute_batch(&format!(
            "DROP TABLE IF EXISTS temp.{REJ_ERR}; DROP TABLE IF EXISTS temp.{REJ_SCAN};"
        ))?;
        let insert = insert_events_sql(import_id, &format!("({})", plan.strict_rows_sql()), false);
        if std::env::var("SHOPLAB_TRACE").is_ok_and(|v| v == "sql") {
            eprintln!("[import] {insert}");
        }
        // A Parquet file read in its own order leaves every row group of the table a full
        // one and a sliver (DuckDB cuts at the file's row groups), which the checkpoint at
        // close then merges, rewriting the whole table; read in any order, the row groups
        // come out full. A CSV keeps its order (its rows are cut into full row groups
        // anyway, and the order costs it no time).
        let any_order = src.kind == FileKind::Parquet;
        if any_order {
            conn.execute_batch("SET preserve_insertion_order = false")?;
        }
        let inserted = conn.execute(&insert, []);
        if any_order {
            conn.execute_batch("RESET preserve_insertion_order")?;
        }
        let loaded = match inserted {
            Ok(n) => n as u64,
            // A row a check would reject: the staging path gives it its line and reason.
            Err(e) if e.to_string().contains(STRICT_MARK) => return Ok(None),
            Err(e) => return Err(import_error(&src.path, src.read_error(e))),
        };
        trace("events inserted", run.started);
        self.write_back_early();
        // A value the typed reader could not read: the staging path says which and why.
        let unreadable: i64 = match src.kind {
            FileKind::Csv => conn.query_row(
                &format!(
                    "SELECT count(*) FROM {REJ_ERR} WHERE CAST(error_type AS VARCHAR) = 'CAST'"
                ),
                [],
                |r| r.get(0),
            )?,
            FileKind::Parquet | FileKind::Ndjson => 0,
        };
        if unreadable > 0 {
            return Ok(None);
        }
        let items_from = if mapping.columns.contains_key("item_title") {
            format!("({})", plan.item_attrs_sql(src))
        } else {
            event_items_of(import_id)
        };
        let items_upserted =
            conn.execute(&upsert_event_items_sql(import_id, &items_from), [])? as u64;
        trace("items upserted", run.started);
        let structural_lines = self.structural_rejects(src, import_id)?;
        let rows_read = loaded + structural_lines.len() as u64;
        let rejected = structural_lines.len() as u64;
        let counts = Counts {
            read: rows_read,
            loaded,
            rejected,
            duplicate: 0,
            items_upserted,
        };
        Ok(Some((import_id, started_at, counts)))
    }
}
