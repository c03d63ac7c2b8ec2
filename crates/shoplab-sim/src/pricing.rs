//! Pricing policies over a grid of prices, each learning from one sale-or-not per period.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution, Gamma};
use serde::{Deserialize, Serialize};

use crate::{Result, SimError};

/// A pricing policy and its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "policy")]
pub enum PolicyKind {
    /// Always the grid price at this index.
    Fixed { arm: usize },
    /// Thompson sampling: a Beta(1, 1) prior on each price's purchase probability; each
    /// period offers the price whose sampled probability × price is highest.
    Thompson,
    /// Thompson sampling on sales counts: each period's units at a price are Poisson, with a
    /// Gamma(1, 1) prior on the rate; each period offers the price whose sampled rate × price
    /// is highest.
    ThompsonPoisson,
    /// Thompson sampling under a fixed inventory (Ferreira, Simchi-Levi & Wang 2018,
    /// "TS-fixed"): each period samples the purchase probabilities, solves the linear
    /// program that maximizes expected revenue while selling at most the inventory's rate
    /// per offer ([`Policy::choose_within`]), and offers a price drawn from its solution —
    /// or none, with the probability the solution leaves over.
    ThompsonInventory,
    /// UCB1 on the revenue scaled by the highest price (each price once first).
    Ucb1,
    /// The best mean revenue so far, a random price with probability ε (each price once
    /// first).
    EpsilonGreedy { epsilon: f64 },
}

/// What a policy learns from: one sale-or-not per offer, or the units sold per period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feedback {
    /// A Beta/Bernoulli view of each offer; [`Policy::mean_rate`] is a purchase probability.
    Sale,
    /// A Gamma/Poisson view of each period's units sold ([`Policy::update_units`]).
    Units,
}

impl PolicyKind {
    /// What the policy learns from.
    pub fn feedback(&self) -> Feedback {
        match self {
            PolicyKind::Fixed { .. }
            | PolicyKind::Thompson
            | PolicyKind::ThompsonInventory
            | PolicyKind::Ucb1
            | PolicyKind::EpsilonGreedy { .. } => Feedback::Sale,
            PolicyKind::ThompsonPoisson => Feedback::Units,
        }
    }

    /// Whether the policy spreads a stock over the horizon ([`Policy::choose_within`]).
    pub fn budgets_stock(&self) -> bool {
        match self {
            PolicyKind::ThompsonInventory => true,
            PolicyKind::Fixed { .. }
            | PolicyKind::Thompson
            | PolicyKind::ThompsonPoisson
            | PolicyKind::Ucb1
            | PolicyKind::EpsilonGreedy { .. } => false,
        }
    }

    pub fn name(&self) -> String {
        match self {
            PolicyKind::Fixed { arm } => format!("fixed-{arm}"),
            PolicyKind::Thompson => "thompson".into(),
            PolicyKind::ThompsonPoisson => "thompson-poisson".into(),
            PolicyKind::ThompsonInventory => "thompson-inventory".into(),
            PolicyKind::Ucb1 => "ucb1".into(),
            PolicyKind::EpsilonGreedy { epsilon } => format!("eps-greedy-{epsilon}"),
        }
    }

    /// `fixed:K`, `thompson`, `ucb1`, `eps:E`.
    pub fn parse(s: &str) -> Result<Self> {
        let bad = || {
            SimError::Config(format!(
                "unknown policy \"{s}\" (known: fixed:K, thompson, thompson-poisson, ucb1, eps:E)"
            ))
        };
        Ok(match s.split_once(':') {
            None if s == "thompson" => PolicyKind::Thompson,
            None if s == "thompson-poisson" => PolicyKind::ThompsonPoisson,
            None if s == "ucb1" => PolicyKind::Ucb1,
            Some(("fixed", k)) => PolicyKind::Fixed {
                arm: k.parse().map_err(|_| bad())?,
            },
            Some(("eps", e)) => PolicyKind::EpsilonGreedy {
                epsilon: e.parse().map_err(|_| bad())?,
            },
            _ => return Err(bad()),
        })
    }
}

/// A policy's state during one run: over arms (prices, or price multipliers) that each earn
/// a value per sale (the price, or the margin), learning from one sale-or-not per offer.
pub struct Policy {
    kind: PolicyKind,
    /// What a sale at each arm earns.
    values: Vec<f64>,
    /// Offers and sales per arm.
    offers: Vec<u64>,
    sales: Vec<u64>,
}

impl Policy {
    /// A pricing policy over `prices`; a sale earns its price.
    pub fn new(kind: PolicyKind, prices: &[f64]) -> Result<Self> {
        if prices.is_empty() || prices.iter().any(|p| !(p.is_finite() && *p > 0.0)) {
            return Err(SimError::Config(
                "the price grid needs at least one positive price".into(),
            ));
        }
        if let PolicyKind::Fixed { arm } = kind
            && arm >= prices.len()
        {
            return Err(SimError::Config(format!(
                "fixed:K must be below the grid's {} prices (K from 0 to {}; got {arm})",
                prices.len(),
                prices.len() - 1
            )));
        }
        Self::over(kind, prices.to_vec())
    }

    /// A policy over arms whose sales earn `values` (any sign: a margin may be negative).
    pub fn over(kind: PolicyKind, values: Vec<f64>) -> Result<Self> {
        if let PolicyKind::EpsilonGreedy { epsilon } = kind
            && !(0.0..=1.0).contains(&epsilon)
        {
            return Err(SimError::Config(format!(
                "ε must be in [0, 1] (got {epsilon})"
            )));
        }
        let n = values.len();
        Ok(Policy {
            kind,
            values,
            offers: vec![0; n],
            sales: vec![0; n],
        })
    }

    /// The arm to offer this period.
    pub fn choose(&mut self, rng: &mut ChaCha8Rng) -> usize {
        let all: Vec<usize> = (0..self.values.len()).collect();
        self.choose_among(&all, rng)
    }

    /// The arm to offer among `allowed` (not empty), e.g. the prices within a bounded move.
    pub fn choose_among(&self, allowed: &[usize], rng: &mut ChaCha8Rng) -> usize {
        let untried = allowed.iter().copied().find(|&k| self.offers[k] == 0);
        let mean = |k: usize| self.values[k] * self.sales[k] as f64 / self.offers[k] as f64;
        let best = |score: &mut dyn FnMut(usize) -> f64| {
            allowed[argmax(allowed.iter().map(|&k| score(k)))]
        };
        match self.kind {
            PolicyKind::Fixed { arm } => arm,
            PolicyKind::Thompson | PolicyKind::ThompsonInventory | PolicyKind::ThompsonPoisson => {
                best(&mut |k| self.values[k] * self.sample_rate(k, rng))
            }
            PolicyKind::Ucb1 => match untried {
                Some(k) => k,
                None => {
                    let top = self
                        .values
                        .iter()
                        .copied()
                        .fold(f64::MIN_POSITIVE, f64::max);
                    let t: u64 = self.offers.iter().sum();
                    let log_t = ((t + 1) as f64).ln();
                    best(&mut |k| mean(k) / top + (2.0 * log_t / self.offers[k] as f64).sqrt())
                }
            },
            PolicyKind::EpsilonGreedy { epsilon } => match untried {
                Some(k) => k,
                None if rng.random::<f64>() < epsilon => {
                    allowed[rng.random_range(0..allowed.len())]
                }
                None => best(&mut |k| mean(k)),
            },
        }
    }

    /// A draw from the posterior of arm `k`'s rate: the purchase probability per offer
    /// (Beta), or for [`PolicyKind::ThompsonPoisson`] the units per period (Gamma).
    fn sample_rate(&self, k: usize, rng: &mut ChaCha8Rng) -> f64 {
        let (sales, offers) = (self.sales[k] as f64, self.offers[k] as f64);
        match self.kind.feedback() {
            Feedback::Units => {
                Gamma::new(1.0 + sales, 1.0 / (1.0 + offers)).map_or(0.0, |d| d.sample(rng))
            }
            Feedback::Sale => {
                Beta::new(1.0 + sales, 1.0 + offers - sales).map_or(0.5, |d| d.sample(rng))
            }
        }
    }

    /// The posterior mean of arm `k`'s purchase probability per offer (Beta(1, 1) prior).
    pub fn mean_rate(&self, k: usize) -> f64 {
        (1.0 + self.sales[k] as f64) / (2.0 + self.offers[k] as f64)
    }

    /// Inventory-constrained Thompson sampling: samples every allowed arm's purchase
    /// probability θ, solves
    ///
    /// ```text
    /// max Σ_k x_k · value_k · θ_k   s.t.  Σ_k x_k · θ_k ≤ budget,  Σ_k x_k ≤ 1,  x ≥ 0
    /// ```
    ///
    /// (`budget`: the units that may be sold per offer — remaining inventory over remaining
    /// offers) and draws an arm with probability `x_k`; `None` (offer nothing) with the
    /// probability left over. The program's optimum mixes at most two arms, so it is
    /// solved by enumerating them.
    pub fn choose_within(
        &self,
        allowed: &[usize],
        budget: f64,
        rng: &mut ChaCha8Rng,
    ) -> Option<usize> {
        let theta: Vec<f64> = allowed.iter().map(|&k| self.sample_rate(k, rng)).collect();
        let x = inventory_lp(
            &allowed.iter().map(|&k| self.values[k]).collect::<Vec<_>>(),
            &theta,
            budget,
        );
        let draw: f64 = rng.random();
        let mut acc = 0.0;
        for (j, p) in x.iter().enumerate() {
            acc += p;
            if draw < acc {
                return Some(allowed[j]);
            }
        }
        None
    }

    /// What happened to an offer at arm `k`: sold or not (for
    /// [`PolicyKind::ThompsonPoisson`], one period with one unit or none).
    pub fn update(&mut self, k: usize, sold: bool) {
        self.update_units(k, u64::from(sold));
    }

    /// One period at arm `k` that sold `units` ([`PolicyKind::ThompsonPoisson`]; for the
    /// others an offer that sold when `units > 0`).
    pub fn update_units(&mut self, k: usize, units: u64) {
        self.offers[k] += 1;
        self.sales[k] += match self.kind.feedback() {
            Feedback::Units => units,
            Feedback::Sale => units.min(1),
        };
    }

    /// How often each arm was offered.
    pub fn offers(&self) -> &[u64] {
        &self.offers
    }
}

/// The linear program of [`Policy::choose_within`]: the probabilities `x` of offering each
/// arm, given the arms' values per sale and sale probabilities. A vertex of the feasible
/// set has at most two arms with `x > 0` (two constraints), so every single arm (capped by
/// the budget) and every pair that spends the budget exactly is a candidate.
pub fn inventory_lp(values: &[f64], theta: &[f64], budget: f64) -> Vec<f64> {
    let n = values.len();
    let mut best = (0.0, vec![0.0; n]);
    let mut consider = |x: Vec<f64>| {
        let revenue: f64 = (0..n).map(|k| x[k] * values[k] * theta[k]).sum();
        if revenue > best.0 {
            best = (revenue, x);
        }
    };
    for k in 0..n {
        let mut x = vec![0.0; n];
        x[k] = if theta[k] > budget {
            budget / theta[k]
        } else {
            1.0
        };
        consider(x);
        for l in 0..n {
            // Arm k below the budget's rate, arm l above it, mixed to spend it exactly.
            if theta[k] < budget && theta[l] > budget {
                let share = (budget - theta[k]) / (theta[l] - theta[k]);
                let mut x = vec![0.0; n];
                x[k] = 1.0 - share;
                x[l] = share;
                consider(x);
            }
        }
    }
    best.1
}

/// The index of the largest value (the first of equals).
fn argmax(values: impl Iterator<Item = f64>) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (k, v) in values.enumerate() {
        if v > best.1 {
            best = (k, v);
        }
    }
    best.0
}
