//! Simulator throughput and real-time top-10 latency (`bash bench/sim.sh`; prints figures).
//!
//! 1. Shopper decisions per second on a 100,000-item synthetic shop in 20 categories: each
//!    decision is one session — a shopper and a category drawn, a slate of 10 of that
//!    category's items, the logit choice among them at the policy's prices — for popularity
//!    with list prices, and for the affinity recommender (a top-10 over the category's
//!    items per shopper) with list prices. Replicates on all threads.
//! 2. Latency of one top-10 request over 100,000 items with 64-factor MF vectors (random
//!    factors: the arithmetic of a trained model's), one thread: p50, p99, max.

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use shoplab_sim::topk::ItemIndex;
use shoplab_sim::{Market, Scenario};

fn main() {
    let items: usize = env("ITEMS", 100_000);
    let sessions: usize = env("SESSIONS", 200_000);
    let threads: usize = env("THREADS", 2);
    println!(
        "== decisions per second: {items} items, {sessions} sessions a replicate, {threads} threads"
    );
    for (name, recommend) in [
        ("popularity + list price", "popularity"),
        ("affinity top-10 + list price", "affinity"),
    ] {
        let text = format!(
            "name = \"throughput\"\ndays = 1\noracle = false\nsessions_per_day = {sessions}\nslate = 10\nseeds = {threads}\n\
             world = {{ seed = 1, users = 20000, items = {items}, categories = 20 }}\n\
             [[policies]]\nname = \"{name}\"\nrecommend = \"{recommend}\"\npricing = {{ kind = \"list\" }}\n"
        );
        let t = Instant::now();
        let market = Market::new(Scenario::from_toml(&text, "throughput").unwrap()).unwrap();
        let setup = t.elapsed().as_secs_f64();
        let runs = market.run(threads).unwrap();
        let decisions: u64 = runs[0]
            .replicates
            .iter()
            .flatten()
            .map(|d| d.sessions)
            .sum();
        let secs = runs[0].seconds;
        println!(
            "{name:<30} {decisions:>9} decisions in {secs:>7.3} s = {:>12.0} decisions/s  (world built in {setup:.1} s)",
            decisions as f64 / secs
        );
    }

    let dim: usize = env("DIM", 64);
    let queries: usize = env("QUERIES", 10_000);
    println!("\n== top-10 latency: {items} items × {dim} factors, {queries} requests, one thread");
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let vectors: Vec<f32> = (0..items * dim)
        .map(|_| rng.random::<f32>() - 0.5)
        .collect();
    let bias: Vec<f32> = (0..items).map(|_| rng.random::<f32>() - 0.5).collect();
    let index = ItemIndex::new(dim, vectors, bias);
    let mut scratch = Vec::with_capacity(dim);
    let mut times = Vec::with_capacity(queries);
    // Recall@10 of the 8-bit scan + exact re-rank against brute force, on every 50th request.
    let (mut found, mut wanted) = (0usize, 0usize);
    for n in 0..queries {
        let q: Vec<f32> = (0..dim).map(|_| rng.random::<f32>() - 0.5).collect();
        let t = Instant::now();
        let top = index.top_k(&q, 10, &|_| false, &mut scratch);
        times.push(t.elapsed().as_secs_f64() * 1e3);
        if n % 50 == 0 {
            let exact = index.top_k_exact(&q, 10);
            found += exact.iter().filter(|i| top.contains(i)).count();
            wanted += exact.len();
        }
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((p * times.len() as f64) as usize).min(times.len() - 1)];
    println!(
        "p50 {:.3} ms   p99 {:.3} ms   max {:.3} ms   ({:.0} requests/s); recall@10 against brute force {:.4} ({wanted} checked)",
        pct(0.50),
        pct(0.99),
        times[times.len() - 1],
        queries as f64 / times.iter().sum::<f64>() * 1e3,
        found as f64 / wanted.max(1) as f64
    );
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
