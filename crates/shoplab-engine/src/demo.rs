//! The bundled demo workspace: built from the deterministic synthetic storefront, so every
//! machine gets the same shop (same seed, same rows) without shipping data files.

use std::io::BufWriter;
use std::path::{Path, PathBuf};

pub use shoplab_synth::{World, WorldConfig};

use crate::{
    CalibrateOptions, EngineError, ImportOptions, ImportReport, ModelKind, Profile, Result,
    RunSummary, Session, SplitSpec, SplitSummary, Strategy, Target, TrainConfig,
};

/// The runs the demo workspace is built with, so every widget of the storefront has one:
/// the model and its epochs (SASRec is cut to keep the build short; `None`: its default).
pub const DEMO_RUNS: &[(ModelKind, Option<usize>)] = &[
    (ModelKind::Pop, None),
    (ModelKind::ItemKnn, None),
    (ModelKind::Ease, None),
    (ModelKind::Bpr, None),
    (ModelKind::SasRec, Some(12)),
    (ModelKind::Conversion, None),
];

/// What building the demo workspace did.
#[derive(Debug, Clone)]
pub struct DemoReport {
    pub path: PathBuf,
    pub events: ImportReport,
    pub catalog: ImportReport,
    pub split: SplitSummary,
    pub profile: Profile,
    /// The finished runs ([`DEMO_RUNS`]) and the calibration.
    pub runs: Vec<RunSummary>,
    pub calibration_id: Option<i64>,
}

/// ShopLab's cache: `$SHOPLAB_CACHE`, else `$XDG_CACHE_HOME/shoplab`, else `~/.cache/shoplab`.
pub fn cache_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("SHOPLAB_CACHE") {
        return PathBuf::from(p);
    }
    if let Some(p) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(p).join("shoplab");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    home.join(".cache").join("shoplab")
}

/// Where the demo workspace lives unless told otherwise.
pub fn default_demo_path() -> PathBuf {
    cache_dir().join("demo.duckdb")
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> EngineError {
    let context = context.into();
    move |source| EngineError::Io { context, source }
}

/// Writes the synthetic shop's event log (REES46 shape) and catalog as CSV files into `dir`.
pub fn write_demo_files(dir: &Path, config: &WorldConfig) -> Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(dir).map_err(io(dir.display().to_string()))?;
    let world = World::generate(config);
    let events = dir.join("events.csv");
    let catalog = dir.join("catalog.csv");
    let f = std::fs::File::create(&events).map_err(io(events.display().to_string()))?;
    world
        .write_events_csv(BufWriter::with_capacity(1 << 20, f), None)
        .map_err(io(events.display().to_string()))?;
    let f = std::fs::File::create(&catalog).map_err(io(catalog.display().to_string()))?;
    world
        .write_catalog_csv(BufWriter::new(f))
        .map_err(io(catalog.display().to_string()))?;
    Ok((events, catalog))
}

/// What a demo workspace holds beyond its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contents {
    /// The data, its profile and split, the [`DEMO_RUNS`] and a calibration: what the
    /// storefront demo and the workbench open on first start.
    Full,
    /// The data, its profile and split only (quick: for tests and scripts that train their own).
    Data,
}

/// Builds a fresh demo workspace at `path` (replacing it): import events and catalog,
/// profile, a temporal 80/10/10 split named `main`, the [`DEMO_RUNS`] trained on it and a
/// calibration of the simulator. Built beside `path`, then renamed,
/// so a half-built demo is never left behind.
pub fn build_demo(path: &Path, config: &WorldConfig, contents: Contents) -> Result<DemoReport> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(parent.display().to_string()))?;
    let work = parent.join(format!(".shoplab-demo-build-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let (events_csv, catalog_csv) = write_demo_files(&work, config)?;
    let tmp_db = work.join("demo.duckdb");
    let report = (|| -> Result<DemoReport> {
        let session = Session::create(&tmp_db)?;
        let catalog = session.import(
            &catalog_csv,
            &ImportOptions {
                kind: Some(Target::Items),
                ..Default::default()
            },
        )?;
        let events = session.import(&events_csv, &ImportOptions::default())?;
        let profile = session.profile()?;
        let split = session.create_split(&SplitSpec {
            name: "main".into(),
            strategy: Strategy::Temporal {
                valid: 0.1,
                test: 0.1,
            },
            seed: 7,
            event_types: None,
            min_value: None,
            k_core: None,
            cold_items: None,
        })?;
        let mut runs = Vec::new();
        let mut calibration_id = None;
        for &(model, epochs) in DEMO_RUNS.iter().filter(|_| contents == Contents::Full) {
            let mut cfg = TrainConfig::new("main", model);
            if let Some(e) = epochs {
                cfg.epochs = e;
            }
            let outcome = session.train_job(cfg)?.join()?;
            runs.push(session.run(outcome.run_id)?);
        }
        if contents == Contents::Full {
            calibration_id = Some(
                session
                    .calibrate(&CalibrateOptions::default(), None)?
                    .calibration_id,
            );
        }
        Ok(DemoReport {
            path: path.to_path_buf(),
            events,
            catalog,
            split,
            profile,
            runs,
            calibration_id,
        })
    })();
    let result = report.and_then(|r| {
        // The runs' files travel with the workspace (`<workspace>.runs`).
        let (tmp_runs, runs) = (with_suffix(&tmp_db, ".runs"), with_suffix(path, ".runs"));
        let _ = std::fs::remove_dir_all(&runs);
        if tmp_runs.exists() {
            std::fs::rename(&tmp_runs, &runs).map_err(io(runs.display().to_string()))?;
        }
        std::fs::rename(&tmp_db, path).map_err(io(path.display().to_string()))?;
        Ok(r)
    });
    let _ = std::fs::remove_dir_all(&work);
    result
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// The demo workspace, built on first use.
pub fn ensure_demo() -> Result<PathBuf> {
    let path = default_demo_path();
    if !path.exists() {
        build_demo(&path, &WorldConfig::demo(), Contents::Full)?;
    }
    Ok(path)
}
