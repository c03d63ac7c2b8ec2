//! The worker thread: owns the engine session, so DuckDB never runs on the UI thread. Quick
//! requests are answered in turn; training and simulations start their own threads (a
//! [`Job`], a [`SimTask`]) that the UI polls without blocking. Each request comes with who
//! asked, and its answer goes back with it: the worker does not know the views.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::Duration;

use shoplab_engine::{
    AbPlan, AbQuery, CalibrationReport, Comparison, DemandQuery, DemandReport, Distributions,
    EpochRow, Estimate, FinetuneConfig, FinetuneOutcome, ImportOptions, ImportPreview,
    ImportReport, Inspection, Job, LiveDay, Mapping, ParamSweep, PastSimulation, Profile,
    QueryResult, Reject, RunSummary, Session, SimReport, SimSweepReport, SparkOutcome, SparkTask,
    SplitSpec, SplitSummary, StoredSim, Sweep, SweepSpec, TableCount, TrainConfig, TrainOutcome,
};

pub enum Request {
    Open(PathBuf),
    OpenDemo,
    /// Recognize a file's format and mapping, and read its first rows.
    Preview(PathBuf),
    /// Import a file on a job of its own, with the recognized mapping or this one.
    Import {
        file: PathBuf,
        mapping: Option<Box<Mapping>>,
    },
    /// The rejected rows of an import.
    Rejects(i64),
    Distributions,
    /// Fit the simulator to the workspace's sessions (with a run's vectors).
    Calibrate(Option<i64>),
    /// Demand curves of a calibration.
    Demand(Box<DemandQuery>),
    /// The stored simulations.
    Sims,
    /// A stored simulation, to show (or to overlay on what is shown).
    PastSim {
        sim_id: i64,
        overlay: bool,
    },
    /// A scenario parameter swept over values (a job).
    SimSweep {
        scenario: String,
        sweep: Box<ParamSweep>,
        seeds: u64,
    },
    /// An A/B test plan for two policies of a scenario (TOML text).
    PlanAb {
        scenario: String,
        query: Box<AbQuery>,
    },
    Profile,
    /// SQL, at most this many rows back.
    Query(String),
    /// Writes a query's whole result to a CSV or Parquet file (by its extension).
    ExportQuery {
        sql: String,
        path: PathBuf,
    },
    Runs,
    /// Sets a run's tags and note; answered with the runs, read again.
    Tag {
        run: i64,
        tags: Vec<String>,
        note: String,
    },
    /// Each run's epochs, and its per-user test metric's mean with a 95% interval.
    Curves {
        runs: Vec<i64>,
        metric: String,
    },
    /// What is inside a finished run.
    Inspect(i64),
    Compare {
        a: i64,
        b: i64,
        metric: String,
    },
    /// Each run's top `k` for `user`, and what the user bought in the split's test part.
    Recommend {
        runs: Vec<i64>,
        user: String,
        k: usize,
    },
    Train(Box<TrainConfig>),
    Resume(i64),
    /// A text run: a review task or the two-tower.
    Finetune(Box<FinetuneConfig>),
    ResumeText(i64),
    /// Checks and names a sweep (nothing runs yet).
    PlanSweep {
        spec: Box<SweepSpec>,
        tag: Option<String>,
    },
    /// Starts trial `i` of a planned sweep.
    SweepTrial {
        sweep: Box<Sweep>,
        i: usize,
    },
    /// Makes a split; answered with the workspace's splits.
    Split(Box<SplitSpec>),
    /// A step on a Spark cluster over a lake's events (a job).
    Spark {
        remote: String,
        data: String,
        task: Box<SparkTask>,
    },
    /// A scenario (TOML text, where it came from), its replicates, and the wall time a
    /// simulated day takes (`None`: batch, as fast as the machine allows).
    Simulate {
        scenario: String,
        origin: String,
        seeds: u64,
        pace: Option<Duration>,
    },
}

impl Request {
    pub fn describe(&self) -> String {
        match self {
            Request::Open(p) => format!("opening {}", p.display()),
            Request::OpenDemo => "opening the demo workspace (built on first use)".into(),
            Request::Preview(p) => format!("reading {}", p.display()),
            Request::Import { file, .. } => format!("starting the import of {}", file.display()),
            Request::Rejects(id) => format!("reading the rejects of import {id}"),
            Request::Distributions => "computing the distributions".into(),
            Request::Calibrate(_) => "calibrating the simulator on the workspace's sessions".into(),
            Request::Demand(_) => "drawing the demand curves".into(),
            Request::Sims => "listing the stored simulations".into(),
            Request::PastSim { sim_id, .. } => format!("reading simulation {sim_id}"),
            Request::SimSweep { sweep, .. } => format!("starting the sweep of {}", sweep.path),
            Request::PlanAb { query, .. } => format!(
                "simulating {} A/B tests of {:?} against {:?}",
                query.replicates, query.b, query.a
            ),
            Request::Profile => "profiling".into(),
            Request::Query(_) => "running the query".into(),
            Request::ExportQuery { path, .. } => format!("writing {}", path.display()),
            Request::Runs => "reading the runs".into(),
            Request::Tag { run, .. } => format!("tagging run {run}"),
            Request::Curves { .. } => "reading the runs' curves".into(),
            Request::Compare { .. } => "comparing".into(),
            Request::Inspect(run) => format!("looking inside run {run}"),
            Request::Recommend { .. } => "recommending".into(),
            Request::Train(c) => format!("starting {} on {}", c.model.name(), c.split),
            Request::Resume(r) | Request::ResumeText(r) => format!("resuming run {r}"),
            Request::Finetune(c) => format!("starting {}", c.run_model()),
            Request::PlanSweep { .. } => "checking the sweep".into(),
            Request::SweepTrial { sweep, i } => {
                format!("starting trial {} of {}", i + 1, sweep.tag)
            }
            Request::Split(s) => format!("making split {}", s.name),
            Request::Spark { remote, task, .. } => {
                format!("sending {} to {remote}", task.describe())
            }
            Request::Simulate { .. } => "starting the simulation".into(),
        }
    }
}

/// A run's curve and its test metric.
pub struct Curve {
    pub run_id: i64,
    pub epochs: Vec<EpochRow>,
    /// Mean of the per-user test metric with its 95% interval (runs with per-user values).
    pub metric: Option<Estimate>,
}

pub enum Reply {
    Opened {
        path: PathBuf,
        tables: Vec<TableCount>,
        profile: Option<Box<Profile>>,
        splits: Vec<SplitSummary>,
        /// An older workspace's migration, with where its backup is.
        migrated: Option<String>,
    },
    Preview {
        file: PathBuf,
        preview: Box<ImportPreview>,
    },
    ImportStarted(Job<ImportReport>),
    Rejects(Vec<Reject>),
    Distributions(Box<Distributions>),
    Calibrated(Box<CalibrationReport>),
    Demand(Box<DemandReport>),
    Planned(Box<AbPlan>),
    SimSweepStarted(Job<SimSweepReport>),
    Sims(Vec<StoredSim>),
    PastSim {
        past: Box<PastSimulation>,
        overlay: bool,
    },
    Query(QueryResult),
    Exported(PathBuf),
    Runs(Vec<RunSummary>),
    Curves(Vec<Curve>),
    Compared(Comparison),
    Inspected(Box<Inspection>),
    Recommended {
        user: String,
        lists: Vec<(i64, Vec<(String, f32)>)>,
        bought_later: Vec<String>,
    },
    TrainStarted(Job<TrainOutcome>),
    TextStarted(Job<FinetuneOutcome>),
    SweepPlanned(Box<Sweep>),
    /// The workspace's splits, after one was made (the new one's name).
    Splits {
        made: String,
        splits: Vec<SplitSummary>,
    },
    SimStarted(SimTask),
    SparkStarted(Job<SparkOutcome>),
}

/// The worker's answer to the request `to` sent: a reply, or what went wrong.
pub struct Answer<T> {
    pub to: T,
    pub reply: Result<Reply, String>,
}

/// What a running simulation sends: each simulated day (real time), then the stored result.
pub enum SimEvent {
    /// The scenario's items (id, category, list price), before the first day.
    Items(Vec<(String, String, f64)>),
    Day(LiveDay),
    Done(Result<SimReport, String>),
}

/// A simulation on its own thread (with its own connection to the workspace).
pub struct SimTask {
    pub events: Receiver<SimEvent>,
    pub stop: Arc<AtomicBool>,
}

/// Rows the SQL console shows.
pub const QUERY_ROWS: usize = 1_000;

/// Starts the worker: it answers each `(asker, request)` with an [`Answer`] to that asker.
pub fn spawn<T: Send + 'static>(
    ctx: egui::Context,
    requests: Receiver<(T, Request)>,
    replies: SyncSender<Answer<T>>,
) {
    std::thread::Builder::new()
        .name("workbench-worker".into())
        .spawn(move || {
            let mut session: Option<Session> = None;
            for (to, req) in requests {
                let reply = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    handle(&mut session, req, &ctx)
                }))
                .unwrap_or_else(|_| {
                    Err(shoplab_engine::EngineError::Job(
                        "the request panicked; the workspace is unchanged".into(),
                    ))
                })
                .map_err(|e| e.to_string());
                if replies.send(Answer { to, reply }).is_err() {
                    break;
                }
                ctx.request_repaint();
            }
        })
        .expect("spawn worker");
}

fn handle(
    session: &mut Option<Session>,
    req: Request,
    ctx: &egui::Context,
) -> shoplab_engine::Result<Reply> {
    if let Request::Open(path) = req {
        return open(session, path);
    }
    if let Request::OpenDemo = req {
        *session = None; // release the file before the demo may be rebuilt
        let path = shoplab_engine::demo::ensure_demo()?;
        return open(session, path);
    }
    let s = session.as_ref().ok_or_else(no_workspace)?;
    Ok(match req {
        Request::Open(_) | Request::OpenDemo => unreachable!("handled above"),
        Request::Preview(file) => Reply::Preview {
            preview: Box::new(s.preview_import(&file, &ImportOptions::default())?),
            file,
        },
        Request::Import { file, mapping } => {
            let opts = ImportOptions {
                mapping: mapping.map(|m| *m),
                ..Default::default()
            };
            Reply::ImportStarted(s.import_job(&file, opts)?)
        }
        Request::Rejects(id) => Reply::Rejects(s.rejects(id, QUERY_ROWS)?),
        Request::Spark { remote, data, task } => {
            Reply::SparkStarted(s.spark_job(remote, data, *task)?)
        }
        Request::Distributions => Reply::Distributions(Box::new(s.distributions()?)),
        Request::Calibrate(run) => Reply::Calibrated(Box::new(
            s.calibrate(&shoplab_engine::CalibrateOptions::default(), run)?,
        )),
        Request::Demand(q) => Reply::Demand(Box::new(s.demand(&q)?)),
        Request::Sims => Reply::Sims(s.simulations()?),
        Request::PastSim { sim_id, overlay } => Reply::PastSim {
            past: Box::new(s.past_simulation(sim_id)?),
            overlay,
        },
        Request::SimSweep {
            scenario,
            sweep,
            seeds,
        } => Reply::SimSweepStarted(s.simulate_sweep_job(
            scenario,
            "the scenario".into(),
            *sweep,
            Some(seeds),
            2,
        )?),
        Request::PlanAb { scenario, query } => {
            Reply::Planned(Box::new(s.plan_ab(&scenario, "the scenario", &query, 2)?))
        }
        Request::Profile => {
            let profile = s.profile()?;
            Reply::Opened {
                path: s.path(),
                tables: s.table_counts()?,
                profile: Some(Box::new(profile)),
                splits: s.splits()?,
                migrated: None,
            }
        }
        Request::Query(sql) => Reply::Query(s.query(&sql, QUERY_ROWS)?),
        Request::ExportQuery { sql, path } => {
            s.export_query(&sql, &path)?;
            Reply::Exported(path)
        }
        Request::Runs => Reply::Runs(s.runs()?),
        Request::Tag { run, tags, note } => {
            s.set_run_tags(run, &tags)?;
            s.set_run_note(run, Some(&note))?;
            Reply::Runs(s.runs()?)
        }
        Request::Curves { runs, metric } => {
            let mut curves = Vec::new();
            for run_id in runs {
                curves.push(Curve {
                    run_id,
                    epochs: s.run_epochs(run_id)?,
                    metric: s.user_metric_interval(run_id, &metric)?,
                });
            }
            Reply::Curves(curves)
        }
        Request::Compare { a, b, metric } => Reply::Compared(s.compare(a, b, &metric)?),
        Request::Inspect(run) => Reply::Inspected(Box::new(s.inspect_run(run)?)),
        Request::Recommend { runs, user, k } => {
            let mut lists = Vec::new();
            let mut bought_later = Vec::new();
            for run_id in runs {
                lists.push((run_id, s.recommend(run_id, &user, k)?));
                if bought_later.is_empty() {
                    bought_later = s.test_items(run_id, &user)?;
                }
            }
            Reply::Recommended {
                user,
                lists,
                bought_later,
            }
        }
        Request::Train(cfg) => Reply::TrainStarted(s.train_job(*cfg)?),
        Request::Resume(run_id) => Reply::TrainStarted(s.resume_job(run_id)?),
        Request::Finetune(cfg) => Reply::TextStarted(s.finetune_job(*cfg)?),
        Request::ResumeText(run_id) => Reply::TextStarted(s.resume_finetune_job(run_id)?),
        Request::PlanSweep { spec, tag } => {
            Reply::SweepPlanned(Box::new(s.plan_sweep(&spec, tag.as_deref())?))
        }
        Request::SweepTrial { sweep, i } => Reply::TrainStarted(s.sweep_trial_job(&sweep, i)?),
        Request::Split(spec) => {
            let made = s.create_split(&spec)?.name;
            Reply::Splits {
                made,
                splits: s.splits()?,
            }
        }
        Request::Simulate {
            scenario,
            origin,
            seeds,
            pace,
        } => Reply::SimStarted(simulate(s.try_clone()?, scenario, origin, seeds, pace, ctx)),
    })
}

/// Runs a simulation on its own thread, streaming days (real time) and then its result.
fn simulate(
    session: Session,
    scenario: String,
    origin: String,
    seeds: u64,
    pace: Option<Duration>,
    ctx: &egui::Context,
) -> SimTask {
    let (tx, rx) = sync_channel(64);
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let ctx = ctx.clone();
    std::thread::Builder::new()
        .name("workbench-simulation".into())
        .spawn(move || {
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                // Prepared once: its items go first (the price trajectories' index).
                let prepared = session.prepare_simulation(&scenario, &origin, Some(seeds))?;
                let items = prepared
                    .items()
                    .into_iter()
                    .map(|i| (i.item_id, i.category, i.list_price))
                    .collect();
                let _ = tx.send(SimEvent::Items(items));
                session.run_prepared(&prepared, pace, 2, &mut |d| {
                    let sent = tx.send(SimEvent::Day(d.clone())).is_ok();
                    ctx.request_repaint();
                    sent && !flag.load(Ordering::Relaxed)
                })
            }))
            .unwrap_or_else(|_| {
                Err(shoplab_engine::EngineError::Job(
                    "the simulation panicked".into(),
                ))
            });
            let _ = tx.send(SimEvent::Done(result.map_err(|e| e.to_string())));
            ctx.request_repaint();
        })
        .expect("spawn simulation");
    SimTask { events: rx, stop }
}

fn open(session: &mut Option<Session>, path: PathBuf) -> shoplab_engine::Result<Reply> {
    *session = None;
    let s = Session::open(&path)?;
    let profile = match s.last_profile()? {
        Some(p) => Some(p),
        None if s
            .table_counts()?
            .iter()
            .any(|t| t.table == "events" && t.rows > 0) =>
        {
            Some(s.profile()?)
        }
        None => None,
    };
    let reply = Reply::Opened {
        path,
        tables: s.table_counts()?,
        profile: profile.map(Box::new),
        splits: s.splits()?,
        migrated: s.migration().map(|m| m.to_string()),
    };
    *session = Some(s);
    Ok(reply)
}

fn no_workspace() -> shoplab_engine::EngineError {
    shoplab_engine::EngineError::Job("open a workspace first".into())
}
