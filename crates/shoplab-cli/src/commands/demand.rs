//! `shoplab demand`: a calibration's demand curves, with the sensitivity's interval, the
//! prices the log showed, and the revenue- and margin-maximizing prices.

use std::fmt;

use anyhow::Result;
use shoplab_engine::{DemandCurveReport, DemandQuery, DemandReport, Optimum, Session};

use crate::cli::DemandArgs;
use crate::output::Printer;

pub fn run(args: DemandArgs) -> Result<()> {
    let session = Session::open_read_only(&args.workspace)?;
    let report = session.demand(&DemandQuery {
        calibration: args.calibration,
        category: args.category,
        item: args.item,
        from: args.from,
        to: args.to,
        points: args.points,
    })?;
    Printer::new(args.output.json).print(&Demand(&report))?;
    Ok(())
}

#[derive(serde::Serialize)]
#[serde(transparent)]
struct Demand<'a>(&'a DemandReport);

fn optimum(o: &Optimum) -> String {
    let interval = o
        .interval
        .map(|[lo, hi]| format!(" [{lo:.2}, {hi:.2}]"))
        .unwrap_or_default();
    let edge = if o.at_edge { " (edge)" } else { "" };
    format!("{:.2}×{interval}{edge}", o.multiple)
}

fn summary_row(f: &mut fmt::Formatter<'_>, c: &DemandCurveReport) -> fmt::Result {
    writeln!(
        f,
        "{:<8} {:<28} {:>6.3} {:>17} {:>8} {:>6} {:>12} {:>24} {:>24}",
        c.scope,
        crate::output::truncate(&c.key, 28),
        c.elasticity,
        c.interval
            .map(|[lo, hi]| format!("[{lo:.3}, {hi:.3}]"))
            .unwrap_or_else(|| "-".into()),
        c.views,
        c.purchases,
        c.seen
            .map(|[lo, hi]| format!("{lo:.2}–{hi:.2}×"))
            .unwrap_or_else(|| "-".into()),
        optimum(&c.curve.revenue_best),
        optimum(&c.curve.margin_best),
    )
}

fn points(f: &mut fmt::Formatter<'_>, c: &DemandCurveReport) -> fmt::Result {
    writeln!(f, "\n{} {}:", c.scope, c.key)?;
    writeln!(
        f,
        "{:>6} {:>10} {:>8} {:>19} {:>12} {:>12}",
        "× list", "price", "P(buy)", "95% band", "revenue", "margin"
    )?;
    for p in &c.curve.points {
        writeln!(
            f,
            "{:>6.2} {:>10} {:>8.4} {:>19} {:>12.4} {:>12.4}",
            p.multiple,
            c.list_price
                .map(|l| format!("{:.2}", l * p.multiple))
                .unwrap_or_else(|| "-".into()),
            p.p_buy,
            p.p_buy_band
                .map(|[lo, hi]| format!("[{lo:.4}, {hi:.4}]"))
                .unwrap_or_else(|| "-".into()),
            p.revenue,
            p.margin,
        )?;
    }
    Ok(())
}

impl fmt::Display for Demand<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        writeln!(
            f,
            "calibration {}: P(buy) of a visit showing the item alone to an average shopper, \
             σ(appeal − β·ln(p / reference)); prices as multiples of list; revenue and margin \
             per visit; intervals from β ± 1.96 se",
            r.calibration_id
        )?;
        writeln!(
            f,
            "{:<8} {:<28} {:>6} {:>17} {:>8} {:>6} {:>12} {:>24} {:>24}",
            "scope",
            "key",
            "β",
            "95% interval",
            "views",
            "buys",
            "seen 5–95%",
            "revenue-max price",
            "margin-max price"
        )?;
        for c in &r.curves {
            summary_row(f, c)?;
        }
        for n in &r.notes {
            writeln!(f, "note: {n}")?;
        }
        // The points of the curve asked for: one item's, or one category's.
        if let Some(first) = r.curves.first()
            && (r.curves.len() == 1 || first.scope == "category" && r.curves[1].scope == "item")
        {
            points(f, first)?;
        }
        Ok(())
    }
}
