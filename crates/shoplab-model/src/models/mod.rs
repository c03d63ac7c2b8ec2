//! The models. Each scores all items for a batch of users; rating models also predict values.

pub mod bpmf;
mod factorization;
mod item_item;
mod neumf;
mod params;
mod popularity;
mod sasrec;
mod tower;

use std::path::Path;

use candle_core::{Device, Tensor, Var};
use rand_chacha::ChaCha8Rng;

pub use factorization::{Factorization, Objective, Optimizer};
pub use item_item::ItemItem;
pub use neumf::NeuMf;
pub(crate) use params::{bce_with_logits, load_vars, save_vars};
pub use popularity::Popularity;
pub use sasrec::SasRec;
pub use tower::TowerVectors;
pub(crate) use tower::{history_mean, normalize};

use crate::dataset::Dataset;
use crate::error::{ModelError, Result};

/// User and item vectors, row-major, `dim` values each.
#[derive(Debug, Clone)]
pub struct Embeddings {
    pub users: Vec<f32>,
    pub items: Vec<f32>,
    pub dim: usize,
}

/// What a model can do once fitted.
pub trait Recommender: Send {
    /// Scores of every item for each of `users`, row after row (`users.len() × items`).
    fn score_users(&self, users: &[u32]) -> Result<Vec<f32>>;

    /// Predicted values (ratings) for (user, item) pairs; `None` for models that only rank.
    fn predict(&self, _pairs: &[(u32, u32)]) -> Result<Option<Vec<f32>>> {
        Ok(None)
    }

    /// Writes the model's tensors (safetensors).
    fn save(&self, path: &Path) -> Result<()>;

    /// User and item vectors of a model that has them.
    fn embeddings(&self) -> Result<Option<Embeddings>> {
        Ok(None)
    }

    /// Scores of every item for `history` (item indices, oldest first), a history the model
    /// was not trained on: read natively, or folded in, as [`ModelKind::reading`] says.
    fn score_history(&self, history: &[u32]) -> Result<Vec<f32>>;

    /// The weight from item `from` to item `to` of a neighbourhood model (how much having
    /// `from` in a history adds to `to`'s score); `None` for other models.
    fn item_weight(&self, _from: u32, _to: u32) -> Option<f32> {
        None
    }

    /// The model's item vectors (row-major, and their width), for the nearest history items
    /// of a recommendation; `None` for a model without an item space.
    fn item_vectors(&self) -> Result<Option<(Vec<f32>, usize)>> {
        Ok(self.embeddings()?.map(|e| (e.items, e.dim)))
    }
}

/// How a model scores a history it was not trained on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reading {
    /// The history is the model's input: item-item weights summed, a sequence encoded.
    Native,
    /// A user vector fitted to the history against the fixed item vectors (regularized least
    /// squares), then scored like a trained user.
    FoldIn,
    /// The history does not change the scores (popularity).
    Ignored,
    /// The model cannot read a new history yet.
    Unsupported,
}

impl Reading {
    pub fn name(self) -> &'static str {
        match self {
            Reading::Native => "native",
            Reading::FoldIn => "fold-in",
            Reading::Ignored => "ignored",
            Reading::Unsupported => "unsupported",
        }
    }
}

/// Confidence of a history item over an unseen one when a history is folded in.
const FOLD_IN_ALPHA: f64 = 20.0;

/// The user vector that best explains a history against all items: implicit ALS's user step
/// (Hu, Koren and Volinsky), `(QᵀQ + α Q_hᵀQ_h + λI) u = (1 + α) Q_hᵀ 1`, where `gram` is
/// `QᵀQ` over every item (`dim × dim`, row-major: unseen items pull towards 0) and `rows` the
/// history items' vectors (`dim` wide, row-major).
pub(crate) fn fold_in(rows: &[f32], gram: &[f32], dim: usize, lambda: f64) -> Vec<f32> {
    let mut a = nalgebra::DMatrix::<f64>::from_fn(dim, dim, |r, c| {
        f64::from(gram[r * dim + c]) + if r == c { lambda } else { 0.0 }
    });
    let mut b = nalgebra::DVector::<f64>::zeros(dim);
    for q in rows.chunks_exact(dim) {
        for r in 0..dim {
            b[r] += (1.0 + FOLD_IN_ALPHA) * f64::from(q[r]);
            for c in 0..dim {
                a[(r, c)] += FOLD_IN_ALPHA * f64::from(q[r]) * f64::from(q[c]);
            }
        }
    }
    let u = a
        .cholesky()
        .map(|ch| ch.solve(&b))
        .unwrap_or_else(|| nalgebra::DVector::zeros(dim));
    u.iter().map(|&v| v as f32).collect()
}

/// `QᵀQ` of an item table (`n × dim` tensor), on the host, row-major.
pub(crate) fn gram(items: &Tensor) -> Result<Vec<f32>> {
    let items = items.to_dtype(candle_core::DType::F32)?;
    Ok(items
        .t()?
        .matmul(&items)?
        .flatten_all()?
        .to_device(&Device::Cpu)?
        .to_vec1()?)
}

/// The cosine of item rows `a` and `b` of `items` (`dim` wide).
pub fn item_cosine(items: &[f32], dim: usize, a: u32, b: u32) -> f32 {
    let (x, y) = (
        &items[a as usize * dim..(a as usize + 1) * dim],
        &items[b as usize * dim..(b as usize + 1) * dim],
    );
    let dot: f32 = x.iter().zip(y).map(|(p, q)| p * q).sum();
    let norm = |v: &[f32]| v.iter().map(|p| p * p).sum::<f32>().sqrt();
    dot / (norm(x) * norm(y)).max(1e-12)
}

/// One mini-batch: user and item indices, and per pair the rating (MSE), a negative item
/// (BPR) or a label (binary cross-entropy).
pub struct Batch {
    pub(crate) users: Tensor,
    pub(crate) items: Tensor,
    pub(crate) targets: Tensor,
}

/// A model trained by gradient steps over epochs.
pub trait Trainable: Recommender {
    /// The variables the optimizer updates.
    fn vars(&self) -> Vec<Var>;

    /// One epoch's mini-batches of `size`, shuffled (and negatives drawn) by `rng`.
    fn batches(&self, ds: &Dataset, size: usize, rng: &mut ChaCha8Rng) -> Result<Vec<Batch>>;

    /// The batch's loss, regularization included.
    fn loss(&self, b: &Batch) -> Result<Tensor>;

    /// Sets the parameters from a checkpoint written by [`Recommender::save`].
    fn load(&mut self, path: &Path) -> Result<()>;

    /// Whether the model predicts ratings (validated by RMSE) rather than ranks (by NDCG).
    fn rates(&self) -> bool;

    /// Called once training is over, before the test: a sequential model extends each
    /// user's history with the validation items.
    fn prepare_test(&mut self) {}

    /// One epoch of the fused per-example SGD pass (see [`Factorization::sgd_epoch`]).
    fn sgd_epoch(
        &mut self,
        _ds: &Dataset,
        _lr: f32,
        _chunk: usize,
        _rng: &mut ChaCha8Rng,
        _each: &mut dyn FnMut(usize, f64) -> Result<bool>,
    ) -> Result<Option<f64>> {
        Err(ModelError::Config {
            model: "sgd".into(),
            message: "the sgd optimizer applies to mf and bpr; use adam".into(),
        })
    }
}

/// The models ShopLab trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Most interacted items first.
    Pop,
    /// Item-based k nearest neighbours, cosine similarity.
    ItemKnn,
    /// EASE: a closed-form item-item linear model (Steck, 2019).
    Ease,
    /// Matrix factorization with user and item biases, on squared error (explicit ratings).
    Mf,
    /// Matrix factorization on the BPR pairwise loss (implicit feedback).
    Bpr,
    /// Bayesian matrix factorization, sampled by Gibbs sweeps (explicit ratings).
    Bpmf,
    /// Neural matrix factorization: GMF and an MLP joined (implicit feedback).
    NeuMf,
    /// Self-attentive sequential recommendation: the next item from the items so far.
    SasRec,
    /// P(purchase | user, item, price): a logistic factorization machine on the views and
    /// purchases of the event log (the `conversion` module); not a recommender.
    Conversion,
    /// The text-aware two-tower recommender, trained by `finetune --task two-tower` (the
    /// `two_tower` module); loaded from its user and item vectors.
    #[serde(rename = "two-tower")]
    TwoTower,
}

impl ModelKind {
    pub const ALL: [ModelKind; 9] = [
        ModelKind::Pop,
        ModelKind::ItemKnn,
        ModelKind::Ease,
        ModelKind::Mf,
        ModelKind::Bpr,
        ModelKind::Bpmf,
        ModelKind::NeuMf,
        ModelKind::SasRec,
        ModelKind::Conversion,
    ];

    /// How this kind of model reads a history it never saw (a live shopper's clicks): what
    /// its [`Recommender::score_history`] does, known before a run is loaded.
    pub fn reading(self) -> Reading {
        match self {
            ModelKind::ItemKnn | ModelKind::Ease | ModelKind::SasRec => Reading::Native,
            ModelKind::Mf
            | ModelKind::Bpr
            | ModelKind::Bpmf
            | ModelKind::NeuMf
            | ModelKind::TwoTower => Reading::FoldIn,
            ModelKind::Pop => Reading::Ignored,
            ModelKind::Conversion => Reading::Unsupported,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Pop => "pop",
            ModelKind::ItemKnn => "itemknn",
            ModelKind::Ease => "ease",
            ModelKind::Mf => "mf",
            ModelKind::Bpr => "bpr",
            ModelKind::Bpmf => "bpmf",
            ModelKind::NeuMf => "neumf",
            ModelKind::SasRec => "sasrec",
            ModelKind::Conversion => "conversion",
            ModelKind::TwoTower => "two-tower",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s.to_lowercase())
            .ok_or_else(|| ModelError::Config {
                model: s.into(),
                message: format!(
                    "unknown model (known: {})",
                    Self::ALL.map(ModelKind::name).join(", ")
                ),
            })
    }

    /// How the model is fitted, and so which run kind and training loop it takes.
    pub fn fit(self) -> Fit {
        match self {
            ModelKind::Pop | ModelKind::ItemKnn | ModelKind::Ease => Fit::ClosedForm,
            ModelKind::Mf | ModelKind::Bpr | ModelKind::NeuMf | ModelKind::SasRec => Fit::Epochs,
            ModelKind::Bpmf => Fit::Sweeps,
            ModelKind::Conversion => Fit::Conversion,
            ModelKind::TwoTower => Fit::TwoTower,
        }
    }

    /// Whether the model is trained by gradient steps over epochs.
    pub fn is_iterative(self) -> bool {
        match self.fit() {
            Fit::Epochs => true,
            Fit::ClosedForm | Fit::Sweeps | Fit::Conversion | Fit::TwoTower => false,
        }
    }

    /// Whether the model predicts rating values (and so has RMSE/MAE).
    pub fn predicts_ratings(self) -> bool {
        match self {
            ModelKind::Mf | ModelKind::Bpmf => true,
            ModelKind::Pop
            | ModelKind::ItemKnn
            | ModelKind::Ease
            | ModelKind::Bpr
            | ModelKind::NeuMf
            | ModelKind::SasRec
            | ModelKind::Conversion
            | ModelKind::TwoTower => false,
        }
    }

    /// Whether training runs on the CPU whatever device is asked for: the Gibbs sampler,
    /// and the fused per-example SGD pass.
    pub fn trains_on_cpu(self, optimizer: Optimizer) -> bool {
        match (self.fit(), optimizer) {
            (Fit::Sweeps, Optimizer::Adam | Optimizer::Sgd) | (Fit::Epochs, Optimizer::Sgd) => true,
            (Fit::Epochs, Optimizer::Adam)
            | (
                Fit::ClosedForm | Fit::Conversion | Fit::TwoTower,
                Optimizer::Adam | Optimizer::Sgd,
            ) => false,
        }
    }
}

/// A model's defaults: its hyperparameters, epochs and early-stopping patience, chosen on
/// the validation part of MovieLens-100K (random 8:1:1 split, seed 1), never on its test
/// part; `bash bench/defaults.sh` prints the test figures they reach against the tuned ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Defaults {
    pub hyper: Hyper,
    pub epochs: usize,
    pub patience: usize,
}

impl ModelKind {
    pub fn defaults(self) -> Defaults {
        let h = Hyper::default();
        let (hyper, epochs, patience) = match self {
            ModelKind::Mf => (
                Hyper {
                    factors: 32,
                    lr: 0.01,
                    reg: 0.1,
                    ..h
                },
                30,
                5,
            ),
            // Its validation NDCG still rises after 50 epochs.
            ModelKind::Bpr => (
                Hyper {
                    factors: 32,
                    lr: 0.003,
                    reg: 0.01,
                    ..h
                },
                100,
                10,
            ),
            ModelKind::NeuMf => (
                Hyper {
                    factors: 64,
                    lr: 0.003,
                    reg: 0.03,
                    ..h
                },
                30,
                5,
            ),
            ModelKind::SasRec => (
                Hyper {
                    factors: 64,
                    lr: 0.001,
                    ..h
                },
                30,
                5,
            ),
            ModelKind::ItemKnn => (
                Hyper {
                    neighbors: 150,
                    ..h
                },
                30,
                5,
            ),
            ModelKind::Ease => (Hyper { lambda: 300.0, ..h }, 30, 5),
            // Sweeps of the sampler: the first 20 are discarded, the rest averaged.
            ModelKind::Bpmf => (
                Hyper {
                    factors: 20,
                    noise_precision: 1.5,
                    burn_in: 20,
                    ..h
                },
                100,
                5,
            ),
            ModelKind::Pop | ModelKind::Conversion | ModelKind::TwoTower => (h, 30, 5),
        };
        Defaults {
            hyper,
            epochs,
            patience,
        }
    }

    /// The defaults that matter to this model, as `--help` lists them.
    pub fn defaults_text(self) -> String {
        let Defaults {
            hyper: h,
            epochs,
            patience,
        } = self.defaults();
        let trained = format!(
            "--factors {} --lr {} --reg {} --epochs {epochs} --patience {patience}",
            h.factors, h.lr, h.reg
        );
        match self {
            ModelKind::Pop => "nothing to set".into(),
            ModelKind::ItemKnn => format!("--neighbors {} (shrink {})", h.neighbors, h.shrink),
            ModelKind::Ease => format!("--lambda {}", h.lambda),
            ModelKind::Bpmf => format!(
                "--factors {} --alpha {} --epochs {epochs} (sweeps) --burn-in {}",
                h.factors, h.noise_precision, h.burn_in
            ),
            ModelKind::NeuMf => format!("{trained} --negatives {}", h.negatives),
            ModelKind::SasRec => format!("{trained} --max-len {}", h.max_len),
            ModelKind::Mf | ModelKind::Bpr | ModelKind::Conversion | ModelKind::TwoTower => trained,
        }
    }
}

/// How a model is fitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// In one go (counts, a closed-form solve): no epochs.
    ClosedForm,
    /// Gradient steps over epochs, through [`Trainable`].
    Epochs,
    /// Gibbs sweeps of a sampler (Bayesian MF).
    Sweeps,
    /// The conversion model's own run on the event log's sessions.
    Conversion,
    /// The two-tower recommender, a text run.
    TwoTower,
}

/// Hyper-parameters of every model (each uses the ones that apply to it).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Hyper {
    pub factors: usize,
    pub lr: f64,
    /// L2 regularization (factorization) .
    pub reg: f64,
    /// EASE's L2 weight λ.
    pub lambda: f64,
    /// Neighbours kept per item (item-kNN).
    pub neighbors: usize,
    /// Similarity shrinkage (item-kNN).
    pub shrink: f64,
    /// Standard deviation of the initial factors.
    pub init_std: f64,
    /// How the factorization models are updated (runs stored before this existed used Adam).
    #[serde(default)]
    pub optimizer: Optimizer,
    /// Adam's decoupled weight decay (AdamW; 0: plain Adam, the L2 penalty is `reg`).
    #[serde(default)]
    pub weight_decay: f64,
    /// SASRec: the most recent items a user's state is computed from.
    #[serde(default = "default_max_len")]
    pub max_len: usize,
    /// NeuMF: unseen items drawn per observed one.
    #[serde(default = "default_negatives")]
    pub negatives: usize,
    /// BPMF: sweeps discarded before the posterior mean is taken.
    #[serde(default = "default_burn_in")]
    pub burn_in: usize,
    /// BPMF: precision α of the rating noise (1/α is its variance).
    #[serde(default = "default_noise_precision")]
    pub noise_precision: f64,
}

fn default_max_len() -> usize {
    50
}

fn default_negatives() -> usize {
    4
}

fn default_burn_in() -> usize {
    20
}

fn default_noise_precision() -> f64 {
    2.0
}

impl Default for Hyper {
    fn default() -> Self {
        Hyper {
            factors: 64,
            lr: 0.01,
            reg: 0.01,
            lambda: 500.0,
            neighbors: 100,
            shrink: 10.0,
            init_std: 0.1,
            optimizer: Optimizer::Adam,
            weight_decay: 0.0,
            max_len: default_max_len(),
            negatives: default_negatives(),
            burn_in: default_burn_in(),
            noise_precision: default_noise_precision(),
        }
    }
}

/// Fits a non-iterative model (popularity, item-kNN, EASE) in one go.
pub fn fit_closed_form(kind: ModelKind, ds: &Dataset, h: &Hyper) -> Result<Box<dyn Recommender>> {
    Ok(match kind {
        ModelKind::Pop => Box::new(Popularity::fit(ds)),
        ModelKind::ItemKnn => Box::new(ItemItem::knn(ds, h.neighbors, h.shrink)?),
        ModelKind::Ease => Box::new(ItemItem::ease(ds, h.lambda)?),
        ModelKind::Mf
        | ModelKind::Bpr
        | ModelKind::Bpmf
        | ModelKind::NeuMf
        | ModelKind::SasRec
        | ModelKind::Conversion
        | ModelKind::TwoTower => {
            return Err(ModelError::Config {
                model: kind.name().into(),
                message: "is trained over epochs, not in closed form".into(),
            });
        }
    })
}

/// Loads a fitted model of `kind` from its tensors.
pub fn load(
    kind: ModelKind,
    ds: &Dataset,
    h: &Hyper,
    path: &Path,
    device: &Device,
) -> Result<Box<dyn Recommender>> {
    Ok(match kind {
        ModelKind::Pop => Box::new(Popularity::load(path)?),
        ModelKind::ItemKnn | ModelKind::Ease => Box::new(ItemItem::load(ds, path)?),
        ModelKind::Mf => {
            let mut f = Factorization::new(Objective::Mse, ds, h, 0, device)?;
            f.load(path)?;
            Box::new(f)
        }
        ModelKind::Bpr => {
            let mut f = Factorization::new(Objective::Bpr, ds, h, 0, device)?;
            f.load(path)?;
            Box::new(f)
        }
        ModelKind::Bpmf => Box::new(Factorization::read(ds, path, device)?),
        ModelKind::NeuMf => {
            let mut m = NeuMf::new(ds, h, 0, device)?;
            m.load(path)?;
            Box::new(m)
        }
        ModelKind::SasRec => {
            let mut m = SasRec::new(ds, h, 0, device)?;
            m.load(path)?;
            m.prepare_test();
            Box::new(m)
        }
        ModelKind::TwoTower => Box::new(TowerVectors::load(path, device)?),
        ModelKind::Conversion => {
            return Err(ModelError::Config {
                model: kind.name().into(),
                message: "predicts conversion, it does not recommend".into(),
            });
        }
    })
}

/// A new model of an iterative `kind`, its initial weights drawn from `seed`.
pub fn trainable(
    kind: ModelKind,
    ds: &Dataset,
    h: &Hyper,
    seed: u64,
    device: &Device,
) -> Result<Box<dyn Trainable>> {
    Ok(match kind {
        ModelKind::Mf => Box::new(Factorization::new(Objective::Mse, ds, h, seed, device)?),
        ModelKind::Bpr => Box::new(Factorization::new(Objective::Bpr, ds, h, seed, device)?),
        ModelKind::NeuMf => Box::new(NeuMf::new(ds, h, seed, device)?),
        ModelKind::SasRec => Box::new(SasRec::new(ds, h, seed, device)?),
        ModelKind::Pop
        | ModelKind::ItemKnn
        | ModelKind::Ease
        | ModelKind::Bpmf
        | ModelKind::Conversion
        | ModelKind::TwoTower => {
            return Err(ModelError::Config {
                model: kind.name().into(),
                message: "is not trained by gradient steps over epochs".into(),
            });
        }
    })
}
