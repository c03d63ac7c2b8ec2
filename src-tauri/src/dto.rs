//! What the web UI sends and receives (camelCase JSON). Built by hand from engine types, so
//! the engine stays free of UI shapes; the browser tests' fixtures are written through these
//! same types (`tests/fixtures.rs`), so the UI and the app cannot drift apart.

use serde::{Deserialize, Serialize};

/// An opened workspace: what the storefront offers and which runs drive it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ShopInfo {
    pub path: String,
    /// Set when opening migrated an older workspace (what was done, where the backup is).
    pub migration: Option<String>,
    pub users: u64,
    pub items: u64,
    pub events: u64,
    pub first_event: Option<String>,
    pub last_event: Option<String>,
    /// Categories with their product counts, the largest first.
    pub categories: Vec<Category>,
    /// Finished recommender runs, best test NDCG@10 first.
    pub runs: Vec<RunBadge>,
    /// The run "Recommended for you" starts with (the best one that reads histories).
    pub default_run: Option<i64>,
    /// Runs that can fill "Similar items" (neighbourhood and item-space models).
    pub similar_runs: Vec<i64>,
    /// The encoder of the workspace's item text embeddings: "Similar items" by text (a
    /// request without `similar_run_id`).
    pub text_model: Option<String>,
    /// The latest finished conversion run (P(purchase) on the price panel).
    pub conversion_run: Option<i64>,
    /// The latest calibration (the price panel's elasticity interval, the control room's shop).
    pub calibration: Option<i64>,
    /// Pricing policies of the product page's price panel.
    pub pricing_policies: Vec<Choice>,
    /// Policies the control room can pit against each other.
    pub scenario_policies: Vec<Choice>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    pub name: String,
    pub items: u64,
    /// Hue (0–359) of the category's placeholder image.
    pub hue: u16,
}

/// A choice of a menu: its id (sent back) and what the UI shows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Choice {
    pub id: String,
    pub label: String,
    pub help: String,
}

/// What a widget shows about the run behind it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RunBadge {
    pub run_id: i64,
    pub model: String,
    pub split: String,
    /// Test NDCG@10, with its 95% interval over users.
    pub ndcg: Option<f64>,
    pub ndcg_low: Option<f64>,
    pub ndcg_high: Option<f64>,
    /// How the run reads a history it never saw: native, fold-in, ignored, unsupported.
    pub reading: String,
    /// One sentence on the reading, for the UI.
    pub reading_text: String,
    /// Short label: "bpr · run 4".
    pub label: String,
}

/// A shopper of the workspace with their activity.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Shopper {
    pub user_id: String,
    pub views: u64,
    pub carts: u64,
    pub purchases: u64,
    pub last_seen: Option<String>,
    /// The category the shopper viewed most.
    pub top_category: Option<String>,
}

/// A product as a tile shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ProductCard {
    pub item_id: String,
    pub title: String,
    pub brand: Option<String>,
    pub category: String,
    pub price: Option<f64>,
    /// Popularity percentile among the catalog's items (100: the most interacted with).
    pub popularity: f64,
    /// Hue (0–359) of the category's placeholder image.
    pub hue: u16,
}

/// The product page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub card: ProductCard,
    pub description: Option<String>,
    pub cost: Option<f64>,
    pub views: u64,
    pub carts: u64,
    pub purchases: u64,
}

/// One step of a shopper's history (oldest first).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HistoryStep {
    pub event_type: String,
    pub time: Option<String>,
    pub product: ProductCard,
}

/// A re-score of the storefront's widgets for one moment of one shopper.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SlatesRequest {
    /// The run behind "Recommended for you".
    pub run_id: i64,
    /// The run behind "Similar items" (with `item_id`); none: the item text embeddings, when
    /// the workspace has them.
    pub similar_run_id: Option<i64>,
    /// Item ids the shopper interacted with, oldest first (their history, then the demo's clicks).
    pub history: Vec<String>,
    /// The product page open, if any ("Similar items", "Shoppers also bought").
    pub item_id: Option<String>,
    /// The category page or the product's category ("Popular in this category").
    pub category: Option<String>,
    pub k: usize,
}

/// The storefront's widgets. `generation` grows with every request; an answer to an older
/// request than the latest arrives as the error `superseded`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Slates {
    pub generation: u64,
    pub for_you: Slate,
    pub similar: Option<Slate>,
    pub also_bought: Option<Slate>,
    pub popular: Option<Slate>,
    /// Milliseconds the re-score took in the app.
    pub millis: f64,
}

/// One widget's items.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Slate {
    /// for_you, similar, also_bought or popular.
    pub kind: String,
    pub title: String,
    /// The run behind it (none for the log-based widgets).
    pub badge: Option<RunBadge>,
    /// What the slate is computed from, one sentence.
    pub basis: String,
    /// What an item's reasons are: weight (neighbourhood), cosine (model's item space), text
    /// (text embeddings), count (co-purchases), none.
    pub reason_kind: String,
    pub items: Vec<SlateItem>,
    /// Mean popularity percentile of the slate's items.
    pub popularity: f64,
    /// Share of the catalog this run's top-k reaches over the workspace's shoppers (for runs).
    pub coverage: Option<f64>,
    /// History items the run does not know (left out of its reading).
    pub unknown: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SlateItem {
    pub product: ProductCard,
    pub score: f64,
    /// Why it is there: history items (or the page's item) behind it, strongest first.
    pub because: Vec<Reason>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Reason {
    pub item_id: String,
    pub title: String,
    pub weight: f64,
}

/// Two runs for the same shopper and moment.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CompareRequest {
    pub run_a: i64,
    pub run_b: i64,
    pub history: Vec<String>,
    pub k: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Comparison {
    pub a: Slate,
    pub b: Slate,
    /// Items in both slates.
    pub overlap: Vec<String>,
    /// |A ∩ B| / |A ∪ B|.
    pub jaccard: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PriceRequest {
    pub item_id: String,
    /// A shopper of the workspace (none: an anonymous one).
    pub user_id: Option<String>,
    /// One of `ShopInfo::pricing_policies`.
    pub policy: String,
}

/// The price side of a product page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PricePanel {
    pub item_id: String,
    pub list_price: f64,
    pub cost: Option<f64>,
    pub policy: String,
    /// The price the policy would charge today.
    pub policy_price: f64,
    /// The conversion run's P(purchase) of this shopper at the list and the policy's price.
    pub p_buy_list: Option<f64>,
    pub p_buy_policy: Option<f64>,
    pub conversion_run: Option<i64>,
    /// The calibrated price sensitivity of the product's category, with its 95% interval.
    pub elasticity: Option<Elasticity>,
    /// Expected conversion, revenue and margin per visit across prices (for the slider).
    pub curve: Vec<PricePoint>,
    /// Why a figure is missing (no conversion run, the item unseen by it, ...).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Elasticity {
    pub calibration_id: i64,
    pub category: String,
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PricePoint {
    pub price: f64,
    pub p_buy: f64,
    /// Expected revenue and margin per visit (price × P, (price − cost) × P).
    pub revenue: f64,
    pub margin: Option<f64>,
    /// P(purchase) and revenue with the calibrated elasticity at its interval's ends.
    pub p_buy_low: Option<f64>,
    pub p_buy_high: Option<f64>,
    pub revenue_low: Option<f64>,
    pub revenue_high: Option<f64>,
}

/// The control room's what-if: policy A against policy B on the calibrated shop.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ControlRequest {
    pub policy_a: String,
    pub policy_b: String,
    pub days: u32,
    pub seeds: u64,
    /// Simulated days per second of wall time.
    pub speed: f64,
}

/// One policy's simulated day (means over seeds, 95% intervals), streamed over the channel.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DayPoint {
    pub day: u32,
    pub policy: String,
    pub sessions: f64,
    pub conversion: f64,
    pub conversion_low: f64,
    pub conversion_high: f64,
    pub revenue: f64,
    pub revenue_low: f64,
    pub revenue_high: f64,
    pub margin: f64,
}

/// How a control-room run ended.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ControlDone {
    pub sim_id: i64,
    pub days: u32,
    /// Stopped by the user before the last day.
    pub stopped: bool,
}
