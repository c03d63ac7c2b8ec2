//! Single-precision matrix products through OpenBLAS's `cblas_sgemm` (linked by build.rs),
//! as candle operations with gradients.
// The one foreign call of the crate; `gemm` checks every bound before making it.
#![allow(unsafe_code)]

use std::os::raw::c_int;

use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Shape, Tensor};
use rayon::prelude::*;

unsafe extern "C" {
    fn cblas_sgemm(
        order: c_int,
        trans_a: c_int,
        trans_b: c_int,
        m: c_int,
        n: c_int,
        k: c_int,
        alpha: f32,
        a: *const f32,
        lda: c_int,
        b: *const f32,
        ldb: c_int,
        beta: f32,
        c: *mut f32,
        ldc: c_int,
    );
    fn openblas_set_num_threads(n: c_int);
}

const ROW_MAJOR: c_int = 101;
const NO_TRANS: c_int = 111;
const TRANS: c_int = 112;

/// A `rows × cols` matrix within a slice: row-major with leading dimension `ld`, or, when
/// `trans`, the transpose of a row-major `cols × rows` matrix with leading dimension `ld`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub ld: usize,
    pub trans: bool,
}

impl<'a> View<'a> {
    /// A contiguous row-major matrix.
    pub fn rows(data: &'a [f32], rows: usize, cols: usize) -> Self {
        View {
            data,
            rows,
            cols,
            ld: cols.max(1),
            trans: false,
        }
    }

    /// The matrix a 2-D layout of `data` describes, if BLAS can read it as it is.
    pub fn of(data: &'a [f32], layout: &Layout) -> Option<Self> {
        let (rows, cols, ld, trans) = matrix(layout)?;
        Some(View {
            data: &data[layout.start_offset()..],
            rows,
            cols,
            ld,
            trans,
        })
    }

    /// Elements from the first to the last one the matrix covers.
    fn span(&self) -> usize {
        let (outer, inner) = if self.trans {
            (self.cols, self.rows)
        } else {
            (self.rows, self.cols)
        };
        if outer == 0 || inner == 0 {
            0
        } else {
            (outer - 1) * self.ld + inner
        }
    }
}

/// Rows, columns, leading dimension and transposition of a 2-D layout BLAS reads as it is
/// (one of its strides is 1); `None` for any other.
pub(crate) fn matrix(layout: &Layout) -> Option<(usize, usize, usize, bool)> {
    let (rows, cols) = layout.shape().dims2().ok()?;
    let (s0, s1) = (layout.stride()[0], layout.stride()[1]);
    if s1 == 1 && (s0 >= cols || rows <= 1) {
        Some((rows, cols, s0.max(cols).max(1), false))
    } else if s0 == 1 && (s1 >= rows || cols <= 1) {
        Some((rows, cols, s1.max(rows).max(1), true))
    } else {
        None
    }
}

fn int(x: usize) -> c_int {
    c_int::try_from(x).expect("a matrix dimension past 2^31")
}

/// Multiply-adds from which a product is split over the threads (rayon's, the ones candle
/// uses): each takes a band of rows. OpenBLAS's own threads are turned off, so that two
/// pools do not take turns on the same cores (its idle threads spin).
const SPLIT_FROM: usize = 1 << 20;

/// `c = alpha·a·b (+ bias on every row)`, `c` being `a.rows × b.cols` row-major with leading
/// dimension `ldc`.
pub(crate) fn gemm(a: View, b: View, alpha: f32, bias: Option<&[f32]>, c: &mut [f32], ldc: usize) {
    let start = match bias {
        Some(bias) => Start::Bias(bias),
        None => Start::Zero,
    };
    gemm_from(a, b, alpha, start, Out::of(c), ldc);
}

/// `c += alpha·a·b`, `c` as in [`gemm`].
pub(crate) fn gemm_add(a: View, b: View, alpha: f32, c: &mut [f32], ldc: usize) {
    gemm_from(a, b, alpha, Start::Add, Out::of(c), ldc);
}

/// Whether a product run beside another (`rayon::join`) takes the calling thread alone: on
/// two threads the pair fills them, and each product packs its operands once instead of
/// once per band; on more threads each is split as usual.
fn paired_alone() -> bool {
    rayon::current_num_threads() <= 2
}

/// [`gemm_add`] for a product run beside another (see [`paired_alone`]).
pub(crate) fn gemm_add_paired(a: View, b: View, alpha: f32, c: &mut [f32], ldc: usize) {
    match paired_alone() {
        true => gemm_one(a, b, alpha, Start::Add, Out::of(c), ldc),
        false => gemm_add(a, b, alpha, c, ldc),
    }
}

/// `alpha·a·b (+ bias on every row)` as a new row-major matrix: [`Fresh`] with one product.
pub(crate) fn product(a: View, b: View, alpha: f32, bias: Option<&[f32]>) -> Vec<f32> {
    let mut c = Fresh::new(a.rows, b.cols);
    c.product(0, a, b, alpha, bias);
    c.done()
}

/// [`product`] for a product run beside another (see [`paired_alone`]).
pub(crate) fn product_paired(a: View, b: View, alpha: f32) -> Vec<f32> {
    let mut c = Fresh::new(a.rows, b.cols);
    c.write(0, a, b, alpha, None, !paired_alone());
    c.done()
}

/// A new `rows × cols` row-major matrix whose columns products write before anything reads
/// them: no zeroing pass first (BLAS never reads its output when `beta` is 0, and the bias
/// is written, not added), which was a twentieth of a fine-tuning step's samples.
pub(crate) struct Fresh {
    data: Vec<f32>,
    rows: usize,
    cols: usize,
    /// Columns written so far.
    written: Vec<bool>,
}

impl Fresh {
    pub fn new(rows: usize, cols: usize) -> Self {
        Fresh {
            data: Vec::with_capacity(rows * cols),
            rows,
            cols,
            written: vec![false; cols],
        }
    }

    /// Writes columns `at..at + b.cols` with `alpha·a·b (+ bias on every row)`.
    pub fn product(&mut self, at: usize, a: View, b: View, alpha: f32, bias: Option<&[f32]>) {
        self.write(at, a, b, alpha, bias, true);
    }

    /// [`Fresh::product`], its rows split over the threads when `split`.
    fn write(
        &mut self,
        at: usize,
        a: View,
        b: View,
        alpha: f32,
        bias: Option<&[f32]>,
        split: bool,
    ) {
        assert_eq!(a.rows, self.rows, "one product row per row");
        assert!(at + b.cols <= self.cols, "columns past the matrix");
        let start = match bias {
            Some(bias) => Start::Bias(bias),
            None => Start::Zero,
        };
        let spare = &mut self.data.spare_capacity_mut()[at..self.rows * self.cols];
        let out = Out {
            ptr: spare.as_mut_ptr().cast(),
            len: spare.len(),
        };
        match split {
            true => gemm_from(a, b, alpha, start, out, self.cols),
            false => gemm_one(a, b, alpha, start, out, self.cols),
        }
        self.written[at..at + b.cols].fill(true);
    }

    /// The matrix, every column of which a product wrote.
    pub fn done(mut self) -> Vec<f32> {
        assert!(self.written.iter().all(|&w| w), "a column no product wrote");
        // SAFETY: every column of every row was written by a product (checked above): BLAS
        // writes all of its `rows × cols` block when beta is 0, and the bias rows are
        // copied in whole before it adds to them.
        unsafe { self.data.set_len(self.rows * self.cols) };
        self.data
    }
}

/// Where a product writes: `len` floats from `ptr`, possibly not yet initialized (`Start`
/// says whether they are read).
#[derive(Clone, Copy)]
struct Out {
    ptr: *mut f32,
    len: usize,
}

// SAFETY: an `Out` is handed to one thread per band, and the bands are disjoint (rows, or
// columns of the same rows).
unsafe impl Send for Out {}
unsafe impl Sync for Out {}

impl Out {
    fn of(c: &mut [f32]) -> Self {
        Out {
            ptr: c.as_mut_ptr(),
            len: c.len(),
        }
    }

    /// The part from `at` on.
    fn from(self, at: usize) -> Self {
        assert!(at <= self.len);
        Out {
            // SAFETY: within the allocation (checked above).
            ptr: unsafe { self.ptr.add(at) },
            len: self.len - at,
        }
    }
}

/// What the product is added to.
#[derive(Clone, Copy)]
enum Start<'a> {
    Zero,
    Bias(&'a [f32]),
    Add,
}

/// Split over the threads: each packs the whole of the operand it does not split, so the
/// split runs along whichever of `a`'s rows and `b`'s columns is the longer (on 16 threads,
/// a weight's gradient `xᵀ·dy` split by rows packed all of `dy` 16 times).
fn gemm_from(a: View, b: View, alpha: f32, start: Start, c: Out, ldc: usize) {
    let threads = rayon::current_num_threads();
    let (m, k, n) = (a.rows, a.cols, b.cols);
    if threads < 2 || m.max(n) < 2 * threads || m * k * n < SPLIT_FROM {
        return gemm_one(a, b, alpha, start, c, ldc);
    }
    if n > m {
        // Bands of columns, a multiple of 16 wide.
        let band = n.div_ceil(threads).next_multiple_of(16);
        return (0..n.div_ceil(band)).into_par_iter().for_each(|i| {
            let (first, cols) = (i * band, band.min(n - i * band));
            // Column j of a transposed view is row j of the stored matrix.
            let b = View {
                data: &b.data[if b.trans { first * b.ld } else { first }..],
                cols,
                ..b
            };
            let start = match start {
                Start::Bias(bias) => Start::Bias(&bias[first..first + cols]),
                other => other,
            };
            gemm_one(a, b, alpha, start, c.from(first), ldc);
        });
    }
    // Bands of rows: m is the longer, so each has at least two.
    let band = m.div_ceil(threads);
    (0..m.div_ceil(band)).into_par_iter().for_each(|i| {
        let rows = band.min(m - i * band);
        // Row r of a transposed view is column r of the stored matrix.
        let first = if a.trans { i * band } else { i * band * a.ld };
        let a = View {
            data: &a.data[first..],
            rows,
            ..a
        };
        gemm_one(a, b, alpha, start, c.from(i * band * ldc), ldc);
    });
}

/// [`gemm_from`] on the calling thread.
fn gemm_one(a: View, b: View, alpha: f32, start: Start, c: Out, ldc: usize) {
    static ONE_THREAD: std::sync::Once = std::sync::Once::new();
    // SAFETY: sets OpenBLAS's thread count before its first product (`call_once` makes
    // every other caller wait for it).
    ONE_THREAD.call_once(|| unsafe { openblas_set_num_threads(1) });
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(b.rows, k, "inner dimensions");
    assert!(a.span() <= a.data.len() && b.span() <= b.data.len());
    assert!(ldc >= n && (m == 0 || (m - 1) * ldc + n <= c.len));
    if m == 0 || n == 0 {
        return;
    }
    let beta = match start {
        Start::Bias(bias) => {
            assert_eq!(bias.len(), n, "one bias per column");
            for r in 0..m {
                // SAFETY: row r's n values lie within `c` (asserted above) and no other
                // thread writes them; `bias` is another allocation.
                unsafe {
                    std::ptr::copy_nonoverlapping(bias.as_ptr(), c.ptr.add(r * ldc), n);
                }
            }
            1.0
        }
        Start::Add => 1.0,
        Start::Zero => 0.0,
    };
    let flag = |t: bool| if t { TRANS } else { NO_TRANS };
    // SAFETY: the asserts above keep every element OpenBLAS reads or writes inside the
    // slices, and the leading dimensions are at least the stored rows' lengths; with beta
    // 0 it reads nothing of `c`, and otherwise `c`'s block is initialized (the caller's
    // slice, or the bias rows just written).
    unsafe {
        cblas_sgemm(
            ROW_MAJOR,
            flag(a.trans),
            flag(b.trans),
            int(m),
            int(n),
            int(k),
            alpha,
            a.data.as_ptr(),
            int(a.ld),
            b.data.as_ptr(),
            int(b.ld),
            beta,
            c.ptr,
            int(ldc.max(1)),
        );
    }
}

fn f32s<'a>(s: &'a CpuStorage, op: &str) -> candle_core::Result<&'a [f32]> {
    match s {
        CpuStorage::F32(v) => Ok(v),
        other => candle_core::bail!(
            "{op}: f32 only, got {:?}",
            candle_core::backend::BackendStorage::dtype(other)
        ),
    }
}

fn view<'a>(s: &'a CpuStorage, l: &Layout, op: &str) -> candle_core::Result<View<'a>> {
    View::of(f32s(s, op)?, l)
        .ok_or_else(|| candle_core::Error::Msg(format!("{op}: a matrix BLAS cannot read: {l:?}")))
}

/// `a·b` of two matrices.
pub(crate) struct Matmul;

impl CustomOp2 for Matmul {
    fn name(&self) -> &'static str {
        "blas-matmul"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (a, b) = (view(s1, l1, self.name())?, view(s2, l2, self.name())?);
        if a.cols != b.rows {
            candle_core::bail!("blas-matmul: {:?} by {:?}", l1.dims(), l2.dims());
        }
        let c = product(a, b, 1.0, None);
        Ok((CpuStorage::F32(c), Shape::from((a.rows, b.cols))))
    }

    fn bwd(
        &self,
        a: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let da = laid_out_as(a, grad, &b.t()?)?;
        let db = laid_out_as(b, &a.t()?, grad)?;
        Ok((Some(da), Some(db)))
    }
}

/// The gradient `l·r` of `arg`, laid out as `arg` is stored: for a transposed view, the
/// product `rᵀ·lᵀ` written row by row and viewed transposed, so that the gradient reaching
/// the stored matrix (through the transpose's own backward) is contiguous, and summing it
/// into the weight's gradient is a plain pass rather than a strided copy.
fn laid_out_as(arg: &Tensor, l: &Tensor, r: &Tensor) -> candle_core::Result<Tensor> {
    let transposed = matches!(matrix(arg.layout()), Some((.., true)));
    let product = match transposed {
        true => super::matmul(&r.t()?, &l.t()?).and_then(|p| Ok(p.t()?)),
        false => super::matmul(l, r),
    };
    product.map_err(candle_core::Error::wrap)
}

/// `x·wt + b`: `x` is `rows × in`, `wt` the `in × out` transpose of a layer's weight, `b`
/// its `out` biases (the product is added to them in place); then GELU in place when
/// `gelu` (inference only: the gradient is the plain layer's).
#[derive(Clone, Copy)]
pub(crate) struct Linear {
    pub gelu: bool,
}

impl CustomOp3 for Linear {
    fn name(&self) -> &'static str {
        "blas-linear"
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
        let (x, wt) = (view(s1, l1, self.name())?, view(s2, l2, self.name())?);
        let out = wt.cols;
        if x.cols != wt.rows || l3.dims() != [out] || !l3.is_contiguous() {
            candle_core::bail!(
                "blas-linear: {:?} by {:?} plus {:?}",
                l1.dims(),
                l2.dims(),
                l3.dims()
            );
        }
        let bias = &f32s(s3, self.name())?[l3.start_offset()..l3.start_offset() + out];
        let mut y = product(x, wt, 1.0, Some(bias));
        if self.gelu {
            y.par_chunks_mut(super::CHUNK)
                .for_each(super::math::gelu_in_place);
        }
        Ok((CpuStorage::F32(y), Shape::from((x.rows, out))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        wt: &Tensor,
        _b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        if self.gelu {
            candle_core::bail!("blas-linear: GELU fused for inference has no gradient");
        }
        let dx = laid_out_as(x, grad, &wt.t()?)?;
        let dwt = laid_out_as(wt, &x.t()?, grad)?;
        Ok((Some(dx), Some(dwt), Some(grad.sum(0)?)))
    }
}
