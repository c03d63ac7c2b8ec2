//! The price side of a product page: what a pricing policy would charge a shopper today, the
//! conversion run's P(purchase) at that price, and expected conversion, revenue and margin
//! per visit across prices, banded by the calibrated price sensitivity's interval.
//!
//! Demand is the conversion model's: P(buy at p) = σ(logit − β·ln(p / p_ref)), with the
//! shopper's and the item's logit at the item's reference price and β the category's fitted
//! elasticity; the band swaps β for the calibration's β ± 1.96·se (the same functional form
//! as the simulator's utility).

use std::sync::Arc;

use shoplab_data::store;
use shoplab_model::conversion::{ConversionParams, load_params};

use super::{Storefront, lock};
use crate::{EngineError, Result};

/// Prices of the curve, as multiples of the list price.
const CURVE_FROM: f64 = 0.6;
const CURVE_TO: f64 = 1.4;
const CURVE_POINTS: usize = 41;

/// A pricing policy of the product page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PricePolicy {
    pub id: &'static str,
    pub label: &'static str,
    pub help: &'static str,
}

/// The policies a product page can price with.
pub const PRICE_POLICIES: &[PricePolicy] = &[
    PricePolicy {
        id: "list",
        label: "List price",
        help: "the catalog's price, unchanged",
    },
    PricePolicy {
        id: "markdown-10",
        label: "10% markdown",
        help: "a flat 10% off the list price",
    },
    PricePolicy {
        id: "revenue-optimal",
        label: "Revenue-optimal for this shopper",
        help: "the price on the curve with the highest expected revenue per visit (conversion run)",
    },
    PricePolicy {
        id: "margin-optimal",
        label: "Margin-optimal for this shopper",
        help: "the price on the curve with the highest expected margin per visit (needs the item's cost)",
    },
];

/// One point of the price curve.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceCurvePoint {
    pub price: f64,
    pub p_buy: f64,
    pub revenue: f64,
    pub margin: Option<f64>,
    /// P(buy) at the calibrated sensitivity's interval ends (lower, higher probability).
    pub p_buy_band: Option<(f64, f64)>,
}

/// A product page's price side for one shopper and one policy.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceQuote {
    pub product: usize,
    pub list_price: f64,
    pub cost: Option<f64>,
    pub policy: &'static str,
    pub policy_price: f64,
    pub p_buy_list: Option<f64>,
    pub p_buy_policy: Option<f64>,
    pub conversion_run: Option<i64>,
    /// The calibration, the category and its sensitivity with the 95% interval.
    pub elasticity: Option<(i64, String, f64, f64, f64)>,
    pub curve: Vec<PriceCurvePoint>,
    /// Why a figure is missing.
    pub notes: Vec<String>,
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

impl Storefront {
    /// The latest conversion run's parameters, loaded on first use.
    fn conversion(&self) -> Result<Option<Arc<ConversionParams>>> {
        let Some(run_id) = self.conversion_run else {
            return Ok(None);
        };
        if let Some(c) = lock(&self.conversion).as_ref() {
            return Ok(Some(c.clone()));
        }
        let params = Arc::new(load_params(&self.session().ws, run_id)?);
        *lock(&self.conversion) = Some(params.clone());
        Ok(Some(params))
    }

    /// The price side of `item`'s page for `user` (an anonymous shopper when `None`) under
    /// pricing policy `policy` (one of [`PRICE_POLICIES`]).
    pub fn price(&self, item: &str, user: Option<&str>, policy: &str) -> Result<PriceQuote> {
        let policy = PRICE_POLICIES
            .iter()
            .find(|p| p.id == policy)
            .ok_or_else(|| {
                EngineError::BadArgument(format!(
                    "unknown pricing policy {policy:?} (known: {})",
                    PRICE_POLICIES
                        .iter()
                        .map(|p| p.id)
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
        let product = self.product(item)?;
        let p = &self.products[product].item;
        let mut notes = Vec::new();
        let Some(list) = p.price.filter(|x| *x > 0.0) else {
            return Err(EngineError::NotSupported(format!(
                "product {item} has no price in the catalog or the events"
            )));
        };
        let elasticity = match self.calibration {
            Some(id) => store::category_sensitivity(&self.session().ws, id, &p.category)?,
            None => {
                notes.push(
                    "no calibration: run `shoplab calibrate` for the sensitivity's interval".into(),
                );
                None
            }
        };
        let band = elasticity.as_ref().and_then(|e| {
            let half = 1.96 * e.se?;
            Some((e.elasticity - half, e.elasticity + half))
        });

        // The shopper's logit at the reference price and the category's slope.
        let conversion = self.conversion()?;
        let demand = match &conversion {
            None => {
                notes.push(
                    "no conversion run: train one (`--model conversion`) for P(purchase)".into(),
                );
                None
            }
            Some(c) => match c.items.iter().position(|i| i == item) {
                None => {
                    notes.push(format!(
                        "the conversion run never saw product {item} viewed"
                    ));
                    None
                }
                Some(i) => {
                    let u = user.and_then(|u| c.users.iter().position(|x| x == u));
                    if user.is_some() && u.is_none() {
                        notes.push(
                            "the conversion run never saw this shopper: read as a new one".into(),
                        );
                    }
                    Some((
                        f64::from(c.logit(u, i)),
                        f64::from(c.slope(i)),
                        c.reference_price[i],
                    ))
                }
            },
        };
        let curve: Vec<PriceCurvePoint> = match demand {
            None => Vec::new(),
            Some((logit, slope, reference)) => (0..CURVE_POINTS)
                .map(|n| {
                    let m =
                        CURVE_FROM + (CURVE_TO - CURVE_FROM) * n as f64 / (CURVE_POINTS - 1) as f64;
                    let price = (list * m * 100.0).round() / 100.0;
                    let x = (price / reference).ln();
                    let p_buy = sigmoid(logit - slope * x);
                    PriceCurvePoint {
                        price,
                        p_buy,
                        revenue: price * p_buy,
                        margin: p.cost.map(|c| (price - c) * p_buy),
                        p_buy_band: band.map(|(lo, hi)| {
                            let (a, b) = (sigmoid(logit - lo * x), sigmoid(logit - hi * x));
                            (a.min(b), a.max(b))
                        }),
                    }
                })
                .collect(),
        };
        let best = |value: &dyn Fn(&PriceCurvePoint) -> Option<f64>| {
            curve
                .iter()
                .filter_map(|c| Some((value(c)?, c.price)))
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, price)| price)
        };
        let policy_price = match policy.id {
            "markdown-10" => (list * 0.9 * 100.0).round() / 100.0,
            "revenue-optimal" => best(&|c| Some(c.revenue)).unwrap_or_else(|| {
                notes.push("revenue-optimal needs P(purchase): the list price is shown".into());
                list
            }),
            "margin-optimal" => best(&|c| c.margin).unwrap_or_else(|| {
                notes.push(
                    "margin-optimal needs P(purchase) and the item's cost: the list price is shown"
                        .into(),
                );
                list
            }),
            _ => list,
        };
        let p_at = |price: f64| {
            demand
                .map(|(logit, slope, reference)| sigmoid(logit - slope * (price / reference).ln()))
        };
        Ok(PriceQuote {
            product,
            list_price: list,
            cost: p.cost,
            policy: policy.id,
            policy_price,
            p_buy_list: p_at(list),
            p_buy_policy: p_at(policy_price),
            conversion_run: conversion.as_ref().and(self.conversion_run),
            elasticity: elasticity
                .zip(band)
                .map(|(e, (lo, hi))| (e.calibration_id, e.category, e.elasticity, lo, hi)),
            curve,
            notes,
        })
    }
}
