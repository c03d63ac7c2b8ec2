//! The shop simulation: shoppers of the environment (a synthetic world, or one calibrated on
//! the workspace's logs) arrive each day (Poisson with the weekly shape, or the log's own
//! daily counts replayed), land in a category (by its share of traffic), see a slate of that
//! category's items recommended by the policy at the policy's prices, and choose by the
//! environment's multinomial logit with a no-purchase option, under the scenario's events
//! and the stock left. Each policy meets the same shoppers in a replicate (the shopper
//! stream depends on the seed only), the clairvoyant oracle included, so a policy's regret
//! is a paired difference.
//!
//! A day of a replicate ([`Run::step`]) in steps, one module each: the day's conditions
//! from the scenario's events (`events`), each item's price under the policy's rule or
//! bandit (`price`), then per session the shopper's arrival and logit choice (`shoppers`)
//! among the slate the recommender picks (`slate`), with the units left (`stock`). `report`
//! holds what a run returns; `scores` a trained model's view of the shop.

mod events;
mod price;
mod report;
mod run;
mod scores;
mod shoppers;
mod slate;
mod stock;

use std::collections::HashMap;
use std::time::Instant;

use rand::distr::weighted::WeightedIndex;
use shoplab_synth::{World, WorldConfig};

use self::events::EventTarget;
pub use self::report::{CategoryResult, CategoryTotals, Day, LiveDay, PRICE_LOG_ITEMS, PolicyRun};
pub use self::run::Run;
pub use self::scores::{ModelScores, PriceTerm};
use crate::env::Environment;
use crate::rules::PriceRules;
use crate::scenario::{Arrivals, PolicySpec, Pricing, Recommend, Scenario};
use crate::topk::ItemIndex;
use crate::{Result, SimError, over_seeds};

/// The clairvoyant policy's name.
pub const ORACLE: &str = "oracle";

/// The environment of a scenario, and what its events and policies refer to.
pub struct Market {
    pub scenario: Scenario,
    pub env: Environment,
    /// What each event applies to.
    event_targets: Vec<EventTarget>,
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
    /// The scenario's price rules, per category.
    rules: PriceRules,
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
        let event_targets = events::resolve(&scenario.events, &env)?;
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
        let affinity = affinity_indexes(&env);
        let rules = PriceRules::resolve(&scenario.rules, &env)?;
        Ok(Market {
            scenario,
            env,
            event_targets,
            rate,
            models: HashMap::new(),
            user_weights,
            category_weights,
            affinity,
            rules,
        })
    }

    /// Keeps `share` of the day's sessions (the scenario's, else the calibrated log's, else
    /// 1,000): an A/B test arm's part of the traffic.
    pub fn share_traffic(&mut self, share: f64) {
        self.rate *= share;
        self.scenario.sessions_per_day = Some(self.rate);
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
                categories: self.category_codes(),
                by_category: runs[p].iter().map(|r| r.by_category.clone()).collect(),
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
                (days, run.price_log, run.by_category)
            });
            let mut prices = Vec::new();
            let mut replicates = Vec::with_capacity(results.len());
            let mut by_category = Vec::with_capacity(results.len());
            for (r, (days, log, totals)) in results.into_iter().enumerate() {
                if r == 0 {
                    prices = log;
                }
                replicates.push(days);
                by_category.push(totals);
            }
            out.push(PolicyRun {
                policy: spec.name.clone(),
                replicates,
                categories: self.category_codes(),
                by_category,
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

    /// The categories' codes, in the environment's order.
    fn category_codes(&self) -> Vec<String> {
        self.env.categories.iter().map(|c| c.code.clone()).collect()
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
}

/// Per category: an index of its items' embeddings and appeal, and their item numbers.
fn affinity_indexes(env: &Environment) -> Vec<(ItemIndex, Vec<usize>)> {
    let dim = env.dim();
    (0..env.categories.len())
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
        .collect()
}
