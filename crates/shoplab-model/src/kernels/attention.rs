//! Multi-head self-attention fused per sequence and head: the scores, the softmax over the
//! sequence's own tokens and the weighted values, read from and written to the
//! `tokens × hidden` matrices directly (no head transposes, no mask tensor). The backward
//! pass recomputes each head's probabilities rather than keeping them (as FlashAttention
//! does): they are `len²` per head, the products around them `len·d`.

use candle_core::{CpuStorage, CustomOp3, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::blas::{View, gemm};
use super::math::softmax_in_place;
use super::{contiguous, reading};
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
        .apply_op3(&k.contiguous()?, &v.contiguous()?, op)?)
}

struct Attention {
    lens: Vec<usize>,
    heads: usize,
}

impl Attention {
    /// Columns per head and the scores' scale, for `hidden` columns.
    fn head_size(&self, hidden: usize) -> (usize, f32) {
        let hd = hidden / self.heads;
        (hd, 1.0 / (hd as f32).sqrt())
    }

    /// The softmax of one head's scores over a sequence's first `valid` tokens, the head's
    /// block starting at `at` in `q` and `k` (`… × hidden`), into `p` (`valid × valid`).
    fn probabilities(
        &self,
        (q, k): (&[f32], &[f32]),
        at: usize,
        valid: usize,
        hidden: usize,
        p: &mut [f32],
    ) {
        let (hd, scale) = self.head_size(hidden);
        let kt = View {
            trans: true,
            rows: hd,
            cols: valid,
            ..head(k, at, valid, hd, hidden)
        };
        gemm(head(q, at, valid, hd, hidden), kt, scale, None, p, valid);
        p.chunks_mut(valid).for_each(softmax_in_place);
    }
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
        let (len, (hd, _)) = (rows / n, self.head_size(hidden));
        let mut out = vec![0f32; rows * hidden];
        out.par_chunks_mut(len * hidden)
            .zip(&self.lens)
            .enumerate()
            .for_each(|(s, (out, &valid))| {
                let valid = valid.min(len);
                let mut probs = vec![0f32; valid * valid];
                for h in 0..self.heads {
                    let at = s * len * hidden + h * hd;
                    self.probabilities((q, k), at, valid, hidden, &mut probs);
                    let probs = View::rows(&probs, valid, valid);
                    gemm(
                        probs,
                        head(v, at, valid, hd, hidden),
                        1.0,
                        None,
                        &mut out[h * hd..],
                        hidden,
                    );
                }
            });
        Ok((CpuStorage::F32(out), l1.shape().clone()))
    }

    /// With P the probabilities and dO the gradient of a head's output: dV = Pᵀ·dO,
    /// dS = P∘(dO·Vᵀ − rowsum(P∘dO·Vᵀ))·scale, dQ = dS·K, dK = dSᵀ·Q.
    fn bwd(
        &self,
        q: &Tensor,
        k: &Tensor,
        v: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let grad = grad.contiguous()?;
        let (rows, hidden) = q.dims2()?;
        let (len, (hd, scale)) = (rows / self.lens.len(), self.head_size(hidden));
        let [dq, dk, dv] = reading([q, k, v, &grad], self.name(), |[q, k, v, g]| {
            let mut d = [(); 3].map(|_| vec![0f32; rows * hidden]);
            let [dq, dk, dv] = &mut d;
            dq.par_chunks_mut(len * hidden)
                .zip(dk.par_chunks_mut(len * hidden))
                .zip(dv.par_chunks_mut(len * hidden))
                .zip(self.lens.par_iter())
                .enumerate()
                .for_each(|(s, (((dq, dk), dv), &valid))| {
                    let valid = valid.min(len);
                    let (mut p, mut ds) = (vec![0f32; valid * valid], vec![0f32; valid * valid]);
                    for h in 0..self.heads {
                        let at = s * len * hidden + h * hd;
                        let block = |m| head(m, at, valid, hd, hidden);
                        self.probabilities((q, k), at, valid, hidden, &mut p);
                        let pt = View {
                            trans: true,
                            ..View::rows(&p, valid, valid)
                        };
                        gemm(pt, block(g), 1.0, None, &mut dv[h * hd..], hidden);
                        let vt = View {
                            trans: true,
                            rows: hd,
                            cols: valid,
                            ..block(v)
                        };
                        gemm(block(g), vt, 1.0, None, &mut ds, valid);
                        for (p, ds) in p.chunks(valid).zip(ds.chunks_mut(valid)) {
                            let dot: f32 = p.iter().zip(ds.iter()).map(|(p, d)| p * d).sum();
                            for (d, &p) in ds.iter_mut().zip(p) {
                                *d = p * (*d - dot) * scale;
                            }
                        }
                        let dst = View {
                            trans: true,
                            ..View::rows(&ds, valid, valid)
                        };
                        gemm(
                            View::rows(&ds, valid, valid),
                            block(k),
                            1.0,
                            None,
                            &mut dq[h * hd..],
                            hidden,
                        );
                        gemm(dst, block(q), 1.0, None, &mut dk[h * hd..], hidden);
                    }
                });
            Ok(d)
        })?;
        let t = |d: Vec<f32>| Tensor::from_vec(d, (rows, hidden), q.device());
        Ok((Some(t(dq)?), Some(t(dk)?), Some(t(dv)?)))
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
