//! Logit demand for one product: a shopper offered price `p` buys with probability
//! `σ(appeal − sensitivity · ln p)`, the multinomial logit of one item against not buying
//! (the same form as the synthetic storefront's demand, `shoplab-synth`).

use serde::{Deserialize, Serialize};

use crate::{Result, SimError};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogitDemand {
    /// Utility of the product at price 1.
    pub appeal: f64,
    /// Price sensitivity β: the utility falls by β per unit of ln price.
    pub sensitivity: f64,
}

impl LogitDemand {
    pub fn new(appeal: f64, sensitivity: f64) -> Result<Self> {
        if !(appeal.is_finite() && sensitivity.is_finite() && sensitivity >= 0.0) {
            return Err(SimError::Config(format!(
                "demand needs a finite appeal and a sensitivity ≥ 0 (got {appeal}, {sensitivity})"
            )));
        }
        Ok(LogitDemand {
            appeal,
            sensitivity,
        })
    }

    /// The purchase probability at price `p` (> 0).
    pub fn buy_probability(&self, p: f64) -> f64 {
        let u = self.appeal - self.sensitivity * p.ln();
        1.0 / (1.0 + (-u).exp())
    }

    /// Expected revenue of one shopper offered price `p`.
    pub fn expected_revenue(&self, p: f64) -> f64 {
        p * self.buy_probability(p)
    }

    /// The index of the grid price with the highest expected revenue (the clairvoyant's).
    pub fn best_price(&self, grid: &[f64]) -> usize {
        (0..grid.len())
            .max_by(|&a, &b| {
                self.expected_revenue(grid[a])
                    .total_cmp(&self.expected_revenue(grid[b]))
            })
            .unwrap_or(0)
    }
}
