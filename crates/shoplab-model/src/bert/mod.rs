//! BERT's encoder (Devlin et al., 2019) over weights named as Hugging Face's `BertModel`
//! saves them, for inference and for training.
//!
//! Written here rather than taken from candle-transformers because training needs two
//! things its BERT does not give: gradients through every layer (candle-nn's fused layer
//! norm has no backward pass: on the CPU the crate's kernels have one, elsewhere a training
//! forward composes it) and LoRA adapters on the attention projections. The weights are passed in by name, so the same forward
//! runs the pretrained tensors, trainable variables or a mix.

use std::collections::HashMap;

use candle_core::{D, DType, Device, Tensor};

use crate::error::{ModelError, Result};

pub(crate) mod tape;

/// The fields of `config.json` the encoder reads.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    #[serde(default = "gelu")]
    pub hidden_act: String,
    #[serde(default = "eps")]
    pub layer_norm_eps: f64,
    pub max_position_embeddings: usize,
    #[serde(default = "two")]
    pub type_vocab_size: usize,
}

fn gelu() -> String {
    "gelu".into()
}
fn eps() -> f64 {
    1e-12
}
fn two() -> usize {
    2
}

/// A low-rank adapter of one weight W (out × in): the layer computes x·Wᵀ + s·(x·Aᵀ)·Bᵀ with
/// A r × in and B out × r.
pub(crate) struct Adapter {
    pub a: Tensor,
    pub b: Tensor,
    pub scale: f64,
}

/// One forward pass's view of the model: its configuration, weights by name, adapters by
/// weight name, and whether gradients are needed.
pub(crate) struct Bert<'a> {
    pub config: &'a BertConfig,
    pub weights: &'a HashMap<String, Tensor>,
    pub adapters: &'a HashMap<String, Adapter>,
    /// Compute in this type (the weights are cast); f32 for inference.
    pub dtype: DType,
    /// Use only operations with a backward pass.
    pub train: bool,
}

impl Bert<'_> {
    fn prefix(&self) -> &'static str {
        prefix(self.weights)
    }

    fn get(&self, name: &str) -> Result<Tensor> {
        let full = format!("{}{name}", self.prefix());
        let t = self.weights.get(&full).ok_or_else(|| ModelError::Config {
            model: "bert".into(),
            message: format!("the weights have no tensor \"{full}\""),
        })?;
        Ok(t.to_dtype(self.dtype)?)
    }

    fn linear(&self, x: &Tensor, name: &str) -> Result<Tensor> {
        let w = self.get(&format!("{name}.weight"))?;
        let b = self.get(&format!("{name}.bias"))?;
        let y = crate::kernels::linear(x, &w, &b)?;
        match self
            .adapters
            .get(&format!("{}{name}.weight", self.prefix()))
        {
            Some(ad) => {
                let a = ad.a.to_dtype(self.dtype)?;
                let bb = ad.b.to_dtype(self.dtype)?;
                let low = x.broadcast_matmul(&a.t()?)?.broadcast_matmul(&bb.t()?)?;
                Ok((y + (low * ad.scale)?)?)
            }
            None => Ok(y),
        }
    }

    /// The intermediate layer with its activation; at inference, GELU on the CPU is applied
    /// where the product is written.
    fn linear_act(&self, x: &Tensor, name: &str) -> Result<Tensor> {
        let adapted = self
            .adapters
            .contains_key(&format!("{}{name}.weight", self.prefix()));
        if self.train || adapted || self.config.hidden_act != "gelu" {
            return self.act(&self.linear(x, name)?);
        }
        let w = self.get(&format!("{name}.weight"))?;
        let b = self.get(&format!("{name}.bias"))?;
        crate::kernels::linear_gelu(x, &w, &b)
    }

    fn layer_norm(&self, x: &Tensor, name: &str) -> Result<Tensor> {
        let w = self.get(&format!("{name}.weight"))?;
        let b = self.get(&format!("{name}.bias"))?;
        let eps = self.config.layer_norm_eps;
        if crate::kernels::here(x) {
            return Ok(crate::kernels::layer_norm(x, &w, &b, eps as f32)?);
        }
        if !self.train {
            return Ok(candle_nn::ops::layer_norm(
                &x.contiguous()?,
                &w,
                &b,
                eps as f32,
            )?);
        }
        // Composed in f32, so that it has a gradient.
        let dtype = x.dtype();
        let x = x.to_dtype(DType::F32)?;
        let mean = x.mean_keepdim(D::Minus1)?;
        let centered = x.broadcast_sub(&mean)?;
        let var = centered.sqr()?.mean_keepdim(D::Minus1)?;
        let normed = centered.broadcast_div(&(var + eps)?.sqrt()?)?;
        Ok(normed
            .to_dtype(dtype)?
            .broadcast_mul(&w)?
            .broadcast_add(&b)?)
    }

    fn act(&self, x: &Tensor) -> Result<Tensor> {
        Ok(match self.config.hidden_act.as_str() {
            "gelu" => crate::kernels::gelu(x)?,
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => x.gelu()?,
            "relu" => x.relu()?,
            other => {
                return Err(ModelError::Config {
                    model: "bert".into(),
                    message: format!("activation '{other}' is not supported"),
                });
            }
        })
    }

    /// The query, key and value projections of `x` side by side (`rows × 3·hidden`): one
    /// product over the three weights stacked, or, where an adapter changes one of them,
    /// the three layers' outputs joined.
    fn qkv(&self, x: &Tensor, layer: &str) -> Result<Tensor> {
        let names = ["query", "key", "value"].map(|p| format!("{layer}.attention.self.{p}"));
        let adapted = names.iter().any(|n| {
            self.adapters
                .contains_key(&format!("{}{n}.weight", self.prefix()))
        });
        if adapted {
            let parts = names
                .iter()
                .map(|n| self.linear(x, n))
                .collect::<Result<Vec<_>>>()?;
            return Ok(Tensor::cat(&parts, 1)?);
        }
        let stacked = |what: &str| -> Result<Tensor> {
            let parts = names
                .iter()
                .map(|n| self.get(&format!("{n}.{what}")))
                .collect::<Result<Vec<_>>>()?;
            Ok(Tensor::cat(&parts, 0)?)
        };
        crate::kernels::linear(x, &stacked("weight")?, &stacked("bias")?)
    }

    /// Token states (`n × len × hidden`, in `dtype`) of padded `ids` with their type ids and
    /// attention mask (1 for a token, 0 for padding). Inside, the states are one
    /// `n·len × hidden` matrix: no reshape between layers (in training each would cost its
    /// gradient a copy).
    pub fn forward(&self, ids: &Tensor, types: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let c = self.config;
        let (n, len) = ids.dims2()?;
        let (rows, hidden) = (n * len, c.hidden_size);
        let words = self.get("embeddings.word_embeddings.weight")?;
        let positions = self.get("embeddings.position_embeddings.weight")?;
        let kinds = self.get("embeddings.token_type_embeddings.weight")?;
        let pos = Tensor::arange(0u32, len as u32, ids.device())?.repeat(n)?;
        let emb = (words.embedding(&ids.flatten_all()?)? + positions.embedding(&pos)?)?
            .add(&kinds.embedding(&types.flatten_all()?)?)?;
        let mut h = self.layer_norm(&emb, "embeddings.LayerNorm")?;
        // On the CPU the fused kernel attends, over each text's own tokens.
        let lens = match crate::kernels::here(&h) {
            true => prefix_lengths(mask)?,
            false => None,
        };
        // Otherwise padding gets a large negative score before the softmax.
        let bias = match lens {
            Some(_) => None,
            None => Some(
                ((mask.to_dtype(DType::F32)? - 1.0)? * 10_000.0)?
                    .reshape((n, 1, 1, len))?
                    .to_dtype(self.dtype)?,
            ),
        };
        let heads = c.num_attention_heads;
        let hd = hidden / heads;
        let split = |qkv: &Tensor, part: usize| -> Result<Tensor> {
            Ok(qkv
                .narrow(1, part * hidden, hidden)?
                .reshape((n, len, heads, hd))?
                .transpose(1, 2)?
                .contiguous()?)
        };
        for l in 0..c.num_hidden_layers {
            let p = format!("encoder.layer.{l}");
            let qkv = self.qkv(&h, &p)?;
            let ctx = match &lens {
                Some(lens) => crate::kernels::attention(&qkv, lens, heads)?,
                None => {
                    let bias = bias.as_ref().expect("made when the kernel is not used");
                    let (q, k, v) = (split(&qkv, 0)?, split(&qkv, 1)?, split(&qkv, 2)?);
                    let scores = (q.matmul(&k.t()?)? / (hd as f64).sqrt())?.broadcast_add(bias)?;
                    let probs = candle_nn::ops::softmax(&scores, D::Minus1)?;
                    probs
                        .matmul(&v)?
                        .transpose(1, 2)?
                        .contiguous()?
                        .reshape((rows, hidden))?
                }
            };
            let attn = self.linear(&ctx, &format!("{p}.attention.output.dense"))?;
            h = self.layer_norm(&(attn + &h)?, &format!("{p}.attention.output.LayerNorm"))?;
            let mid = self.linear_act(&h, &format!("{p}.intermediate.dense"))?;
            let out = self.linear(&mid, &format!("{p}.output.dense"))?;
            h = self.layer_norm(&(out + &h)?, &format!("{p}.output.LayerNorm"))?;
        }
        Ok(h.reshape((n, len, hidden))?)
    }
}

/// `bert.` when the weights carry it (a checkpoint of a model with heads).
pub(crate) fn prefix(weights: &HashMap<String, Tensor>) -> &'static str {
    if weights.contains_key("embeddings.word_embeddings.weight") {
        ""
    } else {
        "bert."
    }
}

/// Each row's number of tokens when the mask is ones then zeros (padding on the right, as
/// the tokenizer pads); `None` for any other mask.
pub(crate) fn prefix_lengths(mask: &Tensor) -> Result<Option<Vec<usize>>> {
    let rows = mask.to_dtype(DType::U32)?.to_vec2::<u32>()?;
    Ok(rows
        .iter()
        .map(|r| {
            let valid = r.iter().take_while(|&&m| m == 1).count();
            r[valid..].iter().all(|&m| m == 0).then_some(valid)
        })
        .collect())
}

/// Whether the encoder's own pass ([`tape::Pass`]) can run a batch instead of candle's
/// graph: on the CPU, in f32, with the exact GELU.
pub(crate) fn own_pass_fits(config: &BertConfig, device: &Device, dtype: DType) -> bool {
    device.is_cpu() && dtype == DType::F32 && config.hidden_act == "gelu"
}

/// A batch as the encoder's own pass reads it: ids and token types flat, and each text's
/// length.
pub(crate) type FlatBatch = (Vec<u32>, Vec<u32>, Vec<usize>);

/// [`FlatBatch`] of a batch's tensors; `None` when the mask is not padding on the right.
pub(crate) fn flat_batch(ids: &Tensor, types: &Tensor, mask: &Tensor) -> Result<Option<FlatBatch>> {
    let Some(lens) = prefix_lengths(mask)? else {
        return Ok(None);
    };
    let flat = |t: &Tensor| t.flatten_all()?.to_vec1::<u32>();
    Ok(Some((flat(ids)?, flat(types)?, lens)))
}

/// Token states (f32, `n × len × hidden`) of a batch, only to read them (no gradient): the
/// encoder's own pass where it fits ([`own_pass_fits`] with f32 weights, padding on the
/// right; [`tape::Pass::states`] keeps nothing and attends over each text's own tokens);
/// anywhere else candle's graph ([`Bert::forward`]).
pub(crate) fn infer(
    config: &BertConfig,
    weights: &HashMap<String, Tensor>,
    ids: &Tensor,
    types: &Tensor,
    mask: &Tensor,
) -> Result<Tensor> {
    let f32_weights = weights.values().all(|t| t.dtype() == DType::F32);
    if own_pass_fits(config, ids.device(), DType::F32)
        && f32_weights
        && let Some((flat_ids, flat_types, lens)) = flat_batch(ids, types, mask)?
    {
        let (n, len) = ids.dims2()?;
        let h = tape::Pass::new(config, weights).states(&flat_ids, &flat_types, &lens)?;
        return Ok(Tensor::from_vec(
            h,
            (n, len, config.hidden_size),
            ids.device(),
        )?);
    }
    let bert = Bert {
        config,
        weights,
        adapters: &HashMap::new(),
        dtype: DType::F32,
        train: false,
    };
    bert.forward(ids, types, mask)
}
