//! Named, seeded parameters of the neural models: created from a ChaCha8 generator (candle's
//! own initializers are not seeded), saved to and loaded from safetensors by name.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor, Var};
use candle_nn::{Embedding, LayerNorm, Linear};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, Uniform};

use crate::error::{ModelError, Result};

pub struct Params {
    model: &'static str,
    vars: Vec<(String, Var)>,
    rng: ChaCha8Rng,
    device: Device,
}

impl Params {
    pub fn new(model: &'static str, seed: u64, device: &Device) -> Self {
        Params {
            model,
            vars: Vec::new(),
            rng: ChaCha8Rng::seed_from_u64(seed),
            device: device.clone(),
        }
    }

    fn config(&self, message: String) -> ModelError {
        ModelError::Config {
            model: self.model.into(),
            message,
        }
    }

    /// A variable of `shape` filled by `draw`; its tensor (tracked by autograd).
    fn var(
        &mut self,
        name: &str,
        shape: &[usize],
        draw: &mut dyn FnMut(&mut ChaCha8Rng) -> f32,
    ) -> Result<Tensor> {
        let n: usize = shape.iter().product();
        let values: Vec<f32> = (0..n).map(|_| draw(&mut self.rng)).collect();
        let var = Var::from_tensor(&Tensor::from_vec(values, shape.to_vec(), &self.device)?)?;
        self.vars.push((name.to_string(), var.clone()));
        Ok(var.as_tensor().clone())
    }

    /// N(0, std²) values.
    pub fn normal(&mut self, name: &str, shape: &[usize], std: f64) -> Result<Tensor> {
        let d = Normal::new(0.0f32, std as f32).map_err(|e| self.config(format!("{name}: {e}")))?;
        self.var(name, shape, &mut |r| d.sample(r))
    }

    pub fn constant(&mut self, name: &str, shape: &[usize], value: f32) -> Result<Tensor> {
        self.var(name, shape, &mut |_| value)
    }

    /// An embedding table of `n × dim` from N(0, std²).
    pub fn embedding(&mut self, name: &str, n: usize, dim: usize, std: f64) -> Result<Embedding> {
        Ok(Embedding::new(self.normal(name, &[n, dim], std)?, dim))
    }

    /// A dense layer, weights from U(±1/√fan_in), biases zero.
    pub fn linear(&mut self, name: &str, fan_in: usize, fan_out: usize) -> Result<Linear> {
        let bound = 1.0 / (fan_in as f32).sqrt();
        let u = Uniform::new_inclusive(-bound, bound)
            .map_err(|e| self.config(format!("{name}: {e}")))?;
        let w = self.var(&format!("{name}.weight"), &[fan_out, fan_in], &mut |r| {
            u.sample(r)
        })?;
        let b = self.constant(&format!("{name}.bias"), &[fan_out], 0.0)?;
        Ok(Linear::new(w, Some(b)))
    }

    /// Layer normalization with unit gain and zero shift.
    pub fn layer_norm(&mut self, name: &str, dim: usize) -> Result<LayerNorm> {
        let w = self.constant(&format!("{name}.weight"), &[dim], 1.0)?;
        let b = self.constant(&format!("{name}.bias"), &[dim], 0.0)?;
        Ok(LayerNorm::new(w, b, 1e-5))
    }

    pub fn vars(&self) -> Vec<Var> {
        self.vars.iter().map(|(_, v)| v.clone()).collect()
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        save_vars(path, self.vars.iter().map(|(n, v)| (n.as_str(), v)))
    }

    /// Sets every variable from the tensor of its name, which must have its shape.
    pub fn load(&self, path: &Path) -> Result<()> {
        let vars = self.vars.iter().map(|(n, v)| (n.as_str(), v));
        load_vars(self.model, path, &self.device, vars)
    }
}

/// Writes named variables to the safetensors file `path`.
pub(crate) fn save_vars<'a>(
    path: &Path,
    vars: impl IntoIterator<Item = (&'a str, &'a Var)>,
) -> Result<()> {
    let tensors: HashMap<String, Tensor> = vars
        .into_iter()
        .map(|(n, v)| (n.to_string(), v.as_tensor().clone()))
        .collect();
    candle_core::safetensors::save(&tensors, path)?;
    Ok(())
}

/// Mean binary cross-entropy of logits `x` against labels `y` in {0, 1}, in the stable form
/// `max(x, 0) − x·y + log(1 + e^−|x|)`.
pub(crate) fn bce_with_logits(x: &Tensor, y: &Tensor) -> Result<Tensor> {
    Ok(((x.relu()? - x.mul(y)?)? + x.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?)?.mean_all()?)
}

/// Sets each named variable from the tensor of that name in the safetensors file `path`;
/// a missing tensor or another shape (a model of another split, say) is an error.
pub(crate) fn load_vars<'a>(
    model: &str,
    path: &Path,
    device: &Device,
    vars: impl IntoIterator<Item = (&'a str, &'a Var)>,
) -> Result<()> {
    let t = crate::files::load_safetensors(path, device)?;
    let config = |message: String| ModelError::Config {
        model: model.into(),
        message,
    };
    for (name, v) in vars {
        let value = t
            .get(name)
            .ok_or_else(|| config(format!("{}: no tensor \"{name}\"", path.display())))?;
        if value.dims() != v.dims() {
            return Err(config(format!(
                "{}: {name} is {:?}, the model needs {:?} (was the split changed?)",
                path.display(),
                value.dims(),
                v.dims()
            )));
        }
        v.set(value)?;
    }
    Ok(())
}
