//! The import's reading and checking on the cluster: a sample of the file comes to the
//! desktop for the mapping to be recognized; the staging query ([`RemoteImport::sql`], the
//! local one in Spark's SQL) runs over every record, numbered in file order; the staged
//! records come back for the workspace to load.

use shoplab_data::Workspace;
use shoplab_data::import::{Cell, CellType, ImportOptions, ImportReport, RemoteImport};
use shoplab_data::source::SAMPLE_ROWS;
use spark_connect::row::Value;

use crate::{Lake, LakeError, Result, long, text};

/// A file's first records, for the mapping to be recognized from.
pub struct Sample {
    /// Whether the file is Parquet (else CSV).
    pub parquet: bool,
    /// CSV text: the file's own first lines, or (Parquet) its first rows as text.
    pub text: String,
}

impl Lake {
    /// Imports the events file at `path` (the server's: CSV, or Parquet) into `ws`: its
    /// first records come here for the mapping to be recognized (or `opts.mapping` is
    /// used), every record is read and checked on the cluster by the staging query in
    /// Spark's SQL, and the staged records are loaded as a local import's are (rejects with
    /// their reason and, for CSV, line), recorded with where it ran. Nothing in `ws`
    /// changes on failure.
    pub fn import(
        &self,
        ws: &Workspace,
        path: &str,
        opts: &ImportOptions,
        step: &mut dyn FnMut(&str),
    ) -> Result<ImportReport> {
        step("sampling the file");
        let sample = self.sample(path)?;
        // The sample is inspected as a file, as a local import's would be.
        static SAMPLES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let k = SAMPLES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("shoplab-spark-sample-{}-{k}", std::process::id()));
        let written = std::fs::create_dir_all(&dir)
            .and_then(|()| std::fs::write(dir.join("sample.csv"), &sample.text));
        let plan = written
            .map_err(|e| LakeError::Data(format!("writing the sample in {}: {e}", dir.display())))
            .and_then(|()| {
                Ok(ws.plan_remote_import(&dir.join("sample.csv"), path, sample.parquet, opts)?)
            });
        let _ = std::fs::remove_dir_all(&dir);
        let plan = plan?;
        let (identity, bytes, records) = self.stage_import(&plan, step)?;
        step("loading into the workspace");
        let origin = format!("spark {} over {path}", self.remote);
        Ok(ws.load_remote_import(&plan, (&identity, bytes), &origin, &records, opts.dedupe)?)
    }

    /// The first records of the file at `path` (the server's): a CSV's first lines as they
    /// are, or a Parquet file's first rows as CSV text.
    pub fn sample(&self, path: &str) -> Result<Sample> {
        let parquet = !path.to_ascii_lowercase().ends_with(".csv");
        let lines = SAMPLE_ROWS as i32 + 1;
        let text = if parquet {
            let df = self.spark.read().parquet(path);
            let columns = df
                .columns()
                .map_err(|e| self.failed(&format!("reading {path}"), e))?;
            let select: Vec<String> = columns
                .iter()
                .map(|c| format!("CAST(`{}` AS STRING)", c.replace('`', "``")))
                .collect();
            let rows = df
                .select_expr(select.iter().map(String::as_str).collect())
                .limit(lines - 1)
                .collect()
                .map_err(|e| self.failed(&format!("reading {path}"), e))?;
            let mut out = csv_line(columns.iter().map(|c| Some(c.as_str())));
            for r in &rows {
                let cells = (0..columns.len())
                    .map(|k| text(r, k))
                    .collect::<Result<Vec<_>>>()?;
                out.push_str(&csv_line(cells.iter().map(Option::as_deref)));
            }
            out
        } else {
            let rows = self
                .spark
                .read()
                .text(path)
                .limit(lines)
                .collect()
                .map_err(|e| self.failed(&format!("reading {path}"), e))?;
            let mut out = String::new();
            for r in &rows {
                out.push_str(&text(r, 0)?.unwrap_or_default());
                out.push('\n');
            }
            out
        };
        Ok(Sample { parquet, text })
    }

    /// Runs `plan`'s staging query on the cluster over every record of its file; returns
    /// the file's identity (`spark:<path>:<bytes>:<last modified>`), its size in bytes and
    /// the staged records in file order.
    pub fn stage_import(
        &self,
        plan: &RemoteImport,
        step: &mut dyn FnMut(&str),
    ) -> Result<(String, u64, Vec<Vec<Cell>>)> {
        step("reading the file");
        let schema: Vec<String> = plan
            .columns
            .iter()
            .map(|c| format!("`{}` STRING", c.replace('`', "``")))
            .collect();
        let reader = self.spark.read();
        let df = if plan.format == "parquet" {
            reader.parquet(&plan.path)
        } else {
            let mut reader = reader.schema(schema.join(", "));
            for (k, v) in &plan.reader_options {
                reader = reader.option(k, v);
            }
            reader.csv(&plan.path)
        };
        // Each record's place: Spark numbers rows within a block contiguously; the blocks of
        // a file are ordered by their start and their counts added up.
        let mut cols: Vec<String> = plan
            .columns
            .iter()
            .map(|c| format!("`{}`", c.replace('`', "``")))
            .collect();
        cols.extend([
            "_metadata.file_path AS __file".into(),
            "_metadata.file_block_start AS __block".into(),
            "_metadata.file_size AS __size".into(),
            "unix_micros(_metadata.file_modification_time) AS __mtime".into(),
            "monotonically_increasing_id() AS __mid".into(),
        ]);
        df.select_expr(cols.iter().map(String::as_str).collect())
            .create_or_replace_temp_view("import_raw")
            .map_err(|e| self.failed("reading the file", e))?;
        let scan = RemoteImport::SCAN;
        self.rows(
            "numbering the records",
            &format!(
                "CREATE OR REPLACE TEMP VIEW {scan} AS
                 WITH blocks AS (SELECT __file, __block, count(*) AS n, min(__mid) AS m0
                                 FROM import_raw GROUP BY 1, 2),
                      offsets AS (SELECT __file, __block, m0,
                                         coalesce(sum(n) OVER (ORDER BY __file, __block
                                                  ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS off
                                  FROM blocks)
                 SELECT r.*, o.off + (r.__mid - o.m0) AS __ord
                 FROM import_raw r JOIN offsets o ON r.__file = o.__file AND r.__block = o.__block"
            ),
        )?;
        step("the file's identity");
        let id = self.rows(
            "the file's identity",
            "SELECT count(*), sum(s), max(m) FROM (SELECT DISTINCT __file, __size AS s, __mtime AS m FROM import_raw) f",
        )?;
        let id = id
            .first()
            .ok_or_else(|| LakeError::Data("the file's identity: no row".into()))?;
        let (files, bytes) = (long(id, 0)?, long(id, 1)?);
        if files == 0 {
            return Err(LakeError::Data(format!("{}: no records", plan.path)));
        }
        let mtime = id.get(2).and_then(Value::as_i64).unwrap_or(0);
        let identity = format!("spark:{}:{bytes}:{mtime}", plan.path);
        step("checking every record");
        let rows = self.rows("checking every record", &plan.sql)?;
        step("bringing the records back");
        let records = rows
            .iter()
            .map(|r| {
                plan.cells()
                    .iter()
                    .enumerate()
                    .map(|(k, ty)| cell(r.get(k), *ty))
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((identity, bytes, records))
    }
}

/// A staged value as the workspace takes it.
fn cell(v: Option<&Value>, ty: CellType) -> Result<Cell> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(Cell::Null);
    };
    let bad = || LakeError::Data(format!("a staged {ty:?} value came back as {v:?}"));
    Ok(match ty {
        CellType::Text => Cell::Text(v.as_str().ok_or_else(bad)?.to_string()),
        CellType::Number => Cell::Number(
            v.as_f64()
                .or_else(|| v.as_i64().map(|n| n as f64))
                .ok_or_else(bad)?,
        ),
        CellType::Micros | CellType::Ordinal => Cell::Int(v.as_i64().ok_or_else(bad)?),
    })
}

/// One CSV line, every value quoted (a NULL is an empty field).
fn csv_line<'a>(cells: impl Iterator<Item = Option<&'a str>>) -> String {
    let quoted: Vec<String> = cells
        .map(|c| c.map_or(String::new(), |s| format!("\"{}\"", s.replace('"', "\"\""))))
        .collect();
    format!("{}\n", quoted.join(","))
}
