//! One-product dynamic pricing with known logit demand: the pricing policies over many
//! seeds against the clairvoyant price (the simulator's bandit runner, behind the engine).

use shoplab_sim::pricing::Policy;
use shoplab_sim::{LogitDemand, PolicyKind, SimError, run_replicates};

use crate::Result;

/// What to run: the demand, the price grid, the policies (`fixed:K`, `thompson`, `ucb1`,
/// `eps:E`) and how long and how often.
#[derive(Debug, Clone)]
pub struct PricingSpec {
    /// Utility of the product at price 1.
    pub appeal: f64,
    /// Price sensitivity β (utility per unit of ln price).
    pub sensitivity: f64,
    pub prices: Vec<f64>,
    pub policies: Vec<String>,
    /// Periods (one shopper each) per replicate.
    pub horizon: u64,
    /// Replicates: seeds 0 … N-1.
    pub seeds: u64,
    pub threads: usize,
}

/// The clairvoyant's price and each policy's result.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PricingReport {
    pub best_price: f64,
    /// Purchase probability and expected revenue per shopper at the best price.
    pub best_buy_probability: f64,
    pub best_revenue: f64,
    pub policies: Vec<PricingPolicyResult>,
}

/// One policy over the replicates.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PricingPolicyResult {
    pub policy: String,
    /// Mean share of the clairvoyant's revenue, and its 95% interval.
    pub share: f64,
    pub share_ci: (f64, f64),
    pub regret: f64,
    pub seconds: f64,
    pub replicates: usize,
}

/// Runs every policy of `spec` over its seeds.
pub fn run_pricing(spec: &PricingSpec) -> Result<PricingReport> {
    if spec.prices.is_empty() {
        return Err(SimError::Config("the price grid is empty (--prices)".into()).into());
    }
    let demand = LogitDemand::new(spec.appeal, spec.sensitivity)?;
    // Each policy is read and checked against the grid before anything runs; an error
    // names the policy as it was written.
    let kinds = spec
        .policies
        .iter()
        .map(|p| {
            PolicyKind::parse(p)
                .and_then(|kind| Policy::new(kind.clone(), &spec.prices).map(|_| kind))
                .map_err(|e| SimError::Config(format!("--policies {p}: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let summaries = run_replicates(
        &demand,
        &spec.prices,
        &kinds,
        spec.horizon,
        0..spec.seeds,
        spec.threads,
    )?;
    let best = spec.prices[demand.best_price(&spec.prices)];
    Ok(PricingReport {
        best_price: best,
        best_buy_probability: demand.buy_probability(best),
        best_revenue: demand.expected_revenue(best),
        policies: summaries
            .into_iter()
            .map(|s| PricingPolicyResult {
                policy: s.policy,
                share: s.share,
                share_ci: s.share_ci,
                regret: s.regret,
                seconds: s.seconds,
                replicates: s.replicates.len(),
            })
            .collect(),
    })
}
