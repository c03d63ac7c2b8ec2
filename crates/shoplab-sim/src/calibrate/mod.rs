//! Calibration: the simulator's demand fitted to a shop's own logs.
//!
//! Each logged session showed the shopper some items at the day's prices and ended in a
//! purchase of one of them or in none. That is the simulator's choice model, so its
//! parameters are fitted by maximum likelihood on the sessions themselves (a conditional
//! logit with a no-purchase option):
//!
//! ```text
//! P(buy i | shown S) = exp(u_i) / (1 + Σ_{k∈S} exp(u_k)),   u_i = a_i − β_c(i) · ln(p_i / ref_i)
//! ```
//!
//! - **appeal** `a_i` — from purchase shares: one intercept per item, with a normal prior
//!   around its category's mean (items seldom bought borrow from their category);
//! - **price sensitivity** `β_c` — from price variation within items (`ref_i` is the item's
//!   geometric-mean shown price, so `x = ln(p / ref)` varies around 0 and is nearly
//!   orthogonal to the intercepts), one per category, then **shrunk** towards the pooled
//!   value by empirical Bayes (DerSimonian–Laird: a category whose own estimate is noisy
//!   moves further towards the pool);
//! - **arrivals** — sessions per logged day (for replay) and the weekly shape.
//!
//! The fit is a diagonal Newton iteration: in a logit whose purchase probabilities are a
//! few percent the Hessian is nearly diagonal in these parameters, so each step is close to
//! a full Newton step. Sessions with several purchases count each purchase as one choice
//! from the session's items.
//!
//! **Fit report**: the sessions are split (by the seed) into a training part and a
//! held-out part; the model fitted on the first is scored on the second by log-likelihood
//! per session against two simpler models (appeal only, no price effect; one constant
//! purchase rate), and by calibration (predicted against observed purchase rate by decile
//! of predicted). The environment itself is then fitted on all sessions.

mod fit;

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use self::fit::{FitSpec, Fitted, Prepared, fit, score, shrink};
use crate::env::{self, Environment};
use crate::{Result, SimError};

/// Decile bins of the calibration table.
const BINS: usize = 10;

/// An item of the log.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedItem {
    pub id: String,
    /// Index into [`ChoiceLog::categories`].
    pub category: usize,
    /// From the catalog, when it has one.
    pub list_price: Option<f64>,
    pub cost: Option<f64>,
}

/// A session of the log: what was shown (each item once, at its price) and bought.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedSession {
    /// Index into [`ChoiceLog::users`].
    pub user: u32,
    /// Days since the log's first day.
    pub day: u32,
    /// (index into [`ChoiceLog::items`], price) per item shown.
    pub shown: Vec<(u32, f64)>,
    /// Indices into `shown` of the items bought.
    pub bought: Vec<u32>,
}

/// Sessions of views and purchases, as read from a workspace.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChoiceLog {
    pub categories: Vec<String>,
    pub items: Vec<LoggedItem>,
    pub users: Vec<String>,
    pub sessions: Vec<LoggedSession>,
    /// Day of the week of the log's first day (0 = Monday).
    pub first_weekday: u32,
    /// A trained model's user and item vectors (empty: none): the affinity
    /// `γ · <user, item>` joins the utility, with γ fitted.
    pub user_vectors: Vec<Vec<f32>>,
    pub item_vectors: Vec<Vec<f32>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrateOptions {
    /// Share of sessions held out for the fit report.
    pub holdout: f64,
    pub seed: u64,
    /// The margin assumed where the catalog has no cost (0.3: cost = 70% of the list price).
    pub default_margin: f64,
    /// Standard deviation of the prior of an item's appeal around its category's mean.
    pub appeal_prior_sd: f64,
}

impl Default for CalibrateOptions {
    fn default() -> Self {
        CalibrateOptions {
            holdout: 0.2,
            seed: 0,
            default_margin: 0.3,
            appeal_prior_sd: 1.5,
        }
    }
}

/// A category's fitted price sensitivity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryFit {
    pub code: String,
    /// After shrinkage: what the simulator uses.
    pub elasticity: f64,
    /// The category's own maximum-likelihood estimate and its standard error.
    pub raw: f64,
    pub se: f64,
    pub views: u64,
    pub purchases: u64,
    /// Standard deviation of ln(price / reference) over the category's views: how much
    /// price variation the estimate rests on.
    pub price_sd: f64,
    /// Share of sessions.
    pub share: f64,
}

/// An item's fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemFit {
    pub id: String,
    pub category: usize,
    pub reference_price: f64,
    /// `a_i`: utility at the reference price.
    pub appeal: f64,
    pub views: u64,
    pub purchases: u64,
}

/// Observed against predicted purchase rate in one bin of held-out sessions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalibrationBin {
    pub sessions: u64,
    pub predicted: f64,
    pub observed: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    pub sessions: u64,
    pub train_sessions: u64,
    pub holdout_sessions: u64,
    pub purchases: u64,
    /// Held-out log-likelihood per session: the fitted model, appeal only (β = 0), and one
    /// purchase rate for every item.
    pub loglik: f64,
    pub loglik_no_price: f64,
    pub loglik_constant: f64,
    /// Held-out sessions with a purchase: the model's mean prediction and the observed share.
    pub predicted_conversion: f64,
    pub observed_conversion: f64,
    pub calibration: Vec<CalibrationBin>,
    /// The pooled price sensitivity and the spread of the categories' true values around it
    /// (τ of the shrinkage).
    pub pooled_elasticity: f64,
    pub between_sd: f64,
    /// The weight of the trained model's affinity in the utility (0 without a model).
    pub affinity_weight: f64,
    pub iterations: usize,
    /// Items whose cost was assumed from `default_margin` (the catalog had none).
    pub costs_assumed: u64,
    pub days: u32,
    pub mean_sessions_per_day: f64,
    /// What the fit could not do with this log, in words (empty: nothing).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// The fitted environment, and how well it fits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub env: Environment,
    pub categories: Vec<CategoryFit>,
    pub items: Vec<ItemFit>,
    pub report: FitReport,
}

/// Fits the environment to `log` (see the module's documentation).
pub fn calibrate(log: &ChoiceLog, opts: &CalibrateOptions, origin: String) -> Result<Calibration> {
    let purchases = check(log, opts)?;
    let views = ItemViews::of(log)?;
    let data = Prepared::new(log, &views.reference);
    let (hold, train) = split(log.sessions.len(), opts.seed, opts.holdout);
    let sd = opts.appeal_prior_sd;
    // The fit report, from the training sessions scored on the held-out ones.
    let held_out = if hold.is_empty() {
        HeldOut::none()
    } else {
        HeldOut::of(&data, &train, &hold, sd)
    };
    // The environment: every session.
    let all: Vec<usize> = (0..log.sessions.len()).collect();
    let full = fit_shrunk(&data, &all, sd);
    let categories = category_fits(&data, &full);
    let arrivals = Arrivals::of(log);
    let (days, mean_per_day) = (arrivals.days, arrivals.mean_per_day);
    let items = item_fits(log, &views, &full.fitted);
    let (env, costs_assumed) = environment(
        log,
        opts.default_margin,
        &views.reference,
        &full.fitted,
        &categories,
        arrivals,
        origin,
    );
    let report = FitReport {
        sessions: log.sessions.len() as u64,
        train_sessions: train.len() as u64,
        holdout_sessions: hold.len() as u64,
        purchases,
        loglik: held_out.loglik,
        loglik_no_price: held_out.loglik_no_price,
        loglik_constant: held_out.loglik_constant,
        predicted_conversion: held_out.predicted_conversion,
        observed_conversion: held_out.observed_conversion,
        calibration: held_out.bins,
        pooled_elasticity: full.pooled,
        between_sd: full.tau,
        affinity_weight: full.fitted.gamma,
        iterations: full.fitted.iterations,
        costs_assumed,
        days,
        mean_sessions_per_day: mean_per_day,
        notes: notes(log, purchases),
    };
    Ok(Calibration {
        env,
        categories,
        items,
        report,
    })
}

/// What the log cannot tell: a log where every session ends in a purchase (a scanner panel
/// of purchase occasions) has no no-purchase share.
fn notes(log: &ChoiceLog, purchases: u64) -> Vec<String> {
    let mut out = Vec::new();
    if log.sessions.iter().all(|s| !s.bought.is_empty()) {
        out.push(format!(
            "every one of the {} sessions ends in a purchase ({purchases} purchases): there is no \
             no-purchase share to fit, so the appeals only rank the items against each other and \
             the purchase probability of a visit is not identified (the fitted one is close to 1); \
             the price sensitivity comes from the choices among the items shown at their prices, \
             as in a conditional logit",
            log.sessions.len()
        ));
    }
    out
}

/// The log's purchases, when the log and the options can be fitted.
fn check(log: &ChoiceLog, opts: &CalibrateOptions) -> Result<u64> {
    let purchases: u64 = log.sessions.iter().map(|s| s.bought.len() as u64).sum();
    if log.sessions.is_empty() || purchases == 0 {
        return Err(SimError::Config(format!(
            "calibration needs sessions with views and purchases; the log has {} sessions and {purchases} purchases",
            log.sessions.len()
        )));
    }
    if !(0.0..1.0).contains(&opts.holdout) || !(0.0..1.0).contains(&opts.default_margin) {
        return Err(SimError::Config(
            "holdout and default_margin must be in [0, 1)".into(),
        ));
    }
    Ok(purchases)
}

/// Per item: its reference price (the geometric mean over its views), views, purchases.
struct ItemViews {
    reference: Vec<f64>,
    views: Vec<u64>,
    bought: Vec<u64>,
}

impl ItemViews {
    /// Counted over the log's sessions; a price that is not positive is an error.
    fn of(log: &ChoiceLog) -> Result<Self> {
        let n_items = log.items.len();
        let mut sum_ln = vec![0.0; n_items];
        let mut views = vec![0u64; n_items];
        let mut bought = vec![0u64; n_items];
        for s in &log.sessions {
            for &(i, p) in &s.shown {
                if !(p.is_finite() && p > 0.0) {
                    return Err(SimError::Config(format!(
                        "item {} was shown at price {p}; prices must be positive",
                        log.items[i as usize].id
                    )));
                }
                sum_ln[i as usize] += p.ln();
                views[i as usize] += 1;
            }
            for &k in &s.bought {
                bought[s.shown[k as usize].0 as usize] += 1;
            }
        }
        let reference: Vec<f64> = (0..n_items)
            .map(|i| {
                if views[i] > 0 {
                    (sum_ln[i] / views[i] as f64).exp()
                } else {
                    log.items[i].list_price.unwrap_or(1.0)
                }
            })
            .collect();
        Ok(ItemViews {
            reference,
            views,
            bought,
        })
    }
}

/// The held-out and training sessions (each in session order), split by `seed`.
fn split(sessions: usize, seed: u64, holdout: f64) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..sessions).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let n_hold = (holdout * order.len() as f64).round() as usize;
    let (hold, train) = order.split_at(n_hold);
    let (mut hold, mut train) = (hold.to_vec(), train.to_vec());
    hold.sort_unstable();
    train.sort_unstable();
    (hold, train)
}

/// Every item its own appeal.
fn own(i: usize) -> usize {
    i
}

/// One appeal for all items (the constant model).
fn one(_: usize) -> usize {
    0
}

/// The full model on some sessions: fitted, its β shrunk, then refitted with the shrunk β.
struct ShrunkFit {
    fitted: Fitted,
    /// The categories' own β and their standard errors, before shrinkage.
    raw: Vec<f64>,
    se: Vec<f64>,
    /// The pooled β and the spread of the categories' true values around it.
    pooled: f64,
    tau: f64,
}

fn fit_shrunk(data: &Prepared, which: &[usize], prior_sd: f64) -> ShrunkFit {
    let n_items = data.log().items.len();
    let f = fit(
        data,
        which,
        &FitSpec {
            pool: &own,
            n_appeal: n_items,
            fixed_beta: None,
            gamma_fixed: None,
            prior_sd,
        },
    );
    let se: Vec<f64> = f.info.iter().map(|&h| 1.0 / h.sqrt()).collect();
    let (pooled, tau, shrunk) = shrink(&f.beta, &se);
    let raw = f.beta.clone();
    let mut refit = fit(
        data,
        which,
        &FitSpec {
            pool: &own,
            n_appeal: n_items,
            fixed_beta: Some(&shrunk),
            gamma_fixed: Some(f.gamma),
            prior_sd,
        },
    );
    refit.iterations += f.iterations;
    ShrunkFit {
        fitted: refit,
        raw,
        se,
        pooled,
        tau,
    }
}

/// The fit report's held-out part: log-likelihood per session of the model and of two
/// simpler ones, mean predicted and observed conversion, the calibration table.
struct HeldOut {
    loglik: f64,
    loglik_no_price: f64,
    loglik_constant: f64,
    predicted_conversion: f64,
    observed_conversion: f64,
    bins: Vec<CalibrationBin>,
}

impl HeldOut {
    /// Nothing held out.
    fn none() -> Self {
        HeldOut {
            loglik: f64::NAN,
            loglik_no_price: f64::NAN,
            loglik_constant: f64::NAN,
            predicted_conversion: f64::NAN,
            observed_conversion: f64::NAN,
            bins: Vec::new(),
        }
    }

    /// The models fitted on `train`, scored on `hold` (not empty).
    fn of(data: &Prepared, train: &[usize], hold: &[usize], prior_sd: f64) -> Self {
        let log = data.log();
        let n_items = log.items.len();
        let no_beta = vec![0.0; log.categories.len()];
        let model = fit_shrunk(data, train, prior_sd).fitted;
        let no_price = fit(
            data,
            train,
            &FitSpec {
                pool: &own,
                n_appeal: n_items,
                fixed_beta: Some(&no_beta),
                gamma_fixed: None,
                prior_sd,
            },
        );
        let constant = fit(
            data,
            train,
            &FitSpec {
                pool: &one,
                n_appeal: 1,
                fixed_beta: Some(&no_beta),
                gamma_fixed: Some(0.0),
                prior_sd,
            },
        );
        let scored = score(data, hold, &own, &model);
        let per = |v: Vec<(f64, f64)>| v.iter().map(|s| s.0).sum::<f64>() / hold.len() as f64;
        let observed: Vec<f64> = hold
            .iter()
            .map(|&s| f64::from(u8::from(!log.sessions[s].bought.is_empty())))
            .collect();
        let bins = calibration_bins(&scored, &observed);
        let n = hold.len() as f64;
        HeldOut {
            loglik: per(scored.clone()),
            loglik_no_price: per(score(data, hold, &own, &no_price)),
            loglik_constant: per(score(data, hold, &one, &constant)),
            predicted_conversion: scored.iter().map(|s| s.1).sum::<f64>() / n,
            observed_conversion: observed.iter().sum::<f64>() / n,
            bins,
        }
    }
}

/// Predicted against observed purchase rate by decile of predicted (`scored`: each
/// session's log-likelihood and predicted rate; `observed`: 1 where it bought).
fn calibration_bins(scored: &[(f64, f64)], observed: &[f64]) -> Vec<CalibrationBin> {
    let mut by_pred: Vec<usize> = (0..scored.len()).collect();
    by_pred.sort_by(|&x, &y| scored[x].1.total_cmp(&scored[y].1));
    by_pred
        .chunks(scored.len().div_ceil(BINS).max(1))
        .map(|chunk| {
            let n = chunk.len() as f64;
            CalibrationBin {
                sessions: chunk.len() as u64,
                predicted: chunk.iter().map(|&k| scored[k].1).sum::<f64>() / n,
                observed: chunk.iter().map(|&k| observed[k]).sum::<f64>() / n,
            }
        })
        .collect()
}

/// Each category's fitted β with its views, purchases, price variation and share of sessions.
fn category_fits(data: &Prepared, full: &ShrunkFit) -> Vec<CategoryFit> {
    let log = data.log();
    let n_cat = log.categories.len();
    let mut cat_sessions = vec![0u64; n_cat];
    let mut cat_views = vec![0u64; n_cat];
    let mut cat_buys = vec![0u64; n_cat];
    let mut cat_x2 = vec![0.0; n_cat];
    for (s, session) in log.sessions.iter().enumerate() {
        let mut seen = Vec::new();
        for (k, &(i, _)) in session.shown.iter().enumerate() {
            let c = log.items[i as usize].category;
            cat_views[c] += 1;
            cat_x2[c] += data.xs(s)[k].powi(2);
            if !seen.contains(&c) {
                seen.push(c);
                cat_sessions[c] += 1;
            }
        }
        for &k in &session.bought {
            cat_buys[log.items[session.shown[k as usize].0 as usize].category] += 1;
        }
    }
    let total_sessions: u64 = cat_sessions.iter().sum::<u64>().max(1);
    (0..n_cat)
        .map(|c| CategoryFit {
            code: log.categories[c].clone(),
            elasticity: full.fitted.beta[c],
            raw: full.raw[c],
            se: full.se[c],
            views: cat_views[c],
            purchases: cat_buys[c],
            price_sd: (cat_x2[c] / cat_views[c].max(1) as f64).sqrt(),
            share: cat_sessions[c] as f64 / total_sessions as f64,
        })
        .collect()
}

/// The log's arrivals: sessions per logged day, the weekly shape, each user's sessions.
struct Arrivals {
    days: u32,
    per_day: Vec<u64>,
    per_user: Vec<u64>,
    mean_per_day: f64,
    /// Relative sessions per weekday, the simulation's day 0 first (empty under two weeks).
    weekly: Vec<f64>,
}

impl Arrivals {
    fn of(log: &ChoiceLog) -> Self {
        let days = log.sessions.iter().map(|s| s.day).max().unwrap_or(0) + 1;
        let mut per_day = vec![0u64; days as usize];
        let mut per_user = vec![0u64; log.users.len()];
        for s in &log.sessions {
            per_day[s.day as usize] += 1;
            per_user[s.user as usize] += 1;
        }
        let mean_per_day = log.sessions.len() as f64 / f64::from(days);
        // The simulation starts the day after the log: its day 0 is that weekday.
        let weekly = if days >= 14 {
            let mut sum = [0.0; 7];
            let mut count = [0.0; 7];
            for (d, &n) in per_day.iter().enumerate() {
                let w = (log.first_weekday as usize + d) % 7;
                sum[w] += n as f64;
                count[w] += 1.0;
            }
            let start = (log.first_weekday + days) as usize % 7;
            (0..7)
                .map(|k| {
                    let w = (start + k) % 7;
                    sum[w] / f64::max(count[w], 1.0) / mean_per_day
                })
                .collect()
        } else {
            Vec::new()
        };
        Arrivals {
            days,
            per_day,
            per_user,
            mean_per_day,
            weekly,
        }
    }
}

/// Each item's fitted appeal at its reference price, with its views and purchases.
fn item_fits(log: &ChoiceLog, views: &ItemViews, fitted: &Fitted) -> Vec<ItemFit> {
    (0..log.items.len())
        .map(|i| ItemFit {
            id: log.items[i].id.clone(),
            category: log.items[i].category,
            reference_price: views.reference[i],
            appeal: fitted.appeal[i],
            views: views.views[i],
            purchases: views.bought[i],
        })
        .collect()
}

/// The simulator's environment of the fit, and the items whose cost was assumed from
/// `default_margin`.
fn environment(
    log: &ChoiceLog,
    default_margin: f64,
    reference: &[f64],
    fitted: &Fitted,
    categories: &[CategoryFit],
    arrivals: Arrivals,
    origin: String,
) -> (Environment, u64) {
    let mut costs_assumed = 0;
    let items: Vec<env::Item> = log
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let list_price = item.list_price.filter(|p| *p > 0.0).unwrap_or(reference[i]);
            let cost = item.cost.unwrap_or_else(|| {
                costs_assumed += 1;
                list_price * (1.0 - default_margin)
            });
            env::Item {
                id: item.id.clone(),
                category: item.category,
                list_price,
                cost,
                appeal: fitted.appeal[i] + fitted.beta[item.category] * reference[i].ln(),
                embedding: log
                    .item_vectors
                    .get(i)
                    .map(|v| v.iter().map(|x| x * fitted.gamma as f32).collect())
                    .unwrap_or_default(),
            }
        })
        .collect();
    let mean_user = log.sessions.len() as f64 / log.users.len().max(1) as f64;
    let env = Environment {
        origin,
        categories: categories
            .iter()
            .map(|c| env::Category {
                code: c.code.clone(),
                elasticity: c.elasticity,
                share: c.share,
            })
            .collect(),
        items,
        users: log
            .users
            .iter()
            .zip(&arrivals.per_user)
            .enumerate()
            .map(|(u, (id, &n))| env::User {
                id: id.clone(),
                embedding: log.user_vectors.get(u).cloned().unwrap_or_default(),
                price_mult: 1.0,
                activity: n as f64 / mean_user,
            })
            .collect(),
        weekly: arrivals.weekly,
        logged_sessions: arrivals.per_day,
    };
    (env, costs_assumed)
}
