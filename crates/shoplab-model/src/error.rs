//! Errors of the model lab.

/// Everything that can go wrong while training, evaluating or loading a run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error(transparent)]
    Data(#[from] shoplab_data::DataError),

    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    #[error("split {split}: {message}")]
    Dataset { split: String, message: String },

    #[error("{model}: {message}")]
    Config { model: String, message: String },

    #[error(
        "training diverged at epoch {epoch}, step {step}: the loss is {loss}; lower the learning rate (now {lr}) or raise the regularization"
    )]
    Diverged {
        epoch: usize,
        step: usize,
        loss: f64,
        lr: f64,
    },

    #[error("run {0}: {1}")]
    Run(i64, String),

    #[error("run {0}: no such run")]
    NoSuchRun(i64),

    #[error("run {run_id}: is {status}, not finished")]
    NotFinished { run_id: i64, status: String },

    #[error(
        "run {run_id}: split \"{split}\" changed since the run was trained (users/items differ)"
    )]
    SplitChanged { run_id: i64, split: String },

    /// The run is not of the kind asked for (a conversion model where a recommender is needed).
    #[error("run {0}: {1}")]
    WrongKind(i64, String),

    #[error("cancelled")]
    Cancelled,
}

pub type Result<T, E = ModelError> = std::result::Result<T, E>;

impl ModelError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

impl From<shoplab_data::duckdb::Error> for ModelError {
    fn from(e: shoplab_data::duckdb::Error) -> Self {
        Self::Data(e.into())
    }
}

impl From<shoplab_data::polars::error::PolarsError> for ModelError {
    fn from(e: shoplab_data::polars::error::PolarsError) -> Self {
        Self::Data(e.into())
    }
}
