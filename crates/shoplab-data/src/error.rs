//! Errors of the data layer: each names the file, and the line and column where it applies.

use std::path::PathBuf;

/// Everything that can go wrong in the workspace and its imports.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("no workspace at {path} (importing a file creates one, so does `shoplab init`)")]
    NoWorkspace { path: PathBuf },

    #[error(
        "{path}: a DuckDB database, but not a ShopLab workspace (no shoplab_meta table); importing a file into it (or `shoplab init`) adds ShopLab's tables"
    )]
    NotShopLab { path: PathBuf },

    #[error(
        "{path}: made by a newer ShopLab (workspace schema version {found}; this one reads up to {supported}); the file is left as it is, open it with the newer ShopLab"
    )]
    NewerWorkspace {
        path: PathBuf,
        found: usize,
        supported: usize,
    },

    #[error("{path}: not a DuckDB workspace file (expected the DuckDB header; found {found})")]
    NotAWorkspace { path: PathBuf, found: String },

    #[error(
        "{path}: the workspace is locked by another process{holder}; close the other program (DuckDB CLI, notebook, workbench) or open it read-only"
    )]
    WorkspaceLocked { path: PathBuf, holder: String },

    #[error("{path}: {message}")]
    BadInput { path: PathBuf, message: String },

    #[error("{path}, line {line}: {message}")]
    BadLine {
        path: PathBuf,
        line: u64,
        message: String,
    },

    #[error("{path}: format not recognized: {message}")]
    UnknownFormat { path: PathBuf, message: String },

    #[error("mapping: {0}")]
    Mapping(String),

    #[error("{path}: import failed, the workspace is unchanged: {message}")]
    ImportFailed { path: PathBuf, message: String },

    #[error("split: {0}")]
    Split(String),

    #[error("no such {kind}: {name}")]
    NotFound { kind: &'static str, name: String },

    #[error("cancelled")]
    Cancelled,

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    #[error("DuckDB: {0}")]
    Db(#[from] duckdb::Error),

    #[error("Polars: {0}")]
    Polars(#[from] polars::error::PolarsError),
}

pub type Result<T, E = DataError> = std::result::Result<T, E>;

impl DataError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}
