//! The 8-bit scan with exact re-rank returns the brute-force top-k.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use shoplab_sim::topk::ItemIndex;

#[test]
fn quantized_scan_finds_the_exact_top_k() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    // 5,003 items (the last block partly empty) × 24 factors (not a multiple of 8).
    let (n, d) = (5_003, 24);
    let vectors: Vec<f32> = (0..n * d).map(|_| rng.random::<f32>() - 0.5).collect();
    let bias: Vec<f32> = (0..n).map(|_| 0.3 * (rng.random::<f32>() - 0.5)).collect();
    let index = ItemIndex::new(d, vectors, bias);
    let mut scratch = Vec::new();
    for _ in 0..200 {
        let q: Vec<f32> = (0..d).map(|_| rng.random::<f32>() - 0.5).collect();
        let top = index.top_k(&q, 10, &|_| false, &mut scratch);
        assert_eq!(top, index.top_k_exact(&q, 10));
        let scores: Vec<f32> = top.iter().map(|&i| index.score(&q, i as usize)).collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]));
    }
    // Skipped items never come back; asking for more than there are gives them all.
    let q = vec![0.1f32; d];
    let best = index.top_k(&q, 3, &|_| false, &mut scratch);
    let without = index.top_k(&q, 3, &|i| i == best[0] as usize, &mut scratch);
    assert!(!without.contains(&best[0]));
    assert_eq!(without[..2], best[1..]);
    let small = ItemIndex::new(2, vec![1.0, 0.0, 0.0, 1.0, 0.5, 0.5], vec![0.0, 0.0, 0.0]);
    assert_eq!(
        small.top_k(&[1.0, 0.2], 10, &|_| false, &mut scratch),
        vec![0, 2, 1]
    );
}
