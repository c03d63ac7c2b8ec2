//! One module per command, each with its own `run`; this module only dispatches.

mod calibrate;
mod demo;
mod embed;
mod finetune;
mod import;
mod inspect;
mod ope;
mod pricing;
mod profile;
mod recommend;
mod runs;
mod simulate;
mod split;
mod train;

use anyhow::Result;

use crate::cli::Command;

/// Runs one parsed command.
pub fn run(command: Command) -> Result<()> {
    match command {
        Command::Import(args) => import::run(args),
        Command::Profile(args) => profile::run(args),
        Command::Split(args) => split::run(args),
        Command::Splits(args) => split::list(args),
        Command::Tables(args) => inspect::tables(args),
        Command::Rejects(args) => inspect::rejects(args),
        Command::Sql(args) => inspect::sql(args),
        Command::Train(args) => train::run(args),
        Command::Finetune(args) => finetune::run(args),
        Command::Runs(args) => runs::list(args),
        Command::Compare(args) => runs::compare(args),
        Command::Recommend(args) => recommend::run(args),
        Command::Export(args) => recommend::export(args),
        Command::Demo(args) => demo::run(args),
        Command::Generate(args) => demo::generate(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Calibrate(args) => calibrate::run(args),
        Command::Ope(args) => ope::run(args),
        Command::Pricing(args) => pricing::run(args),
        Command::Model { command } => embed::model(command),
        Command::Embed(args) => embed::run(args),
    }
}
