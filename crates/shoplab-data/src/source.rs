//! Looking at a file before importing it: container, compression, encoding, CSV dialect,
//! column names and a sample of rows as text.

use std::io::Read;
use std::path::{Path, PathBuf};

use duckdb::Connection;

use crate::error::{DataError, Result};

/// How the file's rows are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Csv,
    Parquet,
    Ndjson,
}

/// The CSV dialect, as sniffed or as given by a mapping.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct CsvDialect {
    pub delimiter: String,
    pub quote: String,
    pub escape: String,
    pub header: bool,
    pub skip: u64,
}

/// What a file holds, as far as the import needs to know before mapping it.
#[derive(Debug, Clone)]
pub struct Source {
    pub path: PathBuf,
    pub kind: FileKind,
    /// `None` (DuckDB picks by extension), `gzip` or `zstd`.
    pub compression: Option<String>,
    /// `utf-8` or `latin-1`.
    pub encoding: String,
    pub dialect: Option<CsvDialect>,
    /// Column names as DuckDB reads them (`column0`, `column1`, … when there is no header).
    pub columns: Vec<String>,
    /// Their types as stored, for a file that stores types (Parquet, JSON); empty for CSV.
    pub column_types: Vec<String>,
    /// Up to [`SAMPLE_ROWS`] rows, as text.
    pub sample: Vec<Vec<Option<String>>>,
    pub bytes: u64,
}

pub const SAMPLE_ROWS: usize = 500;

/// Longest line an import reads (long product descriptions fit); longer ones are an error
/// that names the line.
pub const MAX_LINE_BYTES: usize = 4 << 20;

/// The read buffer of the sniffer and of the sample (DuckDB's default, 32 MiB, is for
/// whole-file scans: the first buffer of a big file took longer to read than the sample).
/// DuckDB wants a buffer larger than the longest line.
const SAMPLE_BUFFER_BYTES: usize = 2 * MAX_LINE_BYTES;

/// SQL string literal.
pub(crate) fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// SQL identifier.
pub(crate) fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

impl Source {
    /// Inspects `path`: refuses empty files and files that are not tables.
    pub fn inspect(conn: &Connection, path: &Path) -> Result<Self> {
        Self::inspect_with(conn, path, None, None)
    }

    /// Like [`Source::inspect`], with a dialect and encoding given by a mapping instead of sniffed.
    pub fn inspect_with(
        conn: &Connection,
        path: &Path,
        dialect: Option<&CsvDialect>,
        encoding: Option<&str>,
    ) -> Result<Self> {
        let (bytes, head) = read_head(path)?;
        let compression = compression_of(&head);
        let kind = kind_of(path, &head);
        let encoding = match encoding {
            Some(e) => e.to_string(),
            None if compression.is_none() && kind == FileKind::Csv => {
                sniff_encoding(&head).to_string()
            }
            None => "utf-8".to_string(),
        };
        let mut src = Source {
            path: path.to_path_buf(),
            kind,
            compression,
            encoding,
            dialect: dialect.cloned(),
            columns: Vec::new(),
            column_types: Vec::new(),
            sample: Vec::new(),
            bytes,
        };
        match kind {
            FileKind::Csv => {
                let (dialect, names) = src.sniff(conn, dialect)?;
                src.dialect = Some(dialect);
                src.columns = names;
            }
            FileKind::Parquet | FileKind::Ndjson => {
                (src.columns, src.column_types) = src.described_columns(conn)?.into_iter().unzip();
            }
        }
        src.sample = src.read_sample(conn)?;
        src.check_has_rows()?;
        Ok(src)
    }

    /// Refuses a file whose sample has no rows (a CSV file with only its header, say).
    fn check_has_rows(&self) -> Result<()> {
        let bad = |message: String| DataError::BadInput {
            path: self.path.clone(),
            message,
        };
        if self.kind == FileKind::Csv
            && self.dialect.as_ref().is_some_and(|d| d.header)
            && self.sample.is_empty()
        {
            return Err(bad(format!(
                "only a header line ({} columns: {}), no data rows: nothing to import",
                self.columns.len(),
                self.columns.join(", ")
            )));
        }
        if self.sample.is_empty() {
            return Err(bad("no rows could be read: nothing to import".into()));
        }
        Ok(())
    }

    /// The options every `read_csv` of this file shares.
    pub(crate) fn csv_options(&self) -> String {
        self.csv_options_typed(&[])
    }

    /// The `read_csv` options, with `types[i]` as the type of column `i` (text where the
    /// list is short). A value the reader cannot read as its type is a `CAST` reject.
    fn csv_options_typed(&self, types: &[&str]) -> String {
        let mut o = vec![
            format!("encoding = {}", lit(&self.encoding)),
            format!("max_line_size = {MAX_LINE_BYTES}"),
        ];
        if let Some(c) = &self.compression {
            o.push(format!("compression = {}", lit(c)));
        }
        if let Some(d) = &self.dialect {
            o.extend(dialect_options(d));
        }
        // Known columns, as text unless typed: DuckDB need not sniff the file again.
        if !self.columns.is_empty() {
            let cols: Vec<String> = self
                .columns
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{}: '{}'", lit(c), types.get(i).unwrap_or(&"VARCHAR")))
                .collect();
            o.push(format!(
                "auto_detect = false, columns = {{{}}}",
                cols.join(", ")
            ));
        }
        o.join(", ")
    }

    /// A table expression reading every column as text.
    pub(crate) fn scan_sql(&self, extra: &str) -> String {
        let p = lit(&self.path.to_string_lossy());
        match self.kind {
            FileKind::Csv => format!(
                "read_csv({p}, {}, all_varchar = true, strict_mode = false{extra})",
                self.csv_options()
            ),
            FileKind::Parquet => format!("read_parquet({p})"),
            FileKind::Ndjson => format!("read_json_auto({p}, format = 'newline_delimited')"),
        }
    }

    /// A CSV scan reading column `i` as `types[i]`, for the single pass.
    pub(crate) fn typed_csv_scan_sql(&self, types: &[&str], extra: &str) -> String {
        format!(
            "read_csv({}, {}, strict_mode = false{extra})",
            lit(&self.path.to_string_lossy()),
            self.csv_options_typed(types)
        )
    }

    /// A column reference as the file stores it.
    pub(crate) fn col_stored(&self, name: &str) -> String {
        format!("s.{}", ident(name))
    }

    /// A column reference as text, whatever its type in the file.
    pub(crate) fn col_text(&self, name: &str) -> String {
        match self.kind {
            FileKind::Csv => format!("s.{}", ident(name)),
            FileKind::Parquet | FileKind::Ndjson => format!("CAST(s.{} AS VARCHAR)", ident(name)),
        }
    }

    /// The CSV dialect (sniffed, or `given` by a mapping) and the column names.
    fn sniff(
        &self,
        conn: &Connection,
        given: Option<&CsvDialect>,
    ) -> Result<(CsvDialect, Vec<String>)> {
        let mut opts = vec![
            format!("encoding = {}", lit(&self.encoding)),
            format!("max_line_size = {MAX_LINE_BYTES}"),
            format!("buffer_size = {SAMPLE_BUFFER_BYTES}"),
        ];
        if let Some(c) = &self.compression {
            opts.push(format!("compression = {}", lit(c)));
        }
        if let Some(d) = given {
            opts.extend(dialect_options(d));
        }
        let sql = format!(
            "SELECT Delimiter, Quote, Escape, HasHeader, SkipRows, list_transform(Columns, lambda c: c.name)
             FROM sniff_csv({}, {}, strict_mode = false, ignore_errors = true)",
            lit(&self.path.to_string_lossy()),
            opts.join(", ")
        );
        let row = conn
            .query_row(&sql, [], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, bool>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, duckdb::types::Value>(5)?,
                ))
            })
            .map_err(|e| self.read_error(e))?;
        let names = match row.5 {
            duckdb::types::Value::List(items) => items
                .into_iter()
                .map(|v| match v {
                    duckdb::types::Value::Text(t) => t,
                    other => format!("{other:?}"),
                })
                .collect(),
            _ => Vec::new(),
        };
        if let Some(d) = given {
            return Ok((d.clone(), names));
        }
        let unempty = |s: String| if s == "(empty)" { String::new() } else { s };
        // Apostrophes in titles ("Schindler's List") fool the sniffer into single-quote
        // quoting, which silently merges lines; exports quote with '"' (RFC 4180).
        let (quote, escape) = match unempty(row.1) {
            q if q == "'" => ("\"".to_string(), "\"".to_string()),
            q => (q, unempty(row.2)),
        };
        let dialect = CsvDialect {
            delimiter: row.0,
            quote,
            escape,
            header: row.3,
            skip: row.4.max(0) as u64,
        };
        Ok((dialect, names))
    }

    /// The columns' names and stored types.
    fn described_columns(&self, conn: &Connection) -> Result<Vec<(String, String)>> {
        let sql = format!(
            "DESCRIBE SELECT * FROM {} s",
            self.scan_sql(", ignore_errors = true")
        );
        let mut stmt = conn.prepare(&sql).map_err(|e| self.read_error(e))?;
        let columns = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.read_error(e))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(columns)
    }

    fn read_sample(&self, conn: &Connection) -> Result<Vec<Vec<Option<String>>>> {
        let cols: Vec<String> = self.columns.iter().map(|c| self.col_text(c)).collect();
        let sql = format!(
            "SELECT {} FROM {} s LIMIT {SAMPLE_ROWS}",
            cols.join(", "),
            self.scan_sql(&format!(
                ", ignore_errors = true, buffer_size = {SAMPLE_BUFFER_BYTES}"
            ))
        );
        let mut stmt = conn.prepare(&sql).map_err(|e| self.read_error(e))?;
        let n = self.columns.len();
        let rows = stmt
            .query_map([], |r| {
                (0..n)
                    .map(|i| r.get::<_, Option<String>>(i))
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(|e| self.read_error(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.read_error(e))?;
        Ok(rows)
    }

    /// Sample values of one column (non-empty ones).
    pub fn sample_values(&self, column: &str) -> Vec<&str> {
        let Some(i) = self.columns.iter().position(|c| c == column) else {
            return Vec::new();
        };
        self.sample
            .iter()
            .filter_map(|r| r[i].as_deref())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// Sample values of the column at `i`, trimmed, empty ones left out.
    pub(crate) fn sample_column(&self, i: usize) -> Vec<String> {
        self.sample
            .iter()
            .filter_map(|r| r.get(i).cloned().flatten())
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect()
    }

    pub(crate) fn read_error(&self, e: duckdb::Error) -> DataError {
        let msg = e.to_string();
        if msg.contains("Maximum line size") {
            // DuckDB reports these on the wrong line; find the real one.
            if let Some((line, bytes)) = self.first_long_line() {
                return DataError::BadLine {
                    path: self.path.clone(),
                    line,
                    message: format!(
                        "the line is {bytes} bytes long, over the {} MiB a line may have",
                        MAX_LINE_BYTES >> 20
                    ),
                };
            }
        }
        // DuckDB's CSV errors carry "CSV Error on Line: N".
        if let Some(line) = msg
            .split("Line: ")
            .nth(1)
            .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|s| s.parse::<u64>().ok())
        {
            return DataError::BadLine {
                path: self.path.clone(),
                line,
                message: first_lines(&msg, 3),
            };
        }
        DataError::BadInput {
            path: self.path.clone(),
            message: first_lines(&msg, 3),
        }
    }
}

impl Source {
    /// The first line longer than [`MAX_LINE_BYTES`] (1-based) and its length; plain files only.
    fn first_long_line(&self) -> Option<(u64, usize)> {
        use std::io::BufRead;
        if self.compression.is_some() {
            return None;
        }
        let mut r =
            std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(&self.path).ok()?);
        let (mut line, mut len) = (1u64, 0usize);
        loop {
            let buf = r.fill_buf().ok()?;
            if buf.is_empty() {
                return (len > MAX_LINE_BYTES).then_some((line, len));
            }
            let n = buf.len();
            for &b in buf {
                if b == b'\n' {
                    if len > MAX_LINE_BYTES {
                        return Some((line, len));
                    }
                    line += 1;
                    len = 0;
                } else {
                    len += 1;
                }
            }
            r.consume(n);
        }
    }
}

/// The file's size and its first megabyte; refuses directories and empty files.
fn read_head(path: &Path) -> Result<(u64, Vec<u8>)> {
    let bad = |message: String| DataError::BadInput {
        path: path.to_path_buf(),
        message,
    };
    let io = |e| DataError::io(path.display().to_string(), e);
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        return Err(bad("is a directory, not a file".into()));
    }
    if meta.len() == 0 {
        return Err(bad("the file is empty (0 bytes): nothing to import".into()));
    }
    let mut head = vec![0u8; 1 << 20];
    let n = {
        let mut f = std::fs::File::open(path).map_err(io)?;
        read_up_to(&mut f, &mut head).map_err(io)?
    };
    head.truncate(n);
    Ok((meta.len(), head))
}

/// `gzip` or `zstd` by the file's magic bytes.
fn compression_of(head: &[u8]) -> Option<String> {
    if head.starts_with(&[0x1f, 0x8b]) {
        Some("gzip".to_string())
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some("zstd".to_string())
    } else {
        None
    }
}

/// Parquet by its magic bytes or name, NDJSON by name, else CSV (a compression suffix aside).
fn kind_of(path: &Path, head: &[u8]) -> FileKind {
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let stem = name
        .trim_end_matches(".gz")
        .trim_end_matches(".zst")
        .trim_end_matches(".zstd");
    if head.starts_with(b"PAR1") || stem.ends_with(".parquet") || stem.ends_with(".pq") {
        FileKind::Parquet
    } else if stem.ends_with(".jsonl") || stem.ends_with(".ndjson") || stem.ends_with(".json") {
        FileKind::Ndjson
    } else {
        FileKind::Csv
    }
}

fn dialect_options(d: &CsvDialect) -> Vec<String> {
    vec![
        format!("delim = {}", lit(&d.delimiter)),
        format!("quote = {}", lit(&d.quote)),
        format!("escape = {}", lit(&d.escape)),
        format!("header = {}", d.header),
        format!("skip = {}", d.skip),
    ]
}

pub(crate) fn first_lines(msg: &str, n: usize) -> String {
    let text = msg
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(n)
        .collect::<Vec<_>>()
        .join("; ");
    if text.chars().count() > 600 {
        format!("{}…", text.chars().take(600).collect::<String>())
    } else {
        text
    }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// UTF-8 unless the first megabyte has bytes that are not UTF-8; then Latin-1.
fn sniff_encoding(head: &[u8]) -> &'static str {
    match std::str::from_utf8(head) {
        Ok(_) => "utf-8",
        // A multi-byte character cut by the end of the buffer is still UTF-8.
        Err(e) if e.error_len().is_none() => "utf-8",
        Err(_) => "latin-1",
    }
}
