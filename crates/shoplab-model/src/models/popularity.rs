//! The popularity baseline: every user gets the most interacted items.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};

use super::Recommender;
use crate::dataset::Dataset;
use crate::error::Result;

pub struct Popularity {
    counts: Vec<f32>,
}

impl Popularity {
    pub fn fit(ds: &Dataset) -> Self {
        Popularity {
            counts: ds.item_counts.iter().map(|&c| c as f32).collect(),
        }
    }

    pub fn load(path: &Path) -> Result<Self> {
        let t = candle_core::safetensors::load(path, &Device::Cpu)?;
        let counts = t
            .get("counts")
            .ok_or_else(|| crate::error::ModelError::Config {
                model: "pop".into(),
                message: format!("{}: no tensor \"counts\"", path.display()),
            })?
            .to_vec1()?;
        Ok(Popularity { counts })
    }
}

impl Recommender for Popularity {
    fn score_users(&self, users: &[u32]) -> Result<Vec<f32>> {
        Ok(users
            .iter()
            .flat_map(|_| self.counts.iter().copied())
            .collect())
    }

    fn score_history(&self, _history: &[u32]) -> Result<Vec<f32>> {
        Ok(self.counts.clone())
    }

    fn save(&self, path: &Path) -> Result<()> {
        let t = Tensor::new(self.counts.as_slice(), &Device::Cpu)?;
        candle_core::safetensors::save(&HashMap::from([("counts".to_string(), t)]), path)?;
        Ok(())
    }
}
