//! Real-time top-k: the k items with the highest `bias_i + <query, item_i>` over a whole
//! catalog, for one shopper at a time — what a live recommender does per request with the
//! factors of a trained MF model (or the synthetic world's own affinities).
//!
//! A request is bound by memory, not arithmetic: 100,000 items × 64 factors are 25.6 MB of
//! `f32` to stream per request. So the scan reads an 8-bit copy of the vectors (one scale
//! per item: a quarter of the bytes), laid out in blocks of 8 items dimension by dimension,
//! so that one vector register holds 8 items' running sums (no horizontal sum per item);
//! it keeps the best `candidates` approximate scores with a running threshold (no score
//! array, no selection over the catalog), and ranks those candidates by their exact `f32`
//! scores. The result is exact unless an item outside the
//! candidates beats one inside by less than the quantization error; the benchmark measures
//! how often that happens against a brute-force ranking.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Items scored together by one pass over a block.
const LANES: usize = 8;

/// Item vectors and biases, row-major, with their 8-bit copy in blocks of [`LANES`] items:
/// block `b` holds, for each dimension `j`, the values of items `8b … 8b + 7` (zeros past
/// the last item).
pub struct ItemIndex {
    dim: usize,
    vectors: Vec<f32>,
    bias: Vec<f32>,
    blocks: Vec<i8>,
    scale: Vec<f32>,
}

/// A score that orders (total order on `f32`), with its item.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Scored(f32, u32);

impl Eq for Scored {}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Scored {
    /// Higher score first; on equal scores the lower item index.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0).then(other.1.cmp(&self.1))
    }
}

/// Symmetric 8-bit quantization of `x`: values and the scale that maps them back.
fn quantize(x: &[f32], out: &mut Vec<i8>) -> f32 {
    let top = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let scale = if top > 0.0 { top / 127.0 } else { 1.0 };
    out.extend(
        x.iter()
            .map(|v| (v / scale).round().clamp(-127.0, 127.0) as i8),
    );
    scale
}

impl ItemIndex {
    /// `vectors` holds `bias.len()` rows of `dim` values.
    pub fn new(dim: usize, vectors: Vec<f32>, bias: Vec<f32>) -> Self {
        assert_eq!(
            vectors.len(),
            dim * bias.len(),
            "vectors must be items × dim"
        );
        let n = bias.len();
        let mut quantized = Vec::with_capacity(vectors.len());
        let scale: Vec<f32> = if dim == 0 {
            vec![1.0; n]
        } else {
            vectors
                .chunks_exact(dim)
                .map(|row| quantize(row, &mut quantized))
                .collect()
        };
        let mut blocks = vec![0i8; n.div_ceil(LANES) * dim * LANES];
        for i in 0..n {
            let (b, lane) = (i / LANES, i % LANES);
            for j in 0..dim {
                blocks[(b * dim + j) * LANES + lane] = quantized[i * dim + j];
            }
        }
        ItemIndex {
            dim,
            vectors,
            bias,
            blocks,
            scale,
        }
    }

    pub fn len(&self) -> usize {
        self.bias.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bias.is_empty()
    }

    /// The exact score of item `i`.
    pub fn score(&self, query: &[f32], i: usize) -> f32 {
        let row = &self.vectors[i * self.dim..(i + 1) * self.dim];
        self.bias[i] + row.iter().zip(query).map(|(a, b)| a * b).sum::<f32>()
    }

    /// The `k` best items for `query`, best first, leaving out the items `skip` names.
    /// `scratch` is reused between calls.
    pub fn top_k(
        &self,
        query: &[f32],
        k: usize,
        skip: &dyn Fn(usize) -> bool,
        scratch: &mut Vec<i8>,
    ) -> Vec<u32> {
        if k == 0 || self.is_empty() {
            return Vec::new();
        }
        let candidates = (4 * k).max(64);
        scratch.clear();
        let q_scale = quantize(query, scratch);
        let heap = scan(self, scratch, q_scale, candidates, skip);
        let mut exact: Vec<Scored> = heap
            .into_iter()
            .map(|Reverse(s)| Scored(self.score(query, s.1 as usize), s.1))
            .collect();
        exact.sort_unstable_by(|a, b| b.cmp(a));
        exact.truncate(k);
        exact.into_iter().map(|s| s.1).collect()
    }

    /// The `k` best by exact scores over every item (the reference for [`Self::top_k`]).
    pub fn top_k_exact(&self, query: &[f32], k: usize) -> Vec<u32> {
        let mut all: Vec<Scored> = (0..self.len())
            .map(|i| Scored(self.score(query, i), i as u32))
            .collect();
        all.sort_unstable_by(|a, b| b.cmp(a));
        all.truncate(k);
        all.into_iter().map(|s| s.1).collect()
    }
}

/// The best `keep` items by approximate score (a min-heap of them). Compiled for AVX2 too
/// and chosen at run time.
#[multiversion::multiversion(targets("x86_64+avx2"))]
fn scan(
    index: &ItemIndex,
    query: &[i8],
    q_scale: f32,
    keep: usize,
    skip: &dyn Fn(usize) -> bool,
) -> BinaryHeap<Reverse<Scored>> {
    let (d, n) = (index.dim, index.len());
    let mut heap: BinaryHeap<Reverse<Scored>> = BinaryHeap::with_capacity(keep + 1);
    let mut threshold = f32::NEG_INFINITY;
    let q: Vec<f32> = query.iter().map(|&v| f32::from(v)).collect();
    if d == 0 {
        return heap;
    }
    for (b, block) in index.blocks.chunks_exact(d * LANES).enumerate() {
        // Eight items' dot products at once: one lane each. Products of 8-bit values and
        // their sums over up to 1,000 dimensions are exact in f32.
        let mut acc = [0.0f32; LANES];
        for (values, qj) in block.chunks_exact(LANES).zip(&q) {
            for l in 0..LANES {
                acc[l] += qj * f32::from(values[l]);
            }
        }
        for (l, a) in acc.iter().enumerate() {
            let i = b * LANES + l;
            if i >= n {
                break;
            }
            let score = index.bias[i] + index.scale[i] * q_scale * a;
            if score <= threshold || skip(i) {
                continue;
            }
            heap.push(Reverse(Scored(score, i as u32)));
            if heap.len() > keep {
                heap.pop();
            }
            if heap.len() == keep {
                threshold = heap.peek().map_or(f32::NEG_INFINITY, |r| r.0.0);
            }
        }
    }
    heap
}
