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
        return Err(ModelError::SplitChanged {
            run_id,
            split: ds.split.clone(),
        });
    }
    Ok(())
}

/// Reads a safetensors file after checking that it is whole: its header must parse and the
/// tensors it describes must fit in the file (a truncated download otherwise fails deep in
/// the loader, or maps past the end).
pub(crate) fn load_safetensors(
    path: &Path,
    device: &candle_core::Device,
) -> Result<std::collections::HashMap<String, candle_core::Tensor>> {
    check_safetensors(path)?;
    Ok(candle_core::safetensors::load(path, device)?)
}

fn check_safetensors(path: &Path) -> Result<()> {
    let bad = |message: String| {
        ModelError::io(
            path.display().to_string(),
            std::io::Error::new(std::io::ErrorKind::InvalidData, message),
        )
    };
    let mut file =
        std::fs::File::open(path).map_err(|e| ModelError::io(path.display().to_string(), e))?;
    let size = file
        .metadata()
        .map_err(|e| ModelError::io(path.display().to_string(), e))?
        .len();
    let mut head = [0u8; 8];
    use std::io::Read;
    if size < 8 || file.read_exact(&mut head).is_err() {
        return Err(bad(format!(
            "not a safetensors file: {size} bytes, shorter than its 8-byte header length"
        )));
    }
    let header_len = u64::from_le_bytes(head);
    if header_len > size - 8 || header_len > 100 << 20 {
        return Err(bad(format!(
            "truncated or not a safetensors file: the header says {header_len} bytes of metadata, the file has {} after the length",
            size - 8
        )));
    }
    let mut header = vec![0u8; header_len as usize];
    file.read_exact(&mut header)
        .map_err(|e| ModelError::io(path.display().to_string(), e))?;
    let meta: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&header)
        .map_err(|e| bad(format!("the safetensors header is not valid JSON: {e}")))?;
    let end = meta
        .values()
        .filter_map(|t| t.get("data_offsets")?.as_array()?.get(1)?.as_u64())
        .max()
        .unwrap_or(0);
    let data = size - 8 - header_len;
    if end > data {
        return Err(bad(format!(
            "truncated: the header describes {end} bytes of tensors, the file holds {data} (an interrupted copy or download?)"
        )));
    }
    Ok(())
}
