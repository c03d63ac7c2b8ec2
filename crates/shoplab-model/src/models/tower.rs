//! A fitted two-tower recommender as vectors: one per user (from the training history) and
//! one per item (the item tower's output). Trained by the `two_tower` run; loaded and
//! scored here like any other recommender.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{D, Device, Tensor};

use super::{Embeddings, Recommender};
use crate::dataset::Dataset;
use crate::error::{ModelError, Result};
use crate::files::replace_file;

/// Row-wise L2 normalization (a zero row stays zero).
pub(crate) fn normalize(x: &Tensor) -> Result<Tensor> {
    let norm = x
        .sqr()?
        .sum_keepdim(D::Minus1)?
        .sqrt()?
        .clamp(1e-12, f64::MAX)?;
    Ok(x.broadcast_div(&norm)?)
}

/// Adds the mean of `table`'s rows (`dim` wide) for `items`, less `skip`, into `out`.
pub(crate) fn history_mean(
    table: &[f32],
    dim: usize,
    items: &[u32],
    skip: Option<u32>,
    out: &mut [f32],
) {
    let mut n = 0usize;
    for &i in items.iter().filter(|&&i| Some(i) != skip) {
        let v = &table[i as usize * dim..(i as usize + 1) * dim];
        out.iter_mut().zip(v).for_each(|(a, b)| *a += b);
        n += 1;
    }
    let n = n.max(1) as f32;
    out.iter_mut().for_each(|a| *a /= n);
}

/// The fitted towers as vectors: one per user (from the training history) and per item.
pub struct TowerVectors {
    users: Tensor,
    items: Tensor,
}

impl TowerVectors {
    /// User vectors from the item table `items` (`n_items × dim`, rows L2-normalized) and
    /// the user map `w`: each user's training items averaged, mapped, normalized.
    pub(crate) fn build(ds: &Dataset, items: &[f32], dim: usize, w: &Tensor) -> Result<Self> {
        let device = w.device();
        let mut means = vec![0f32; ds.n_users() * dim];
        for (u, seen) in ds.seen.iter().enumerate() {
            history_mean(items, dim, seen, None, &mut means[u * dim..(u + 1) * dim]);
        }
        let means = Tensor::from_vec(means, (ds.n_users(), dim), device)?;
        Ok(TowerVectors {
            users: normalize(&means.matmul(w)?)?,
            items: Tensor::from_vec(items.to_vec(), (ds.n_items(), dim), device)?,
        })
    }

    pub fn load(path: &Path, device: &Device) -> Result<Self> {
        let mut t = crate::files::load_safetensors(path, device)?;
        let mut take = |name: &str| {
            t.remove(name).ok_or_else(|| ModelError::Config {
                model: "two-tower".into(),
                message: format!("{}: no tensor \"{name}\"", path.display()),
            })
        };
        Ok(TowerVectors {
            users: take("users")?,
            items: take("items")?,
        })
    }
}

impl Recommender for TowerVectors {
    fn score_users(&self, users: &[u32]) -> Result<Vec<f32>> {
        let idx = Tensor::from_slice(users, users.len(), self.users.device())?;
        let u = self.users.index_select(&idx, 0)?;
        Ok(u.matmul(&self.items.t()?)?
            .flatten_all()?
            .to_device(&Device::Cpu)?
            .to_vec1()?)
    }

    fn save(&self, path: &Path) -> Result<()> {
        let t: HashMap<String, Tensor> = [
            ("users".to_string(), self.users.to_device(&Device::Cpu)?),
            ("items".to_string(), self.items.to_device(&Device::Cpu)?),
        ]
        .into();
        replace_file(path, |tmp| Ok(candle_core::safetensors::save(&t, tmp)?))
    }

    /// The history folded in against the item tower's vectors (text similarity, through
    /// the user vector that best fits the history).
    fn score_history(&self, history: &[u32]) -> Result<Vec<f32>> {
        let dim = self.items.dim(1)?;
        let rows: Vec<f32> = if history.is_empty() {
            Vec::new()
        } else {
            let idx = Tensor::from_slice(history, history.len(), self.items.device())?;
            self.items
                .index_select(&idx, 0)?
                .flatten_all()?
                .to_device(&Device::Cpu)?
                .to_vec1()?
        };
        let u = super::fold_in(&rows, &super::gram(&self.items)?, dim, 0.1);
        let u = Tensor::from_vec(u, (1, dim), self.items.device())?;
        Ok(u.matmul(&self.items.t()?)?
            .flatten_all()?
            .to_device(&Device::Cpu)?
            .to_vec1()?)
    }

    fn embeddings(&self) -> Result<Option<Embeddings>> {
        let dim = self.items.dim(1)?;
        let flat = |t: &Tensor| -> Result<Vec<f32>> {
            Ok(t.to_device(&Device::Cpu)?.flatten_all()?.to_vec1()?)
        };
        Ok(Some(Embeddings {
            users: flat(&self.users)?,
            items: flat(&self.items)?,
            dim,
        }))
    }
}
