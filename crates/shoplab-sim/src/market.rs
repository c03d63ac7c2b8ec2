//! The shop simulation: shoppers of a synthetic world arrive each day (Poisson), land in a
//! category (by its share of traffic), see a slate of that category's items recommended by
//! the policy at the policy's prices, and choose by the world's
//! multinomial logit with a no-purchase option, under the scenario's events. Each policy
//! meets the same shoppers in a replicate (the shopper stream depends on the seed only).

use std::time::Instant;

use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::Poisson;
use serde::Serialize;
use shoplab_synth::{World, WorldConfig};

use crate::pricing::{Policy, PolicyKind};
use crate::scenario::{Pricing, Recommend, Scenario};
use crate::topk::ItemIndex;
use crate::{Result, SimError, over_seeds};

/// Metrics of one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Day {
    pub sessions: u64,
    pub purchases: u64,
    pub revenue: f64,
    pub margin: f64,
    /// Sum over purchases of price / list price (see [`Day::mean_price_index`]).
    pub price_index: f64,
}

impl Day {
    pub fn conversion(&self) -> f64 {
        self.purchases as f64 / self.sessions.max(1) as f64
    }

    /// Mean price paid relative to the list price (1: list; 0 when nothing was sold).
    pub fn mean_price_index(&self) -> f64 {
        if self.purchases == 0 {
            0.0
        } else {
            self.price_index / self.purchases as f64
        }
    }
}

/// One simulated day of one policy: means over its replicates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiveDay {
    pub day: u32,
    pub policy: String,
    pub sessions: f64,
    pub conversion: f64,
    pub revenue: f64,
    pub margin: f64,
}

/// One policy over every seed.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyRun {
    pub policy: String,
    /// Days of each replicate.
    pub replicates: Vec<Vec<Day>>,
    pub seconds: f64,
}

/// A mean over replicates with its 95% interval (normal approximation).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub mean: f64,
    pub low: f64,
    pub high: f64,
}

impl Estimate {
    pub fn of(values: &[f64]) -> Self {
        let n = values.len().max(1) as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        let half = 1.96 * (var / n).sqrt();
        Estimate {
            mean,
            low: mean - half,
            high: mean + half,
        }
    }
}

impl PolicyRun {
    /// Totals over the horizon, mean over replicates: conversion, revenue, margin.
    pub fn summary(&self) -> [(&'static str, Estimate); 3] {
        let total = |f: &dyn Fn(&[Day]) -> f64| -> Vec<f64> {
            self.replicates.iter().map(|r| f(r)).collect()
        };
        let conversion = total(&|r| {
            r.iter().map(|d| d.purchases).sum::<u64>() as f64
                / r.iter().map(|d| d.sessions).sum::<u64>().max(1) as f64
        });
        [
            ("conversion", Estimate::of(&conversion)),
            (
                "revenue",
                Estimate::of(&total(&|r| r.iter().map(|d| d.revenue).sum())),
            ),
            (
                "margin",
                Estimate::of(&total(&|r| r.iter().map(|d| d.margin).sum())),
            ),
        ]
    }
}

/// The world of a scenario, and its category index for each event.
pub struct Market {
    pub scenario: Scenario,
    pub world: World,
    /// The category each event applies to (`None`: all).
    event_category: Vec<Option<usize>>,
    user_weights: WeightedIndex<f64>,
    /// The categories' shares of sessions.
    category_weights: WeightedIndex<f64>,
    /// Per category: its items' embeddings and appeal, and their item numbers (the
    /// affinity recommender scans the session's category only).
    affinity: Vec<(ItemIndex, Vec<usize>)>,
}

impl Market {
    pub fn new(scenario: Scenario) -> Result<Self> {
        let w = &scenario.world;
        let config = WorldConfig {
            seed: w.seed,
            n_users: w.users,
            n_items: w.items,
            n_categories: w.categories,
            days: scenario.days,
            ..WorldConfig::demo()
        };
        let world =
            World::try_generate(&config).map_err(|e| SimError::Config(format!("world: {e}")))?;
        let mut event_category = Vec::new();
        for e in &scenario.events {
            event_category.push(match &e.category {
                None => None,
                Some(code) => Some(
                    world
                        .categories
                        .iter()
                        .position(|c| &c.code == code)
                        .ok_or_else(|| {
                            let known: Vec<&str> = world
                                .categories
                                .iter()
                                .map(|c| c.code.as_str())
                                .filter(|c| !c.is_empty())
                                .collect();
                            SimError::Config(format!(
                                "event on day {}: no category \"{code}\" (known: {})",
                                e.day,
                                known.join(", ")
                            ))
                        })?,
                ),
            });
        }
        let user_weights = WeightedIndex::new(world.users.iter().map(|u| u.activity))
            .map_err(|e| SimError::Config(format!("user activity: {e}")))?;
        let category_weights = WeightedIndex::new(world.categories.iter().map(|c| c.popularity))
            .map_err(|e| SimError::Config(format!("category shares: {e}")))?;
        let dim = world.items.first().map_or(0, |i| i.embedding.len());
        let affinity = (0..world.categories.len())
            .map(|cat| {
                let ids: Vec<usize> = (0..world.items.len())
                    .filter(|&i| world.items[i].category == cat)
                    .collect();
                let index = ItemIndex::new(
                    dim,
                    ids.iter()
                        .flat_map(|&i| world.items[i].embedding.iter().copied())
                        .collect(),
                    ids.iter().map(|&i| world.items[i].appeal as f32).collect(),
                );
                (index, ids)
            })
            .collect();
        Ok(Market {
            scenario,
            world,
            event_category,
            user_weights,
            category_weights,
            affinity,
        })
    }

    /// Every policy over every seed, a day at a time, at most one day per `pace`: after each
    /// day, `on_day` gets each policy's means over the replicates (it returns false to stop,
    /// and then the days so far are returned). The days are those of [`Market::run`].
    pub fn run_paced(
        &self,
        pace: std::time::Duration,
        on_day: &mut dyn FnMut(LiveDay) -> bool,
    ) -> Result<Vec<PolicyRun>> {
        let t = Instant::now();
        let policies = self.scenario.policies.len();
        let mut runs: Vec<Vec<Run>> = (0..policies)
            .map(|p| {
                (0..self.scenario.seeds)
                    .map(|s| Run::new(self, p, s))
                    .collect()
            })
            .collect();
        let mut days: Vec<Vec<Vec<Day>>> = (0..policies)
            .map(|_| vec![Vec::new(); self.scenario.seeds as usize])
            .collect();
        'days: for day in 0..self.scenario.days {
            let due = t + pace * (day + 1);
            for (p, reps) in runs.iter_mut().enumerate() {
                let today: Vec<Day> = reps.iter_mut().filter_map(Run::step).collect();
                let n = today.len().max(1) as f64;
                let mean = |f: &dyn Fn(&Day) -> f64| today.iter().map(f).sum::<f64>() / n;
                let live = LiveDay {
                    day,
                    policy: self.scenario.policies[p].name.clone(),
                    sessions: mean(&|d| d.sessions as f64),
                    conversion: mean(&|d| d.conversion()),
                    revenue: mean(&|d| d.revenue),
                    margin: mean(&|d| d.margin),
                };
                for (r, d) in today.into_iter().enumerate() {
                    days[p][r].push(d);
                }
                if !on_day(live) {
                    break 'days;
                }
            }
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        }
        let seconds = t.elapsed().as_secs_f64();
        Ok(days
            .into_iter()
            .enumerate()
            .map(|(p, replicates)| PolicyRun {
                policy: self.scenario.policies[p].name.clone(),
                replicates,
                seconds,
            })
            .collect())
    }

    /// Every policy over every seed, replicates spread over `threads` threads.
    pub fn run(&self, threads: usize) -> Result<Vec<PolicyRun>> {
        let seeds: Vec<u64> = (0..self.scenario.seeds).collect();
        let mut out = Vec::new();
        for p in 0..self.scenario.policies.len() {
            let t = Instant::now();
            let replicates = over_seeds(&seeds, threads, &|seed| self.replicate(p, seed));
            out.push(PolicyRun {
                policy: self.scenario.policies[p].name.clone(),
                replicates,
                seconds: t.elapsed().as_secs_f64(),
            });
        }
        Ok(out)
    }

    /// The conditions of `day`: per item its competitor price (if any), elasticity factor,
    /// promo discount and availability; the traffic factor.
    fn conditions(&self, day: u32) -> Conditions {
        let n = self.world.items.len();
        let mut c = Conditions {
            competitor: vec![None; n],
            elasticity: vec![1.0; n],
            promo: vec![0.0; n],
            in_stock: vec![true; n],
            traffic: 1.0,
        };
        for (e, cat) in self.scenario.events.iter().zip(&self.event_category) {
            if !e.active(day) {
                continue;
            }
            if let Some(f) = e.traffic {
                c.traffic *= f;
            }
            for (i, item) in self.world.items.iter().enumerate() {
                if cat.is_some_and(|c| c != item.category) {
                    continue;
                }
                if let Some(f) = e.competitor_price {
                    c.competitor[i] = Some(f * item.base_price);
                }
                if let Some(f) = e.elasticity {
                    c.elasticity[i] *= f;
                }
                if let Some(d) = e.promo {
                    c.promo[i] = d;
                }
                if e.stock_out {
                    c.in_stock[i] = false;
                }
            }
        }
        c
    }

    /// Utility of item `i` at price `p` for user `u` (`None`: the average shopper, no
    /// affinity) under the day's conditions.
    fn utility(&self, u: Option<usize>, i: usize, p: f64, c: &Conditions) -> f64 {
        let item = &self.world.items[i];
        let beta = self.world.categories[item.category].elasticity;
        let (base, mult) = match u {
            Some(u) => (
                self.world.utility(u, i, p),
                self.world.users[u].price_sensitivity_mult,
            ),
            None => (item.appeal - beta * p.ln(), 1.0),
        };
        // An elasticity shift changes the slope, not the utility at the list price.
        let shifted = base - (c.elasticity[i] - 1.0) * beta * mult * (p / item.base_price).ln();
        match c.competitor[i] {
            Some(q) => shifted - self.scenario.competitor_weight * (p / q).ln().max(0.0),
            None => shifted,
        }
    }

    /// One replicate of policy `p` with seed `seed`, day after day.
    fn replicate(&self, p: usize, seed: u64) -> Vec<Day> {
        let mut run = Run::new(self, p, seed);
        std::iter::from_fn(|| run.step()).collect()
    }

    /// The list-price multiple in 0.5 … 1.5 (steps of 0.01) with the highest expected margin
    /// for an average shopper shown the item alone, under the day's conditions.
    fn optimal_price(&self, i: usize, c: &Conditions) -> f64 {
        let item = &self.world.items[i];
        let mut best = (item.base_price, f64::NEG_INFINITY);
        for step in 50..=150 {
            let p = item.base_price * f64::from(step) / 100.0;
            let e = self.utility(None, i, p, c).exp();
            let v = (p - item.cost) * e / (1.0 + e);
            if v > best.1 {
                best = (p, v);
            }
        }
        best.0
    }
}

/// A replicate in progress: its random streams and what its policy has learned; each
/// [`Run::step`] simulates one day. Batch runs step to the end at once; real-time runs pace
/// the steps, with the same results.
pub struct Run<'m> {
    market: &'m Market,
    policy: usize,
    day: u32,
    shoppers: ChaCha8Rng,
    own: ChaCha8Rng,
    /// Sales per item so far (the popularity recommender's order).
    sold: Vec<u64>,
    /// A learning pricing policy's state per item: over the grid's multipliers, a sale
    /// earning the margin (empty for the other pricing rules).
    learners: Vec<Policy>,
    /// Each item's price yesterday (before promos), for bounded moves.
    last_price: Vec<f64>,
}

impl<'m> Run<'m> {
    pub fn new(market: &'m Market, policy: usize, seed: u64) -> Self {
        let pricing = &market.scenario.policies[policy].pricing;
        let grid = pricing.grid();
        let learner = match pricing {
            Pricing::Thompson { .. } => Some(PolicyKind::Thompson),
            Pricing::Ucb1 { .. } => Some(PolicyKind::Ucb1),
            Pricing::EpsilonGreedy { epsilon, .. } => {
                Some(PolicyKind::EpsilonGreedy { epsilon: *epsilon })
            }
            _ => None,
        };
        let learners = market
            .world
            .items
            .iter()
            .filter_map(|item| {
                let margins = grid
                    .iter()
                    .map(|m| m * item.base_price - item.cost)
                    .collect();
                // The scenario checked ε when it was read.
                Policy::over(learner.clone()?, margins).ok()
            })
            .collect();
        let mut own = ChaCha8Rng::seed_from_u64(seed);
        own.set_stream(1 + policy as u64);
        Run {
            market,
            policy,
            day: 0,
            shoppers: ChaCha8Rng::seed_from_u64(seed),
            own,
            sold: vec![0; market.world.items.len()],
            learners,
            last_price: market.world.items.iter().map(|i| i.base_price).collect(),
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
        let spec = &m.scenario.policies[self.policy];
        let world = &m.world;
        let n = world.items.len();
        let grid: &[f64] = spec.pricing.grid();
        let c = m.conditions(day);
        // Each item's arm (learning policies) and price for the day, within the policy's
        // bounded move from yesterday's.
        let mut arm = vec![0usize; n];
        let mut prices = vec![0.0; n];
        for i in 0..n {
            let item = &world.items[i];
            let bounds = spec.max_move.map(|f| {
                let last = self.last_price[i];
                (last * (1.0 - f), last * (1.0 + f))
            });
            let p = if grid.is_empty() {
                let p = match &spec.pricing {
                    Pricing::CostPlus { markup } => item.cost * (1.0 + markup),
                    Pricing::ElasticityOptimal => m.optimal_price(i, &c),
                    Pricing::CompetitorMatch { undercut } => {
                        c.competitor[i].map_or(item.base_price, |q| q * (1.0 - undercut))
                    }
                    _ => item.base_price,
                };
                bounds.map_or(p, |(lo, hi)| p.clamp(lo, hi))
            } else {
                // Arms within the bound (the nearest one if none is).
                let price = |k: usize| grid[k] * item.base_price;
                let mut allowed: Vec<usize> = (0..grid.len())
                    .filter(|&k| bounds.is_none_or(|(lo, hi)| (lo..=hi).contains(&price(k))))
                    .collect();
                if allowed.is_empty() {
                    let last = self.last_price[i];
                    let near = (0..grid.len())
                        .min_by(|&a, &b| {
                            (price(a) - last).abs().total_cmp(&(price(b) - last).abs())
                        })
                        .unwrap_or(0);
                    allowed.push(near);
                }
                arm[i] = self.learners[i].choose_among(&allowed, &mut self.own);
                price(arm[i])
            };
            self.last_price[i] = p;
            prices[i] = p * (1.0 - c.promo[i]);
        }
        // Each session lands in a category (by its share of traffic) and is shown items of
        // that category in stock.
        let n_categories = world.categories.len();
        let mut available: Vec<Vec<usize>> = vec![Vec::new(); n_categories];
        for i in (0..n).filter(|&i| c.in_stock[i]) {
            available[world.items[i].category].push(i);
        }
        let arrivals = Poisson::new(m.scenario.sessions_per_day * c.traffic)
            .map_or(0, |d| d.sample(&mut self.shoppers) as u64);
        let mut today = Day {
            sessions: arrivals,
            ..Day::default()
        };
        // The popularity order is fixed for the day (sales so far, then appeal).
        let by_sales: Vec<Vec<usize>> = available
            .iter()
            .map(|items| {
                let mut v = items.clone();
                v.sort_by(|&a, &b| {
                    self.sold[b]
                        .cmp(&self.sold[a])
                        .then(world.items[b].appeal.total_cmp(&world.items[a].appeal))
                });
                v
            })
            .collect();
        let mut scratch = Vec::new();
        for _ in 0..arrivals {
            let u = m.user_weights.sample(&mut self.shoppers);
            let cat = m.category_weights.sample(&mut self.shoppers);
            let draw: f64 = self.shoppers.random();
            let items = &available[cat];
            let k = m.scenario.slate.min(items.len());
            let slate: Vec<usize> = match spec.recommend {
                Recommend::Popularity => by_sales[cat][..k].to_vec(),
                Recommend::Random => sample(&mut self.own, items.len(), k)
                    .into_iter()
                    .map(|j| items[j])
                    .collect(),
                Recommend::Affinity => {
                    let (index, ids) = &m.affinity[cat];
                    index
                        .top_k(
                            &world.users[u].embedding,
                            k,
                            &|j| !c.in_stock[ids[j]],
                            &mut scratch,
                        )
                        .into_iter()
                        .map(|j| ids[j as usize])
                        .collect()
                }
                Recommend::ExpectedMargin => {
                    let mut scored: Vec<(f64, usize)> = items
                        .iter()
                        .map(|&i| {
                            let e = m.utility(Some(u), i, prices[i], &c).exp();
                            ((prices[i] - world.items[i].cost) * e / (1.0 + e), i)
                        })
                        .collect();
                    if k > 0 {
                        scored.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0));
                    }
                    scored[..k].iter().map(|s| s.1).collect()
                }
            };
            // Multinomial logit over the slate and not buying (utility 0).
            let weights: Vec<f64> = slate
                .iter()
                .map(|&i| m.utility(Some(u), i, prices[i], &c).exp())
                .collect();
            let total = 1.0 + weights.iter().sum::<f64>();
            let mut acc = 0.0;
            let mut choice = None;
            for (j, w) in weights.iter().enumerate() {
                acc += w / total;
                if draw < acc {
                    choice = Some(slate[j]);
                    break;
                }
            }
            if !self.learners.is_empty() {
                for &i in &slate {
                    self.learners[i].update(arm[i], choice == Some(i));
                }
            }
            if let Some(i) = choice {
                self.sold[i] += 1;
                today.purchases += 1;
                today.revenue += prices[i];
                today.margin += prices[i] - world.items[i].cost;
                today.price_index += prices[i] / world.items[i].base_price;
            }
        }
        Some(today)
    }
}

struct Conditions {
    competitor: Vec<Option<f64>>,
    elasticity: Vec<f64>,
    promo: Vec<f64>,
    in_stock: Vec<bool>,
    traffic: f64,
}
