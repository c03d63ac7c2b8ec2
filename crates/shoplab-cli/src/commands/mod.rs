//! One module per command, each with its own `run`; this module only dispatches.

mod calibrate;
mod demand;
mod demo;
mod embed;
mod finetune;
mod import;
mod inspect;
mod ope;
mod plan;
mod pricing;
mod profile;
mod recommend;
mod runs;
mod sim_sweep;
mod simulate;
mod split;
mod sweep;
mod train;

use std::path::Path;

use anyhow::Result;
use shoplab_engine::Session;

use crate::cli::{Command, WorkspaceArgs};

/// Runs one parsed command.
pub fn run(command: Command) -> Result<()> {
    match command {
        Command::Init(args) => init(args),
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
        Command::Tag(args) => runs::tag(args),
        Command::Compare(args) => runs::compare(args),
        Command::Inside(args) => runs::inside(args),
        Command::Recommend(args) => recommend::run(args),
        Command::Export(args) => recommend::export(args),
        Command::Demo(args) => demo::run(args),
        Command::Generate(args) => demo::generate(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Sims(args) => simulate::list(args),
        Command::Calibrate(args) => calibrate::run(args),
        Command::Demand(args) => demand::run(args),
        Command::Ope(args) => ope::run(args),
        Command::PlanAb(args) => plan::run(args),
        Command::Pricing(args) => pricing::run(args),
        Command::Model { command } => embed::model(command),
        Command::Embed(args) => embed::run(args),
    }
}

/// Opens an existing workspace; says on stderr when an older one was migrated, and where
/// its backup is.
pub(crate) fn open(path: &Path) -> Result<Session> {
    noted(Session::open(path)?)
}

/// Opens the workspace, creating it when missing (the commands that make workspaces).
pub(crate) fn create(path: &Path) -> Result<Session> {
    noted(Session::create(path)?)
}

fn noted(session: Session) -> Result<Session> {
    if let Some(m) = session.migration() {
        eprintln!("{}: {m}", session.path().display());
    }
    Ok(session)
}

/// `shoplab init`: an empty workspace (or ShopLab's tables added to a DuckDB file).
fn init(args: WorkspaceArgs) -> Result<()> {
    let existed = args.workspace.exists();
    let session = create(&args.workspace)?;
    let verb = if existed { "opened" } else { "created" };
    let printer = crate::output::Printer::new(args.output.json);
    printer.print(&Initialized {
        workspace: session.path().display().to_string(),
        created: !existed,
        verb,
    })?;
    Ok(())
}

#[derive(serde::Serialize)]
struct Initialized {
    workspace: String,
    created: bool,
    #[serde(skip)]
    verb: &'static str,
}

impl std::fmt::Display for Initialized {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{} workspace {}", self.verb, self.workspace)
    }
}
