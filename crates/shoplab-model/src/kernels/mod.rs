//! The text encoder's CPU kernels, under the tensors of the BERT forward (`bert`):
//! matrix products through OpenBLAS (its AVX-512 and AVX2 kernels are chosen at run time),
//! attention fused per sequence and head, and GELU and softmax on vectorized `exp`/`erf`.
//!
//! Each entry takes and returns candle tensors. On the CPU in f32 it runs here; on a GPU, or
//! in another dtype, it is the candle expression it replaces. [`linear`] and [`matmul`] have
//! gradients (through the same products), so fine-tuning uses them too; [`attention`] and
//! [`linear_gelu`] are for inference only (training composes candle's operations, which
//! have a backward pass).
//!
//! [`adam_in_place`] is AdamW's update rewriting the weights and moments where they are.
//!
//! Why (bench/README.md, the encoder's profile): candle's CPU matmul reached ~50 GFLOP/s
//! on two cores where OpenBLAS reaches ~170 on the same shapes, and the attention's
//! separate scale, mask, softmax and head transposes were a fifth of the forward.

mod adam;
mod attention;
mod blas;
mod math;

use candle_core::{CpuStorage, DType, Device, Layout, Tensor};

use crate::error::Result;

pub(crate) use adam::{AdamStep, adam_in_place};
pub(crate) use attention::attention;

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
    let dims = x.dims().to_vec();
    let (rows, inner): (usize, usize) = (
        dims[..dims.len() - 1].iter().product(),
        dims[dims.len() - 1],
    );
    let x2 = x.contiguous()?.reshape((rows, inner))?;
    let (wt, b) = (readable(&w.t()?)?, b.contiguous()?);
    let y = match op.gelu {
        true => x2.apply_op3_no_bwd(&wt, &b, &op)?,
        false => x2.apply_op3(&wt, &b, op)?,
    };
    let mut out = dims;
    *out.last_mut().expect("a matrix") = w.dim(0)?;
    Ok(y.reshape(out)?)
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

    #[test]
    fn matmul_of_transposed_views_and_its_gradients_match_candles() {
        let d = Device::Cpu;
        let a = candle_core::Var::randn(0f32, 1.0, (6, 3), &d).unwrap();
        let b = candle_core::Var::randn(0f32, 1.0, (5, 6), &d).unwrap();
        let (at, bt) = (a.t().unwrap(), b.t().unwrap());
        let ours = super::matmul(&at, &bt).unwrap();
        let theirs = at.matmul(&bt).unwrap();
        assert!(max_diff(&ours, &theirs) < 1e-5);
        let g1 = ours.sqr().unwrap().sum_all().unwrap().backward().unwrap();
        let g2 = theirs.sqr().unwrap().sum_all().unwrap().backward().unwrap();
        for v in [&a, &b] {
            assert!(max_diff(g1.get(v).unwrap(), g2.get(v).unwrap()) < 1e-4);
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
}
