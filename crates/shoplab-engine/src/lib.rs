//! The one API boundary of ShopLab: every front-end (workbench, CLI, Tauri demo) calls the
//! engine, never the data layer's internals. Long operations run as [`Job`]s on their own
//! thread, report progress over a bounded channel and can be cancelled.

mod demand;
pub mod demo;
mod encoders;
pub mod job;
mod lake;
mod past;
mod plan;
mod pricing;
mod sim_sweep;
mod simulate;
pub mod storefront;
mod sweep;

pub use demand::{DemandCurveReport, DemandQuery, DemandReport};
pub use encoders::{EncoderInfo, embed_texts, encoders, import_encoder};
pub use lake::{SparkOutcome, SparkTask};
pub use past::PastSimulation;
pub use plan::AbQuery;
pub use pricing::{PricingPolicyResult, PricingReport, PricingSpec, run_pricing};
pub use shoplab_data::simlab::StoredSim;
pub use shoplab_sim::ope::OpeReport;
pub use shoplab_sim::plan::{AbPlan, PlanOptions, PowerPoint};
pub use shoplab_sim::sweep::ParamSweep;
pub use sim_sweep::{SimSweepReport, SweepPoint, SweepPolicy};
pub use simulate::{CalibrationReport, PreparedSimulation, SimItem};
pub use storefront::Storefront;
pub use sweep::Sweep;

use std::path::{Path, PathBuf};

pub use shoplab_data::datasets::path as dataset_path;
pub use shoplab_data::mapping::{Column, Parse};
pub use shoplab_data::polars::prelude::DataFrame;
pub use shoplab_data::profile::{CategoryPrices, Distributions, Funnel, Quantiles, TypeCount};
pub use shoplab_data::quality::{Finding, ValueChecks};
pub use shoplab_data::schema::{EVENT_TYPES, TABLES};
pub use shoplab_data::{
    DataError, ImportOptions, ImportReport, Mapping, Migration, Profile, Reject, SplitSpec,
    SplitSummary, Strategy, TableCount, Target,
};

pub use job::{Job, JobEvent};
pub use shoplab_data::lake::LakeTable;
pub use shoplab_model::analysis::{
    Group, GroupBy, Importance, Measure, Params, RunParams, Value as ParamValue,
    differing as differing_params, differing_of, group as group_runs, group_of,
    importance as param_importance, importance_of, lower_is_better, mean_interval,
    metric as run_metric, metric_names, params as run_params,
};
pub use shoplab_model::compare::Comparison;
pub use shoplab_model::finetune::{Precision, TextField};
pub use shoplab_model::inspect::{
    ActivityBucket, ClassifierCheck, Inspection, MapPoint, RatingCheck,
};
pub use shoplab_model::metrics::Evaluation;
pub use shoplab_model::models::Reading;
pub use shoplab_model::models::{Hyper, ModelKind, Optimizer};
pub use shoplab_model::registry::{EpochRow, RunSummary};
pub use shoplab_model::{Axis, Search, SweepSpec};
pub use shoplab_model::{Because, LiveItem, LiveModel, LiveRecs};
pub use shoplab_model::{FinetuneConfig, FinetuneOutcome, TextMethod, TextTask, is_text_run};
pub use shoplab_model::{ModelError, Progress, TrainConfig, TrainOutcome};
pub use shoplab_sim::calibrate::CalibrateOptions;
pub use shoplab_sim::demand::{CurvePoint, DemandCurve, Optimum};
pub use shoplab_sim::market::CategoryResult;
pub use shoplab_sim::rules::PriceRule;
pub use shoplab_sim::scenario::{
    Event as ScenarioEvent, PolicySpec, Pricing, Recommend, events_of as scenario_events,
    policies_of as scenario_policy_specs, policy_names as scenario_policies,
    rules_of as scenario_rules, with_calibration as scenario_with_calibration,
    with_events as scenario_with_events, with_policies as scenario_with_policies,
    with_rules as scenario_with_rules,
};
pub use shoplab_sim::{Estimate, LiveDay, PolicyRun};

/// The devices a run can be asked for: `auto` and `cpu`, and `cuda` when this binary was
/// built with CUDA and a GPU is visible (looked for once).
pub fn devices() -> Vec<String> {
    static FOUND: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let gpu = *FOUND.get_or_init(|| shoplab_model::device::select("cuda").1.starts_with("cuda"));
    let mut v = vec!["auto".to_string(), "cpu".to_string()];
    if gpu {
        v.push("cuda".into());
    }
    v
}

/// One line on the devices runs can use (CPU-only build, CUDA build with or without a GPU),
/// looked for once.
pub fn device_status() -> &'static str {
    static STATUS: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    STATUS.get_or_init(shoplab_model::device::status)
}

/// Errors of the engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("background job failed: {0}")]
    Job(String),
    #[error(transparent)]
    Sim(#[from] shoplab_sim::SimError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadArgument(String),
    #[error("{0}")]
    NotSupported(String),
    #[error(transparent)]
    Lake(#[from] shoplab_spark::LakeError),
}

impl EngineError {
    /// What kind of failure this is, for a front-end to branch on: `no_workspace`,
    /// `workspace_refused`, `not_found`, `bad_argument`, `run_not_finished`,
    /// `split_changed`, `not_supported`, `cancelled`, `cluster` (the Spark server refused or
    /// failed) or `internal`.
    pub fn code(&self) -> &'static str {
        match self {
            EngineError::NotFound(_) => "not_found",
            EngineError::BadArgument(_) => "bad_argument",
            EngineError::NotSupported(_) => "not_supported",
            EngineError::Data(e) | EngineError::Model(ModelError::Data(e)) => Self::data_code(e),
            EngineError::Model(e) => match e {
                ModelError::NoSuchRun(_) => "not_found",
                ModelError::NotFinished { .. } => "run_not_finished",
                ModelError::SplitChanged { .. } => "split_changed",
                ModelError::WrongKind(..) => "not_supported",
                ModelError::Config { .. } | ModelError::Dataset { .. } => "bad_argument",
                ModelError::Cancelled => "cancelled",
                ModelError::Data(_) // matched above
                | ModelError::Candle(_)
                | ModelError::Io { .. }
                | ModelError::Diverged { .. }
                | ModelError::Run(..) => "internal",
            },
            EngineError::Sim(shoplab_sim::SimError::Config(_)) => "bad_argument",
            EngineError::Lake(e) => match e {
                shoplab_spark::LakeError::Data(_) => "bad_argument",
                shoplab_spark::LakeError::Workspace(d) => EngineError::data_code(d),
                shoplab_spark::LakeError::Cancelled => "cancelled",
                shoplab_spark::LakeError::Connect { .. }
                | shoplab_spark::LakeError::Spark { .. } => "cluster",
            },
            EngineError::Io { .. } | EngineError::Job(_) => "internal",
        }
    }
}

impl EngineError {
    /// [`EngineError::code`] of a workspace error.
    fn data_code(e: &DataError) -> &'static str {
        match e {
            DataError::NoWorkspace { .. } => "no_workspace",
            DataError::NotShopLab { .. }
            | DataError::NewerWorkspace { .. }
            | DataError::NotAWorkspace { .. }
            | DataError::WorkspaceLocked { .. } => "workspace_refused",
            DataError::NotFound { .. } => "not_found",
            DataError::Mapping(_)
            | DataError::Split(_)
            | DataError::BadInput { .. }
            | DataError::BadLine { .. }
            | DataError::UnknownFormat { .. }
            | DataError::ImportFailed { .. } => "bad_argument",
            DataError::Cancelled => "cancelled",
            DataError::Io { .. } | DataError::Db(_) | DataError::Polars(_) => "internal",
        }
    }
}

/// A stored simulation: its id and each policy's days per replicate.
#[derive(Debug, Clone)]
pub struct SimReport {
    pub sim_id: i64,
    pub name: String,
    pub runs: Vec<shoplab_sim::PolicyRun>,
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// An open workspace, for one thread. Open another `Session` (or [`Session::try_clone`]) for another.
pub struct Session {
    ws: shoplab_data::Workspace,
}

/// A preview of an import: the recognized mapping and the first rows.
#[derive(Debug, Clone)]
pub struct ImportPreview {
    pub mapping: Mapping,
    pub columns: Vec<String>,
    pub sample: Vec<Vec<Option<String>>>,
    pub encoding: String,
}

/// The result of an SQL query, as text cells.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Session {
    /// Opens the existing workspace at `path` (an older one is migrated after a backup
    /// copy: see [`Session::migration`]). A missing file is an error.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Ok(Self {
            ws: shoplab_data::Workspace::open(path)?,
        })
    }

    /// Opens the workspace at `path`, creating it when missing: for import and init.
    pub fn create(path: impl AsRef<Path>) -> Result<Self> {
        Ok(Self {
            ws: shoplab_data::Workspace::create(path)?,
        })
    }

    /// The migration done when an older workspace was opened, with where its backup is.
    pub fn migration(&self) -> Option<&Migration> {
        self.ws.migration()
    }

    /// Opens an existing workspace read-only.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Self> {
        Ok(Self {
            ws: shoplab_data::Workspace::open_read_only(path)?,
        })
    }

    pub fn try_clone(&self) -> Result<Self> {
        Ok(Self {
            ws: self.ws.try_clone()?,
        })
    }

    pub fn path(&self) -> PathBuf {
        self.ws.path().to_path_buf()
    }

    pub fn table_counts(&self) -> Result<Vec<TableCount>> {
        Ok(self.ws.table_counts()?)
    }

    /// Recognizes a file and reads its first rows. A file of no known shape still gets a
    /// preview, with an empty mapping (format `custom`) for the user to fill in.
    pub fn preview_import(&self, file: &Path, opts: &ImportOptions) -> Result<ImportPreview> {
        let (src, mapping) = match self.ws.inspect_file(file, opts) {
            Ok(found) => found,
            Err(DataError::UnknownFormat { .. }) if opts.mapping.is_none() => {
                let src = shoplab_data::Source::inspect(self.ws.connection(), file)?;
                let mapping = Mapping {
                    format: "custom".into(),
                    target: opts.kind.unwrap_or(Target::Events),
                    csv: src.dialect.clone(),
                    encoding: Some(src.encoding.clone()),
                    names: Vec::new(),
                    columns: Default::default(),
                    event_types: Default::default(),
                    extra: Vec::new(),
                };
                (src, mapping)
            }
            Err(e) => return Err(e.into()),
        };
        Ok(ImportPreview {
            mapping,
            columns: src.columns,
            sample: src.sample.into_iter().take(20).collect(),
            encoding: src.encoding,
        })
    }

    /// Imports a file on this thread.
    pub fn import(&self, file: &Path, opts: &ImportOptions) -> Result<ImportReport> {
        Ok(self.ws.import(file, opts)?)
    }

    /// Imports a file on a background thread, with progress and cancel.
    pub fn import_job(&self, file: &Path, opts: ImportOptions) -> Result<Job<ImportReport>> {
        let ws = self.ws.try_clone()?;
        let watch = ws.watch()?;
        let file = file.to_path_buf();
        Ok(Job::spawn(
            format!("import {}", file.display()),
            Some(watch),
            move |_tx, _| Ok(ws.import(&file, &opts)?),
        ))
    }

    pub fn rejects(&self, import_id: i64, limit: usize) -> Result<Vec<Reject>> {
        Ok(self.ws.rejects(import_id, limit)?)
    }

    /// The activity and price histograms of the profile charts.
    pub fn distributions(&self) -> Result<Distributions> {
        Ok(self.ws.distributions()?)
    }

    pub fn profile(&self) -> Result<Profile> {
        Ok(self.ws.profile()?)
    }

    /// Computes the profile on a background thread.
    pub fn profile_job(&self) -> Result<Job<Profile>> {
        let ws = self.ws.try_clone()?;
        let watch = ws.watch()?;
        Ok(Job::spawn("profile".into(), Some(watch), move |_tx, _| {
            Ok(ws.profile()?)
        }))
    }

    pub fn last_profile(&self) -> Result<Option<Profile>> {
        Ok(self.ws.last_profile()?)
    }

    pub fn create_split(&self, spec: &SplitSpec) -> Result<SplitSummary> {
        Ok(self.ws.create_split(spec)?)
    }

    pub fn import_split(
        &self,
        name: &str,
        train: &Path,
        valid: Option<&Path>,
        test: &Path,
    ) -> Result<SplitSummary> {
        Ok(self.ws.import_split(name, train, valid, test)?)
    }

    pub fn splits(&self) -> Result<Vec<SplitSummary>> {
        Ok(self.ws.splits()?)
    }

    /// One part of a split as a Polars DataFrame (user_id, item_id, value, event_time).
    pub fn split_frame(&self, name: &str, part: &str) -> Result<DataFrame> {
        Ok(self.ws.split_frame(name, part)?)
    }

    /// Trains a model on a background thread: progress as [`JobEvent::Train`], cancel
    /// stops it after the current step (the run can be resumed from its checkpoint).
    pub fn train_job(&self, cfg: TrainConfig) -> Result<Job<TrainOutcome>> {
        let name = format!("train {} on {}", cfg.model.name(), cfg.split);
        self.training_job(name, move |ws, on, cancel| {
            shoplab_model::train(ws, &cfg, on, cancel)
        })
    }

    /// Continues a cancelled run from its last checkpoint, on a background thread.
    pub fn resume_job(&self, run_id: i64) -> Result<Job<TrainOutcome>> {
        self.training_job(format!("resume run {run_id}"), move |ws, on, cancel| {
            shoplab_model::resume(ws, run_id, on, cancel)
        })
    }

    /// Fine-tunes a text encoder (or fits a text baseline) on the workspace's reviews, on
    /// a background thread, with the same progress events and cancel as training.
    pub fn finetune_job(&self, cfg: FinetuneConfig) -> Result<Job<FinetuneOutcome>> {
        let name = format!("finetune {} on reviews", cfg.run_model());
        self.training_job(name, move |ws, on, cancel| {
            shoplab_model::finetune(ws, &cfg, on, cancel)
        })
    }

    /// Continues a cancelled fine-tuning run from its last checkpoint.
    pub fn resume_finetune_job(&self, run_id: i64) -> Result<Job<FinetuneOutcome>> {
        self.training_job(format!("resume run {run_id}"), move |ws, on, cancel| {
            shoplab_model::resume_finetune(ws, run_id, on, cancel)
        })
    }

    /// A job running `work` on its own workspace connection, its progress sent as events.
    fn training_job<T, F>(&self, name: String, work: F) -> Result<Job<T>>
    where
        T: Send + 'static,
        F: FnOnce(
                &shoplab_data::Workspace,
                &mut dyn FnMut(&Progress),
                &std::sync::atomic::AtomicBool,
            ) -> shoplab_model::Result<T>
            + Send
            + 'static,
    {
        let ws = self.ws.try_clone()?;
        Ok(Job::spawn(name, None, move |tx, cancel| {
            let mut on = |p: &Progress| {
                let _ = tx.try_send(JobEvent::Train(p.clone()));
            };
            Ok(work(&ws, &mut on, cancel)?)
        }))
    }

    pub fn runs(&self) -> Result<Vec<RunSummary>> {
        Ok(shoplab_model::Runs::new(&self.ws).list()?)
    }

    pub fn run(&self, run_id: i64) -> Result<RunSummary> {
        Ok(shoplab_model::Runs::new(&self.ws).get(run_id)?)
    }

    /// Replaces a run's tags (see [`RunSummary::tags`]); returns them as stored.
    pub fn set_run_tags(&self, run_id: i64, tags: &[String]) -> Result<Vec<String>> {
        Ok(shoplab_model::Runs::new(&self.ws).set_tags(run_id, tags)?)
    }

    /// Sets or clears a run's note.
    pub fn set_run_note(&self, run_id: i64, note: Option<&str>) -> Result<()> {
        Ok(shoplab_model::Runs::new(&self.ws).set_note(run_id, note)?)
    }

    pub fn run_epochs(&self, run_id: i64) -> Result<Vec<EpochRow>> {
        Ok(shoplab_model::Runs::new(&self.ws).epochs(run_id)?)
    }

    /// What is inside finished run `run_id`: residuals (rating models), ROC and calibration
    /// (classifiers), the metric by user activity and the popularity of what is recommended
    /// (recommenders), a 2-D map of the item vectors.
    pub fn inspect_run(&self, run_id: i64) -> Result<Inspection> {
        Ok(shoplab_model::inspect::inspect(&self.ws, run_id)?)
    }

    /// Paired comparison of run `b` against run `a` on `metric`, user by user.
    pub fn compare(&self, a: i64, b: i64, metric: &str) -> Result<Comparison> {
        Ok(shoplab_model::compare_runs(
            &shoplab_model::Runs::new(&self.ws),
            a,
            b,
            metric,
        )?)
    }

    /// Writes every user's top `k` items of a finished run to a Parquet file; the rows.
    pub fn export_recommendations(&self, run_id: i64, k: usize, path: &Path) -> Result<usize> {
        Ok(shoplab_model::export::recommendations(
            &self.ws, run_id, k, path,
        )?)
    }

    /// Writes the user and item vectors of a finished factorization run to a Parquet file;
    /// the rows.
    pub fn export_embeddings(&self, run_id: i64, path: &Path) -> Result<usize> {
        Ok(shoplab_model::export::embeddings(&self.ws, run_id, path)?)
    }

    /// Off-policy evaluation on `bandit_log`: the rows of `behavior` (and `campaign`) are the
    /// log; `target` is `uniform` or `log:<policy>` (see [`shoplab_sim::ope::assess`]).
    pub fn ope(
        &self,
        behavior: &str,
        campaign: Option<&str>,
        target: &str,
        resamples: usize,
        rounds: usize,
    ) -> Result<OpeReport> {
        let rows: Vec<shoplab_sim::ope::LogRow> =
            shoplab_data::catalog::bandit_rows(&self.ws, campaign)?
                .into_iter()
                .map(|r| shoplab_sim::ope::LogRow {
                    policy: r.policy,
                    action: r.action,
                    position: r.position,
                    reward: r.reward,
                    propensity: r.propensity,
                })
                .collect();
        Ok(shoplab_sim::ope::assess(
            &rows, behavior, campaign, target, resamples, rounds,
        )?)
    }

    /// Finished run `run_id`, loaded to score histories it never saw (a live shopper):
    /// load once, then [`LiveModel::recommend`] per click.
    pub fn live_model(&self, run_id: i64) -> Result<LiveModel> {
        Ok(LiveModel::load(&self.ws, run_id)?)
    }

    /// The top `k` items for a user from a finished run (train items excluded), with scores.
    pub fn recommend(&self, run_id: i64, user: &str, k: usize) -> Result<Vec<(String, f32)>> {
        let (ds, _, model) = shoplab_model::load_run(&self.ws, run_id)?;
        let u = ds.user(user).ok_or_else(|| {
            ModelError::Run(
                run_id,
                format!("user {user} is not in split \"{}\"", ds.split),
            )
        })?;
        let scores = model.score_users(&[u])?;
        let top = shoplab_model::metrics::top_k(&scores, &ds.seen[u as usize], k);
        Ok(top
            .into_iter()
            .map(|i| (ds.items[i as usize].clone(), scores[i as usize]))
            .collect())
    }

    /// Embeds every item's text (title and description, else its category) with an encoder
    /// (`model`: an imported name, a unique part of one, or a model folder) and stores the
    /// vectors in `item_embeddings`, replacing that model's earlier ones in one transaction.
    /// Returns the model's name and the items embedded.
    pub fn embed_items(&self, model: &str, device: &str) -> Result<(String, usize)> {
        let items = shoplab_data::catalog::item_texts(&self.ws)?;
        if items.is_empty() {
            return Err(EngineError::Job(
                "no item has a title, description or category: import a catalog first".into(),
            ));
        }
        let texts: Vec<&str> = items.iter().map(|i| i.1.as_str()).collect();
        let (name, vectors) = encoders::embed_texts(model, device, &texts)?;
        shoplab_data::catalog::store_item_embeddings(&self.ws, &name, &items, &vectors)?;
        Ok((name, items.len()))
    }

    /// A run's per-user test metric: its mean over users with a 95% interval (`None` when
    /// the run has no per-user values of it).
    pub fn user_metric_interval(
        &self,
        run_id: i64,
        metric: &str,
    ) -> Result<Option<shoplab_sim::Estimate>> {
        let values = shoplab_model::Runs::new(&self.ws).user_values(run_id, metric)?;
        let v: Vec<f64> = values.into_values().collect();
        Ok((!v.is_empty()).then(|| shoplab_sim::Estimate::of(&v)))
    }

    /// The items `user` has in the test part of a run's split (what the user went on to
    /// buy, rate or view after the training period).
    pub fn test_items(&self, run_id: i64, user: &str) -> Result<Vec<String>> {
        let split = self.run(run_id)?.split;
        Ok(shoplab_data::catalog::test_items(&self.ws, &split, user)?)
    }

    /// Writes a query's whole result to `path`: Parquet for `.parquet`, else CSV with a
    /// header (DuckDB's `COPY`).
    pub fn export_query(&self, sql: &str, path: &Path) -> Result<()> {
        Ok(self.ws.copy_to(sql, path)?)
    }

    /// Runs SQL and returns at most `limit` rows as text.
    pub fn query(&self, sql: &str, limit: usize) -> Result<QueryResult> {
        let conn = self.ws.connection();
        let mut stmt = conn.prepare(sql).map_err(DataError::from)?;
        let mut rows = stmt.query([]).map_err(DataError::from)?;
        let stmt_ref = rows.as_ref().expect("statement");
        let n = stmt_ref.column_count();
        let columns: Vec<String> = (0..n)
            .map(|i| {
                stmt_ref
                    .column_name(i)
                    .map(|s| s.to_string())
                    .unwrap_or_default()
            })
            .collect();
        let mut out = QueryResult {
            columns,
            rows: Vec::new(),
        };
        while let Some(r) = rows.next().map_err(DataError::from)? {
            if out.rows.len() >= limit {
                break;
            }
            let cells = (0..n)
                .map(|i| {
                    let v: shoplab_data::duckdb::types::Value =
                        r.get(i).map_err(DataError::from)?;
                    Ok(value_text(&v))
                })
                .collect::<Result<Vec<_>>>()?;
            out.rows.push(cells);
        }
        Ok(out)
    }
}

fn value_text(v: &shoplab_data::duckdb::types::Value) -> String {
    use shoplab_data::duckdb::types::Value as V;
    match v {
        V::Null => String::new(),
        V::Boolean(b) => b.to_string(),
        V::TinyInt(x) => x.to_string(),
        V::SmallInt(x) => x.to_string(),
        V::Int(x) => x.to_string(),
        V::BigInt(x) => x.to_string(),
        V::HugeInt(x) => x.to_string(),
        V::UTinyInt(x) => x.to_string(),
        V::USmallInt(x) => x.to_string(),
        V::UInt(x) => x.to_string(),
        V::UBigInt(x) => x.to_string(),
        V::Float(x) => x.to_string(),
        V::Double(x) => x.to_string(),
        V::Text(s) => s.clone(),
        V::Timestamp(unit, t) => {
            use shoplab_data::duckdb::types::TimeUnit as U;
            let us = match unit {
                U::Second => t * 1_000_000,
                U::Millisecond => t * 1_000,
                U::Microsecond => *t,
                U::Nanosecond => t / 1_000,
            };
            format_micros(us)
        }
        V::Date32(days) => {
            let (y, m, d) = civil_from_days(i64::from(*days));
            format!("{y:04}-{m:02}-{d:02}")
        }
        other => format!("{other:?}"),
    }
}

/// `YYYY-MM-DD HH:MM:SS[.ffffff]` for microseconds since the Unix epoch (UTC).
pub fn format_micros(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let frac = us.rem_euclid(1_000_000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    let base = format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    );
    if frac == 0 {
        base
    } else {
        format!("{base}.{frac:06}")
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_timestamps() {
        assert_eq!(super::format_micros(0), "1970-01-01 00:00:00");
        // MovieLens' first rating in u.data: 881250949 s.
        assert_eq!(
            super::format_micros(881_250_949_000_000),
            "1997-12-04 15:55:49"
        );
        assert_eq!(
            super::format_micros(1_569_888_000_500_000),
            "2019-10-01 00:00:00.500000"
        );
    }
}
