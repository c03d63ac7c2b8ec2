//! NeuMF (He et al., WWW 2017) in candle: a generalized MF branch (`p_u ⊙ q_i`) and an MLP
//! branch over `[p'_u ; q'_i]`, joined by one output layer into the logit of an
//! interaction. Trained on binary cross-entropy with `negatives` unseen items drawn per
//! observed one (the paper's protocol).

use std::path::Path;

use candle_core::{D, DType, Device, Tensor, Var};
use candle_nn::{Embedding, Linear, Module};
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Uniform};

use super::factorization::{Seen, negative};
use super::{Batch, Hyper, Recommender, Trainable};
use crate::dataset::Dataset;
use crate::error::{ModelError, Result};

/// Users scored per forward pass when ranking all items.
const USERS_PER_PASS: usize = 64;

pub struct NeuMf {
    /// Named variables, in a fixed order (saved and loaded by name).
    vars: Vec<(String, Var)>,
    gmf_user: Embedding,
    gmf_item: Embedding,
    mlp_user: Embedding,
    mlp_item: Embedding,
    hidden: Vec<Linear>,
    out: Linear,
    reg: f64,
    negatives: usize,
    device: Device,
    seen: Seen,
    n_items: usize,
}

impl NeuMf {
    /// Embeddings from N(0, init_std²) and layers from U(±1/√fan_in), all drawn from a
    /// ChaCha8 generator seeded by `seed` (candle's own initializers are not seeded).
    /// The MLP narrows `2f → f → f/2`; the output layer reads `[gmf (f) ; mlp (f/2)]`.
    pub fn new(ds: &Dataset, h: &Hyper, seed: u64, device: &Device) -> Result<Self> {
        let f = h.factors;
        if f < 2 {
            return Err(ModelError::Config {
                model: "neumf".into(),
                message: "factors must be at least 2".into(),
            });
        }
        let mut rng: ChaCha8Rng = rand::SeedableRng::seed_from_u64(seed);
        let normal = Normal::new(0.0f32, h.init_std as f32).map_err(|e| ModelError::Config {
            model: "neumf".into(),
            message: format!("init_std: {e}"),
        })?;
        let mut vars: Vec<(String, Var)> = Vec::new();
        let mut var = |name: &str, shape: &[usize], draw: &mut dyn FnMut() -> f32| {
            let v: Vec<f32> = (0..shape.iter().product()).map(|_| draw()).collect();
            let t = Tensor::from_vec(v, shape.to_vec(), device)?;
            let var = Var::from_tensor(&t)?;
            vars.push((name.to_string(), var.clone()));
            Ok::<Tensor, ModelError>(var.as_tensor().clone())
        };
        let (nu, ni) = (ds.n_users(), ds.n_items());
        let mut embed = |name: &str, n: usize| -> Result<Embedding> {
            let mut draw = || normal.sample(&mut rng);
            Ok(Embedding::new(var(name, &[n, f], &mut draw)?, f))
        };
        let gmf_user = embed("gmf_user", nu)?;
        let gmf_item = embed("gmf_item", ni)?;
        let mlp_user = embed("mlp_user", nu)?;
        let mlp_item = embed("mlp_item", ni)?;
        let mut rng: ChaCha8Rng = rand::SeedableRng::seed_from_u64(seed.wrapping_add(1));
        let mut linear = |name: &str, fan_in: usize, fan_out: usize| -> Result<Linear> {
            let bound = 1.0 / (fan_in as f32).sqrt();
            let uniform =
                Uniform::new_inclusive(-bound, bound).map_err(|e| ModelError::Config {
                    model: "neumf".into(),
                    message: format!("layer init: {e}"),
                })?;
            let mut draw = || uniform.sample(&mut rng);
            let w = var(&format!("{name}.weight"), &[fan_out, fan_in], &mut draw)?;
            let b = var(&format!("{name}.bias"), &[fan_out], &mut || 0.0)?;
            Ok(Linear::new(w, Some(b)))
        };
        let hidden = vec![linear("mlp.0", 2 * f, f)?, linear("mlp.1", f, f / 2)?];
        let out = linear("out", f + f / 2, 1)?;
        Ok(NeuMf {
            vars,
            gmf_user,
            gmf_item,
            mlp_user,
            mlp_item,
            hidden,
            out,
            reg: h.reg,
            negatives: h.negatives.max(1),
            device: device.clone(),
            seen: Seen::new(&ds.seen, ni),
            n_items: ni,
        })
    }

    /// Logits of (user, item) index pairs, and the embeddings the pairs used.
    fn forward(&self, users: &Tensor, items: &Tensor) -> Result<(Tensor, [Tensor; 4])> {
        let gu = self.gmf_user.forward(users)?;
        let gi = self.gmf_item.forward(items)?;
        let mu = self.mlp_user.forward(users)?;
        let mi = self.mlp_item.forward(items)?;
        let mut h = Tensor::cat(&[&mu, &mi], D::Minus1)?;
        for layer in &self.hidden {
            h = layer.forward(&h)?.relu()?;
        }
        let joint = Tensor::cat(&[&gu.mul(&gi)?, &h], D::Minus1)?;
        let logit = self.out.forward(&joint)?.squeeze(D::Minus1)?;
        Ok((logit, [gu, gi, mu, mi]))
    }

    fn index(&self, ids: &[u32]) -> Result<Tensor> {
        Ok(Tensor::from_slice(ids, ids.len(), &self.device)?)
    }
}

impl Trainable for NeuMf {
    fn vars(&self) -> Vec<Var> {
        self.vars.iter().map(|(_, v)| v.clone()).collect()
    }

    /// Every observed pair (label 1) and `negatives` unseen items per pair (label 0).
    fn batches(&self, ds: &Dataset, size: usize, rng: &mut ChaCha8Rng) -> Result<Vec<Batch>> {
        let mut rows: Vec<(u32, u32, f32)> =
            Vec::with_capacity(ds.train.len() * (1 + self.negatives));
        for x in &ds.train {
            rows.push((x.user, x.item, 1.0));
            for _ in 0..self.negatives {
                rows.push((x.user, negative(&self.seen, x.user, self.n_items, rng), 0.0));
            }
        }
        rows.shuffle(rng);
        rows.chunks(size.max(1))
            .map(|c| {
                let users: Vec<u32> = c.iter().map(|r| r.0).collect();
                let items: Vec<u32> = c.iter().map(|r| r.1).collect();
                let labels: Vec<f32> = c.iter().map(|r| r.2).collect();
                Ok(Batch {
                    users: self.index(&users)?,
                    items: self.index(&items)?,
                    targets: Tensor::from_vec(labels, c.len(), &self.device)?,
                })
            })
            .collect()
    }

    /// Binary cross-entropy on the logits, `max(x, 0) − x·y + log(1 + e^−|x|)`, plus `reg`
    /// times the batch mean of the squared embedding norms.
    fn loss(&self, b: &Batch) -> Result<Tensor> {
        let (x, embeddings) = self.forward(&b.users, &b.items)?;
        let bce = ((x.relu()? - x.mul(&b.targets)?)?
            + x.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?)?
        .mean_all()?;
        let mut norms = Tensor::zeros((), DType::F32, &self.device)?;
        for e in &embeddings {
            norms = (norms + e.sqr()?.sum(D::Minus1)?.mean_all()?)?;
        }
        Ok((bce + norms.affine(self.reg, 0.0)?)?)
    }

    fn load(&mut self, path: &Path) -> Result<()> {
        let t = candle_core::safetensors::load(path, &self.device)?;
        for (name, v) in &self.vars {
            let value = t.get(name).ok_or_else(|| ModelError::Config {
                model: "neumf".into(),
                message: format!("{}: no tensor \"{name}\"", path.display()),
            })?;
            if value.dims() != v.dims() {
                return Err(ModelError::Config {
                    model: "neumf".into(),
                    message: format!(
                        "{}: {name} is {:?}, the model needs {:?} (was the split changed?)",
                        path.display(),
                        value.dims(),
                        v.dims()
                    ),
                });
            }
            v.set(value)?;
        }
        Ok(())
    }

    fn rates(&self) -> bool {
        false
    }
}

impl Recommender for NeuMf {
    fn score_users(&self, users: &[u32]) -> Result<Vec<f32>> {
        let mut out = Vec::with_capacity(users.len() * self.n_items);
        let all: Vec<u32> = (0..self.n_items as u32).collect();
        for chunk in users.chunks(USERS_PER_PASS) {
            let u: Vec<u32> = chunk
                .iter()
                .flat_map(|&u| std::iter::repeat_n(u, self.n_items))
                .collect();
            let i: Vec<u32> = chunk.iter().flat_map(|_| all.iter().copied()).collect();
            let (logit, _) = self.forward(&self.index(&u)?, &self.index(&i)?)?;
            out.extend(logit.to_device(&Device::Cpu)?.to_vec1::<f32>()?);
        }
        Ok(out)
    }

    fn save(&self, path: &Path) -> Result<()> {
        let tensors: std::collections::HashMap<String, Tensor> = self
            .vars
            .iter()
            .map(|(n, v)| (n.clone(), v.as_tensor().clone()))
            .collect();
        candle_core::safetensors::save(&tensors, path)?;
        Ok(())
    }
}
