//! What-if scenarios as TOML: a synthetic world with known demand, the policies to compare
//! (a recommender and a pricing rule each), the horizon, the seeds, and timed events.
//!
//! ```toml
//! name = "a competitor cuts smartphone prices on day 10"
//! days = 30
//! sessions_per_day = 1500
//! seeds = 10
//!
//! [[policies]]
//! name = "list price"
//! recommend = "popularity"
//! pricing = { kind = "list" }
//!
//! [[policies]]
//! name = "thompson"
//! recommend = "popularity"
//! pricing = { kind = "thompson", grid = [0.85, 0.95, 1.0, 1.05, 1.15] }
//!
//! [[events]]
//! day = 10
//! category = "electronics.smartphone"
//! competitor_price = 0.85   # the competitor sells at 85% of our list price
//! ```

use serde::{Deserialize, Serialize};

mod edit;

pub use self::edit::{
    events_of, policies_of, policy_names, rules_of, with_calibration, with_events, with_policies,
    with_rules,
};
use crate::pricing::PolicyKind;
use crate::rules::PriceRule;
use crate::{Result, SimError};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub name: String,
    #[serde(default = "default_days")]
    pub days: u32,
    /// Mean shopper sessions a day (Poisson arrivals); default: the calibrated log's mean,
    /// or 1,000 in a synthetic world.
    #[serde(default)]
    pub sessions_per_day: Option<f64>,
    /// How shoppers arrive.
    #[serde(default)]
    pub arrivals: Arrivals,
    /// Units in stock per item at the start (default: unlimited); a sold-out item is not
    /// shown.
    #[serde(default)]
    pub stock: Option<u64>,
    /// What a unit left at the end of the horizon (the sell-by day) fetches, as a multiple
    /// of its list price (0.2: a fifth): on the last day each unit left adds that to revenue
    /// and that less its cost to margin. Needs `stock`.
    #[serde(default)]
    pub salvage: Option<f64>,
    /// Run the clairvoyant policy too (known demand: each day's margin-optimal prices and
    /// each shopper's margin-optimal slate), and report every policy's regret against it.
    #[serde(default = "default_true")]
    pub oracle: bool,
    /// Items recommended (and shown with their prices) per session.
    #[serde(default = "default_slate")]
    pub slate: usize,
    /// Replicates: seeds 0 … seeds − 1.
    #[serde(default = "default_seeds")]
    pub seeds: u64,
    #[serde(default)]
    pub world: WorldSpec,
    /// Utility lost per unit of ln(our price / the competitor's), where a competitor price
    /// is set.
    #[serde(default = "default_competitor_weight")]
    pub competitor_weight: f64,
    pub policies: Vec<PolicySpec>,
    /// The price rules every policy's price passes through (see [`crate::rules`]).
    #[serde(default)]
    pub rules: Vec<PriceRule>,
    #[serde(default)]
    pub events: Vec<Event>,
}

/// The world whose demand is the truth of the run: a synthetic one (`shoplab-synth`), or
/// the workspace's calibration `calibration` (see `shoplab calibrate`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorldSpec {
    pub seed: u64,
    pub users: usize,
    pub items: usize,
    pub categories: usize,
    pub calibration: Option<i64>,
}

impl Default for WorldSpec {
    fn default() -> Self {
        WorldSpec {
            seed: 46,
            users: 2_000,
            items: 300,
            categories: 8,
            calibration: None,
        }
    }
}

/// Arrivals per day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Arrivals {
    /// Poisson, at `sessions_per_day` times the weekly shape of a calibrated log.
    #[default]
    Poisson,
    /// The calibrated log's sessions per day, day after day (cycled past its end), scaled
    /// by traffic events.
    Replay,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicySpec {
    pub name: String,
    pub recommend: Recommend,
    pub pricing: Pricing,
    /// The largest daily price change, as a fraction of yesterday's price (0.05: ±5%).
    #[serde(default)]
    pub max_move: Option<f64>,
}

/// A recommender, written as a string: `popularity`, `random`, `affinity`,
/// `expected-margin`, `run:<id>` (a trained run of the workspace) or
/// `expected-revenue:<id>` (a conversion run).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Recommend {
    /// Most sold so far in the replicate (ties: the most appealing).
    Popularity,
    /// A random slate each session.
    Random,
    /// Highest affinity for the shopper, `appeal_i + <user, item>` of the world's own
    /// demand (price-blind).
    Affinity,
    /// Highest expected margin for the shopper: (price − cost) × P(buy | shown alone), from
    /// the world's own demand (what only a clairvoyant knows).
    ExpectedMargin,
    /// The top items of a trained run's scores for the shopper (price-blind).
    Run(i64),
    /// Price-aware re-rank: the highest price × P(buy | user, item, price) of a conversion
    /// run, whose predictions are also scored against the simulated purchases.
    ExpectedRevenue(i64),
}

impl TryFrom<String> for Recommend {
    type Error = String;

    fn try_from(s: String) -> std::result::Result<Self, String> {
        let run = |id: &str| {
            id.parse::<i64>()
                .map_err(|_| format!("\"{s}\": the run id must be a number"))
        };
        Ok(match s.split_once(':') {
            None if s == "popularity" => Recommend::Popularity,
            None if s == "random" => Recommend::Random,
            None if s == "affinity" => Recommend::Affinity,
            None if s == "expected-margin" => Recommend::ExpectedMargin,
            Some(("run", id)) => Recommend::Run(run(id)?),
            Some(("expected-revenue", id)) => Recommend::ExpectedRevenue(run(id)?),
            _ => {
                return Err(format!(
                    "unknown recommender \"{s}\" (known: popularity, random, affinity, \
                     expected-margin, run:<id>, expected-revenue:<id>)"
                ));
            }
        })
    }
}

impl From<Recommend> for String {
    fn from(r: Recommend) -> String {
        match r {
            Recommend::Popularity => "popularity".into(),
            Recommend::Random => "random".into(),
            Recommend::Affinity => "affinity".into(),
            Recommend::ExpectedMargin => "expected-margin".into(),
            Recommend::Run(id) => format!("run:{id}"),
            Recommend::ExpectedRevenue(id) => format!("expected-revenue:{id}"),
        }
    }
}

impl Recommend {
    /// The trained run it needs, if any.
    pub fn run(&self) -> Option<i64> {
        match self {
            Recommend::Run(id) | Recommend::ExpectedRevenue(id) => Some(*id),
            Recommend::Popularity
            | Recommend::Random
            | Recommend::Affinity
            | Recommend::ExpectedMargin => None,
        }
    }

    /// Whether it ranks by a model's purchase probabilities, which are then scored against
    /// the simulated purchases (a conversion run).
    pub fn predicts_purchases(&self) -> bool {
        match self {
            Recommend::ExpectedRevenue(_) => true,
            Recommend::Popularity
            | Recommend::Random
            | Recommend::Affinity
            | Recommend::ExpectedMargin
            | Recommend::Run(_) => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Pricing {
    /// The list price.
    List,
    /// Cost × (1 + markup).
    CostPlus { markup: f64 },
    /// Each day, each item's price maximizing the expected margin of an average shopper
    /// under the current demand (elasticity shifts and competitor prices included), searched
    /// on list × 0.5 … 1.5.
    ElasticityOptimal,
    /// Thompson sampling per item over list-price multipliers (Beta priors on the purchase
    /// probability when shown; the margin decides); prices move once a day.
    Thompson { grid: Vec<f64> },
    /// Thompson sampling per item on its daily units sold at each multiplier (Gamma/Poisson).
    ThompsonPoisson { grid: Vec<f64> },
    /// Inventory-constrained Thompson sampling per item (Ferreira, Simchi-Levi & Wang 2018):
    /// each day a price mix that sells at most the remaining stock's rate, or the item held
    /// back. Needs `stock`.
    ThompsonInventory { grid: Vec<f64> },
    /// UCB1 per item over list-price multipliers, on the margin per impression scaled by
    /// the grid's highest margin (each multiplier tried first).
    Ucb1 { grid: Vec<f64> },
    /// The best mean margin per impression so far, a random multiplier with probability ε
    /// (each tried first).
    EpsilonGreedy { grid: Vec<f64>, epsilon: f64 },
    /// The competitor's price less `undercut` (0.02: 2% below) where a competitor price is
    /// set, the list price elsewhere.
    CompetitorMatch { undercut: f64 },
    /// Markdown to sell through by the horizon's end (the sell-by day): from day 1, an item
    /// whose sales so far, projected over the days left, would leave units unsold is marked
    /// down by `step` of its list price that day (never back up), to at least `floor` × list.
    /// Needs `stock`.
    Markdown { step: f64, floor: f64 },
}

impl Pricing {
    /// Every pricing policy, as the scenario's `kind` names it.
    pub const KINDS: [&'static str; 10] = [
        "list",
        "cost-plus",
        "elasticity-optimal",
        "competitor-match",
        "markdown",
        "thompson",
        "thompson-poisson",
        "thompson-inventory",
        "ucb1",
        "epsilon-greedy",
    ];

    /// The scenario's `kind` of this policy.
    pub fn kind(&self) -> &'static str {
        match self {
            Pricing::List => "list",
            Pricing::CostPlus { .. } => "cost-plus",
            Pricing::ElasticityOptimal => "elasticity-optimal",
            Pricing::CompetitorMatch { .. } => "competitor-match",
            Pricing::Markdown { .. } => "markdown",
            Pricing::Thompson { .. } => "thompson",
            Pricing::ThompsonPoisson { .. } => "thompson-poisson",
            Pricing::ThompsonInventory { .. } => "thompson-inventory",
            Pricing::Ucb1 { .. } => "ucb1",
            Pricing::EpsilonGreedy { .. } => "epsilon-greedy",
        }
    }

    /// The policy of `kind` (one of [`Pricing::KINDS`]; else the list price) with its
    /// default settings, this one's grid kept when it has one (what a form switches to).
    pub fn as_kind(&self, kind: &str) -> Pricing {
        let grid = match self.grid() {
            [] => vec![0.85, 0.95, 1.0, 1.05, 1.15],
            g => g.to_vec(),
        };
        match kind {
            "cost-plus" => Pricing::CostPlus { markup: 0.3 },
            "elasticity-optimal" => Pricing::ElasticityOptimal,
            "competitor-match" => Pricing::CompetitorMatch { undercut: 0.02 },
            "markdown" => Pricing::Markdown {
                step: 0.1,
                floor: 0.5,
            },
            "thompson" => Pricing::Thompson { grid },
            "thompson-poisson" => Pricing::ThompsonPoisson { grid },
            "thompson-inventory" => Pricing::ThompsonInventory { grid },
            "ucb1" => Pricing::Ucb1 { grid },
            "epsilon-greedy" => Pricing::EpsilonGreedy { grid, epsilon: 0.1 },
            _ => Pricing::List,
        }
    }

    /// The list-price multipliers of a learning policy (empty for the others).
    pub fn grid(&self) -> &[f64] {
        match self {
            Pricing::Thompson { grid }
            | Pricing::ThompsonPoisson { grid }
            | Pricing::ThompsonInventory { grid }
            | Pricing::Ucb1 { grid }
            | Pricing::EpsilonGreedy { grid, .. } => grid,
            Pricing::List
            | Pricing::CostPlus { .. }
            | Pricing::ElasticityOptimal
            | Pricing::CompetitorMatch { .. }
            | Pricing::Markdown { .. } => &[],
        }
    }

    /// The bandit that learns each item's price over the grid, or `None` for a rule that
    /// sets the price from what it knows.
    pub fn learner(&self) -> Option<PolicyKind> {
        match self {
            Pricing::Thompson { .. } => Some(PolicyKind::Thompson),
            Pricing::ThompsonPoisson { .. } => Some(PolicyKind::ThompsonPoisson),
            Pricing::ThompsonInventory { .. } => Some(PolicyKind::ThompsonInventory),
            Pricing::Ucb1 { .. } => Some(PolicyKind::Ucb1),
            Pricing::EpsilonGreedy { epsilon, .. } => {
                Some(PolicyKind::EpsilonGreedy { epsilon: *epsilon })
            }
            Pricing::List
            | Pricing::CostPlus { .. }
            | Pricing::ElasticityOptimal
            | Pricing::CompetitorMatch { .. }
            | Pricing::Markdown { .. } => None,
        }
    }

    /// Whether a bandit learns the price (else a rule sets it).
    pub fn is_learner(&self) -> bool {
        self.learner().is_some()
    }

    /// A bandit's grid: list-price multipliers, all positive (a rule has none).
    fn check_grid(&self) -> std::result::Result<(), String> {
        let grid = self.grid();
        if self.is_learner() && (grid.is_empty() || grid.iter().any(|m| *m <= 0.0)) {
            return Err("the grid needs positive multipliers".into());
        }
        Ok(())
    }

    /// The rule's or the bandit's own settings (`stock`: the scenario's).
    fn check_settings(&self, stock: Option<u64>) -> std::result::Result<(), String> {
        match self {
            Pricing::CostPlus { markup } if *markup <= -1.0 => {
                Err("markup must be above -1".into())
            }
            Pricing::EpsilonGreedy { epsilon, .. } if !(0.0..=1.0).contains(epsilon) => {
                Err("epsilon must be in [0, 1]".into())
            }
            Pricing::CompetitorMatch { undercut } if !(0.0..1.0).contains(undercut) => {
                Err("undercut must be in [0, 1)".into())
            }
            Pricing::ThompsonInventory { .. } if stock.is_none() => {
                Err("thompson-inventory needs the scenario's stock".into())
            }
            Pricing::Markdown { .. } if stock.is_none() => {
                Err("markdown needs the scenario's stock".into())
            }
            Pricing::Markdown { step, floor }
                if !(*step > 0.0 && *step < 1.0 && *floor > 0.0 && *floor <= 1.0) =>
            {
                Err("markdown's step must be in (0, 1) and its floor in (0, 1]".into())
            }
            Pricing::List
            | Pricing::CostPlus { .. }
            | Pricing::ElasticityOptimal
            | Pricing::Thompson { .. }
            | Pricing::ThompsonPoisson { .. }
            | Pricing::ThompsonInventory { .. }
            | Pricing::Ucb1 { .. }
            | Pricing::EpsilonGreedy { .. }
            | Pricing::CompetitorMatch { .. }
            | Pricing::Markdown { .. } => Ok(()),
        }
    }
}

/// A change from `day` (0-based) through `until` (inclusive; default: the end), for one
/// category (by code) or for all.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub day: u32,
    #[serde(default)]
    pub until: Option<u32>,
    #[serde(default)]
    pub category: Option<String>,
    /// The competitor's price as a multiple of our list price.
    #[serde(default)]
    pub competitor_price: Option<f64>,
    /// Multiplies the category's price sensitivity.
    #[serde(default)]
    pub elasticity: Option<f64>,
    /// A discount on whatever price the policy sets (0.2: 20% off).
    #[serde(default)]
    pub promo: Option<f64>,
    /// Multiplies the day's sessions (for all categories).
    #[serde(default)]
    pub traffic: Option<f64>,
    /// The items cannot be sold (or shown).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stock_out: bool,
    /// Items (by id) launched on `day`: not in the catalog before it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub launch: Vec<String>,
}

impl Event {
    pub fn active(&self, day: u32) -> bool {
        day >= self.day && self.until.is_none_or(|u| day <= u)
    }

    /// An event from `day` on, for every category, that changes nothing yet: the base
    /// an editor fills in.
    pub fn blank(day: u32) -> Self {
        Event {
            day,
            until: None,
            category: None,
            competitor_price: None,
            elasticity: None,
            promo: None,
            traffic: None,
            stock_out: false,
            launch: Vec::new(),
        }
    }

    /// What the event does, in words (`competitor at × list, promo, share off`).
    pub fn describe(&self) -> String {
        let Event {
            day: _,
            until: _,
            category: _,
            competitor_price,
            elasticity,
            promo,
            traffic,
            stock_out,
            launch,
        } = self;
        let mut parts = Vec::new();
        if competitor_price.is_some() {
            parts.push("competitor at × list".to_string());
        }
        if elasticity.is_some() {
            parts.push("price sensitivity ×".into());
        }
        if promo.is_some() {
            parts.push("promo, share off".into());
        }
        if traffic.is_some() {
            parts.push("traffic ×".into());
        }
        if *stock_out {
            parts.push("stock-out".into());
        }
        if !launch.is_empty() {
            parts.push(format!("launch of {} items", launch.len()));
        }
        parts.join(", ")
    }

    /// The event's one editable number (the first it has: competitor price, elasticity,
    /// promo, traffic), for an editor's slider.
    pub fn value_mut(&mut self) -> Option<&mut f64> {
        let Event {
            competitor_price,
            elasticity,
            promo,
            traffic,
            ..
        } = self;
        competitor_price
            .as_mut()
            .or(elasticity.as_mut())
            .or(promo.as_mut())
            .or(traffic.as_mut())
    }
}

pub(crate) fn default_days() -> u32 {
    30
}
fn default_true() -> bool {
    true
}
fn default_slate() -> usize {
    8
}
fn default_seeds() -> u64 {
    10
}
fn default_competitor_weight() -> f64 {
    2.0
}

impl Scenario {
    /// The trained runs its recommenders need.
    pub fn model_runs(&self) -> Vec<i64> {
        let mut runs: Vec<i64> = self
            .policies
            .iter()
            .filter_map(|p| p.recommend.run())
            .collect();
        runs.sort_unstable();
        runs.dedup();
        runs
    }

    /// Reads and checks a scenario; `origin` names it in errors (a file path). Syntax, an
    /// unknown key or variant: the TOML reader's line and column; a value out of range: the
    /// line of the policy, event or key it belongs to.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self> {
        let s: Scenario =
            toml::from_str(text).map_err(|e| SimError::Config(format!("{origin}: {e}")))?;
        let doc: toml::Table =
            toml::from_str(text).map_err(|e| SimError::Config(format!("{origin}: {e}")))?;
        let finite = match non_finite(&toml::Value::Table(doc)) {
            Some(key) => Err((
                vec![key.clone()],
                format!("{key} must be a finite number (nan and inf are not)"),
            )),
            None => Ok(()),
        };
        finite.and_then(|()| s.check()).map_err(|(at, m)| {
            SimError::Config(match line_of(text, &at) {
                Some((line, column)) => format!("{origin}, line {line}, column {column}: {m}"),
                None => format!("{origin}: {m}"),
            })
        })?;
        Ok(s)
    }

    /// The first setting out of range: the words on its line (see [`line_of`]), the message.
    fn check(&self) -> std::result::Result<(), (Vec<String>, String)> {
        let key = |k: &str| vec![k.to_string()];
        if self.policies.is_empty() {
            return Err((key("[[policies]]"), "no [[policies]] to compare".into()));
        }
        for (name, bad) in [
            ("days", self.days == 0),
            ("slate", self.slate == 0),
            ("seeds", self.seeds == 0),
            (
                "sessions_per_day",
                self.sessions_per_day
                    .is_some_and(|r| !(r.is_finite() && r > 0.0)),
            ),
        ] {
            if bad {
                return Err((key(name), format!("{name} must be positive")));
            }
        }
        if let Some(v) = self.salvage {
            if self.stock.is_none() {
                return Err((key("salvage"), "salvage needs the scenario's stock".into()));
            }
            if !(0.0..=1.0).contains(&v) {
                return Err((
                    key("salvage"),
                    "salvage must be in [0, 1] (of the list price)".into(),
                ));
            }
        }
        for p in &self.policies {
            p.check(self.stock).map_err(|m| {
                (
                    vec!["name".to_string(), format!("\"{}\"", p.name)],
                    format!("policy \"{}\": {m}", p.name),
                )
            })?;
        }
        for r in &self.rules {
            r.check().map_err(|m| {
                let at = match &r.category {
                    Some(c) => vec!["category".to_string(), format!("\"{c}\"")],
                    None => vec!["[[rules]]".to_string()],
                };
                let whose = r
                    .category
                    .as_ref()
                    .map_or("the shop-wide rule".to_string(), |c| {
                        format!("the rule for \"{c}\"")
                    });
                (at, format!("{whose}: {m}"))
            })?;
        }
        for e in &self.events {
            e.check(self.days)
                .map_err(|m| (vec!["day".to_string(), e.day.to_string()], m))?;
        }
        // Overlapping events multiply the day's traffic: bounded, so that a day's sessions
        // stay countable (a factor of 1e308 made one day's Poisson draw unbounded).
        let traffic: f64 = self.events.iter().filter_map(|e| e.traffic).product();
        if traffic > MAX_TRAFFIC {
            let last = self.events.iter().rev().find(|e| e.traffic.is_some());
            let day = last.map_or(0, |e| e.day);
            return Err((
                vec!["traffic".to_string()],
                format!(
                    "the events' traffic factors multiply to {traffic:e} (the event on day {day} \
                     last): at most {MAX_TRAFFIC} is accepted"
                ),
            ));
        }
        Ok(())
    }
}

/// The most the events' traffic factors may multiply a day's sessions by.
const MAX_TRAFFIC: f64 = 1_000.0;

impl PolicySpec {
    /// Its pricing's settings and its bounded move, in that order.
    fn check(&self, stock: Option<u64>) -> std::result::Result<(), String> {
        let PolicySpec {
            name: _,
            recommend: _,
            pricing,
            max_move,
        } = self;
        pricing.check_grid()?;
        if max_move.is_some_and(|m| !(m > 0.0 && m <= 1.0)) {
            return Err("max_move must be in (0, 1]".into());
        }
        pricing.check_settings(stock)
    }
}

impl Event {
    /// Within the horizon (`days`), its factors positive and its promo a discount.
    fn check(&self, days: u32) -> std::result::Result<(), String> {
        // Every field named: a new kind of event must say here what it needs.
        let Event {
            day,
            until: _,
            category: _,
            competitor_price,
            elasticity,
            promo,
            traffic,
            stock_out: _,
            launch: _,
        } = self;
        if *day >= days {
            return Err(format!("an event on day {day} is past the {days} days"));
        }
        let positive = [competitor_price, elasticity, traffic];
        if positive.iter().copied().flatten().any(|v| *v <= 0.0)
            || promo.is_some_and(|d| !(0.0..1.0).contains(&d))
        {
            return Err(format!(
                "the event on day {day}: competitor_price, elasticity and traffic must be positive, promo in [0, 1)"
            ));
        }
        Ok(())
    }
}

/// The first line (1-based, with the column of the first word) holding all of `words`, a
/// comment aside: where a checked setting is written.
fn line_of(text: &str, words: &[String]) -> Option<(usize, usize)> {
    text.lines().enumerate().find_map(|(i, line)| {
        let code = line.split('#').next().unwrap_or_default();
        if words.is_empty() || !words.iter().all(|w| code.contains(w.as_str())) {
            return None;
        }
        code.find(words[0].as_str()).map(|at| (i + 1, at + 1))
    })
}

/// The key of the first `nan` or `inf` in a TOML value, if any.
fn non_finite(v: &toml::Value) -> Option<String> {
    match v {
        toml::Value::Table(t) => t.iter().find_map(|(k, v)| match v {
            toml::Value::Float(f) if !f.is_finite() => Some(k.clone()),
            toml::Value::Array(a)
                if a.iter()
                    .any(|x| matches!(x, toml::Value::Float(f) if !f.is_finite())) =>
            {
                Some(k.clone())
            }
            other => non_finite(other),
        }),
        toml::Value::Array(a) => a.iter().find_map(non_finite),
        toml::Value::Float(_)
        | toml::Value::String(_)
        | toml::Value::Integer(_)
        | toml::Value::Boolean(_)
        | toml::Value::Datetime(_) => None,
    }
}
