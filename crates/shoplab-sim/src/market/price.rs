//! The pricing step of a day: each item's price under the policy's rule, or the arm its
//! bandit picks from the grid, within the policy's bounded move from yesterday's price and
//! through the scenario's price rules ([`crate::rules`]); then the day's promos.

use crate::pricing::PolicyKind;
use crate::scenario::Pricing;

use super::Market;
use super::events::Conditions;
use super::run::Run;

/// The day's offer: per item the bandit's arm (0 under a rule) and the price shoppers see
/// (promos included).
pub(super) struct Offer {
    pub(super) arm: Vec<usize>,
    pub(super) prices: Vec<f64>,
}

impl Run<'_> {
    /// Every item's arm and price for `day` (item by item: the bandits draw in that order).
    pub(super) fn set_prices(&mut self, day: u32, c: &Conditions) -> Offer {
        let n = self.market.env.items.len();
        let mut offer = Offer {
            arm: vec![0; n],
            prices: vec![0.0; n],
        };
        for i in 0..n {
            let (arm, p) = self.price(i, day, c);
            offer.arm[i] = arm;
            self.last_price[i] = p;
            offer.prices[i] = p * (1.0 - c.promo[i]);
        }
        offer
    }

    /// Item `i`'s arm (0 under a rule) and price before promos: the policy's, within its
    /// bounded move from yesterday's price, then through the scenario's price rules.
    fn price(&mut self, i: usize, day: u32, c: &Conditions) -> (usize, f64) {
        let m = self.market;
        let item = &m.env.items[i];
        let spec = self.spec;
        let last = self.last_price[i];
        let bounds = spec.max_move.map(|f| (last * (1.0 - f), last * (1.0 + f)));
        let bounded = |p: f64| bounds.map_or(p, |(lo, hi)| p.clamp(lo, hi));
        let (arm, p) = match &spec.pricing {
            Pricing::List => (0, bounded(item.list_price)),
            Pricing::CostPlus { markup } => (0, bounded(item.cost * (1.0 + markup))),
            Pricing::ElasticityOptimal => (0, bounded(m.optimal_price(i, c))),
            Pricing::CompetitorMatch { undercut } => (
                0,
                bounded(c.competitor[i].map_or(item.list_price, |q| q * (1.0 - undercut))),
            ),
            Pricing::Markdown { step, floor } => {
                let m = self.markdown_multiple(i, day, *step, *floor);
                (0, bounded(m * item.list_price))
            }
            Pricing::Thompson { grid }
            | Pricing::ThompsonPoisson { grid }
            | Pricing::ThompsonInventory { grid }
            | Pricing::Ucb1 { grid }
            | Pricing::EpsilonGreedy { grid, .. } => {
                // The arms the policy's move and the rules' bounds both allow.
                let ruled = m.rules.bounds(item, last);
                let bounds = match (bounds, ruled) {
                    (Some((a, b)), Some((c, d))) => Some((a.max(c), b.min(d))),
                    (one, other) => one.or(other),
                };
                let arm = self.bandit_arm(i, grid, bounds, day, c);
                (arm, grid[arm] * item.list_price)
            }
        };
        (arm, m.rules.apply(item, p, last))
    }

    /// The arm item `i`'s bandit offers among those within `bounds`.
    fn bandit_arm(
        &mut self,
        i: usize,
        grid: &[f64],
        bounds: Option<(f64, f64)>,
        day: u32,
        c: &Conditions,
    ) -> usize {
        let list_price = self.market.env.items[i].list_price;
        let allowed = allowed_arms(grid, list_price, bounds, self.last_price[i]);
        let budgeted = self.learner.as_ref().is_some_and(PolicyKind::budgets_stock);
        if budgeted && c.in_stock[i] {
            let budget = self.stock_rate(i, day);
            // The probability the program leaves over goes to the highest price: a
            // price that sells nothing would stop the item's learning for the day.
            self.learners[i]
                .choose_within(&allowed, budget, &mut self.own)
                .unwrap_or_else(|| {
                    allowed
                        .iter()
                        .copied()
                        .max_by(|&a, &b| grid[a].total_cmp(&grid[b]))
                        .unwrap_or(0)
                })
        } else {
            self.learners[i].choose_among(&allowed, &mut self.own)
        }
    }

    /// Item `i`'s list-price multiple under markdown on `day`: one `step` lower than
    /// yesterday's (to `floor`) when its sales so far, projected over the days left, would
    /// leave units unsold; unchanged otherwise (and on day 0, with no sales to project).
    fn markdown_multiple(&mut self, i: usize, day: u32, step: f64, floor: f64) -> f64 {
        let m = &mut self.markdown[i];
        if day > 0 {
            let days_left = f64::from(self.market.scenario.days - day);
            let pace = self.sold[i] as f64 / f64::from(day);
            if pace * days_left < self.stock.left(i) {
                *m = (*m - step).max(floor);
            }
        }
        *m
    }

    /// The units item `i` may sell per impression for its stock to last the horizon
    /// (inventory-constrained Thompson sampling's budget).
    fn stock_rate(&self, i: usize, day: u32) -> f64 {
        let m = self.market;
        let left = self.stock.left(i);
        let days_left = f64::from(m.scenario.days - day);
        // Impressions a day: the item's own so far, else its share of the category's slates.
        let per_day = if day > 0 && self.shown[i] > 0 {
            self.shown[i] as f64 / f64::from(day)
        } else {
            let env = &m.env;
            let cat = env.items[i].category;
            let shares: f64 = env.categories.iter().map(|c| c.share).sum();
            let in_cat = m.affinity[cat].1.len();
            let slate = m.scenario.slate.min(in_cat) as f64;
            m.rate * env.categories[cat].share / shares * slate / in_cat.max(1) as f64
        };
        left / (days_left * per_day).max(1.0)
    }
}

/// The grid's arms whose price (`grid[k] × list_price`) is within `bounds`; the one nearest
/// to `last` if none is.
fn allowed_arms(
    grid: &[f64],
    list_price: f64,
    bounds: Option<(f64, f64)>,
    last: f64,
) -> Vec<usize> {
    let price = |k: usize| grid[k] * list_price;
    let mut allowed: Vec<usize> = (0..grid.len())
        .filter(|&k| bounds.is_none_or(|(lo, hi)| (lo..=hi).contains(&price(k))))
        .collect();
    if allowed.is_empty() {
        let near = (0..grid.len())
            .min_by(|&a, &b| (price(a) - last).abs().total_cmp(&(price(b) - last).abs()))
            .unwrap_or(0);
        allowed.push(near);
    }
    allowed
}

impl Market {
    /// The list-price multiple in 0.5 … 1.5 (steps of 0.01) with the highest expected margin
    /// for an average shopper shown the item alone, under the day's conditions.
    pub(super) fn optimal_price(&self, i: usize, c: &Conditions) -> f64 {
        let item = &self.env.items[i];
        let mut best = (item.list_price, f64::NEG_INFINITY);
        for step in 50..=150 {
            let p = item.list_price * f64::from(step) / 100.0;
            let e = self.utility(None, i, p, c).exp();
            let v = (p - item.cost) * e / (1.0 + e);
            if v > best.1 {
                best = (p, v);
            }
        }
        best.0
    }
}
