//! Matrix factorization in candle: user and item factors with biases, trained on squared
//! error (explicit ratings) or on the BPR pairwise loss with sampled negatives (implicit).

use std::path::Path;

use candle_core::{D, DType, Device, Tensor, Var};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use super::{Hyper, ModelKind, Recommender};
use crate::dataset::Dataset;
use crate::error::{ModelError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    /// Squared error on the observed values.
    Mse,
    /// Bayesian personalized ranking: a seen item above a sampled unseen one.
    Bpr,
}

/// One mini-batch: user and item indices, and the rating (MSE) or a negative item (BPR).
pub struct Batch {
    users: Tensor,
    items: Tensor,
    targets: Tensor,
}

pub struct Factorization {
    pub objective: Objective,
    p: Var,
    q: Var,
    bu: Var,
    bi: Var,
    mu: f32,
    range: (f32, f32),
    reg: f64,
    device: Device,
    seen: Vec<Vec<u32>>,
    n_items: usize,
}

const NAMES: [&str; 4] = ["user_factors", "item_factors", "user_bias", "item_bias"];

impl Factorization {
    /// Factors drawn from N(0, init_std²) with a ChaCha8 generator seeded by `seed`.
    pub fn new(
        kind: ModelKind,
        ds: &Dataset,
        h: &Hyper,
        seed: u64,
        device: &Device,
    ) -> Result<Self> {
        let objective = match kind {
            ModelKind::Mf => Objective::Mse,
            ModelKind::Bpr => Objective::Bpr,
            _ => {
                return Err(ModelError::Config {
                    model: kind.name().into(),
                    message: "is not a factorization model".into(),
                });
            }
        };
        if h.factors == 0 {
            return Err(ModelError::Config {
                model: kind.name().into(),
                message: "factors must be at least 1".into(),
            });
        }
        let mut rng: ChaCha8Rng = rand::SeedableRng::seed_from_u64(seed);
        let normal = Normal::new(0.0f32, h.init_std as f32).map_err(|e| ModelError::Config {
            model: kind.name().into(),
            message: format!("init_std: {e}"),
        })?;
        let mut randn = |rows: usize| -> Result<Var> {
            let v: Vec<f32> = (0..rows * h.factors)
                .map(|_| normal.sample(&mut rng))
                .collect();
            Ok(Var::from_tensor(&Tensor::from_vec(
                v,
                (rows, h.factors),
                device,
            )?)?)
        };
        let p = randn(ds.n_users())?;
        let q = randn(ds.n_items())?;
        let bu = Var::zeros(ds.n_users(), DType::F32, device)?;
        let bi = Var::zeros(ds.n_items(), DType::F32, device)?;
        let (lo, hi) = ds.train.iter().fold((f32::MAX, f32::MIN), |(lo, hi), x| {
            (lo.min(x.value), hi.max(x.value))
        });
        Ok(Factorization {
            objective,
            p,
            q,
            bu,
            bi,
            mu: if objective == Objective::Mse {
                ds.mean
            } else {
                0.0
            },
            range: (lo, hi),
            reg: h.reg,
            device: device.clone(),
            seen: ds.seen.clone(),
            n_items: ds.n_items(),
        })
    }

    pub fn vars(&self) -> Vec<Var> {
        match self.objective {
            Objective::Mse => vec![
                self.p.clone(),
                self.q.clone(),
                self.bu.clone(),
                self.bi.clone(),
            ],
            Objective::Bpr => vec![self.p.clone(), self.q.clone(), self.bi.clone()],
        }
    }

    fn index(&self, ids: &[u32]) -> Result<Tensor> {
        Ok(Tensor::from_slice(ids, ids.len(), &self.device)?)
    }

    /// One epoch's mini-batches, shuffled by `rng`; BPR draws one unseen item per pair.
    pub fn batches(&self, ds: &Dataset, size: usize, rng: &mut ChaCha8Rng) -> Result<Vec<Batch>> {
        let mut order: Vec<usize> = (0..ds.train.len()).collect();
        order.shuffle(rng);
        let mut out = Vec::with_capacity(order.len().div_ceil(size));
        for chunk in order.chunks(size.max(1)) {
            let users: Vec<u32> = chunk.iter().map(|&k| ds.train[k].user).collect();
            let items: Vec<u32> = chunk.iter().map(|&k| ds.train[k].item).collect();
            let targets = match self.objective {
                Objective::Mse => {
                    let v: Vec<f32> = chunk.iter().map(|&k| ds.train[k].value).collect();
                    Tensor::from_vec(v, chunk.len(), &self.device)?
                }
                Objective::Bpr => {
                    let negs: Vec<u32> = users.iter().map(|&u| self.negative(u, rng)).collect();
                    self.index(&negs)?
                }
            };
            out.push(Batch {
                users: self.index(&users)?,
                items: self.index(&items)?,
                targets,
            });
        }
        Ok(out)
    }

    /// An item the user did not see in training (uniform; any item if the user saw all).
    fn negative(&self, u: u32, rng: &mut ChaCha8Rng) -> u32 {
        let seen = &self.seen[u as usize];
        for _ in 0..64 {
            let j = rng.random_range(0..self.n_items as u32);
            if seen.binary_search(&j).is_err() {
                return j;
            }
        }
        rng.random_range(0..self.n_items as u32)
    }

    /// The batch's loss, regularization included.
    pub fn loss(&self, b: &Batch) -> Result<Tensor> {
        let pu = self.p.as_tensor().index_select(&b.users, 0)?;
        let qi = self.q.as_tensor().index_select(&b.items, 0)?;
        let bi = self.bi.as_tensor().index_select(&b.items, 0)?;
        Ok(match self.objective {
            Objective::Mse => {
                let bu = self.bu.as_tensor().index_select(&b.users, 0)?;
                let pred = ((pu.mul(&qi)?.sum(D::Minus1)? + &bu)? + &bi)?
                    .affine(1.0, f64::from(self.mu))?;
                let mse = pred.sub(&b.targets)?.sqr()?.mean_all()?;
                let norms = (pu.sqr()?.sum(D::Minus1)? + qi.sqr()?.sum(D::Minus1)?)?;
                let reg = ((norms + bu.sqr()?)? + bi.sqr()?)?.mean_all()?;
                (mse + reg.affine(self.reg, 0.0)?)?
            }
            Objective::Bpr => {
                let qj = self.q.as_tensor().index_select(&b.targets, 0)?;
                let bj = self.bi.as_tensor().index_select(&b.targets, 0)?;
                let x = ((pu.mul(&qi.sub(&qj)?)?.sum(D::Minus1)? + bi)? - bj)?;
                // −log σ(x) = softplus(−x) = max(−x, 0) + log(1 + e^−|x|), stable for any x.
                let nll = (x.neg()?.relu()? + x.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?)?
                    .mean_all()?;
                let norms = ((pu.sqr()?.sum(D::Minus1)? + qi.sqr()?.sum(D::Minus1)?)?
                    + qj.sqr()?.sum(D::Minus1)?)?;
                (nll + norms.mean_all()?.affine(self.reg, 0.0)?)?
            }
        })
    }

    /// Sets the parameters from a checkpoint written by [`Recommender::save`].
    pub fn load(&mut self, path: &Path) -> Result<()> {
        let t = candle_core::safetensors::load(path, &self.device)?;
        for (name, v) in NAMES.iter().zip([&self.p, &self.q, &self.bu, &self.bi]) {
            let value = t.get(*name).ok_or_else(|| ModelError::Config {
                model: "factorization".into(),
                message: format!("{}: no tensor \"{name}\"", path.display()),
            })?;
            if value.dims() != v.dims() {
                return Err(ModelError::Config {
                    model: "factorization".into(),
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
}

impl Recommender for Factorization {
    fn score_users(&self, users: &[u32]) -> Result<Vec<f32>> {
        let u = self.index(users)?;
        let pu = self.p.as_tensor().index_select(&u, 0)?;
        let scores = pu
            .matmul(&self.q.as_tensor().t()?)?
            .broadcast_add(&self.bi.as_tensor().unsqueeze(0)?)?;
        Ok(scores.flatten_all()?.to_device(&Device::Cpu)?.to_vec1()?)
    }

    fn predict(&self, pairs: &[(u32, u32)]) -> Result<Option<Vec<f32>>> {
        if self.objective != Objective::Mse {
            return Ok(None);
        }
        let users: Vec<u32> = pairs.iter().map(|p| p.0).collect();
        let items: Vec<u32> = pairs.iter().map(|p| p.1).collect();
        let (u, i) = (self.index(&users)?, self.index(&items)?);
        let pu = self.p.as_tensor().index_select(&u, 0)?;
        let qi = self.q.as_tensor().index_select(&i, 0)?;
        let pred = ((pu.mul(&qi)?.sum(D::Minus1)? + self.bu.as_tensor().index_select(&u, 0)?)?
            + self.bi.as_tensor().index_select(&i, 0)?)?
        .affine(1.0, f64::from(self.mu))?
        .clamp(self.range.0, self.range.1)?;
        Ok(Some(pred.to_device(&Device::Cpu)?.to_vec1()?))
    }

    fn save(&self, path: &Path) -> Result<()> {
        let tensors: std::collections::HashMap<String, Tensor> = NAMES
            .iter()
            .zip([&self.p, &self.q, &self.bu, &self.bi])
            .map(|(n, v)| (n.to_string(), v.as_tensor().clone()))
            .collect();
        candle_core::safetensors::save(&tensors, path)?;
        Ok(())
    }
}
