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

/// A policy's state during one run.
pub struct Policy {
    kind: PolicyKind,
    prices: Vec<f64>,
    /// Offers and sales per price.
    offers: Vec<u64>,
    sales: Vec<u64>,
    t: u64,
}

impl Policy {
    pub fn new(kind: PolicyKind, prices: &[f64]) -> Result<Self> {
        if prices.is_empty() || prices.iter().any(|p| !(p.is_finite() && *p > 0.0)) {
            return Err(SimError::Config(
                "the price grid needs at least one positive price".into(),
            ));
        }
        match kind {
            PolicyKind::Fixed { arm } if arm >= prices.len() => {
                return Err(SimError::Config(format!(
                    "fixed:{arm} is past the grid's {} prices",
                    prices.len()
                )));
            }
            PolicyKind::EpsilonGreedy { epsilon } if !(0.0..=1.0).contains(&epsilon) => {
                return Err(SimError::Config(format!(
                    "ε must be in [0, 1], got {epsilon}"
                )));
            }
            _ => {}
        }
        Ok(Policy {
            kind,
            prices: prices.to_vec(),
            offers: vec![0; prices.len()],
            sales: vec![0; prices.len()],
            t: 0,
        })
    }

    /// The price index to offer this period.
    pub fn choose(&mut self, rng: &mut ChaCha8Rng) -> usize {
        self.t += 1;
        let n = self.prices.len();
        let untried = self.offers.iter().position(|&o| o == 0);
        let mean = |k: usize| self.prices[k] * self.sales[k] as f64 / self.offers[k] as f64;
        match self.kind {
            PolicyKind::Fixed { arm } => arm,
            PolicyKind::Thompson => argmax((0..n).map(|k| {
                let a = 1.0 + self.sales[k] as f64;
                let b = 1.0 + (self.offers[k] - self.sales[k]) as f64;
                let theta = Beta::new(a, b).map_or(0.5, |d| d.sample(rng));
                self.prices[k] * theta
            })),
            PolicyKind::Ucb1 => match untried {
                Some(k) => k,
                None => {
                    let top = self.prices.iter().copied().fold(0.0, f64::max);
                    let log_t = (self.t as f64).ln();
                    argmax(
                        (0..n)
                            .map(|k| mean(k) / top + (2.0 * log_t / self.offers[k] as f64).sqrt()),
                    )
                }
            },
            PolicyKind::EpsilonGreedy { epsilon } => match untried {
                Some(k) => k,
                None if rng.random::<f64>() < epsilon => rng.random_range(0..n),
                None => argmax((0..n).map(mean)),
            },
        }
    }

    /// What happened to the offer of price `k`.
    pub fn update(&mut self, k: usize, sold: bool) {
        self.offers[k] += 1;
        self.sales[k] += u64::from(sold);
    }

    /// How often each price was offered.
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
