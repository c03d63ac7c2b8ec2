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
//!
//! Modules by concern: `reviews` (the seeded split of the `reviews` table), `tfidf` and
//! `linear` (the baseline and the probe), `eval` (the task's metrics), `head` (the linear
//! head, its predictions and the exported model folder), `tune` (probe, then fine-tuning
//! epochs), `run` (a run from start to stored metrics). The encoder and the optimizer steps
//! are shared with the two-tower (`crate::encoder`, `crate::steps`).

mod eval;
mod head;
mod linear;
mod reviews;
mod run;
mod tfidf;
mod tune;

pub use crate::spec::{FinetuneConfig, Precision, TextField, TextMethod, TextTask, is_text_run};
pub use crate::steps::schedule;
pub use eval::evaluate;
pub use linear::{Features, Linear};
pub use reviews::{Examples, TextSplit, review_split};
pub(crate) use run::{resume, train};
pub use tfidf::Tfidf;
