//! Multi-head self-attention for inference, fused per sequence and head: the scores, the
//! softmax over the sequence's own tokens and the weighted values, read from and written to
//! the `tokens × hidden` matrices directly (no head transposes, no mask tensor).

use candle_core::{CpuStorage, CustomOp3, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::blas::{View, gemm};
use super::contiguous;
use super::math::softmax_in_place;
use crate::error::Result;

/// softmax(q·kᵀ/√d)·v per head over `n` sequences of `len` rows each (`q`, `k`, `v`:
/// `n·len × hidden`), sequence `s` attending over its first `lens[s]` tokens. Padding
/// rows come back as zeros: no real token reads them.
pub(crate) fn attention(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    lens: &[usize],
    heads: usize,
) -> Result<Tensor> {
    let op = Attention {
        lens: lens.to_vec(),
        heads,
    };
    Ok(q.contiguous()?
        .apply_op3_no_bwd(&k.contiguous()?, &v.contiguous()?, &op)?)
}

struct Attention {
    lens: Vec<usize>,
    heads: usize,
}

impl CustomOp3 for Attention {
    fn name(&self) -> &'static str {
        "attention"
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
        let (rows, hidden) = l1.shape().dims2()?;
        let n = self.lens.len();
        if l2.dims() != l1.dims() || l3.dims() != l1.dims() || n == 0 || rows % n != 0 {
            candle_core::bail!("attention: q, k, v of {:?} for {n} sequences", l1.dims());
        }
        let (q, k, v) = (
            contiguous(s1, l1, self.name())?,
            contiguous(s2, l2, self.name())?,
            contiguous(s3, l3, self.name())?,
        );
        let len = rows / n;
        let hd = hidden / self.heads;
        let scale = 1.0 / (hd as f32).sqrt();
        let mut out = vec![0f32; rows * hidden];
        out.par_chunks_mut(len * hidden)
            .zip(&self.lens)
            .enumerate()
            .for_each(|(s, (out, &valid))| {
                let valid = valid.min(len);
                let mut scores = vec![0f32; valid * valid];
                for h in 0..self.heads {
                    let at = s * len * hidden + h * hd;
                    let (qh, vh) = (
                        head(q, at, valid, hd, hidden),
                        head(v, at, valid, hd, hidden),
                    );
                    let kt = View {
                        trans: true,
                        rows: hd,
                        cols: valid,
                        ..head(k, at, valid, hd, hidden)
                    };
                    gemm(qh, kt, scale, None, &mut scores, valid);
                    scores.chunks_mut(valid).for_each(softmax_in_place);
                    let probs = View::rows(&scores, valid, valid);
                    gemm(probs, vh, 1.0, None, &mut out[h * hd..], hidden);
                }
            });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }
}

/// The `rows × cols` block of a row-major matrix with leading dimension `ld` starting at `at`.
fn head(m: &[f32], at: usize, rows: usize, cols: usize, ld: usize) -> View<'_> {
    View {
        data: &m[at..],
        rows,
        cols,
        ld,
        trans: false,
    }
}
