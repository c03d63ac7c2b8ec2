//! The cache of public datasets that `datasets/fetch.sh` fills.

use std::path::PathBuf;

use crate::error::{DataError, Result};

/// `$SHOPLAB_DATASETS`, else `~/.cache/shoplab/datasets`.
pub fn cache_dir() -> PathBuf {
    std::env::var_os("SHOPLAB_DATASETS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("HOME")
                .map(PathBuf::from)
                .unwrap_or_else(std::env::temp_dir)
                .join(".cache/shoplab/datasets")
        })
}

/// A file of the cache (`rel` as `ml-100k/ml-100k.inter`); an error says how to fetch it.
pub fn path(rel: &str) -> Result<PathBuf> {
    let p = cache_dir().join(rel);
    if p.exists() {
        Ok(p)
    } else {
        Err(DataError::BadInput {
            path: p,
            message: "missing: run `bash datasets/fetch.sh` first".into(),
        })
    }
}
