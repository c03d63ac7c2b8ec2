//! A run's folder (`<workspace>.runs/run-<id>`): the names of its files, and how they are
//! written (a temporary file renamed into place) and read. The bottom layer: every run kind
//! and the models use it, it uses nothing above the dataset.

use std::path::{Path, PathBuf};

use crate::dataset::Dataset;
use crate::error::{ModelError, Result};

/// The last finished epoch's trainable tensors.
pub(crate) const CHECKPOINT: &str = "checkpoint.safetensors";
/// The tensors of the epoch with the best validation value.
pub(crate) const BEST: &str = "best.safetensors";
/// The fitted model, as `load_run` reads it.
pub(crate) const MODEL: &str = "model.safetensors";
/// The early-stopping state, saved with each checkpoint.
pub(crate) const STATE: &str = "state.json";
/// The optimizer's moments, saved with each checkpoint.
pub(crate) const OPTIMIZER: &str = "optimizer.safetensors";
/// The run's user and item numbering.
pub(crate) const IDS: &str = "ids.json";
/// A text run's model folder in the Hugging Face layout.
pub(crate) const EXPORT: &str = "model";

/// Writes `path` through `write` into a temporary file, then renames it into place, so a
/// checkpoint (or its state) is either the old one or the new one.
pub(crate) fn replace_file(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let tmp: PathBuf = path.with_extension("tmp");
    write(&tmp)?;
    std::fs::rename(&tmp, path).map_err(|e| ModelError::io(path.display().to_string(), e))
}

pub(crate) fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string(value).unwrap_or_default();
    replace_file(path, |tmp| {
        std::fs::write(tmp, text).map_err(|e| ModelError::io(tmp.display().to_string(), e))
    })
}

pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).map_err(|e| ModelError::io(path.display().to_string(), e))?;
    serde_json::from_str(&text).map_err(|e| {
        ModelError::io(
            path.display().to_string(),
            std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        )
    })
}

/// Writes the split's user and item numbering into the run folder `dir`.
pub(crate) fn write_ids(dir: &Path, ds: &Dataset) -> Result<()> {
    write_json(&dir.join(IDS), &(&ds.users, &ds.items))
}

/// The run's user and item numbering must be the split's.
pub(crate) fn check_ids(dir: &Path, ds: &Dataset, run_id: i64) -> Result<()> {
    let (users, items): (Vec<String>, Vec<String>) = read_json(&dir.join(IDS))?;
    if users != ds.users || items != ds.items {
        return Err(ModelError::Run(
            run_id,
            format!(
                "split \"{}\" changed since the run was trained (users/items differ)",
                ds.split
            ),
        ));
    }
    Ok(())
}
