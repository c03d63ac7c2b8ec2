//! Planning an A/B test of two policies on the simulated shop: how many days (and sessions)
//! a test needs to detect B's effect on conversion with a chosen power at a chosen
//! significance, and the smallest effect a test of each length detects.
//!
//! **By simulation.** Each arm gets its share of the day's traffic. Arm A of test `r` is
//! replicate `r` of policy A, arm B is replicate `r + 1` of policy B: different shoppers,
//! as in a real test (a replicate's shopper stream depends on its seed only, so A and B of
//! the *same* replicate would be paired). A test of `d` days compares the two arms'
//! conversion over their first `d` days with the two-proportion z-test; the power at `d` is
//! the share of tests that reject, with its Wilson interval. The simulated minimum
//! detectable effect at `d` is `(z₁₋α/₂ + z_power) ·` the standard deviation of the
//! difference over tests: it carries what the formula leaves out (returning shoppers, the
//! weekly shape, prices that learn).
//!
//! **By formula.** The textbook two-proportion sample size with A's conversion `p_A`:
//! `n = (z₁₋α/₂ + z_power)² · (p_A(1 − p_A) + p_B(1 − p_B)) / (p_B − p_A)²` sessions per
//! arm, and the MDE of `n` sessions per arm `(z₁₋α/₂ + z_power) · √(2 p_A(1 − p_A) / n)`.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal};

use crate::{Estimate, PolicyRun, Result, SimError};

/// What a test must achieve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PlanOptions {
    /// Two-sided significance level.
    pub alpha: f64,
    /// The probability of detecting the effect.
    pub power: f64,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            alpha: 0.05,
            power: 0.8,
        }
    }
}

/// One test length.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PowerPoint {
    pub days: u32,
    /// Mean sessions per arm over the tests.
    pub sessions_per_arm: f64,
    /// Share of simulated tests that reject, with its 95% Wilson interval.
    pub power: f64,
    pub power_interval: [f64; 2],
    pub mde_simulated: f64,
    pub mde_formula: f64,
}

/// The plan of an A/B test of policy B against policy A.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AbPlan {
    pub a: String,
    pub b: String,
    pub options: PlanOptions,
    /// Simulated tests (one per replicate).
    pub tests: usize,
    /// Each arm's conversion over the whole horizon, over replicates.
    pub conversion_a: Estimate,
    pub conversion_b: Estimate,
    /// `p_B − p_A`, and relative to `p_A`.
    pub effect: f64,
    pub relative_effect: f64,
    pub curve: Vec<PowerPoint>,
    /// The first test length whose simulated power reaches the target (`None`: none in the
    /// horizon), and the first whose simulated MDE is at most the effect.
    pub days_by_power: Option<u32>,
    pub days_by_mde: Option<u32>,
    /// The formula's sessions per arm and days (`None` when the effect is 0).
    pub sessions_formula: Option<f64>,
    pub days_formula: Option<f64>,
}

fn z(p: f64) -> f64 {
    Normal::standard().inverse_cdf(p)
}

/// The 95% Wilson interval of `k` successes in `n`.
fn wilson(k: usize, n: usize) -> [f64; 2] {
    if n == 0 {
        return [0.0, 1.0];
    }
    let (n, p, z) = (n as f64, k as f64 / n as f64, 1.959_964);
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z / (1.0 + z * z / n) * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    [(centre - half).max(0.0), (centre + half).min(1.0)]
}

/// Sessions and purchases of each replicate's first `d` days.
fn totals(run: &PolicyRun, d: usize) -> Vec<(f64, f64)> {
    run.replicates
        .iter()
        .map(|days| {
            days.iter().take(d).fold((0.0, 0.0), |(s, p), day| {
                (s + day.sessions as f64, p + day.purchases as f64)
            })
        })
        .collect()
}

fn conversion(run: &PolicyRun) -> Estimate {
    let days = run.replicates.first().map_or(0, Vec::len);
    let v: Vec<f64> = totals(run, days)
        .iter()
        .map(|(s, p)| if *s > 0.0 { p / s } else { 0.0 })
        .collect();
    Estimate::of(&v)
}

/// Plans a test of `b` against `a`, two runs of the same scenario over the same seeds.
pub fn plan(a: &PolicyRun, b: &PolicyRun, opts: PlanOptions) -> Result<AbPlan> {
    let tests = a.replicates.len();
    let days = a.replicates.first().map_or(0, Vec::len);
    if tests < 2 || b.replicates.len() != tests || days == 0 {
        return Err(SimError::Config(format!(
            "an A/B plan needs two policies over the same 2 or more replicates with days \
             (got {tests} and {} replicates, {days} days)",
            b.replicates.len()
        )));
    }
    if !(opts.alpha > 0.0 && opts.alpha < 0.5 && opts.power > 0.5 && opts.power < 1.0) {
        return Err(SimError::Config(format!(
            "alpha must be in (0, 0.5) and power in (0.5, 1) (got {} and {})",
            opts.alpha, opts.power
        )));
    }
    let (za, zb) = (z(1.0 - opts.alpha / 2.0), z(opts.power));
    let (conversion_a, conversion_b) = (conversion(a), conversion(b));
    let (pa, pb) = (conversion_a.mean, conversion_b.mean);
    let effect = pb - pa;
    let curve: Vec<PowerPoint> = (1..=days)
        .map(|d| {
            let (ta, tb) = (totals(a, d), totals(b, d));
            let mut rejected = 0;
            let mut diffs = Vec::with_capacity(tests);
            let mut sessions = 0.0;
            for r in 0..tests {
                let (sa, ka) = ta[r];
                let (sb, kb) = tb[(r + 1) % tests];
                sessions += (sa + sb) / 2.0;
                if sa == 0.0 || sb == 0.0 {
                    continue;
                }
                let (qa, qb) = (ka / sa, kb / sb);
                diffs.push(qb - qa);
                let pooled = (ka + kb) / (sa + sb);
                let se = (pooled * (1.0 - pooled) * (1.0 / sa + 1.0 / sb)).sqrt();
                if se > 0.0 && ((qb - qa) / se).abs() > za {
                    rejected += 1;
                }
            }
            let n = sessions / tests as f64;
            let mean = diffs.iter().sum::<f64>() / diffs.len().max(1) as f64;
            let var = diffs.iter().map(|x| (x - mean).powi(2)).sum::<f64>()
                / (diffs.len().max(2) - 1) as f64;
            PowerPoint {
                days: d as u32,
                sessions_per_arm: n,
                power: rejected as f64 / tests as f64,
                power_interval: wilson(rejected, tests),
                mde_simulated: (za + zb) * var.sqrt(),
                mde_formula: (za + zb) * (2.0 * pa * (1.0 - pa) / n.max(1.0)).sqrt(),
            }
        })
        .collect();
    let per_day = curve
        .last()
        .map_or(0.0, |c| c.sessions_per_arm / days as f64);
    let sessions_formula = (effect != 0.0)
        .then(|| (za + zb).powi(2) * (pa * (1.0 - pa) + pb * (1.0 - pb)) / effect.powi(2));
    Ok(AbPlan {
        a: a.policy.clone(),
        b: b.policy.clone(),
        options: opts,
        tests,
        conversion_a,
        conversion_b,
        effect,
        relative_effect: if pa > 0.0 { effect / pa } else { f64::NAN },
        days_by_power: curve.iter().find(|c| c.power >= opts.power).map(|c| c.days),
        days_by_mde: curve
            .iter()
            .find(|c| effect != 0.0 && c.mde_simulated <= effect.abs())
            .map(|c| c.days),
        days_formula: sessions_formula
            .filter(|_| per_day > 0.0)
            .map(|n| n / per_day),
        sessions_formula,
        curve,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Day;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Days of independent Bernoulli sessions: the formula's own world.
    fn run(name: &str, p: f64, seed: u64, tests: usize, days: usize) -> PolicyRun {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let replicates = (0..tests)
            .map(|_| {
                (0..days)
                    .map(|_| {
                        let sessions = 500;
                        let purchases = (0..sessions).filter(|_| rng.random::<f64>() < p).count();
                        Day {
                            sessions,
                            purchases: purchases as u64,
                            ..Day::default()
                        }
                    })
                    .collect()
            })
            .collect();
        PolicyRun {
            policy: name.into(),
            replicates,
            categories: Vec::new(),
            by_category: Vec::new(),
            seconds: 0.0,
            prices: Vec::new(),
        }
    }

    #[test]
    fn in_a_world_of_independent_sessions_simulation_agrees_with_the_formula() {
        let (a, b) = (run("a", 0.05, 1, 400, 20), run("b", 0.06, 2, 400, 20));
        let p = plan(&a, &b, PlanOptions::default()).unwrap();
        // n = (1.96 + 0.84)² (0.05·0.95 + 0.06·0.94) / 0.01² ≈ 8,146 sessions per arm.
        let n = p.sessions_formula.unwrap();
        assert!((n - 8146.0).abs() < 400.0, "{n}");
        let days = p.days_formula.unwrap();
        assert!((days - n / 500.0).abs() < 1e-6);
        // The simulated MDE and power agree with the formula within the simulation's noise.
        for c in &p.curve {
            assert!(
                (c.mde_simulated / c.mde_formula - 1.0).abs() < 0.15,
                "{c:?}"
            );
        }
        let at = &p.curve[(days.round() as usize).clamp(1, 20) - 1];
        assert!((at.power - 0.8).abs() < 0.1, "{at:?}");
        assert!(p.days_by_mde.is_some() && p.days_by_power.is_some());
    }

    #[test]
    fn bad_options_and_runs_are_refused() {
        let (a, b) = (run("a", 0.05, 1, 10, 3), run("b", 0.06, 2, 10, 3));
        let bad = PlanOptions {
            alpha: 0.7,
            power: 0.8,
        };
        assert!(plan(&a, &b, bad).is_err());
        let one = run("b", 0.06, 2, 1, 3);
        assert!(plan(&a, &one, PlanOptions::default()).is_err());
    }
}
