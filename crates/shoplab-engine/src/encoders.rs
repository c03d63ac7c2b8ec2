//! Pretrained text encoders (BERT family, Hugging Face folder layout) for the front-ends:
//! the imported models, importing one, and embedding texts without a workspace.

use std::path::{Path, PathBuf};

use shoplab_model::{device, text};

use crate::Result;

/// An imported encoder: its name and folder.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EncoderInfo {
    pub name: String,
    pub dir: PathBuf,
}

/// Copies a model folder (config.json, tokenizer.json, model.safetensors) into the models
/// folder after checking that it loads; returns where it went.
pub fn import_encoder(folder: &Path, name: Option<&str>) -> Result<EncoderInfo> {
    let name = text::import_model(folder, name)?;
    let dir = text::models_dir().join(&name);
    Ok(EncoderInfo { name, dir })
}

/// The imported encoders.
pub fn encoders() -> Vec<EncoderInfo> {
    let root = text::models_dir();
    text::list_models()
        .into_iter()
        .map(|name| EncoderInfo {
            dir: root.join(&name),
            name,
        })
        .collect()
}

/// `texts` embedded by an encoder (an imported name, a unique part of one, or a model
/// folder) on `device` (cpu, cuda or auto): the encoder's name and one vector per text.
pub fn embed_texts(model: &str, device: &str, texts: &[&str]) -> Result<(String, Vec<Vec<f32>>)> {
    let (name, dir) = text::resolve_model(model)?;
    let (dev, _) = device::select(device);
    let encoder = text::TextEncoder::load(&dir, &name, &dev)?;
    Ok((name, encoder.embed(texts)?))
}
