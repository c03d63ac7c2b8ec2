//! The canonical side of a mapping: the tables an import writes ([`Target`]), their
//! columns, and the rule that gives one canonical column its value ([`Column`], [`Parse`]).
//! Mappings and the format recognizers both build on these.

use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};

/// The canonical table an import writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Events,
    Items,
    Users,
    BanditLog,
    /// Product reviews: text with a rating and a recommended flag.
    Reviews,
}

impl Target {
    pub fn table(self) -> &'static str {
        match self {
            Target::Events => "events",
            Target::Items => "items",
            Target::Users => "users",
            Target::BanditLog => "bandit_log",
            Target::Reviews => "reviews",
        }
    }

    /// The column that identifies a row, for tables that hold one row per id (a later
    /// repeat of an id in one import is rejected).
    pub fn unique_key(self) -> Option<&'static str> {
        match self {
            Target::Items => Some("item_id"),
            Target::Users => Some("user_id"),
            Target::Events | Target::BanditLog | Target::Reviews => None,
        }
    }

    /// Canonical columns, and whether each is required.
    pub fn columns(self) -> &'static [(&'static str, bool)] {
        match self {
            // A row without a user is a guest's: kept (see `quality`).
            Target::Events => &[
                ("event_time", true),
                ("user_id", false),
                ("item_id", true),
                ("event_type", true),
                ("session_id", false),
                ("price", false),
                ("quantity", false),
                ("value", false),
                ("item_title", false),
                ("item_category", false),
                ("item_brand", false),
            ],
            Target::Items => &[
                ("item_id", true),
                ("title", false),
                ("description", false),
                ("category", false),
                ("brand", false),
                ("price", false),
                ("cost", false),
            ],
            Target::Users => &[("user_id", true)],
            Target::BanditLog => &[
                ("ts", true),
                ("user_id", false),
                ("action", true),
                ("position", false),
                ("reward", true),
                ("propensity", true),
                ("policy", false),
                ("campaign", false),
            ],
            Target::Reviews => &[
                ("item_id", true),
                ("text", true),
                ("user_id", false),
                ("review_time", false),
                ("rating", false),
                ("recommended", false),
                ("title", false),
                ("helpful", false),
                ("item_category", false),
            ],
        }
    }
}

impl std::str::FromStr for Target {
    type Err = DataError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "events" => Ok(Target::Events),
            "items" | "catalog" => Ok(Target::Items),
            "users" => Ok(Target::Users),
            "bandit_log" | "bandit" => Ok(Target::BanditLog),
            "reviews" => Ok(Target::Reviews),
            other => Err(DataError::Mapping(format!(
                "unknown kind '{other}' (expected events, items, users, bandit_log or reviews)"
            ))),
        }
    }
}

/// How a source value becomes a canonical value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Parse {
    #[default]
    Text,
    /// An identifier: trimmed; `17850.0` becomes `17850`.
    Id,
    Number,
    /// A price written as text: `"$1,299.99 "`, `€ 12.50`.
    Money,
    Timestamp,
    /// One of the canonical event types, through `[event_types]`.
    EventType,
}

/// One canonical column's rule.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    /// Source column name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// A constant instead of a source column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default)]
    pub parse: Parse,
    /// For timestamps: `iso`, `epoch_s`, `epoch_ms`, `mixed`, or a strftime format such as `%d/%m/%Y %H:%M`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
}

impl Column {
    /// The source column `source`, read by `parse`.
    pub(crate) fn src(source: &str, parse: Parse) -> Self {
        Column {
            source: Some(source.to_string()),
            parse,
            ..Default::default()
        }
    }
    /// A constant value.
    pub(crate) fn constant(value: &str) -> Self {
        Column {
            value: Some(value.to_string()),
            ..Default::default()
        }
    }
}
