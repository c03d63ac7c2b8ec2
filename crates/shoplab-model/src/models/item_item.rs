//! Item-item models: a user's score for item j is the sum of the weights from the items the
//! user saw in training to j. Item-kNN (cosine) and EASE differ only in the weights.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use nalgebra::DMatrix;

use super::Recommender;
use crate::dataset::Dataset;
use crate::error::{ModelError, Result};

/// Item-item models keep an items × items matrix; past this many items it would not fit.
pub const MAX_ITEMS: usize = 20_000;

pub struct ItemItem {
    n: usize,
    /// Row-major: `w[i * n + j]` is the weight from item i to item j.
    w: Vec<f32>,
    seen: Vec<Vec<u32>>,
}

impl ItemItem {
    fn check_size(ds: &Dataset, model: &str) -> Result<usize> {
        let n = ds.n_items();
        if n > MAX_ITEMS {
            return Err(ModelError::Config {
                model: model.into(),
                message: format!(
                    "{n} items: an item-item model holds an items × items matrix and is limited to {MAX_ITEMS} items; filter the split (k-core) or use mf/bpr"
                ),
            });
        }
        Ok(n)
    }

    /// Co-occurrence counts of items in users' train histories (binary), row-major.
    fn cooccurrence(ds: &Dataset) -> Vec<f32> {
        let n = ds.n_items();
        let mut c = vec![0f32; n * n];
        for seen in &ds.seen {
            for &i in seen {
                let row = &mut c[i as usize * n..(i as usize + 1) * n];
                for &j in seen {
                    row[j as usize] += 1.0;
                }
            }
        }
        c
    }

    /// Item-kNN: cosine similarity with shrinkage, `neighbors` most similar items kept for
    /// each target item.
    pub fn knn(ds: &Dataset, neighbors: usize, shrink: f64) -> Result<Self> {
        let n = Self::check_size(ds, "itemknn")?;
        let c = Self::cooccurrence(ds);
        let norms: Vec<f32> = (0..n).map(|i| c[i * n + i].sqrt()).collect();
        let mut w = vec![0f32; n * n];
        let mut sims: Vec<(f32, u32)> = Vec::with_capacity(n);
        for j in 0..n {
            sims.clear();
            for i in 0..n {
                if i != j && c[j * n + i] > 0.0 {
                    let s = c[j * n + i] / (norms[i] * norms[j] + shrink as f32);
                    sims.push((s, i as u32));
                }
            }
            let by_sim = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
            if sims.len() > neighbors {
                sims.select_nth_unstable_by(neighbors, by_sim);
                sims.truncate(neighbors);
            }
            for &(s, i) in &sims {
                w[i as usize * n + j] = s;
            }
        }
        Ok(ItemItem {
            n,
            w,
            seen: ds.seen.clone(),
        })
    }

    /// EASE: B = I − P·diag(1/diag(P)) with P = (XᵀX + λI)⁻¹, zero diagonal.
    pub fn ease(ds: &Dataset, lambda: f64) -> Result<Self> {
        let n = Self::check_size(ds, "ease")?;
        let c = Self::cooccurrence(ds);
        let g = DMatrix::from_fn(n, n, |i, j| {
            f64::from(c[i * n + j]) + if i == j { lambda } else { 0.0 }
        });
        drop(c);
        let p = g
            .cholesky()
            .ok_or_else(|| ModelError::Config {
                model: "ease".into(),
                message: format!("XᵀX + λI is not positive definite (λ = {lambda}); raise λ"),
            })?
            .inverse();
        let mut w = vec![0f32; n * n];
        for j in 0..n {
            let pjj = p[(j, j)];
            for i in 0..n {
                if i != j {
                    w[i * n + j] = (-p[(i, j)] / pjj) as f32;
                }
            }
        }
        Ok(ItemItem {
            n,
            w,
            seen: ds.seen.clone(),
        })
    }

    pub fn load(ds: &Dataset, path: &Path) -> Result<Self> {
        let t = candle_core::safetensors::load(path, &Device::Cpu)?;
        let w = t.get("weights").ok_or_else(|| ModelError::Config {
            model: "item-item".into(),
            message: format!("{}: no tensor \"weights\"", path.display()),
        })?;
        let n = ds.n_items();
        if w.dims() != [n, n] {
            return Err(ModelError::Config {
                model: "item-item".into(),
                message: format!(
                    "{}: weights are {:?}, the split has {n} items",
                    path.display(),
                    w.dims()
                ),
            });
        }
        Ok(ItemItem {
            n,
            w: w.flatten_all()?.to_vec1()?,
            seen: ds.seen.clone(),
        })
    }
}

impl ItemItem {
    /// Adds the weights from each item of `history` into `acc` (one score per item).
    fn accumulate(&self, history: &[u32], acc: &mut [f32]) {
        let n = self.n;
        for &i in history {
            let w = &self.w[i as usize * n..(i as usize + 1) * n];
            for (a, b) in acc.iter_mut().zip(w) {
                *a += b;
            }
        }
    }
}

impl Recommender for ItemItem {
    fn score_users(&self, users: &[u32]) -> Result<Vec<f32>> {
        let n = self.n;
        let mut out = vec![0f32; users.len() * n];
        for (row, &u) in users.iter().enumerate() {
            let history = self.seen.get(u as usize).map(Vec::as_slice).unwrap_or(&[]);
            self.accumulate(history, &mut out[row * n..(row + 1) * n]);
        }
        Ok(out)
    }

    fn score_history(&self, history: &[u32]) -> Result<Vec<f32>> {
        let mut out = vec![0f32; self.n];
        self.accumulate(history, &mut out);
        Ok(out)
    }

    fn item_weight(&self, from: u32, to: u32) -> Option<f32> {
        self.w.get(from as usize * self.n + to as usize).copied()
    }

    fn save(&self, path: &Path) -> Result<()> {
        let t = Tensor::from_slice(&self.w, (self.n, self.n), &Device::Cpu)?;
        candle_core::safetensors::save(&HashMap::from([("weights".to_string(), t)]), path)?;
        Ok(())
    }
}
