//! Off-policy evaluation on logged bandit feedback: what would a target policy's mean reward
//! have been, from a log collected by another (behavior) policy whose action probabilities
//! (propensities) were logged. Estimators: inverse propensity weighting (IPS), its
//! self-normalized form (SNIPS), the direct method (DM: a reward model averaged over the
//! target's actions) and doubly robust (DR: DM corrected by the weighted residuals); each
//! with a bootstrap interval. Actions are shown in slots (`position`); the target policy is
//! a distribution over actions per position.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use crate::{Result, SimError};

/// One logged impression.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Logged {
    pub action: usize,
    pub position: usize,
    pub reward: f64,
    /// The behavior policy's probability of this action at this position.
    pub propensity: f64,
}

/// A distribution over actions at each position: `p[position][action]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionDist {
    pub p: Vec<Vec<f64>>,
}

impl ActionDist {
    /// Every action equally likely at each position.
    pub fn uniform(actions: usize, positions: usize) -> Self {
        ActionDist {
            p: vec![vec![1.0 / actions as f64; actions]; positions],
        }
    }

    /// The distribution another logged policy played: how often it showed each action at
    /// each position. A policy that learns while it logs (Open Bandit's Bernoulli TS was
    /// retrained during its log) has no single distribution; these frequencies estimate its
    /// average over the log, which its own mean reward measures. (The mean of its logged
    /// propensities would not: an action is logged more often when its propensity is high,
    /// so that mean is biased upwards.)
    pub fn from_log(log: &[Logged], actions: usize, positions: usize) -> Self {
        let mut n = vec![vec![0.0; actions]; positions];
        for x in log {
            n[x.position][x.action] += 1.0;
        }
        let p = n
            .into_iter()
            .map(|row| {
                let total: f64 = row.iter().sum();
                row.iter()
                    .map(|v| if total > 0.0 { v / total } else { 0.0 })
                    .collect()
            })
            .collect();
        ActionDist { p }
    }
}

/// An estimate with its bootstrap 95% interval (percentiles).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

/// IPS, SNIPS, DM and DR on `log` for the target `pi`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimates {
    pub ips: Estimate,
    pub snips: Estimate,
    pub dm: Estimate,
    pub dr: Estimate,
}

impl Estimates {
    pub fn rows(&self) -> [(&'static str, Estimate); 4] {
        [
            ("IPS", self.ips),
            ("SNIPS", self.snips),
            ("DM", self.dm),
            ("DR", self.dr),
        ]
    }
}

/// The reward model of DM and DR: each (action, position)'s mean reward in the log, shrunk
/// toward its position's mean with the weight of `prior` pseudo-observations.
pub fn reward_model(log: &[Logged], actions: usize, positions: usize, prior: f64) -> Vec<Vec<f64>> {
    let mut sum = vec![vec![0.0; actions]; positions];
    let mut n = vec![vec![0.0; actions]; positions];
    for x in log {
        sum[x.position][x.action] += x.reward;
        n[x.position][x.action] += 1.0;
    }
    (0..positions)
        .map(|k| {
            let base = sum[k].iter().sum::<f64>() / n[k].iter().sum::<f64>().max(1.0);
            (0..actions)
                .map(|a| (sum[k][a] + prior * base) / (n[k][a] + prior))
                .collect()
        })
        .collect()
}

/// The four point estimates on `log` (with the reward model `q`).
pub fn point(log: &[Logged], pi: &ActionDist, q: &[Vec<f64>]) -> [f64; 4] {
    let n = log.len().max(1) as f64;
    let (mut ips, mut w_sum, mut dm, mut correction) = (0.0, 0.0, 0.0, 0.0);
    for x in log {
        let w = pi.p[x.position][x.action] / x.propensity;
        let expected: f64 = pi.p[x.position]
            .iter()
            .zip(&q[x.position])
            .map(|(p, r)| p * r)
            .sum();
        ips += w * x.reward;
        w_sum += w;
        dm += expected;
        correction += w * (x.reward - q[x.position][x.action]);
    }
    let snips = if w_sum > 0.0 { ips / w_sum } else { 0.0 };
    [ips / n, snips, dm / n, (dm + correction) / n]
}

/// The four estimates on a bootstrap resample of `log` (rows drawn with replacement; the
/// reward model refitted on the resample).
fn resampled_point(log: &[Logged], pi: &ActionDist, rng: &mut ChaCha8Rng) -> [f64; 4] {
    let sample: Vec<Logged> = (0..log.len())
        .map(|_| log[rng.random_range(0..log.len())])
        .collect();
    let (positions, actions) = (pi.p.len(), pi.p[0].len());
    point(
        &sample,
        pi,
        &reward_model(&sample, actions, positions, 10.0),
    )
}

/// Checks the log against the target and returns its action and position counts.
fn shape(log: &[Logged], pi: &ActionDist) -> Result<()> {
    if log.is_empty() {
        return Err(SimError::Config("the log is empty".into()));
    }
    for (i, x) in log.iter().enumerate() {
        if !(x.propensity > 0.0 && x.propensity <= 1.0) {
            return Err(SimError::Config(format!(
                "row {}: propensity {} is not in (0, 1]",
                i + 1,
                x.propensity
            )));
        }
        if x.position >= pi.p.len() || x.action >= pi.p[x.position].len() {
            return Err(SimError::Config(format!(
                "row {}: action {} at position {} is outside the target policy",
                i + 1,
                x.action,
                x.position
            )));
        }
    }
    Ok(())
}

/// The estimates with bootstrap intervals: `resamples` resamples of the log (rows drawn with
/// replacement, the reward model refitted on each), seeded by `seed`.
pub fn evaluate(log: &[Logged], pi: &ActionDist, resamples: usize, seed: u64) -> Result<Estimates> {
    shape(log, pi)?;
    let (positions, actions) = (pi.p.len(), pi.p[0].len());
    let values = point(log, pi, &reward_model(log, actions, positions, 10.0));
    let mut draws: Vec<[f64; 4]> = Vec::with_capacity(resamples);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for _ in 0..resamples {
        draws.push(resampled_point(log, pi, &mut rng));
    }
    let interval = |k: usize| -> Estimate {
        let mut v: Vec<f64> = draws.iter().map(|d| d[k]).collect();
        v.sort_by(f64::total_cmp);
        let at = |q: f64| {
            if v.is_empty() {
                values[k]
            } else {
                v[((q * (v.len() - 1) as f64).round() as usize).min(v.len() - 1)]
            }
        };
        Estimate {
            value: values[k],
            low: at(0.025),
            high: at(0.975),
        }
    };
    Ok(Estimates {
        ips: interval(0),
        snips: interval(1),
        dm: interval(2),
        dr: interval(3),
    })
}

/// OBP's benchmark protocol: the relative error |V̂ − truth| / truth of each estimator
/// (IPS, SNIPS, DM, DR) over `rounds` bootstrap resamples of the log: its mean and standard
/// deviation over the rounds.
pub fn relative_errors(
    log: &[Logged],
    pi: &ActionDist,
    truth: f64,
    rounds: usize,
    seed: u64,
) -> Result<[(f64, f64); 4]> {
    shape(log, pi)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let errors: Vec<[f64; 4]> = (0..rounds)
        .map(|_| resampled_point(log, pi, &mut rng).map(|e| (e - truth).abs() / truth))
        .collect();
    let n = errors.len().max(1) as f64;
    Ok(std::array::from_fn(|k| {
        let mean = errors.iter().map(|e| e[k]).sum::<f64>() / n;
        let var = errors.iter().map(|e| (e[k] - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        (mean, var.sqrt())
    }))
}

/// One impression of a logged policy, as the workspace's `bandit_log` holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRow {
    pub policy: Option<String>,
    pub action: String,
    pub position: i64,
    pub reward: f64,
    pub propensity: f64,
}

/// Off-policy estimates of one target on one behavior policy's log.
#[derive(Debug, Clone, Serialize)]
pub struct OpeReport {
    pub behavior: String,
    pub target: String,
    pub campaign: Option<String>,
    pub rows: usize,
    pub actions: usize,
    pub positions: usize,
    pub estimates: Estimates,
    /// For a logged target: its own mean reward (on-policy), and each estimator's relative
    /// error from it over bootstrap resamples, mean and standard deviation (IPS, SNIPS, DM,
    /// DR).
    pub truth: Option<f64>,
    pub relative_errors: Option<[(f64, f64); 4]>,
}

/// IPS, SNIPS, DM and DR of `target` on the rows of `behavior` among `rows` (one
/// campaign's log, every policy's impressions): `target` is `uniform` or `log:<policy>`
/// (the distribution another logged policy played, whose own mean reward is then the
/// truth the estimators are scored against, over `rounds` bootstrap resamples as the Open
/// Bandit Pipeline does). Actions and positions are numbered over all of `rows`.
pub fn assess(
    rows: &[LogRow],
    behavior: &str,
    campaign: Option<&str>,
    target: &str,
    resamples: usize,
    rounds: usize,
) -> Result<OpeReport> {
    let mut actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    actions.sort_unstable();
    actions.dedup();
    let mut positions: Vec<i64> = rows.iter().map(|r| r.position).collect();
    positions.sort_unstable();
    positions.dedup();
    let of = |policy: &str| -> Vec<Logged> {
        rows.iter()
            .filter(|r| r.policy.as_deref() == Some(policy))
            .map(|r| Logged {
                action: actions.binary_search(&r.action.as_str()).unwrap_or(0),
                position: positions.binary_search(&r.position).unwrap_or(0),
                reward: r.reward,
                propensity: r.propensity,
            })
            .collect()
    };
    let known = || {
        let mut p: Vec<&str> = rows.iter().filter_map(|r| r.policy.as_deref()).collect();
        p.sort_unstable();
        p.dedup();
        p.join(", ")
    };
    let log = of(behavior);
    if log.is_empty() {
        return Err(SimError::Config(format!(
            "bandit_log has no rows of policy \"{behavior}\"{} (policies: {})",
            campaign
                .map(|c| format!(" in campaign \"{c}\""))
                .unwrap_or_default(),
            known()
        )));
    }
    let (pi, truth) = match target.split_once(':') {
        None if target == "uniform" => (ActionDist::uniform(actions.len(), positions.len()), None),
        Some(("log", name)) => {
            let t = of(name);
            if t.is_empty() {
                return Err(SimError::Config(format!(
                    "no logged policy \"{name}\" to evaluate (policies: {})",
                    known()
                )));
            }
            let truth = t.iter().map(|x| x.reward).sum::<f64>() / t.len() as f64;
            (
                ActionDist::from_log(&t, actions.len(), positions.len()),
                Some(truth),
            )
        }
        _ => {
            return Err(SimError::Config(format!(
                "unknown target policy \"{target}\" (uniform, or log:<logged policy>)"
            )));
        }
    };
    let estimates = evaluate(&log, &pi, resamples, 1)?;
    let relative_errors = match truth {
        Some(truth) => Some(relative_errors(&log, &pi, truth, rounds, 1)?),
        None => None,
    };
    Ok(OpeReport {
        behavior: behavior.into(),
        target: target.into(),
        campaign: campaign.map(String::from),
        rows: log.len(),
        actions: actions.len(),
        positions: positions.len(),
        estimates,
        truth,
        relative_errors,
    })
}
