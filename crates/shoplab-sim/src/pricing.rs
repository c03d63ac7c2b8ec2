//! Pricing policies over a grid of prices, each learning from one sale-or-not per period.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution};
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
    /// UCB1 on the revenue scaled by the highest price (each price once first).
    Ucb1,
    /// The best mean revenue so far, a random price with probability ε (each price once
    /// first).
    EpsilonGreedy { epsilon: f64 },
}

impl PolicyKind {
    pub fn name(&self) -> String {
        match self {
            PolicyKind::Fixed { arm } => format!("fixed-{arm}"),
            PolicyKind::Thompson => "thompson".into(),
            PolicyKind::Ucb1 => "ucb1".into(),
            PolicyKind::EpsilonGreedy { epsilon } => format!("eps-greedy-{epsilon}"),
        }
    }

    /// `fixed:K`, `thompson`, `ucb1`, `eps:E`.
    pub fn parse(s: &str) -> Result<Self> {
        let bad = || {
            SimError::Config(format!(
                "unknown policy \"{s}\" (known: fixed:K, thompson, ucb1, eps:E)"
            ))
        };
        Ok(match s.split_once(':') {
            None if s == "thompson" => PolicyKind::Thompson,
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
                "fixed:{arm} is past the grid's {} prices",
                prices.len()
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
                "ε must be in [0, 1], got {epsilon}"
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
            PolicyKind::Thompson => best(&mut |k| {
                let a = 1.0 + self.sales[k] as f64;
                let b = 1.0 + (self.offers[k] - self.sales[k]) as f64;
                let theta = Beta::new(a, b).map_or(0.5, |d| d.sample(rng));
                self.values[k] * theta
            }),
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

    /// What happened to an offer at arm `k`.
    pub fn update(&mut self, k: usize, sold: bool) {
        self.offers[k] += 1;
        self.sales[k] += u64::from(sold);
    }

    /// How often each arm was offered.
    pub fn offers(&self) -> &[u64] {
        &self.offers
    }
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
