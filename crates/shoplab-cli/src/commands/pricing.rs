//! `shoplab pricing`: one product's dynamic pricing policies against the clairvoyant price.

use std::fmt;

use anyhow::Result;
use serde::Serialize;
use shoplab_engine::{PricingReport, PricingSpec, run_pricing};

use crate::cli::PricingArgs;
use crate::output::Printer;

pub fn run(args: PricingArgs) -> Result<()> {
    let spec = PricingSpec {
        appeal: args.appeal,
        sensitivity: args.sensitivity,
        prices: args.prices,
        policies: args.policies,
        horizon: args.horizon,
        seeds: args.seeds,
        threads: args.threads,
    };
    let report = run_pricing(&spec)?;
    Printer::new(args.output.json).line(&Priced {
        report: &report,
        spec: &spec,
    })?;
    Ok(())
}

/// Each policy's share of the clairvoyant revenue with its interval, regret and time.
struct Priced<'a> {
    report: &'a PricingReport,
    spec: &'a PricingSpec,
}

/// `--json`: the policies' results (policy, share, share_ci, regret, seconds, replicates).
impl Serialize for Priced<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.report.policies.serialize(s)
    }
}

impl fmt::Display for Priced<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.report;
        writeln!(
            f,
            "best price {} (buys {:.1}%, {:.2} a shopper); {} seeds × {} periods",
            r.best_price,
            100.0 * r.best_buy_probability,
            r.best_revenue,
            self.spec.seeds,
            self.spec.horizon
        )?;
        writeln!(
            f,
            "{:<16} {:>22} {:>12} {:>9}",
            "policy", "% clairvoyant (95% CI)", "regret", "seconds"
        )?;
        for p in &r.policies {
            writeln!(
                f,
                "{:<16} {:>7.2} [{:.2}, {:.2}] {:>12.1} {:>9.3}",
                p.policy,
                100.0 * p.share,
                100.0 * p.share_ci.0,
                100.0 * p.share_ci.1,
                p.regret,
                p.seconds
            )?;
        }
        Ok(())
    }
}
