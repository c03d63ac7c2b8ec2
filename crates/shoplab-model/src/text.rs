//! Text encoders: a BERT-family model in the Hugging Face folder layout (`config.json`,
//! `tokenizer.json`, `model.safetensors`, and for sentence-transformers models
//! `modules.json`, `1_Pooling/config.json`, `sentence_bert_config.json`), run with
//! the encoder of [`crate::bert`] and the `tokenizers` crate.
//!
//! A sentence's embedding is the mean of its token states over real tokens (the attention
//! mask), then L2-normalized when the model's `modules.json` has a `Normalize` module —
//! what sentence-transformers computes. The shipped `tokenizer.json` of all-MiniLM-L6-v2
//! pads every input to 128 tokens; padding is turned off here and each batch is padded to
//! its longest input, with the mask.
//!
//! Imported models live in one folder per model under [`models_dir`] (`shoplab model
//! import`), found again by name or by a unique part of it.

use std::path::{Path, PathBuf};

use candle_core::{D, DType, Device, Tensor};
use std::collections::HashMap;

use crate::bert::BertConfig;
use tokenizers::{Tokenizer, TruncationParams};

use crate::error::{ModelError, Result};

/// Texts per forward pass.
pub const BATCH: usize = 32;

/// How token states become one vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    Mean,
    Cls,
}

/// A loaded encoder.
pub struct TextEncoder {
    pub name: String,
    folder: Folder,
    weights: HashMap<String, Tensor>,
    /// The folder's pooling, normalization, width and sequence length.
    pub pooling: Pooling,
    pub normalize: bool,
    pub dim: usize,
    pub max_tokens: usize,
    device: Device,
}

fn io(path: &Path, e: impl std::fmt::Display) -> ModelError {
    ModelError::io(
        path.display().to_string(),
        std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
    )
}

fn read_json(path: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|e| io(path, e))?;
    serde_json::from_str(&text).map_err(|e| io(path, e))
}

/// The folder of imported models: `$SHOPLAB_MODELS`, else `$XDG_DATA_HOME/shoplab/models`,
/// else `~/.local/share/shoplab/models`.
pub fn models_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("SHOPLAB_MODELS") {
        return PathBuf::from(d);
    }
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    data.join("shoplab/models")
}

/// Files an encoder folder must have.
const REQUIRED: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// Copies an HF-layout model folder into [`models_dir`] under `name` (default: the folder's
/// name, lower case) after checking that it loads; returns the name.
pub fn import_model(src: &Path, name: Option<&str>) -> Result<String> {
    for f in REQUIRED {
        if !src.join(f).is_file() {
            return Err(io(
                src,
                format!(
                    "not a model folder: {f} is missing (it needs {})",
                    REQUIRED.join(", ")
                ),
            ));
        }
    }
    let name = name.map(str::to_string).unwrap_or_else(|| {
        src.file_name()
            .map_or("model".into(), |n| n.to_string_lossy().to_lowercase())
    });
    TextEncoder::load(src, &name, &Device::Cpu)?;
    let dst = models_dir().join(&name);
    copy_dir(src, &dst)?;
    Ok(name)
}

pub(crate) fn copy_dir(src: &Path, dst: &Path) -> Result<()> {
    std::fs::create_dir_all(dst).map_err(|e| io(dst, e))?;
    for entry in std::fs::read_dir(src).map_err(|e| io(src, e))? {
        let entry = entry.map_err(|e| io(src, e))?;
        let (from, to) = (entry.path(), dst.join(entry.file_name()));
        if from.is_dir() {
            copy_dir(&from, &to)?;
        } else {
            std::fs::copy(&from, &to).map_err(|e| io(&from, e))?;
        }
    }
    Ok(())
}

/// The imported models' names.
pub fn list_models() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(models_dir())
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.path().join("config.json").is_file())
                .map(|e| e.file_name().to_string_lossy().to_string())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// A model by path, by imported name, or by a part of one name (`minilm` for
/// `all-minilm-l6-v2`).
pub fn resolve_model(spec: &str) -> Result<(String, PathBuf)> {
    let as_path = Path::new(spec);
    if as_path.join("config.json").is_file() {
        let name = as_path
            .file_name()
            .map_or(spec.to_string(), |n| n.to_string_lossy().to_lowercase());
        return Ok((name, as_path.to_path_buf()));
    }
    let names = list_models();
    let want = spec.to_lowercase();
    let hits: Vec<&String> = match names.iter().find(|n| **n == want) {
        Some(exact) => vec![exact],
        None => names.iter().filter(|n| n.contains(&want)).collect(),
    };
    match hits.as_slice() {
        [one] => Ok(((*one).clone(), models_dir().join(one))),
        [] => Err(ModelError::Config {
            model: spec.into(),
            message: format!(
                "no such model (imported: {}; import one with `shoplab model import FOLDER`)",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ),
        }),
        many => Err(ModelError::Config {
            model: spec.into(),
            message: format!(
                "ambiguous: {}",
                many.iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}

/// What an encoder folder says besides its weights.
pub(crate) struct Folder {
    pub config: BertConfig,
    pub tokenizer: Tokenizer,
    pub pooling: Pooling,
    pub normalize: bool,
    pub max_tokens: usize,
}

impl Folder {
    /// Reads `config.json`, `tokenizer.json` (truncating at the model's sequence length,
    /// padding off) and the sentence-transformers files of `dir`.
    pub fn read(dir: &Path) -> Result<Self> {
        let config_path = dir.join("config.json");
        let text = std::fs::read_to_string(&config_path).map_err(|e| io(&config_path, e))?;
        let config: BertConfig = serde_json::from_str(&text).map_err(|e| io(&config_path, e))?;
        let tok_path = dir.join("tokenizer.json");
        let mut tokenizer = Tokenizer::from_file(&tok_path).map_err(|e| io(&tok_path, e))?;
        // sentence-transformers' max_seq_length (256 for all-MiniLM-L6-v2), else the model's.
        let max_tokens = read_json(&dir.join("sentence_bert_config.json"))
            .ok()
            .and_then(|v| v["max_seq_length"].as_u64())
            .map_or(config.max_position_embeddings, |m| m as usize)
            .min(config.max_position_embeddings);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens,
                ..Default::default()
            }))
            .map_err(|e| io(&tok_path, e))?;
        // Batches are padded here, to their longest text, after sorting by length.
        tokenizer.with_padding(None);
        let modules = read_json(&dir.join("modules.json")).ok();
        let normalize = modules.as_ref().is_some_and(|m| {
            m.as_array().is_some_and(|a| {
                a.iter()
                    .any(|x| x["type"].as_str().is_some_and(|t| t.ends_with("Normalize")))
            })
        });
        let pooling = match read_json(&dir.join("1_Pooling/config.json")) {
            Ok(p) if p["pooling_mode_cls_token"].as_bool() == Some(true) => Pooling::Cls,
            _ => Pooling::Mean,
        };
        Ok(Folder {
            config,
            tokenizer,
            pooling,
            normalize,
            max_tokens,
        })
    }

    /// Tokenizes `texts`, truncated at `max_tokens` (at most the model's length).
    pub fn encode(&self, texts: &[&str], max_tokens: usize) -> Result<Vec<tokenizers::Encoding>> {
        let mut tokenizer = self.tokenizer.clone();
        let tokenizing = |e: tokenizers::Error| ModelError::Config {
            model: "tokenizer".into(),
            message: format!("tokenizing: {e}"),
        };
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens.clamp(2, self.max_tokens),
                ..Default::default()
            }))
            .map_err(tokenizing)?;
        tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(tokenizing)
    }
}

/// Token ids, type ids and attention mask of a batch, each row padded with zeros to the
/// longest.
pub(crate) fn inputs(
    enc: &[&tokenizers::Encoding],
    device: &Device,
) -> Result<(Tensor, Tensor, Tensor)> {
    let n = enc.len();
    let len = enc.iter().map(|e| e.get_ids().len()).max().unwrap_or(0);
    let flat = |f: &dyn Fn(&tokenizers::Encoding) -> &[u32]| -> Vec<u32> {
        enc.iter()
            .flat_map(|e| {
                let row = f(e);
                row.iter()
                    .copied()
                    .chain(std::iter::repeat_n(0, len - row.len()))
            })
            .collect()
    };
    let ids = Tensor::from_vec(flat(&|e| e.get_ids()), (n, len), device)?;
    let types = Tensor::from_vec(flat(&|e| e.get_type_ids()), (n, len), device)?;
    let mask = Tensor::from_vec(flat(&|e| e.get_attention_mask()), (n, len), device)?;
    Ok((ids, types, mask))
}

/// Embeds `encodings` `batch` at a time in order of length, so that short texts are not
/// padded to a long one's length; `embed` turns one batch into its rows (`n × dim`). The
/// vectors come back in the encodings' order. On the CPU the batches share the threads
/// (each thread runs whole batches; the matrix products of a batch split only when a
/// thread is idle), which beats splitting every small product across threads; on a GPU
/// they run one after another.
pub(crate) fn by_length(
    encodings: &[tokenizers::Encoding],
    batch: usize,
    device: &Device,
    embed: impl Fn(&[&tokenizers::Encoding]) -> Result<Tensor> + Sync,
) -> Result<Vec<Vec<f32>>> {
    use rayon::prelude::*;
    let mut order: Vec<usize> = (0..encodings.len()).collect();
    order.sort_by_key(|&k| encodings[k].get_ids().len());
    let chunks: Vec<&[usize]> = order.chunks(batch).collect();
    let run = |chunk: &&[usize]| -> Result<Vec<Vec<f32>>> {
        let rows: Vec<&tokenizers::Encoding> = chunk.iter().map(|&k| &encodings[k]).collect();
        Ok(embed(&rows)?.to_device(&Device::Cpu)?.to_vec2::<f32>()?)
    };
    let vectors: Vec<Vec<Vec<f32>>> = if device.is_cpu() {
        chunks.par_iter().map(run).collect::<Result<_>>()?
    } else {
        chunks.iter().map(run).collect::<Result<_>>()?
    };
    let mut out = vec![Vec::new(); encodings.len()];
    for (chunk, rows) in chunks.iter().zip(vectors) {
        for (&k, v) in chunk.iter().zip(rows) {
            out[k] = v;
        }
    }
    Ok(out)
}

/// One vector per row from token states (`n × len × dim`, f32): the masked mean or the
/// first token, L2-normalized when `normalize`.
pub(crate) fn pool(
    states: &Tensor,
    mask: &Tensor,
    pooling: Pooling,
    normalize: bool,
) -> Result<Tensor> {
    let pooled = match pooling {
        Pooling::Cls => states.narrow(1, 0, 1)?.squeeze(1)?,
        Pooling::Mean => {
            let m = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
            let sum = states.broadcast_mul(&m)?.sum(1)?;
            let count = m.sum(1)?.clamp(1e-9, f64::MAX)?;
            sum.broadcast_div(&count)?
        }
    };
    Ok(if normalize {
        let norm = pooled
            .sqr()?
            .sum_keepdim(D::Minus1)?
            .sqrt()?
            .clamp(1e-12, f64::MAX)?;
        pooled.broadcast_div(&norm)?
    } else {
        pooled
    })
}

impl TextEncoder {
    /// Loads the model folder `dir` on `device`.
    pub fn load(dir: &Path, name: &str, device: &Device) -> Result<Self> {
        let folder = Folder::read(dir)?;
        let weights = crate::files::load_safetensors(&dir.join("model.safetensors"), device)?;
        Ok(TextEncoder {
            name: name.to_string(),
            pooling: folder.pooling,
            normalize: folder.normalize,
            dim: folder.config.hidden_size,
            max_tokens: folder.max_tokens,
            folder,
            weights,
            device: device.clone(),
        })
    }

    /// The embeddings of `texts`, in their order. The texts are tokenized, sorted by
    /// length and embedded `BATCH` at a time, each batch padded to its longest (so that
    /// short texts are not padded to a long one's length).
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        let encodings = self.folder.encode(texts, self.max_tokens)?;
        by_length(&encodings, BATCH, &self.device, |batch| {
            self.embed_batch(batch)
        })
    }

    /// One batch of tokenized texts, padded here to the longest.
    fn embed_batch(&self, enc: &[&tokenizers::Encoding]) -> Result<Tensor> {
        let (ids, types, mask) = inputs(enc, &self.device)?;
        let states = crate::bert::infer(&self.folder.config, &self.weights, &ids, &types, &mask)?;
        pool(&states, &mask, self.pooling, self.normalize)
    }
}
