//! Importing an export into the workspace: atomic (one transaction), idempotent (content
//! hash), honest (rows read / loaded / rejected, each rejected row kept with line and reason).
//!
//! This module decides the path (single pass or staging) and holds the options; below it:
//! `single_pass` and `staging` (the two load paths), `load` (the inserts per target),
//! `rejects` and `report` (bookkeeping: rejects, the `imports` row, idempotence),
//! `plan` and `convert` (the SQL that reads and checks the file), `context` (one import
//! under way), `scratch` (scratch tables, transaction, errors) and `hashing`; `remote` (an
//! import read and checked on a cluster, loaded here).

mod context;
mod convert;
mod hashing;
mod load;
mod plan;
mod rejects;
mod remote;
mod report;
mod scratch;
mod single_pass;
mod staging;

use std::path::Path;
use std::time::Instant;

use crate::canonical::Target;
use crate::error::Result;
use crate::mapping::{self, Mapping};
use crate::source::Source;
use crate::workspace::Workspace;

use context::Run;
use hashing::Hashing;
pub use hashing::hash_file;
pub use remote::{Cell, CellType, RemoteImport};
pub use report::{ImportReport, Reject};
use scratch::trace;

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
        let salt = if opts.pseudonymize {
            Some(self.pseudonym_salt()?)
        } else {
            None
        };
        let run = Run::new(&src, &mapping, salt.as_deref(), started);
        // A CSV or Parquet event log is loaded in one pass when every record turns out good;
        // otherwise (rejects, duplicates to drop, JSON input) it goes through staging.
        // A file the size of one imported before may be that file: its hash is awaited first.
        if self.single_pass_fits(&run, opts.dedupe)?
            && let Some(report) = self.import_in_one_pass(&run, &mut hashing)?
        {
            return Ok(report);
        }
        self.import_through_staging(&run, &mut hashing, opts.dedupe)
    }
}
