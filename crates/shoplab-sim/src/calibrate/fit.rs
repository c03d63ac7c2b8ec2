//! The conditional logit's maximum-likelihood fit (a diagonal Newton iteration), the
//! held-out sessions' scores, and the shrinkage of the categories' price sensitivities.

use crate::env;

use super::ChoiceLog;

/// Newton steps at most, and the step size under which the fit has converged.
const MAX_ITER: usize = 300;
const TOLERANCE: f64 = 1e-7;
/// Largest step per iteration (log-odds units), against overshooting far from the optimum.
const MAX_STEP: f64 = 1.0;
/// The weak prior on every β (sd 10): keeps a category without price variation finite.
const BETA_PRIOR_VAR: f64 = 100.0;

/// The parameters of one fit.
pub(super) struct Fitted {
    pub(super) appeal: Vec<f64>,
    pub(super) beta: Vec<f64>,
    /// Fisher information of each β (likelihood part).
    pub(super) info: Vec<f64>,
    /// The weight of the model's affinity (0 without one).
    pub(super) gamma: f64,
    pub(super) iterations: usize,
}

/// Sessions with their items' category and price term, ready to fit.
pub(super) struct Prepared<'a> {
    log: &'a ChoiceLog,
    /// ln(p / ref) per session and shown item, flattened in session order.
    x: Vec<f64>,
    /// The affinity `<user, item>` per session and shown item (empty: no vectors).
    affinity: Vec<f64>,
    /// Where each session's items start in `x`.
    start: Vec<usize>,
}

impl<'a> Prepared<'a> {
    pub(super) fn new(log: &'a ChoiceLog, reference: &[f64]) -> Self {
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

    /// The log it was prepared from.
    pub(super) fn log(&self) -> &'a ChoiceLog {
        self.log
    }

    pub(super) fn xs(&self, s: usize) -> &[f64] {
        &self.x[self.start[s]..self.start[s + 1]]
    }

    /// The session's affinities (zeros without vectors).
    fn affinity(&self, s: usize, k: usize) -> f64 {
        self.affinity.get(self.start[s] + k).copied().unwrap_or(0.0)
    }
}

/// What a fit holds fixed and how items share parameters.
pub(super) struct FitSpec<'a> {
    /// Maps items to the appeal they share (every item its own, or all one for the
    /// constant model).
    pub(super) pool: &'a dyn Fn(usize) -> usize,
    /// Appeal parameters: the items' count, or 1 for the constant model.
    pub(super) n_appeal: usize,
    /// β held at these values (else fitted).
    pub(super) fixed_beta: Option<&'a [f64]>,
    /// γ held at this value (else fitted when the log has vectors).
    pub(super) gamma_fixed: Option<f64>,
    /// Standard deviation of the appeals' prior around their category's mean.
    pub(super) prior_sd: f64,
}

/// The parameters a pass over the sessions is evaluated at.
#[derive(Clone, Copy)]
struct At<'a> {
    pool: &'a dyn Fn(usize) -> usize,
    a: &'a [f64],
    beta: &'a [f64],
    gamma: f64,
    /// Whether γ is fitted (its derivatives are summed).
    fit_gamma: bool,
}

/// First and second derivatives of the log-likelihood over a pass of the sessions.
struct Derivatives {
    /// Per appeal parameter.
    ga: Vec<f64>,
    ha: Vec<f64>,
    /// Per category's β.
    gb: Vec<f64>,
    hb: Vec<f64>,
    /// γ's.
    gg: f64,
    hg: f64,
    /// Scratch: the session's exp(utility) per item.
    u: Vec<f64>,
    /// Scratch, per category within a session: Σ P x, Σ P x², Σ (y − e P) x.
    per_cat: Vec<(usize, f64, f64, f64)>,
}

impl Derivatives {
    fn new(n_appeal: usize, n_cat: usize) -> Self {
        Derivatives {
            ga: vec![0.0; n_appeal],
            ha: vec![0.0; n_appeal],
            gb: vec![0.0; n_cat],
            hb: vec![0.0; n_cat],
            gg: 0.0,
            hg: 0.0,
            u: Vec::new(),
            per_cat: Vec::new(),
        }
    }

    fn clear(&mut self) {
        self.ga
            .iter_mut()
            .chain(self.ha.iter_mut())
            .for_each(|v| *v = 0.0);
        self.gb
            .iter_mut()
            .chain(self.hb.iter_mut())
            .for_each(|v| *v = 0.0);
        (self.gg, self.hg) = (0.0, 0.0);
    }

    /// Adds session `s`'s terms at the parameters `at`.
    fn add_session(&mut self, data: &Prepared, s: usize, at: &At) {
        let At {
            pool,
            a,
            beta,
            gamma,
            fit_gamma,
        } = *at;
        let log = data.log;
        let session = &log.sessions[s];
        let xs = data.xs(s);
        self.u.clear();
        let mut denom = 1.0;
        for (k, &(i, _)) in session.shown.iter().enumerate() {
            let item = &log.items[i as usize];
            let e = (a[pool(i as usize)] - beta[item.category] * xs[k]
                + gamma * data.affinity(s, k))
            .exp();
            self.u.push(e);
            denom += e;
        }
        let events = session.bought.len().max(1) as f64;
        self.per_cat.clear();
        let (mut ps, mut ps2) = (0.0, 0.0);
        for (k, &(i, _)) in session.shown.iter().enumerate() {
            let p = self.u[k] / denom;
            let y = session.bought.iter().filter(|&&b| b as usize == k).count() as f64;
            if fit_gamma {
                let f = data.affinity(s, k);
                ps += p * f;
                ps2 += p * f * f;
                self.gg += (y - events * p) * f;
            }
            let j = pool(i as usize);
            self.ga[j] += y - events * p;
            self.ha[j] += events * p * (1.0 - p);
            let c = log.items[i as usize].category;
            let x = xs[k];
            match self.per_cat.iter_mut().find(|t| t.0 == c) {
                Some(t) => {
                    t.1 += p * x;
                    t.2 += p * x * x;
                    t.3 += (y - events * p) * x;
                }
                None => self
                    .per_cat
                    .push((c, p * x, p * x * x, (y - events * p) * x)),
            }
        }
        for &(c, px, px2, r) in &self.per_cat {
            self.gb[c] -= r;
            self.hb[c] += events * (px2 - px * px);
        }
        self.hg += events * (ps2 - ps * ps);
    }
}

/// Fits appeal (and β unless fixed, and γ unless fixed) on the sessions `which`.
pub(super) fn fit(data: &Prepared, which: &[usize], spec: &FitSpec) -> Fitted {
    let log = data.log;
    let n_cat = log.categories.len();
    let n_appeal = spec.n_appeal;
    let mut a = vec![-3.0; n_appeal];
    let mut beta = spec
        .fixed_beta
        .map_or_else(|| vec![1.0; n_cat], <[f64]>::to_vec);
    let mut info = vec![0.0; n_cat];
    let fit_gamma = !data.affinity.is_empty() && spec.gamma_fixed.is_none();
    let mut gamma = spec
        .gamma_fixed
        .unwrap_or(if data.affinity.is_empty() { 0.0 } else { 1.0 });
    let mut d = Derivatives::new(n_appeal, n_cat);
    let mut iterations = 0;
    for iter in 0..MAX_ITER {
        iterations = iter + 1;
        d.clear();
        let at = At {
            pool: spec.pool,
            a: &a,
            beta: &beta,
            gamma,
            fit_gamma,
        };
        for &s in which {
            d.add_session(data, s, &at);
        }
        let mut step = step_appeal(log, spec, &d, &mut a);
        info.clone_from(&d.hb);
        if spec.fixed_beta.is_none() {
            step = step.max(step_beta(&d, &mut beta));
        }
        if fit_gamma && d.hg > 0.0 {
            let delta = (d.gg / d.hg).clamp(-MAX_STEP, MAX_STEP);
            gamma += delta;
            step = step.max(delta.abs());
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

/// The Newton step of every appeal (with its category prior when every item has its own);
/// the largest step's size.
fn step_appeal(log: &ChoiceLog, spec: &FitSpec, d: &Derivatives, a: &mut [f64]) -> f64 {
    // Every item its own appeal, with the category prior (else one pooled constant).
    let own_params = spec.n_appeal == log.items.len();
    let cat_of = |k: usize| log.items[k].category;
    let prior_var = spec.prior_sd * spec.prior_sd;
    // Category means of the appeals: the prior's centre.
    let mut mean = vec![(0.0, 0.0); log.categories.len()];
    if own_params {
        for (k, v) in a.iter().enumerate() {
            let c = cat_of(k);
            mean[c].0 += v;
            mean[c].1 += 1.0;
        }
    }
    let mut step = 0.0f64;
    for k in 0..spec.n_appeal {
        let (g, h) = if own_params {
            let (sum, n) = mean[cat_of(k)];
            let m = sum / f64::max(n, 1.0);
            (d.ga[k] - (a[k] - m) / prior_var, d.ha[k] + 1.0 / prior_var)
        } else {
            (d.ga[k], d.ha[k].max(1e-9))
        };
        let delta = (g / h).clamp(-MAX_STEP, MAX_STEP);
        a[k] += delta;
        step = step.max(delta.abs());
    }
    step
}

/// The Newton step of every category's β (with its weak prior); the largest step's size.
fn step_beta(d: &Derivatives, beta: &mut [f64]) -> f64 {
    let mut step = 0.0f64;
    for (c, b) in beta.iter_mut().enumerate() {
        let g = d.gb[c] - *b / BETA_PRIOR_VAR;
        let h = d.hb[c] + 1.0 / BETA_PRIOR_VAR;
        let delta = (g / h).clamp(-MAX_STEP, MAX_STEP);
        *b += delta;
        step = step.max(delta.abs());
    }
    step
}

/// Log-likelihood of each session in `which`, and its predicted purchase probability.
pub(super) fn score(
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
pub(super) fn shrink(raw: &[f64], se: &[f64]) -> (f64, f64, Vec<f64>) {
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
