//! Importing an export into the workspace: atomic (one transaction), idempotent (content
//! hash), honest (rows read / loaded / rejected, each rejected row kept with line and reason).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Instant;

use duckdb::params;

use crate::error::{DataError, Result};
use crate::mapping::{self, Column, Mapping, Parse, Target};
use crate::schema::EVENT_TYPES;
use crate::source::{FileKind, Source, first_lines, lit};
use crate::interaction::Row;
use crate::timestamps::timestamp_expr;
use crate::workspace::Workspace;

/// What the user asked of an import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// Restrict recognition to one target table.
    pub kind: Option<Target>,
    /// Use this mapping instead of the recognized one.
    pub mapping: Option<Mapping>,
    /// Replace user ids by a salted hash (the salt is kept in the workspace's `shoplab_meta`).
    pub pseudonymize: bool,
    /// Drop rows that repeat an earlier row exactly.
    pub dedupe: bool,
}

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
    pub mapping: Mapping,
}

const STAGE: &str = "_shoplab_stage";
const REJ_ERR: &str = "_shoplab_rej_err";
const REJ_SCAN: &str = "_shoplab_rej_scan";
const REJECTS_SHOWN: usize = 20;
/// Marks the errors raised by the single pass's strict conversions.
const STRICT_MARK: &str = "shoplab-strict-check:";

/// With `SHOPLAB_TRACE` set, prints how long each step of an import took (stderr).
fn trace(step: &str, since: Instant) {
    if std::env::var_os("SHOPLAB_TRACE").is_some() {
        eprintln!("[import] {step}: {:.3} s", since.elapsed().as_secs_f64());
    }
}

impl Workspace {
    /// Looks at a file and proposes a mapping, without importing anything.
    pub fn inspect_file(&self, path: &Path, opts: &ImportOptions) -> Result<(Source, Mapping)> {
        match &opts.mapping {
            Some(m) => {
                let src = Source::inspect_with(
                    self.connection(),
                    path,
                    m.csv.as_ref(),
                    m.encoding.as_deref(),
                )?;
                m.validate(&src)?;
                Ok((src, m.clone()))
            }
            None => {
                let src = Source::inspect(self.connection(), path)?;
                let m = mapping::detect(self.connection(), &src, opts.kind)?;
                Ok((src, m))
            }
        }
    }

    /// Imports `path`. On any error the workspace is left exactly as it was.
    pub fn import(&self, path: &Path, opts: &ImportOptions) -> Result<ImportReport> {
        let started = Instant::now();
        // The content hash (idempotence) is computed on its own thread while the file is
        // inspected and, in a single pass, loaded.
        let mut hashing = Hashing::start(path);
        let (src, mapping) = self.inspect_file(path, opts)?;
        trace("inspect and recognize", started);
        let already = |(import_id, rows_loaded, rows_read, rows_rejected)| ImportReport {
            import_id,
            file: path.to_path_buf(),
            format: mapping.format.clone(),
            target: mapping.target,
            rows_read,
            rows_loaded,
            rows_rejected,
            rows_duplicate: 0,
            items_upserted: 0,
            already_imported: true,
            seconds: started.elapsed().as_secs_f64(),
            rejects: Vec::new(),
            mapping: mapping.clone(),
        };
        let salt = if opts.pseudonymize {
            Some(self.pseudonym_salt()?)
        } else {
            None
        };
        let plan = StagePlan::new(&src, &mapping, salt.as_deref());
        // An uncompressed event log is loaded in one pass when every record turns out good;
        // otherwise (rejects, duplicates to drop, compressed input) it goes through staging.
        // A file the size of one imported before may be that file: its hash is awaited first.
        let single_pass = mapping.target == Target::Events
            && !opts.dedupe
            && src.kind == FileKind::Csv
            && src.compression.is_none()
            && !self.imported_a_file_of(src.bytes)?;
        if single_pass {
            let mut found = None;
            let loaded = self.in_transaction(path, || {
                let Some((import_id, started_at, counts)) =
                    self.load_in_one_pass(&src, &mapping, &plan, started)?
                else {
                    return Ok(None);
                };
                let hash = hashing.wait()?;
                trace("hash", started);
                found = self.find_import(hash, mapping.target)?;
                if found.is_some() {
                    return Ok(None);
                }
                let run = (import_id, started_at.as_str(), started);
                self.record_import(&src, &mapping, hash, salt.is_some(), run, counts)
                    .map(Some)
            })?;
            trace("single pass", started);
            if let Some(prev) = found {
                return Ok(already(prev));
            }
            if let Some(report) = loaded {
                return Ok(report);
            }
        }
        let hash = hashing.wait()?.to_string();
        trace("hash", started);
        if let Some(prev) = self.find_import(&hash, mapping.target)? {
            return Ok(already(prev));
        }
        // Read the file into a temporary staging table (not part of the workspace file),
        // then load it in one transaction.
        if let Err(e) = self.stage(&src, &plan) {
            self.drop_scratch();
            return Err(e);
        }
        self.in_transaction(path, || {
            self.import_in_transaction(&src, &mapping, &hash, salt.as_deref(), opts, started)
                .map(Some)
        })?
        .ok_or_else(|| import_failed(path, "nothing was loaded".into()))
    }

    /// Whether a file of `bytes` bytes was imported before.
    fn imported_a_file_of(&self, bytes: u64) -> Result<bool> {
        Ok(self.connection().query_row(
            "SELECT count(*) > 0 FROM imports WHERE file_bytes = ?",
            params![bytes as i64],
            |r| r.get(0),
        )?)
    }

    /// Runs `work` in a transaction: commits when it returns `Some`, rolls back on `None` or
    /// an error; the scratch tables are dropped either way.
    fn in_transaction<T>(
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

    /// Loads an event log straight into `events`. Returns `None` (and the caller rolls back)
    /// when the file has rows to reject, which need the staging path's line numbers.
    fn load_in_one_pass(
        &self,
        src: &Source,
        mapping: &Mapping,
        plan: &StagePlan,
        started: Instant,
    ) -> Result<Option<(i64, String, Counts)>> {
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
        let loaded = match conn.execute(&insert, []) {
            Ok(n) => n as u64,
            // A row a check would reject: the staging path gives it its line and reason.
            Err(e) if e.to_string().contains(STRICT_MARK) => return Ok(None),
            Err(e) => return Err(import_error(&src.path, src.read_error(e))),
        };
        trace("events inserted", started);
        // A value the typed reader could not read: the staging path says which and why.
        let unreadable: i64 = conn.query_row(
            &format!("SELECT count(*) FROM {REJ_ERR} WHERE CAST(error_type AS VARCHAR) = 'CAST'"),
            [],
            |r| r.get(0),
        )?;
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
        trace("items upserted", started);
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

    fn next_import_id(&self) -> Result<i64> {
        Ok(self.connection().query_row(
            "SELECT coalesce(max(import_id), 0) + 1 FROM imports",
            [],
            |r| r.get(0),
        )?)
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

    fn drop_scratch(&self) {
        let _ = self.connection().execute_batch(&format!(
            "DROP TABLE IF EXISTS temp.{STAGE}; DROP TABLE IF EXISTS temp.{REJ_ERR}; DROP TABLE IF EXISTS temp.{REJ_SCAN};"
        ));
    }

    fn find_import(&self, hash: &str, target: Target) -> Result<Option<(i64, u64, u64, u64)>> {
        let mut stmt = self.connection().prepare(
            "SELECT import_id, rows_loaded, rows_read, rows_rejected FROM imports WHERE file_hash = ? AND target = ? ORDER BY import_id LIMIT 1",
        )?;
        let mut rows = stmt.query(params![hash, target.table()])?;
        Ok(match rows.next()? {
            Some(r) => Some((
                r.get(0)?,
                r.get::<_, i64>(1)? as u64,
                r.get::<_, i64>(2)? as u64,
                r.get::<_, i64>(3)? as u64,
            )),
            None => None,
        })
    }

    fn pseudonym_salt(&self) -> Result<String> {
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

    fn import_in_transaction(
        &self,
        src: &Source,
        mapping: &Mapping,
        hash: &str,
        salt: Option<&str>,
        opts: &ImportOptions,
        started: Instant,
    ) -> Result<ImportReport> {
        let conn = self.connection();
        let started_at = chrono_now(conn)?;
        let import_id = self.next_import_id()?;
        let staged: i64 =
            conn.query_row(&format!("SELECT count(*) FROM {STAGE}"), [], |r| r.get(0))?;

        // Items and users: one row per id; later repeats of an id are rejected.
        if matches!(mapping.target, Target::Items | Target::Users) {
            let key = if mapping.target == Target::Items {
                "__c_item_id"
            } else {
                "__c_user_id"
            };
            let col = key.trim_start_matches("__c_");
            conn.execute_batch(&format!(
                "UPDATE {STAGE} SET _reason = '{col}: repeats an id seen on an earlier row' WHERE rowid IN (
                   SELECT rid FROM (SELECT rowid AS rid, row_number() OVER (PARTITION BY {key} ORDER BY rowid) AS k
                                    FROM {STAGE} WHERE _reason IS NULL AND {key} IS NOT NULL) WHERE k > 1)"
            ))?;
        }

        let (loaded, items_upserted) = self.load_target(mapping, import_id, opts.dedupe)?;
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
            src,
            mapping,
            hash,
            salt.is_some(),
            (import_id, &started_at, started),
            Counts {
                read: rows_read,
                loaded,
                rejected,
                duplicate: duplicates,
                items_upserted,
            },
        )
    }

    /// Writes the `imports` row and builds the report.
    fn record_import(
        &self,
        src: &Source,
        mapping: &Mapping,
        hash: &str,
        pseudonymized: bool,
        (import_id, started_at, started): (i64, &str, Instant),
        n: Counts,
    ) -> Result<ImportReport> {
        self.connection().execute(
            "INSERT INTO imports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS TIMESTAMP), CAST(now() AS TIMESTAMP))",
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
                pseudonymized,
                started_at,
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
            seconds: started.elapsed().as_secs_f64(),
            rejects: self.rejects(import_id, REJECTS_SHOWN)?,
            mapping: mapping.clone(),
        })
    }

    fn load_target(&self, mapping: &Mapping, import_id: i64, dedupe: bool) -> Result<(u64, u64)> {
        let conn = self.connection();
        let distinct = if dedupe { "DISTINCT" } else { "" };
        Ok(match mapping.target {
            Target::Events => {
                let n = conn.execute(&insert_events_sql(import_id, STAGE, dedupe), [])?;
                let items_from = if mapping.columns.contains_key("item_title") {
                    format!(
                        "(SELECT * FROM {STAGE} WHERE _reason IS NULL AND __c_item_id IS NOT NULL)"
                    )
                } else {
                    event_items_of(import_id)
                };
                let items = conn.execute(&upsert_event_items_sql(import_id, &items_from), [])?;
                (n as u64, items as u64)
            }
            Target::Items => {
                let n = conn.execute(
                    &format!(
                        "INSERT INTO items (item_id, title, description, category, brand, price, cost, attrs, import_id)
                         SELECT coalesce(__c_item_id, CAST(rowid + 1 AS VARCHAR)), __c_title, __c_description, __c_category,
                                __c_brand, __c_price, __c_cost, __extra, {import_id}
                         FROM {STAGE} WHERE _reason IS NULL
                         ON CONFLICT (item_id) DO UPDATE SET title = coalesce(excluded.title, items.title),
                           description = coalesce(excluded.description, items.description),
                           category = coalesce(excluded.category, items.category),
                           brand = coalesce(excluded.brand, items.brand),
                           price = coalesce(excluded.price, items.price),
                           cost = coalesce(excluded.cost, items.cost),
                           attrs = coalesce(excluded.attrs, items.attrs),
                           import_id = excluded.import_id"
                    ),
                    [],
                )?;
                (n as u64, 0)
            }
            Target::Users => {
                let n = conn.execute(
                    &format!(
                        "INSERT INTO users (user_id, attrs, import_id)
                         SELECT __c_user_id, __extra, {import_id} FROM {STAGE} WHERE _reason IS NULL
                         ON CONFLICT (user_id) DO UPDATE SET attrs = excluded.attrs, import_id = excluded.import_id"
                    ),
                    [],
                )?;
                (n as u64, 0)
            }
            Target::BanditLog => {
                let n = conn.execute(
                    &format!(
                        "INSERT INTO bandit_log SELECT {distinct} __c_ts, __c_user_id, __c_action, CAST(__c_position AS INTEGER),
                           __c_reward, __c_propensity, __c_policy, __c_campaign, __extra, {import_id}
                         FROM {STAGE} WHERE _reason IS NULL"
                    ),
                    [],
                )?;
                (n as u64, 0)
            }
            Target::Reviews => {
                let n = conn.execute(
                    &format!(
                        "INSERT INTO reviews
                         SELECT (SELECT coalesce(max(review_id), 0) FROM reviews) + row_number() OVER (ORDER BY rowid),
                                __c_item_id, __c_user_id, __c_review_time, __c_rating, __c_recommended, __c_title,
                                __c_text, __c_helpful, __extra, {import_id}
                         FROM {STAGE} WHERE _reason IS NULL"
                    ),
                    [],
                )?;
                // Reviewed items join the catalog (with their category when the export has one).
                let items = conn.execute(
                    &format!(
                        "INSERT INTO items (item_id, category, import_id)
                         SELECT __c_item_id, any_value(__c_item_category), {import_id}
                         FROM {STAGE} WHERE _reason IS NULL GROUP BY __c_item_id
                         ON CONFLICT (item_id) DO UPDATE SET category = coalesce(items.category, excluded.category)"
                    ),
                    [],
                )?;
                (n as u64, items as u64)
            }
        })
    }

    /// Copies the CSV reader's rejects; returns their distinct line numbers, sorted.
    fn structural_rejects(&self, src: &Source, import_id: i64) -> Result<Vec<u64>> {
        if src.kind != FileKind::Csv {
            return Ok(Vec::new());
        }
        let conn = self.connection();
        conn.execute_batch(&format!(
            "INSERT INTO import_rejects
             SELECT {import_id}, line, min(column_name),
                    string_agg(DISTINCT lower(replace(CAST(error_type AS VARCHAR), '_', ' ')) || ': ' || error_message, '; '),
                    any_value(csv_line)
             FROM {REJ_ERR} GROUP BY line ORDER BY line"
        ))?;
        let mut stmt = conn.prepare(&format!(
            "SELECT DISTINCT line FROM {REJ_ERR} ORDER BY line"
        ))?;
        let lines = stmt
            .query_map([], |r| r.get::<_, i64>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(lines.into_iter().map(|l| l as u64).collect())
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

    /// Copies rows that failed a check; their line is computed from the record number.
    fn semantic_rejects(&self, src: &Source, import_id: i64, structural: &[u64]) -> Result<u64> {
        let conn = self.connection();
        let mut stmt = conn.prepare(&format!(
            "SELECT rowid, _reason, _raw FROM {STAGE} WHERE _reason IS NOT NULL ORDER BY rowid"
        ))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let base = match (&src.kind, &src.dialect) {
            (FileKind::Csv, Some(d)) => d.skip + u64::from(d.header),
            _ => 0,
        };
        let mut app = conn.appender("import_rejects")?;
        let mut j = 0;
        let mut skipped = 0u64;
        for (rowid, reason, raw) in &rows {
            // Record k (0-based) sits on line base + k + 1, pushed down by rejected lines above it.
            let mut line = base + *rowid as u64 + 1 + skipped;
            while j < structural.len() && structural[j] <= line {
                j += 1;
                skipped += 1;
                line += 1;
            }
            let line = (src.kind != FileKind::Parquet).then_some(line as i64);
            let column = reason.split(':').next().unwrap_or("").to_string();
            app.append_row(params![import_id, line, column, reason, raw])?;
        }
        app.flush()?;
        Ok(rows.len() as u64)
    }

    /// Rejected rows of one import, in file order.
    pub fn rejects(&self, import_id: i64, limit: usize) -> Result<Vec<Reject>> {
        let mut stmt = self.connection().prepare(
            "SELECT line, column_name, reason, raw FROM import_rejects WHERE import_id = ? ORDER BY line NULLS LAST LIMIT ?",
        )?;
        let rows = stmt
            .query_map(params![import_id, limit as i64], |r| {
                Ok(Reject {
                    line: r.get::<_, Option<i64>>(0)?.map(|l| l as u64),
                    column: r.get(1)?,
                    reason: r.get(2)?,
                    raw: r.get(3)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

/// `INSERT INTO events` from a query with the staging columns (`_reason IS NULL` rows only).
fn insert_events_sql(import_id: i64, from: &str, distinct: bool) -> String {
    let distinct = if distinct { "DISTINCT" } else { "" };
    format!(
        "INSERT INTO events (event_time, user_id, item_id, event_type, session_id, price, quantity, value,
                             import_id, category, brand)
         SELECT {distinct} __c_event_time, __c_user_id, __c_item_id, __c_event_type,
           __c_session_id, __c_price, __c_quantity,
           coalesce(__c_value, CASE WHEN __c_event_type IN ('purchase', 'refund') THEN __c_price * coalesce(__c_quantity, 1) END),
           {import_id}, __c_item_category, __c_item_brand
         FROM {from} WHERE _reason IS NULL"
    )
}

/// The items of one import's events, as the item columns [`upsert_event_items_sql`] reads.
fn event_items_of(import_id: i64) -> String {
    format!(
        "(SELECT item_id AS __c_item_id, CAST(NULL AS VARCHAR) AS __c_item_title, category AS __c_item_category,
                 brand AS __c_item_brand, price AS __c_price, event_time AS __c_event_time
          FROM events WHERE import_id = {import_id} AND item_id IS NOT NULL)"
    )
}

/// Creates or completes the items an event log mentions, from a query with the item columns.
fn upsert_event_items_sql(import_id: i64, from: &str) -> String {
    format!(
        "INSERT INTO items (item_id, title, category, brand, price, import_id)
         SELECT __c_item_id, any_value(__c_item_title), any_value(__c_item_category), any_value(__c_item_brand),
                arg_max(__c_price, __c_event_time), {import_id}
         FROM {from} GROUP BY __c_item_id
         ON CONFLICT (item_id) DO UPDATE SET title = coalesce(items.title, excluded.title),
            category = coalesce(items.category, excluded.category),
            brand = coalesce(items.brand, excluded.brand),
            price = coalesce(items.price, excluded.price)"
    )
}

/// How an error met while importing reaches the user: a cancel, or a failure naming the file.
fn import_error(path: &Path, e: DataError) -> DataError {
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

fn import_failed(path: &Path, message: String) -> DataError {
    DataError::ImportFailed {
        path: path.to_path_buf(),
        message,
    }
}

fn chrono_now(conn: &duckdb::Connection) -> Result<String> {
    Ok(conn.query_row(
        "SELECT CAST(CAST(now() AS TIMESTAMP) AS VARCHAR)",
        [],
        |r| r.get(0),
    )?)
}

/// Row counts of one import.
struct Counts {
    read: u64,
    loaded: u64,
    rejected: u64,
    duplicate: u64,
    items_upserted: u64,
}

/// BLAKE3 of the file's bytes, hex.
pub fn hash_file(path: &Path) -> Result<String> {
    digest_file(path, &AtomicBool::new(false))
}

/// The BLAKE3 of a file, hex, computed on its own thread while the import goes on.
struct Hashing {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<Result<String>>>,
    hash: Option<String>,
}

impl Hashing {
    fn start(path: &Path) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (path, flag) = (path.to_path_buf(), stop.clone());
        let handle = std::thread::spawn(move || digest_file(&path, &flag));
        Hashing {
            stop,
            handle: Some(handle),
            hash: None,
        }
    }

    /// Waits for the hash.
    fn wait(&mut self) -> Result<&str> {
        if let Some(handle) = self.handle.take() {
            let hash = handle.join().unwrap_or_else(|_| {
                Err(DataError::io(
                    "hashing the file",
                    std::io::Error::other("the hashing thread panicked"),
                ))
            })?;
            self.hash = Some(hash);
        }
        Ok(self.hash.as_deref().unwrap_or_default())
    }
}

impl Drop for Hashing {
    /// An import that ends early stops the hashing thread too.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// Reads the file in large blocks and hashes it; `stop` ends it early (with an error).
fn digest_file(path: &Path, stop: &AtomicBool) -> Result<String> {
    use std::io::Read;
    let err = |e| DataError::io(path.display().to_string(), e);
    let mut f = std::fs::File::open(path).map_err(err)?;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 4 << 20];
    loop {
        if stop.load(Ordering::Relaxed) {
            return Err(DataError::Cancelled);
        }
        let n = f.read(&mut buf).map_err(err)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().to_hex().to_string())
}

/// A rule a canonical value must keep, or its row is rejected.
#[derive(Clone, Copy, PartialEq)]
enum Check {
    /// A required column with no value.
    Missing,
    /// A value that does not read as a number, a price or a timestamp.
    Unreadable,
    UnknownEventType,
    NotFinite,
    Negative,
    /// A propensity outside (0, 1].
    Propensity,
    /// A rating row without its rating.
    MissingRating,
}

impl Check {
    /// `WHEN … THEN '<reason>'` for the staging query: `c` the canonical value, `r` the raw text.
    fn when_sql(self, name: &str, c: &str, r: &str, rule: &Column) -> String {
        let src_name = rule.source.clone().unwrap_or_default();
        match self {
            Check::Missing => format!(
                "WHEN {c} IS NULL AND ({r} IS NULL OR trim({r}) = '') THEN {}",
                lit(&format!("{name}: missing value (column \"{src_name}\")"))
            ),
            Check::Unreadable => {
                let what = match rule.parse {
                    Parse::Number => "a number".to_string(),
                    Parse::Money => "a price".to_string(),
                    _ => format!("a timestamp ({})", rule.format.as_deref().unwrap_or("iso")),
                };
                format!(
                    "WHEN {c} IS NULL AND {r} IS NOT NULL AND trim({r}) <> '' THEN '{name}: cannot read ''' || {r} || ''' as {what}'"
                )
            }
            Check::UnknownEventType => format!(
                "WHEN {c} IS NULL AND {r} IS NOT NULL THEN 'event_type: unknown event type ''' || {r} || ''' (known: {}; map others under [event_types])'",
                EVENT_TYPES.join(", ")
            ),
            Check::NotFinite => format!(
                "WHEN isnan({c}) OR isinf({c}) THEN '{name}: ''' || {r} || ''' is not a finite number'"
            ),
            Check::Negative => {
                format!("WHEN {c} < 0 THEN '{name}: negative (''' || {r} || ''')'")
            }
            Check::Propensity => format!(
                "WHEN {c} <= 0 OR {c} > 1 THEN 'propensity: ''' || {r} || ''' is not in (0, 1]'"
            ),
            Check::MissingRating => format!(
                "WHEN {c} IS NULL THEN {}",
                lit(&format!("value: missing rating (column \"{src_name}\")"))
            ),
        }
    }

    /// The same rule as a condition for the single pass, on the value `v`; `raw` is the
    /// file's text, or `None` where the reader typed the column (and so already rejects
    /// what it cannot read).
    fn fails_sql(self, v: &str, raw: Option<&str>) -> Option<String> {
        Some(match (self, raw) {
            (Check::Missing | Check::MissingRating, _) => format!("{v} IS NULL"),
            (Check::Unreadable, Some(r)) => {
                format!("({v} IS NULL AND {r} IS NOT NULL AND trim({r}) <> '')")
            }
            (Check::UnknownEventType, Some(r)) => format!("({v} IS NULL AND {r} IS NOT NULL)"),
            (Check::Unreadable | Check::UnknownEventType, None) => return None,
            (Check::NotFinite, _) => format!("isnan({v}) OR isinf({v})"),
            (Check::Negative, _) => format!("{v} < 0"),
            (Check::Propensity, _) => format!("{v} <= 0 OR {v} > 1"),
        })
    }
}

/// The checks one canonical column gets.
fn checks_of(name: &str, required: bool, rule: &Column, mapping: &Mapping) -> Vec<Check> {
    let mut checks = Vec::new();
    if required {
        checks.push(Check::Missing);
    }
    match rule.parse {
        Parse::Number | Parse::Money | Parse::Timestamp => checks.push(Check::Unreadable),
        Parse::EventType => checks.push(Check::UnknownEventType),
        Parse::Text | Parse::Id => {}
    }
    if matches!(rule.parse, Parse::Number | Parse::Money) {
        checks.push(Check::NotFinite);
    }
    if matches!(name, "price" | "cost") {
        checks.push(Check::Negative);
    }
    if name == "propensity" {
        checks.push(Check::Propensity);
    }
    let ratings = mapping
        .columns
        .get("event_type")
        .and_then(|e| e.value.as_deref())
        == Some("rating");
    if name == "value" && ratings {
        checks.push(Check::MissingRating);
    }
    checks
}

/// The type the single pass asks the CSV reader for, for a column read by `rule`: numbers
/// and ISO timestamps are parsed by the reader itself (much faster than text and a cast)
/// when the sample shows they are plain; anything else stays text.
fn reader_type(rule: &Column, sample: &[String]) -> &'static str {
    match rule.parse {
        Parse::Number | Parse::Money if sample.iter().all(|v| v.parse::<f64>().is_ok()) => "DOUBLE",
        Parse::Timestamp if rule.format.as_deref().unwrap_or("iso") == "iso" => "TIMESTAMP",
        _ => "VARCHAR",
    }
}

/// The SQL that reads the file once into a staging table: canonical columns, a reject
/// reason per row, and the raw row text for rejected rows only.
struct StagePlan {
    canon: Vec<(String, String)>,
    raws: Vec<String>,
    /// `WHEN <check fails> THEN '<column>: <reason>'`, in column order.
    whens: Vec<String>,
    /// The single pass: per canonical column, its value from the typed scan and the
    /// conditions that would reject it (each raises an error marked [`STRICT_MARK`]).
    strict: Vec<(String, String, Vec<String>)>,
    /// The single pass's scan, with plain numbers and timestamps typed by the reader.
    strict_scan: String,
    extra: String,
    scan: String,
    delimiter: String,
}

impl StagePlan {
    fn new(src: &Source, mapping: &Mapping, salt: Option<&str>) -> Self {
        let names = mapping.source_columns(src);
        // Source column (as the mapping names it) → its position in the file.
        let index_of = |name: &str| names.iter().position(|c| c == name);
        let raws: Vec<String> = src
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{} AS __r_{i}", src.col_text(c)))
            .collect();
        // What the single pass asks the reader for: a type where every rule reading the
        // column wants the same one.
        let mut types: Vec<Option<&str>> = vec![None; src.columns.len()];
        for rule in mapping.columns.values().filter(|r| r.value.is_none()) {
            if let Some(col) = rule.source.as_deref()
                && let Some(i) = index_of(col)
            {
                let want = reader_type(rule, &mapping.sample_values(src, col));
                types[i] = match types[i] {
                    Some(t) if t != want => Some("VARCHAR"),
                    _ => Some(want),
                };
            }
        }
        let types: Vec<&str> = types.into_iter().map(|t| t.unwrap_or("VARCHAR")).collect();
        let mut canon = Vec::new();
        let mut whens = Vec::new();
        let mut strict = Vec::new();
        for (name, required) in mapping.target.columns() {
            let ty = column_type(mapping.target, name);
            let Some(rule) = mapping.columns.get(*name) else {
                canon.push((name.to_string(), format!("CAST(NULL AS {ty})")));
                strict.push((name.to_string(), format!("CAST(NULL AS {ty})"), Vec::new()));
                continue;
            };
            let source = rule.source.as_deref().filter(|_| rule.value.is_none());
            let index = source.and_then(index_of);
            let raw = index.map(|i| format!("__r_{i}"));
            let expr = match (&rule.value, &raw) {
                (Some(v), _) => format!("CAST({} AS {ty})", lit(v)),
                (None, Some(r)) => convert(r, rule, mapping, src),
                (None, None) => format!("CAST(NULL AS {ty})"),
            };
            let expr = match (salt, *name) {
                (Some(s), "user_id") => format!("substr(sha256({} || ({expr})), 1, 16)", lit(s)),
                _ => expr,
            };
            let checks = if raw.is_some() {
                checks_of(name, *required, rule, mapping)
            } else {
                Vec::new()
            };
            // The single pass reads plain numbers and ISO timestamps typed.
            let typed = index.is_some_and(|i| types[i] != "VARCHAR");
            let v = format!("__v_{name}");
            let fails: Vec<String> = checks
                .iter()
                .filter_map(|c| c.fails_sql(&v, raw.as_deref().filter(|_| !typed)))
                .collect();
            let value = match &raw {
                Some(r) if typed => r.clone(),
                _ => expr.clone(),
            };
            strict.push((name.to_string(), value, fails));
            if let Some(r) = &raw {
                let c = format!("__c_{name}");
                whens.extend(checks.iter().map(|k| k.when_sql(name, &c, r, rule)));
            }
            canon.push((name.to_string(), expr));
        }
        let extra = if mapping.extra.is_empty() {
            "CAST(NULL AS VARCHAR)".to_string()
        } else {
            let pairs: Vec<String> = mapping
                .extra
                .iter()
                .filter_map(|e| index_of(e).map(|i| format!("{}, __r_{i}", lit(e))))
                .collect();
            format!("CAST(json_object({}) AS VARCHAR)", pairs.join(", "))
        };
        let scan = src.scan_sql(&format!(
            ", store_rejects = true, rejects_table = '{REJ_ERR}', rejects_scan = '{REJ_SCAN}'"
        ));
        let scan = if src.kind == FileKind::Csv {
            scan
        } else {
            src.scan_sql("")
        };
        let delimiter = src
            .dialect
            .as_ref()
            .map(|d| d.delimiter.clone())
            .unwrap_or_else(|| ",".into());
        let strict_scan = src.typed_csv_scan_sql(
            &types,
            &format!(
                ", store_rejects = true, rejects_table = '{REJ_ERR}', rejects_scan = '{REJ_SCAN}'"
            ),
        );
        StagePlan {
            canon,
            raws,
            whens,
            strict,
            strict_scan,
            extra,
            scan,
            delimiter,
        }
    }

    /// The staging query: canonical columns, `__extra`, `_reason`, and `_raw` for rejected rows.
    fn select_sql(&self) -> String {
        let inner_canon: Vec<String> = self
            .canon
            .iter()
            .map(|(n, e)| format!("{e} AS __c_{n}"))
            .collect();
        let outer_canon: Vec<String> = self.canon.iter().map(|(n, _)| format!("__c_{n}")).collect();
        let raw_cols: Vec<String> = (0..self.raws.len()).map(|i| format!("__r_{i}")).collect();
        let reason = if self.whens.is_empty() {
            "CAST(NULL AS VARCHAR)".to_string()
        } else {
            format!("CASE {} END", self.whens.join(" "))
        };
        format!(
            "SELECT {outer}, __extra, _reason,
                    CASE WHEN _reason IS NOT NULL THEN concat_ws({delim}, {raw_cols}) END AS _raw
             FROM (SELECT *, {reason} AS _reason
                   FROM (SELECT *, {extra} AS __extra FROM (SELECT *, {inner} FROM (SELECT {raws} FROM {scan} s))))",
            outer = outer_canon.join(", "),
            delim = lit(&self.delimiter),
            raw_cols = raw_cols.join(", "),
            extra = self.extra,
            raws = self.raws.join(", "),
            inner = inner_canon.join(", "),
            scan = self.scan,
        )
    }

    /// Every row, read typed, with each check raising an error instead of rejecting the
    /// row: what the single pass loads.
    fn strict_rows_sql(&self) -> String {
        let values: Vec<String> = self
            .strict
            .iter()
            .map(|(n, e, _)| format!("{e} AS __v_{n}"))
            .collect();
        let checked: Vec<String> = self
            .strict
            .iter()
            .map(|(n, _, fails)| {
                if fails.is_empty() {
                    format!("__v_{n} AS __c_{n}")
                } else {
                    format!(
                        "CASE WHEN {} THEN error('{STRICT_MARK} {n}') ELSE __v_{n} END AS __c_{n}",
                        fails.join(" OR ")
                    )
                }
            })
            .collect();
        format!(
            "SELECT {checked}, CAST(NULL AS VARCHAR) AS __extra, CAST(NULL AS VARCHAR) AS _reason
             FROM (SELECT *, {values} FROM (SELECT {raws} FROM {scan} s))",
            checked = checked.join(", "),
            values = values.join(", "),
            raws = self.raws.join(", "),
            scan = self.strict_scan,
        )
    }

    fn stage_sql(&self) -> String {
        format!("CREATE TEMP TABLE {STAGE} AS {}", self.select_sql())
    }

    /// Item attributes of an event log, read from the file's item columns only.
    fn item_attrs_sql(&self, src: &Source) -> String {
        let wanted = [
            "item_id",
            "item_title",
            "item_category",
            "item_brand",
            "price",
            "event_time",
        ];
        let canon: Vec<String> = self
            .canon
            .iter()
            .filter(|(n, _)| wanted.contains(&n.as_str()))
            .map(|(n, e)| format!("{e} AS __c_{n}"))
            .collect();
        format!(
            "SELECT * FROM (SELECT {canon} FROM (SELECT {raws} FROM {scan} s)) WHERE __c_item_id IS NOT NULL",
            canon = canon.join(", "),
            raws = self.raws.join(", "),
            scan = src.scan_sql(", ignore_errors = true"),
        )
    }
}

fn column_type(target: Target, name: &str) -> &'static str {
    match (target, name) {
        (_, "event_time" | "ts" | "review_time") => "TIMESTAMP",
        (
            _,
            "price" | "cost" | "quantity" | "value" | "reward" | "propensity" | "position"
            | "rating" | "recommended" | "helpful",
        ) => "DOUBLE",
        _ => "VARCHAR",
    }
}

/// The rule's source column in the sample, as the file has it.
fn raw_sample<'a>(rule: &Column, mapping: &Mapping, src: &'a Source) -> Vec<&'a str> {
    rule.source
        .as_deref()
        .map(|c| mapping.raw_sample_values(src, c))
        .unwrap_or_default()
}

/// `trim(r)` where the sample shows the column's values padded with spaces, else `r`: ids
/// and event types are taken as written otherwise (trimming every value would cost the
/// single pass about a tenth of its time).
fn trimmed_if_padded(r: &str, rule: &Column, mapping: &Mapping, src: &Source) -> String {
    if raw_sample(rule, mapping, src)
        .iter()
        .any(|v| v.trim() != *v)
    {
        format!("trim({r})")
    } else {
        r.to_string()
    }
}

/// SQL converting the raw text column `r` by the rule's parse.
fn convert(r: &str, rule: &Column, mapping: &Mapping, src: &Source) -> String {
    match rule.parse {
        // Text is kept as written (as DuckDB, pandas and Polars read it); only ids are trimmed.
        Parse::Text => format!("NULLIF({r}, '')"),
        Parse::Id => {
            let id = trimmed_if_padded(r, rule, mapping, src);
            let float_ids = raw_sample(rule, mapping, src)
                .iter()
                .any(|v| v.trim().ends_with(".0"));
            if float_ids {
                format!("NULLIF(regexp_replace({id}, '\\.0+$', ''), '')")
            } else {
                format!("NULLIF({id}, '')")
            }
        }
        Parse::Number => format!("TRY_CAST({r} AS DOUBLE)"),
        // Plain numbers first (fast path); then currency text ("$1,299.99 "); then a range
        // ("$1,149.99through-$1,499.99", "10 - 12"), of which the low end is kept.
        Parse::Money => format!(
            "coalesce(TRY_CAST({r} AS DOUBLE), \
             TRY_CAST(regexp_replace({r}, '[$€£¥,[:space:]]|USD|EUR|GBP', '', 'g') AS DOUBLE), \
             TRY_CAST(replace(regexp_extract({r}, '^[[:space:]]*[$€£¥]?[[:space:]]*([0-9][0-9,]*(\\.[0-9]+)?)[[:space:]]*(through|to|-|–|[[:space:]])+[$€£¥]?[0-9]', 1), ',', '') AS DOUBLE))"
        ),
        Parse::Timestamp => timestamp_expr(
            &format!("trim({r})"),
            rule.format.as_deref().unwrap_or("iso"),
        ),
        Parse::EventType => {
            // Without an `[event_types]` table the source already uses the canonical names.
            let canonical: std::collections::BTreeMap<String, String> = crate::schema::EVENT_TYPES
                .iter()
                .map(|t| (t.to_string(), t.to_string()))
                .collect();
            let table = if mapping.event_types.is_empty() {
                &canonical
            } else {
                &mapping.event_types
            };
            let mut pairs: Vec<(&String, &String)> = table.iter().collect();
            // Values seen in the sample first: CASE stops at the first match.
            let seen: Vec<String> = rule
                .source
                .as_deref()
                .map(|c| mapping.sample_values(src, c))
                .unwrap_or_default();
            let lower_needed = seen.iter().any(|v| v.chars().any(char::is_uppercase));
            pairs.sort_by_key(|(k, _)| std::cmp::Reverse(seen.iter().filter(|v| v == k).count()));
            let key = trimmed_if_padded(r, rule, mapping, src);
            let key = if lower_needed {
                format!("lower({key})")
            } else {
                key
            };
            let whens: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("WHEN {} THEN {}", lit(k), lit(v)))
                .collect();
            format!("CASE {key} {} END", whens.join(" "))
        }
    }
}
