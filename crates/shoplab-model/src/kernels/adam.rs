//! AdamW's update in place on the CPU: the moments and the weights rewritten together in
//! one pass over the threads, where the composed update allocated a dozen weight-sized
//! tensors a step (for MiniLM's 22.7M weights, most of the optimizer's time), and three
//! passes, one per tensor written, read the gradient twice and the moments twice.
//!
//! The arithmetic is the composed update's, operation for operation in f32, so both give the
//! same weights.

use std::sync::Mutex;

use candle_core::{CpuStorage, InplaceOp1, InplaceOp2, Layout, Tensor};
use rayon::prelude::*;

use super::{contiguous, contiguous_mut};
use crate::error::Result;

/// One step's constants (the bias corrections and the decayed weights' factor included).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AdamStep {
    pub beta1: f32,
    pub beta2: f32,
    /// 1 - β₁ and 1 - β₂, rounded from f64 as the composed update rounds them.
    pub rest1: f32,
    pub rest2: f32,
    /// 1 / (1 - β₁ᵗ) and 1 / (1 - β₂ᵗ).
    pub scale_m: f32,
    pub scale_v: f32,
    pub eps: f32,
    /// 1 - lr·weight decay.
    pub decay: f32,
    pub lr: f32,
}

impl AdamStep {
    /// Step `t` (1-based) of AdamW with these settings, its constants rounded from f64 to
    /// f32 as the composed update's operations round them.
    pub(crate) fn at(t: i32, (beta1, beta2, eps): (f64, f64, f64), lr: f64, decay: f64) -> Self {
        AdamStep {
            beta1: beta1 as f32,
            beta2: beta2 as f32,
            rest1: (1.0 - beta1) as f32,
            rest2: (1.0 - beta2) as f32,
            scale_m: (1.0 / (1.0 - beta1.powi(t))) as f32,
            scale_v: (1.0 / (1.0 - beta2.powi(t))) as f32,
            eps: eps as f32,
            decay: (1.0 - lr * decay) as f32,
            lr: lr as f32,
        }
    }
}

/// Updates `theta` and its moments `m` and `v` from the gradient `g` in place; `false`
/// (nothing changed) when they are not all contiguous f32 tensors on the CPU of one shape.
pub(crate) fn adam_in_place(
    theta: &Tensor,
    m: &Tensor,
    v: &Tensor,
    g: &Tensor,
    step: AdamStep,
) -> Result<bool> {
    let fits = |t: &Tensor| super::here(t) && t.is_contiguous() && t.shape() == theta.shape();
    if ![theta, m, v, g].into_iter().all(fits) {
        return Ok(false);
    }
    // One pass over the four tensors: an in-place op opens one tensor to write, so m's op
    // opens v's, whose op opens θ's (reading g), and that one does the arithmetic.
    m.inplace_op1(&Open::new(|m| {
        v.inplace_op1(&Open::new(|v| {
            theta.inplace_op2(
                g,
                &Update {
                    m: Mutex::new(&mut *m),
                    v: Mutex::new(v),
                    step,
                },
            )
        }))
    }))?;
    Ok(true)
}

const CHUNK: usize = 1 << 14;

/// An in-place op that hands the tensor's elements to `f` (which opens the next tensor).
struct Open<F>(Mutex<F>);

impl<F: FnMut(&mut [f32]) -> candle_core::Result<()>> Open<F> {
    fn new(f: F) -> Self {
        Open(Mutex::new(f))
    }
}

impl<F: FnMut(&mut [f32]) -> candle_core::Result<()>> InplaceOp1 for Open<F> {
    fn name(&self) -> &'static str {
        "adam"
    }

    fn cpu_fwd(&self, s: &mut CpuStorage, l: &Layout) -> candle_core::Result<()> {
        let mut f = self.0.lock().map_err(|_| poisoned())?;
        f(contiguous_mut(s, l, self.name())?)
    }
}

fn poisoned() -> candle_core::Error {
    candle_core::Error::Msg("adam: a poisoned lock".into())
}

/// m ← β₁·m + (1-β₁)·g, v ← β₂·v + (1-β₂)·g², then
/// θ ← θ·decay - lr·(m·scale_m) / (√(v·scale_v) + ε), element by element in one pass.
struct Update<'m> {
    m: Mutex<&'m mut [f32]>,
    v: Mutex<&'m mut [f32]>,
    step: AdamStep,
}

impl InplaceOp2 for Update<'_> {
    fn name(&self) -> &'static str {
        "adam-update"
    }

    fn cpu_fwd(
        &self,
        dst: &mut CpuStorage,
        dst_l: &Layout,
        g: &CpuStorage,
        g_l: &Layout,
    ) -> candle_core::Result<()> {
        let p = self.step;
        let (theta, g) = (
            contiguous_mut(dst, dst_l, self.name())?,
            contiguous(g, g_l, self.name())?,
        );
        let (mut m, mut v) = (
            self.m.lock().map_err(|_| poisoned())?,
            self.v.lock().map_err(|_| poisoned())?,
        );
        let (m, v): (&mut [f32], &mut [f32]) = (&mut m, &mut v);
        if ![m.len(), v.len(), g.len()]
            .iter()
            .all(|&n| n == theta.len())
        {
            candle_core::bail!("adam: the weights, moments and gradient differ in size");
        }
        theta
            .par_chunks_mut(CHUNK)
            .zip(m.par_chunks_mut(CHUNK))
            .zip(v.par_chunks_mut(CHUNK).zip(g.par_chunks(CHUNK)))
            .for_each(|((theta, m), (v, g))| {
                for (((t, m), v), &g) in theta.iter_mut().zip(m).zip(v).zip(g) {
                    *m = *m * p.beta1 + g * p.rest1;
                    *v = *v * p.beta2 + (g * g) * p.rest2;
                    let step = (*m * p.scale_m) / ((*v * p.scale_v).sqrt() + p.eps);
                    *t = *t * p.decay - step * p.lr;
                }
            });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor, Var};

    /// The in-place step gives the composed update's weights and moments, bit for bit.
    #[test]
    fn the_step_in_place_is_the_composed_one() {
        let d = Device::Cpu;
        let shape = (300, 70);
        let theta = Var::randn(0f32, 1.0, shape, &d).unwrap();
        let m = Var::randn(0f32, 0.1, shape, &d).unwrap();
        let v = Tensor::randn(0f32, 0.1, shape, &d).unwrap().sqr().unwrap();
        let v = Var::from_tensor(&v).unwrap();
        let g = Tensor::randn(0f32, 1.0, shape, &d).unwrap();
        let (b1, b2, eps, lr, wd, t) = (0.9f64, 0.999f64, 1e-8f64, 3e-5f64, 0.01f64, 7);
        let (scale_m, scale_v) = (1.0 / (1.0 - b1.powi(t)), 1.0 / (1.0 - b2.powi(t)));
        let next_m = ((m.as_tensor() * b1).unwrap() + (&g * (1.0 - b1)).unwrap()).unwrap();
        let next_v =
            ((v.as_tensor() * b2).unwrap() + (g.sqr().unwrap() * (1.0 - b2)).unwrap()).unwrap();
        let step = ((&next_m * scale_m).unwrap()
            / ((&next_v * scale_v).unwrap().sqrt().unwrap() + eps).unwrap())
        .unwrap();
        let decayed = (theta.as_tensor() * (1.0 - lr * wd)).unwrap();
        let next_theta = (decayed - (step * lr).unwrap()).unwrap();
        let p = super::AdamStep::at(t, (b1, b2, eps), lr, wd);
        assert!(super::adam_in_place(&theta, &m, &v, &g, p).unwrap());
        for (ours, theirs) in [(&theta, &next_theta), (&m, &next_m), (&v, &next_v)] {
            let a = ours.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            let b = theirs.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            assert_eq!(a, b);
        }
    }
}
