//! The shop simulation: shoppers of the environment (a synthetic world, or one calibrated on
//! the workspace's logs) arrive each day (Poisson with the weekly shape, or the log's own
//! daily counts replayed), land in a category (by its share of traffic), see a slate of that
//! category's items recommended by the policy at the policy's prices, and choose by the
//! environment's multinomial logit with a no-purchase option, under the scenario's events
//! and the stock left. Each policy meets the same shoppers in a replicate (the shopper
//! stream depends on the seed only), the clairvoyant oracle included, so a policy's regret
//! is a paired difference.

use std::collections::HashMap;
use std::time::Instant;

use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::Poisson;
use serde::Serialize;
use shoplab_synth::{World, WorldConfig};

use crate::env::Environment;
use crate::pricing::{Policy, PolicyKind};
use crate::scenario::{Arrivals, PolicySpec, Pricing, Recommend, Scenario};
use crate::topk::ItemIndex;
use crate::{Result, SimError, over_seeds};

/// Metrics of one day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Day {
    pub sessions: u64,
    /// Items shown (slate entries).
    pub impressions: u64,
    pub purchases: u64,
    pub revenue: f64,
    pub margin: f64,
    /// Sum over purchases of price / list price (see [`Day::mean_price_index`]).
    pub price_index: f64,
    /// Units left in stock at the end of the day (limited stock only).
    pub stock: Option<u64>,
    /// The oracle's margin less this policy's, same shoppers (when the oracle runs).
    pub regret: Option<f64>,
    /// The purchases the policy's own demand model expected: the sum over impressions of
    /// its predicted purchase probability (conversion runs and per-offer learners).
    pub predicted: Option<f64>,
}

impl Day {
    pub fn conversion(&self) -> f64 {
        self.purchases as f64 / self.sessions.max(1) as f64
    }

    /// The conversion the policy's model predicted.
    pub fn predicted_conversion(&self) -> Option<f64> {
        self.predicted.map(|p| p / self.sessions.max(1) as f64)
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
    /// 95% intervals of the means over replicates (low, high).
    pub conversion_ci: [f64; 2],
    pub revenue_ci: [f64; 2],
    pub margin_ci: [f64; 2],
    /// Mean over replicates (when the oracle runs).
    pub regret: Option<f64>,
    /// The first replicate's price of every item that day (empty over
    /// [`PRICE_LOG_ITEMS`] items).
    #[serde(skip)]
    pub prices: Vec<f32>,
}

impl LiveDay {
    /// The means (and 95% intervals) of one policy's day over its replicates.
    pub fn of(day: u32, policy: &str, replicates: &[Day]) -> Self {
        let n = replicates.len().max(1) as f64;
        let mean = |f: &dyn Fn(&Day) -> f64| replicates.iter().map(f).sum::<f64>() / n;
        let ci = |f: &dyn Fn(&Day) -> f64| {
            let e = Estimate::of(&replicates.iter().map(f).collect::<Vec<_>>());
            [e.low, e.high]
        };
        LiveDay {
            day,
            policy: policy.to_string(),
            sessions: mean(&|d| d.sessions as f64),
            conversion: mean(&|d| d.conversion()),
            revenue: mean(&|d| d.revenue),
            margin: mean(&|d| d.margin),
            conversion_ci: ci(&|d| d.conversion()),
            revenue_ci: ci(&|d| d.revenue),
            margin_ci: ci(&|d| d.margin),
            regret: replicates
                .first()
                .and_then(|d| d.regret)
                .map(|_| mean(&|d| d.regret.unwrap_or(0.0))),
            prices: Vec::new(),
        }
    }
}

/// One policy over every seed.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyRun {
    pub policy: String,
    /// Days of each replicate.
    pub replicates: Vec<Vec<Day>>,
    pub seconds: f64,
    /// The first replicate's price of every item, day by day (promos included); empty for
    /// catalogs over [`PRICE_LOG_ITEMS`] items.
    #[serde(skip)]
    pub prices: Vec<Vec<f32>>,
}

/// The largest catalog whose daily prices a run keeps (for price trajectories).
pub const PRICE_LOG_ITEMS: usize = 20_000;

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
    /// Each day's means and intervals over the replicates (what real time streams).
    pub fn daily(&self) -> Vec<LiveDay> {
        let days = self.replicates.iter().map(Vec::len).min().unwrap_or(0);
        (0..days)
            .map(|d| {
                let today: Vec<Day> = self.replicates.iter().map(|r| r[d]).collect();
                let mut live = LiveDay::of(d as u32, &self.policy, &today);
                live.prices = self.prices.get(d).cloned().unwrap_or_default();
                live
            })
            .collect()
    }

    /// Totals over the horizon, mean over replicates: conversion, revenue, margin; the
    /// regret against the oracle when it ran; the mean squared error of the predicted
    /// daily conversion when the policy predicts one.
    pub fn summary(&self) -> Vec<(&'static str, Estimate)> {
        let total = |f: &dyn Fn(&[Day]) -> f64| -> Vec<f64> {
            self.replicates.iter().map(|r| f(r)).collect()
        };
        let conversion = total(&|r| {
            r.iter().map(|d| d.purchases).sum::<u64>() as f64
                / r.iter().map(|d| d.sessions).sum::<u64>().max(1) as f64
        });
        let mut out = vec![
            ("conversion", Estimate::of(&conversion)),
            (
                "revenue",
                Estimate::of(&total(&|r| r.iter().map(|d| d.revenue).sum())),
            ),
            (
                "margin",
                Estimate::of(&total(&|r| r.iter().map(|d| d.margin).sum())),
            ),
        ];
        let first = self.replicates.first().and_then(|r| r.first());
        if first.is_some_and(|d| d.regret.is_some()) {
            out.push((
                "regret",
                Estimate::of(&total(&|r| r.iter().filter_map(|d| d.regret).sum())),
            ));
        }
        if first.is_some_and(|d| d.predicted.is_some()) {
            out.push((
                "conversion_mse",
                Estimate::of(&total(&|r| {
                    let errors: Vec<f64> = r
                        .iter()
                        .filter(|d| d.sessions > 0)
                        .filter_map(|d| Some((d.predicted_conversion()? - d.conversion()).powi(2)))
                        .collect();
                    errors.iter().sum::<f64>() / errors.len().max(1) as f64
                })),
            ));
        }
        out
    }
}

/// A trained model's view of the simulated shop, built by the engine from the model lab's
/// registry: a score per shopper and item (row-major, the environment's users × items; a
/// shopper the model does not know gets the mean row), and for a conversion model the
/// price term, so that `P(buy) = σ(score − slope_i · ln(price / reference_i))`.
#[derive(Debug, Clone)]
pub struct ModelScores {
    pub scores: Vec<f32>,
    pub price: Option<PriceTerm>,
}

#[derive(Debug, Clone)]
pub struct PriceTerm {
    pub slope: Vec<f32>,
    pub reference: Vec<f64>,
}

impl ModelScores {
    fn purchase_probability(&self, row: usize, i: usize, price: f64) -> f64 {
        let s = f64::from(self.scores[row + i]);
        let logit = match &self.price {
            Some(t) => s - f64::from(t.slope[i]) * (price / t.reference[i]).ln(),
            None => s,
        };
        1.0 / (1.0 + (-logit).exp())
    }
}

/// The environment of a scenario, and what its events and policies refer to.
pub struct Market {
    pub scenario: Scenario,
    pub env: Environment,
    /// The category each event applies to (`None`: all).
    event_category: Vec<Option<usize>>,
    /// The items each event launches.
    launched: Vec<Vec<usize>>,
    /// Mean sessions per day.
    rate: f64,
    /// The trained runs the recommenders use, by run id.
    models: HashMap<i64, ModelScores>,
    user_weights: WeightedIndex<f64>,
    /// The categories' shares of sessions.
    category_weights: WeightedIndex<f64>,
    /// Per category: its items' embeddings and appeal, and their item numbers (the
    /// affinity recommender scans the session's category only).
    affinity: Vec<(ItemIndex, Vec<usize>)>,
}

impl Market {
    /// The scenario in its synthetic world (a calibrated world comes from the workspace:
    /// [`Market::with_env`]).
    pub fn new(scenario: Scenario) -> Result<Self> {
        let w = &scenario.world;
        if let Some(id) = w.calibration {
            return Err(SimError::Config(format!(
                "the scenario's world is calibration {id}: it is read from a workspace"
            )));
        }
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
        let origin = format!(
            "synthetic world (seed {}, {} users, {} items, {} categories)",
            w.seed, w.users, w.items, w.categories
        );
        Self::with_env(scenario, Environment::from_world(&world, origin))
    }

    /// The scenario in a given environment.
    pub fn with_env(scenario: Scenario, env: Environment) -> Result<Self> {
        let mut event_category = Vec::new();
        let mut launched = Vec::new();
        for e in &scenario.events {
            event_category.push(match &e.category {
                None => None,
                Some(code) => Some(
                    env.categories
                        .iter()
                        .position(|c| &c.code == code)
                        .ok_or_else(|| {
                            let known: Vec<&str> = env
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
            let items = e
                .launch
                .iter()
                .map(|id| {
                    env.items.iter().position(|i| &i.id == id).ok_or_else(|| {
                        SimError::Config(format!(
                            "event on day {}: no item \"{id}\" to launch",
                            e.day
                        ))
                    })
                })
                .collect::<Result<Vec<usize>>>()?;
            launched.push(items);
        }
        if scenario.arrivals == Arrivals::Replay && env.logged_sessions.is_empty() {
            return Err(SimError::Config(
                "arrivals = \"replay\" needs a calibrated world (a logged day-by-day count)".into(),
            ));
        }
        let rate = scenario.sessions_per_day.unwrap_or_else(|| {
            if env.logged_sessions.is_empty() {
                1_000.0
            } else {
                env.logged_sessions.iter().sum::<u64>() as f64 / env.logged_sessions.len() as f64
            }
        });
        let user_weights = WeightedIndex::new(env.users.iter().map(|u| u.activity))
            .map_err(|e| SimError::Config(format!("user activity: {e}")))?;
        let category_weights = WeightedIndex::new(env.categories.iter().map(|c| c.share))
            .map_err(|e| SimError::Config(format!("category shares: {e}")))?;
        let dim = env.dim();
        let affinity = (0..env.categories.len())
            .map(|cat| {
                let ids: Vec<usize> = (0..env.items.len())
                    .filter(|&i| env.items[i].category == cat)
                    .collect();
                let index = ItemIndex::new(
                    dim,
                    ids.iter()
                        .flat_map(|&i| env.items[i].embedding.iter().copied())
                        .collect(),
                    ids.iter().map(|&i| env.items[i].appeal as f32).collect(),
                );
                (index, ids)
            })
            .collect();
        Ok(Market {
            scenario,
            env,
            event_category,
            launched,
            rate,
            models: HashMap::new(),
            user_weights,
            category_weights,
            affinity,
        })
    }

    /// Gives the recommenders `run:<id>` and `expected-revenue:<id>` their model.
    pub fn attach(&mut self, run: i64, scores: ModelScores) -> Result<()> {
        let (n_users, n_items) = (self.env.users.len(), self.env.items.len());
        let bad_price = scores
            .price
            .as_ref()
            .is_some_and(|t| t.slope.len() != n_items || t.reference.len() != n_items);
        if scores.scores.len() != n_users * n_items || bad_price {
            return Err(SimError::Config(format!(
                "run {run}: its scores do not cover the {n_users} shoppers × {n_items} items"
            )));
        }
        let wants_price = self
            .scenario
            .policies
            .iter()
            .any(|p| p.recommend == Recommend::ExpectedRevenue(run));
        if wants_price && scores.price.is_none() {
            return Err(SimError::Config(format!(
                "expected-revenue:{run} needs a conversion run (one that predicts purchases at a price)"
            )));
        }
        self.models.insert(run, scores);
        Ok(())
    }

    /// The policies to run: the scenario's, then the oracle when it runs.
    fn specs(&self) -> Result<Vec<PolicySpec>> {
        for run in self.scenario.model_runs() {
            if !self.models.contains_key(&run) {
                return Err(SimError::Config(format!(
                    "run {run} is a recommender of the scenario, but its model was not given"
                )));
            }
        }
        let mut specs = self.scenario.policies.clone();
        if self.scenario.oracle {
            specs.push(PolicySpec {
                name: ORACLE.into(),
                recommend: Recommend::ExpectedMargin,
                pricing: Pricing::ElasticityOptimal,
                max_move: None,
            });
        }
        Ok(specs)
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
        let specs = self.specs()?;
        let mut runs: Vec<Vec<Run>> = specs
            .iter()
            .enumerate()
            .map(|(p, spec)| {
                (0..self.scenario.seeds)
                    .map(|s| Run::new(self, spec, p as u64, s))
                    .collect()
            })
            .collect();
        let mut days: Vec<Vec<Vec<Day>>> = (0..specs.len())
            .map(|_| vec![Vec::new(); self.scenario.seeds as usize])
            .collect();
        let mut prices: Vec<Vec<Vec<f32>>> = vec![Vec::new(); specs.len()];
        'days: for day in 0..self.scenario.days {
            let due = t + pace * (day + 1);
            let mut today: Vec<Vec<Day>> = runs
                .iter_mut()
                .map(|reps| reps.iter_mut().filter_map(Run::step).collect())
                .collect();
            self.set_regret(&mut today);
            for (p, today) in today.into_iter().enumerate() {
                let mut live = LiveDay::of(day, &specs[p].name, &today);
                if let Some(first) = runs[p].first().and_then(|r| r.price_log.last()) {
                    live.prices.clone_from(first);
                    prices[p].push(first.clone());
                }
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
                policy: specs[p].name.clone(),
                replicates,
                seconds,
                prices: std::mem::take(&mut prices[p]),
            })
            .collect())
    }

    /// Every policy over every seed, replicates spread over `threads` threads.
    pub fn run(&self, threads: usize) -> Result<Vec<PolicyRun>> {
        let seeds: Vec<u64> = (0..self.scenario.seeds).collect();
        let specs = self.specs()?;
        let mut out = Vec::new();
        for (p, spec) in specs.iter().enumerate() {
            let t = Instant::now();
            let results = over_seeds(&seeds, threads, &|seed| {
                let mut run = Run::new(self, spec, p as u64, seed);
                let days: Vec<Day> = std::iter::from_fn(|| run.step()).collect();
                (days, run.price_log)
            });
            let mut prices = Vec::new();
            let mut replicates = Vec::with_capacity(results.len());
            for (r, (days, log)) in results.into_iter().enumerate() {
                if r == 0 {
                    prices = log;
                }
                replicates.push(days);
            }
            out.push(PolicyRun {
                policy: spec.name.clone(),
                replicates,
                seconds: t.elapsed().as_secs_f64(),
                prices,
            });
        }
        // Regret per replicate and day: the oracle (last) against each policy.
        for day in 0..self.scenario.days as usize {
            let mut today: Vec<Vec<Day>> = out
                .iter()
                .map(|r| r.replicates.iter().map(|rep| rep[day]).collect())
                .collect();
            self.set_regret(&mut today);
            for (run, today) in out.iter_mut().zip(today) {
                for (rep, d) in run.replicates.iter_mut().zip(today) {
                    rep[day] = d;
                }
            }
        }
        Ok(out)
    }

    /// Sets each policy's regret on one day, `days[policy][replicate]`, when the oracle (the
    /// last policy) ran.
    fn set_regret(&self, days: &mut [Vec<Day>]) {
        if !self.scenario.oracle {
            return;
        }
        let Some(oracle) = days.last().cloned() else {
            return;
        };
        for policy in days.iter_mut() {
            for (day, theirs) in policy.iter_mut().zip(&oracle) {
                day.regret = Some(theirs.margin - day.margin);
            }
        }
    }

    /// The conditions of `day`: per item its competitor price (if any), elasticity factor,
    /// promo discount and availability; the traffic factor.
    fn conditions(&self, day: u32) -> Conditions {
        let n = self.env.items.len();
        let mut c = Conditions {
            competitor: vec![None; n],
            elasticity: vec![1.0; n],
            promo: vec![0.0; n],
            in_stock: vec![true; n],
            traffic: 1.0,
        };
        for (e, items) in self.scenario.events.iter().zip(&self.launched) {
            if day < e.day {
                for &i in items {
                    c.in_stock[i] = false;
                }
            }
        }
        for (e, cat) in self.scenario.events.iter().zip(&self.event_category) {
            if !e.active(day) {
                continue;
            }
            if let Some(f) = e.traffic {
                c.traffic *= f;
            }
            for (i, item) in self.env.items.iter().enumerate() {
                if cat.is_some_and(|c| c != item.category) {
                    continue;
                }
                if let Some(f) = e.competitor_price {
                    c.competitor[i] = Some(f * item.list_price);
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

    /// The list-price multiple in 0.5 … 1.5 (steps of 0.01) with the highest expected margin
    /// for an average shopper shown the item alone, under the day's conditions.
    fn optimal_price(&self, i: usize, c: &Conditions) -> f64 {
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

    /// The day's sessions: Poisson at the rate times the weekly shape, or the log's count
    /// for the day; times the traffic events'.
    fn arrivals(&self, day: u32, traffic: f64, rng: &mut ChaCha8Rng) -> u64 {
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
}

/// The clairvoyant policy's name.
pub const ORACLE: &str = "oracle";

/// A replicate in progress: its random streams and what its policy has learned; each
/// [`Run::step`] simulates one day. Batch runs step to the end at once; real-time runs pace
/// the steps, with the same results.
pub struct Run<'m> {
    market: &'m Market,
    spec: &'m PolicySpec,
    day: u32,
    shoppers: ChaCha8Rng,
    own: ChaCha8Rng,
    /// Sales per item so far (the popularity recommender's order).
    sold: Vec<u64>,
    /// Impressions per item so far.
    shown: Vec<u64>,
    /// Units left per item (limited stock only).
    stock: Option<Vec<u64>>,
    /// A learning pricing policy's state per item: over the grid's multipliers, a sale
    /// earning the margin (empty for the other pricing rules).
    learners: Vec<Policy>,
    learner: Option<PolicyKind>,
    /// Each item's price yesterday (before promos), for bounded moves.
    last_price: Vec<f64>,
    /// Each day's prices (first replicate of a catalog up to [`PRICE_LOG_ITEMS`] items).
    pub price_log: Vec<Vec<f32>>,
    log_prices: bool,
}

impl<'m> Run<'m> {
    /// A replicate of `spec` (the `stream`-th policy) with `seed`.
    pub fn new(market: &'m Market, spec: &'m PolicySpec, stream: u64, seed: u64) -> Self {
        let grid = spec.pricing.grid();
        let learner = match &spec.pricing {
            Pricing::Thompson { .. } => Some(PolicyKind::Thompson),
            Pricing::ThompsonPoisson { .. } => Some(PolicyKind::ThompsonPoisson),
            Pricing::ThompsonInventory { .. } => Some(PolicyKind::ThompsonInventory),
            Pricing::Ucb1 { .. } => Some(PolicyKind::Ucb1),
            Pricing::EpsilonGreedy { epsilon, .. } => {
                Some(PolicyKind::EpsilonGreedy { epsilon: *epsilon })
            }
            _ => None,
        };
        let items = &market.env.items;
        let learners = items
            .iter()
            .filter_map(|item| {
                let margins = grid
                    .iter()
                    .map(|m| m * item.list_price - item.cost)
                    .collect();
                // The scenario checked ε when it was read.
                Policy::over(learner.clone()?, margins).ok()
            })
            .collect();
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
            stock: market.scenario.stock.map(|units| vec![units; items.len()]),
            learners,
            learner,
            last_price: items.iter().map(|i| i.list_price).collect(),
            price_log: Vec::new(),
            log_prices: seed == 0 && items.len() <= PRICE_LOG_ITEMS,
        }
    }

    /// The units item `i` may sell per impression for its stock to last the horizon
    /// (inventory-constrained Thompson sampling's budget).
    fn stock_rate(&self, i: usize, day: u32) -> f64 {
        let m = self.market;
        let left = self.stock.as_ref().map_or(f64::INFINITY, |s| s[i] as f64);
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

    /// Simulates the next day; `None` past the horizon.
    pub fn step(&mut self) -> Option<Day> {
        let m = self.market;
        if self.day >= m.scenario.days {
            return None;
        }
        let day = self.day;
        self.day += 1;
        let spec = self.spec;
        let env = &m.env;
        let n = env.items.len();
        let grid: &[f64] = spec.pricing.grid();
        let mut c = m.conditions(day);
        if let Some(stock) = &self.stock {
            for (open, left) in c.in_stock.iter_mut().zip(stock) {
                *open &= *left > 0;
            }
        }
        // Each item's arm (learning policies) and price for the day, within the policy's
        // bounded move from yesterday's.
        let mut arm = vec![0usize; n];
        let mut prices = vec![0.0; n];
        for i in 0..n {
            let item = &env.items[i];
            let bounds = spec.max_move.map(|f| {
                let last = self.last_price[i];
                (last * (1.0 - f), last * (1.0 + f))
            });
            let p = if grid.is_empty() {
                let p = match &spec.pricing {
                    Pricing::CostPlus { markup } => item.cost * (1.0 + markup),
                    Pricing::ElasticityOptimal => m.optimal_price(i, &c),
                    Pricing::CompetitorMatch { undercut } => {
                        c.competitor[i].map_or(item.list_price, |q| q * (1.0 - undercut))
                    }
                    _ => item.list_price,
                };
                bounds.map_or(p, |(lo, hi)| p.clamp(lo, hi))
            } else {
                // Arms within the bound (the nearest one if none is).
                let price = |k: usize| grid[k] * item.list_price;
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
                arm[i] = if self.learner == Some(PolicyKind::ThompsonInventory) && c.in_stock[i] {
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
                };
                price(arm[i])
            };
            self.last_price[i] = p;
            prices[i] = p * (1.0 - c.promo[i]);
        }
        if self.log_prices {
            self.price_log
                .push(prices.iter().map(|&p| p as f32).collect());
        }
        // Each session lands in a category (by its share of traffic) and is shown items of
        // that category available today (and not sold out since the morning).
        let n_categories = env.categories.len();
        let mut available: Vec<Vec<usize>> = vec![Vec::new(); n_categories];
        for i in (0..n).filter(|&i| c.in_stock[i]) {
            available[env.items[i].category].push(i);
        }
        let arrivals = m.arrivals(day, c.traffic, &mut self.shoppers);
        let mut today = Day {
            sessions: arrivals,
            ..Day::default()
        };
        let model = spec.recommend.run().and_then(|r| m.models.get(&r));
        let predicts = matches!(spec.recommend, Recommend::ExpectedRevenue(_))
            || matches!(
                self.learner,
                Some(
                    PolicyKind::Thompson
                        | PolicyKind::ThompsonInventory
                        | PolicyKind::Ucb1
                        | PolicyKind::EpsilonGreedy { .. }
                )
            );
        let mut predicted = 0.0;
        let mut units_today = vec![
            0u64;
            if self.learner == Some(PolicyKind::ThompsonPoisson) {
                n
            } else {
                0
            }
        ];
        // The popularity order is fixed for the day (sales so far, then appeal).
        let by_sales: Vec<Vec<usize>> = available
            .iter()
            .map(|items| {
                let mut v = items.clone();
                v.sort_by(|&a, &b| {
                    self.sold[b]
                        .cmp(&self.sold[a])
                        .then(env.items[b].appeal.total_cmp(&env.items[a].appeal))
                });
                v
            })
            .collect();
        let mut scratch = Vec::new();
        let mut scored: Vec<(f64, usize)> = Vec::new();
        for _ in 0..arrivals {
            let u = m.user_weights.sample(&mut self.shoppers);
            let cat = m.category_weights.sample(&mut self.shoppers);
            let draw: f64 = self.shoppers.random();
            let stock = &self.stock;
            let open = |i: usize| stock.as_ref().is_none_or(|s| s[i] > 0);
            let items = &available[cat];
            let k = m.scenario.slate.min(items.len());
            let mut top = |score: &dyn Fn(usize) -> f64| -> Vec<usize> {
                scored.clear();
                scored.extend(items.iter().filter(|&&i| open(i)).map(|&i| (score(i), i)));
                let k = k.min(scored.len());
                if k > 0 {
                    scored.select_nth_unstable_by(k - 1, |a, b| {
                        b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
                    });
                }
                scored[..k].iter().map(|s| s.1).collect()
            };
            let slate: Vec<usize> = match spec.recommend {
                Recommend::Popularity => by_sales[cat]
                    .iter()
                    .copied()
                    .filter(|&i| open(i))
                    .take(k)
                    .collect(),
                Recommend::Random => sample(&mut self.own, items.len(), k)
                    .into_iter()
                    .map(|j| items[j])
                    .filter(|&i| open(i))
                    .collect(),
                Recommend::Affinity => {
                    let (index, ids) = &m.affinity[cat];
                    index
                        .top_k(
                            &env.users[u].embedding,
                            k,
                            &|j| !c.in_stock[ids[j]] || !open(ids[j]),
                            &mut scratch,
                        )
                        .into_iter()
                        .map(|j| ids[j as usize])
                        .collect()
                }
                Recommend::ExpectedMargin => top(&|i| {
                    let e = m.utility(Some(u), i, prices[i], &c).exp();
                    (prices[i] - env.items[i].cost) * e / (1.0 + e)
                }),
                Recommend::Run(_) => {
                    let model = model.expect("checked by Market::specs");
                    top(&|i| f64::from(model.scores[u * n + i]))
                }
                Recommend::ExpectedRevenue(_) => {
                    let model = model.expect("checked by Market::specs");
                    top(&|i| prices[i] * model.purchase_probability(u * n, i, prices[i]))
                }
            };
            today.impressions += slate.len() as u64;
            for &i in &slate {
                self.shown[i] += 1;
            }
            if predicts {
                predicted += slate
                    .iter()
                    .map(|&i| match (spec.recommend, model) {
                        (Recommend::ExpectedRevenue(_), Some(model)) => {
                            model.purchase_probability(u * n, i, prices[i])
                        }
                        _ => self.learners[i].mean_rate(arm[i]),
                    })
                    .sum::<f64>();
            }
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
            if !self.learners.is_empty() && units_today.is_empty() {
                for &i in &slate {
                    self.learners[i].update(arm[i], choice == Some(i));
                }
            }
            if let Some(i) = choice {
                self.sold[i] += 1;
                if let Some(stock) = &mut self.stock {
                    stock[i] -= 1;
                }
                if let Some(u) = units_today.get_mut(i) {
                    *u += 1;
                }
                today.purchases += 1;
                today.revenue += prices[i];
                today.margin += prices[i] - env.items[i].cost;
                today.price_index += prices[i] / env.items[i].list_price;
            }
        }
        // Gamma/Poisson learners learn once a day, from the units each offered item sold.
        for (i, &units) in units_today.iter().enumerate() {
            if c.in_stock[i] {
                self.learners[i].update_units(arm[i], units);
            }
        }
        today.stock = self.stock.as_ref().map(|s| s.iter().sum());
        today.predicted = predicts.then_some(predicted);
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
