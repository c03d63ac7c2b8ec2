//! `shoplab calibrate`: the simulator's environment fitted to the workspace's sessions.

use std::fmt;

use anyhow::Result;
use serde::Serialize;
use shoplab_engine::{CalibrateOptions, CalibrationReport};

use crate::cli::CalibrateArgs;
use crate::output::Printer;
use crate::progress;

pub fn run(args: CalibrateArgs) -> Result<()> {
    let session = super::open(&args.workspace)?;
    let opts = CalibrateOptions {
        holdout: args.holdout,
        seed: args.seed,
        default_margin: args.margin,
        ..Default::default()
    };
    let report = match args.spark.target() {
        Some((remote, data)) => progress::on_spark(args.output.json, |step, stop| {
            session.calibrate_on_spark(remote, data, (&opts, args.run), step, stop)
        })?,
        None => session.calibrate(&opts, args.run)?,
    };
    Printer::new(args.output.json).line(&Calibrated(&report))?;
    Ok(())
}

/// The fit report of a calibration and its categories' price sensitivities.
struct Calibrated<'a>(&'a CalibrationReport);

impl Serialize for Calibrated<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        serde_json::json!({
            "calibration_id": r.calibration_id,
            "run_id": r.run_id,
            "report": r.calibration.report,
            "categories": r.calibration.categories,
        })
        .serialize(s)
    }
}

impl fmt::Display for Calibrated<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        let c = &r.calibration;
        let fit = &c.report;
        writeln!(
            f,
            "calibration {}: {} sessions over {} days ({:.0} a day), {} purchases, {} items, {} shoppers",
            r.calibration_id,
            fit.sessions,
            fit.days,
            fit.mean_sessions_per_day,
            fit.purchases,
            c.items.len(),
            c.env.users.len()
        )?;
        writeln!(
            f,
            "held out ({} of {} sessions), log-likelihood per session: model {:.5}, without price {:.5}, one purchase rate {:.5}",
            fit.holdout_sessions,
            fit.sessions,
            fit.loglik,
            fit.loglik_no_price,
            fit.loglik_constant
        )?;
        writeln!(
            f,
            "held-out conversion: predicted {:.2}%, observed {:.2}%",
            100.0 * fit.predicted_conversion,
            100.0 * fit.observed_conversion
        )?;
        writeln!(
            f,
            "calibration by decile of predicted conversion (predicted → observed):"
        )?;
        let bins: Vec<String> = fit
            .calibration
            .iter()
            .map(|b| format!("{:.1}→{:.1}%", 100.0 * b.predicted, 100.0 * b.observed))
            .collect();
        writeln!(f, "  {}", bins.join("  "))?;
        if let Some(run) = r.run_id {
            writeln!(
                f,
                "affinity weight of run {run}'s vectors: {:.3}",
                fit.affinity_weight
            )?;
        }
        writeln!(
            f,
            "price sensitivity: pooled {:.3}, spread between categories {:.3}",
            fit.pooled_elasticity, fit.between_sd
        )?;
        writeln!(
            f,
            "{:<36} {:>9} {:>16} {:>9} {:>9} {:>8} {:>7}",
            "category", "β (used)", "own estimate", "views", "purchases", "price sd", "share"
        )?;
        for k in &c.categories {
            let name = if k.code.is_empty() { "(none)" } else { &k.code };
            writeln!(
                f,
                "{:<36} {:>9.3} {:>16} {:>9} {:>9} {:>8.3} {:>6.1}%",
                name,
                k.elasticity,
                format!("{:.3} ± {:.3}", k.raw, k.se),
                k.views,
                k.purchases,
                k.price_sd,
                100.0 * k.share
            )?;
        }
        if fit.costs_assumed > 0 {
            writeln!(
                f,
                "{} items have no cost in the catalog: their cost is assumed from --margin",
                fit.costs_assumed
            )?;
        }
        for n in &fit.notes {
            writeln!(f, "note: {n}")?;
        }
        Ok(())
    }
}
