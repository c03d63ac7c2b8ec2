//! Live re-score latency: for every finished recommender run of a workspace, the time one
//! storefront re-score takes (`Storefront::run_slate`: the run reads a history it never saw
//! and returns its top 10 with the reasons), over real shoppers' histories plus one click.
//! Prints p50, p99 and max per run. Used by `bench/live.sh`.
//!
//! `cargo run --release -p shoplab-cli --example live_rescore -- WORKSPACE [REPS]`

use std::time::Instant;

use shoplab_engine::Session;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let ws = args.next().ok_or("usage: live_rescore WORKSPACE [REPS]")?;
    let reps: usize = args.next().map_or(Ok(1000), |r| r.parse())?;
    let t = Instant::now();
    let store = Session::open(&ws)?.storefront()?;
    let opened = t.elapsed().as_secs_f64();
    // Real shoppers' histories (their last 50 item events), each with one more click.
    let shoppers = store.shoppers(None, 200)?;
    let mut histories = Vec::new();
    for s in &shoppers {
        let mut h: Vec<String> = store
            .history(&s.user_id)?
            .into_iter()
            .map(|(r, _)| r.item_id)
            .collect();
        let click = &store.products[(histories.len() * 7919) % store.products.len()];
        h.push(click.item.item_id.clone());
        histories.push(h);
    }
    let mean_len =
        histories.iter().map(Vec::len).sum::<usize>() as f64 / histories.len().max(1) as f64;
    println!(
        "workspace {ws}: {} items, {} shoppers' histories (mean {mean_len:.1} items), opened in {opened:.2} s",
        store.products.len(),
        histories.len()
    );
    println!(
        "{:>5}  {:<9} {:<10} {:>9} {:>9} {:>9} {:>9}",
        "run", "model", "reading", "load s", "p50 ms", "p99 ms", "max ms"
    );
    for run in &store.runs {
        let id = run.run.run_id;
        let t = Instant::now();
        if let Err(e) = store.run_slate(id, &histories[0], 10) {
            println!("{id:>5}  {:<9} {e}", run.model.name());
            continue;
        }
        let load = t.elapsed().as_secs_f64();
        let mut ms: Vec<f64> = (0..reps)
            .map(|n| {
                let h = &histories[n % histories.len()];
                let t = Instant::now();
                let slate = store.run_slate(id, h, 10).expect("re-score");
                assert!(!slate.entries.is_empty());
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        let q = |p: f64| ms[((ms.len() - 1) as f64 * p).round() as usize];
        println!(
            "{id:>5}  {:<9} {:<10} {load:>9.2} {:>9.3} {:>9.3} {:>9.3}",
            run.model.name(),
            run.reading.name(),
            q(0.5),
            q(0.99),
            ms[ms.len() - 1]
        );
    }
    Ok(())
}
