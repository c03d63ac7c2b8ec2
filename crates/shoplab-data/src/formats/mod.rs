//! Recognition of common export shapes: one module per export format, each saying whether a
//! file has its shape ([`Format::recognizes`]) and which canonical column comes from which of
//! its columns ([`Format::propose`]). [`Format::ALL`] is the one list they are tried in; the
//! mapping's dispatcher (`mapping::detect`) takes the first that fits the file.
//!
//! Adding a format: a module here, a variant of [`Format`], its place in [`Format::ALL`];
//! the compiler then asks for its name, target and the two calls below.

mod catalog;
mod events;
mod invoices;
mod movielens;
mod obd;
mod ratings;
mod recbole;
mod rees46;
mod retailrocket;
mod reviews;
mod taobao;
mod users;

use std::collections::BTreeMap;

use crate::canonical::{Column, Parse, Target};
use crate::error::{DataError, Result};
use crate::source::Source;

/// An export shape the recognizer knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// REES46 "eCommerce behavior data from multi category store".
    Rees46,
    /// RetailRocket `events.csv`.
    RetailRocket,
    /// Open Bandit Dataset logs.
    OpenBandit,
    /// Product reviews (Women's E-Commerce Clothing Reviews, Amazon reviews, shop exports).
    Reviews,
    /// Invoice lines (UCI Online Retail I and II).
    Invoices,
    /// A ratings file with RecBole's `name:type` headers (atomic `.inter` files).
    RecBole,
    /// A ratings file with a header (MovieLens `ratings.csv` and the like).
    Ratings,
    /// Taobao UserBehavior (no header).
    Taobao,
    /// MovieLens `u.data` (no header).
    MovieLens,
    /// A generic event log: user, item, time, perhaps an event type.
    Events,
    /// An item catalog.
    Catalog,
    /// A users file.
    Users,
}

impl Format {
    /// Every format, in the order they are tried: the first that recognizes a file wins.
    pub(crate) const ALL: [Format; 12] = [
        Format::Rees46,
        Format::RetailRocket,
        Format::OpenBandit,
        Format::Reviews,
        Format::Invoices,
        Format::RecBole,
        Format::Ratings,
        Format::Taobao,
        Format::MovieLens,
        Format::Events,
        Format::Catalog,
        Format::Users,
    ];

    /// The name a mapping's `format` records.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Rees46 => "rees46",
            Format::RetailRocket => "retailrocket",
            Format::OpenBandit => "obd",
            Format::Reviews => "reviews",
            Format::Invoices => "invoices",
            Format::RecBole => "recbole",
            Format::Ratings => "ratings",
            Format::Taobao => "taobao",
            Format::MovieLens => "movielens",
            Format::Events => "events",
            Format::Catalog => "catalog",
            Format::Users => "users",
        }
    }

    /// The table the format's rows go to.
    pub(crate) fn target(self) -> Target {
        match self {
            Format::Rees46
            | Format::RetailRocket
            | Format::Invoices
            | Format::RecBole
            | Format::Ratings
            | Format::Taobao
            | Format::MovieLens
            | Format::Events => Target::Events,
            Format::OpenBandit => Target::BanditLog,
            Format::Reviews => Target::Reviews,
            Format::Catalog => Target::Items,
            Format::Users => Target::Users,
        }
    }

    /// Whether the file has this format's shape.
    pub(crate) fn recognizes(self, shape: &Shape) -> bool {
        match self {
            Format::Rees46 => rees46::recognizes(shape),
            Format::RetailRocket => retailrocket::recognizes(shape),
            Format::OpenBandit => obd::recognizes(shape),
            Format::Reviews => reviews::recognizes(shape),
            Format::Invoices => invoices::recognizes(shape),
            Format::RecBole => recbole::recognizes(shape),
            Format::Ratings => ratings::recognizes(shape),
            Format::Taobao => taobao::recognizes(shape),
            Format::MovieLens => movielens::recognizes(shape),
            Format::Events => events::recognizes(shape),
            Format::Catalog => catalog::recognizes(shape),
            Format::Users => users::recognizes(shape),
        }
    }

    /// The canonical columns of a file this format recognizes. Fails where the shape
    /// matched but cannot be mapped (a catalog with nothing but an id).
    pub(crate) fn propose(self, shape: &Shape) -> Result<Proposal> {
        Ok(match self {
            Format::Rees46 => rees46::propose(shape),
            Format::RetailRocket => retailrocket::propose(shape),
            Format::OpenBandit => obd::propose(shape),
            Format::Reviews => reviews::propose(shape),
            Format::Invoices => invoices::propose(shape),
            Format::RecBole => recbole::propose(shape),
            Format::Ratings => ratings::propose(shape),
            Format::Taobao => taobao::propose(shape),
            Format::MovieLens => movielens::propose(shape),
            Format::Events => events::propose(shape),
            Format::Catalog => catalog::propose(shape)?,
            Format::Users => users::propose(shape),
        })
    }
}

/// What the recognizers look at: the file, its column names normalized, and the kind the
/// user asked for.
pub(crate) struct Shape<'a> {
    pub(crate) src: &'a Source,
    cols: Cols<'a>,
    /// A CSV file without a header row (its columns are `column0`, `column1`, …).
    headerless: bool,
    /// The target the user restricted recognition to, if any.
    kind: Option<Target>,
}

impl<'a> Shape<'a> {
    pub(crate) fn new(src: &'a Source, kind: Option<Target>) -> Self {
        Shape {
            src,
            cols: Cols::new(&src.columns),
            headerless: src.dialect.as_ref().is_some_and(|d| !d.header),
            kind,
        }
    }

    /// The first source column whose normalized name is one of `names`.
    fn find(&self, names: &[&str]) -> Option<String> {
        self.cols.find(names)
    }

    /// Whether the file has a column for each of `names`.
    fn has(&self, names: &[&str]) -> bool {
        self.cols.find(names).is_some()
    }

    fn has_all(&self, names: &[&str]) -> bool {
        self.cols.has_all(names)
    }

    /// The first of `names` the file has, read by `parse`.
    fn col(&self, names: &[&str], parse: Parse) -> Option<Column> {
        self.find(names).map(|c| Column::src(&c, parse))
    }

    /// The file's columns that no canonical column of `proposal` reads.
    fn unused_columns(&self, proposal: &Proposal) -> Vec<String> {
        self.src
            .columns
            .iter()
            .filter(|c| {
                !proposal
                    .columns
                    .values()
                    .any(|r| r.source.as_ref() == Some(*c))
            })
            .cloned()
            .collect()
    }
}

/// A format's proposal: canonical columns, names for a headerless file, columns kept as JSON.
#[derive(Debug, Default)]
pub(crate) struct Proposal {
    pub(crate) columns: BTreeMap<String, Column>,
    pub(crate) names: Vec<String>,
    pub(crate) extra: Vec<String>,
}

impl Proposal {
    /// Maps the canonical column `canonical` by `rule`, when there is one.
    fn put(&mut self, canonical: &str, rule: Option<Column>) {
        if let Some(rule) = rule {
            self.columns.insert(canonical.to_string(), rule);
        }
    }
}

/// Column names of a file, as written and normalized.
struct Cols<'a> {
    raw: &'a [String],
    normed: Vec<String>,
}

impl<'a> Cols<'a> {
    fn new(raw: &'a [String]) -> Self {
        Self {
            raw,
            normed: raw.iter().map(|c| norm(c)).collect(),
        }
    }
    /// The first source column whose normalized name is one of `names`.
    fn find(&self, names: &[&str]) -> Option<String> {
        names
            .iter()
            .find_map(|n| self.normed.iter().position(|c| c == n))
            .map(|i| self.raw[i].clone())
    }
    fn has_all(&self, names: &[&str]) -> bool {
        names.iter().all(|n| self.normed.iter().any(|c| c == n))
    }
}

/// Lower case, `:type` suffix of RecBole atomic files dropped, separators unified.
fn norm(name: &str) -> String {
    let base = name.split(':').next().unwrap_or(name);
    base.trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .replace([' ', '-', '.'], "_")
}

/// Known spellings of event names.
pub fn default_event_types() -> BTreeMap<String, String> {
    let pairs: &[(&str, &[&str])] = &[
        (
            "view",
            &[
                "view",
                "pv",
                "page_view",
                "pageview",
                "detail",
                "product_view",
                "visit",
            ],
        ),
        (
            "cart",
            &["cart", "addtocart", "add_to_cart", "add-to-cart", "basket"],
        ),
        (
            "remove_from_cart",
            &["remove_from_cart", "removefromcart", "remove-from-cart"],
        ),
        (
            "purchase",
            &[
                "purchase",
                "buy",
                "transaction",
                "order",
                "checkout",
                "sale",
            ],
        ),
        ("refund", &["refund", "return", "cancel"]),
        (
            "favorite",
            &["fav", "favorite", "favourite", "wishlist", "like"],
        ),
        ("rating", &["rating", "rate"]),
        ("click", &["click"]),
        ("impression", &["impression", "show", "exposure"]),
    ];
    pairs
        .iter()
        .flat_map(|(canon, names)| {
            names
                .iter()
                .map(move |n| (n.to_string(), canon.to_string()))
        })
        .collect()
}

/// The error for a file no format recognizes (`why` says what was missing).
pub(crate) fn unknown(src: &Source, why: &str) -> DataError {
    let shown: Vec<String> = src.columns.iter().take(12).cloned().collect();
    let message = if src.columns.len() <= 1 {
        format!(
            "does not look like a table: found a single column ({}); {why}. Expected an export such as \
             REES46 events (event_time,event_type,product_id,...,user_id,user_session), RetailRocket, Taobao, \
             MovieLens/RecBole ratings, Open Bandit logs, invoice lines or an item catalog",
            shown.join(", ")
        )
    } else {
        format!(
            "{why} (columns: {}{}). Known: REES46 events, RetailRocket events, Taobao UserBehavior, \
             MovieLens/RecBole ratings, Open Bandit logs, invoice lines, item catalogs (--kind items), users \
             (--kind users); or give a mapping file (--mapping)",
            shown.join(", "),
            if src.columns.len() > 12 { ", ..." } else { "" }
        )
    };
    DataError::UnknownFormat {
        path: src.path.clone(),
        message,
    }
}
