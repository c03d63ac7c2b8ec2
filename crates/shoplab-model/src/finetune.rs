//! Fine-tuning a text encoder on the workspace's reviews: the rating (regression, squared
//! error) or the recommended flag (classification, cross-entropy) predicted from a review's
//! text by a linear head on the encoder's pooled embedding.
//!
//! Four methods, each a run in the registry, on the same seeded split and with the same
//! metrics:
//! - `full`: every encoder weight trains (AdamW).
//! - `lora`: rank-r adapters on the query and value projections of every attention layer
//!   (Hu et al., 2021): x·Wᵀ + (α/r)·(x·Aᵀ)·Bᵀ with A random and B zero, the pretrained
//!   weights frozen; merged into W when the model is saved.
//! - `frozen`: a linear model on the pretrained embeddings (the linear probe).
//! - `tfidf`: a linear model on TF-IDF features of words and word pairs.
//!
//! Fine-tuning starts from the linear probe's head (LP-FT, Kumar et al., 2022), so its first
//! steps are not spent undoing a random head. Batches group texts of similar length (each
//! padded to its longest), gradients can be summed over micro-batches, and the learning
//! rate warms up linearly, then decays linearly to zero. A run saves its merged weights in
//! the Hugging Face layout (`<run>/model/`): a model folder `shoplab model import` and
//! `shoplab embed` load.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use candle_core::{DType, Device, Tensor, Var};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use shoplab_data::Workspace;

use crate::bert::{Adapter, Bert};
use crate::device;
use crate::error::{ModelError, Result};
use crate::metrics::{self, Evaluation};
use crate::models::bce_with_logits;
use crate::optim::Adam;
use crate::registry::{EpochRow, Runs};
use crate::text::{self, Folder};
use crate::train::{
    BEST, CHECKPOINT, OPTIMIZER, Progress, STATE, State, read_json, replace_file, write_json,
};

/// What is predicted from a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextTask {
    /// The star rating, by squared error; validated by RMSE.
    Rating,
    /// The recommended flag (0/1), by cross-entropy; validated by AUC.
    Recommend,
    /// A text-aware recommender on a split's interactions: the item tower is the encoder
    /// over each item's text, the user tower a linear map of the user's history; trained
    /// with in-batch negatives, validated by NDCG@k (see [`crate::two_tower`]).
    #[serde(rename = "two-tower")]
    TwoTower,
}

impl TextTask {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "rating" => Ok(TextTask::Rating),
            "recommend" | "recommended" => Ok(TextTask::Recommend),
            "two-tower" | "twotower" => Ok(TextTask::TwoTower),
            other => Err(ModelError::Config {
                model: "finetune".into(),
                message: format!(
                    "unknown task '{other}' (expected rating, recommend or two-tower)"
                ),
            }),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TextTask::Rating => "rating",
            TextTask::Recommend => "recommend",
            TextTask::TwoTower => "two-tower",
        }
    }

    /// The validation metric, and whether higher is better.
    pub fn metric(self) -> (&'static str, bool) {
        match self {
            TextTask::Rating => ("rmse", false),
            TextTask::Recommend => ("auc", true),
            TextTask::TwoTower => ("ndcg", true),
        }
    }

    fn column(self) -> Option<&'static str> {
        match self {
            TextTask::Rating => Some("rating"),
            TextTask::Recommend => Some("recommended"),
            TextTask::TwoTower => None,
        }
    }
}

/// How the text model is fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextMethod {
    Full,
    Lora,
    Frozen,
    Tfidf,
}

impl TextMethod {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "full" => Ok(TextMethod::Full),
            "lora" => Ok(TextMethod::Lora),
            "frozen" => Ok(TextMethod::Frozen),
            "tfidf" => Ok(TextMethod::Tfidf),
            other => Err(ModelError::Config {
                model: "finetune".into(),
                message: format!("unknown method '{other}' (expected full, lora, frozen or tfidf)"),
            }),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TextMethod::Full => "full",
            TextMethod::Lora => "lora",
            TextMethod::Frozen => "frozen",
            TextMethod::Tfidf => "tfidf",
        }
    }

    fn trains_encoder(self) -> bool {
        matches!(self, TextMethod::Full | TextMethod::Lora)
    }
}

/// Which text of a review is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextField {
    /// The title, when there is one, then the text.
    Review,
    Text,
    Title,
}

impl TextField {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "review" => Ok(TextField::Review),
            "text" => Ok(TextField::Text),
            "title" => Ok(TextField::Title),
            other => Err(ModelError::Config {
                model: "finetune".into(),
                message: format!("unknown text '{other}' (expected review, text or title)"),
            }),
        }
    }

    fn sql(self) -> &'static str {
        match self {
            TextField::Review => {
                "CASE WHEN title IS NULL OR trim(title) = '' THEN text ELSE title || '. ' || text END"
            }
            TextField::Text => "text",
            TextField::Title => "title",
        }
    }
}

/// The encoder's number format in training: weights stay f32 (the optimizer's copy) and
/// are cast for each step's forward and backward pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    F32,
    Bf16,
    F16,
}

impl Precision {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "f32" => Ok(Precision::F32),
            "bf16" => Ok(Precision::Bf16),
            "f16" => Ok(Precision::F16),
            other => Err(ModelError::Config {
                model: "finetune".into(),
                message: format!("unknown precision '{other}' (expected f32, bf16 or f16)"),
            }),
        }
    }

    fn dtype(self) -> DType {
        match self {
            Precision::F32 => DType::F32,
            Precision::Bf16 => DType::BF16,
            Precision::F16 => DType::F16,
        }
    }
}

/// Everything a text run needs; stored with the run as JSON.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FinetuneConfig {
    /// The encoder: an imported model's name, part of one, or a folder.
    pub model: String,
    pub task: TextTask,
    pub method: TextMethod,
    pub text: TextField,
    pub epochs: usize,
    /// Texts per micro-batch.
    pub batch_size: usize,
    /// Micro-batches whose gradients are summed into one optimizer step.
    pub accumulate: usize,
    /// Tokens a text is truncated to.
    pub max_tokens: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Fraction of the steps spent warming up.
    pub warmup: f64,
    pub weight_decay: f64,
    /// LoRA rank r and scale α (the adapter adds α/r·B·A).
    pub lora_rank: usize,
    pub lora_alpha: f64,
    /// At most this many reviews (a seeded sample), before the 80/10/10 split.
    pub limit: Option<usize>,
    pub seed: u64,
    /// "cpu", "cuda" or "auto".
    pub device: String,
    pub precision: Precision,
    /// Epochs without a better validation value before stopping; 0 trains every epoch.
    pub patience: usize,
    /// Two-tower: the split whose interactions train and evaluate it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<String>,
    /// Two-tower: the softmax temperature of the in-batch scores (cosine / τ).
    #[serde(default = "default_temperature")]
    pub temperature: f64,
    /// Two-tower: optimizer steps per epoch (default: the training items over the batch
    /// size, so an epoch draws about as many positives as the catalog has items).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<usize>,
    /// Two-tower: the cut-off of the ranking metrics.
    #[serde(default = "default_k")]
    pub k: usize,
}

fn default_temperature() -> f64 {
    0.05
}

fn default_k() -> usize {
    10
}

impl FinetuneConfig {
    pub fn new(model: &str, task: TextTask, method: TextMethod) -> Self {
        FinetuneConfig {
            model: model.into(),
            task,
            method,
            text: TextField::Review,
            epochs: 3,
            batch_size: 16,
            accumulate: 1,
            max_tokens: 128,
            // LoRA's adapters and a frozen encoder's head (the two-tower's user map) start
            // from zero or the identity and take larger steps than pretrained weights.
            lr: if matches!(method, TextMethod::Lora | TextMethod::Frozen) {
                1e-3
            } else {
                3e-5
            },
            warmup: 0.1,
            weight_decay: 0.01,
            lora_rank: 8,
            lora_alpha: 16.0,
            limit: None,
            seed: 1,
            device: "auto".into(),
            precision: Precision::F32,
            patience: 0,
            split: None,
            temperature: default_temperature(),
            steps: None,
            k: default_k(),
        }
    }

    /// The run's model name in the registry: `lora8:rating`, `full:recommend`, ...
    pub fn run_model(&self) -> String {
        match self.method {
            TextMethod::Lora => format!("lora{}:{}", self.lora_rank, self.task.name()),
            m => format!("{}:{}", m.name(), self.task.name()),
        }
    }

    fn check(&self) -> Result<()> {
        let bad = |message: String| {
            Err(ModelError::Config {
                model: self.run_model(),
                message,
            })
        };
        if self.batch_size == 0 || self.accumulate == 0 {
            return bad("batch size and accumulation must be at least 1".into());
        }
        if self.method == TextMethod::Lora && self.lora_rank == 0 {
            return bad("the LoRA rank must be at least 1".into());
        }
        if !(0.0..1.0).contains(&self.warmup) {
            return bad(format!(
                "warm-up {} is not a fraction in [0, 1)",
                self.warmup
            ));
        }
        if self.max_tokens < 2 {
            return bad("max tokens must be at least 2".into());
        }
        if self.task == TextTask::TwoTower {
            if self.method == TextMethod::Tfidf {
                return bad(
                    "the two-tower recommender reads items with the encoder: use full, lora or frozen"
                        .into(),
                );
            }
            if self.temperature <= 0.0 || self.k == 0 || self.steps == Some(0) {
                return bad("temperature, k and steps must be positive".into());
            }
        }
        Ok(())
    }
}

/// Texts with their targets.
#[derive(Debug, Clone, Default)]
pub struct Examples {
    pub review_ids: Vec<i64>,
    pub texts: Vec<String>,
    pub targets: Vec<f32>,
}

impl Examples {
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    fn texts(&self) -> Vec<&str> {
        self.texts.iter().map(String::as_str).collect()
    }

    fn mean(&self) -> f64 {
        self.targets.iter().map(|&t| f64::from(t)).sum::<f64>() / self.len().max(1) as f64
    }
}

/// The reviews of a task, split 80/10/10 by the seed.
#[derive(Debug, Clone)]
pub struct TextSplit {
    pub train: Examples,
    pub valid: Examples,
    pub test: Examples,
}

/// Reads the reviews that have the task's target and text, shuffles them by `seed`, keeps
/// `limit` of them and cuts train, validation and test 80/10/10.
pub fn review_split(
    ws: &Workspace,
    task: TextTask,
    field: TextField,
    limit: Option<usize>,
    seed: u64,
) -> Result<TextSplit> {
    let Some(col) = task.column() else {
        return Err(ModelError::Config {
            model: task.name().into(),
            message: "reads a split's interactions, not reviews".into(),
        });
    };
    let text = field.sql();
    let mut stmt = ws.connection().prepare(&format!(
        "SELECT review_id, {text}, {col} FROM reviews
         WHERE {col} IS NOT NULL AND {text} IS NOT NULL AND trim({text}) <> '' ORDER BY review_id"
    ))?;
    let mut rows: Vec<(i64, String, f64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<std::result::Result<_, _>>()?;
    let no_data = |message: String| ModelError::Dataset {
        split: "reviews".into(),
        message,
    };
    if rows.len() < 10 {
        return Err(no_data(format!(
            "{} reviews have a {col} and a text; at least 10 are needed (import reviews with `shoplab import WS FILE --kind reviews`)",
            rows.len()
        )));
    }
    if task == TextTask::Recommend
        && let Some(r) = rows.iter().find(|r| r.2 != 0.0 && r.2 != 1.0)
    {
        return Err(no_data(format!(
            "review {} has recommended = {}; the flag must be 0 or 1",
            r.0, r.2
        )));
    }
    rows.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    if let Some(l) = limit {
        rows.truncate(l.max(10));
    }
    let n = rows.len();
    let (n_train, n_valid) = (n * 8 / 10, n / 10);
    let part = |rows: &[(i64, String, f64)]| Examples {
        review_ids: rows.iter().map(|r| r.0).collect(),
        texts: rows.iter().map(|r| r.1.clone()).collect(),
        targets: rows.iter().map(|r| r.2 as f32).collect(),
    };
    Ok(TextSplit {
        train: part(&rows[..n_train]),
        valid: part(&rows[n_train..n_train + n_valid]),
        test: part(&rows[n_train + n_valid..]),
    })
}

// ---------------------------------------------------------------------------------------
// Linear models on fixed features (the baselines, and the probe fine-tuning starts from).

/// Rows of (feature index, value).
#[derive(Debug, Clone)]
pub struct Features {
    rows: Vec<Vec<(u32, f32)>>,
    dim: usize,
}

impl Features {
    fn dense(rows: &[Vec<f32>]) -> Self {
        let dim = rows.first().map_or(0, Vec::len);
        Features {
            rows: rows
                .iter()
                .map(|r| r.iter().enumerate().map(|(j, &v)| (j as u32, v)).collect())
                .collect(),
            dim,
        }
    }
}

/// TF-IDF over lower-case words and adjacent word pairs seen in at least two training texts:
/// sublinear term frequency (1 + ln tf) times the smoothed idf, each row L2-normalized.
#[derive(Debug, Clone)]
pub struct Tfidf {
    vocab: HashMap<String, u32>,
    idf: Vec<f32>,
}

fn terms(text: &str) -> Vec<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .map(|w| w.trim_matches('\'').to_lowercase())
        .filter(|w| !w.is_empty())
        .collect();
    let pairs: Vec<String> = words
        .windows(2)
        .map(|p| format!("{} {}", p[0], p[1]))
        .collect();
    words.into_iter().chain(pairs).collect()
}

impl Tfidf {
    pub fn fit(texts: &[&str]) -> Self {
        let mut df: HashMap<String, u32> = HashMap::new();
        for t in texts {
            let mut seen = terms(t);
            seen.sort();
            seen.dedup();
            for w in seen {
                *df.entry(w).or_default() += 1;
            }
        }
        let mut kept: Vec<(String, u32)> = df.into_iter().filter(|(_, d)| *d >= 2).collect();
        kept.sort();
        let n = texts.len() as f32;
        let idf = kept
            .iter()
            .map(|(_, d)| ((1.0 + n) / (1.0 + *d as f32)).ln() + 1.0)
            .collect();
        let vocab = kept
            .into_iter()
            .enumerate()
            .map(|(k, (w, _))| (w, k as u32))
            .collect();
        Tfidf { vocab, idf }
    }

    pub fn len(&self) -> usize {
        self.idf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.idf.is_empty()
    }

    pub fn transform(&self, texts: &[&str]) -> Features {
        let rows = texts
            .iter()
            .map(|t| {
                let mut tf: HashMap<u32, f32> = HashMap::new();
                for w in terms(t) {
                    if let Some(&k) = self.vocab.get(&w) {
                        *tf.entry(k).or_default() += 1.0;
                    }
                }
                let mut row: Vec<(u32, f32)> = tf
                    .into_iter()
                    .map(|(k, c)| (k, (1.0 + c.ln()) * self.idf[k as usize]))
                    .collect();
                row.sort_by_key(|e| e.0);
                let norm = row.iter().map(|e| e.1 * e.1).sum::<f32>().sqrt().max(1e-12);
                row.iter_mut().for_each(|e| e.1 /= norm);
                row
            })
            .collect();
        Features {
            rows,
            dim: self.idf.len(),
        }
    }
}

/// A linear model: a regression, or a logistic regression (its predictions probabilities).
#[derive(Debug, Clone)]
pub struct Linear {
    pub w: Vec<f32>,
    pub b: f32,
    pub logistic: bool,
}

const LINEAR_STEPS: usize = 400;

impl Linear {
    /// Minimizes the mean loss (half squared error, or cross-entropy) plus λ/2·|w|² by
    /// full-batch Adam, from w = 0 and the bias at the mean target.
    pub fn fit(x: &Features, y: &[f32], logistic: bool, lambda: f64) -> Self {
        let n = y.len().max(1) as f64;
        let mean = y.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let b0 = if logistic {
            (mean.clamp(1e-4, 1.0 - 1e-4) / (1.0 - mean.clamp(1e-4, 1.0 - 1e-4))).ln()
        } else {
            mean
        };
        let mut m = Linear {
            w: vec![0.0; x.dim],
            b: b0 as f32,
            logistic,
        };
        let (lr, b1, b2, eps) = (0.02f64, 0.9f64, 0.999f64, 1e-8f64);
        let mut mw = vec![0.0f64; x.dim + 1];
        let mut vw = vec![0.0f64; x.dim + 1];
        let mut g = vec![0.0f64; x.dim + 1];
        for t in 1..=LINEAR_STEPS {
            g.iter_mut().for_each(|v| *v = 0.0);
            for (row, &target) in x.rows.iter().zip(y) {
                let p = m.predict_row(row);
                let r = f64::from(p - target) / n;
                for &(j, v) in row {
                    g[j as usize] += r * f64::from(v);
                }
                g[x.dim] += r;
            }
            for (j, w) in m.w.iter().enumerate() {
                g[j] += lambda * f64::from(*w);
            }
            let (c1, c2) = (1.0 - b1.powi(t as i32), 1.0 - b2.powi(t as i32));
            for j in 0..=x.dim {
                mw[j] = b1 * mw[j] + (1.0 - b1) * g[j];
                vw[j] = b2 * vw[j] + (1.0 - b2) * g[j] * g[j];
                let step = lr * (mw[j] / c1) / ((vw[j] / c2).sqrt() + eps);
                if j == x.dim {
                    m.b -= step as f32;
                } else {
                    m.w[j] -= step as f32;
                }
            }
        }
        m
    }

    fn predict_row(&self, row: &[(u32, f32)]) -> f32 {
        let z = self.b
            + row
                .iter()
                .map(|&(j, v)| self.w[j as usize] * v)
                .sum::<f32>();
        if self.logistic {
            1.0 / (1.0 + (-z).exp())
        } else {
            z
        }
    }

    pub fn predict(&self, x: &Features) -> Vec<f32> {
        x.rows.iter().map(|r| self.predict_row(r)).collect()
    }
}

/// Regularization strengths tried; the best on validation is kept.
const LAMBDAS: [f64; 4] = [1e-4, 1e-3, 1e-2, 1e-1];

/// Fits a linear model for each λ and keeps the best on validation; returns it and its λ.
fn fit_probe(
    task: TextTask,
    train: (&Features, &[f32]),
    valid: (&Features, &[f32]),
    train_mean: f64,
) -> (Linear, f64) {
    let mut best: Option<(Linear, f64, f64)> = None;
    for lambda in LAMBDAS {
        let m = Linear::fit(train.0, train.1, task == TextTask::Recommend, lambda);
        let v = headline(
            task,
            &evaluate(task, &m.predict(valid.0), valid.1, train_mean),
        );
        let better = best.as_ref().is_none_or(|(_, _, b)| match task.metric().1 {
            true => v > *b,
            false => v < *b,
        });
        if better {
            best = Some((m, lambda, v));
        }
    }
    let (m, lambda, _) = best.expect("at least one lambda");
    (m, lambda)
}

/// A task's metrics of predictions (ratings, or probabilities of the flag): RMSE, MAE and
/// the RMSE of predicting the train mean; or AUC, log loss and the base rate's log loss.
pub fn evaluate(task: TextTask, preds: &[f32], targets: &[f32], train_mean: f64) -> Evaluation {
    match task {
        TextTask::Rating => {
            let n = targets.len().max(1) as f64;
            let se = |a: f64, b: f32| (a - f64::from(b)).powi(2);
            let rmse = (preds
                .iter()
                .zip(targets)
                .map(|(p, t)| se(f64::from(*p), *t))
                .sum::<f64>()
                / n)
                .sqrt();
            let mae = preds
                .iter()
                .zip(targets)
                .map(|(p, t)| (p - t).abs() as f64)
                .sum::<f64>()
                / n;
            let base = (targets.iter().map(|t| se(train_mean, *t)).sum::<f64>() / n).sqrt();
            Evaluation {
                metrics: vec![
                    ("rmse".into(), rmse),
                    ("mae".into(), mae),
                    ("rmse_train_mean".into(), base),
                ],
                per_user: Vec::new(),
            }
        }
        TextTask::Recommend | TextTask::TwoTower => metrics::binary(preds, targets, train_mean),
    }
}

/// Each test review's error, for paired comparison of two text runs on one split (`shoplab
/// compare`, review by review): squared and absolute error of a rating, log loss of a flag.
fn per_review(task: TextTask, preds: &[f32], targets: &[f32]) -> Vec<(u32, String, f64)> {
    let mut out = Vec::new();
    for (k, (&p, &y)) in preds.iter().zip(targets).enumerate() {
        let k = k as u32;
        let error = f64::from(p) - f64::from(y);
        match task {
            TextTask::Rating => {
                out.push((k, "squared_error".to_string(), error * error));
                out.push((k, "abs_error".to_string(), error.abs()));
            }
            TextTask::Recommend | TextTask::TwoTower => {
                out.push((k, "logloss".to_string(), metrics::log_loss(f64::from(p), y)));
            }
        }
    }
    out
}

fn headline(task: TextTask, ev: &Evaluation) -> f64 {
    ev.get(task.metric().0).unwrap_or(f64::NAN)
}

// ---------------------------------------------------------------------------------------
// The trainable encoder.

/// The weights LoRA adapts in every layer.
const LORA_TARGETS: [&str; 2] = ["attention.self.query.weight", "attention.self.value.weight"];

/// A BERT whose weights are the pretrained ones plus what trains: every float weight
/// (full fine-tuning) or the LoRA adapters.
pub(crate) struct Encoder {
    pub(crate) folder: Folder,
    base: HashMap<String, Tensor>,
    full: Vec<(String, Var)>,
    /// Weight name, A (r × in), B (out × r).
    lora: Vec<(String, Var, Var)>,
    scale: f64,
    dtype: DType,
    pub(crate) device: Device,
}

impl Encoder {
    pub(crate) fn new(dir: &Path, cfg: &FinetuneConfig, device: &Device) -> Result<Self> {
        let folder = Folder::read(dir)?;
        let base = candle_core::safetensors::load(dir.join("model.safetensors"), device)?;
        let mut names: Vec<&String> = base.keys().collect();
        names.sort();
        let mut enc = Encoder {
            folder,
            full: Vec::new(),
            lora: Vec::new(),
            scale: cfg.lora_alpha / cfg.lora_rank.max(1) as f64,
            dtype: cfg.precision.dtype(),
            device: device.clone(),
            base: HashMap::new(),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x10A4);
        for name in names {
            let t = &base[name];
            let float = t.dtype() == DType::F32 && !name.contains("pooler");
            match cfg.method {
                TextMethod::Full if float => {
                    enc.full.push((name.clone(), Var::from_tensor(t)?));
                }
                TextMethod::Lora if LORA_TARGETS.iter().any(|s| name.ends_with(s)) => {
                    let (out, inp) = t.dims2()?;
                    let r = cfg.lora_rank;
                    // A as PEFT initializes it (Kaiming-uniform bound 1/sqrt(in)), B zero.
                    let bound = 1.0 / (inp as f32).sqrt();
                    let a: Vec<f32> = (0..r * inp)
                        .map(|_| rng.random_range(-bound..bound))
                        .collect();
                    let a = Var::from_tensor(&Tensor::from_vec(a, (r, inp), device)?)?;
                    let b = Var::zeros((out, r), DType::F32, device)?;
                    enc.lora.push((name.clone(), a, b));
                }
                _ => {}
            }
        }
        enc.base = base;
        if cfg.method == TextMethod::Lora && enc.lora.is_empty() {
            return Err(ModelError::Config {
                model: cfg.model.clone(),
                message: "no attention query/value weights to adapt (not a BERT-family model?)"
                    .into(),
            });
        }
        Ok(enc)
    }

    pub(crate) fn vars(&self) -> Vec<Var> {
        self.full
            .iter()
            .map(|(_, v)| v.clone())
            .chain(
                self.lora
                    .iter()
                    .flat_map(|(_, a, b)| [a.clone(), b.clone()]),
            )
            .collect()
    }

    /// The weights a forward pass reads: the pretrained ones, or the variables of full
    /// fine-tuning.
    fn weights(&self) -> HashMap<String, Tensor> {
        let mut t = self.base.clone();
        for (name, v) in &self.full {
            t.insert(name.clone(), v.as_tensor().clone());
        }
        t
    }

    fn adapters(&self) -> HashMap<String, Adapter> {
        self.lora
            .iter()
            .map(|(name, a, b)| {
                let ad = Adapter {
                    a: a.as_tensor().clone(),
                    b: b.as_tensor().clone(),
                    scale: self.scale,
                };
                (name.clone(), ad)
            })
            .collect()
    }

    /// Pooled embeddings (f32, `n × dim`) of a batch; `train` keeps every operation
    /// differentiable (and uses the training precision).
    pub(crate) fn pooled(&self, enc: &[&tokenizers::Encoding], train: bool) -> Result<Tensor> {
        let (ids, types, mask) = text::inputs(enc, &self.device)?;
        let (weights, adapters) = (self.weights(), self.adapters());
        let bert = Bert {
            config: &self.folder.config,
            weights: &weights,
            adapters: &adapters,
            dtype: if train { self.dtype } else { DType::F32 },
            train,
        };
        let states = bert.forward(&ids, &types, &mask)?.to_dtype(DType::F32)?;
        text::pool(&states, &mask, self.folder.pooling, self.folder.normalize)
    }

    /// The weights with the adapters merged in (W + s·B·A), detached, on the CPU.
    fn merged(&self) -> Result<HashMap<String, Tensor>> {
        let mut t = self.weights();
        for (name, a, b) in &self.lora {
            let delta = (b.as_tensor().matmul(a.as_tensor())? * self.scale)?;
            t.insert(name.clone(), (&self.base[name] + delta)?);
        }
        t.into_iter()
            .map(|(n, v)| Ok((n, v.detach().to_device(&Device::Cpu)?)))
            .collect()
    }

    /// The trainable tensors by name (`<weight>` or `<weight>.lora_a` / `.lora_b`).
    fn trainable(&self) -> Vec<(String, &Var)> {
        self.full
            .iter()
            .map(|(n, v)| (n.clone(), v))
            .chain(
                self.lora
                    .iter()
                    .flat_map(|(n, a, b)| [(format!("{n}.lora_a"), a), (format!("{n}.lora_b"), b)]),
            )
            .collect()
    }
}

/// The head on the pooled embedding: a rating, or the logit of the flag.
struct Head {
    w: Var,
    b: Var,
}

impl Head {
    fn from_linear(m: &Linear, device: &Device) -> Result<Self> {
        Ok(Head {
            w: Var::from_tensor(&Tensor::from_vec(m.w.clone(), (m.w.len(), 1), device)?)?,
            b: Var::from_tensor(&Tensor::from_vec(vec![m.b], 1, device)?)?,
        })
    }
}

/// Texts per forward pass when only predicting.
const EVAL_BATCH: usize = 64;

/// Pooled embeddings of every encoding, in order (batched by length).
pub(crate) fn embed_all(
    enc: &Encoder,
    encodings: &[tokenizers::Encoding],
) -> Result<Vec<Vec<f32>>> {
    text::by_length(encodings, EVAL_BATCH, |batch| enc.pooled(batch, false))
}

/// Predictions (ratings, or probabilities) of the encoder and head for every encoding.
fn predict_all(
    enc: &Encoder,
    head: &Head,
    task: TextTask,
    encodings: &[tokenizers::Encoding],
) -> Result<Vec<f32>> {
    let x = embed_all(enc, encodings)?;
    let w = head.w.as_tensor().flatten_all()?.to_vec1::<f32>()?;
    let b = head.b.as_tensor().to_vec1::<f32>()?[0];
    Ok(x.iter()
        .map(|row| {
            let z = b + row.iter().zip(&w).map(|(a, c)| a * c).sum::<f32>();
            match task {
                TextTask::Rating => z,
                TextTask::Recommend | TextTask::TwoTower => 1.0 / (1.0 + (-z).exp()),
            }
        })
        .collect())
}

/// Micro-batches of `size` texts of similar length: shuffled, sorted by length within pools
/// of 50 batches, cut, and the batches shuffled.
pub(crate) fn grouped_batches(
    lens: &[usize],
    size: usize,
    rng: &mut ChaCha8Rng,
) -> Vec<Vec<usize>> {
    let mut idx: Vec<usize> = (0..lens.len()).collect();
    idx.shuffle(rng);
    for pool in idx.chunks_mut(size * 50) {
        pool.sort_by_key(|&i| lens[i]);
    }
    let mut batches: Vec<Vec<usize>> = idx.chunks(size).map(<[usize]>::to_vec).collect();
    batches.shuffle(rng);
    batches
}

/// The learning rate at optimizer step `step` (from 0) of `total`: linear warm-up over
/// `warm` steps, then linear decay to zero.
pub fn schedule(lr: f64, step: usize, warm: usize, total: usize) -> f64 {
    if step < warm {
        lr * (step + 1) as f64 / warm as f64
    } else {
        lr * (total.saturating_sub(step)) as f64 / (total - warm).max(1) as f64
    }
}

// ---------------------------------------------------------------------------------------
// Runs.

/// How a text run ended.
#[derive(Debug, Clone)]
pub struct FinetuneOutcome {
    pub run_id: i64,
    /// The run's model name (`lora8:rating`, `tfidf:recommend`, ...).
    pub model: String,
    pub device: String,
    /// `finished` or `cancelled` (a cancelled run can be resumed).
    pub status: String,
    pub epochs_done: usize,
    /// Training time in seconds (the probe and the fine-tuning; evaluation excluded).
    pub seconds: f64,
    /// Training examples per second of fine-tuning (forward, backward and update).
    pub examples_per_second: Option<f64>,
    pub best_epoch: Option<usize>,
    /// The linear probe's validation value: the frozen encoder's, where fine-tuning starts.
    pub probe: Option<f64>,
    pub train_size: usize,
    pub valid: Evaluation,
    pub test: Evaluation,
    /// The fine-tuned model folder (Hugging Face layout).
    pub export: Option<PathBuf>,
}

/// Trains a new text run.
pub fn finetune(
    ws: &Workspace,
    cfg: &FinetuneConfig,
    on: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
) -> Result<FinetuneOutcome> {
    cfg.check()?;
    if cfg.task == TextTask::TwoTower {
        return crate::two_tower::train(ws, cfg, on, cancel);
    }
    let dir = if cfg.method == TextMethod::Tfidf {
        PathBuf::new()
    } else {
        text::resolve_model(&cfg.model)?.1
    };
    let split = review_split(ws, cfg.task, cfg.text, cfg.limit, cfg.seed)?;
    let (dev, dev_name) = device::select(&cfg.device);
    let runs = Runs::new(ws);
    let params = serde_json::to_string(cfg).unwrap_or_default();
    let (run_id, art) = runs.create("reviews", &cfg.run_model(), &params, &dev_name)?;
    run(
        ws,
        cfg,
        &dir,
        &split,
        run_id,
        &art,
        (dev, dev_name),
        0,
        on,
        cancel,
    )
}

/// Continues a cancelled text run from its last checkpoint.
pub fn resume_finetune(
    ws: &Workspace,
    run_id: i64,
    on: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
) -> Result<FinetuneOutcome> {
    let runs = Runs::new(ws);
    let r = runs.get(run_id)?;
    if r.status == "finished" {
        return Err(ModelError::Run(
            run_id,
            "is finished; nothing to resume".into(),
        ));
    }
    let cfg: FinetuneConfig = serde_json::from_str(&r.params)
        .map_err(|e| ModelError::Run(run_id, format!("is not a text run: {e}")))?;
    if cfg.task == TextTask::TwoTower {
        return crate::two_tower::resume(ws, run_id, &cfg, on, cancel);
    }
    let (_, dir) = text::resolve_model(&cfg.model)?;
    let split = review_split(ws, cfg.task, cfg.text, cfg.limit, cfg.seed)?;
    let (dev, dev_name) = device::select(&cfg.device);
    runs.set_status(run_id, "running", None)?;
    run(
        ws,
        &cfg,
        &dir,
        &split,
        run_id,
        &r.artifacts,
        (dev, dev_name),
        r.epochs_done as usize,
        on,
        cancel,
    )
}

/// Whether a stored run configuration is a text run's.
pub fn is_text_run(params: &str) -> bool {
    serde_json::from_str::<FinetuneConfig>(params).is_ok()
}

#[allow(clippy::too_many_arguments)]
fn run(
    ws: &Workspace,
    cfg: &FinetuneConfig,
    model_dir: &Path,
    split: &TextSplit,
    run_id: i64,
    art: &Path,
    (dev, dev_name): (Device, String),
    done: usize,
    on: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
) -> Result<FinetuneOutcome> {
    let runs = Runs::new(ws);
    let mut outcome = FinetuneOutcome {
        run_id,
        model: cfg.run_model(),
        device: dev_name.clone(),
        status: "finished".into(),
        epochs_done: done,
        seconds: 0.0,
        examples_per_second: None,
        best_epoch: None,
        probe: None,
        train_size: split.train.len(),
        valid: Evaluation::default(),
        test: Evaluation::default(),
        export: None,
    };
    let result = (|| -> Result<()> {
        let train_mean = split.train.mean();
        let (valid_preds, test_preds) = if cfg.method == TextMethod::Tfidf {
            on(&Progress::Started {
                run_id,
                device: dev_name.clone(),
                epochs: 0,
                steps: 0,
            });
            let t = Instant::now();
            let tfidf = Tfidf::fit(&split.train.texts());
            let x = |e: &Examples| tfidf.transform(&e.texts());
            let (xt, xv) = (x(&split.train), x(&split.valid));
            let (m, _) = fit_probe(
                cfg.task,
                (&xt, &split.train.targets),
                (&xv, &split.valid.targets),
                train_mean,
            );
            outcome.seconds = t.elapsed().as_secs_f64();
            runs.add_seconds(run_id, outcome.seconds)?;
            (m.predict(&xv), m.predict(&x(&split.test)))
        } else {
            let enc = Encoder::new(model_dir, cfg, &dev)?;
            let tok = |e: &Examples| enc.folder.encode(&e.texts(), cfg.max_tokens);
            let (train, valid, test) = (tok(&split.train)?, tok(&split.valid)?, tok(&split.test)?);
            match fine_tune(
                ws,
                cfg,
                &enc,
                (&train, &valid),
                split,
                run_id,
                art,
                &dev_name,
                done,
                on,
                cancel,
                &mut outcome,
            )? {
                None => return Ok(()),
                Some(head) => {
                    if cfg.method.trains_encoder() {
                        outcome.export = Some(export(&enc, &head, cfg, model_dir, art)?);
                    }
                    (
                        predict_all(&enc, &head, cfg.task, &valid)?,
                        predict_all(&enc, &head, cfg.task, &test)?,
                    )
                }
            }
        };
        on(&Progress::Evaluating);
        outcome.valid = evaluate(cfg.task, &valid_preds, &split.valid.targets, train_mean);
        if let Some(p) = outcome.probe.filter(|_| cfg.method.trains_encoder()) {
            let name = format!("probe_{}", cfg.task.metric().0);
            outcome.valid.metrics.push((name, p));
        }
        outcome.test = evaluate(cfg.task, &test_preds, &split.test.targets, train_mean);
        outcome.test.per_user = per_review(cfg.task, &test_preds, &split.test.targets);
        let reviews: Vec<String> = split
            .test
            .review_ids
            .iter()
            .map(|r| r.to_string())
            .collect();
        runs.finish(run_id, "valid", &outcome.valid, &[])?;
        runs.finish(run_id, "test", &outcome.test, &reviews)?;
        Ok(())
    })();
    runs.settle(
        run_id,
        result
            .as_ref()
            .map(|()| (outcome.status.as_str(), outcome.epochs_done)),
        "finetune",
    )?;
    result.map(|()| outcome)
}

/// The linear probe on the pretrained embeddings, then (for `full` and `lora`) epochs of
/// fine-tuning from it. Returns the head (and leaves the encoder at its best epoch), or
/// `None` when cancelled.
#[allow(clippy::too_many_arguments)]
fn fine_tune(
    ws: &Workspace,
    cfg: &FinetuneConfig,
    enc: &Encoder,
    (train, valid): (&[tokenizers::Encoding], &[tokenizers::Encoding]),
    split: &TextSplit,
    run_id: i64,
    art: &Path,
    dev_name: &str,
    done: usize,
    on: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
    outcome: &mut FinetuneOutcome,
) -> Result<Option<Head>> {
    let runs = Runs::new(ws);
    let micro = train.len().div_ceil(cfg.batch_size);
    let steps = micro.div_ceil(cfg.accumulate);
    let epochs = if cfg.method.trains_encoder() {
        cfg.epochs
    } else {
        0
    };
    on(&Progress::Started {
        run_id,
        device: dev_name.into(),
        epochs,
        steps,
    });
    let mut state = State::default();
    let head = if done == 0 {
        // The probe: pretrained embeddings, a linear model, λ by validation.
        let t = Instant::now();
        let xt = Features::dense(&embed_all(enc, train)?);
        let xv = Features::dense(&embed_all(enc, valid)?);
        let (m, _) = fit_probe(
            cfg.task,
            (&xt, &split.train.targets),
            (&xv, &split.valid.targets),
            split.train.mean(),
        );
        let seconds = t.elapsed().as_secs_f64();
        runs.add_seconds(run_id, seconds)?;
        outcome.seconds += seconds;
        let v = evaluate(
            cfg.task,
            &m.predict(&xv),
            &split.valid.targets,
            split.train.mean(),
        );
        state.probe = Some(headline(cfg.task, &v));
        if cfg.method.trains_encoder() {
            write_json(&art.join(STATE), &state)?;
        }
        Head::from_linear(&m, &enc.device)?
    } else {
        outcome.seconds = runs.get(run_id)?.seconds;
        state = read_json(&art.join(STATE))?;
        // Shaped for the checkpoint, which sets it.
        let dim = enc.folder.config.hidden_size;
        let head = Head {
            w: Var::zeros((dim, 1), DType::F32, &enc.device)?,
            b: Var::zeros(1, DType::F32, &enc.device)?,
        };
        load_trainable(enc, &head.named(), &art.join(CHECKPOINT))?;
        head
    };
    outcome.probe = state.probe;
    if epochs == 0 {
        return Ok(Some(head));
    }
    let mut vars = enc.vars();
    vars.push(head.w.clone());
    vars.push(head.b.clone());
    let mut opt = Steps::new(cfg, vars, steps, epochs, art, done > 0)?;
    let lens: Vec<usize> = train.iter().map(|e| e.get_ids().len()).collect();
    let mut trained_seconds = 0.0;
    let mut trained_examples = 0usize;
    for epoch in done + 1..=epochs {
        let t = Instant::now();
        let mut rng = ChaCha8Rng::seed_from_u64(
            cfg.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        let batches = grouped_batches(&lens, cfg.batch_size, &mut rng);
        let mut total_loss = 0.0;
        for (step, group) in batches.chunks(cfg.accumulate).enumerate() {
            let n_step: usize = group.iter().map(Vec::len).sum();
            for batch in group {
                let e: Vec<&tokenizers::Encoding> = batch.iter().map(|&k| &train[k]).collect();
                let y: Vec<f32> = batch.iter().map(|&k| split.train.targets[k]).collect();
                let y = Tensor::from_vec(y, batch.len(), &enc.device)?;
                let x = enc.pooled(&e, true)?;
                let z = x
                    .matmul(head.w.as_tensor())?
                    .squeeze(1)?
                    .broadcast_add(head.b.as_tensor())?;
                let loss = match cfg.task {
                    TextTask::Rating => (z - &y)?.sqr()?.mean_all()?,
                    TextTask::Recommend | TextTask::TwoTower => bce_with_logits(&z, &y)?,
                };
                // Each micro-batch weighs by its share of the step's texts.
                opt.add(&(loss * (batch.len() as f64 / n_step as f64))?)?;
            }
            trained_examples += n_step;
            let Some(loss) = opt.step(epoch, step, on, cancel)? else {
                outcome.status = "cancelled".into();
                return Ok(None);
            };
            total_loss += loss;
        }
        let seconds = t.elapsed().as_secs_f64();
        trained_seconds += seconds;
        let preds = predict_all(enc, &head, cfg.task, valid)?;
        let v = headline(
            cfg.task,
            &evaluate(cfg.task, &preds, &split.valid.targets, split.train.mean()),
        );
        let best = state.observe(epoch, v, cfg.task.metric().1);
        opt.checkpoint(enc, &head.named(), art, &state, best)?;
        let row = EpochRow {
            epoch: epoch as i64,
            loss: Some(total_loss / steps.max(1) as f64),
            metric: Some(cfg.task.metric().0.to_string()),
            value: Some(v),
            seconds,
        };
        record_epoch(&runs, run_id, &row, epochs, on)?;
        outcome.epochs_done = epoch;
        outcome.seconds += seconds;
        if cfg.patience > 0 && state.bad_epochs >= cfg.patience {
            break;
        }
    }
    if trained_seconds > 0.0 {
        outcome.examples_per_second = Some(trained_examples as f64 / trained_seconds);
    }
    if state.best_epoch.is_some() {
        load_trainable(enc, &head.named(), &art.join(BEST))?;
    }
    outcome.best_epoch = state.best_epoch;
    Ok(Some(head))
}

impl Head {
    fn named(&self) -> [(&'static str, &Var); 2] {
        [("head.weight", &self.w), ("head.bias", &self.b)]
    }
}

/// The optimizer side of a text run's epochs, shared by the review tasks and the two-tower:
/// AdamW over the trainable variables (its moments restored on resume), the warm-up and
/// decay schedule, micro-batch gradients summed into one step, progress and cancel after
/// each step, and the end-of-epoch checkpoint.
pub(crate) struct Steps {
    vars: Vec<Var>,
    opt: Adam,
    grads: Vec<Option<Tensor>>,
    loss: f64,
    peak: f64,
    warm: usize,
    total: usize,
    per_epoch: usize,
}

impl Steps {
    pub(crate) fn new(
        cfg: &FinetuneConfig,
        vars: Vec<Var>,
        per_epoch: usize,
        epochs: usize,
        art: &Path,
        resumed: bool,
    ) -> Result<Self> {
        let mut opt = Adam::new(vars.clone(), cfg.lr, cfg.weight_decay)?;
        if resumed && art.join(OPTIMIZER).exists() {
            opt.load(&art.join(OPTIMIZER))?;
        }
        let total = per_epoch * epochs;
        Ok(Steps {
            grads: vec![None; vars.len()],
            vars,
            opt,
            loss: 0.0,
            peak: cfg.lr,
            warm: (cfg.warmup * total as f64).ceil() as usize,
            total,
            per_epoch,
        })
    }

    /// Back-propagates one micro-batch's (weighted) loss into the step's gradients.
    pub(crate) fn add(&mut self, loss: &Tensor) -> Result<()> {
        self.loss += f64::from(loss.to_scalar::<f32>()?);
        let g = loss.backward()?;
        for (slot, v) in self.grads.iter_mut().zip(&self.vars) {
            if let Some(gv) = g.get(v) {
                *slot = Some(match slot.take() {
                    Some(acc) => (acc + gv)?,
                    None => gv.clone(),
                });
            }
        }
        Ok(())
    }

    /// Takes optimizer step `step` (0-based) of `epoch` with the summed gradients and
    /// reports it. Returns the step's loss, or `None` when `cancel` is set.
    pub(crate) fn step(
        &mut self,
        epoch: usize,
        step: usize,
        on: &mut dyn FnMut(&Progress),
        cancel: &AtomicBool,
    ) -> Result<Option<f64>> {
        let loss = std::mem::take(&mut self.loss);
        if !loss.is_finite() {
            return Err(ModelError::Diverged {
                epoch,
                step: step + 1,
                loss,
                lr: self.peak,
            });
        }
        let global = (epoch - 1) * self.per_epoch + step;
        self.opt
            .set_lr(schedule(self.peak, global, self.warm, self.total));
        let grads = std::mem::replace(&mut self.grads, vec![None; self.vars.len()]);
        self.opt.step_with(&grads)?;
        on(&Progress::Step {
            epoch,
            step: step + 1,
            steps: self.per_epoch,
            loss,
        });
        Ok((!cancel.load(Ordering::Relaxed)).then_some(loss))
    }

    /// The epoch's checkpoint: the trainable tensors (also as the best when `best`), the
    /// optimizer's state and the early-stopping state.
    pub(crate) fn checkpoint(
        &self,
        enc: &Encoder,
        extra: &[(&str, &Var)],
        art: &Path,
        state: &State,
        best: bool,
    ) -> Result<()> {
        if best {
            save_trainable(enc, extra, &art.join(BEST))?;
        }
        save_trainable(enc, extra, &art.join(CHECKPOINT))?;
        replace_file(&art.join(OPTIMIZER), |tmp| self.opt.save(tmp))?;
        write_json(&art.join(STATE), state)
    }
}

/// Stores a finished epoch's row and reports it.
pub(crate) fn record_epoch(
    runs: &Runs,
    run_id: i64,
    row: &EpochRow,
    epochs: usize,
    on: &mut dyn FnMut(&Progress),
) -> Result<()> {
    runs.epoch(run_id, row)?;
    on(&Progress::Epoch {
        epoch: row.epoch as usize,
        epochs,
        loss: row.loss.unwrap_or(f64::NAN),
        validation: row.metric.clone().zip(row.value),
        seconds: row.seconds,
    });
    Ok(())
}

/// Saves the encoder's trainable tensors and `extra` ones (a head) into `path`.
pub(crate) fn save_trainable(enc: &Encoder, extra: &[(&str, &Var)], path: &Path) -> Result<()> {
    let mut t: HashMap<String, Tensor> = enc
        .trainable()
        .into_iter()
        .map(|(n, v)| (n, v.as_tensor().clone()))
        .collect();
    for (name, v) in extra {
        t.insert((*name).to_string(), v.as_tensor().clone());
    }
    replace_file(path, |tmp| Ok(candle_core::safetensors::save(&t, tmp)?))
}

/// Sets the encoder's trainable tensors and `extra` ones from `path`.
pub(crate) fn load_trainable(enc: &Encoder, extra: &[(&str, &Var)], path: &Path) -> Result<()> {
    let t = candle_core::safetensors::load(path, &enc.device)?;
    let mut all = enc.trainable();
    all.extend(extra.iter().map(|(n, v)| ((*n).to_string(), *v)));
    for (name, var) in all {
        let v = t.get(&name).ok_or_else(|| ModelError::Config {
            model: "finetune".into(),
            message: format!("{}: no tensor \"{name}\"", path.display()),
        })?;
        var.set(v)?;
    }
    Ok(())
}

/// Writes the fine-tuned encoder as a model folder (`<run>/model/`): the base folder's
/// files, `model.safetensors` with the merged weights under the original names, and the
/// head (`head.safetensors`, `head.json`).
fn export(
    enc: &Encoder,
    head: &Head,
    cfg: &FinetuneConfig,
    base: &Path,
    art: &Path,
) -> Result<PathBuf> {
    let h: HashMap<String, Tensor> = [
        (
            "weight".to_string(),
            head.w.as_tensor().t()?.to_device(&Device::Cpu)?,
        ),
        (
            "bias".to_string(),
            head.b.as_tensor().to_device(&Device::Cpu)?,
        ),
    ]
    .into();
    let meta = serde_json::json!({
        "task": cfg.task.name(),
        "method": cfg.method.name(),
        "base_model": cfg.model,
        "output": if cfg.task == TextTask::Rating { "rating" } else { "logit of recommended" },
    });
    export_folder(enc, &h, &meta, base, art)
}

/// Writes a model folder `<art>/model/`: the base folder's files, the encoder's merged
/// weights as `model.safetensors`, and the task's own tensors (`head.safetensors`) and
/// description (`head.json`).
pub(crate) fn export_folder(
    enc: &Encoder,
    head: &HashMap<String, Tensor>,
    meta: &serde_json::Value,
    base: &Path,
    art: &Path,
) -> Result<PathBuf> {
    let out = art.join("model");
    text::copy_dir(base, &out)?;
    candle_core::safetensors::save(&enc.merged()?, out.join("model.safetensors"))?;
    candle_core::safetensors::save(head, out.join("head.safetensors"))?;
    std::fs::write(out.join("head.json"), meta.to_string())
        .map_err(|e| ModelError::io(out.display().to_string(), e))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The adapters' path (x·Wᵀ + s·(x·Aᵀ)·Bᵀ), the training forward (composed layer norm)
    /// and the merged weights saved with a run give the same embeddings.
    #[test]
    fn lora_paths_and_merged_weights_agree() {
        let dir = shoplab_data::datasets::path("minilm").unwrap();
        let mut cfg = FinetuneConfig::new("minilm", TextTask::Rating, TextMethod::Lora);
        cfg.lora_rank = 4;
        let enc = Encoder::new(&dir, &cfg, &Device::Cpu).unwrap();
        for (_, _, b) in &enc.lora {
            let noise = Tensor::randn(0f32, 0.05, b.shape(), &Device::Cpu).unwrap();
            b.set(&noise).unwrap();
        }
        let e = enc
            .folder
            .encode(&["Love this dress", "Runs small, I returned it"], 32)
            .unwrap();
        let refs: Vec<&tokenizers::Encoding> = e.iter().collect();
        let adapted = enc.pooled(&refs, false).unwrap();
        let training = enc.pooled(&refs, true).unwrap();
        cfg.method = TextMethod::Frozen;
        let mut merged = Encoder::new(&dir, &cfg, &Device::Cpu).unwrap();
        merged.base = enc.merged().unwrap();
        let from_merged = merged.pooled(&refs, false).unwrap();
        let pretrained = Encoder::new(&dir, &cfg, &Device::Cpu)
            .unwrap()
            .pooled(&refs, false)
            .unwrap();
        let gap = |a: &Tensor, b: &Tensor| -> f32 {
            (a - b)
                .unwrap()
                .abs()
                .unwrap()
                .max_all()
                .unwrap()
                .to_scalar()
                .unwrap()
        };
        assert!(gap(&adapted, &training) < 1e-5);
        assert!(gap(&adapted, &from_merged) < 1e-5);
        // The adapters did change the embeddings.
        assert!(gap(&adapted, &pretrained) > 1e-3);
    }
}
