//! Recommendation models and their lab: a dataset built from a workspace split, models
//! (popularity, item-kNN, EASE, biased MF on MSE, BPR-MF, Bayesian MF), a training loop
//! with progress, cancel, checkpoints and resume, evaluation by full ranking, the run
//! registry, and Parquet export of a run's recommendations and embeddings.
//!
//! Neural models are written with candle; closed-form and counting models in plain Rust
//! (EASE's inverse with nalgebra). Everything here is UI-free.

pub mod bert;
pub mod compare;
pub mod conversion;
pub mod dataset;
pub mod device;
pub mod error;
pub mod export;
pub mod finetune;
pub mod metrics;
pub mod models;
pub mod optim;
pub mod registry;
pub mod text;
pub mod train;
pub mod two_tower;

pub use compare::{Comparison, compare_runs};
pub use dataset::Dataset;
pub use error::{ModelError, Result};
pub use finetune::{
    FinetuneConfig, FinetuneOutcome, TextMethod, TextTask, finetune, resume_finetune,
};
pub use metrics::{Evaluation, RankingMetrics};
pub use models::{ModelKind, Recommender};
pub use registry::{RunSummary, Runs};
pub use train::{Progress, TrainConfig, TrainOutcome, load_run, resume, train};
