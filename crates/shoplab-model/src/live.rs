//! Live recommendation: a finished run scores a history it never saw (a shopper clicking in
//! a storefront), and says why each item is there. Loaded once per run, then each re-score
//! is one [`Recommender::score_history`] and a top-k.

use shoplab_data::Workspace;

use crate::dataset::Dataset;
use crate::error::Result;
use crate::lab::load_run;
use crate::metrics::top_k;
use crate::models::{ModelKind, Reading, Recommender, item_cosine};

/// History items named as the reasons for one recommendation.
const REASONS: usize = 3;

/// A finished run, ready to score new histories.
pub struct LiveModel {
    pub run_id: i64,
    pub model: ModelKind,
    pub split: String,
    ds: Dataset,
    recommender: Box<dyn Recommender>,
    /// The model's item space (row-major, width), when it has one.
    vectors: Option<(Vec<f32>, usize)>,
    /// What the reasons are (see [`LiveRecs::reasons`]).
    reasons: &'static str,
}

/// One recommended item: its score and the history items behind it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LiveItem {
    pub item_id: String,
    pub score: f32,
    pub because: Vec<Because>,
}

/// A history item behind a recommendation: the neighbourhood weight from it, or its cosine
/// to the recommended item in the model's item space.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Because {
    pub item_id: String,
    pub weight: f32,
}

/// The top-k for one history.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LiveRecs {
    pub run_id: i64,
    pub model: ModelKind,
    /// How the model read the history.
    pub reading: Reading,
    /// What the reasons are: `weight` (a neighbourhood's), `cosine` (item space) or `none`.
    pub reasons: &'static str,
    pub items: Vec<LiveItem>,
    /// History items the run's split does not know (new in the catalog): left out.
    pub unknown: Vec<String>,
}

impl LiveModel {
    /// Loads finished run `run_id` with its split's items.
    pub fn load(ws: &Workspace, run_id: i64) -> Result<Self> {
        let (ds, cfg, recommender) = load_run(ws, run_id)?;
        let vectors = recommender.item_vectors()?;
        let has_weights = ds.n_items() > 0 && recommender.item_weight(0, 0).is_some();
        let reasons = match (has_weights, &vectors) {
            (true, _) => "weight",
            (false, Some(_)) => "cosine",
            (false, None) => "none",
        };
        Ok(LiveModel {
            run_id,
            model: cfg.model,
            split: cfg.split,
            ds,
            recommender,
            vectors,
            reasons,
        })
    }

    pub fn reading(&self) -> Reading {
        self.model.reading()
    }

    /// Share of the catalog the run's top `k` reaches over (up to) `users` of its split's
    /// shoppers, each read from their training items as a live history.
    pub fn coverage(&self, k: usize, users: usize) -> Result<f64> {
        let n = self.ds.n_items();
        if n == 0 {
            return Ok(0.0);
        }
        let step = (self.ds.n_users() / users.max(1)).max(1);
        let mut reached = vec![false; n];
        for seen in self.ds.seen.iter().step_by(step).take(users) {
            let scores = self.recommender.score_history(seen)?;
            for j in top_k(&scores, seen, k) {
                reached[j as usize] = true;
            }
        }
        Ok(reached.iter().filter(|&&r| r).count() as f64 / n as f64)
    }

    /// The run's items, in its own numbering.
    pub fn items(&self) -> &[String] {
        &self.ds.items
    }

    /// The top `k` items for `history` (item ids, oldest first), history items left out,
    /// each with up to three history items behind it.
    pub fn recommend(&self, history: &[String], k: usize) -> Result<LiveRecs> {
        let mut known = Vec::with_capacity(history.len());
        let mut unknown = Vec::new();
        for id in history {
            match self.ds.item(id) {
                Some(i) => known.push(i),
                None => unknown.push(id.clone()),
            }
        }
        let scores = self.recommender.score_history(&known)?;
        let mut seen = known.clone();
        seen.sort_unstable();
        seen.dedup();
        let top = top_k(&scores, &seen, k);
        let items = top
            .iter()
            .map(|&j| LiveItem {
                item_id: self.ds.items[j as usize].clone(),
                score: scores[j as usize],
                because: self.because(&seen, j),
            })
            .collect();
        Ok(LiveRecs {
            run_id: self.run_id,
            model: self.model,
            reading: self.reading(),
            reasons: self.reasons,
            items,
            unknown,
        })
    }

    /// The history items that add most to item `j`: by the neighbourhood's weight, else by
    /// their cosine to `j` in the model's item space; only positive ones.
    fn because(&self, history: &[u32], j: u32) -> Vec<Because> {
        let mut found: Vec<(f32, u32)> = history
            .iter()
            .filter_map(|&h| {
                let w = match (self.recommender.item_weight(h, j), &self.vectors) {
                    (Some(w), _) => w,
                    (None, Some((v, dim))) => item_cosine(v, *dim, h, j),
                    (None, None) => return None,
                };
                (w > 0.0).then_some((w, h))
            })
            .collect();
        found.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        found
            .into_iter()
            .take(REASONS)
            .map(|(weight, h)| Because {
                item_id: self.ds.items[h as usize].clone(),
                weight,
            })
            .collect()
    }
}
