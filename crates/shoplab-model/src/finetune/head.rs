//! The linear head on the encoder's pooled embedding (a rating, or the logit of the flag):
//! its predictions, and the fine-tuned model folder it is exported with.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor, Var};

use super::linear::Linear;
use crate::encoder::{Encoder, embed_all, export_folder};
use crate::error::Result;
use crate::spec::{FinetuneConfig, TextTask};

/// The head on the pooled embedding: a rating, or the logit of the flag.
pub(super) struct Head {
    pub(super) w: Var,
    pub(super) b: Var,
}

impl Head {
    pub(super) fn from_linear(m: &Linear, device: &Device) -> Result<Self> {
        Ok(Head {
            w: Var::from_tensor(&Tensor::from_vec(m.w.clone(), (m.w.len(), 1), device)?)?,
            b: Var::from_tensor(&Tensor::from_vec(vec![m.b], 1, device)?)?,
        })
    }

    /// The head's tensors by the names its checkpoint holds.
    pub(super) fn named(&self) -> [(&'static str, &Var); 2] {
        [("head.weight", &self.w), ("head.bias", &self.b)]
    }
}

/// Predictions (ratings, or probabilities) of the encoder and head for every encoding.
pub(super) fn predict_all(
    enc: &Encoder,
    head: &Head,
    task: TextTask,
    encodings: &[tokenizers::Encoding],
) -> Result<Vec<f32>> {
    let x = embed_all(enc, encodings)?;
    let w = head.w.as_tensor().flatten_all()?.to_vec1::<f32>()?;
    let b = head.b.as_tensor().to_vec1::<f32>()?[0];
    Ok(x.iter()
        .map(|row| {
            let z = b + row.iter().zip(&w).map(|(a, c)| a * c).sum::<f32>();
            match task {
                TextTask::Rating => z,
                TextTask::Recommend | TextTask::TwoTower => 1.0 / (1.0 + (-z).exp()),
            }
        })
        .collect())
}

/// Writes the fine-tuned encoder as a model folder (`<run>/model/`): the base folder's
/// files, `model.safetensors` with the merged weights under the original names, and the
/// head (`head.safetensors`, `head.json`).
pub(super) fn export(
    enc: &Encoder,
    head: &Head,
    cfg: &FinetuneConfig,
    base: &Path,
    art: &Path,
) -> Result<PathBuf> {
    let h: HashMap<String, Tensor> = [
        (
            "weight".to_string(),
            head.w.as_tensor().t()?.to_device(&Device::Cpu)?,
        ),
        (
            "bias".to_string(),
            head.b.as_tensor().to_device(&Device::Cpu)?,
        ),
    ]
    .into();
    let meta = serde_json::json!({
        "task": cfg.task.name(),
        "method": cfg.method.name(),
        "base_model": cfg.model,
        "output": match cfg.task {
            TextTask::Rating => "rating",
            TextTask::Recommend | TextTask::TwoTower => "logit of recommended",
        },
    });
    export_folder(enc, &h, &meta, base, art)
}
