//! The simulation lab behind the engine: what-if scenarios (batch and real time) stored in
//! `sims` / `sim_metrics`, the environment calibrated on the workspace's sessions, and the
//! trained runs a scenario's recommenders use.

use std::collections::HashMap;

use shoplab_data::simlab::{
    self, CalibrationCategoryRow, CalibrationItemRow, CalibrationRow, ChoiceRow, SimCategoryRow,
    SimMetricRow, SimRow,
};
use shoplab_sim::calibrate::{
    CalibrateOptions, Calibration, ChoiceLog, LoggedItem, LoggedSession, calibrate,
};
use shoplab_sim::market::{Day, ModelScores, PriceTerm};
use shoplab_sim::{Environment, LiveDay, Market, PolicyRun, Scenario};

use crate::{EngineError, Result, Session, SimReport};

/// Shoppers × items a run's scores may cover in a simulation (4 bytes each).
const MAX_SCORES: usize = 50_000_000;

/// A scenario ready to run: its world built and the trained runs it names loaded, so a
/// front-end can show what it will simulate (its items) before the first day.
pub struct PreparedSimulation {
    market: Market,
    scenario: String,
}

/// One item of a prepared simulation, as the front-ends show it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SimItem {
    pub item_id: String,
    pub category: String,
    pub list_price: f64,
}

impl PreparedSimulation {
    /// The simulated shop's items, in the order of the price trajectories of
    /// [`LiveDay::prices`].
    pub fn items(&self) -> Vec<SimItem> {
        let env = &self.market.env;
        env.items
            .iter()
            .map(|i| SimItem {
                item_id: i.id.clone(),
                category: env.categories[i.category].code.clone(),
                list_price: i.list_price,
            })
            .collect()
    }
}

/// A stored calibration.
#[derive(Debug, Clone)]
pub struct CalibrationReport {
    pub calibration_id: i64,
    pub run_id: Option<i64>,
    pub calibration: Calibration,
}

impl Session {
    /// Runs a what-if scenario (TOML text; `origin` names it in errors) over its seeds, or
    /// `seeds` when given, and stores it: `sims` gets the scenario, `sim_metrics` every
    /// policy's daily sessions, purchases, conversion, revenue, margin and mean price index
    /// (price paid / list price) per replicate, `sim_categories` its totals per replicate
    /// and category.
    pub fn simulate(
        &self,
        scenario: &str,
        origin: &str,
        seeds: Option<u64>,
        threads: usize,
    ) -> Result<SimReport> {
        let market = self.market(scenario, origin, seeds)?;
        self.run_market(&market, scenario, None, threads, &mut |_| true)
    }

    /// The same simulation in real time: one simulated day per `day` of wall time, each
    /// day's per-policy means streamed to `on` as it is simulated (`on` returns false to
    /// stop early; the days so far are stored). Same seeds, same results as
    /// [`Session::simulate`].
    pub fn simulate_live(
        &self,
        scenario: &str,
        origin: &str,
        seeds: Option<u64>,
        day: std::time::Duration,
        on: &mut dyn FnMut(&LiveDay) -> bool,
    ) -> Result<SimReport> {
        let market = self.market(scenario, origin, seeds)?;
        self.run_market(&market, scenario, Some(day), 1, on)
    }

    /// Prepares a scenario (TOML text; `origin` names it in errors) for
    /// [`Session::run_prepared`], with `seeds` replicates when given.
    pub fn prepare_simulation(
        &self,
        scenario: &str,
        origin: &str,
        seeds: Option<u64>,
    ) -> Result<PreparedSimulation> {
        Ok(PreparedSimulation {
            market: self.market(scenario, origin, seeds)?,
            scenario: scenario.to_string(),
        })
    }

    /// Runs a prepared scenario and stores it: in batch over `threads`, or paced at one day
    /// per `pace`, each day's means streamed to `on` (false stops it; the days so far are
    /// stored).
    pub fn run_prepared(
        &self,
        prepared: &PreparedSimulation,
        pace: Option<std::time::Duration>,
        threads: usize,
        on: &mut dyn FnMut(&LiveDay) -> bool,
    ) -> Result<SimReport> {
        self.run_market(&prepared.market, &prepared.scenario, pace, threads, on)
    }

    /// Runs a market built by [`Session::market`] and stores it, `scenario` being its
    /// text: in batch over `threads`, or paced at one day per `pace`, each day's means
    /// going over a bounded tokio channel to `on`.
    fn run_market(
        &self,
        market: &Market,
        scenario: &str,
        pace: Option<std::time::Duration>,
        threads: usize,
        on: &mut dyn FnMut(&LiveDay) -> bool,
    ) -> Result<SimReport> {
        let t = std::time::Instant::now();
        let runs = match pace {
            None => market.run(threads)?,
            Some(day) => Self::run_paced(market, day, on)?,
        };
        self.store_runs(scenario, &market.scenario, t.elapsed().as_secs_f64(), runs)
    }

    fn run_paced(
        market: &Market,
        day: std::time::Duration,
        on: &mut dyn FnMut(&LiveDay) -> bool,
    ) -> Result<Vec<PolicyRun>> {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<LiveDay>(16);
        std::thread::scope(|s| -> Result<Vec<PolicyRun>> {
            // The sender moves to the producer: when it is done, the channel closes and the
            // listener's loop ends. A closed channel (the listener stopped) stops the producer.
            let producer =
                s.spawn(move || market.run_paced(day, &mut |d| tx.blocking_send(d).is_ok()));
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .map_err(|e| EngineError::Io {
                    context: "starting the real-time runtime".into(),
                    source: e,
                })?;
            runtime.block_on(async {
                while let Some(d) = rx.recv().await {
                    if !on(&d) {
                        break;
                    }
                }
            });
            drop(rx);
            producer
                .join()
                .map_err(|_| EngineError::Job("the simulation thread panicked".into()))?
                .map_err(EngineError::from)
        })
    }

    /// The scenario's market: its world (synthetic, or a stored calibration), and the
    /// models of the trained runs its recommenders name.
    fn market(&self, scenario: &str, origin: &str, seeds: Option<u64>) -> Result<Market> {
        let mut s = Scenario::from_toml(scenario, origin)?;
        if let Some(n) = seeds {
            s.seeds = n.max(1);
        }
        self.scenario_market(s)
    }

    /// [`Session::market`] of a parsed scenario.
    pub(crate) fn scenario_market(&self, s: Scenario) -> Result<Market> {
        let mut market = match s.world.calibration {
            Some(id) => {
                let env = self.environment(id)?;
                Market::with_env(s, env)?
            }
            None => Market::new(s)?,
        };
        for run in market.scenario.model_runs() {
            let scores = self.model_scores(run, &market.env)?;
            market.attach(run, scores)?;
        }
        Ok(market)
    }

    /// Stores a simulation's scenario and every policy's daily metrics per replicate.
    pub(crate) fn store_runs(
        &self,
        scenario: &str,
        s: &Scenario,
        seconds: f64,
        runs: Vec<PolicyRun>,
    ) -> Result<SimReport> {
        let sim = SimRow {
            name: &s.name,
            scenario,
            seeds: s.seeds as i64,
            days: s.days,
            seconds,
        };
        let sim_id =
            simlab::store_simulation(&self.ws, &sim, metric_rows(&runs), &category_rows(&runs))?;
        Ok(SimReport {
            sim_id,
            name: s.name.clone(),
            runs,
        })
    }

    /// Fits the simulator's environment to the workspace's sessions (views and purchases
    /// with prices; see [`shoplab_sim::calibrate`]) and stores it as a new calibration.
    /// With `run`, the affinities are that trained run's user and item vectors.
    pub fn calibrate(
        &self,
        opts: &CalibrateOptions,
        run: Option<i64>,
    ) -> Result<CalibrationReport> {
        let log = self.choice_log()?;
        self.calibrate_log(log, opts, run, None)
    }

    /// [`Session::calibrate`] on sessions computed elsewhere (`computed_on` says where,
    /// recorded in the calibration's origin).
    pub(crate) fn calibrate_log(
        &self,
        mut log: ChoiceLog,
        opts: &CalibrateOptions,
        run: Option<i64>,
        computed_on: Option<&str>,
    ) -> Result<CalibrationReport> {
        if let Some(run_id) = run {
            let (ds, cfg, model) = shoplab_model::load_run(&self.ws, run_id)?;
            let e = model.embeddings()?.ok_or_else(|| {
                EngineError::Model(shoplab_model::ModelError::Run(
                    run_id,
                    format!(
                        "model {} has no user and item vectors for the affinities",
                        cfg.model.name()
                    ),
                ))
            })?;
            let vectors = |ids: &[String], names: &[String], values: &[f32]| -> Vec<Vec<f32>> {
                let at: HashMap<&str, usize> = names
                    .iter()
                    .enumerate()
                    .map(|(k, n)| (n.as_str(), k))
                    .collect();
                ids.iter()
                    .map(|id| match at.get(id.as_str()) {
                        Some(&k) => values[k * e.dim..(k + 1) * e.dim].to_vec(),
                        None => vec![0.0; e.dim],
                    })
                    .collect()
            };
            log.user_vectors = vectors(&log.users, &ds.users, &e.users);
            let item_ids: Vec<String> = log.items.iter().map(|i| i.id.clone()).collect();
            log.item_vectors = vectors(&item_ids, &ds.items, &e.items);
        }
        let id = simlab::next_calibration_id(&self.ws)?;
        let origin = match computed_on {
            Some(on) => format!("calibration {id} (sessions computed on {on})"),
            None => format!("calibration {id}"),
        };
        let cal = calibrate(&log, opts, origin)?;
        self.store_calibration(id, run, &cal)?;
        Ok(CalibrationReport {
            calibration_id: id,
            run_id: run,
            calibration: cal,
        })
    }

    /// The environment of a stored calibration.
    fn environment(&self, calibration_id: i64) -> Result<Environment> {
        let text = simlab::calibration_environment(&self.ws, calibration_id)?.ok_or_else(|| {
            EngineError::Sim(shoplab_sim::SimError::Config(format!(
                "no calibration {calibration_id} in the workspace (run `shoplab calibrate` first)"
            )))
        })?;
        serde_json::from_str(&text).map_err(|e| {
            EngineError::Sim(shoplab_sim::SimError::Config(format!(
                "calibration {calibration_id}: stored environment: {e}"
            )))
        })
    }

    /// The workspace's sessions of views and purchases (a session is `session_id`, else the
    /// user's day), each item once with its view price (else its purchase or list price).
    fn choice_log(&self) -> Result<ChoiceLog> {
        Ok(choice_log(simlab::choice_rows(&self.ws)?))
    }

    fn store_calibration(&self, id: i64, run: Option<i64>, cal: &Calibration) -> Result<()> {
        let row = CalibrationRow {
            calibration_id: id,
            run_id: run,
            report: serde_json::to_string(&cal.report).unwrap_or_default(),
            environment: serde_json::to_string(&cal.env).unwrap_or_default(),
        };
        let categories: Vec<CalibrationCategoryRow> = cal
            .categories
            .iter()
            .map(|c| CalibrationCategoryRow {
                category: c.code.clone(),
                elasticity: c.elasticity,
                elasticity_raw: c.raw,
                elasticity_se: c.se.is_finite().then_some(c.se),
                views: c.views as i64,
                purchases: c.purchases as i64,
                price_sd: c.price_sd,
                session_share: c.share,
            })
            .collect();
        let items: Vec<CalibrationItemRow> = cal
            .items
            .iter()
            .zip(&cal.env.items)
            .map(|(fit, item)| CalibrationItemRow {
                item_id: fit.id.clone(),
                category: cal.categories[fit.category].code.clone(),
                reference_price: fit.reference_price,
                list_price: item.list_price,
                cost: item.cost,
                appeal: fit.appeal,
                views: fit.views as i64,
                purchases: fit.purchases as i64,
            })
            .collect();
        simlab::store_calibration(&self.ws, &row, &categories, &items).map_err(EngineError::from)
    }

    /// A trained run's scores for the environment's shoppers and items: a recommendation
    /// run's scores (a shopper it has not seen gets the mean over its users; an item it has
    /// not seen, less than any), or a conversion run's logits at the reference price with
    /// its price term.
    fn model_scores(&self, run_id: i64, env: &Environment) -> Result<ModelScores> {
        let (n_users, n_items) = (env.users.len(), env.items.len());
        if n_users * n_items > MAX_SCORES {
            return Err(EngineError::Sim(shoplab_sim::SimError::Config(format!(
                "run {run_id}: {n_users} shoppers × {n_items} items is too many to score ahead"
            ))));
        }
        let summary = self.run(run_id)?;
        match shoplab_model::RunSpec::from_params(&summary.params) {
            Ok(shoplab_model::RunSpec::Conversion(_)) => self.conversion_scores(run_id, env),
            // A text run is refused by `load_run` with what it is; unreadable parameters
            // get the same refusal.
            Ok(
                shoplab_model::RunSpec::Train(_)
                | shoplab_model::RunSpec::TwoTower(_)
                | shoplab_model::RunSpec::Finetune(_),
            )
            | Err(_) => self.recommender_scores(run_id, env),
        }
    }

    /// A conversion run's logits at each item's reference price, with its price term (an
    /// item the run has not seen gets a logit of -20).
    fn conversion_scores(&self, run_id: i64, env: &Environment) -> Result<ModelScores> {
        let (n_users, n_items) = (env.users.len(), env.items.len());
        let p = shoplab_model::conversion::load_params(&self.ws, run_id)?;
        let index = |names: &[String]| -> HashMap<String, usize> {
            names
                .iter()
                .cloned()
                .enumerate()
                .map(|(k, n)| (n, k))
                .collect()
        };
        let (users, items) = (index(&p.users), index(&p.items));
        let item_at: Vec<Option<usize>> = env
            .items
            .iter()
            .map(|i| items.get(&i.id).copied())
            .collect();
        let mut scores = Vec::with_capacity(n_users * n_items);
        for u in &env.users {
            let u = users.get(&u.id).copied();
            scores.extend(item_at.iter().map(|i| i.map_or(-20.0, |i| p.logit(u, i))));
        }
        let price = PriceTerm {
            slope: item_at
                .iter()
                .map(|i| i.map_or(0.0, |i| p.slope(i)))
                .collect(),
            reference: item_at
                .iter()
                .zip(&env.items)
                .map(|(i, item)| i.map_or(item.list_price, |i| p.reference_price[i]))
                .collect(),
        };
        Ok(ModelScores {
            scores,
            price: Some(price),
        })
    }

    /// A recommendation run's scores: a shopper it has not seen gets the mean over its
    /// users; an item it has not seen, less than any.
    fn recommender_scores(&self, run_id: i64, env: &Environment) -> Result<ModelScores> {
        let (n_users, n_items) = (env.users.len(), env.items.len());
        let (ds, _, model) = shoplab_model::load_run(&self.ws, run_id)?;
        let items: HashMap<&str, usize> = ds
            .items
            .iter()
            .enumerate()
            .map(|(k, n)| (n.as_str(), k))
            .collect();
        let item_at: Vec<Option<usize>> = env
            .items
            .iter()
            .map(|i| items.get(i.id.as_str()).copied())
            .collect();
        // The environment's shopper (if any) of each of the run's users.
        let shopper: HashMap<&str, usize> = env
            .users
            .iter()
            .enumerate()
            .map(|(k, u)| (u.id.as_str(), k))
            .collect();
        // A row of the run's item scores, in the environment's item order (an item the
        // run has not seen scores below all the others).
        let fill = |out: &mut [f32], row: &[f32]| {
            let floor = row.iter().copied().fold(f32::INFINITY, f32::min) - 1.0;
            for (o, i) in out.iter_mut().zip(&item_at) {
                *o = i.map_or(floor, |i| row[i]);
            }
        };
        let mut scores = vec![0.0f32; n_users * n_items];
        let mut known = vec![false; n_users];
        let mut mean = vec![0.0f64; ds.n_items()];
        let all: Vec<u32> = (0..ds.n_users() as u32).collect();
        for batch in all.chunks(256) {
            let s = model.score_users(batch)?;
            for (b, &u) in batch.iter().enumerate() {
                let row = &s[b * ds.n_items()..(b + 1) * ds.n_items()];
                for (m, v) in mean.iter_mut().zip(row) {
                    *m += f64::from(*v) / all.len() as f64;
                }
                if let Some(&k) = shopper.get(ds.users[u as usize].as_str()) {
                    fill(&mut scores[k * n_items..(k + 1) * n_items], row);
                    known[k] = true;
                }
            }
        }
        let mean: Vec<f32> = mean.iter().map(|&v| v as f32).collect();
        for k in (0..n_users).filter(|&k| !known[k]) {
            fill(&mut scores[k * n_items..(k + 1) * n_items], &mean);
        }
        Ok(ModelScores {
            scores,
            price: None,
        })
    }
}

/// Every policy's daily metrics per replicate, as rows of `sim_metrics`.
fn metric_rows(runs: &[PolicyRun]) -> impl Iterator<Item = SimMetricRow<'_>> {
    runs.iter().flat_map(|run| {
        let days =
            run.replicates.iter().enumerate().flat_map(|(rep, series)| {
                series.iter().enumerate().map(move |(day, d)| (rep, day, d))
            });
        days.flat_map(move |(rep, day, d)| {
            day_metrics(d).map(move |(metric, value)| SimMetricRow {
                policy: &run.policy,
                replicate: rep as i64,
                day: day as i64,
                metric,
                value,
            })
        })
    })
}

/// Every policy's totals per replicate and category, as rows of `sim_categories`.
fn category_rows(runs: &[PolicyRun]) -> Vec<SimCategoryRow> {
    let mut rows = Vec::new();
    for run in runs {
        for (rep, totals) in run.by_category.iter().enumerate() {
            for (code, t) in run.categories.iter().zip(totals) {
                rows.push(SimCategoryRow {
                    policy: run.policy.clone(),
                    replicate: rep as i64,
                    category: code.clone(),
                    sessions: t.sessions as i64,
                    impressions: t.impressions as i64,
                    purchases: t.purchases as i64,
                    revenue: t.revenue,
                    margin: t.margin,
                });
            }
        }
    }
    rows
}

/// A simulated day's metrics as stored in `sim_metrics`: the counts, conversion, revenue,
/// margin and mean price index, then stock, regret and predicted conversion where known.
fn day_metrics(d: &Day) -> impl Iterator<Item = (&'static str, f64)> {
    let optional = [
        ("stock", d.stock.map(|s| s as f64)),
        ("regret", d.regret),
        ("predicted_conversion", d.predicted_conversion()),
    ];
    [
        ("sessions", d.sessions as f64),
        ("impressions", d.impressions as f64),
        ("purchases", d.purchases as f64),
        ("conversion", d.conversion()),
        ("revenue", d.revenue),
        ("margin", d.margin),
        ("price_index", d.mean_price_index()),
    ]
    .into_iter()
    .chain(optional.into_iter().filter_map(|(m, v)| Some((m, v?))))
}

/// The simulator's choice log of the workspace's choice rows (in session order): users,
/// categories and items numbered in order of first appearance.
pub(crate) fn choice_log(rows: Vec<ChoiceRow>) -> ChoiceLog {
    let mut log = ChoiceLog::default();
    let (mut users, mut items, mut cats) = (HashMap::new(), HashMap::new(), HashMap::new());
    let mut last_session: Option<String> = None;
    for row in rows {
        let ChoiceRow {
            session,
            user_id: user,
            day,
            first_weekday: weekday,
            item_id: item,
            price,
            bought,
            category,
            list_price: list,
            cost,
        } = row;
        log.first_weekday = weekday.max(0) as u32;
        let c = *cats.entry(category.clone()).or_insert_with(|| {
            log.categories.push(category.clone());
            log.categories.len() - 1
        });
        let i = *items.entry(item.clone()).or_insert_with(|| {
            log.items.push(LoggedItem {
                id: item.clone(),
                category: c,
                list_price: list,
                cost,
            });
            log.items.len() - 1
        });
        if last_session.as_deref() != Some(session.as_str()) {
            let u = *users.entry(user.clone()).or_insert_with(|| {
                log.users.push(user.clone());
                log.users.len() - 1
            });
            log.sessions.push(LoggedSession {
                user: u as u32,
                day: day.max(0) as u32,
                shown: Vec::new(),
                bought: Vec::new(),
            });
            last_session = Some(session);
        }
        let s = log.sessions.last_mut().expect("a session was just pushed");
        if bought {
            s.bought.push(s.shown.len() as u32);
        }
        s.shown.push((i as u32, price));
    }
    log
}
