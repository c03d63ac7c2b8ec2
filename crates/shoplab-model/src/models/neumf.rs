//! NeuMF (He et al., WWW 2017) in candle: a generalized MF branch (`p_u ⊙ q_i`) and an MLP
//! branch over `[p'_u ; q'_i]`, joined by one output layer into the logit of an
//! interaction. Trained on binary cross-entropy with `negatives` unseen items drawn per
//! observed one (the paper's protocol).

use std::path::Path;

use candle_core::{D, DType, Device, Tensor, Var};
use candle_nn::{Embedding, Linear, Module};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::factorization::{Seen, negative};
use super::params::{Params, bce_with_logits};
use super::{Batch, Hyper, Recommender, Trainable};
use crate::dataset::Dataset;
use crate::error::{ModelError, Result};
use crate::optim::Adam;

/// Users scored per forward pass when ranking all items.
const USERS_PER_PASS: usize = 64;
/// Adam steps and learning rate of the fold-in of a new history (see [`NeuMf::fold_in`]).
const FOLD_IN_STEPS: usize = 60;
const FOLD_IN_LR: f64 = 0.05;

pub struct NeuMf {
    params: Params,
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
    /// Embeddings from N(0, init_std²) and layers from U(±1/√fan_in), drawn from `seed`.
    /// The MLP narrows `2f → f → f/2`; the output layer reads `[gmf (f) ; mlp (f/2)]`.
    pub fn new(ds: &Dataset, h: &Hyper, seed: u64, device: &Device) -> Result<Self> {
        let f = h.factors;
        if f < 2 {
            return Err(ModelError::Config {
                model: "neumf".into(),
                message: "factors must be at least 2".into(),
            });
        }
        let mut params = Params::new("neumf", seed, device);
        let (nu, ni) = (ds.n_users(), ds.n_items());
        let gmf_user = params.embedding("gmf_user", nu, f, h.init_std)?;
        let gmf_item = params.embedding("gmf_item", ni, f, h.init_std)?;
        let mlp_user = params.embedding("mlp_user", nu, f, h.init_std)?;
        let mlp_item = params.embedding("mlp_item", ni, f, h.init_std)?;
        let hidden = vec![
            params.linear("mlp.0", 2 * f, f)?,
            params.linear("mlp.1", f, f / 2)?,
        ];
        let out = params.linear("out", f + f / 2, 1)?;
        Ok(NeuMf {
            params,
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

    /// Logits of `items` for one user given by its GMF and MLP vectors (`1 × f` each).
    fn logits_for(&self, gu: &Tensor, mu: &Tensor, items: &Tensor) -> Result<Tensor> {
        let gi = self.gmf_item.forward(items)?;
        let mi = self.mlp_item.forward(items)?;
        let mu = mu.broadcast_as(mi.shape())?;
        let mut h = Tensor::cat(&[&mu, &mi], D::Minus1)?;
        for layer in &self.hidden {
            h = layer.forward(&h)?.relu()?;
        }
        let joint = Tensor::cat(&[&gi.broadcast_mul(gu)?, &h], D::Minus1)?;
        Ok(self.out.forward(&joint)?.squeeze(D::Minus1)?)
    }

    /// A new user's GMF and MLP vectors fitted to `history` by the training objective with
    /// every item parameter fixed: binary cross-entropy of the history's items (1) against
    /// `negatives` unseen items each (0, drawn anew each step, seeded by the history), plus
    /// `reg` times the vectors' squared norms; Adam from zero.
    fn fold_in(&self, history: &[u32]) -> Result<(Tensor, Tensor)> {
        let f = self.gmf_item.embeddings().dims()[1];
        let gu = Var::zeros((1, f), DType::F32, &self.device)?;
        let mu = Var::zeros((1, f), DType::F32, &self.device)?;
        let mut seen = history.to_vec();
        seen.sort_unstable();
        seen.dedup();
        if seen.is_empty() || seen.len() >= self.n_items {
            return Ok((gu.as_tensor().clone(), mu.as_tensor().clone()));
        }
        let mut rng: ChaCha8Rng = rand::SeedableRng::seed_from_u64(0x5EED ^ seen.len() as u64);
        let mut opt = Adam::new(vec![gu.clone(), mu.clone()], FOLD_IN_LR, 0.0)?;
        for _ in 0..FOLD_IN_STEPS {
            let mut items = seen.clone();
            let mut labels = vec![1f32; seen.len()];
            for _ in 0..seen.len() * self.negatives {
                let j = loop {
                    let j = rng.random_range(0..self.n_items as u32);
                    if seen.binary_search(&j).is_err() {
                        break j;
                    }
                };
                items.push(j);
                labels.push(0.0);
            }
            let x = self.logits_for(gu.as_tensor(), mu.as_tensor(), &self.index(&items)?)?;
            let y = Tensor::from_vec(labels, items.len(), &self.device)?;
            let norms = (gu.as_tensor().sqr()?.sum_all()? + mu.as_tensor().sqr()?.sum_all()?)?;
            let loss = (bce_with_logits(&x, &y)? + norms.affine(self.reg, 0.0)?)?;
            opt.backward_step(&loss)?;
        }
        Ok((gu.as_tensor().detach(), mu.as_tensor().detach()))
    }

    fn index(&self, ids: &[u32]) -> Result<Tensor> {
        Ok(Tensor::from_slice(ids, ids.len(), &self.device)?)
    }
}

impl Trainable for NeuMf {
    fn vars(&self) -> Vec<Var> {
        self.params.vars()
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

    /// Binary cross-entropy on the logits plus `reg` times the batch mean of the squared
    /// embedding norms.
    fn loss(&self, b: &Batch) -> Result<Tensor> {
        let (x, embeddings) = self.forward(&b.users, &b.items)?;
        let bce = bce_with_logits(&x, &b.targets)?;
        let mut norms = Tensor::zeros((), DType::F32, &self.device)?;
        for e in &embeddings {
            norms = (norms + e.sqr()?.sum(D::Minus1)?.mean_all()?)?;
        }
        Ok((bce + norms.affine(self.reg, 0.0)?)?)
    }

    fn load(&mut self, path: &Path) -> Result<()> {
        self.params.load(path)
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

    fn score_history(&self, history: &[u32]) -> Result<Vec<f32>> {
        let (gu, mu) = self.fold_in(history)?;
        let all: Vec<u32> = (0..self.n_items as u32).collect();
        let logit = self.logits_for(&gu, &mu, &self.index(&all)?)?;
        Ok(logit.to_device(&Device::Cpu)?.to_vec1::<f32>()?)
    }

    /// The GMF branch's item vectors: the item space the "why" of a recommendation is read in.
    fn item_vectors(&self) -> Result<Option<(Vec<f32>, usize)>> {
        let e = self.gmf_item.embeddings();
        let dim = e.dims()[1];
        Ok(Some((
            e.to_device(&Device::Cpu)?.flatten_all()?.to_vec1()?,
            dim,
        )))
    }

    fn save(&self, path: &Path) -> Result<()> {
        self.params.save(path)
    }
}
