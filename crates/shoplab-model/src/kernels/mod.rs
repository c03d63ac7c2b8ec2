//! The text encoder's CPU kernels, under the tensors of the BERT forward (`bert`):
//! matrix products through OpenBLAS (its AVX-512 and AVX2 kernels are chosen at run time),
//! attention fused per sequence and head, and GELU and softmax on vectorized `exp`/`erf`.
//!
//! Each entry takes and returns candle tensors. On the CPU in f32 it runs here; on a GPU, or
//! in another dtype, it is the candle expression it replaces. All but [`linear_gelu`]
//! (inference) have their backward pass here too, so fine-tuning runs on them: [`linear`]
//! and [`matmul`] through the same products, [`attention`] recomputing each head's
//! probabilities, [`layer_norm`] and [`gelu`] one pass over the rows each way.
//!
//! [`adam_in_place`] is AdamW's update rewriting the weights and moments where they are.
//!
//! Why (bench/README.md, the encoder's profile): candle's CPU matmul reached ~50 GFLOP/s
//! on two cores where OpenBLAS reaches ~170 on the same shapes, and the attention's
//! separate scale, mask, softmax and head transposes were a fifth of the forward.

mod adam;
mod attention;
mod blas;
mod layer_norm;
mod math;

use candle_core::{CpuStorage, CustomOp1, DType, Device, Layout, Shape, Storage, Tensor};
use rayon::prelude::*;

use crate::error::Result;

pub(crate) use adam::{AdamStep, adam_in_place};
pub(crate) use attention::attention;
pub(crate) use layer_norm::layer_norm;

/// The same kernels on the elements, for a pass that keeps its own tape (the encoder's
/// training pass, `bert::tape`).
pub(crate) mod slices {
    pub(crate) use super::attention::{attend, attend_grad};
    pub(crate) use super::blas::{Fresh, View, gemm_add, gemm_add_paired, product, product_paired};
    pub(crate) use super::layer_norm::{normalize, normalize_grad};
    pub(crate) use super::math::{gelu_grad_in_place, gelu_in_place};
    pub(crate) use super::{CHUNK, copied, reading_all, zeros};
}

/// The elements of a contiguous f32 storage under `l` (`op` names the kernel in the error).
fn contiguous<'a>(s: &'a CpuStorage, l: &Layout, op: &str) -> candle_core::Result<&'a [f32]> {
    match (s, l.contiguous_offsets()) {
        (CpuStorage::F32(v), Some((a, b))) => Ok(&v[a..b]),
        _ => candle_core::bail!("{op}: contiguous f32 tensors only"),
    }
}

/// [`contiguous`], to write.
fn contiguous_mut<'a>(
    s: &'a mut CpuStorage,
    l: &Layout,
    op: &str,
) -> candle_core::Result<&'a mut [f32]> {
    match (s, l.contiguous_offsets()) {
        (CpuStorage::F32(v), Some((a, b))) => Ok(&mut v[a..b]),
        _ => candle_core::bail!("{op}: contiguous f32 tensors only"),
    }
}

/// Runs `f` on the elements of contiguous f32 tensors on the CPU, where they are stored (a
/// backward pass reading its arguments).
fn reading<const N: usize, R>(
    ts: [&Tensor; N],
    op: &str,
    f: impl FnOnce([&[f32]; N]) -> candle_core::Result<R>,
) -> candle_core::Result<R> {
    reading_all(&ts, op, |s| f(s.try_into().expect("one slice per tensor")))?
}

/// `n` zeros, written by the threads: a buffer a kernel then fills (the allocator's own
/// zeroing of a reused block is one thread's pass, the other core idle meanwhile).
pub(crate) fn zeros(n: usize) -> Vec<f32> {
    let mut v = Vec::new();
    (0..n)
        .into_par_iter()
        .map(|_| 0f32)
        .collect_into_vec(&mut v);
    v
}

/// A copy of `x`, written by the threads (see [`zeros`]).
pub(crate) fn copied(x: &[f32]) -> Vec<f32> {
    let mut v = Vec::new();
    x.par_iter().copied().collect_into_vec(&mut v);
    v
}

/// [`reading`] over any number of tensors.
pub(crate) fn reading_all<R>(
    ts: &[&Tensor],
    op: &str,
    f: impl FnOnce(&[&[f32]]) -> R,
) -> candle_core::Result<R> {
    let guards: Vec<_> = ts.iter().map(|t| t.storage_and_layout()).collect();
    let mut slices: Vec<&[f32]> = Vec::with_capacity(guards.len());
    for (g, l) in &guards {
        slices.push(match &**g {
            Storage::Cpu(c) => contiguous(c, l, op)?,
            _ => candle_core::bail!("{op}: CPU tensors only"),
        });
    }
    Ok(f(&slices))
}

/// Whether `t` is computed here: on the CPU in f32.
pub(crate) fn here(t: &Tensor) -> bool {
    matches!(t.device(), Device::Cpu) && t.dtype() == DType::F32
}

/// `x·wᵀ + b` over the last dimension of `x` (`… × in`), `w` being `out × in`.
pub(crate) fn linear(x: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    if !(here(x) && here(w) && here(b)) {
        return Ok(x.broadcast_matmul(&w.t()?)?.broadcast_add(b)?);
    }
    fused_linear(x, w, b, blas::Linear { gelu: false })
}

/// GELU (the exact, erf form) of [`linear`], for inference: on the CPU the activation is
/// applied where the product was written.
pub(crate) fn linear_gelu(x: &Tensor, w: &Tensor, b: &Tensor) -> Result<Tensor> {
    if !(here(x) && here(w) && here(b)) {
        return Ok(linear(x, w, b)?.gelu_erf()?);
    }
    fused_linear(x, w, b, blas::Linear { gelu: true })
}

fn fused_linear(x: &Tensor, w: &Tensor, b: &Tensor, op: blas::Linear) -> Result<Tensor> {
    let (wt, b) = (readable(&w.t()?)?, b.contiguous()?);
    let apply = |x2: &Tensor| -> Result<Tensor> {
        Ok(match op.gelu {
            true => x2.apply_op3_no_bwd(&wt, &b, &op)?,
            false => x2.apply_op3(&wt, &b, op)?,
        })
    };
    // A matrix as it is: a reshape would cost its gradient a copy in training.
    if x.rank() == 2 {
        return apply(&x.contiguous()?);
    }
    let dims = x.dims().to_vec();
    let (rows, inner): (usize, usize) = (
        dims[..dims.len() - 1].iter().product(),
        dims[dims.len() - 1],
    );
    let y = apply(&x.contiguous()?.reshape((rows, inner))?)?;
    let mut out = dims;
    *out.last_mut().expect("a matrix") = w.dim(0)?;
    Ok(y.reshape(out)?)
}

/// GELU, the exact (erf) form, with its gradient.
pub(crate) fn gelu(x: &Tensor) -> Result<Tensor> {
    if !here(x) {
        return Ok(x.gelu_erf()?);
    }
    Ok(x.contiguous()?.apply_op1(Gelu)?)
}

/// Elements per task of the element-wise kernels.
pub(crate) const CHUNK: usize = 1 << 14;

struct Gelu;

impl CustomOp1 for Gelu {
    fn name(&self) -> &'static str {
        "gelu"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let mut y = copied(contiguous(s, l, self.name())?);
        y.par_chunks_mut(CHUNK).for_each(math::gelu_in_place);
        Ok((CpuStorage::F32(y), l.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, _res: &Tensor, grad: &Tensor) -> candle_core::Result<Option<Tensor>> {
        let grad = grad.contiguous()?;
        let dx = reading([x, &grad], self.name(), |[x, g]| {
            let mut dx = copied(g);
            dx.par_chunks_mut(CHUNK)
                .zip(x.par_chunks(CHUNK))
                .for_each(|(d, x)| math::gelu_grad_in_place(x, d));
            Ok(dx)
        })?;
        Ok(Some(Tensor::from_vec(dx, x.shape(), x.device())?))
    }
}

/// `a·b` of two matrices (either may be a transposed view).
pub(crate) fn matmul(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if !(here(a) && here(b)) || a.rank() != 2 || b.rank() != 2 {
        return Ok(a.broadcast_matmul(b)?);
    }
    Ok(readable(a)?.apply_op2(&readable(b)?, blas::Matmul)?)
}

/// `t`, or a contiguous copy when BLAS cannot read its layout (a broadcast gradient).
fn readable(t: &Tensor) -> Result<Tensor> {
    Ok(match blas::matrix(t.layout()) {
        Some(_) => t.clone(),
        None => t.contiguous()?,
    })
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor};

    fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
        (a - b)
            .unwrap()
            .abs()
            .unwrap()
            .flatten_all()
            .unwrap()
            .max(0)
            .unwrap()
            .to_scalar::<f32>()
            .unwrap()
    }

    #[test]
    fn linear_and_its_gradients_match_candles() {
        let d = Device::Cpu;
        let x = candle_core::Var::randn(0f32, 1.0, (3, 5, 7), &d).unwrap();
        let w = candle_core::Var::randn(0f32, 1.0, (4, 7), &d).unwrap();
        let b = candle_core::Var::randn(0f32, 1.0, 4, &d).unwrap();
        let ours = super::linear(&x, &w, &b).unwrap();
        let theirs = x
            .broadcast_matmul(&w.t().unwrap())
            .unwrap()
            .broadcast_add(&b)
            .unwrap();
        assert_eq!(ours.dims(), &[3, 5, 4]);
        assert!(max_diff(&ours, &theirs) < 1e-5);
        // A loss that weighs each output differently, so every gradient entry is distinct.
        let weights = Tensor::randn(0f32, 1.0, (3, 5, 4), &d).unwrap();
        let g1 = (ours * &weights)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        let g2 = (theirs * &weights)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        for v in [&x, &w, &b] {
            let (a, b) = (g1.get(v).unwrap(), g2.get(v).unwrap());
            assert_eq!(a.dims(), b.dims());
            assert!(max_diff(a, b) < 1e-4, "{:?}", v.dims());
        }
    }

    /// A product split over the threads by rows (tall `a`) and by columns (wide `b`), on a
    /// pool of more threads than this machine has cores, with `b` stored as it is and
    /// transposed, with a bias and added to what is there.
    #[test]
    fn products_split_by_rows_or_by_columns_match_candles() {
        use super::blas::{View, gemm_add, product};
        let d = Device::Cpu;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(5)
            .build()
            .unwrap();
        pool.install(|| {
            for (m, k, n) in [(300, 70, 60), (40, 90, 700), (33, 64, 517)] {
                let a = Tensor::randn(0f32, 1.0, (m, k), &d).unwrap();
                let b = Tensor::randn(0f32, 1.0, (k, n), &d).unwrap();
                let bias = Tensor::randn(0f32, 1.0, n, &d).unwrap();
                let theirs = a.matmul(&b).unwrap();
                let with_bias = theirs.broadcast_add(&bias).unwrap();
                let plus_one = (&theirs + 1.0).unwrap();
                let data = |t: &Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
                let (av, bv, bt) = (
                    data(&a),
                    data(&b),
                    data(&b.t().unwrap().contiguous().unwrap()),
                );
                let a = View::rows(&av, m, k);
                let stored = View::rows(&bv, k, n);
                let transposed = View {
                    data: &bt,
                    rows: k,
                    cols: n,
                    ld: k,
                    trans: true,
                };
                let tensor = |v: Vec<f32>| Tensor::from_vec(v, (m, n), &d).unwrap();
                for b in [stored, transposed] {
                    let ours = tensor(product(a, b, 1.0, Some(&data(&bias))));
                    assert!(max_diff(&ours, &with_bias) < 1e-4, "{m}×{k}×{n}");
                    let mut c = vec![1.0; m * n];
                    gemm_add(a, b, 1.0, &mut c, n);
                    assert!(max_diff(&tensor(c), &plus_one) < 1e-4, "{m}×{k}×{n}, added");
                }
            }
        });
    }

    #[test]
    fn matmul_of_transposed_views_and_its_gradients_match_candles() {
        let d = Device::Cpu;
        // The second is large enough to be split over the threads (transposed rows too).
        for (m, k, n) in [(3, 6, 5), (96, 256, 128)] {
            let a = candle_core::Var::randn(0f32, 1.0, (k, m), &d).unwrap();
            let b = candle_core::Var::randn(0f32, 1.0, (n, k), &d).unwrap();
            let (at, bt) = (a.t().unwrap(), b.t().unwrap());
            let ours = super::matmul(&at, &bt).unwrap();
            let theirs = at.matmul(&bt).unwrap();
            assert!(max_diff(&ours, &theirs) < 1e-3);
            let g1 = ours.sqr().unwrap().sum_all().unwrap().backward().unwrap();
            let g2 = theirs.sqr().unwrap().sum_all().unwrap().backward().unwrap();
            for v in [&a, &b] {
                let (x, y) = (g1.get(v).unwrap(), g2.get(v).unwrap());
                let scale = max_diff(y, &y.zeros_like().unwrap());
                assert!(max_diff(x, y) < 1e-5 * scale.max(1.0), "{m} {k} {n}");
            }
        }
    }

    #[test]
    fn gelu_matches_the_exact_form() {
        // x·1 + 0 over [-8, 8): the layer's output is x itself, then its GELU.
        let x = Tensor::arange(-8000i64, 8000, &Device::Cpu)
            .unwrap()
            .to_dtype(candle_core::DType::F32)
            .unwrap()
            .affine(1e-3, 0.0)
            .unwrap()
            .reshape((16000, 1))
            .unwrap();
        let one = Tensor::ones((1, 1), candle_core::DType::F32, &Device::Cpu).unwrap();
        let zero = Tensor::zeros(1, candle_core::DType::F32, &Device::Cpu).unwrap();
        let ours = super::linear_gelu(&x, &one, &zero).unwrap();
        assert!(max_diff(&ours, &x.gelu_erf().unwrap()) < 1e-6);
    }

    /// Gradients of `Σ out·weights` with respect to `vars`.
    fn grads(out: &Tensor, weights: &Tensor, vars: &[&candle_core::Var]) -> Vec<Tensor> {
        let g = (out * weights)
            .unwrap()
            .sum_all()
            .unwrap()
            .backward()
            .unwrap();
        vars.iter().map(|v| g.get(v).unwrap().clone()).collect()
    }

    #[test]
    fn layer_norm_gelu_and_their_gradients_match_candles() {
        let d = Device::Cpu;
        let x = candle_core::Var::randn(0.5f32, 2.0, (3, 70, 384), &d).unwrap();
        let w = candle_core::Var::randn(1f32, 0.3, 384, &d).unwrap();
        let b = candle_core::Var::randn(0f32, 0.3, 384, &d).unwrap();
        let weights = Tensor::randn(0f32, 1.0, (3, 70, 384), &d).unwrap();
        let ours = super::layer_norm(&x, &w, &b, 1e-12).unwrap();
        let mean = x.mean_keepdim(2).unwrap();
        let centered = x.broadcast_sub(&mean).unwrap();
        let var = centered.sqr().unwrap().mean_keepdim(2).unwrap();
        let theirs = centered
            .broadcast_div(&(var + 1e-12).unwrap().sqrt().unwrap())
            .unwrap()
            .broadcast_mul(&w)
            .unwrap()
            .broadcast_add(&b)
            .unwrap();
        assert!(max_diff(&ours, &theirs) < 1e-5);
        let vars = [&x, &w, &b];
        for (a, b) in grads(&ours, &weights, &vars)
            .iter()
            .zip(grads(&theirs, &weights, &vars))
        {
            assert!(
                max_diff(a, &b) < 2e-3 * (1.0 + max_diff(&b, &b.zeros_like().unwrap())),
                "{:?}",
                a.dims()
            );
        }
        let ours = super::gelu(&x).unwrap();
        let theirs = x.gelu_erf().unwrap();
        assert!(max_diff(&ours, &theirs) < 1e-5);
        let (a, b) = (
            grads(&ours, &weights, &[&x]),
            grads(&theirs, &weights, &[&x]),
        );
        assert!(max_diff(&a[0], &b[0]) < 1e-5);
    }

    #[test]
    fn attention_and_its_gradients_match_candles_over_the_valid_tokens() {
        let d = Device::Cpu;
        let (n, len, heads, hd) = (3, 9, 4, 8);
        let lens = [9, 5, 1];
        let hidden = heads * hd;
        let qkv: Vec<_> = (0..3)
            .map(|_| candle_core::Var::randn(0f32, 1.0, (n * len, hidden), &d).unwrap())
            .collect();
        let parts: Vec<&Tensor> = qkv.iter().map(|v| v.as_tensor()).collect();
        let side_by_side = Tensor::cat(&parts, 1).unwrap();
        let ours = super::attention(&side_by_side, &lens, heads).unwrap();
        // Candle's: heads split out, padding keys masked by a large negative score.
        let split = |t: &Tensor| {
            t.reshape((n, len, heads, hd))
                .unwrap()
                .transpose(1, 2)
                .unwrap()
                .contiguous()
                .unwrap()
        };
        let valid: Vec<f32> = lens
            .iter()
            .flat_map(|&l| (0..len).map(move |i| if i < l { 1.0 } else { 0.0 }))
            .collect();
        let valid = Tensor::from_vec(valid, (n, len), &d).unwrap();
        let bias = ((&valid - 1.0).unwrap() * 1e4)
            .unwrap()
            .reshape((n, 1, 1, len))
            .unwrap();
        let (q, k, v) = (split(&qkv[0]), split(&qkv[1]), split(&qkv[2]));
        let scores = (q.matmul(&k.t().unwrap()).unwrap() / (hd as f64).sqrt())
            .unwrap()
            .broadcast_add(&bias)
            .unwrap();
        let probs = candle_nn::ops::softmax(&scores, 3).unwrap();
        let theirs = probs
            .matmul(&v)
            .unwrap()
            .transpose(1, 2)
            .unwrap()
            .reshape((n * len, hidden))
            .unwrap();
        // Padding rows differ (zeros here) and nothing reads them: weigh the valid ones only.
        let keep = valid.reshape((n * len, 1)).unwrap();
        let weights = Tensor::randn(0f32, 1.0, (n * len, hidden), &d)
            .unwrap()
            .broadcast_mul(&keep)
            .unwrap();
        let masked = |t: &Tensor| t.broadcast_mul(&keep).unwrap();
        assert!(max_diff(&masked(&ours), &masked(&theirs)) < 1e-5);
        let vars: Vec<_> = qkv.iter().collect();
        for (a, b) in grads(&ours, &weights, &vars)
            .iter()
            .zip(grads(&theirs, &weights, &vars))
        {
            assert!(max_diff(a, &b) < 1e-4, "{}", max_diff(a, &b));
        }
    }
}
