//! Multi-head self-attention fused per sequence and head: the scores, the softmax over the
//! sequence's own tokens and the weighted values, read from the query, key and value
//! projections side by side in one `tokens × 3·hidden` matrix (one product made them) and
//! written to the `tokens × hidden` output directly (no head transposes, no mask tensor).
//! The backward pass writes the three projections' gradients side by side too, so that
//! one product takes them back through the projection; it recomputes each head's
//! probabilities rather than keeping them (as FlashAttention does): they are `len²` per
//! head, the products around them `len·d`.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::blas::{View, gemm};
use super::math::softmax_in_place;
use super::{contiguous, reading};
use crate::error::Result;

/// softmax(q·kᵀ/√d)·v per head over `n` sequences of `len` rows each, `qkv` being
/// `n·len × 3·hidden` (q, k and v side by side), sequence `s` attending over its first
/// `lens[s]` tokens; `n·len × hidden`. Padding rows come back as zeros: no real token
/// reads them.
pub(crate) fn attention(qkv: &Tensor, lens: &[usize], heads: usize) -> Result<Tensor> {
    let op = Attention {
        lens: lens.to_vec(),
        heads,
    };
    Ok(qkv.contiguous()?.apply_op1(op)?)
}

/// [`attention`] on the elements: `qkv` is `n·len × 3·hidden` for `lens.len()` = n sequences.
pub(crate) fn attend(qkv: &[f32], lens: &[usize], heads: usize, hidden: usize) -> Vec<f32> {
    let (op, len) = on_slices(qkv, lens, heads, hidden);
    op.forward(qkv, len, hidden, hidden / heads)
}

/// The gradient of [`attend`]'s `qkv` from its output's gradient `g`.
pub(crate) fn attend_grad(
    qkv: &[f32],
    g: &[f32],
    lens: &[usize],
    heads: usize,
    hidden: usize,
) -> Vec<f32> {
    let (op, len) = on_slices(qkv, lens, heads, hidden);
    op.backward(qkv, g, len, hidden, hidden / heads)
}

fn on_slices(qkv: &[f32], lens: &[usize], heads: usize, hidden: usize) -> (Attention, usize) {
    let len = qkv.len() / (3 * hidden) / lens.len().max(1);
    assert_eq!(
        len * 3 * hidden * lens.len(),
        qkv.len(),
        "q|k|v of whole sequences"
    );
    let op = Attention {
        lens: lens.to_vec(),
        heads,
    };
    (op, len)
}

struct Attention {
    lens: Vec<usize>,
    heads: usize,
}

/// Where one head of one sequence lies in the `… × 3·hidden` matrix: its query block
/// starts at `at`, the key's `hidden` further, the value's `2·hidden`.
#[derive(Clone, Copy)]
struct Block {
    at: usize,
    valid: usize,
    hidden: usize,
    hd: usize,
}

impl Block {
    /// Part `part` (0 query, 1 key, 2 value) of the head in `m`.
    fn of(self, m: &[f32], part: usize) -> View<'_> {
        View {
            data: &m[self.at + part * self.hidden..],
            rows: self.valid,
            cols: self.hd,
            ld: 3 * self.hidden,
            trans: false,
        }
    }
}

impl Attention {
    /// Columns per head and the scores' scale, for `hidden` columns.
    fn head_size(&self, hidden: usize) -> (usize, f32) {
        let hd = hidden / self.heads;
        (hd, 1.0 / (hd as f32).sqrt())
    }

    /// The softmax of one head's scores over a sequence's first `valid` tokens into `p`
    /// (`valid × valid`).
    fn probabilities(&self, qkv: &[f32], b: Block, p: &mut [f32]) {
        let (_, scale) = self.head_size(b.hidden);
        let kt = View {
            trans: true,
            rows: b.hd,
            cols: b.valid,
            ..b.of(qkv, 1)
        };
        gemm(b.of(qkv, 0), kt, scale, None, p, b.valid);
        p.chunks_mut(b.valid).for_each(softmax_in_place);
    }

    /// The forward pass over a `rows × 3·hidden` q|k|v matrix of sequences of `len` rows.
    fn forward(&self, qkv: &[f32], len: usize, hidden: usize, hd: usize) -> Vec<f32> {
        let mut out = super::zeros(len * self.lens.len() * hidden);
        out.par_chunks_mut(len * hidden)
            .zip(&self.lens)
            .enumerate()
            .for_each(|(s, (out, &valid))| {
                let valid = valid.min(len);
                let mut probs = vec![0f32; valid * valid];
                for h in 0..self.heads {
                    let b = Block {
                        at: s * len * 3 * hidden + h * hd,
                        valid,
                        hidden,
                        hd,
                    };
                    self.probabilities(qkv, b, &mut probs);
                    let probs = View::rows(&probs, valid, valid);
                    gemm(probs, b.of(qkv, 2), 1.0, None, &mut out[h * hd..], hidden);
                }
            });
        out
    }

    /// The gradient of q|k|v from the output's `g` (see [`CustomOp1::bwd`] below).
    fn backward(&self, qkv: &[f32], g: &[f32], len: usize, hidden: usize, hd: usize) -> Vec<f32> {
        let scale = self.head_size(hidden).1;
        let mut d = super::zeros(qkv.len());
        d.par_chunks_mut(len * 3 * hidden)
            .zip(self.lens.par_iter())
            .enumerate()
            .for_each(|(s, (d, &valid))| {
                let valid = valid.min(len);
                let (mut p, mut ds) = (vec![0f32; valid * valid], vec![0f32; valid * valid]);
                for h in 0..self.heads {
                    let b = Block {
                        at: s * len * 3 * hidden + h * hd,
                        valid,
                        hidden,
                        hd,
                    };
                    // The head's output gradient, and its place in this sequence's `d`.
                    let go = View {
                        data: &g[s * len * hidden + h * hd..],
                        rows: valid,
                        cols: hd,
                        ld: hidden,
                        trans: false,
                    };
                    let here = |part: usize| h * hd + part * hidden;
                    self.probabilities(qkv, b, &mut p);
                    let pt = View {
                        trans: true,
                        ..View::rows(&p, valid, valid)
                    };
                    gemm(pt, go, 1.0, None, &mut d[here(2)..], 3 * hidden);
                    let vt = View {
                        trans: true,
                        rows: hd,
                        cols: valid,
                        ..b.of(qkv, 2)
                    };
                    gemm(go, vt, 1.0, None, &mut ds, valid);
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
                    let ds = View::rows(&ds, valid, valid);
                    gemm(ds, b.of(qkv, 1), 1.0, None, &mut d[here(0)..], 3 * hidden);
                    gemm(dst, b.of(qkv, 0), 1.0, None, &mut d[here(1)..], 3 * hidden);
                }
            });
        d
    }

    /// Rows per sequence, hidden size and head size of a `rows × 3·hidden` input.
    fn dims(&self, l: &Layout) -> candle_core::Result<(usize, usize, usize)> {
        let (rows, cols) = l.shape().dims2()?;
        let n = self.lens.len();
        if n == 0 || rows % n != 0 || cols % (3 * self.heads) != 0 {
            candle_core::bail!(
                "attention: q|k|v of {:?} for {n} sequences of {} heads",
                l.dims(),
                self.heads
            );
        }
        let hidden = cols / 3;
        Ok((rows / n, hidden, self.head_size(hidden).0))
    }
}

impl CustomOp1 for Attention {
    fn name(&self) -> &'static str {
        "attention"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let (len, hidden, hd) = self.dims(l)?;
        let qkv = contiguous(s, l, self.name())?;
        let rows = len * self.lens.len();
        let out = self.forward(qkv, len, hidden, hd);
        Ok((CpuStorage::F32(out), Shape::from((rows, hidden))))
    }

    /// With P the probabilities and dO the gradient of a head's output: dV = Pᵀ·dO,
    /// dS = P∘(dO·Vᵀ − rowsum(P∘dO·Vᵀ))·scale, dQ = dS·K, dK = dSᵀ·Q.
    fn bwd(
        &self,
        qkv: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        let grad = grad.contiguous()?;
        let (len, hidden, hd) = self.dims(qkv.layout())?;
        let d = reading([qkv, &grad], self.name(), |[qkv, g]| {
            Ok(self.backward(qkv, g, len, hidden, hd))
        })?;
        Ok(Some(Tensor::from_vec(d, qkv.shape(), qkv.device())?))
    }
}
