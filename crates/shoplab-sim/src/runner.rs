//! Replicates: each policy over many seeds, in parallel, each replicate a function of its
//! seed alone. Shoppers draw from a stream that depends on the seed only, so every policy
//! meets the same shoppers (common random numbers): their differences are the policies'.

use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::demand::LogitDemand;
use crate::estimate::Estimate;
use crate::pricing::{Policy, PolicyKind};
use crate::{Result, over_seeds};

/// One run of one policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Replicate {
    pub seed: u64,
    /// Revenue of the sales made.
    pub revenue: f64,
    /// Expected revenue of the prices offered (the realized revenue without the shoppers'
    /// luck).
    pub expected_revenue: f64,
    /// Expected revenue of offering the best price every period.
    pub clairvoyant_revenue: f64,
    /// Periods in which the best price was offered, as a share of all.
    pub best_price_share: f64,
}

impl Replicate {
    /// Share of the clairvoyant's expected revenue.
    pub fn share(&self) -> f64 {
        self.expected_revenue / self.clairvoyant_revenue
    }

    pub fn regret(&self) -> f64 {
        self.clairvoyant_revenue - self.expected_revenue
    }
}

/// One policy over all seeds.
#[derive(Debug, Clone, Serialize)]
pub struct PolicySummary {
    pub policy: String,
    pub replicates: Vec<Replicate>,
    /// Mean share of the clairvoyant's revenue, and its 95% interval (normal approximation).
    pub share: f64,
    pub share_ci: (f64, f64),
    pub regret: f64,
    pub seconds: f64,
}

/// `horizon` periods of `kind` on `demand` over the price grid; seed `seed`.
pub fn run_one(
    demand: &LogitDemand,
    prices: &[f64],
    kind: &PolicyKind,
    horizon: u64,
    seed: u64,
) -> Result<Replicate> {
    let mut policy = Policy::new(kind.clone(), prices)?;
    let probability: Vec<f64> = prices.iter().map(|&p| demand.buy_probability(p)).collect();
    let best = demand.best_price(prices);
    let mut shoppers = ChaCha8Rng::seed_from_u64(seed);
    let mut own = ChaCha8Rng::seed_from_u64(seed);
    own.set_stream(1);
    let (mut revenue, mut expected) = (0.0, 0.0);
    for _ in 0..horizon {
        let k = policy.choose(&mut own);
        let sold = shoppers.random::<f64>() < probability[k];
        policy.update(k, sold);
        if sold {
            revenue += prices[k];
        }
        expected += prices[k] * probability[k];
    }
    Ok(Replicate {
        seed,
        revenue,
        expected_revenue: expected,
        clairvoyant_revenue: horizon as f64 * prices[best] * probability[best],
        best_price_share: policy.offers()[best] as f64 / horizon.max(1) as f64,
    })
}

/// Every policy over `seeds`, replicates spread over `threads` threads.
pub fn run_replicates(
    demand: &LogitDemand,
    prices: &[f64],
    policies: &[PolicyKind],
    horizon: u64,
    seeds: std::ops::Range<u64>,
    threads: usize,
) -> Result<Vec<PolicySummary>> {
    let mut out = Vec::with_capacity(policies.len());
    for kind in policies {
        Policy::new(kind.clone(), prices)?;
        let t = Instant::now();
        let all: Vec<u64> = seeds.clone().collect();
        let replicates = over_seeds(&all, threads, &|seed| {
            run_one(demand, prices, kind, horizon, seed)
        })
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
        let shares: Vec<f64> = replicates.iter().map(Replicate::share).collect();
        let regrets: Vec<f64> = replicates.iter().map(Replicate::regret).collect();
        let share = Estimate::of(&shares);
        out.push(PolicySummary {
            policy: kind.name(),
            share: share.mean,
            share_ci: (share.low, share.high),
            regret: Estimate::of(&regrets).mean,
            replicates,
            seconds: t.elapsed().as_secs_f64(),
        });
    }
    Ok(out)
}
