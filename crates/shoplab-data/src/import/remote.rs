//! An import whose reading and checking run on a cluster: the mapping is recognized here
//! from a sample of the file, the staging query is written in Spark's SQL by the same
//! builders as the local one (so the canonical values and reject reasons are the same
//! text), and the staged records that come back are loaded and accounted for as a local
//! import's are (dedupe, refunds, items, value checks, `import_rejects` with their lines).

use std::path::{Path, PathBuf};
use std::time::Instant;

use duckdb::params;
use duckdb::types::{TimeUnit, Value};

use crate::canonical::Target;
use crate::dialect::Engine;
use crate::error::Result;
use crate::mapping::Mapping;
use crate::source::{FileKind, Source};
use crate::timestamps::spark_can_read;
use crate::workspace::Workspace;

use super::ImportOptions;
use super::context::Run;
use super::plan::{SPARK_SCAN, StagePlan, column_type};
use super::report::ImportReport;
use super::scratch::{REJ_ERR, STAGE, import_failed};

/// What a staged value is, as it comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellType {
    Text,
    Number,
    /// A timestamp as whole µs since the epoch.
    Micros,
    /// The record's place in the file (0-based).
    Ordinal,
}

/// One staged value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Text(String),
    Number(f64),
    Int(i64),
}

/// An import planned here and run on a cluster.
#[derive(Debug, Clone)]
pub struct RemoteImport {
    /// The file (or folder) as the cluster reads it.
    pub path: String,
    /// `csv` or `parquet`.
    pub format: &'static str,
    /// The CSV reader's options (separator, quote, escape, header, encoding).
    pub reader_options: Vec<(String, String)>,
    /// The file's columns, all read as text.
    pub columns: Vec<String>,
    /// The staging query over [`SPARK_SCAN`] (the columns as text and `__ord`): one row per
    /// record, ordered by `__ord`, with the cells [`RemoteImport::cells`] says.
    pub sql: String,
    cells: Vec<CellType>,
    src: Source,
    mapping: Mapping,
    salt: Option<String>,
}

impl RemoteImport {
    /// The relation the staging query reads (register the file's records under this name).
    pub const SCAN: &'static str = SPARK_SCAN;

    /// What each cell of a staged row is, in order.
    pub fn cells(&self) -> &[CellType] {
        &self.cells
    }

    /// The mapping recognized from the sample (or given).
    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }
}

impl Workspace {
    /// Plans the import of the events at `path` (as a cluster reads them) from `sample`, a
    /// local file holding the file's first records in its own format (CSV: its first
    /// lines; Parquet: a CSV of its first rows as text, `parquet` set).
    pub fn plan_remote_import(
        &self,
        sample: &Path,
        path: &str,
        parquet: bool,
        opts: &ImportOptions,
    ) -> Result<RemoteImport> {
        let (mut src, mapping) = self.inspect_file(sample, opts)?;
        let refuse = |why: String| import_failed(Path::new(path), why);
        if mapping.target != Target::Events {
            return Err(refuse(format!(
                "it reads as {}; on Spark, ShopLab imports event logs (import other tables locally)",
                mapping.target.table()
            )));
        }
        if let Some((name, f)) = mapping
            .columns
            .iter()
            .filter_map(|(n, c)| c.format.as_deref().map(|f| (n, f)))
            .find(|(_, f)| !spark_can_read(f))
        {
            return Err(refuse(format!(
                "{name}: the timestamp format {f:?} has no Spark pattern (import it locally)"
            )));
        }
        let mut reader_options = Vec::new();
        if parquet {
            src.kind = FileKind::Parquet;
        } else if let Some(d) = &src.dialect {
            if d.skip > 0 {
                return Err(refuse(format!(
                    "its first {} lines are not records; Spark cannot skip lines (import it locally)",
                    d.skip
                )));
            }
            let encoding = if src.encoding == "latin-1" {
                "ISO-8859-1"
            } else {
                "UTF-8"
            };
            for (k, v) in [
                ("sep", d.delimiter.as_str()),
                ("quote", d.quote.as_str()),
                ("escape", d.escape.as_str()),
                ("header", if d.header { "true" } else { "false" }),
                ("encoding", encoding),
                ("mode", "PERMISSIVE"),
            ] {
                reader_options.push((k.to_string(), v.to_string()));
            }
        }
        let salt = if opts.pseudonymize {
            Some(self.pseudonym_salt()?)
        } else {
            None
        };
        let plan = StagePlan::for_engine(&src, &mapping, salt.as_deref(), Engine::Spark);
        let canon: Vec<(&str, &str)> = mapping
            .target
            .columns()
            .iter()
            .map(|(n, _)| (*n, column_type(mapping.target, n)))
            .collect();
        let mut cells = Vec::new();
        let outer: Vec<String> = canon
            .iter()
            .map(|(n, ty)| match *ty {
                "TIMESTAMP" => {
                    cells.push(CellType::Micros);
                    format!("unix_micros(__c_{n}) AS __c_{n}")
                }
                "DOUBLE" => {
                    cells.push(CellType::Number);
                    format!("__c_{n}")
                }
                _ => {
                    cells.push(CellType::Text);
                    format!("__c_{n}")
                }
            })
            .collect();
        cells.extend([
            CellType::Text,
            CellType::Text,
            CellType::Text,
            CellType::Ordinal,
        ]);
        let sql = format!(
            "SELECT {}, __extra, _reason, _raw, __ord FROM ({}) staged ORDER BY __ord",
            outer.join(", "),
            plan.select_sql()
        );
        src.path = PathBuf::from(path);
        Ok(RemoteImport {
            path: path.to_string(),
            format: if parquet { "parquet" } else { "csv" },
            reader_options,
            columns: src.columns.clone(),
            sql,
            cells,
            src,
            mapping,
            salt,
        })
    }

    /// Loads the staged `records` of `plan` (in file order, as the cluster computed them):
    /// the rows without a reason into `events`, the others into `import_rejects` with their
    /// line, all in one transaction; `identity` stands for the content hash (a file read
    /// again is recognized), `bytes` for its size, `computed_on` says where it ran; with
    /// `dedupe`, rows repeating an earlier row are dropped.
    pub fn load_remote_import(
        &self,
        plan: &RemoteImport,
        (identity, bytes): (&str, u64),
        computed_on: &str,
        records: &[Vec<Cell>],
        dedupe: bool,
    ) -> Result<ImportReport> {
        let started = Instant::now();
        let mut src = plan.src.clone();
        src.bytes = bytes;
        let run = Run::new(&src, &plan.mapping, plan.salt.as_deref(), started);
        if let Some(prev) = self.find_import(identity, plan.mapping.target)? {
            return Ok(ImportReport::already_imported(&run, prev));
        }
        if let Err(e) = self.stage_records(plan, records) {
            self.drop_scratch();
            return Err(e);
        }
        let report = self
            .in_transaction(&src.path, || {
                let report = self.load_staged_run(&run, identity, dedupe)?;
                self.connection().execute(
                    "UPDATE imports SET computed_on = ? WHERE import_id = ?",
                    params![computed_on, report.import_id],
                )?;
                Ok(Some(report))
            })?
            .ok_or_else(|| import_failed(&src.path, "nothing was loaded".into()))?;
        Ok(report)
    }

    /// The staging table filled with `records`, and an empty reader-rejects table (the
    /// cluster's reader keeps every record).
    fn stage_records(&self, plan: &RemoteImport, records: &[Vec<Cell>]) -> Result<()> {
        let c = self.connection();
        let target = plan.mapping.target;
        let mut columns: Vec<String> = target
            .columns()
            .iter()
            .map(|(n, _)| format!("__c_{n} {}", column_type(target, n)))
            .collect();
        columns.extend(["__extra VARCHAR", "_reason VARCHAR", "_raw VARCHAR"].map(String::from));
        c.execute_batch(&format!(
            "DROP TABLE IF EXISTS temp.{STAGE}; DROP TABLE IF EXISTS temp.{REJ_ERR};
             CREATE TEMP TABLE {STAGE} ({});
             CREATE TEMP TABLE {REJ_ERR} (line BIGINT, column_name VARCHAR, error_type VARCHAR,
                                          error_message VARCHAR, csv_line VARCHAR);",
            columns.join(", ")
        ))?;
        let mut app = c.appender(STAGE)?;
        let n = plan.cells.len() - 1;
        for (k, record) in records.iter().enumerate() {
            if record.len() != plan.cells.len() {
                return Err(import_failed(
                    &plan.src.path,
                    format!(
                        "record {k} came back with {} values, {} expected",
                        record.len(),
                        plan.cells.len()
                    ),
                ));
            }
            // Records arrive in file order: the staging table's row id is the record's place.
            if record[n] != Cell::Int(k as i64) {
                return Err(import_failed(
                    &plan.src.path,
                    format!("record {k} came back out of order ({:?})", record[n]),
                ));
            }
            let values: Vec<Value> = record[..n]
                .iter()
                .zip(&plan.cells)
                .map(|(cell, ty)| match (cell, ty) {
                    (Cell::Null, _) => Value::Null,
                    (Cell::Int(us), CellType::Micros) => {
                        Value::Timestamp(TimeUnit::Microsecond, *us)
                    }
                    (Cell::Int(v), _) => Value::Double(*v as f64),
                    (Cell::Number(v), _) => Value::Double(*v),
                    (Cell::Text(s), _) => Value::Text(s.clone()),
                })
                .collect();
            app.append_row(duckdb::appender_params_from_iter(values))?;
        }
        app.flush()?;
        Ok(())
    }
}
