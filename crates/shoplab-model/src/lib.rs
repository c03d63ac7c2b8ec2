//! Recommendation models and their lab: a dataset built from a workspace split, models
//! (popularity, item-kNN, EASE, biased MF on MSE, BPR-MF, Bayesian MF), a training loop
//! with progress, cancel, checkpoints and resume, evaluation by full ranking, the run
//! registry, and Parquet export of a run's recommendations and embeddings.
//!
//! Neural models are written with candle; closed-form and counting models in plain Rust
//! (EASE's inverse with nalgebra). Everything here is UI-free.
//!
//! Layers, each importing only the ones above it in this list (no module cycles):
//! 1. `error`, `device`, `dataset`, `optim`, `bert`, `text`, `files` (a run folder's file
//!    names, atomic replace, JSON): plumbing.
//! 2. `models` (the recommenders, [`Recommender`], [`ModelKind`]), then `metrics`, then
//!    `registry` (the `runs*` tables), `compare` (two runs, user by user) and `analysis`
//!    (many runs: flat parameters, groups, parameter importance).
//! 3. `spec` (each run kind's configuration and the stored [`RunSpec`]), then `run` (progress,
//!    early-stopping state, outcomes, the run context every kind trains in).
//! 4. `encoder` (the trainable text encoder) and `steps` (a text run's optimizer steps).
//! 5. One module per run kind: `train` (recommenders on a split), `conversion`, `finetune`
//!    (review tasks), `two_tower`.
//! 6. `lab`: the entry points that dispatch across run kinds (`train`, `resume`,
//!    `finetune`, `resume_finetune`, `load_run`); `export` and `inspect` (what is inside a
//!    finished run: residuals, ROC and calibration, metric by user activity, an item map)
//!    read runs through it.

pub mod analysis;
pub mod bert;
pub mod compare;
pub mod conversion;
pub mod dataset;
pub mod device;
mod encoder;
pub mod error;
pub mod export;
mod files;
pub mod finetune;
pub mod inspect;
mod kernels;
mod lab;
pub mod live;
pub mod metrics;
pub mod models;
pub mod optim;
pub mod registry;
mod run;
pub mod spec;
mod steps;
pub mod text;
mod train;
pub mod two_tower;

pub use compare::{Comparison, compare_runs};
pub use dataset::Dataset;
pub use error::{ModelError, Result};
pub use lab::{finetune, load_run, resume, resume_finetune, train};
pub use live::{Because, LiveItem, LiveModel, LiveRecs};
pub use metrics::{Evaluation, RankingMetrics};
pub use models::{ModelKind, Recommender};
pub use registry::{RunSummary, Runs};
pub use run::{FinetuneOutcome, Progress, TrainOutcome};
pub use spec::{
    Axis, FinetuneConfig, RunSpec, Search, SweepSpec, TextMethod, TextTask, TrainConfig,
    is_text_run,
};
