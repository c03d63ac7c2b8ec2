//! The workspace: one DuckDB file that the DuckDB CLI, Python and notebooks open too.

use std::io::Read;
use std::path::{Path, PathBuf};

use duckdb::{AccessMode, Config, Connection};

use crate::error::{DataError, Result};
use crate::schema::{MIGRATIONS, TABLES};

/// An open workspace. Owns its DuckDB connection: a `Workspace` lives on one thread
/// (`duckdb::Connection` is `Send` but not `Sync`); use [`Workspace::try_clone`] for another.
pub struct Workspace {
    conn: Connection,
    path: PathBuf,
    migration: Option<Migration>,
}

/// Row count of one workspace table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableCount {
    pub table: String,
    pub rows: u64,
}

/// How [`Workspace::open_with`] treats a missing file and an older schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// An existing workspace, migrated when older.
    Existing,
    /// Created (or adopted, for a DuckDB file without ShopLab's tables) when missing.
    Create,
    /// An existing workspace, never written.
    ReadOnly,
}

/// An older workspace brought up to this ShopLab's schema when it was opened.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Migration {
    pub from: usize,
    pub to: usize,
    /// The copy of the file as it was, beside it.
    pub backup: PathBuf,
}

impl std::fmt::Display for Migration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "migrated the workspace from schema version {} to {}; the file as it was is kept at {}",
            self.from,
            self.to,
            self.backup.display()
        )
    }
}

impl Workspace {
    /// Opens the existing workspace at `path`; an older one is migrated after a backup copy
    /// ([`Workspace::migration`]). A missing file, a file that is not a workspace and one
    /// from a newer ShopLab are refused, the file untouched.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path.as_ref(), Mode::Existing)
    }

    /// Opens the workspace at `path`, creating it (and its schema) when the file does not
    /// exist; a DuckDB database without ShopLab's tables gets them. For the commands that
    /// make workspaces (import, init, the demo).
    pub fn create(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path.as_ref(), Mode::Create)
    }

    /// Opens an existing workspace read-only (several readers may share the file).
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(path.as_ref(), Mode::ReadOnly)
    }

    /// The migration done when this workspace was opened, if it was older.
    pub fn migration(&self) -> Option<&Migration> {
        self.migration.as_ref()
    }

    fn open_with(path: &Path, mode: Mode) -> Result<Self> {
        let exists = check_header(path, mode)?;
        let applied = if exists {
            schema_version(path, mode)?
        } else {
            None
        };
        let migration = match (mode, applied) {
            (Mode::Existing | Mode::Create, Some(v)) if v > 0 && v < MIGRATIONS.len() => {
                Some(backup(path, v)?)
            }
            _ => None,
        };
        let mut config = Config::default();
        if mode == Mode::ReadOnly {
            config = config.access_mode(AccessMode::ReadOnly)?;
        }
        let conn = Connection::open_with_flags(path, config).map_err(|e| open_error(path, e))?;
        let ws = Self {
            conn,
            path: path.to_path_buf(),
            migration,
        };
        if mode != Mode::ReadOnly {
            ws.migrate()?;
        }
        crate::row_hashes::register(&ws.conn)?;
        Ok(ws)
    }

    /// A second handle on the same database, for another thread.
    pub fn try_clone(&self) -> Result<Self> {
        Ok(Self {
            conn: self.conn.try_clone()?,
            path: self.path.clone(),
            migration: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The DuckDB connection, for queries the data layer does not wrap.
    /// Writes a query's result to `path` through DuckDB's `COPY`: Parquet for a `.parquet`
    /// file, else CSV with a header.
    pub fn copy_to(&self, query: &str, path: &Path) -> Result<()> {
        let target = path.display().to_string().replace('\'', "''");
        let format = match path.extension().and_then(|e| e.to_str()) {
            Some("parquet") => "FORMAT parquet",
            _ => "FORMAT csv, HEADER",
        };
        let query = query.trim().trim_end_matches(';');
        self.connection()
            .execute_batch(&format!("COPY ({query}) TO '{target}' ({format})"))
            .map_err(|e| DataError::Io {
                context: format!("writing {}", path.display()),
                source: std::io::Error::other(e.to_string()),
            })
    }

    /// Runs `work` in one transaction: committed when it succeeds, rolled back (the
    /// workspace as it was) when it fails.
    pub fn transaction<T>(
        &self,
        work: impl FnOnce(&Connection) -> std::result::Result<T, duckdb::Error>,
    ) -> Result<T> {
        let conn = self.connection();
        conn.execute_batch("BEGIN TRANSACTION")?;
        match work(conn).and_then(|v| conn.execute_batch("COMMIT").map(|()| v)) {
            Ok(v) => Ok(v),
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e.into())
            }
        }
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    fn migrate(&self) -> Result<()> {
        self.conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS shoplab_meta(key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)",
        )?;
        let applied: i64 = self
            .conn
            .query_row(
                "SELECT coalesce(max(CAST(value AS INTEGER)), 0) FROM shoplab_meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )?;
        // The steps due, in one transaction: a new workspace's schema is one commit, and an
        // upgrade happens whole or not at all.
        let steps: Vec<String> = MIGRATIONS
            .iter()
            .enumerate()
            .skip(applied as usize)
            .map(|(i, step)| {
                format!(
                    "{step};\nINSERT OR REPLACE INTO shoplab_meta VALUES ('schema_version', '{}');",
                    i + 1
                )
            })
            .collect();
        if !steps.is_empty() {
            self.conn
                .execute_batch(&format!("BEGIN TRANSACTION; {} COMMIT;", steps.join("\n")))?;
        }
        Ok(())
    }

    /// Row counts of the workspace's tables, in display order.
    pub fn table_counts(&self) -> Result<Vec<TableCount>> {
        TABLES
            .iter()
            .map(|t| {
                let rows: i64 =
                    self.conn
                        .query_row(&format!("SELECT count(*) FROM {t}"), [], |r| r.get(0))?;
                Ok(TableCount {
                    table: (*t).to_string(),
                    rows: rows as u64,
                })
            })
            .collect()
    }

    /// A value from `shoplab_meta`.
    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT value FROM shoplab_meta WHERE key = ?")?;
        let mut rows = stmt.query([key])?;
        Ok(match rows.next()? {
            Some(row) => Some(row.get(0)?),
            None => None,
        })
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO shoplab_meta VALUES (?, ?)",
            [key, value],
        )?;
        Ok(())
    }
}

/// Refuses files that exist but are not DuckDB databases before DuckDB touches them, and
/// a missing file unless the workspace is to be created. Whether the file has content.
fn check_header(path: &Path, mode: Mode) -> Result<bool> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return match mode {
                Mode::Create => Ok(false),
                Mode::Existing | Mode::ReadOnly => Err(DataError::NoWorkspace {
                    path: path.to_path_buf(),
                }),
            };
        }
        Err(e) => return Err(DataError::io(format!("{}", path.display()), e)),
    };
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(DataError::NotAWorkspace {
            path: path.to_path_buf(),
            found: "a folder".into(),
        });
    }
    let mut head = [0u8; 12];
    let n = file
        .read(&mut head)
        .map_err(|e| DataError::io(format!("{}", path.display()), e))?;
    if n == 0 && mode == Mode::Create {
        return Ok(false); // an empty file becomes a new workspace
    }
    if n < 12 || &head[8..12] != b"DUCK" {
        let found = if n == 0 {
            "an empty file".to_string()
        } else {
            let shown: String = head[..n]
                .iter()
                .map(|b| {
                    if b.is_ascii_graphic() {
                        *b as char
                    } else {
                        '.'
                    }
                })
                .collect();
            format!("{n} bytes starting {shown:?}")
        };
        return Err(DataError::NotAWorkspace {
            path: path.to_path_buf(),
            found,
        });
    }
    Ok(true)
}

/// The schema version of the DuckDB file at `path`, read through a read-only connection
/// that is closed again: `None` for a DuckDB database without ShopLab's tables (refused
/// unless a workspace is being created). A newer ShopLab's workspace is refused.
fn schema_version(path: &Path, mode: Mode) -> Result<Option<usize>> {
    let config = Config::default().access_mode(AccessMode::ReadOnly)?;
    let conn = Connection::open_with_flags(path, config).map_err(|e| open_error(path, e))?;
    let has_meta: i64 = conn.query_row(
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'shoplab_meta' AND schema_name = 'main'",
        [],
        |r| r.get(0),
    )?;
    if has_meta == 0 {
        return match mode {
            Mode::Create => Ok(None),
            Mode::Existing | Mode::ReadOnly => Err(DataError::NotShopLab {
                path: path.to_path_buf(),
            }),
        };
    }
    let found: Option<String> = conn
        .query_row(
            "SELECT max(value) FROM shoplab_meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .ok()
        .flatten();
    let version = match found.as_deref().map(str::parse::<usize>) {
        Some(Ok(v)) => v,
        None => 0,
        Some(Err(_)) => {
            return Err(DataError::NotShopLab {
                path: path.to_path_buf(),
            });
        }
    };
    if version > MIGRATIONS.len() {
        return Err(DataError::NewerWorkspace {
            path: path.to_path_buf(),
            found: version,
            supported: MIGRATIONS.len(),
        });
    }
    Ok(Some(version))
}

/// Copies an older workspace (and its write-ahead log) beside it before it is migrated:
/// `NAME.v<version>.bak`, numbered on when that exists.
fn backup(path: &Path, version: usize) -> Result<Migration> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "workspace".into());
    let mut target = path.with_file_name(format!("{name}.v{version}.bak"));
    let mut n = 1;
    while target.exists() {
        n += 1;
        target = path.with_file_name(format!("{name}.v{version}.bak{n}"));
    }
    std::fs::copy(path, &target)
        .map_err(|e| DataError::io(format!("backing up {} before migrating", path.display()), e))?;
    let wal = path.with_file_name(format!("{name}.wal"));
    if wal.exists() {
        let to = target.with_file_name(format!(
            "{}.wal",
            target.file_name().unwrap_or_default().to_string_lossy()
        ));
        std::fs::copy(&wal, &to)
            .map_err(|e| DataError::io(format!("backing up {}", wal.display()), e))?;
    }
    Ok(Migration {
        from: version,
        to: MIGRATIONS.len(),
        backup: target,
    })
}

fn open_error(path: &Path, e: duckdb::Error) -> DataError {
    let msg = e.to_string();
    if msg.contains("Could not set lock") || msg.contains("Conflicting lock") {
        let holder = msg
            .split("PID ")
            .nth(1)
            .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
            .map(|pid| format!(" (pid {pid})"))
            .unwrap_or_default();
        return DataError::WorkspaceLocked {
            path: path.to_path_buf(),
            holder,
        };
    }
    if msg.contains("not a valid DuckDB database") {
        return DataError::NotAWorkspace {
            path: path.to_path_buf(),
            found: msg,
        };
    }
    DataError::Db(e)
}

/// Watches and interrupts the query running on a workspace's connection from another thread.
#[derive(Clone)]
pub struct QueryWatch {
    progress: duckdb::ProgressHandle,
    interrupt: std::sync::Arc<duckdb::InterruptHandle>,
}

impl QueryWatch {
    /// Fraction done of the running query, when DuckDB can estimate it.
    pub fn fraction(&self) -> Option<f64> {
        self.progress
            .query_progress()
            .percentage()
            .map(|p| (p / 100.0).clamp(0.0, 1.0))
    }

    /// Stops the running query; the operation fails with `DataError::Cancelled` and rolls back.
    pub fn interrupt(&self) {
        self.interrupt.interrupt();
    }
}

impl Workspace {
    /// A handle for progress and cancel of the queries this workspace runs.
    pub fn watch(&self) -> Result<QueryWatch> {
        self.conn.set_query_progress_tracking(true)?;
        Ok(QueryWatch {
            progress: self.conn.progress_handle(),
            interrupt: self.conn.interrupt_handle(),
        })
    }
}
