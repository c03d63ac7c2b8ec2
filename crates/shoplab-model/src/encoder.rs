//! The trainable text encoder: a BERT whose weights are the pretrained ones plus what
//! trains (every float weight, or LoRA adapters on the attention's query and value
//! projections), its trainable tensors saved and restored by name, and the model folder it
//! is exported as. Shared by the review fine-tuning and the two-tower's item tower.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use candle_core::backprop::GradStore;
use candle_core::{DType, Device, Tensor, Var};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::bert::tape::{Pass, Tape};
use crate::bert::{Adapter, Bert};
use crate::error::{ModelError, Result};
use crate::files::{EXPORT, MODEL, replace_file};
use crate::spec::{FinetuneConfig, TextMethod};
use crate::text::{self, Folder};

/// The weights LoRA adapts in every layer.
const LORA_TARGETS: [&str; 2] = ["attention.self.query.weight", "attention.self.value.weight"];

/// A BERT whose weights are the pretrained ones plus what trains: every float weight
/// (full fine-tuning) or the LoRA adapters.
pub(crate) struct Encoder {
    pub(crate) folder: Folder,
    base: HashMap<String, Tensor>,
    full: Vec<(String, Var)>,
    /// Weight name, A (r × in), B (out × r).
    lora: Vec<(String, Var, Var)>,
    scale: f64,
    dtype: DType,
    pub(crate) device: Device,
    /// Training forwards of the encoder's own pass awaiting their backward: the states
    /// they returned (a variable the loss's gradient reaches) and their tape.
    pending: Mutex<Vec<(Var, Tape)>>,
}

impl Encoder {
    pub(crate) fn new(dir: &Path, cfg: &FinetuneConfig, device: &Device) -> Result<Self> {
        let folder = Folder::read(dir)?;
        let base = crate::files::load_safetensors(&dir.join("model.safetensors"), device)?;
        let (full, lora) = match cfg.method {
            TextMethod::Full => (full_vars(&base)?, Vec::new()),
            TextMethod::Lora => (Vec::new(), lora_adapters(&base, cfg, device)?),
            TextMethod::Frozen | TextMethod::Tfidf => (Vec::new(), Vec::new()),
        };
        if cfg.method == TextMethod::Lora && lora.is_empty() {
            return Err(ModelError::Config {
                model: cfg.model.clone(),
                message: "no attention query/value weights to adapt (not a BERT-family model?)"
                    .into(),
            });
        }
        Ok(Encoder {
            folder,
            full,
            lora,
            scale: cfg.lora_alpha / cfg.lora_rank.max(1) as f64,
            dtype: cfg.precision.dtype(),
            device: device.clone(),
            base,
            pending: Mutex::new(Vec::new()),
        })
    }

    pub(crate) fn vars(&self) -> Vec<Var> {
        self.full
            .iter()
            .map(|(_, v)| v.clone())
            .chain(
                self.lora
                    .iter()
                    .flat_map(|(_, a, b)| [a.clone(), b.clone()]),
            )
            .collect()
    }

    /// The weights a forward pass reads: the pretrained ones, or the variables of full
    /// fine-tuning.
    fn weights(&self) -> HashMap<String, Tensor> {
        let mut t = self.base.clone();
        for (name, v) in &self.full {
            t.insert(name.clone(), v.as_tensor().clone());
        }
        t
    }

    fn adapters(&self) -> HashMap<String, Adapter> {
        self.lora
            .iter()
            .map(|(name, a, b)| {
                let ad = Adapter {
                    a: a.as_tensor().clone(),
                    b: b.as_tensor().clone(),
                    scale: self.scale,
                };
                (name.clone(), ad)
            })
            .collect()
    }

    /// Pooled embeddings (f32, `n × dim`) of a batch; `train` keeps every operation
    /// differentiable (and uses the training precision).
    pub(crate) fn pooled(&self, enc: &[&tokenizers::Encoding], train: bool) -> Result<Tensor> {
        if train
            && self.own_pass()
            && let Some(pooled) = self.pooled_on_tape(enc)?
        {
            return Ok(pooled);
        }
        let (ids, types, mask) = text::inputs(enc, &self.device)?;
        if !train && self.lora.is_empty() {
            let states =
                crate::bert::infer(&self.folder.config, &self.weights(), &ids, &types, &mask)?;
            return text::pool(&states, &mask, self.folder.pooling, self.folder.normalize);
        }
        let (weights, adapters) = (self.weights(), self.adapters());
        let bert = Bert {
            config: &self.folder.config,
            weights: &weights,
            adapters: &adapters,
            dtype: if train { self.dtype } else { DType::F32 },
            train,
        };
        let states = bert.forward(&ids, &types, &mask)?.to_dtype(DType::F32)?;
        text::pool(&states, &mask, self.folder.pooling, self.folder.normalize)
    }

    /// Whether training runs the encoder's own pass (`bert::tape`) rather than candle's
    /// graph: full fine-tuning on the CPU in f32, with the exact GELU.
    fn own_pass(&self) -> bool {
        self.lora.is_empty()
            && !self.full.is_empty()
            && crate::bert::own_pass_fits(&self.folder.config, &self.device, self.dtype)
    }

    /// [`Encoder::pooled`] for training through the encoder's own pass; its tape waits for
    /// [`Encoder::backward`]. `None` when the mask is not padding on the right.
    fn pooled_on_tape(&self, enc: &[&tokenizers::Encoding]) -> Result<Option<Tensor>> {
        let (ids, types, mask) = text::inputs(enc, &self.device)?;
        let Some((flat_ids, flat_types, lens)) = crate::bert::flat_batch(&ids, &types, &mask)?
        else {
            return Ok(None);
        };
        let (n, len) = ids.dims2()?;
        let weights = self.weights();
        let pass = Pass::new(&self.folder.config, &weights);
        let (h, tape) = pass.forward(flat_ids, flat_types, lens)?;
        let states = Var::from_vec(h, (n, len, self.folder.config.hidden_size), &self.device)?;
        let pooled = text::pool(
            states.as_tensor(),
            &mask,
            self.folder.pooling,
            self.folder.normalize,
        )?;
        self.pending
            .lock()
            .expect("no pass panicked holding it")
            .push((states, tape));
        Ok(Some(pooled))
    }

    /// Adds to `grads` (a loss's) the weights' gradients through the training forwards of
    /// the encoder's own pass since the last call, from the gradients of their states.
    pub(crate) fn backward(&self, grads: &mut GradStore) -> Result<()> {
        let pending = std::mem::take(&mut *self.pending.lock().expect("no pass panicked"));
        if pending.is_empty() {
            return Ok(());
        }
        let weights = self.weights();
        let pass = Pass::new(&self.folder.config, &weights);
        let vars: HashMap<&str, &Var> = self.full.iter().map(|(n, v)| (n.as_str(), v)).collect();
        for (states, tape) in pending {
            let Some(d) = grads.remove(states.as_tensor()) else {
                continue;
            };
            let d = d.flatten_all()?.to_vec1::<f32>()?;
            for (name, g) in pass.names.iter().zip(pass.backward(&tape, &d)?) {
                let Some(v) = vars.get(name.as_str()) else {
                    continue;
                };
                let g = Tensor::from_vec(g, v.shape(), &self.device)?;
                let g = match grads.remove(v.as_tensor()) {
                    Some(before) => (before + g)?,
                    None => g,
                };
                grads.insert(v.as_tensor(), g);
            }
        }
        Ok(())
    }

    /// The weights with the adapters merged in (W + s·B·A), detached, on the CPU.
    pub(crate) fn merged(&self) -> Result<HashMap<String, Tensor>> {
        let mut t = self.weights();
        for (name, a, b) in &self.lora {
            let delta = (b.as_tensor().matmul(a.as_tensor())? * self.scale)?;
            t.insert(name.clone(), (&self.base[name] + delta)?);
        }
        t.into_iter()
            .map(|(n, v)| Ok((n, v.detach().to_device(&Device::Cpu)?)))
            .collect()
    }

    /// The trainable tensors by name (`<weight>` or `<weight>.lora_a` / `.lora_b`).
    fn trainable(&self) -> Vec<(String, &Var)> {
        self.full
            .iter()
            .map(|(n, v)| (n.clone(), v))
            .chain(
                self.lora
                    .iter()
                    .flat_map(|(n, a, b)| [(format!("{n}.lora_a"), a), (format!("{n}.lora_b"), b)]),
            )
            .collect()
    }
}

/// The weight names of `base`, sorted (the order variables and adapters are made in).
fn sorted_names(base: &HashMap<String, Tensor>) -> Vec<&String> {
    let mut names: Vec<&String> = base.keys().collect();
    names.sort();
    names
}

/// Full fine-tuning: every float weight (the pooler's aside) as a variable.
fn full_vars(base: &HashMap<String, Tensor>) -> Result<Vec<(String, Var)>> {
    let mut full = Vec::new();
    for name in sorted_names(base) {
        let t = &base[name];
        if t.dtype() == DType::F32 && !name.contains("pooler") {
            full.push((name.clone(), Var::from_tensor(t)?));
        }
    }
    Ok(full)
}

/// LoRA: for each adapted weight, A as PEFT initializes it (Kaiming-uniform bound
/// 1/sqrt(in), drawn from the run's seed) and B zero.
fn lora_adapters(
    base: &HashMap<String, Tensor>,
    cfg: &FinetuneConfig,
    device: &Device,
) -> Result<Vec<(String, Var, Var)>> {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x10A4);
    let mut lora = Vec::new();
    for name in sorted_names(base) {
        if !LORA_TARGETS.iter().any(|s| name.ends_with(s)) {
            continue;
        }
        let (out, inp) = base[name].dims2()?;
        let r = cfg.lora_rank;
        let bound = 1.0 / (inp as f32).sqrt();
        let a: Vec<f32> = (0..r * inp)
            .map(|_| rng.random_range(-bound..bound))
            .collect();
        let a = Var::from_tensor(&Tensor::from_vec(a, (r, inp), device)?)?;
        let b = Var::zeros((out, r), DType::F32, device)?;
        lora.push((name.clone(), a, b));
    }
    Ok(lora)
}

/// Texts per forward pass when only predicting.
const EVAL_BATCH: usize = 64;

/// Pooled embeddings of every encoding, in order (batched by length).
pub(crate) fn embed_all(
    enc: &Encoder,
    encodings: &[tokenizers::Encoding],
) -> Result<Vec<Vec<f32>>> {
    text::by_length(encodings, EVAL_BATCH, &enc.device, |batch| {
        enc.pooled(batch, false)
    })
}

/// Saves the encoder's trainable tensors and `extra` ones (a head) into `path`.
pub(crate) fn save_trainable(enc: &Encoder, extra: &[(&str, &Var)], path: &Path) -> Result<()> {
    let mut t: HashMap<String, Tensor> = enc
        .trainable()
        .into_iter()
        .map(|(n, v)| (n, v.as_tensor().clone()))
        .collect();
    for (name, v) in extra {
        t.insert((*name).to_string(), v.as_tensor().clone());
    }
    replace_file(path, |tmp| Ok(candle_core::safetensors::save(&t, tmp)?))
}

/// Sets the encoder's trainable tensors and `extra` ones from `path`.
pub(crate) fn load_trainable(enc: &Encoder, extra: &[(&str, &Var)], path: &Path) -> Result<()> {
    let t = crate::files::load_safetensors(path, &enc.device)?;
    let mut all = enc.trainable();
    all.extend(extra.iter().map(|(n, v)| ((*n).to_string(), *v)));
    for (name, var) in all {
        let v = t.get(&name).ok_or_else(|| ModelError::Config {
            model: "finetune".into(),
            message: format!("{}: no tensor \"{name}\"", path.display()),
        })?;
        var.set(v)?;
    }
    Ok(())
}

/// Writes a model folder `<art>/model/`: the base folder's files, the encoder's merged
/// weights as `model.safetensors`, and the task's own tensors (`head.safetensors`) and
/// description (`head.json`).
pub(crate) fn export_folder(
    enc: &Encoder,
    head: &HashMap<String, Tensor>,
    meta: &serde_json::Value,
    base: &Path,
    art: &Path,
) -> Result<PathBuf> {
    let out = art.join(EXPORT);
    text::copy_dir(base, &out)?;
    candle_core::safetensors::save(&enc.merged()?, out.join(MODEL))?;
    candle_core::safetensors::save(head, out.join("head.safetensors"))?;
    std::fs::write(out.join("head.json"), meta.to_string())
        .map_err(|e| ModelError::io(out.display().to_string(), e))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::TextTask;

    /// The adapters' path (x·Wᵀ + s·(x·Aᵀ)·Bᵀ), the training forward (composed layer norm)
    /// and the merged weights saved with a run give the same embeddings.
    #[test]
    fn lora_paths_and_merged_weights_agree() {
        let dir = shoplab_data::datasets::path("minilm").unwrap();
        let mut cfg = FinetuneConfig::new("minilm", TextTask::Rating, TextMethod::Lora);
        cfg.lora_rank = 4;
        let enc = Encoder::new(&dir, &cfg, &Device::Cpu).unwrap();
        for (_, _, b) in &enc.lora {
            let noise = Tensor::randn(0f32, 0.05, b.shape(), &Device::Cpu).unwrap();
            b.set(&noise).unwrap();
        }
        let e = enc
            .folder
            .encode(&["Love this dress", "Runs small, I returned it"], 32)
            .unwrap();
        let refs: Vec<&tokenizers::Encoding> = e.iter().collect();
        let adapted = enc.pooled(&refs, false).unwrap();
        let training = enc.pooled(&refs, true).unwrap();
        cfg.method = TextMethod::Frozen;
        let mut merged = Encoder::new(&dir, &cfg, &Device::Cpu).unwrap();
        merged.base = enc.merged().unwrap();
        let from_merged = merged.pooled(&refs, false).unwrap();
        let pretrained = Encoder::new(&dir, &cfg, &Device::Cpu)
            .unwrap()
            .pooled(&refs, false)
            .unwrap();
        let gap = |a: &Tensor, b: &Tensor| -> f32 {
            (a - b)
                .unwrap()
                .abs()
                .unwrap()
                .max_all()
                .unwrap()
                .to_scalar()
                .unwrap()
        };
        assert!(gap(&adapted, &training) < 1e-5);
        assert!(gap(&adapted, &from_merged) < 1e-5);
        // The adapters did change the embeddings.
        assert!(gap(&adapted, &pretrained) > 1e-3);
    }
}
