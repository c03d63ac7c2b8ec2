//! AdamW whose state (moments and step count) is saved with a checkpoint, so a resumed run
//! continues exactly where it stopped. The update is candle-nn's `AdamW` (Loshchilov &
//! Hutter): decoupled weight decay, bias-corrected moments.

use std::collections::HashMap;
use std::path::Path;

use candle_core::backprop::GradStore;
use candle_core::{Device, Tensor, Var};

use crate::error::{ModelError, Result};

pub struct Adam {
    vars: Vec<(Var, Var, Var)>,
    step: usize,
    lr: f64,
    weight_decay: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
}

impl Adam {
    pub fn new(vars: Vec<Var>, lr: f64, weight_decay: f64) -> Result<Self> {
        let vars = vars
            .into_iter()
            .map(|v| {
                let m = Var::zeros(v.shape(), v.dtype(), v.device())?;
                let s = Var::zeros(v.shape(), v.dtype(), v.device())?;
                Ok((v, m, s))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Adam {
            vars,
            step: 0,
            lr,
            weight_decay,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        })
    }

    /// Back-propagates `loss` and updates every variable that has a gradient.
    pub fn backward_step(&mut self, loss: &Tensor) -> Result<()> {
        let grads = loss.backward()?;
        self.step(&grads)
    }

    /// Sets the learning rate (a schedule's value for the next step).
    pub fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }

    /// Updates every variable from its gradient in `grads` (in the order of the variables
    /// given to [`Adam::new`]; `None` leaves one as it is): gradients summed over several
    /// micro-batches.
    pub fn step_with(&mut self, grads: &[Option<Tensor>]) -> Result<()> {
        self.step += 1;
        let t = self.step as i32;
        for (k, g) in grads.iter().enumerate() {
            if let Some(g) = g {
                self.update(k, g, t)?;
            }
        }
        Ok(())
    }

    fn update(&self, k: usize, g: &Tensor, t: i32) -> Result<()> {
        let (theta, m, v) = &self.vars[k];
        let (b1, b2) = (self.beta1, self.beta2);
        let scale_m = 1.0 / (1.0 - b1.powi(t));
        let scale_v = 1.0 / (1.0 - b2.powi(t));
        let in_place =
            crate::kernels::AdamStep::at(t, (b1, b2, self.eps), self.lr, self.weight_decay);
        if crate::kernels::adam_in_place(
            theta.as_tensor(),
            m.as_tensor(),
            v.as_tensor(),
            g,
            in_place,
        )? {
            return Ok(());
        }
        let next_m = ((m.as_tensor() * b1)? + (g * (1.0 - b1))?)?;
        let next_v = ((v.as_tensor() * b2)? + (g.sqr()? * (1.0 - b2))?)?;
        let step = ((&next_m * scale_m)? / ((&next_v * scale_v)?.sqrt()? + self.eps)?)?;
        let decayed = (theta.as_tensor() * (1.0 - self.lr * self.weight_decay))?;
        theta.set(&(decayed - (step * self.lr)?)?)?;
        m.set(&next_m)?;
        v.set(&next_v)?;
        Ok(())
    }

    fn step(&mut self, grads: &GradStore) -> Result<()> {
        let grads: Vec<Option<Tensor>> = self
            .vars
            .iter()
            .map(|(theta, _, _)| grads.get(theta).cloned())
            .collect();
        self.step_with(&grads)
    }

    /// Writes the moments and the step count (safetensors).
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut t: HashMap<String, Tensor> = HashMap::new();
        for (k, (_, m, v)) in self.vars.iter().enumerate() {
            t.insert(format!("m.{k}"), m.as_tensor().clone());
            t.insert(format!("v.{k}"), v.as_tensor().clone());
        }
        t.insert(
            "step".into(),
            Tensor::new(&[self.step as u32], &Device::Cpu)?,
        );
        candle_core::safetensors::save(&t, path)?;
        Ok(())
    }

    /// Restores what [`Adam::save`] wrote, for the same variables.
    pub fn load(&mut self, path: &Path) -> Result<()> {
        let t = candle_core::safetensors::load(path, &Device::Cpu)?;
        let missing = |name: &str| ModelError::Config {
            model: "adam".into(),
            message: format!("{}: no tensor \"{name}\"", path.display()),
        };
        for (k, (_, m, v)) in self.vars.iter().enumerate() {
            for (name, var) in [(format!("m.{k}"), m), (format!("v.{k}"), v)] {
                let value = t.get(&name).ok_or_else(|| missing(&name))?;
                var.set(&value.to_device(var.device())?)?;
            }
        }
        let step = t.get("step").ok_or_else(|| missing("step"))?;
        self.step = step.to_vec1::<u32>()?[0] as usize;
        Ok(())
    }
}
