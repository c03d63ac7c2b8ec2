//! A sweep: many runs of one model, its hyper-parameters taken from a grid (every
//! combination) or drawn at random from lists and ranges, each configuration once per seed.
//! Every trial is a normal run; the sweep is only the list of their configurations.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::TrainConfig;
use crate::error::{ModelError, Result};

/// One swept hyper-parameter: a list of values, or a range to draw from.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    /// The option as on the command line, without dashes (`factors`, `lr`, `burn-in`).
    pub name: String,
    pub values: Values,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    List(Vec<f64>),
    /// Drawn uniformly from `[low, high]`, or uniformly in log space.
    Range {
        low: f64,
        high: f64,
        log: bool,
    },
}

/// Grid or random search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Search {
    /// Every combination of the axes' lists.
    Grid,
    /// This many configurations, each axis drawn independently (ChaCha8 from `seed`).
    Random { trials: usize, seed: u64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct SweepSpec {
    /// The configuration every trial starts from.
    pub base: TrainConfig,
    pub axes: Vec<Axis>,
    pub search: Search,
    /// Each configuration is run once per seed.
    pub seeds: Vec<u64>,
}

/// Most trials one sweep may hold.
pub const MAX_TRIALS: usize = 1_000;

impl Axis {
    /// `name=v1,v2,...` (a list) or `name=low..high` / `name=log:low..high` (a range).
    pub fn parse(text: &str) -> Result<Axis> {
        let bad = |why: String| refused(format!("axis \"{text}\": {why}"));
        let (name, spec) = text
            .split_once('=')
            .ok_or_else(|| bad("expected NAME=V1,V2,... or NAME=LOW..HIGH".into()))?;
        let name = name.trim().trim_start_matches("--").to_string();
        let number = |s: &str| {
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| bad(format!("\"{}\" is not a number", s.trim())))
        };
        let values = if let Some((low, high)) = spec.split_once("..") {
            let (log, low) = match low.trim().strip_prefix("log:") {
                Some(rest) => (true, rest),
                None => (false, low),
            };
            let (low, high) = (number(low)?, number(high)?);
            if low >= high {
                return Err(bad(format!(
                    "the range's low end must be below its high end ({low} ≥ {high})"
                )));
            }
            if log && low <= 0.0 {
                return Err(bad(format!("a log range must start above 0 (got {low})")));
            }
            Values::Range { low, high, log }
        } else {
            let list = spec.split(',').map(number).collect::<Result<Vec<f64>>>()?;
            Values::List(list)
        };
        Ok(Axis { name, values })
    }

    fn draw(&self, rng: &mut ChaCha8Rng) -> f64 {
        match &self.values {
            Values::List(v) => v[rng.random_range(0..v.len())],
            Values::Range {
                low,
                high,
                log: false,
            } => rng.random_range(*low..=*high),
            Values::Range {
                low,
                high,
                log: true,
            } => rng.random_range(low.ln()..=high.ln()).exp(),
        }
    }
}

impl SweepSpec {
    /// Every trial's configuration, each checked as a run would be (nothing is recorded
    /// when one is refused): configurations in grid or draw order, each once per seed.
    pub fn trials(&self) -> Result<Vec<TrainConfig>> {
        if self.axes.is_empty() && self.seeds.len() < 2 {
            return Err(refused(
                "a sweep needs an axis (--grid NAME=V1,V2 or --range NAME=LOW..HIGH) or several seeds".into(),
            ));
        }
        let seeds: Vec<u64> = if self.seeds.is_empty() {
            vec![self.base.seed]
        } else {
            self.seeds.clone()
        };
        let points: Vec<Vec<f64>> = match self.search {
            Search::Grid => {
                let mut points = vec![Vec::new()];
                for axis in &self.axes {
                    let Values::List(values) = &axis.values else {
                        return Err(refused(format!(
                            "a grid needs a list of values for {} (a range is for --random)",
                            axis.name
                        )));
                    };
                    points = points
                        .into_iter()
                        .flat_map(|p| {
                            values.iter().map(move |v| {
                                let mut q = p.clone();
                                q.push(*v);
                                q
                            })
                        })
                        .collect();
                }
                points
            }
            Search::Random { trials, seed } => {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                (0..trials)
                    .map(|_| self.axes.iter().map(|a| a.draw(&mut rng)).collect())
                    .collect()
            }
        };
        let total = points.len() * seeds.len();
        if total == 0 || total > MAX_TRIALS {
            return Err(refused(format!(
                "a sweep runs 1 to {MAX_TRIALS} trials (this one: {} configurations × {} seeds = {total})",
                points.len(),
                seeds.len()
            )));
        }
        let mut out = Vec::with_capacity(total);
        for point in points {
            let mut cfg = self.base.clone();
            for (axis, value) in self.axes.iter().zip(point) {
                set(&mut cfg, &axis.name, value)?;
            }
            for seed in &seeds {
                let mut c = cfg.clone();
                c.seed = *seed;
                c.check()?;
                out.push(c);
            }
        }
        Ok(out)
    }
}

fn refused(message: String) -> ModelError {
    ModelError::Config {
        model: "sweep".into(),
        message,
    }
}

/// Sets one numeric option of `cfg`, named as on the command line (`factors`, `lr`,
/// `burn-in`, `alpha`); whole-number options get the value rounded.
pub fn set(cfg: &mut TrainConfig, name: &str, value: f64) -> Result<()> {
    let key = match name.replace('-', "_").as_str() {
        "alpha" => "noise_precision".to_string(),
        other => other.to_string(),
    };
    let mut json = serde_json::to_value(&*cfg).map_err(|e| refused(e.to_string()))?;
    let obj = json.as_object_mut().expect("a config is an object");
    let numeric: Vec<String> = obj
        .iter()
        .filter(|(k, v)| v.is_number() && k.as_str() != "seed")
        .map(|(k, _)| k.replace('_', "-").replace("noise-precision", "alpha"))
        .collect();
    let Some(slot) = obj.get_mut(&key).filter(|v| v.is_number() && key != "seed") else {
        return Err(refused(format!(
            "{name} is not a numeric option of {} (sweepable: {}; seeds go in --seeds)",
            cfg.model.name(),
            numeric.join(", ")
        )));
    };
    *slot = if slot.is_u64() {
        if value < 0.0 {
            return Err(refused(format!(
                "{name} is a whole number ≥ 0 (got {value})"
            )));
        }
        serde_json::Value::from(value.round() as u64)
    } else {
        serde_json::Value::from(value)
    };
    *cfg = serde_json::from_value(json).map_err(|e| refused(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::ModelKind;

    fn spec(search: Search, axes: &[&str]) -> SweepSpec {
        SweepSpec {
            base: TrainConfig::new("rr", ModelKind::Bpr),
            axes: axes.iter().map(|a| Axis::parse(a).unwrap()).collect(),
            search,
            seeds: vec![1, 2, 3],
        }
    }

    #[test]
    fn a_grid_is_every_combination_once_per_seed() {
        let t = spec(Search::Grid, &["factors=16,64", "lr=0.01,0.05"])
            .trials()
            .unwrap();
        assert_eq!(t.len(), 12);
        let seen: Vec<(usize, f64, u64)> = t
            .iter()
            .map(|c| (c.hyper.factors, c.hyper.lr, c.seed))
            .collect();
        assert_eq!(seen[0], (16, 0.01, 1));
        assert_eq!(seen[2], (16, 0.01, 3));
        assert_eq!(seen[3], (16, 0.05, 1));
        assert_eq!(seen[11], (64, 0.05, 3));
        assert!(
            t.iter()
                .all(|c| c.model == ModelKind::Bpr && c.split == "rr")
        );
    }

    #[test]
    fn random_search_draws_in_range_and_repeats_with_its_seed() {
        let s = spec(
            Search::Random { trials: 5, seed: 7 },
            &["lr=log:0.001..0.1", "factors=8..128"],
        );
        let t = s.trials().unwrap();
        assert_eq!(t.len(), 15);
        assert!(t.iter().all(|c| (0.001..=0.1).contains(&c.hyper.lr)));
        assert!(t.iter().all(|c| (8..=128).contains(&c.hyper.factors)));
        assert_eq!(t, s.trials().unwrap());
        // The same configuration for each seed.
        assert_eq!(t[0].hyper, t[1].hyper);
        assert_ne!(t[0].hyper, t[3].hyper);
    }

    #[test]
    fn bad_axes_are_refused_with_what_was_expected() {
        let err = |axes: &[&str], search| spec(search, axes).trials().unwrap_err().to_string();
        let depth = err(&["depth=1,2"], Search::Grid);
        assert!(depth.contains(
            "depth is not a numeric option of bpr (sweepable: batch-size, burn-in, epochs, factors"
        ), "{depth}");
        assert!(err(&["seed=1,2"], Search::Grid).contains("seeds go in --seeds"));
        assert!(
            err(&["lr=0.1..0.2"], Search::Grid).contains("a grid needs a list of values for lr")
        );
        assert!(err(&["lr=-1,0.1"], Search::Grid).contains("--lr must be a number > 0 (got -1)"));
        assert!(
            Axis::parse("lr=log:0..1")
                .unwrap_err()
                .to_string()
                .contains("a log range must start above 0")
        );
        assert!(
            Axis::parse("lr=a,b")
                .unwrap_err()
                .to_string()
                .contains("\"a\" is not a number")
        );
        let many = format!(
            "factors={}",
            (1..=340)
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        assert!(
            err(&[many.as_str()], Search::Grid)
                .contains("this one: 340 configurations × 3 seeds = 1020")
        );
    }
}
