//! A replicate in progress, one day per [`Run::step`]: the day's conditions and prices,
//! then each session's slate, choice and what the policy learns from it.

use rand::distr::Distribution;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::env::Item;
use crate::pricing::{Feedback, Policy, PolicyKind};
use crate::scenario::{PolicySpec, Recommend};

use super::Market;
use super::events::Conditions;
use super::price::Offer;
use super::report::{CategoryTotals, Day, PRICE_LOG_ITEMS};
use super::scores::ModelScores;
use super::slate::{Shelf, SlateBuffers};
use super::stock::Stock;

/// A replicate in progress: its random streams and what its policy has learned; each
/// [`Run::step`] simulates one day. Batch runs step to the end at once; real-time runs pace
/// the steps, with the same results.
pub struct Run<'m> {
    pub(super) market: &'m Market,
    pub(super) spec: &'m PolicySpec,
    day: u32,
    /// The shoppers' stream (the seed's): arrivals, users, categories, choice draws.
    shoppers: ChaCha8Rng,
    /// The policy's own stream: its bandits' draws, random slates.
    pub(super) own: ChaCha8Rng,
    /// Sales per item so far (the popularity recommender's order, markdown's pace).
    pub(super) sold: Vec<u64>,
    /// Impressions per item so far.
    pub(super) shown: Vec<u64>,
    pub(super) stock: Stock,
    /// A learning pricing policy's state per item: over the grid's multipliers, a sale
    /// earning the margin (empty for the other pricing rules).
    pub(super) learners: Vec<Policy>,
    pub(super) learner: Option<PolicyKind>,
    /// Each item's price yesterday (before promos), for bounded moves.
    pub(super) last_price: Vec<f64>,
    /// Each item's list-price multiple under a markdown policy (1 until marked down).
    pub(super) markdown: Vec<f64>,
    /// Each day's prices (first replicate of a catalog up to [`PRICE_LOG_ITEMS`] items).
    pub price_log: Vec<Vec<f32>>,
    /// Totals so far per category.
    pub by_category: Vec<CategoryTotals>,
    log_prices: bool,
}

/// What the day's sessions share: its conditions, prices, shelf and the recommender's model.
pub(super) struct Plan<'m> {
    pub(super) conditions: Conditions,
    pub(super) offer: Offer,
    pub(super) shelf: Shelf,
    pub(super) model: Option<&'m ModelScores>,
}

/// What a day's sessions add up beyond [`Day`]'s counts.
struct Tally {
    /// The purchases the policy's model expects (when it predicts).
    predicted: Option<f64>,
    /// Units sold per item today (bandits that learn from a day's units; else empty).
    units: Vec<u64>,
}

impl<'m> Run<'m> {
    /// A replicate of `spec` (the `stream`-th policy) with `seed`.
    pub fn new(market: &'m Market, spec: &'m PolicySpec, stream: u64, seed: u64) -> Self {
        let items = &market.env.items;
        let learner = spec.pricing.learner();
        let learners = bandits(learner.as_ref(), spec.pricing.grid(), items);
        let mut own = ChaCha8Rng::seed_from_u64(seed);
        own.set_stream(1 + stream);
        Run {
            market,
            spec,
            day: 0,
            shoppers: ChaCha8Rng::seed_from_u64(seed),
            own,
            sold: vec![0; items.len()],
            shown: vec![0; items.len()],
            stock: Stock::new(market.scenario.stock, items.len()),
            learners,
            learner,
            last_price: items.iter().map(|i| i.list_price).collect(),
            markdown: vec![1.0; items.len()],
            price_log: Vec::new(),
            by_category: vec![CategoryTotals::default(); market.env.categories.len()],
            log_prices: seed == 0 && items.len() <= PRICE_LOG_ITEMS,
        }
    }

    /// Simulates the next day; `None` past the horizon.
    pub fn step(&mut self) -> Option<Day> {
        let m = self.market;
        if self.day >= m.scenario.days {
            return None;
        }
        let day = self.day;
        self.day += 1;
        let plan = self.plan(day);
        let arrivals = m.arrivals(day, plan.conditions.traffic, &mut self.shoppers);
        let mut today = Day {
            sessions: arrivals,
            ..Day::default()
        };
        let mut tally = Tally {
            predicted: self.predicts().then_some(0.0),
            units: vec![
                0;
                if self.learns_units() {
                    m.env.items.len()
                } else {
                    0
                }
            ],
        };
        let mut buf = SlateBuffers::default();
        for _ in 0..arrivals {
            self.session(&plan, &mut today, &mut tally, &mut buf);
        }
        self.learn_units(&plan, &tally.units);
        today.stock = self.stock.total();
        if self.day == m.scenario.days {
            self.salvage(&mut today);
        }
        today.predicted = tally.predicted;
        Some(today)
    }

    /// The day's conditions (stock included), prices (logged) and shelf.
    fn plan(&mut self, day: u32) -> Plan<'m> {
        let m = self.market;
        let mut conditions = m.conditions(day);
        self.stock.close_sold_out(&mut conditions.in_stock);
        // Each item's arm (learning policies) and price for the day, within the policy's
        // bounded move from yesterday's.
        let offer = self.set_prices(day, &conditions);
        if self.log_prices {
            self.price_log
                .push(offer.prices.iter().map(|&p| p as f32).collect());
        }
        // Each session lands in a category (by its share of traffic) and is shown items of
        // that category available today (and not sold out since the morning).
        let shelf = Shelf::new(&m.env, &conditions.in_stock, &self.sold);
        Plan {
            conditions,
            offer,
            shelf,
            model: self.spec.recommend.run().and_then(|r| m.models.get(&r)),
        }
    }

    /// One shopper: drawn with a category and a choice draw, shown a slate, buying one
    /// item of it or none.
    fn session(&mut self, today: &Plan, day: &mut Day, tally: &mut Tally, buf: &mut SlateBuffers) {
        let m = self.market;
        let u = m.user_weights.sample(&mut self.shoppers);
        let cat = m.category_weights.sample(&mut self.shoppers);
        let draw: f64 = self.shoppers.random();
        let slate = self.slate(u, cat, today, buf);
        day.impressions += slate.len() as u64;
        let totals = &mut self.by_category[cat];
        totals.sessions += 1;
        totals.impressions += slate.len() as u64;
        for &i in &slate {
            self.shown[i] += 1;
        }
        if let Some(predicted) = &mut tally.predicted {
            *predicted += self.predicted(u, &slate, today);
        }
        let prices = &today.offer.prices;
        let choice = m.choose(u, &slate, prices, &today.conditions, draw);
        if self.learns_offers() {
            for &i in &slate {
                self.learners[i].update(today.offer.arm[i], choice == Some(i));
            }
        }
        if let Some(i) = choice {
            self.sold[i] += 1;
            self.stock.take(i);
            if let Some(u) = tally.units.get_mut(i) {
                *u += 1;
            }
            let item = &m.env.items[i];
            day.purchases += 1;
            day.revenue += prices[i];
            day.margin += prices[i] - item.cost;
            day.price_index += prices[i] / item.list_price;
            let totals = &mut self.by_category[item.category];
            totals.purchases += 1;
            totals.revenue += prices[i];
            totals.margin += prices[i] - item.cost;
        }
    }

    /// The sell-by day: each unit left fetches the scenario's salvage multiple of its list
    /// price (revenue), less its cost (margin).
    fn salvage(&mut self, today: &mut Day) {
        let Some(v) = self.market.scenario.salvage else {
            return;
        };
        for (i, item) in self.market.env.items.iter().enumerate() {
            let left = self.stock.left(i);
            if left.is_finite() && left > 0.0 {
                today.revenue += left * v * item.list_price;
                today.margin += left * (v * item.list_price - item.cost);
                let totals = &mut self.by_category[item.category];
                totals.revenue += left * v * item.list_price;
                totals.margin += left * (v * item.list_price - item.cost);
            }
        }
    }

    /// The purchases of `slate` that the policy's own demand model expects.
    fn predicted(&self, u: usize, slate: &[usize], today: &Plan) -> f64 {
        let n = self.market.env.items.len();
        let (arm, prices) = (&today.offer.arm, &today.offer.prices);
        slate
            .iter()
            .map(|&i| match self.spec.recommend {
                Recommend::ExpectedRevenue(_) => today
                    .model
                    .expect("checked by Market::specs")
                    .purchase_probability(u * n, i, prices[i]),
                Recommend::Popularity
                | Recommend::Random
                | Recommend::Affinity
                | Recommend::ExpectedMargin
                | Recommend::Run(_) => self.learners[i].mean_rate(arm[i]),
            })
            .sum::<f64>()
    }

    /// Gamma/Poisson learners learn once a day, from the units each offered item sold.
    fn learn_units(&mut self, today: &Plan, units: &[u64]) {
        for (i, &units) in units.iter().enumerate() {
            if today.conditions.in_stock[i] {
                self.learners[i].update_units(today.offer.arm[i], units);
            }
        }
    }

    /// What the pricing bandit learns from (`None`: a rule prices).
    fn feedback(&self) -> Option<Feedback> {
        self.learner.as_ref().map(PolicyKind::feedback)
    }

    /// Whether the bandit learns from each offer, sold or not.
    fn learns_offers(&self) -> bool {
        self.feedback() == Some(Feedback::Sale)
    }

    /// Whether the bandit learns from each day's units sold.
    fn learns_units(&self) -> bool {
        self.feedback() == Some(Feedback::Units)
    }

    /// Whether the policy predicts its purchases: a conversion run's recommender, or a
    /// bandit's purchase probability per offer.
    fn predicts(&self) -> bool {
        self.spec.recommend.predicts_purchases() || self.learns_offers()
    }
}

/// One bandit per item over the grid's multipliers of its list price, a sale earning the
/// margin (none under a pricing rule).
fn bandits(learner: Option<&PolicyKind>, grid: &[f64], items: &[Item]) -> Vec<Policy> {
    items
        .iter()
        .filter_map(|item| {
            let margins = grid
                .iter()
                .map(|m| m * item.list_price - item.cost)
                .collect();
            // The scenario checked ε when it was read.
            Policy::over(learner?.clone(), margins).ok()
        })
        .collect()
}
