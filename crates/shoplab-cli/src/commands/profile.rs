//! `shoplab profile`: what the workspace holds, stored as a profile.

use std::fmt;

use anyhow::Result;
use serde::Serialize;
use shoplab_engine::Profile;

use crate::cli::ProfileArgs;
use crate::output::{Printer, pct, truncate};
use crate::progress;

pub fn run(args: ProfileArgs) -> Result<()> {
    let session = super::open(&args.workspace)?;
    let profile = match args.spark.target() {
        Some((remote, data)) => progress::on_spark(args.output.json, |step, stop| {
            session.profile_on_spark(remote, data, step, stop)
        })?,
        None => session.profile()?,
    };
    Printer::new(args.output.json).print(&Profiled(&profile))?;
    Ok(())
}

/// A profile: counts, time range, funnel, activity quantiles, prices by category.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Profiled<'a>(pub &'a Profile);

impl fmt::Display for Profiled<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.0;
        if let Some(on) = &p.computed_on {
            writeln!(f, "computed on {on}")?;
        }
        // The catalog is the workspace's: a profile computed on a cluster counts the log only.
        let catalog = match p.computed_on {
            Some(_) => String::new(),
            None => format!(" (catalog {})", p.catalog_items),
        };
        writeln!(
            f,
            "events {}   users {}   items {}{catalog}   sessions {}",
            p.events, p.users, p.items, p.sessions
        )?;
        writeln!(
            f,
            "time   {} … {}  ({:.1} days)",
            p.first_event.as_deref().unwrap_or("-"),
            p.last_event.as_deref().unwrap_or("-"),
            p.days
        )?;
        writeln!(f, "by type:")?;
        for t in &p.by_type {
            writeln!(
                f,
                "  {:<18} {:>12} events  {:>10} users",
                t.event_type, t.events, t.users
            )?;
        }
        let fu = &p.funnel;
        writeln!(
            f,
            "funnel (user-item pairs): viewed {}  carted {}  purchased {}   view→cart {}  cart→purchase {}  view→purchase {}",
            fu.viewed_pairs,
            fu.carted_pairs,
            fu.purchased_pairs,
            pct(fu.view_to_cart),
            pct(fu.cart_to_purchase),
            pct(fu.view_to_purchase)
        )?;
        if let Some(s) = p.sparsity {
            writeln!(f, "sparsity {:.4}%", s * 100.0)?;
        }
        for (name, q) in [
            ("events per user", &p.events_per_user),
            ("events per item", &p.events_per_item),
        ] {
            if let Some(q) = q {
                writeln!(
                    f,
                    "{name}: min {} p25 {} p50 {} p75 {} p90 {} p99 {} max {} mean {:.2}",
                    q.min, q.p25, q.p50, q.p75, q.p90, q.p99, q.max, q.mean
                )?;
            }
        }
        if let Some(m) = p.rating_mean {
            writeln!(f, "mean rating {m:.3}")?;
        }
        if p.revenue != 0.0 || p.refunded != 0.0 {
            writeln!(
                f,
                "revenue {:.2} (purchases, guests' included)   refunded {:.2}   net {:.2}",
                p.revenue,
                p.refunded,
                p.revenue - p.refunded
            )?;
        }
        if !p.findings.is_empty() {
            writeln!(f, "worth a look:")?;
            super::import::findings(f, &p.findings)?;
        }
        if p.bandit_rows > 0 {
            writeln!(f, "bandit_log rows {}", p.bandit_rows)?;
        }
        if !p.price_by_category.is_empty() {
            writeln!(f, "prices by category (items):")?;
            for c in p.price_by_category.iter().take(12) {
                writeln!(
                    f,
                    "  {:<32} {:>6} items  min {:>9.2}  median {:>9.2}  mean {:>9.2}  max {:>9.2}",
                    truncate(&c.category, 32),
                    c.items,
                    c.min,
                    c.p50,
                    c.mean,
                    c.max
                )?;
            }
        }
        Ok(())
    }
}
