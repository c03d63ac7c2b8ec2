//! Layer normalization over the last dimension with its backward pass, each one pass over
//! the rows: the composed form (mean, centre, square, mean, root, divide, scale, shift, and
//! as many steps back) was a tenth of a fine-tuning step.

use candle_core::{CpuStorage, CustomOp3, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::math::{lane_dot, lane_sum};
use super::{contiguous, reading};

/// Rows per task: enough work to be worth a thread's turn.
const ROWS: usize = 64;

/// `(x - mean)/√(var + eps)·w + b` over the last dimension of a contiguous `x`.
pub(crate) fn layer_norm(
    x: &Tensor,
    w: &Tensor,
    b: &Tensor,
    eps: f32,
) -> candle_core::Result<Tensor> {
    x.contiguous()?
        .apply_op3(&w.contiguous()?, &b.contiguous()?, LayerNorm { eps })
}

struct LayerNorm {
    eps: f32,
}

/// The row's mean and 1/√(var + eps), the variance about the mean (two passes).
#[inline(always)]
fn moments(row: &[f32], eps: f32) -> (f32, f32) {
    let n = row.len() as f32;
    let mean = lane_sum(row, |x| x) / n;
    let var = lane_sum(row, |x| (x - mean) * (x - mean)) / n;
    (mean, 1.0 / (var + eps).sqrt())
}

/// [`normalize`] of whole rows into `y` (as long as `x`).
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma"))]
fn normalize_rows(x: &[f32], w: &[f32], b: &[f32], eps: f32, y: &mut [f32]) {
    for (y, x) in y.chunks_mut(w.len()).zip(x.chunks(w.len())) {
        let (mean, rstd) = moments(x, eps);
        for (((y, &x), &w), &b) in y.iter_mut().zip(x).zip(w).zip(b) {
            *y = (x - mean) * rstd * w + b;
        }
    }
}

/// The rows of `x` (`… × hidden`, hidden = `w.len()`) normalized, scaled by `w` and
/// shifted by `b`.
pub(crate) fn normalize(x: &[f32], w: &[f32], b: &[f32], eps: f32) -> Vec<f32> {
    let hidden = w.len();
    let mut y = super::zeros(x.len());
    y.par_chunks_mut(ROWS * hidden)
        .zip(x.par_chunks(ROWS * hidden))
        .for_each(|(y, x)| normalize_rows(x, w, b, eps, y));
    y
}

/// [`normalize_grad`] of whole rows: `dx`, and the sums Σ g·x̂ (`dw`) and Σ g (`db`) added to.
#[multiversion::multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma"))]
fn normalize_grad_rows(
    (x, w, g): (&[f32], &[f32], &[f32]),
    eps: f32,
    dx: &mut [f32],
    (dw, db): (&mut [f32], &mut [f32]),
) {
    let hidden = w.len();
    let (mut xhat, mut dxhat) = (vec![0f32; hidden], vec![0f32; hidden]);
    for ((dx, x), g) in dx
        .chunks_mut(hidden)
        .zip(x.chunks(hidden))
        .zip(g.chunks(hidden))
    {
        let (mean, rstd) = moments(x, eps);
        for i in 0..hidden {
            xhat[i] = (x[i] - mean) * rstd;
            dw[i] += g[i] * xhat[i];
            db[i] += g[i];
            dxhat[i] = g[i] * w[i];
        }
        let m1 = lane_sum(&dxhat, |d| d) / hidden as f32;
        let m2 = lane_dot(&dxhat, &xhat) / hidden as f32;
        for i in 0..hidden {
            dx[i] = rstd * (dxhat[i] - m1 - xhat[i] * m2);
        }
    }
}

/// The gradient of [`normalize`]'s `x` from its output's gradient `g`, and those of `w` and
/// `b` side by side (`2·hidden`).
pub(crate) fn normalize_grad(x: &[f32], w: &[f32], g: &[f32], eps: f32) -> (Vec<f32>, Vec<f32>) {
    let hidden = w.len();
    let mut dx = super::zeros(x.len());
    // Per task: Σ g·x̂ and Σ g for each column, summed after.
    let sums: Vec<Vec<f32>> = dx
        .par_chunks_mut(ROWS * hidden)
        .zip(x.par_chunks(ROWS * hidden).zip(g.par_chunks(ROWS * hidden)))
        .map(|(dx, (x, g))| {
            let mut sums = vec![0f32; 2 * hidden];
            let (dw, db) = sums.split_at_mut(hidden);
            normalize_grad_rows((x, w, g), eps, dx, (dw, db));
            sums
        })
        .collect();
    let mut total = vec![0f32; 2 * hidden];
    for s in sums {
        total.iter_mut().zip(s).for_each(|(t, s)| *t += s);
    }
    (dx, total)
}

impl CustomOp3 for LayerNorm {
    fn name(&self) -> &'static str {
        "layer-norm"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let hidden = *l1.dims().last().unwrap_or(&0);
        if l2.dims() != [hidden] || l3.dims() != [hidden] || hidden == 0 {
            candle_core::bail!(
                "layer-norm: {:?} with {:?} and {:?}",
                l1.dims(),
                l2.dims(),
                l3.dims()
            );
        }
        let x = contiguous(s1, l1, self.name())?;
        let (w, b) = (
            contiguous(s2, l2, self.name())?,
            contiguous(s3, l3, self.name())?,
        );
        let y = normalize(x, w, b, self.eps);
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let grad = grad.contiguous()?;
        let hidden = w.dim(0)?;
        let (dx, sums) = reading([x, w, &grad], self.name(), |[x, w, g]| {
            Ok(normalize_grad(x, w, g, self.eps))
        })?;
        let dev = x.device();
        let dx = Tensor::from_vec(dx, x.shape(), dev)?;
        let dw = Tensor::from_slice(&sums[..hidden], hidden, dev)?;
        let db = Tensor::from_slice(&sums[hidden..], hidden, dev)?;
        Ok((Some(dx), Some(dw), Some(db)))
    }
}
