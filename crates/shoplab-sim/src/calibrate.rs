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

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::env::{self, Environment};
use crate::{Result, SimError};

/// Newton steps at most, and the step size under which the fit has converged.
const MAX_ITER: usize = 300;
const TOLERANCE: f64 = 1e-7;
/// Largest step per iteration (log-odds units), against overshooting far from the optimum.
const MAX_STEP: f64 = 1.0;
/// The weak prior on every β (sd 10): keeps a category without price variation finite.
const BETA_PRIOR_VAR: f64 = 100.0;
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
}

/// The fitted environment, and how well it fits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub env: Environment,
    pub categories: Vec<CategoryFit>,
    pub items: Vec<ItemFit>,
    pub report: FitReport,
}

/// The parameters of one fit.
struct Fitted {
    appeal: Vec<f64>,
    beta: Vec<f64>,
    /// Fisher information of each β (likelihood part).
    info: Vec<f64>,
    /// The weight of the model's affinity (0 without one).
    gamma: f64,
    iterations: usize,
}

/// Sessions with their items' category and price term, ready to fit.
struct Prepared<'a> {
    log: &'a ChoiceLog,
    /// ln(p / ref) per session and shown item, flattened in session order.
    x: Vec<f64>,
    /// The affinity `<user, item>` per session and shown item (empty: no vectors).
    affinity: Vec<f64>,
    /// Where each session's items start in `x`.
    start: Vec<usize>,
}

impl<'a> Prepared<'a> {
    fn new(log: &'a ChoiceLog, reference: &[f64]) -> Self {
        let mut x = Vec::new();
        let mut affinity = Vec::new();
        let with_vectors = !log.item_vectors.is_empty();
        let mut start = Vec::with_capacity(log.sessions.len() + 1);
        for s in &log.sessions {
            start.push(x.len());
            x.extend(
                s.shown
                    .iter()
                    .map(|&(i, p)| (p / reference[i as usize]).ln()),
            );
            if with_vectors {
                let user = &log.user_vectors[s.user as usize];
                affinity.extend(
                    s.shown
                        .iter()
                        .map(|&(i, _)| env::dot(user, &log.item_vectors[i as usize])),
                );
            }
        }
        start.push(x.len());
        Prepared {
            log,
            x,
            affinity,
            start,
        }
    }

    fn xs(&self, s: usize) -> &[f64] {
        &self.x[self.start[s]..self.start[s + 1]]
    }

    /// The session's affinities (zeros without vectors).
    fn affinity(&self, s: usize, k: usize) -> f64 {
        self.affinity.get(self.start[s] + k).copied().unwrap_or(0.0)
    }
}

/// Fits appeal (and β unless `fixed_beta`) on the sessions `which`; `pool` maps items to
/// the parameters they share (every item its own, or all one for the constant model).
fn fit(
    data: &Prepared,
    which: &[usize],
    pool: &dyn Fn(usize) -> usize,
    n_appeal: usize,
    fixed_beta: Option<&[f64]>,
    gamma_fixed: Option<f64>,
    prior_sd: f64,
) -> Fitted {
    let log = data.log;
    let n_cat = log.categories.len();
    let mut a = vec![-3.0; n_appeal];
    let mut beta = fixed_beta.map_or_else(|| vec![1.0; n_cat], <[f64]>::to_vec);
    // Every item its own appeal, with the category prior (else one pooled constant).
    let own_params = n_appeal == log.items.len();
    let cat_of = |k: usize| log.items[k].category;
    let prior_var = prior_sd * prior_sd;
    let mut info = vec![0.0; n_cat];
    let fit_gamma = !data.affinity.is_empty() && gamma_fixed.is_none();
    let mut gamma = gamma_fixed.unwrap_or(if data.affinity.is_empty() { 0.0 } else { 1.0 });
    let (mut ga, mut ha) = (vec![0.0; n_appeal], vec![0.0; n_appeal]);
    let (mut gb, mut hb) = (vec![0.0; n_cat], vec![0.0; n_cat]);
    let mut u = Vec::new();
    // Per category within a session: Σ P x, Σ P x², Σ (y − e P) x.
    let mut per_cat: Vec<(usize, f64, f64, f64)> = Vec::new();
    let mut iterations = 0;
    for iter in 0..MAX_ITER {
        iterations = iter + 1;
        ga.iter_mut().chain(ha.iter_mut()).for_each(|v| *v = 0.0);
        gb.iter_mut().chain(hb.iter_mut()).for_each(|v| *v = 0.0);
        let (mut gg, mut hg) = (0.0, 0.0);
        for &s in which {
            let session = &log.sessions[s];
            let xs = data.xs(s);
            u.clear();
            let mut denom = 1.0;
            for (k, &(i, _)) in session.shown.iter().enumerate() {
                let item = &log.items[i as usize];
                let e = (a[pool(i as usize)] - beta[item.category] * xs[k]
                    + gamma * data.affinity(s, k))
                .exp();
                u.push(e);
                denom += e;
            }
            let events = session.bought.len().max(1) as f64;
            per_cat.clear();
            let (mut ps, mut ps2) = (0.0, 0.0);
            for (k, &(i, _)) in session.shown.iter().enumerate() {
                let p = u[k] / denom;
                let y = session.bought.iter().filter(|&&b| b as usize == k).count() as f64;
                if fit_gamma {
                    let f = data.affinity(s, k);
                    ps += p * f;
                    ps2 += p * f * f;
                    gg += (y - events * p) * f;
                }
                let j = pool(i as usize);
                ga[j] += y - events * p;
                ha[j] += events * p * (1.0 - p);
                let c = log.items[i as usize].category;
                let x = xs[k];
                match per_cat.iter_mut().find(|t| t.0 == c) {
                    Some(t) => {
                        t.1 += p * x;
                        t.2 += p * x * x;
                        t.3 += (y - events * p) * x;
                    }
                    None => per_cat.push((c, p * x, p * x * x, (y - events * p) * x)),
                }
            }
            for &(c, px, px2, r) in &per_cat {
                gb[c] -= r;
                hb[c] += events * (px2 - px * px);
            }
            hg += events * (ps2 - ps * ps);
        }
        // Category means of the appeals: the prior's centre.
        let mut mean = vec![(0.0, 0.0); n_cat];
        if own_params {
            for (k, v) in a.iter().enumerate() {
                let c = cat_of(k);
                mean[c].0 += v;
                mean[c].1 += 1.0;
            }
        }
        let mut step = 0.0f64;
        for k in 0..n_appeal {
            let (g, h) = if own_params {
                let (sum, n) = mean[cat_of(k)];
                let m = sum / f64::max(n, 1.0);
                (ga[k] - (a[k] - m) / prior_var, ha[k] + 1.0 / prior_var)
            } else {
                (ga[k], ha[k].max(1e-9))
            };
            let d = (g / h).clamp(-MAX_STEP, MAX_STEP);
            a[k] += d;
            step = step.max(d.abs());
        }
        info.clone_from(&hb);
        if fixed_beta.is_none() {
            for c in 0..n_cat {
                let g = gb[c] - beta[c] / BETA_PRIOR_VAR;
                let h = hb[c] + 1.0 / BETA_PRIOR_VAR;
                let d = (g / h).clamp(-MAX_STEP, MAX_STEP);
                beta[c] += d;
                step = step.max(d.abs());
            }
        }
        if fit_gamma && hg > 0.0 {
            let d = (gg / hg).clamp(-MAX_STEP, MAX_STEP);
            gamma += d;
            step = step.max(d.abs());
        }
        if step < TOLERANCE {
            break;
        }
    }
    Fitted {
        appeal: a,
        beta,
        info,
        gamma,
        iterations,
    }
}

/// Log-likelihood of each session in `which`, and its predicted purchase probability.
fn score(
    data: &Prepared,
    which: &[usize],
    pool: &dyn Fn(usize) -> usize,
    f: &Fitted,
) -> Vec<(f64, f64)> {
    let log = data.log;
    which
        .iter()
        .map(|&s| {
            let session = &log.sessions[s];
            let xs = data.xs(s);
            let u: Vec<f64> = session
                .shown
                .iter()
                .enumerate()
                .map(|(k, &(i, _))| {
                    f.appeal[pool(i as usize)] - f.beta[log.items[i as usize].category] * xs[k]
                        + f.gamma * data.affinity(s, k)
                })
                .collect();
            let denom = 1.0 + u.iter().map(|v| v.exp()).sum::<f64>();
            let ll = if session.bought.is_empty() {
                -denom.ln()
            } else {
                session
                    .bought
                    .iter()
                    .map(|&k| u[k as usize] - denom.ln())
                    .sum()
            };
            (ll, 1.0 - 1.0 / denom)
        })
        .collect()
}

/// DerSimonian–Laird: the pooled value, τ, and each estimate shrunk towards the pool.
fn shrink(raw: &[f64], se: &[f64]) -> (f64, f64, Vec<f64>) {
    let usable: Vec<usize> = (0..raw.len()).filter(|&c| se[c].is_finite()).collect();
    let w: Vec<f64> = usable.iter().map(|&c| 1.0 / (se[c] * se[c])).collect();
    let sw: f64 = w.iter().sum();
    if usable.is_empty() || sw <= 0.0 {
        return (0.0, 0.0, raw.to_vec());
    }
    let pooled = usable.iter().zip(&w).map(|(&c, w)| w * raw[c]).sum::<f64>() / sw;
    let q: f64 = usable
        .iter()
        .zip(&w)
        .map(|(&c, w)| w * (raw[c] - pooled).powi(2))
        .sum();
    let sw2: f64 = w.iter().map(|w| w * w).sum();
    let df = usable.len() as f64 - 1.0;
    let tau2 = ((q - df) / (sw - sw2 / sw)).max(0.0);
    let shrunk = raw
        .iter()
        .zip(se)
        .map(|(&b, &s)| {
            if !s.is_finite() || tau2 == 0.0 {
                pooled
            } else {
                let (wb, wp) = (1.0 / (s * s), 1.0 / tau2);
                (wb * b + wp * pooled) / (wb + wp)
            }
        })
        .collect();
    (pooled, tau2.sqrt(), shrunk)
}

/// Fits the environment to `log` (see the module's documentation).
pub fn calibrate(log: &ChoiceLog, opts: &CalibrateOptions, origin: String) -> Result<Calibration> {
    let n_items = log.items.len();
    let n_cat = log.categories.len();
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
    // Reference prices: each item's geometric mean over its views.
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
    let data = Prepared::new(log, &reference);

    // Train / held-out split of the sessions, by the seed.
    let mut order: Vec<usize> = (0..log.sessions.len()).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(opts.seed));
    let n_hold = (opts.holdout * order.len() as f64).round() as usize;
    let (hold, train) = order.split_at(n_hold);
    let (mut hold, mut train) = (hold.to_vec(), train.to_vec());
    hold.sort_unstable();
    train.sort_unstable();
    let own = |i: usize| i;
    let one = |_: usize| 0;
    let sd = opts.appeal_prior_sd;

    let full_fit = |which: &[usize]| -> (Fitted, Vec<f64>, f64, f64, Vec<f64>) {
        let f = fit(&data, which, &own, n_items, None, None, sd);
        let se: Vec<f64> = f.info.iter().map(|&h| 1.0 / h.sqrt()).collect();
        let (pooled, tau, shrunk) = shrink(&f.beta, &se);
        let raw = f.beta.clone();
        let mut refit = fit(
            &data,
            which,
            &own,
            n_items,
            Some(&shrunk),
            Some(f.gamma),
            sd,
        );
        refit.iterations += f.iterations;
        (refit, raw, pooled, tau, se)
    };

    // The fit report, from the training sessions scored on the held-out ones.
    let report_part = if hold.is_empty() {
        None
    } else {
        let (model, _, _, _, _) = full_fit(&train);
        let no_price = fit(
            &data,
            &train,
            &own,
            n_items,
            Some(&vec![0.0; n_cat]),
            None,
            sd,
        );
        let constant = fit(
            &data,
            &train,
            &one,
            1,
            Some(&vec![0.0; n_cat]),
            Some(0.0),
            sd,
        );
        let scored = score(&data, &hold, &own, &model);
        let per = |v: Vec<(f64, f64)>| v.iter().map(|s| s.0).sum::<f64>() / hold.len() as f64;
        let observed: Vec<f64> = hold
            .iter()
            .map(|&s| f64::from(u8::from(!log.sessions[s].bought.is_empty())))
            .collect();
        let mut by_pred: Vec<usize> = (0..hold.len()).collect();
        by_pred.sort_by(|&x, &y| scored[x].1.total_cmp(&scored[y].1));
        let bins = by_pred
            .chunks(hold.len().div_ceil(BINS).max(1))
            .map(|chunk| {
                let n = chunk.len() as f64;
                CalibrationBin {
                    sessions: chunk.len() as u64,
                    predicted: chunk.iter().map(|&k| scored[k].1).sum::<f64>() / n,
                    observed: chunk.iter().map(|&k| observed[k]).sum::<f64>() / n,
                }
            })
            .collect();
        let n = hold.len() as f64;
        Some((
            per(scored.clone()),
            per(score(&data, &hold, &own, &no_price)),
            per(score(&data, &hold, &one, &constant)),
            scored.iter().map(|s| s.1).sum::<f64>() / n,
            observed.iter().sum::<f64>() / n,
            bins,
        ))
    };

    // The environment: every session.
    let all: Vec<usize> = (0..log.sessions.len()).collect();
    let (fitted, raw, pooled, tau, se) = full_fit(&all);

    // Category shares and price variation.
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
    let categories: Vec<CategoryFit> = (0..n_cat)
        .map(|c| CategoryFit {
            code: log.categories[c].clone(),
            elasticity: fitted.beta[c],
            raw: raw[c],
            se: se[c],
            views: cat_views[c],
            purchases: cat_buys[c],
            price_sd: (cat_x2[c] / cat_views[c].max(1) as f64).sqrt(),
            share: cat_sessions[c] as f64 / total_sessions as f64,
        })
        .collect();

    // Arrivals: sessions per logged day, the weekly shape, and each user's activity.
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
    let mean_user = log.sessions.len() as f64 / log.users.len().max(1) as f64;

    let mut costs_assumed = 0;
    let env_items: Vec<env::Item> = log
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let list_price = item.list_price.filter(|p| *p > 0.0).unwrap_or(reference[i]);
            let cost = item.cost.unwrap_or_else(|| {
                costs_assumed += 1;
                list_price * (1.0 - opts.default_margin)
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
        items: env_items,
        users: log
            .users
            .iter()
            .zip(&per_user)
            .enumerate()
            .map(|(u, (id, &n))| env::User {
                id: id.clone(),
                embedding: log.user_vectors.get(u).cloned().unwrap_or_default(),
                price_mult: 1.0,
                activity: n as f64 / mean_user,
            })
            .collect(),
        weekly,
        logged_sessions: per_day,
    };
    let items = (0..n_items)
        .map(|i| ItemFit {
            id: log.items[i].id.clone(),
            category: log.items[i].category,
            reference_price: reference[i],
            appeal: fitted.appeal[i],
            views: views[i],
            purchases: bought[i],
        })
        .collect();
    let (ll, ll0, llc, pred, obs, bins) =
        report_part.unwrap_or((f64::NAN, f64::NAN, f64::NAN, f64::NAN, f64::NAN, Vec::new()));
    let report = FitReport {
        sessions: log.sessions.len() as u64,
        train_sessions: train.len() as u64,
        holdout_sessions: hold.len() as u64,
        purchases,
        loglik: ll,
        loglik_no_price: ll0,
        loglik_constant: llc,
        predicted_conversion: pred,
        observed_conversion: obs,
        calibration: bins,
        pooled_elasticity: pooled,
        between_sd: tau,
        affinity_weight: fitted.gamma,
        iterations: fitted.iterations,
        costs_assumed,
        days,
        mean_sessions_per_day: mean_per_day,
    };
    Ok(Calibration {
        env,
        categories,
        items,
        report,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrinkage_pulls_noisy_estimates_further() {
        // Two precise categories disagree; the noisy third moves most of the way to the pool.
        let (pooled, tau, shrunk) = shrink(&[1.0, 2.0, 5.0], &[0.05, 0.05, 3.0]);
        assert!((pooled - 1.5).abs() < 0.01, "{pooled}");
        assert!(tau > 0.4, "{tau}");
        assert!((shrunk[0] - 1.0).abs() < 0.02 && (shrunk[1] - 2.0).abs() < 0.02);
        assert!(shrunk[2] < 2.0, "{shrunk:?}");
        // With no spread beyond the noise every category gets the pool.
        let (p, tau, s) = shrink(&[1.0, 1.01], &[0.5, 0.5]);
        assert_eq!(tau, 0.0);
        assert!(s.iter().all(|v| (v - p).abs() < 1e-12));
    }
}
