//! Past simulations: the stored `sims`, and one of them read back as the report it was,
//! every policy's days per replicate rebuilt from `sim_metrics` and its totals by category
//! from `sim_categories` (so its daily means, intervals and summary are computed as they
//! were; item prices are not stored).

use shoplab_data::simlab::{self, StoredSim};
use shoplab_sim::market::CategoryTotals;
use shoplab_sim::{Day, PolicyRun};

use crate::{EngineError, Result, Session, SimReport};

/// A stored simulation read back.
#[derive(Debug, Clone)]
pub struct PastSimulation {
    pub report: SimReport,
    /// Its scenario's TOML text.
    pub scenario: String,
}

fn set(d: &mut Day, metric: &str, v: f64) {
    match metric {
        "sessions" => d.sessions = v as u64,
        "impressions" => d.impressions = v as u64,
        "purchases" => d.purchases = v as u64,
        "revenue" => d.revenue = v,
        "margin" => d.margin = v,
        // Stored as means; the day keeps sums (fixed up once the counts are in).
        "price_index" => d.price_index = v,
        "stock" => d.stock = Some(v as u64),
        "regret" => d.regret = Some(v),
        "predicted_conversion" => d.predicted = Some(v),
        _ => {}
    }
}

impl Session {
    /// The stored simulations, newest first.
    pub fn simulations(&self) -> Result<Vec<StoredSim>> {
        Ok(simlab::simulations(&self.ws)?)
    }

    /// Simulation `sim_id` as it was stored.
    pub fn past_simulation(&self, sim_id: i64) -> Result<PastSimulation> {
        let (name, scenario) = simlab::simulation_scenario(&self.ws, sim_id)?
            .ok_or_else(|| EngineError::NotFound(format!("no simulation {sim_id}")))?;
        let mut runs: Vec<PolicyRun> = Vec::new();
        for v in simlab::simulation_metrics(&self.ws, sim_id)? {
            let (policy, rep, day) = (v.policy, v.replicate, v.day);
            if runs.last().is_none_or(|r| r.policy != policy) {
                runs.push(PolicyRun {
                    policy,
                    replicates: Vec::new(),
                    categories: Vec::new(),
                    by_category: Vec::new(),
                    seconds: 0.0,
                    prices: Vec::new(),
                });
            }
            let run = runs.last_mut().expect("pushed above");
            let (rep, day) = (rep as usize, day as usize);
            if run.replicates.len() <= rep {
                run.replicates.resize(rep + 1, Vec::new());
            }
            let days = &mut run.replicates[rep];
            if days.len() <= day {
                days.resize(day + 1, Day::default());
            }
            set(&mut days[day], &v.metric, v.value);
        }
        for d in runs
            .iter_mut()
            .flat_map(|r| r.replicates.iter_mut().flatten())
        {
            d.price_index *= d.purchases as f64;
            d.predicted = d.predicted.map(|p| p * d.sessions as f64);
        }
        for c in simlab::simulation_categories(&self.ws, sim_id)? {
            let Some(run) = runs.iter_mut().find(|r| r.policy == c.policy) else {
                continue;
            };
            let rep = c.replicate as usize;
            if run.by_category.len() <= rep {
                run.by_category.resize(rep + 1, Vec::new());
            }
            if rep == 0 {
                run.categories.push(c.category);
            }
            run.by_category[rep].push(CategoryTotals {
                sessions: c.sessions as u64,
                impressions: c.impressions as u64,
                purchases: c.purchases as u64,
                revenue: c.revenue,
                margin: c.margin,
            });
        }
        Ok(PastSimulation {
            report: SimReport { sim_id, name, runs },
            scenario,
        })
    }
}
