//! Matrix factorization in candle: user and item factors with biases, trained on squared
//! error (explicit ratings) or on the BPR pairwise loss with sampled negatives (implicit).

use std::path::Path;

use candle_core::{D, DType, Device, Tensor, Var};
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use super::params::{load_vars, save_vars};
use super::{Batch, Embeddings, Hyper, ModelKind, Recommender, Trainable};
use crate::dataset::Dataset;
use crate::error::{ModelError, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Objective {
    /// Squared error on the observed values.
    Mse,
    /// Bayesian personalized ranking: a seen item above a sampled unseen one.
    Bpr,
}

impl Objective {
    /// The model trained on this objective.
    pub fn kind(self) -> ModelKind {
        match self {
            Objective::Mse => ModelKind::Mf,
            Objective::Bpr => ModelKind::Bpr,
        }
    }
}

/// The update rule of a factorization model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Optimizer {
    /// Mini-batch Adam on the loss through candle's autograd, on any device; `reg` weighs
    /// the batch mean of the squared norms.
    #[default]
    Adam,
    /// Per-example SGD, fused into one pass over the factors on the CPU (the update rule of
    /// Surprise's SVD, cornac's and implicit's BPR); `reg` is the per-example L2 weight.
    Sgd,
}

impl Optimizer {
    pub fn parse(s: &str) -> Result<Self> {
        match s.to_lowercase().as_str() {
            "adam" => Ok(Optimizer::Adam),
            "sgd" => Ok(Optimizer::Sgd),
            _ => Err(ModelError::Config {
                model: "factorization".into(),
                message: format!("unknown optimizer \"{s}\" (known: adam, sgd)"),
            }),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Optimizer::Adam => "adam",
            Optimizer::Sgd => "sgd",
        }
    }
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
    seen: Seen,
    n_items: usize,
}

const NAMES: [&str; 4] = ["user_factors", "item_factors", "user_bias", "item_bias"];

impl Factorization {
    /// Factors drawn from N(0, init_std²) with a ChaCha8 generator seeded by `seed`.
    pub fn new(
        objective: Objective,
        ds: &Dataset,
        h: &Hyper,
        seed: u64,
        device: &Device,
    ) -> Result<Self> {
        let kind = objective.kind();
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
            range: value_range(ds),
            reg: h.reg,
            device: device.clone(),
            seen: Seen::new(&ds.seen, ds.n_items()),
            n_items: ds.n_items(),
        })
    }

    /// A rating model from given factors (row-major, `factors` columns), without biases;
    /// predictions are the train mean plus `p_u · q_i`.
    pub fn from_factors(ds: &Dataset, factors: usize, p: Vec<f32>, q: Vec<f32>) -> Result<Self> {
        let dev = Device::Cpu;
        let (nu, ni) = (ds.n_users(), ds.n_items());
        Ok(Factorization {
            objective: Objective::Mse,
            p: Var::from_tensor(&Tensor::from_vec(p, (nu, factors), &dev)?)?,
            q: Var::from_tensor(&Tensor::from_vec(q, (ni, factors), &dev)?)?,
            bu: Var::zeros(nu, DType::F32, &dev)?,
            bi: Var::zeros(ni, DType::F32, &dev)?,
            mu: ds.mean,
            range: value_range(ds),
            reg: 0.0,
            device: dev,
            seen: Seen::new(&ds.seen, ni),
            n_items: ni,
        })
    }

    /// A rating model read from tensors written by [`Recommender::save`], whatever their
    /// number of factors.
    pub fn read(ds: &Dataset, path: &Path, device: &Device) -> Result<Self> {
        let t = candle_core::safetensors::load(path, &Device::Cpu)?;
        let factors = t
            .get(NAMES[0])
            .map(|x| x.dims().last().copied().unwrap_or(0))
            .unwrap_or(0);
        let zeros = |n: usize| vec![0.0f32; n * factors];
        let mut f = Self::from_factors(ds, factors, zeros(ds.n_users()), zeros(ds.n_items()))?;
        f.device = device.clone();
        for v in [&mut f.p, &mut f.q, &mut f.bu, &mut f.bi] {
            *v = Var::from_tensor(&v.as_tensor().to_device(device)?)?;
        }
        f.load(path)?;
        Ok(f)
    }

    fn index(&self, ids: &[u32]) -> Result<Tensor> {
        Ok(Tensor::from_slice(ids, ids.len(), &self.device)?)
    }

    fn negative(&self, u: u32, rng: &mut ChaCha8Rng) -> u32 {
        negative(&self.seen, u, self.n_items, rng)
    }
}

/// SGD over the examples `part`; the sum of their losses. Compiled for AVX2 too and
/// dispatched at run time (8 lanes instead of 4); without FMA the arithmetic, and so the
/// result, is the same either way.
#[multiversion::multiversion(targets("x86_64+avx2"))]
fn sgd_kernel(
    f: &Factorization,
    ds: &Dataset,
    part: &[u32],
    h: &mut Host,
    lr: f32,
    rng: &mut ChaCha8Rng,
) -> f64 {
    let (d, reg) = (h.d, f.reg as f32);
    let (p, q, bu, bi) = (&mut h.p, &mut h.q, &mut h.bu, &mut h.bi);
    let mut sum = 0.0f64;
    for &k in part {
        let x = ds.train[k as usize];
        let (u, i) = (x.user as usize, x.item as usize);
        let pu = &mut p[u * d..(u + 1) * d];
        match f.objective {
            Objective::Mse => {
                let qi = &mut q[i * d..(i + 1) * d];
                let e = x.value - (f.mu + bu[u] + bi[i] + dot(pu, qi));
                sum += f64::from(e * e);
                bu[u] += lr * (e - reg * bu[u]);
                bi[i] += lr * (e - reg * bi[i]);
                for (a, b) in pu.iter_mut().zip(qi.iter_mut()) {
                    let (pa, qb) = (*a, *b);
                    *a += lr * (e * qb - reg * pa);
                    *b += lr * (e * pa - reg * qb);
                }
            }
            Objective::Bpr => {
                let j = f.negative(x.user, rng) as usize;
                if j == i {
                    continue; // the user saw every item: no negative exists
                }
                let (qi, qj) = two_rows(q, i, j, d);
                let margin = bi[i] - bi[j] + dot(pu, qi) - dot(pu, qj);
                let e = margin.exp();
                // σ(−x), the weight of the gradient of −log σ(x) = log(1 + e^−x).
                let g = 1.0 / (1.0 + e);
                sum += f64::from(if margin > 0.0 {
                    e.recip().ln_1p()
                } else {
                    e.ln_1p() - margin
                });
                bi[i] += lr * (g - reg * bi[i]);
                bi[j] += lr * (-g - reg * bi[j]);
                for ((a, b), c) in pu.iter_mut().zip(qi.iter_mut()).zip(qj.iter_mut()) {
                    let (pa, qb, qc) = (*a, *b, *c);
                    *a += lr * (g * (qb - qc) - reg * pa);
                    *b += lr * (g * pa - reg * qb);
                    *c += lr * (-g * pa - reg * qc);
                }
            }
        }
    }
    sum
}

impl Trainable for Factorization {
    fn vars(&self) -> Vec<Var> {
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

    /// One epoch's mini-batches, shuffled by `rng`; BPR draws one unseen item per pair.
    fn batches(&self, ds: &Dataset, size: usize, rng: &mut ChaCha8Rng) -> Result<Vec<Batch>> {
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

    /// The batch's loss, regularization included.
    fn loss(&self, b: &Batch) -> Result<Tensor> {
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
    fn load(&mut self, path: &Path) -> Result<()> {
        let vars = NAMES
            .into_iter()
            .zip([&self.p, &self.q, &self.bu, &self.bi]);
        load_vars("factorization", path, &self.device, vars)
    }

    fn rates(&self) -> bool {
        self.objective == Objective::Mse
    }

    /// One epoch of per-example SGD over the train interactions, in an order shuffled by
    /// `rng` (BPR draws its negatives from it too).
    ///
    /// Candle's graph costs a few dozen tensor allocations per mini-batch, a dense Adam
    /// update of every row and an `index_add` scatter in the backward pass of each lookup;
    /// with 64 factors the arithmetic of an example is a few hundred flops, so that
    /// overhead is nearly all of an epoch. This pass works on host copies of the factors
    /// instead: gradients in closed form, applied to the three rows an example touches,
    /// with no allocation per example. The factors are written back once at the end.
    ///
    /// `each` is called after every `chunk` examples with the chunk's number and its mean
    /// loss (the data term: squared error, or −log σ of the BPR margin); it returns
    /// `Ok(false)` to stop the epoch, which then leaves the factors as they were.
    /// Returns the epoch's mean loss, or `None` when stopped.
    fn sgd_epoch(
        &mut self,
        ds: &Dataset,
        lr: f32,
        chunk: usize,
        rng: &mut ChaCha8Rng,
        each: &mut dyn FnMut(usize, f64) -> Result<bool>,
    ) -> Result<Option<f64>> {
        let mut h = Host {
            p: to_host(&self.p)?,
            q: to_host(&self.q)?,
            bu: to_host(&self.bu)?,
            bi: to_host(&self.bi)?,
            d: self.p.dims()[1],
        };
        let mut order: Vec<u32> = (0..ds.train.len() as u32).collect();
        order.shuffle(rng);
        let mut total = 0.0f64;
        for (step, part) in order.chunks(chunk.max(1)).enumerate() {
            let sum = sgd_kernel(self, ds, part, &mut h, lr, rng);
            total += sum;
            if !each(step + 1, sum / part.len() as f64)? {
                return Ok(None);
            }
        }
        let (n_users, n_items, d, dev) = (h.bu.len(), h.bi.len(), h.d, &self.device);
        self.p.set(&Tensor::from_vec(h.p, (n_users, d), dev)?)?;
        self.q.set(&Tensor::from_vec(h.q, (n_items, d), dev)?)?;
        self.bu.set(&Tensor::from_vec(h.bu, n_users, dev)?)?;
        self.bi.set(&Tensor::from_vec(h.bi, n_items, dev)?)?;
        Ok(Some(total / ds.train.len().max(1) as f64))
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

    fn embeddings(&self) -> Result<Option<Embeddings>> {
        Ok(Some(Embeddings {
            users: to_host(&self.p)?,
            items: to_host(&self.q)?,
            dim: self.p.dims()[1],
        }))
    }

    /// The history folded in against the fixed item factors: a BPR model fits the user
    /// vector by its own objective (SGD over the history against sampled unseen items, the
    /// run's learning rate and L2 weight aside: fixed, seeded); an MSE model takes implicit
    /// ALS's user step. Scored with the item biases, like a trained user.
    fn score_history(&self, history: &[u32]) -> Result<Vec<f32>> {
        let q = self.q.as_tensor();
        let dim = q.dims()[1];
        let items = to_host(&self.q)?;
        let bias = to_host(&self.bi)?;
        let u = match self.objective {
            Objective::Bpr => bpr_fold_in(&items, &bias, dim, history, self.reg),
            Objective::Mse => {
                let rows: Vec<f32> = history
                    .iter()
                    .flat_map(|&h| items[h as usize * dim..(h as usize + 1) * dim].to_vec())
                    .collect();
                super::fold_in(&rows, &super::gram(q)?, dim, self.reg.max(0.01))
            }
        };
        Ok(items
            .chunks_exact(dim)
            .zip(&bias)
            .map(|(qi, b)| qi.iter().zip(&u).map(|(x, y)| x * y).sum::<f32>() + b)
            .collect())
    }

    fn save(&self, path: &Path) -> Result<()> {
        save_vars(
            path,
            NAMES
                .into_iter()
                .zip([&self.p, &self.q, &self.bu, &self.bi]),
        )
    }
}

/// A variable's values, flattened, in host memory.
fn to_host(v: &Var) -> Result<Vec<f32>> {
    Ok(v.as_tensor()
        .flatten_all()?
        .to_device(&Device::Cpu)?
        .to_vec1()?)
}

/// The lowest and highest train value (predictions are clamped to them).
fn value_range(ds: &Dataset) -> (f32, f32) {
    ds.train.iter().fold((f32::MAX, f32::MIN), |(lo, hi), x| {
        (lo.min(x.value), hi.max(x.value))
    })
}

/// An item user `u` did not see in training (uniform; any item if the user saw all).
pub(crate) fn negative(seen: &Seen, u: u32, n_items: usize, rng: &mut ChaCha8Rng) -> u32 {
    for _ in 0..64 {
        let j = rng.random_range(0..n_items as u32);
        if !seen.contains(u, j) {
            return j;
        }
    }
    rng.random_range(0..n_items as u32)
}

/// What each user saw in training, for drawing negatives: a bit matrix when it is small
/// (one memory read per draw), else the sorted item lists (a binary search per draw).
pub(crate) enum Seen {
    Bits {
        words_per_user: usize,
        bits: Vec<u64>,
    },
    Lists(Vec<Vec<u32>>),
}

impl Seen {
    /// Bit matrices up to 32 MiB.
    const MAX_BITS: usize = 1 << 28;

    pub(crate) fn new(seen: &[Vec<u32>], n_items: usize) -> Self {
        if seen.len().saturating_mul(n_items) > Self::MAX_BITS {
            return Seen::Lists(seen.to_vec());
        }
        let words_per_user = n_items.div_ceil(64);
        let mut bits = vec![0u64; seen.len() * words_per_user];
        for (u, items) in seen.iter().enumerate() {
            for &i in items {
                bits[u * words_per_user + i as usize / 64] |= 1 << (i % 64);
            }
        }
        Seen::Bits {
            words_per_user,
            bits,
        }
    }

    fn contains(&self, u: u32, i: u32) -> bool {
        match self {
            Seen::Bits {
                words_per_user,
                bits,
            } => bits[u as usize * words_per_user + i as usize / 64] & (1 << (i % 64)) != 0,
            Seen::Lists(lists) => lists[u as usize].binary_search(&i).is_ok(),
        }
    }
}

/// Host copies of the factors during an SGD epoch.
struct Host {
    p: Vec<f32>,
    q: Vec<f32>,
    bu: Vec<f32>,
    bi: Vec<f32>,
    d: usize,
}

/// Dot product with eight running sums, which the compiler keeps in vector registers.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    let mut acc = [0.0f32; 8];
    for (x, y) in ca.zip(cb) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Rows `i` and `j` (different) of a row-major matrix with `d` columns, both mutable.
#[inline(always)]
fn two_rows(m: &mut [f32], i: usize, j: usize, d: usize) -> (&mut [f32], &mut [f32]) {
    debug_assert_ne!(i, j);
    if i < j {
        let (a, b) = m.split_at_mut(j * d);
        (&mut a[i * d..(i + 1) * d], &mut b[..d])
    } else {
        let (a, b) = m.split_at_mut(i * d);
        (&mut b[..d], &mut a[j * d..(j + 1) * d])
    }
}

/// Passes over the history when a BPR model folds a new history in.
const FOLD_IN_EPOCHS: usize = 60;
/// The learning rate of those passes.
const FOLD_IN_LR: f32 = 0.05;

/// A user vector for `history` by BPR's own objective against the fixed item factors
/// (`items`, `dim` wide) and biases: SGD on `ln σ(x_uh − x_uj)` over the history items `h`
/// and sampled unseen items `j`, L2 weight `reg`; seeded, so a history always gets the same
/// vector.
fn bpr_fold_in(items: &[f32], bias: &[f32], dim: usize, history: &[u32], reg: f64) -> Vec<f32> {
    let n = bias.len() as u32;
    let mut u = vec![0f32; dim];
    let mut seen = history.to_vec();
    seen.sort_unstable();
    seen.dedup();
    if seen.is_empty() || seen.len() as u32 >= n {
        return u;
    }
    let mut rng: ChaCha8Rng = rand::SeedableRng::seed_from_u64(0x5EED ^ seen.len() as u64);
    let row = |i: u32| &items[i as usize * dim..(i as usize + 1) * dim];
    let reg = reg as f32;
    for _ in 0..FOLD_IN_EPOCHS {
        for &h in &seen {
            let j = loop {
                let j = rng.random_range(0..n);
                if seen.binary_search(&j).is_err() {
                    break j;
                }
            };
            let (qh, qj) = (row(h), row(j));
            let x: f32 = qh
                .iter()
                .zip(qj)
                .zip(&u)
                .map(|((a, b), c)| (a - b) * c)
                .sum::<f32>()
                + bias[h as usize]
                - bias[j as usize];
            let g = 1.0 / (1.0 + x.exp());
            for k in 0..dim {
                u[k] += FOLD_IN_LR * (g * (qh[k] - qj[k]) - reg * u[k]);
            }
        }
    }
    u
}
