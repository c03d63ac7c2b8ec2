//! # shoplab-sim — the simulation lab
//!
//! What-if scenarios on a shop whose demand is known ([`market`], [`scenario`]): shoppers of
//! a synthetic world see recommended slates at the policies' prices and choose by a
//! multinomial logit, while timed events move competitor prices, price sensitivity, promos,
//! traffic and stock.
//!
//! Dynamic pricing of one product ([`pricing`], [`runner`]): a product sold at one of a grid of
//! prices, shoppers who buy by a logit with a no-purchase option, and the pricing policies
//! an analyst compares — fixed price, Thompson sampling over the grid (Beta/Bernoulli),
//! UCB1 and ε-greedy — each run over many seeds, replicates in parallel, every replicate a
//! function of its seed alone. The clairvoyant policy (the best price of the true demand)
//! gives each run its regret and its share of the attainable revenue.

pub mod calibrate;
pub mod demand;
pub mod env;
mod estimate;
pub mod market;
pub mod ope;
pub mod plan;
pub mod pricing;
pub mod rules;
pub mod runner;
pub mod scenario;
pub mod sweep;
pub mod topk;

pub use calibrate::{Calibration, calibrate};
pub use demand::LogitDemand;
pub use env::Environment;
pub use estimate::Estimate;
pub use market::{Day, LiveDay, Market, PolicyRun};
pub use pricing::{Policy, PolicyKind};
pub use runner::{PolicySummary, Replicate, run_replicates};
pub use scenario::Scenario;

/// What can go wrong in a simulation.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{0}")]
    Config(String),
}

pub type Result<T> = std::result::Result<T, SimError>;

/// `f(seed)` for every seed, the seeds split in order over `threads` scoped threads; the
/// results in seed order whatever the number of threads.
pub(crate) fn over_seeds<T: Send>(
    seeds: &[u64],
    threads: usize,
    f: &(dyn Fn(u64) -> T + Sync),
) -> Vec<T> {
    let per = seeds.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = seeds
            .chunks(per)
            .map(|chunk| s.spawn(move || chunk.iter().map(|&seed| f(seed)).collect::<Vec<T>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a replicate thread panicked"))
            .collect()
    })
}
