//! `shoplab-workbench [WORKSPACE | --demo] [--view V] [--run] [--scenario FILE] [--sweep S] [--filter F]
//! [--spark URL --data PATH]`: the analyst
//! workbench. `--frame-log FILE --exit-after S` record frame times (the frame-time
//! benchmark); `--bench-points N` draws an N-point series instead of the views.

use clap::Parser;
use shoplab_workbench::{Launch, Start, Tab, WorkbenchApp};

#[derive(Parser)]
#[command(version, about = "The ShopLab analyst workbench")]
struct Args {
    /// A workspace file (default: the last one opened).
    workspace: Option<std::path::PathBuf>,
    /// Open the bundled demo workspace (built on first use).
    #[arg(long, conflicts_with = "workspace")]
    demo: bool,
    /// The view to show first: data, models, compare or simulate.
    #[arg(long)]
    view: Option<String>,
    /// Once the workspace is open, run what the view runs (the SQL, the training form, the
    /// scenario).
    #[arg(long)]
    run: bool,
    /// The Compare view's filter (`#tag`, model, parameter, note); with --run the shown runs
    /// are selected and grouped over seeds.
    #[arg(long)]
    filter: Option<String>,
    /// Compare: the sections open at start, comma separated (curves, metric, parameters,
    /// paired, inside, parallel, importance); default all. Simulate: `policies` opens the
    /// policies and price rules forms, `categories` scrolls to the results by category once
    /// a run ends.
    #[arg(long)]
    section: Option<String>,
    /// Compare: look inside this run once the workspace is open.
    #[arg(long)]
    inspect: Option<i64>,
    /// A scenario to load into the Simulate view.
    #[arg(long)]
    scenario: Option<std::path::PathBuf>,
    /// Simulate: with --run, sweep this parameter instead (PATH=LOW..HIGH:POINTS, as
    /// `shoplab simulate --sweep`).
    #[arg(long)]
    sweep: Option<String>,
    /// Write each frame's CPU time (ms, one a line) to this file on exit (bench/workbench.sh).
    #[arg(long)]
    frame_log: Option<std::path::PathBuf>,
    /// Close the window after this many seconds.
    #[arg(long)]
    exit_after: Option<f64>,
    /// Draw a random walk of this many points instead of the views (the plotting benchmark).
    #[arg(long)]
    bench_points: Option<usize>,
    /// Data: a Spark Connect endpoint for the Spark cluster panel (opened); with --run the
    /// profile of --data is computed there.
    #[arg(long, requires = "data")]
    spark: Option<String>,
    /// Data: the lake's events as the Spark server reads them.
    #[arg(long, requires = "spark")]
    data: Option<String>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let start = match (args.demo, args.workspace) {
        (true, _) => Start::Demo,
        (false, Some(path)) => Start::Workspace(path),
        (false, None) => Start::Remembered,
    };
    let view = args.view.as_deref().map(str::parse::<Tab>).transpose()?;
    let launch = Launch {
        view,
        run: args.run,
        scenario: args.scenario,
        filter: args.filter,
        section: args.section,
        inspect: args.inspect,
        frame_log: args.frame_log,
        exit_after: args.exit_after,
        bench_points: args.bench_points,
        spark: args.spark.zip(args.data),
        sweep: args
            .sweep
            .as_deref()
            .map(shoplab_engine::ParamSweep::parse)
            .transpose()?,
    };
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("ShopLab workbench")
            .with_inner_size([1280.0, 860.0]),
        ..Default::default()
    };
    eframe::run_native(
        "shoplab-workbench",
        options,
        Box::new(move |cc| Ok(Box::new(WorkbenchApp::new(cc, start, launch)))),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))
}
