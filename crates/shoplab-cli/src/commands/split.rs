//! `shoplab split` (create or import a split) and `shoplab splits` (list them).

use std::fmt;

use anyhow::{Result, bail};
use serde::Serialize;
use shoplab_engine::{Session, SplitSpec, SplitSummary, Strategy};

use crate::cli::{SplitArgs, StrategyArg, WorkspaceArgs};
use crate::output::Printer;
use crate::progress;

pub fn run(args: SplitArgs) -> Result<()> {
    let out = Printer::new(args.output.json);
    let session = super::open(&args.workspace)?;
    let summaries = if let (Some(tr), Some(te)) = (&args.train_file, &args.test_file) {
        vec![session.import_split(&args.name, tr, args.valid_file.as_deref(), te)?]
    } else if let Some((remote, data)) = args.spark.target() {
        let specs = specs(&args)?;
        progress::on_spark(args.output.json, |step, stop| {
            specs
                .iter()
                .map(|spec| session.split_on_spark(remote, data, spec, step, stop))
                .collect::<Result<Vec<_>, _>>()
        })?
    } else {
        specs(&args)?
            .iter()
            .map(|spec| session.create_split(spec))
            .collect::<Result<Vec<_>, _>>()?
    };
    // One split is one JSON object; a k-fold's splits, an array.
    match summaries.as_slice() {
        [one] => out.print(&OneSplit(one))?,
        many => out.print(&Splits(many))?,
    }
    Ok(())
}

pub fn list(args: WorkspaceArgs) -> Result<()> {
    let session = Session::open_read_only(&args.workspace)?;
    let splits = session.splits()?;
    Printer::new(args.output.json).print(&Splits(&splits))?;
    Ok(())
}

/// The splits to create: one, or a k-fold's K (NAME1 … NAMEK).
fn specs(args: &SplitArgs) -> Result<Vec<SplitSpec>> {
    let spec = |name: String, strategy| SplitSpec {
        name,
        strategy,
        seed: args.seed,
        event_types: args.events.clone(),
        min_value: args.min_value,
        k_core: args.k_core,
        cold_items: args.cold_items,
    };
    let (valid, test) = (args.valid, args.test);
    let train = args.train.unwrap_or(1.0 - valid - test);
    let strategy = match args.strategy {
        StrategyArg::Random => Strategy::RandomRatio { train, valid, test },
        StrategyArg::Stratified => Strategy::Stratified { train, valid, test },
        StrategyArg::Hashed => Strategy::Hashed { train, valid, test },
        StrategyArg::Temporal => Strategy::Temporal { valid, test },
        StrategyArg::LeaveLast => {
            if valid.fract() != 0.0 || test.fract() != 0.0 {
                bail!("leave-last takes counts per user: --valid 1 --test 1");
            }
            Strategy::LeaveLastOut {
                valid: valid as u32,
                test: test as u32,
            }
        }
        StrategyArg::Kfold => {
            let folds = args.folds;
            return Ok((0..folds)
                .map(|fold| {
                    let name = format!("{}{}", args.name, fold + 1);
                    spec(name, Strategy::KFold { folds, fold })
                })
                .collect());
        }
    };
    Ok(vec![spec(args.name.clone(), strategy)])
}

/// Splits, one line each: name, strategy, part sizes, seed.
#[derive(Serialize)]
#[serde(transparent)]
pub struct Splits<'a>(pub &'a [SplitSummary]);

impl fmt::Display for Splits<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<16} {:<16} {:>10} {:>10} {:>10}  seed",
            "split", "strategy", "train", "valid", "test"
        )?;
        for s in self.0 {
            writeln!(
                f,
                "{:<16} {:<16} {:>10} {:>10} {:>10}  {}",
                s.name,
                s.strategy,
                s.n_train,
                s.n_valid,
                s.n_test,
                s.seed.map(|x| x.to_string()).unwrap_or_else(|| "-".into())
            )?;
            if let Some(on) = &s.computed_on {
                writeln!(f, "{:<16} computed on {on}", "")?;
            }
        }
        Ok(())
    }
}

/// A split created alone.
#[derive(Serialize)]
#[serde(transparent)]
struct OneSplit<'a>(&'a SplitSummary);

impl fmt::Display for OneSplit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Splits(std::slice::from_ref(self.0)).fmt(f)
    }
}
