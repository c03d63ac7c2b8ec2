//! The storefront behind the product manager's demo: the catalog and its shoppers, every
//! widget's slate from the workspace's finished runs and its event log, re-scored for a
//! history the runs never saw, the price side of a product page ([`price`]) and the control
//! room's what-if ([`control`]). Loaded once per workspace; shared by the app's commands.

mod control;
mod price;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use shoplab_data::store;
pub use shoplab_data::store::{CoPurchase, HistoryRow, ShopperRow, StoreItem};
use shoplab_model::conversion::ConversionParams;

pub use control::{CONTROL_POLICIES, ControlPolicy};
pub use price::{PRICE_POLICIES, PriceCurvePoint, PricePolicy, PriceQuote};

use crate::{EngineError, LiveModel, ModelKind, Reading, Result, RunSummary, Session};

/// Slate length the coverage of a run is measured at, and shoppers it is measured over.
const COVERAGE_K: usize = 10;
const COVERAGE_USERS: usize = 300;
/// History events of a shopper the storefront reads.
pub const HISTORY_EVENTS: usize = 50;

/// A product of the storefront.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreProduct {
    pub item: StoreItem,
    /// Popularity percentile among the catalog's items (100: the most interacted with).
    pub popularity: f64,
}

impl StoreProduct {
    /// The title, else the item id.
    pub fn title(&self) -> String {
        self.item
            .title
            .clone()
            .unwrap_or_else(|| format!("item {}", self.item.item_id))
    }
}

/// A finished recommender run, as a widget's badge shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreRun {
    pub run: RunSummary,
    pub model: ModelKind,
    /// Test NDCG@10 over users, with its 95% interval.
    pub ndcg: Option<crate::Estimate>,
    pub reading: Reading,
}

/// One item of a slate: the product, its score, and what is behind it (history items or the
/// page's item, with their weight), strongest first.
#[derive(Debug, Clone, PartialEq)]
pub struct SlateEntry {
    pub product: usize,
    pub score: f64,
    pub because: Vec<(usize, f64)>,
}

/// What a slate's reasons are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasonKind {
    /// A neighbourhood model's item-item weights.
    Weight,
    /// Cosine in the model's item space.
    Cosine,
    /// Cosine of the items' text embeddings.
    Text,
    /// Co-purchase counts.
    Count,
    None,
}

impl ReasonKind {
    pub fn name(self) -> &'static str {
        match self {
            ReasonKind::Weight => "weight",
            ReasonKind::Cosine => "cosine",
            ReasonKind::Text => "text",
            ReasonKind::Count => "count",
            ReasonKind::None => "none",
        }
    }
}

/// One widget's items, with what the front-end shows about them.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreSlate {
    /// The run behind it (index into [`Storefront::runs`]); none for log-based widgets.
    pub run: Option<usize>,
    pub basis: String,
    pub reasons: ReasonKind,
    pub entries: Vec<SlateEntry>,
    /// Share of the catalog the run's top-10 reaches over its shoppers.
    pub coverage: Option<f64>,
    /// History items the run does not know.
    pub unknown: Vec<String>,
}

impl StoreSlate {
    /// Mean popularity percentile of the slate's items (0 when empty).
    pub fn popularity(&self, store: &Storefront) -> f64 {
        if self.entries.is_empty() {
            return 0.0;
        }
        self.entries
            .iter()
            .map(|e| store.products[e.product].popularity)
            .sum::<f64>()
            / self.entries.len() as f64
    }
}

/// A workspace opened as a storefront.
pub struct Storefront {
    path: PathBuf,
    session: Mutex<Session>,
    pub products: Vec<StoreProduct>,
    index: HashMap<String, usize>,
    /// Products, the most popular first (ties by item id): sorted once, read on every re-score.
    by_popularity: Vec<usize>,
    /// Categories and their product counts, the largest first.
    pub categories: Vec<(String, u64)>,
    /// Finished recommender runs, best test NDCG@10 first.
    pub runs: Vec<StoreRun>,
    /// The latest finished conversion run and the latest calibration.
    pub conversion_run: Option<i64>,
    pub calibration: Option<i64>,
    /// The encoder of the latest item text embeddings (`shoplab embed --items`), if any.
    pub text_model: Option<String>,
    models: Mutex<HashMap<i64, Arc<Mutex<LiveModel>>>>,
    coverage: Mutex<HashMap<i64, f64>>,
    conversion: Mutex<Option<Arc<ConversionParams>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Session {
    /// This workspace as a storefront: its catalog, shoppers and finished runs.
    pub fn storefront(self) -> Result<Storefront> {
        Storefront::new(self)
    }
}

impl Storefront {
    fn new(session: Session) -> Result<Self> {
        let items = store::catalog(&session.ws)?;
        let products = popularity(items);
        let mut by_popularity: Vec<usize> = (0..products.len()).collect();
        by_popularity.sort_by(|&a, &b| {
            let (pa, pb) = (&products[a], &products[b]);
            pb.popularity
                .total_cmp(&pa.popularity)
                .then(pa.item.item_id.cmp(&pb.item.item_id))
        });
        let index = products
            .iter()
            .enumerate()
            .map(|(i, p)| (p.item.item_id.clone(), i))
            .collect();
        let mut counts: HashMap<&str, u64> = HashMap::new();
        for p in &products {
            *counts.entry(p.item.category.as_str()).or_default() += 1;
        }
        let mut categories: Vec<(String, u64)> = counts
            .into_iter()
            .filter(|(c, _)| !c.is_empty())
            .map(|(c, n)| (c.to_string(), n))
            .collect();
        categories.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));

        let mut runs = Vec::new();
        let mut conversion_run = None;
        for run in session.runs()? {
            if run.status != "finished" {
                continue;
            }
            let Ok(model) = ModelKind::parse(&run.model).or_else(|e| {
                (run.model == ModelKind::TwoTower.name())
                    .then_some(ModelKind::TwoTower)
                    .ok_or(e)
            }) else {
                continue;
            };
            if model == ModelKind::Conversion {
                conversion_run = Some(run.run_id);
                continue;
            }
            let ndcg = session.user_metric_interval(run.run_id, "ndcg@10")?;
            runs.push(StoreRun {
                reading: model.reading(),
                model,
                ndcg,
                run,
            });
        }
        runs.sort_by(|a, b| {
            let v = |r: &StoreRun| r.ndcg.as_ref().map_or(f64::NEG_INFINITY, |e| e.mean);
            v(b).total_cmp(&v(a)).then(a.run.run_id.cmp(&b.run.run_id))
        });
        let calibration = store::latest_calibration(&session.ws)?;
        let text_model = store::latest_embedding_model(&session.ws)?;
        Ok(Storefront {
            path: session.path(),
            session: Mutex::new(session),
            products,
            index,
            by_popularity,
            categories,
            runs,
            conversion_run,
            calibration,
            text_model,
            models: Mutex::new(HashMap::new()),
            coverage: Mutex::new(HashMap::new()),
            conversion: Mutex::new(None),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The workspace's session (one thread at a time).
    pub fn session(&self) -> MutexGuard<'_, Session> {
        lock(&self.session)
    }

    /// The product with id `item`.
    pub fn product(&self, item: &str) -> Result<usize> {
        self.index
            .get(item)
            .copied()
            .ok_or_else(|| EngineError::NotFound(format!("no product {item} in the catalog")))
    }

    /// The run to start "Recommended for you" with: the best one that reads a history.
    pub fn default_run(&self) -> Option<i64> {
        self.runs
            .iter()
            .find(|r| matches!(r.reading, Reading::Native | Reading::FoldIn))
            .or(self.runs.first())
            .map(|r| r.run.run_id)
    }

    /// Runs that can fill "Similar items": neighbourhood and item-space models, the best first.
    pub fn similar_runs(&self) -> Vec<i64> {
        self.runs
            .iter()
            .filter(|r| matches!(r.reading, Reading::Native | Reading::FoldIn))
            .filter(|r| r.model != ModelKind::SasRec)
            .map(|r| r.run.run_id)
            .collect()
    }

    fn run_index(&self, run_id: i64) -> Result<usize> {
        self.runs
            .iter()
            .position(|r| r.run.run_id == run_id)
            .ok_or_else(|| self.missing_run(run_id))
    }

    /// Why `run_id` is not one of the storefront's runs.
    fn missing_run(&self, run_id: i64) -> EngineError {
        match self.session().run(run_id) {
            Err(e) => e,
            Ok(r) if r.status != "finished" => {
                EngineError::Model(shoplab_model::ModelError::NotFinished {
                    run_id,
                    status: r.status,
                })
            }
            Ok(r) => EngineError::NotSupported(format!(
                "run {run_id} is a {} run: it does not recommend items",
                r.model
            )),
        }
    }

    /// The live model of `run_id`, loaded on first use.
    fn live(&self, run_id: i64) -> Result<Arc<Mutex<LiveModel>>> {
        if let Some(m) = lock(&self.models).get(&run_id) {
            return Ok(m.clone());
        }
        let model = Arc::new(Mutex::new(self.session().live_model(run_id)?));
        lock(&self.models).insert(run_id, model.clone());
        Ok(model)
    }

    /// Loads every run and measures its coverage now (errors are left for the slates that
    /// need the run to report), so the first re-scores are as quick as the later ones.
    pub fn warm(&self) {
        for r in &self.runs {
            let _ = self.coverage(r.run.run_id);
        }
    }

    /// The catalog share `run_id`'s top-10 reaches, measured once.
    pub fn coverage(&self, run_id: i64) -> Result<f64> {
        if let Some(c) = lock(&self.coverage).get(&run_id) {
            return Ok(*c);
        }
        let model = self.live(run_id)?;
        let c = lock(&model).coverage(COVERAGE_K, COVERAGE_USERS)?;
        lock(&self.coverage).insert(run_id, c);
        Ok(c)
    }

    /// Up to `limit` shoppers whose id contains `search`, the biggest buyers first.
    pub fn shoppers(&self, search: Option<&str>, limit: usize) -> Result<Vec<ShopperRow>> {
        Ok(store::shoppers(&self.session().ws, search, limit)?)
    }

    /// The last [`HISTORY_EVENTS`] item events of `user`, oldest first, each with its product.
    pub fn history(&self, user: &str) -> Result<Vec<(HistoryRow, usize)>> {
        let session = self.session();
        if !store::has_shopper(&session.ws, user)? {
            return Err(EngineError::NotFound(format!(
                "no shopper {user} in the events"
            )));
        }
        let rows = store::history(&session.ws, user, HISTORY_EVENTS)?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let p = self.index.get(&r.item_id).copied()?;
                Some((r, p))
            })
            .collect())
    }

    /// A category's products, the most popular first.
    pub fn category(&self, category: &str, limit: usize) -> Result<Vec<usize>> {
        if !self.categories.iter().any(|(c, _)| c == category) {
            return Err(EngineError::NotFound(format!("no category {category}")));
        }
        Ok(self.popular(Some(category), &[], limit))
    }

    /// The most popular products (of `category`), `exclude` left out.
    fn popular(&self, category: Option<&str>, exclude: &[usize], limit: usize) -> Vec<usize> {
        self.by_popularity
            .iter()
            .copied()
            .filter(|&i| category.is_none_or(|c| self.products[i].item.category == c))
            .filter(|i| !exclude.contains(i))
            .take(limit)
            .collect()
    }

    /// "Popular in this category" (the whole shop when `category` is `None`), the history's
    /// items left out.
    pub fn popular_slate(
        &self,
        category: Option<&str>,
        history: &[String],
        k: usize,
    ) -> Result<StoreSlate> {
        check_k(k)?;
        let exclude: Vec<usize> = history
            .iter()
            .filter_map(|h| self.index.get(h).copied())
            .collect();
        let entries = self
            .popular(category, &exclude, k)
            .into_iter()
            .map(|p| SlateEntry {
                product: p,
                score: self.products[p].popularity,
                because: Vec::new(),
            })
            .collect();
        Ok(StoreSlate {
            run: None,
            basis: match category {
                Some(c) => format!("the most viewed, carted and bought products of {c}"),
                None => "the most viewed, carted and bought products of the shop".into(),
            },
            reasons: ReasonKind::None,
            entries,
            coverage: None,
            unknown: Vec::new(),
        })
    }

    /// "Shoppers also bought": co-purchases of `item` in the event log.
    pub fn also_bought(&self, item: &str, k: usize) -> Result<StoreSlate> {
        check_k(k)?;
        let page = self.product(item)?;
        let (basis, rows) = store::also_bought(&self.session().ws, item, k)?;
        let entries = rows
            .into_iter()
            .filter_map(|(id, n)| {
                let p = self.index.get(&id).copied()?;
                Some(SlateEntry {
                    product: p,
                    score: n as f64,
                    because: vec![(page, n as f64)],
                })
            })
            .collect();
        Ok(StoreSlate {
            run: None,
            basis: match basis {
                CoPurchase::Session => "bought in the same session as this product".into(),
                CoPurchase::Shopper => {
                    "bought by the shoppers who bought this product (the sessions hold too few co-purchases)".into()
                }
            },
            reasons: ReasonKind::Count,
            entries,
            coverage: None,
            unknown: Vec::new(),
        })
    }

    /// `run_id`'s top `k` for `history` (item ids, oldest first), with the reasons.
    pub fn run_slate(&self, run_id: i64, history: &[String], k: usize) -> Result<StoreSlate> {
        check_k(k)?;
        let run = self.run_index(run_id)?;
        let model = self.live(run_id)?;
        let recs = lock(&model).recommend(history, k)?;
        let coverage = self.coverage(run_id)?;
        let entries = recs
            .items
            .into_iter()
            .filter_map(|it| {
                Some(SlateEntry {
                    product: self.index.get(&it.item_id).copied()?,
                    score: f64::from(it.score),
                    because: it
                        .because
                        .into_iter()
                        .filter_map(|b| {
                            Some((self.index.get(&b.item_id).copied()?, f64::from(b.weight)))
                        })
                        .collect(),
                })
            })
            .collect();
        let r = &self.runs[run];
        Ok(StoreSlate {
            run: Some(run),
            basis: format!(
                "{} (run {run_id}, split {}) {}",
                r.model.name(),
                r.run.split,
                reading_text(r.reading)
            ),
            reasons: match recs.reasons {
                "weight" => ReasonKind::Weight,
                "cosine" => ReasonKind::Cosine,
                _ => ReasonKind::None,
            },
            entries,
            coverage: Some(coverage),
            unknown: recs.unknown,
        })
    }

    /// "Similar items": `run_id`'s top `k` for a history of the page's item alone.
    pub fn similar_slate(&self, run_id: i64, item: &str, k: usize) -> Result<StoreSlate> {
        self.product(item)?;
        let mut slate = self.run_slate(run_id, &[item.to_string()], k)?;
        slate.basis = format!("closest to this product for {}", slate.basis);
        Ok(slate)
    }
}

/// Every widget of one storefront moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Widgets {
    pub for_you: StoreSlate,
    pub similar: Option<StoreSlate>,
    pub also_bought: Option<StoreSlate>,
    pub popular: StoreSlate,
}

/// A storefront moment: who (their history), where (a product page, a category) and which
/// runs fill the widgets.
#[derive(Debug, Clone, PartialEq)]
pub struct Moment<'a> {
    pub run: i64,
    /// The run behind "Similar items"; `None`: the item text embeddings, when there are some.
    pub similar_run: Option<i64>,
    pub history: &'a [String],
    pub item: Option<&'a str>,
    pub category: Option<&'a str>,
    pub k: usize,
}

/// Two runs' slates for the same history.
#[derive(Debug, Clone, PartialEq)]
pub struct SlateComparison {
    pub a: StoreSlate,
    pub b: StoreSlate,
    /// Products in both slates, in A's order.
    pub overlap: Vec<usize>,
    /// |A ∩ B| / |A ∪ B| (0 when both are empty).
    pub jaccard: f64,
}

impl Storefront {
    /// Every widget re-scored for `m`: "Recommended for you", and on a product page "Similar
    /// items" and "Shoppers also bought", and "Popular" in the category (or the shop).
    pub fn widgets(&self, m: &Moment) -> Result<Widgets> {
        let similar = match (m.similar_run, m.item) {
            (Some(run), Some(item)) => Some(self.similar_slate(run, item, m.k)?),
            (None, Some(item)) if self.text_model.is_some() => {
                Some(self.text_similar_slate(item, m.k)?)
            }
            _ => None,
        };
        Ok(Widgets {
            for_you: self.run_slate(m.run, m.history, m.k)?,
            similar,
            also_bought: m.item.map(|i| self.also_bought(i, m.k)).transpose()?,
            popular: self.popular_slate(m.category, m.history, m.k)?,
        })
    }

    /// Runs `a` and `b` side by side for the same history.
    pub fn compare(&self, a: i64, b: i64, history: &[String], k: usize) -> Result<SlateComparison> {
        let a = self.run_slate(a, history, k)?;
        let b = self.run_slate(b, history, k)?;
        let overlap: Vec<usize> = a
            .entries
            .iter()
            .map(|e| e.product)
            .filter(|p| b.entries.iter().any(|e| e.product == *p))
            .collect();
        let union = a.entries.len() + b.entries.len() - overlap.len();
        Ok(SlateComparison {
            jaccard: if union == 0 {
                0.0
            } else {
                overlap.len() as f64 / union as f64
            },
            a,
            b,
            overlap,
        })
    }

    /// "Similar items" by text: the items whose text embeddings are nearest the page's item.
    pub fn text_similar_slate(&self, item: &str, k: usize) -> Result<StoreSlate> {
        check_k(k)?;
        let page = self.product(item)?;
        let model = self.text_model.as_deref().ok_or_else(|| {
            EngineError::NotSupported(
                "the workspace has no item text embeddings: `shoplab embed WORKSPACE --items` makes them".into(),
            )
        })?;
        let rows = store::text_neighbours(&self.session().ws, model, item, k)?;
        let entries = rows
            .into_iter()
            .filter_map(|(id, cosine)| {
                Some(SlateEntry {
                    product: self.index.get(&id).copied()?,
                    score: cosine,
                    because: vec![(page, cosine)],
                })
            })
            .collect();
        Ok(StoreSlate {
            run: None,
            basis: format!(
                "nearest to this product's title and description by {model}'s text embeddings"
            ),
            reasons: ReasonKind::Text,
            entries,
            coverage: None,
            unknown: Vec::new(),
        })
    }
}

/// One sentence on how a run reads a history it never saw.
pub fn reading_text(reading: Reading) -> &'static str {
    match reading {
        Reading::Native => "reads the shopper's history natively",
        Reading::FoldIn => {
            "folds the shopper's history in: a user vector fitted against its fixed item vectors"
        }
        Reading::Ignored => "ignores the history: the same slate for everyone",
        Reading::Unsupported => "cannot read a new history yet",
    }
}

fn check_k(k: usize) -> Result<()> {
    if k == 0 || k > 100 {
        return Err(EngineError::BadArgument(format!(
            "k must be between 1 and 100 (got {k})"
        )));
    }
    Ok(())
}

/// Each item's popularity percentile by its views, carts and purchases.
fn popularity(items: Vec<StoreItem>) -> Vec<StoreProduct> {
    let activity = |i: &StoreItem| i.views + i.carts + i.purchases;
    let mut counts: Vec<u64> = items.iter().map(activity).collect();
    counts.sort_unstable();
    let n = counts.len().max(1) as f64;
    items
        .into_iter()
        .map(|item| {
            let a = activity(&item);
            // Share of items with at most this much activity.
            let at_most = counts.partition_point(|&c| c <= a);
            StoreProduct {
                popularity: 100.0 * at_most as f64 / n,
                item,
            }
        })
        .collect()
}
