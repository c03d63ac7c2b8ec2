//! The synthetic storefront: `shoplab demo` (the demo workspace) and `shoplab generate`
//! (its export files).

use std::fmt;

use anyhow::Result;
use serde::Serialize;
use shoplab_engine::demo::{self, Contents, DemoReport, WorldConfig};

use super::import::Imported;
use super::profile::Profiled;
use super::runs::Runs;
use super::split::Splits;
use crate::cli::{DemoArgs, GenerateArgs};
use crate::output::Printer;
use crate::progress;

pub fn run(args: DemoArgs) -> Result<()> {
    let out = Printer::new(args.output.json);
    let path = args.out.unwrap_or_else(demo::default_demo_path);
    let contents = if args.data_only {
        Contents::Data
    } else {
        Contents::Full
    };
    let spinner = progress::spinner(
        out.json(),
        if args.data_only {
            "building the demo workspace from the synthetic storefront"
        } else {
            "building the demo workspace from the synthetic storefront, then training its runs"
        },
    );
    let report = demo::build_demo(&path, &WorldConfig::demo(), contents)?;
    spinner.finish_and_clear();
    out.line(&Built(&report))?;
    Ok(())
}

pub fn generate(args: GenerateArgs) -> Result<()> {
    let spinner = progress::spinner(false, "generating");
    let config = WorldConfig::with_target_events(args.events, args.seed);
    let (events, catalog) = demo::write_demo_files(&args.out, &config)?;
    spinner.finish_and_clear();
    crate::output::out(&format!("{}\n{}\n", events.display(), catalog.display()));
    Ok(())
}

/// The demo workspace: where it is, its two imports, its profile and its split.
struct Built<'a>(&'a DemoReport);

impl Serialize for Built<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        serde_json::json!({
            "workspace": r.path,
            "events": r.events,
            "catalog": r.catalog,
            "split": r.split,
            "profile": r.profile,
            "runs": r.runs,
            "calibration_id": r.calibration_id,
        })
        .serialize(s)
    }
}

impl fmt::Display for Built<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        writeln!(f, "demo workspace: {}\n", r.path.display())?;
        write!(f, "{}{}", Imported(&r.catalog), Imported(&r.events))?;
        writeln!(f)?;
        write!(f, "{}", Profiled(&r.profile))?;
        writeln!(f)?;
        write!(f, "{}", Splits(std::slice::from_ref(&r.split)))?;
        if !r.runs.is_empty() {
            writeln!(f)?;
            write!(f, "{}", Runs(&r.runs))?;
        }
        if let Some(id) = r.calibration_id {
            writeln!(
                f,
                "\nsimulator calibrated on the shop's sessions: calibration {id}"
            )?;
        }
        writeln!(
            f,
            "\nopen it: duckdb {} \"select * from events limit 5\"",
            r.path.display()
        )
    }
}
