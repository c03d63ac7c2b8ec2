//! The text encoder on the real all-MiniLM-L6-v2 (fetched by `datasets/fetch.sh minilm`).

use candle_core::Device;
use shoplab_model::text::{Pooling, TextEncoder};

fn minilm() -> TextEncoder {
    let dir = shoplab_data::datasets::path("minilm").unwrap();
    TextEncoder::load(&dir, "minilm", &Device::Cpu).unwrap()
}

/// sentence-transformers' reference: mean pooling over real tokens, L2-normalized.
#[test]
fn minilm_embeds_the_reference_sentence() {
    let m = minilm();
    assert_eq!(
        (m.dim, m.pooling, m.normalize, m.max_tokens),
        (384, Pooling::Mean, true, 256)
    );
    let v = m.embed(&["This is an example sentence"]).unwrap();
    let golden = [0.06766, 0.06350, 0.04871, 0.07930, 0.03745];
    for (a, b) in v[0].iter().zip(golden) {
        assert!((a - b).abs() < 1e-4, "{:?}", &v[0][..5]);
    }
    let norm: f32 = v[0].iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-5);
}

/// Padding in a batch does not change a sentence's embedding, and similar texts are near.
#[test]
fn batched_embeddings_match_single_ones_and_rank_by_meaning() {
    let m = minilm();
    let texts = [
        "This is an example sentence",
        "Lightweight waterproof running shoes for trail and road",
        "Trail running sneakers, waterproof and light",
        "Stainless steel refrigerator with ice maker",
    ];
    let batch = m.embed(&texts).unwrap();
    for (k, t) in texts.iter().enumerate() {
        let one = m.embed(&[t]).unwrap();
        let diff = one[0]
            .iter()
            .zip(&batch[k])
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(diff < 1e-5, "{t}: {diff}");
    }
    let cos = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f32>();
    assert!(cos(&batch[1], &batch[2]) > cos(&batch[1], &batch[3]) + 0.3);
}
