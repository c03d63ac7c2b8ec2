//! What a run reports: each replicate's days, their means over replicates (what real time
//! streams), and a policy's totals over the horizon.

use serde::Serialize;

use crate::estimate::Estimate;

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
    /// Mean over replicates (when the oracle runs), and its 95% interval.
    pub regret: Option<f64>,
    pub regret_ci: Option<[f64; 2]>,
    /// The conversion the policy's own demand model predicted (mean over replicates), and
    /// the squared error of that prediction against the realized conversion (mean over
    /// replicates, with its 95% interval): policies that predict only.
    pub predicted_conversion: Option<f64>,
    pub squared_error: Option<f64>,
    pub squared_error_ci: Option<[f64; 2]>,
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
        let has_regret = replicates.first().is_some_and(|d| d.regret.is_some());
        let predicts = replicates.first().is_some_and(|d| d.predicted.is_some());
        let error = |d: &Day| {
            d.predicted_conversion()
                .map_or(0.0, |p| (p - d.conversion()).powi(2))
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
            regret: has_regret.then(|| mean(&|d| d.regret.unwrap_or(0.0))),
            regret_ci: has_regret.then(|| ci(&|d| d.regret.unwrap_or(0.0))),
            predicted_conversion: predicts
                .then(|| mean(&|d| d.predicted_conversion().unwrap_or(0.0))),
            squared_error: predicts.then(|| mean(&error)),
            squared_error_ci: predicts.then(|| ci(&error)),
            prices: Vec::new(),
        }
    }
}

/// One category's totals over a replicate's days.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct CategoryTotals {
    /// Sessions that landed in the category.
    pub sessions: u64,
    pub impressions: u64,
    pub purchases: u64,
    /// Salvage of the category's units left included.
    pub revenue: f64,
    pub margin: f64,
}

/// One category's results of a policy over the horizon: means over the replicates, with
/// their 95% intervals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryResult {
    pub category: String,
    pub sessions: f64,
    pub conversion: Estimate,
    pub revenue: Estimate,
    pub margin: Estimate,
}

/// One policy over every seed.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyRun {
    pub policy: String,
    /// Days of each replicate.
    pub replicates: Vec<Vec<Day>>,
    /// The categories' codes, and each replicate's totals per category in that order.
    pub categories: Vec<String>,
    pub by_category: Vec<Vec<CategoryTotals>>,
    pub seconds: f64,
    /// The first replicate's price of every item, day by day (promos included); empty for
    /// catalogs over [`PRICE_LOG_ITEMS`] items.
    #[serde(skip)]
    pub prices: Vec<Vec<f32>>,
}

/// The largest catalog whose daily prices a run keeps (for price trajectories).
pub const PRICE_LOG_ITEMS: usize = 20_000;

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

    /// Each category's conversion (its purchases over the sessions that landed in it),
    /// revenue and margin over the horizon, means over the replicates.
    pub fn category_results(&self) -> Vec<CategoryResult> {
        let of = |c: usize, f: &dyn Fn(&CategoryTotals) -> f64| -> Vec<f64> {
            self.by_category
                .iter()
                .filter_map(|rep| rep.get(c).map(f))
                .collect()
        };
        self.categories
            .iter()
            .enumerate()
            .map(|(c, code)| {
                let sessions = of(c, &|t| t.sessions as f64);
                CategoryResult {
                    category: code.clone(),
                    sessions: sessions.iter().sum::<f64>() / sessions.len().max(1) as f64,
                    conversion: Estimate::of(&of(c, &|t| {
                        t.purchases as f64 / t.sessions.max(1) as f64
                    })),
                    revenue: Estimate::of(&of(c, &|t| t.revenue)),
                    margin: Estimate::of(&of(c, &|t| t.margin)),
                }
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
