//! The shoppers' side of a day: how many arrive, what an item at a price is worth to one of
//! them under the day's conditions, and which item of a slate (or none) they buy.

use rand::distr::Distribution;
use rand_chacha::ChaCha8Rng;
use rand_distr::Poisson;

use crate::scenario::Arrivals;

use super::Market;
use super::events::Conditions;

impl Market {
    /// The day's sessions: Poisson at the rate times the weekly shape, or the log's count
    /// for the day; times the traffic events'.
    pub(super) fn arrivals(&self, day: u32, traffic: f64, rng: &mut ChaCha8Rng) -> u64 {
        let env = &self.env;
        match self.scenario.arrivals {
            Arrivals::Replay => {
                let logged = env.logged_sessions[day as usize % env.logged_sessions.len()];
                (logged as f64 * traffic).round() as u64
            }
            Arrivals::Poisson => {
                let weekly = if env.weekly.is_empty() {
                    1.0
                } else {
                    env.weekly[day as usize % env.weekly.len()]
                };
                Poisson::new(self.rate * weekly * traffic).map_or(0, |d| d.sample(rng) as u64)
            }
        }
    }

    /// Utility of item `i` at price `p` for user `u` (`None`: the average shopper, no
    /// affinity) under the day's conditions.
    pub(super) fn utility(&self, u: Option<usize>, i: usize, p: f64, c: &Conditions) -> f64 {
        let item = &self.env.items[i];
        let beta = self.env.categories[item.category].elasticity;
        let (base, mult) = match u {
            Some(u) => (self.env.utility(u, i, p), self.env.users[u].price_mult),
            None => (item.appeal - beta * p.ln(), 1.0),
        };
        // An elasticity shift changes the slope, not the utility at the list price.
        let shifted = base - (c.elasticity[i] - 1.0) * beta * mult * (p / item.list_price).ln();
        match c.competitor[i] {
            Some(q) => shifted - self.scenario.competitor_weight * (p / q).ln().max(0.0),
            None => shifted,
        }
    }

    /// What shopper `u` buys from `slate` at `prices`: the multinomial logit over the slate
    /// and not buying (utility 0), decided by `draw` (uniform in [0, 1)).
    pub(super) fn choose(
        &self,
        u: usize,
        slate: &[usize],
        prices: &[f64],
        c: &Conditions,
        draw: f64,
    ) -> Option<usize> {
        let weights: Vec<f64> = slate
            .iter()
            .map(|&i| self.utility(Some(u), i, prices[i], c).exp())
            .collect();
        let total = 1.0 + weights.iter().sum::<f64>();
        let mut acc = 0.0;
        for (j, w) in weights.iter().enumerate() {
            acc += w / total;
            if draw < acc {
                return Some(slate[j]);
            }
        }
        None
    }
}
