//! SASRec (Kang & McAuley, ICDM 2018) in candle: the next item from the items so far.
//!
//! A user's train items in time order (the last `max_len`) pass through item and position
//! embeddings and two pre-norm transformer blocks with causal self-attention; the state
//! after each item scores every catalog item against the shared item embeddings. Training
//! predicts each next item with a softmax over the whole catalog (cross-entropy), the
//! variant most re-implementations found stronger than the paper's one sampled negative.
//! No dropout: runs are exact functions of the seed.
//!
//! Scoring (validation, and test after [`Trainable::prepare_test`]) reads the state after
//! the user's last known item: the train items while training and validating, the train
//! and validation items for the test, as leave-last-out evaluation does.

use std::path::Path;

use candle_core::{D, DType, Device, Tensor, Var};
use candle_nn::{Embedding, LayerNorm, Linear, Module};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::params::Params;
use super::{Batch, Hyper, Recommender, Trainable};
use crate::dataset::{Dataset, Interaction};
use crate::error::{ModelError, Result};

/// Sequences per mini-batch at most: the logits are batch × length × items.
const MAX_SEQUENCES: usize = 128;
const HEADS: usize = 2;
const LAYERS: usize = 2;

struct Block {
    norm1: LayerNorm,
    query: Linear,
    key: Linear,
    value: Linear,
    output: Linear,
    norm2: LayerNorm,
    ff1: Linear,
    ff2: Linear,
}

pub struct SasRec {
    params: Params,
    /// Row 0 is padding; item `i` is row `i + 1`.
    items: Embedding,
    positions: Embedding,
    blocks: Vec<Block>,
    norm: LayerNorm,
    dim: usize,
    max_len: usize,
    /// Each user's known items, oldest first (train; train and valid for the test).
    history: Vec<Vec<u32>>,
    train: Vec<Vec<u32>>,
    valid: Vec<Vec<u32>>,
    n_items: usize,
    device: Device,
}

/// Each user's items of `part` in order (the dataset keeps each part by user, then time).
fn sequences(part: &[Interaction], n_users: usize) -> Vec<Vec<u32>> {
    let mut out = vec![Vec::new(); n_users];
    for x in part {
        out[x.user as usize].push(x.item);
    }
    out
}

impl SasRec {
    pub fn new(ds: &Dataset, h: &Hyper, seed: u64, device: &Device) -> Result<Self> {
        let d = h.factors;
        if d == 0 || !d.is_multiple_of(HEADS) || h.max_len == 0 {
            return Err(ModelError::Config {
                model: "sasrec".into(),
                message: format!(
                    "factors must be a positive multiple of {HEADS}, max_len positive"
                ),
            });
        }
        let mut p = Params::new("sasrec", seed, device);
        let items = p.embedding("items", ds.n_items() + 1, d, h.init_std)?;
        let positions = p.embedding("positions", h.max_len, d, h.init_std)?;
        let mut blocks = Vec::with_capacity(LAYERS);
        for l in 0..LAYERS {
            let name = |part: &str| format!("block{l}.{part}");
            blocks.push(Block {
                norm1: p.layer_norm(&name("norm1"), d)?,
                query: p.linear(&name("query"), d, d)?,
                key: p.linear(&name("key"), d, d)?,
                value: p.linear(&name("value"), d, d)?,
                output: p.linear(&name("output"), d, d)?,
                norm2: p.layer_norm(&name("norm2"), d)?,
                ff1: p.linear(&name("ff1"), d, d)?,
                ff2: p.linear(&name("ff2"), d, d)?,
            });
        }
        let norm = p.layer_norm("norm", d)?;
        let train = sequences(&ds.train, ds.n_users());
        Ok(SasRec {
            params: p,
            items,
            positions,
            blocks,
            norm,
            dim: d,
            max_len: h.max_len,
            history: train.clone(),
            train,
            valid: sequences(&ds.valid, ds.n_users()),
            n_items: ds.n_items(),
            device: device.clone(),
        })
    }

    /// Left-pads (with 0) the last `max_len` ids of each sequence, each id shifted by one.
    fn pad(&self, seqs: &[&[u32]]) -> (Vec<u32>, usize) {
        let t = self.max_len;
        let mut out = vec![0u32; seqs.len() * t];
        for (b, s) in seqs.iter().enumerate() {
            let s = &s[s.len().saturating_sub(t)..];
            for (k, &i) in s.iter().enumerate() {
                out[b * t + (t - s.len()) + k] = i + 1;
            }
        }
        (out, t)
    }

    /// Hidden states (batch × length × dim) of padded input ids (batch × length).
    fn forward(&self, input: &[u32], batch: usize) -> Result<Tensor> {
        let (t, d) = (self.max_len, self.dim);
        let ids = Tensor::from_slice(input, (batch, t), &self.device)?;
        let pos = Tensor::arange(0u32, t as u32, &self.device)?;
        let mut x = (self.items.forward(&ids)? * (d as f64).sqrt())?
            .broadcast_add(&self.positions.forward(&pos)?)?;
        // Additive mask: a position sees itself and earlier non-padding positions.
        let mut bias = vec![0f32; batch * t * t];
        for b in 0..batch {
            for q in 0..t {
                for k in 0..t {
                    if k > q || input[b * t + k] == 0 {
                        bias[(b * t + q) * t + k] = -1e9;
                    }
                }
            }
        }
        let bias = Tensor::from_vec(bias, (batch, 1, t, t), &self.device)?;
        let heads = |x: Tensor| -> Result<Tensor> {
            Ok(x.reshape((batch, t, HEADS, d / HEADS))?
                .transpose(1, 2)?
                .contiguous()?)
        };
        let scale = 1.0 / ((d / HEADS) as f64).sqrt();
        for blk in &self.blocks {
            let h = blk.norm1.forward(&x)?;
            let q = heads(blk.query.forward(&h)?)?;
            let k = heads(blk.key.forward(&h)?)?;
            let v = heads(blk.value.forward(&h)?)?;
            let att = (q.matmul(&k.t()?)? * scale)?.broadcast_add(&bias)?;
            let att = candle_nn::ops::softmax_last_dim(&att)?;
            let o = att
                .matmul(&v)?
                .transpose(1, 2)?
                .contiguous()?
                .reshape((batch, t, d))?;
            x = (x + blk.output.forward(&o)?)?;
            let h = blk.norm2.forward(&x)?;
            x = (x + blk.ff2.forward(&blk.ff1.forward(&h)?.relu()?)?)?;
        }
        Ok(self.norm.forward(&x)?)
    }

    /// Scores of every item from hidden states (rows × dim).
    fn logits(&self, h: &Tensor) -> Result<Tensor> {
        let table = self.items.embeddings().narrow(0, 1, self.n_items)?;
        Ok(h.matmul(&table.t()?)?)
    }
}

impl Trainable for SasRec {
    fn vars(&self) -> Vec<Var> {
        self.params.vars()
    }

    /// Sequences of users with at least two train items, shuffled; in each, every item
    /// after the first is the target of the items before it. Stored in a [`Batch`] as
    /// `users`: padded inputs, `items`: padded targets, `targets`: 1 where a target is real.
    fn batches(&self, _ds: &Dataset, size: usize, rng: &mut ChaCha8Rng) -> Result<Vec<Batch>> {
        let mut users: Vec<usize> = (0..self.train.len())
            .filter(|&u| self.train[u].len() >= 2)
            .collect();
        users.shuffle(rng);
        let t = self.max_len;
        users
            .chunks(size.clamp(1, MAX_SEQUENCES))
            .map(|chunk| {
                let inputs: Vec<&[u32]> = chunk
                    .iter()
                    .map(|&u| &self.train[u][..self.train[u].len() - 1])
                    .collect();
                let targets: Vec<&[u32]> = chunk.iter().map(|&u| &self.train[u][1..]).collect();
                let (input, _) = self.pad(&inputs);
                let (target, _) = self.pad(&targets);
                let mask: Vec<f32> = target.iter().map(|&i| f32::from(u8::from(i > 0))).collect();
                // Targets back to item indices; padding points at item 0 and is masked.
                let target: Vec<u32> = target.iter().map(|&i| i.saturating_sub(1)).collect();
                let b = chunk.len();
                Ok(Batch {
                    users: Tensor::from_vec(input, (b, t), &self.device)?,
                    items: Tensor::from_vec(target, b * t, &self.device)?,
                    targets: Tensor::from_vec(mask, b * t, &self.device)?,
                })
            })
            .collect()
    }

    /// Masked mean cross-entropy of the next items over the whole catalog.
    fn loss(&self, b: &Batch) -> Result<Tensor> {
        let (batch, t) = b.users.dims2()?;
        let input: Vec<u32> = b.users.flatten_all()?.to_device(&Device::Cpu)?.to_vec1()?;
        let h = self
            .forward(&input, batch)?
            .reshape((batch * t, self.dim))?;
        let logp = candle_nn::ops::log_softmax(&self.logits(&h)?, D::Minus1)?;
        let picked = logp.gather(&b.items.unsqueeze(1)?, 1)?.squeeze(1)?;
        let n = b.targets.sum_all()?;
        Ok(picked.mul(&b.targets)?.sum_all()?.neg()?.div(&n)?)
    }

    fn load(&mut self, path: &Path) -> Result<()> {
        self.params.load(path)
    }

    fn rates(&self) -> bool {
        false
    }

    fn prepare_test(&mut self) {
        self.history = self
            .train
            .iter()
            .zip(&self.valid)
            .map(|(t, v)| t.iter().chain(v).copied().collect())
            .collect();
    }
}

impl Recommender for SasRec {
    fn score_users(&self, users: &[u32]) -> Result<Vec<f32>> {
        let mut out = Vec::with_capacity(users.len() * self.n_items);
        for chunk in users.chunks(MAX_SEQUENCES) {
            let seqs: Vec<&[u32]> = chunk
                .iter()
                .map(|&u| self.history[u as usize].as_slice())
                .collect();
            let (input, t) = self.pad(&seqs);
            let h = self.forward(&input, chunk.len())?;
            // CUDA's matmul wants the rows contiguous (the CPU's takes the strided view).
            let last = h.narrow(1, t - 1, 1)?.squeeze(1)?.contiguous()?;
            let scores = self.logits(&last)?.to_dtype(DType::F32)?;
            out.extend(
                scores
                    .flatten_all()?
                    .to_device(&Device::Cpu)?
                    .to_vec1::<f32>()?,
            );
        }
        Ok(out)
    }

    fn save(&self, path: &Path) -> Result<()> {
        self.params.save(path)
    }

    /// The history is the sequence encoded: its last `max_len` items, oldest first.
    fn score_history(&self, history: &[u32]) -> Result<Vec<f32>> {
        let (input, t) = self.pad(&[history]);
        let h = self.forward(&input, 1)?;
        let last = h.narrow(1, t - 1, 1)?.squeeze(1)?.contiguous()?;
        let scores = self.logits(&last)?.to_dtype(DType::F32)?;
        Ok(scores
            .flatten_all()?
            .to_device(&Device::Cpu)?
            .to_vec1::<f32>()?)
    }

    /// The item embeddings (the model's own item space; row 0, the padding, left out).
    fn item_vectors(&self) -> Result<Option<(Vec<f32>, usize)>> {
        let table = self.items.embeddings().narrow(0, 1, self.n_items)?;
        let host = table
            .to_dtype(DType::F32)?
            .flatten_all()?
            .to_device(&Device::Cpu)?
            .to_vec1()?;
        Ok(Some((host, self.dim)))
    }
}
