//! The configuration of a text run (`finetune`): a review task or the two-tower
//! recommender, and how its encoder is fitted.

use candle_core::DType;

use super::train::Checks;
use crate::error::{ModelError, Result};

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
    /// with in-batch negatives, validated by NDCG@k (see the `two_tower` module).
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

    /// Whether the target is a 0/1 label (cross-entropy, probabilities) rather than a
    /// value (squared error).
    pub fn is_classification(self) -> bool {
        match self {
            TextTask::Rating => false,
            TextTask::Recommend | TextTask::TwoTower => true,
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

    /// Whether the encoder's weights (all, or adapters) train.
    pub fn trains_encoder(self) -> bool {
        match self {
            TextMethod::Full | TextMethod::Lora => true,
            TextMethod::Frozen | TextMethod::Tfidf => false,
        }
    }

    /// Whether the method reads text through the encoder (TF-IDF does not).
    pub fn uses_encoder(self) -> bool {
        match self {
            TextMethod::Full | TextMethod::Lora | TextMethod::Frozen => true,
            TextMethod::Tfidf => false,
        }
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

    pub(crate) fn dtype(self) -> DType {
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
            lr: match method {
                TextMethod::Lora | TextMethod::Frozen => 1e-3,
                TextMethod::Full | TextMethod::Tfidf => 3e-5,
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
            m @ (TextMethod::Full | TextMethod::Frozen | TextMethod::Tfidf) => {
                format!("{}:{}", m.name(), self.task.name())
            }
        }
    }

    /// Refuses settings no run can start with, before anything is recorded (every option
    /// out of range named as on the command line, with its range).
    pub(crate) fn check(&self) -> Result<()> {
        let mut c = Checks::default();
        c.at_least("--epochs", self.epochs, 1);
        c.at_least("--batch-size", self.batch_size, 1);
        c.at_least("--accumulate", self.accumulate, 1);
        c.at_least("--max-tokens", self.max_tokens, 2);
        c.positive("--lr", self.lr);
        c.non_negative("--weight-decay", self.weight_decay);
        if !(0.0..1.0).contains(&self.warmup) {
            c.fail(format!("--warmup must be in [0, 1) (got {})", self.warmup));
        }
        if self.limit == Some(0) {
            c.fail("--limit must be at least 1 (got 0)".into());
        }
        if self.method == TextMethod::Lora {
            c.at_least("--lora-rank", self.lora_rank, 1);
            c.positive("--lora-alpha", self.lora_alpha);
        }
        match self.task {
            TextTask::TwoTower => {
                if !self.method.uses_encoder() {
                    c.fail(
                        "--method: the two-tower recommender reads items with the encoder: use full, lora or frozen"
                            .into(),
                    );
                }
                c.positive("--temperature", self.temperature);
                c.at_least("-k/--k", self.k, 1);
                if self.steps == Some(0) {
                    c.fail("--steps must be at least 1 (got 0)".into());
                }
            }
            TextTask::Rating | TextTask::Recommend => {}
        }
        c.finish(&self.run_model())
    }
}
