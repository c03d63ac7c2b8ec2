//! Text-encoder throughput (`bash bench/embed.sh`; prints figures): sentences and tokens
//! per second embedding the first N review texts of Women's E-Commerce Clothing Reviews
//! with all-MiniLM-L6-v2, batches of 32, on the CPU (or the GPU of a CUDA build).
//! `VECTORS=file` also writes the first 100 embeddings there (a JSON array of arrays), for
//! `bench/gpu.sh` to compare the GPU's against the CPU's and sentence-transformers'.

use std::time::Instant;

use shoplab_model::text::TextEncoder;

fn main() {
    let n: usize = std::env::var("TEXTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let device = std::env::var("DEVICE").unwrap_or_else(|_| "cpu".into());
    let reviews = shoplab_data::datasets::path(
        "clothing-reviews/WomensClothingE-CommerceReviews.parquet.brotli",
    )
    .expect("bash datasets/fetch.sh clothing-reviews");
    let conn = shoplab_data::duckdb::Connection::open_in_memory().unwrap();
    let mut stmt = conn
        .prepare(&format!(
            "SELECT \"Review Text\" FROM read_parquet('{}') WHERE \"Review Text\" IS NOT NULL LIMIT {n}",
            reviews.display()
        ))
        .unwrap();
    let texts: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let (dev, name) = shoplab_model::device::select(&device);
    let dir = shoplab_data::datasets::path("minilm").unwrap();
    let t = Instant::now();
    let enc = TextEncoder::load(&dir, "minilm", &dev).unwrap();
    let load = t.elapsed().as_secs_f64();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    // Warm-up on one batch, then the timed pass.
    enc.embed(&refs[..refs.len().min(32)]).unwrap();
    let t = Instant::now();
    let v = enc.embed(&refs).unwrap();
    let secs = t.elapsed().as_secs_f64();
    let words: usize = texts.iter().map(|t| t.split_whitespace().count()).sum();
    println!(
        "ours (candle, {name}, {} threads): {} texts ({:.1} words each) in {secs:.2} s = {:.1} sentences/s (model loaded in {load:.2} s, {} dims)",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        v.len(),
        words as f64 / texts.len().max(1) as f64,
        v.len() as f64 / secs,
        v.first().map_or(0, Vec::len)
    );
    if let Ok(file) = std::env::var("VECTORS") {
        let first = &v[..v.len().min(100)];
        std::fs::write(&file, serde_json::to_string(first).unwrap()).unwrap();
    }
}
