//! ShopLab's data layer: the DuckDB workspace file, import of common e-commerce exports
//! (format recognized, atomic, idempotent, honest about rejects), the profile, and splits
//! readable as Polars DataFrames.
//!
//! Everything here is UI-free; front-ends reach it through `shoplab-engine`.

mod canonical;
pub mod catalog;
pub mod datasets;
pub mod dialect;
pub mod error;
mod formats;
pub mod frame;
pub mod import;
mod interaction;
pub mod lake;
pub mod mapping;
pub mod profile;
pub mod quality;
mod row_hashes;
pub mod schema;
pub mod simlab;
pub mod source;
pub mod split;
pub mod store;
mod timestamps;
pub mod workspace;

pub use error::{DataError, Result};
pub use import::{ImportOptions, ImportReport, Reject, hash_file};
pub use mapping::{Mapping, Target, detect};
pub use profile::Profile;
pub use source::Source;
pub use split::{SplitSpec, SplitSummary, Strategy};
pub use workspace::{Migration, QueryWatch, TableCount, Workspace};

pub use duckdb;
pub use polars;
