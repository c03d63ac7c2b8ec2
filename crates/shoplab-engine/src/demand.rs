//! Demand curves from a calibration: per category and per item, the fitted purchase
//! probability of a visit and the expected revenue and margin per visit across prices, banded
//! by the category's price sensitivity ± 1.96 standard errors, with the prices the log
//! actually showed and the revenue- and margin-maximizing prices.
//!
//! A visit shows the item alone to an average shopper (the affinity term of the calibrated
//! utility averages out): `P(buy at p) = σ(appeal − β·ln(p / reference))`, the simulator's
//! own utility. A category's curve prices every item at the same multiple of its list price
//! and averages over the items, weighted by their views.

use serde::Serialize;
use shoplab_data::simlab::{self, CalibrationCategoryRow, CalibrationItemRow, SeenPrices};
use shoplab_data::store;
use shoplab_sim::demand::{CurveItem, DemandCurve};

use crate::{EngineError, Result, Session};

/// What to draw: every category of a calibration, one category (its curve, then each of its
/// items'), or one item.
#[derive(Debug, Clone, PartialEq)]
pub struct DemandQuery {
    /// The calibration (default: the latest).
    pub calibration: Option<i64>,
    pub category: Option<String>,
    pub item: Option<String>,
    /// The prices, as multiples of the list price: from, to, points.
    pub from: f64,
    pub to: f64,
    pub points: usize,
}

impl Default for DemandQuery {
    fn default() -> Self {
        DemandQuery {
            calibration: None,
            category: None,
            item: None,
            from: 0.5,
            to: 1.5,
            points: 41,
        }
    }
}

/// One curve: a category's or an item's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DemandCurveReport {
    /// `category` or `item`.
    pub scope: &'static str,
    /// The category code or the item id.
    pub key: String,
    pub category: String,
    pub items: usize,
    pub views: i64,
    pub purchases: i64,
    /// The category's price sensitivity (after shrinkage) and its 95% interval
    /// (± 1.96 × the category's own standard error); `None` when that is not finite.
    pub elasticity: f64,
    pub interval: Option<[f64; 2]>,
    /// An item's list price and cost (a category's: `None`; its prices are multiples).
    pub list_price: Option<f64>,
    pub cost: Option<f64>,
    /// The 5th–95th percentile of the prices viewed in the log, as multiples of list.
    pub seen: Option<[f64; 2]>,
    #[serde(flatten)]
    pub curve: DemandCurve,
}

/// The curves of one calibration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DemandReport {
    pub calibration_id: i64,
    pub curves: Vec<DemandCurveReport>,
    /// The calibration's notes on what its log cannot tell (a log where every session
    /// buys: P(buy) of a visit is not identified).
    pub notes: Vec<String>,
}

fn curve_item(i: &CalibrationItemRow) -> CurveItem {
    CurveItem {
        appeal: i.appeal,
        reference: i.reference_price,
        list: i.list_price,
        cost: i.cost,
        weight: i.views.max(1) as f64,
    }
}

fn seen_of(seen: &[SeenPrices], key: &str) -> Option<[f64; 2]> {
    seen.iter().find(|s| s.key == key).map(|s| [s.p05, s.p95])
}

impl Session {
    /// The demand curves `q` asks for (see the module's documentation).
    pub fn demand(&self, q: &DemandQuery) -> Result<DemandReport> {
        let ws = &self.ws;
        let calibration_id = match q.calibration {
            Some(id) => id,
            None => store::latest_calibration(ws)?.ok_or_else(|| {
                EngineError::NotFound(
                    "the workspace has no calibration: run `shoplab calibrate` first".into(),
                )
            })?,
        };
        let categories = simlab::calibration_categories(ws, calibration_id)?;
        if categories.is_empty() {
            return Err(EngineError::NotFound(format!(
                "no calibration {calibration_id} in the workspace"
            )));
        }
        let range = (q.from, q.to, q.points);
        let items = simlab::calibration_items(ws, calibration_id, None)?;
        let item_row = |id: &str| {
            items.iter().find(|i| i.item_id == id).ok_or_else(|| {
                EngineError::NotFound(format!(
                    "item {id} is not in calibration {calibration_id} (it was never viewed with a price)"
                ))
            })
        };
        let category_row = |code: &str| {
            categories
                .iter()
                .find(|c| c.category == code)
                .ok_or_else(|| {
                    EngineError::NotFound(format!(
                        "category {code:?} is not in calibration {calibration_id} (known: {})",
                        categories
                            .iter()
                            .map(|c| c.category.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                })
        };
        let mut curves = Vec::new();
        if let Some(id) = &q.item {
            let item = item_row(id)?;
            let seen = simlab::seen_prices(ws, calibration_id, false)?;
            curves.push(item_curve(
                item,
                category_row(&item.category)?,
                &seen,
                range,
            )?);
        } else {
            let chosen: Vec<&CalibrationCategoryRow> = match &q.category {
                Some(code) => vec![category_row(code)?],
                None => categories.iter().collect(),
            };
            let seen = simlab::seen_prices(ws, calibration_id, true)?;
            for c in &chosen {
                let of: Vec<&CalibrationItemRow> =
                    items.iter().filter(|i| i.category == c.category).collect();
                if !of.is_empty() {
                    curves.push(category_curve(c, &of, &seen, range)?);
                }
            }
            if q.category.is_some() {
                let seen = simlab::seen_prices(ws, calibration_id, false)?;
                for i in items.iter().filter(|i| i.category == chosen[0].category) {
                    curves.push(item_curve(i, chosen[0], &seen, range)?);
                }
            }
        }
        let notes = simlab::calibration_report(ws, calibration_id)?
            .and_then(|r| serde_json::from_str::<serde_json::Value>(&r).ok())
            .and_then(|r| serde_json::from_value(r.get("notes")?.clone()).ok())
            .unwrap_or_default();
        Ok(DemandReport {
            calibration_id,
            curves,
            notes,
        })
    }
}

fn interval(c: &CalibrationCategoryRow) -> Option<(f64, f64)> {
    let half = 1.96 * c.elasticity_se.filter(|se| se.is_finite())?;
    Some(((c.elasticity - half).max(0.0), c.elasticity + half))
}

fn category_curve(
    c: &CalibrationCategoryRow,
    items: &[&CalibrationItemRow],
    seen: &[SeenPrices],
    range: (f64, f64, usize),
) -> Result<DemandCurveReport> {
    let band = interval(c);
    let curve_items: Vec<CurveItem> = items.iter().map(|i| curve_item(i)).collect();
    Ok(DemandCurveReport {
        scope: "category",
        key: c.category.clone(),
        category: c.category.clone(),
        items: items.len(),
        views: c.views,
        purchases: c.purchases,
        elasticity: c.elasticity,
        interval: band.map(|(lo, hi)| [lo, hi]),
        list_price: None,
        cost: None,
        seen: seen_of(seen, &c.category),
        curve: DemandCurve::new(&curve_items, c.elasticity, band, range)?,
    })
}

fn item_curve(
    i: &CalibrationItemRow,
    c: &CalibrationCategoryRow,
    seen: &[SeenPrices],
    range: (f64, f64, usize),
) -> Result<DemandCurveReport> {
    let band = interval(c);
    Ok(DemandCurveReport {
        scope: "item",
        key: i.item_id.clone(),
        category: i.category.clone(),
        items: 1,
        views: i.views,
        purchases: i.purchases,
        elasticity: c.elasticity,
        interval: band.map(|(lo, hi)| [lo, hi]),
        list_price: Some(i.list_price),
        cost: Some(i.cost),
        seen: seen_of(seen, &i.item_id),
        curve: DemandCurve::new(&[curve_item(i)], c.elasticity, band, range)?,
    })
}
