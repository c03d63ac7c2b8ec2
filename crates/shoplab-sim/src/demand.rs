//! Logit demand for one product: a shopper offered price `p` buys with probability
//! `σ(appeal − sensitivity · ln p)`, the multinomial logit of one item against not buying
//! (the same form as the synthetic storefront's demand, `shoplab-synth`).

use serde::{Deserialize, Serialize};

use crate::{Result, SimError};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogitDemand {
    /// Utility of the product at price 1.
    pub appeal: f64,
    /// Price sensitivity β: the utility falls by β per unit of ln price.
    pub sensitivity: f64,
}

impl LogitDemand {
    pub fn new(appeal: f64, sensitivity: f64) -> Result<Self> {
        if !(appeal.is_finite() && sensitivity.is_finite() && sensitivity >= 0.0) {
            return Err(SimError::Config(format!(
                "demand needs a finite appeal and a sensitivity ≥ 0 (got {appeal}, {sensitivity})"
            )));
        }
        Ok(LogitDemand {
            appeal,
            sensitivity,
        })
    }

    /// The purchase probability at price `p` (> 0).
    pub fn buy_probability(&self, p: f64) -> f64 {
        let u = self.appeal - self.sensitivity * p.ln();
        1.0 / (1.0 + (-u).exp())
    }

    /// Expected revenue of one shopper offered price `p`.
    pub fn expected_revenue(&self, p: f64) -> f64 {
        p * self.buy_probability(p)
    }

    /// The index of the grid price with the highest expected revenue (the clairvoyant's).
    pub fn best_price(&self, grid: &[f64]) -> usize {
        (0..grid.len())
            .max_by(|&a, &b| {
                self.expected_revenue(grid[a])
                    .total_cmp(&self.expected_revenue(grid[b]))
            })
            .unwrap_or(0)
    }
}

/// One item of a [`DemandCurve`]: the calibrated utility at its reference price, its list
/// price and cost, and its weight in an average (its views).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CurveItem {
    pub appeal: f64,
    pub reference: f64,
    pub list: f64,
    pub cost: f64,
    pub weight: f64,
}

impl CurveItem {
    /// P(buy) of a visit that shows the item alone at price `p`: `σ(appeal − β·ln(p / ref))`.
    pub fn buy_probability(&self, beta: f64, p: f64) -> f64 {
        let u = self.appeal - beta * (p.max(1e-9) / self.reference).ln();
        1.0 / (1.0 + (-u).exp())
    }
}

/// Purchase probability, revenue and margin per visit at one price, with their range over
/// the sensitivity's interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// The price as a multiple of the list price.
    pub multiple: f64,
    pub p_buy: f64,
    pub revenue: f64,
    pub margin: f64,
    /// (low, high) at the interval's ends; `None` without an interval.
    pub p_buy_band: Option<[f64; 2]>,
    pub revenue_band: Option<[f64; 2]>,
    pub margin_band: Option<[f64; 2]>,
}

/// The price (a multiple of list) that maximizes revenue or margin per visit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Optimum {
    pub multiple: f64,
    pub value: f64,
    /// The maximizing multiple at the sensitivity interval's two ends (sorted).
    pub interval: Option<[f64; 2]>,
    /// The maximum is at an end of the range searched: the true one may lie beyond.
    pub at_edge: bool,
}

/// Demand across prices for items priced together: every item at the same multiple of its
/// own list price, averaged by weight (one item: that item's curve).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemandCurve {
    pub points: Vec<CurvePoint>,
    pub revenue_best: Optimum,
    pub margin_best: Optimum,
}

/// Points the optima are searched over, across the curve's range.
const SEARCH_POINTS: usize = 801;

/// Weighted means of P(buy), revenue and margin per visit at `multiple` × list.
fn averages(items: &[CurveItem], beta: f64, multiple: f64) -> [f64; 3] {
    let (mut w, mut p, mut r, mut m) = (0.0, 0.0, 0.0, 0.0);
    for i in items {
        let price = multiple * i.list;
        let b = i.buy_probability(beta, price);
        w += i.weight;
        p += i.weight * b;
        r += i.weight * price * b;
        m += i.weight * (price - i.cost) * b;
    }
    let w = if w > 0.0 { w } else { 1.0 };
    [p / w, r / w, m / w]
}

/// The multiple in `[from, to]` maximizing value `k` of [`averages`] (1 revenue, 2 margin).
fn argmax(items: &[CurveItem], beta: f64, from: f64, to: f64, k: usize) -> (f64, f64, bool) {
    let step = (to - from) / (SEARCH_POINTS - 1) as f64;
    let (n, value) = (0..SEARCH_POINTS)
        .map(|n| (n, averages(items, beta, from + step * n as f64)[k]))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or((0, f64::NAN));
    (
        from + step * n as f64,
        value,
        n == 0 || n == SEARCH_POINTS - 1,
    )
}

impl DemandCurve {
    /// The curve of `items` at price sensitivity `beta` over `points` multiples of list from
    /// `from` to `to`, banded by `band` (the sensitivity's interval) when given.
    pub fn new(
        items: &[CurveItem],
        beta: f64,
        band: Option<(f64, f64)>,
        (from, to, points): (f64, f64, usize),
    ) -> Result<Self> {
        if items.is_empty() || !(from > 0.0 && to > from) || points < 2 {
            return Err(SimError::Config(format!(
                "a demand curve needs items and a range 0 < from < to with 2 points or more \
                 (got {} items, {from}..{to}, {points} points)",
                items.len()
            )));
        }
        let sorted = |a: f64, b: f64| [a.min(b), a.max(b)];
        let points = (0..points)
            .map(|n| {
                let multiple = from + (to - from) * n as f64 / (points - 1) as f64;
                let [p_buy, revenue, margin] = averages(items, beta, multiple);
                let ends = band
                    .map(|(lo, hi)| (averages(items, lo, multiple), averages(items, hi, multiple)));
                CurvePoint {
                    multiple,
                    p_buy,
                    revenue,
                    margin,
                    p_buy_band: ends.map(|(a, b)| sorted(a[0], b[0])),
                    revenue_band: ends.map(|(a, b)| sorted(a[1], b[1])),
                    margin_band: ends.map(|(a, b)| sorted(a[2], b[2])),
                }
            })
            .collect();
        let optimum = |k| {
            let (multiple, value, at_edge) = argmax(items, beta, from, to, k);
            let interval = band.map(|(lo, hi)| {
                sorted(
                    argmax(items, lo, from, to, k).0,
                    argmax(items, hi, from, to, k).0,
                )
            });
            Optimum {
                multiple,
                value,
                interval,
                at_edge,
            }
        };
        Ok(DemandCurve {
            points,
            revenue_best: optimum(1),
            margin_best: optimum(2),
        })
    }
}

#[cfg(test)]
mod curve_tests {
    use super::*;

    fn item() -> CurveItem {
        CurveItem {
            appeal: 0.4,
            reference: 10.0,
            list: 10.0,
            cost: 6.0,
            weight: 1.0,
        }
    }

    #[test]
    fn demand_falls_with_price_and_the_optima_match_the_closed_form() {
        // Revenue p·σ(a − β ln(p/ref)) peaks where σ = 1 − 1/β.
        let beta = 3.0;
        let c = DemandCurve::new(&[item()], beta, Some((2.5, 3.5)), (0.5, 1.5, 41)).unwrap();
        assert!(c.points.windows(2).all(|w| w[1].p_buy < w[0].p_buy));
        let m = c.revenue_best.multiple;
        let s = item().buy_probability(beta, 10.0 * m);
        assert!(
            (s - (1.0 - 1.0 / beta)).abs() < 0.01,
            "σ at the optimum {s}"
        );
        // The margin-optimal price is above the revenue-optimal one when there is a cost.
        assert!(c.margin_best.multiple > m);
        let [lo, hi] = c.revenue_best.interval.unwrap();
        assert!(lo <= m && m <= hi && hi > lo);
        let at_list = &c.points[20];
        assert!((at_list.multiple - 1.0).abs() < 1e-12);
        let [bl, bh] = at_list.p_buy_band.unwrap();
        // At the reference price the sensitivity does not matter.
        assert!((bh - bl).abs() < 1e-12 && (at_list.p_buy - bl).abs() < 1e-12);
        assert!((at_list.revenue - 10.0 * at_list.p_buy).abs() < 1e-9);
        assert!((at_list.margin - 4.0 * at_list.p_buy).abs() < 1e-9);
    }

    #[test]
    fn a_bad_range_is_refused() {
        assert!(DemandCurve::new(&[item()], 1.0, None, (1.5, 0.5, 41)).is_err());
        assert!(DemandCurve::new(&[], 1.0, None, (0.5, 1.5, 41)).is_err());
    }
}
