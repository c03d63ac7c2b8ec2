//! Mappings from an export's columns to the workspace's canonical tables, and the
//! recognition of common export shapes. A mapping is plain TOML: print it, edit it, pass it back.

use std::collections::BTreeMap;

use duckdb::Connection;
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::schema::EVENT_TYPES;
use crate::source::{CsvDialect, Source, lit};

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

    /// Canonical columns, and whether each is required.
    pub fn columns(self) -> &'static [(&'static str, bool)] {
        match self {
            Target::Events => &[
                ("event_time", true),
                ("user_id", true),
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
    fn src(source: &str, parse: Parse) -> Self {
        Column {
            source: Some(source.to_string()),
            parse,
            ..Default::default()
        }
    }
    fn constant(value: &str) -> Self {
        Column {
            value: Some(value.to_string()),
            ..Default::default()
        }
    }
}

/// How to read a file and what each canonical column comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The recognized export shape (`rees46`, `retailrocket`, `taobao`, `movielens`, `recbole`,
    /// `obd`, `invoices`, `catalog`, `users`, `reviews`, `events`).
    pub format: String,
    pub target: Target,
    /// The CSV dialect (absent for Parquet and NDJSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csv: Option<CsvDialect>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// Names for a file without a header, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    pub columns: BTreeMap<String, Column>,
    /// Source event name (lower case) → canonical event type.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub event_types: BTreeMap<String, String>,
    /// Source columns kept as JSON (`attrs` of items and users, `context` of bandit_log).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<String>,
}

impl Mapping {
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|e| format!("# cannot render mapping: {e}"))
    }

    pub fn from_toml(text: &str) -> Result<Self> {
        let m: Mapping = toml::from_str(text).map_err(|e| DataError::Mapping(e.to_string()))?;
        m.validate_self()?;
        Ok(m)
    }

    fn validate_self(&self) -> Result<()> {
        let known: Vec<&str> = self.target.columns().iter().map(|c| c.0).collect();
        for name in self.columns.keys() {
            if !known.contains(&name.as_str()) {
                return Err(DataError::Mapping(format!(
                    "'{name}' is not a column of {} (expected one of: {})",
                    self.target.table(),
                    known.join(", ")
                )));
            }
        }
        for (src, dst) in &self.event_types {
            if !EVENT_TYPES.contains(&dst.as_str()) {
                return Err(DataError::Mapping(format!(
                    "event type '{src}' maps to '{dst}', which is not one of: {}",
                    EVENT_TYPES.join(", ")
                )));
            }
        }
        Ok(())
    }

    /// Checks the mapping against the file: required columns present, source columns exist.
    pub fn validate(&self, src: &Source) -> Result<()> {
        self.validate_self()?;
        let cols = self.source_columns(src);
        for (name, required) in self.target.columns() {
            let rule = self.columns.get(*name);
            let generated = *name == "item_id" && self.target == Target::Items;
            if *required && rule.is_none() && !generated {
                return Err(DataError::BadInput {
                    path: src.path.clone(),
                    message: format!(
                        "missing required column '{name}' for {} (file columns: {}); map it in a mapping file",
                        self.target.table(),
                        cols.join(", ")
                    ),
                });
            }
            if let Some(Column {
                source: Some(s), ..
            }) = rule
                && !cols.contains(s)
            {
                return Err(DataError::BadInput {
                    path: src.path.clone(),
                    message: format!(
                        "mapping says {name} comes from column '{s}', which the file does not have (file columns: {})",
                        cols.join(", ")
                    ),
                });
            }
        }
        for e in &self.extra {
            if !cols.contains(e) {
                return Err(DataError::BadInput {
                    path: src.path.clone(),
                    message: format!("mapping keeps column '{e}', which the file does not have"),
                });
            }
        }
        Ok(())
    }

    /// Non-empty sample values of the source column `column` (as the mapping names it).
    pub fn sample_values(&self, src: &Source, column: &str) -> Vec<String> {
        self.source_columns(src)
            .iter()
            .position(|c| c == column)
            .map(|i| sample_column(src, i))
            .unwrap_or_default()
    }

    /// Sample values of the source column `column` as the file has them (not trimmed).
    pub fn raw_sample_values<'a>(&self, src: &'a Source, column: &str) -> Vec<&'a str> {
        let Some(i) = self.source_columns(src).iter().position(|c| c == column) else {
            return Vec::new();
        };
        src.sample
            .iter()
            .filter_map(|row| row.get(i)?.as_deref())
            .collect()
    }

    /// Column names as the mapping refers to them (its `names` for a file without a header).
    pub fn source_columns(&self, src: &Source) -> Vec<String> {
        if self.names.len() == src.columns.len() {
            self.names.clone()
        } else {
            src.columns.clone()
        }
    }
}

/// Lower case, `:type` suffix of RecBole atomic files dropped, separators unified.
/// Names of a review's text column.
const REVIEW_TEXT: &[&str] = &[
    "review_text",
    "reviewtext",
    "review_body",
    "review",
    "comment",
];
/// Names of a reviewed item's id.
const REVIEW_ITEM: &[&str] = &[
    "clothing_id",
    "item_id",
    "product_id",
    "productid",
    "asin",
    "itemid",
    "sku",
];

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

/// Spellings of the columns of ratings exports and of generic event logs.
const RATING_USER: &[&str] = &["user_id", "userid", "user"];
const RATING_ITEM: &[&str] = &[
    "item_id",
    "itemid",
    "movieid",
    "movie_id",
    "item",
    "product_id",
    "productid",
];
const RATING_VALUE: &[&str] = &["rating", "score", "stars"];
const EVENT_USER: &[&str] = &[
    "user_id",
    "userid",
    "user",
    "customer_id",
    "visitor_id",
    "visitorid",
];
const EVENT_ITEM: &[&str] = &[
    "item_id",
    "itemid",
    "product_id",
    "productid",
    "item",
    "sku",
];
const EVENT_TIME: &[&str] = &["event_time", "timestamp", "time", "ts", "date", "datetime"];

/// Recognizes the export shape of `src` and proposes a mapping. `kind` restricts the target.
pub fn detect(conn: &Connection, src: &Source, kind: Option<Target>) -> Result<Mapping> {
    let cols = Cols::new(&src.columns);
    let headerless = src.dialect.as_ref().is_some_and(|d| !d.header);
    let mut columns = BTreeMap::new();
    let mut put = |k: &str, c: Option<Column>| {
        if let Some(c) = c {
            columns.insert(k.to_string(), c);
        }
    };
    // The first of `names` the file has, read by `parse`.
    let src_col = |names: &[&str], parse: Parse| cols.find(names).map(|c| Column::src(&c, parse));
    let mut names = Vec::new();
    let mut extra = Vec::new();
    let mut event_types = BTreeMap::new();
    let want = |t: Target| kind.is_none_or(|k| k == t);

    let format = if want(Target::Events)
        && cols.has_all(&["event_time", "event_type", "product_id", "user_id"])
    {
        // REES46 "eCommerce behavior data from multi category store".
        put("event_time", src_col(&["event_time"], Parse::Timestamp));
        put("event_type", src_col(&["event_type"], Parse::EventType));
        put("item_id", src_col(&["product_id"], Parse::Id));
        put("user_id", src_col(&["user_id"], Parse::Id));
        put(
            "session_id",
            src_col(&["user_session", "session_id"], Parse::Id),
        );
        put("price", src_col(&["price"], Parse::Money));
        put(
            "item_category",
            src_col(&["category_code", "category_id"], Parse::Text),
        );
        put("item_brand", src_col(&["brand"], Parse::Text));
        "rees46"
    } else if want(Target::Events) && cols.has_all(&["timestamp", "visitorid", "event", "itemid"]) {
        put("event_time", src_col(&["timestamp"], Parse::Timestamp));
        put("user_id", src_col(&["visitorid"], Parse::Id));
        put("event_type", src_col(&["event"], Parse::EventType));
        put("item_id", src_col(&["itemid"], Parse::Id));
        put("session_id", src_col(&["transactionid"], Parse::Id));
        "retailrocket"
    } else if want(Target::BanditLog)
        && cols.has_all(&["item_id", "position", "click", "propensity_score"])
    {
        put("ts", src_col(&["timestamp"], Parse::Timestamp));
        put("action", src_col(&["item_id"], Parse::Id));
        put("position", src_col(&["position"], Parse::Number));
        put("reward", src_col(&["click"], Parse::Number));
        put("propensity", src_col(&["propensity_score"], Parse::Number));
        if let Some((policy, campaign)) = obd_policy_campaign(&src.path) {
            put("policy", Some(Column::constant(&policy)));
            put("campaign", Some(Column::constant(&campaign)));
        }
        extra = src
            .columns
            .iter()
            .filter(|c| {
                let n = norm(c);
                n.starts_with("user_feature") || n.starts_with("user_item_affinity")
            })
            .cloned()
            .collect();
        "obd"
    } else if want(Target::Reviews)
        && !headerless
        && cols.find(REVIEW_TEXT).is_some()
        && cols.find(REVIEW_ITEM).is_some()
    {
        // Review exports: Women's E-Commerce Clothing Reviews, Amazon reviews, shop exports.
        put("item_id", src_col(REVIEW_ITEM, Parse::Id));
        put("text", src_col(REVIEW_TEXT, Parse::Text));
        put(
            "user_id",
            src_col(
                &["user_id", "reviewerid", "customer_id", "author_id"],
                Parse::Id,
            ),
        );
        put(
            "review_time",
            src_col(
                &[
                    "review_time",
                    "unixreviewtime",
                    "review_date",
                    "date",
                    "timestamp",
                ],
                Parse::Timestamp,
            ),
        );
        put(
            "rating",
            src_col(
                &["rating", "overall", "stars", "star_rating", "score"],
                Parse::Number,
            ),
        );
        put(
            "recommended",
            src_col(
                &[
                    "recommended_ind",
                    "recommended",
                    "recommend",
                    "would_recommend",
                ],
                Parse::Number,
            ),
        );
        put(
            "title",
            src_col(
                &["title", "summary", "review_title", "headline"],
                Parse::Text,
            ),
        );
        put(
            "helpful",
            src_col(
                &[
                    "positive_feedback_count",
                    "helpful_votes",
                    "helpful",
                    "vote",
                ],
                Parse::Number,
            ),
        );
        put(
            "item_category",
            src_col(&["class_name", "category", "product_category"], Parse::Text),
        );
        // The other columns (age, department, an index) are kept as JSON in `attrs`.
        extra = src
            .columns
            .iter()
            .filter(|c| !columns.values().any(|r| r.source.as_ref() == Some(*c)))
            .cloned()
            .collect();
        "reviews"
    } else if want(Target::Events)
        && cols.has_all(&["stockcode", "quantity", "invoicedate"])
        && cols.find(&["invoiceno", "invoice"]).is_some()
    {
        put("event_time", src_col(&["invoicedate"], Parse::Timestamp));
        put(
            "user_id",
            src_col(&["customerid", "customer_id"], Parse::Id),
        );
        put("item_id", src_col(&["stockcode"], Parse::Id));
        put("event_type", Some(Column::constant("purchase")));
        put("session_id", src_col(&["invoiceno", "invoice"], Parse::Id));
        put("quantity", src_col(&["quantity"], Parse::Number));
        put("price", src_col(&["unitprice", "price"], Parse::Money));
        put("item_title", src_col(&["description"], Parse::Text));
        "invoices"
    } else if want(Target::Events)
        && !headerless
        && cols.find(RATING_USER).is_some()
        && cols.find(RATING_ITEM).is_some()
        && cols.find(RATING_VALUE).is_some()
    {
        put("user_id", src_col(RATING_USER, Parse::Id));
        put("item_id", src_col(RATING_ITEM, Parse::Id));
        put("value", src_col(RATING_VALUE, Parse::Number));
        put("event_type", Some(Column::constant("rating")));
        match cols.find(&["timestamp", "time", "date", "event_time"]) {
            Some(c) => put("event_time", Some(Column::src(&c, Parse::Timestamp))),
            None => put(
                "event_time",
                Some(Column {
                    value: Some("1970-01-01 00:00:00".into()),
                    parse: Parse::Timestamp,
                    ..Default::default()
                }),
            ),
        }
        if src.columns.iter().any(|c| c.contains(':')) {
            "recbole"
        } else {
            "ratings"
        }
    } else if want(Target::Events) && headerless && looks_like_taobao(src) {
        names = ["user_id", "item_id", "category_id", "behavior", "timestamp"]
            .map(String::from)
            .to_vec();
        put("user_id", Some(Column::src("user_id", Parse::Id)));
        put("item_id", Some(Column::src("item_id", Parse::Id)));
        put(
            "item_category",
            Some(Column::src("category_id", Parse::Text)),
        );
        put(
            "event_type",
            Some(Column::src("behavior", Parse::EventType)),
        );
        put(
            "event_time",
            Some(Column::src("timestamp", Parse::Timestamp)),
        );
        "taobao"
    } else if want(Target::Events) && headerless && looks_like_movielens(src) {
        names = ["user_id", "item_id", "rating", "timestamp"]
            .map(String::from)
            .to_vec();
        put("user_id", Some(Column::src("user_id", Parse::Id)));
        put("item_id", Some(Column::src("item_id", Parse::Id)));
        put("value", Some(Column::src("rating", Parse::Number)));
        put("event_type", Some(Column::constant("rating")));
        put(
            "event_time",
            Some(Column::src("timestamp", Parse::Timestamp)),
        );
        "movielens"
    } else if want(Target::Events)
        && !headerless
        && cols.find(EVENT_USER).is_some()
        && cols.find(EVENT_ITEM).is_some()
        && cols.find(EVENT_TIME).is_some()
    {
        put("user_id", src_col(EVENT_USER, Parse::Id));
        put("item_id", src_col(EVENT_ITEM, Parse::Id));
        put("event_time", src_col(EVENT_TIME, Parse::Timestamp));
        match cols.find(&[
            "event_type",
            "event",
            "action",
            "behavior",
            "behaviour",
            "type",
        ]) {
            Some(c) => put("event_type", Some(Column::src(&c, Parse::EventType))),
            None => put("event_type", Some(Column::constant("purchase"))),
        }
        put(
            "session_id",
            src_col(&["session_id", "user_session", "session"], Parse::Id),
        );
        put("price", src_col(&["price", "unit_price"], Parse::Money));
        put("quantity", src_col(&["quantity", "qty"], Parse::Number));
        "events"
    } else if want(Target::Items)
        && !headerless
        && (kind == Some(Target::Items)
            || (cols
                .find(&["title", "name", "product_name", "movie_title"])
                .is_some()
                && cols
                    .find(&["price", "category", "sub_category", "class", "brand"])
                    .is_some()))
    {
        // Canonical column, the names exports give it (first match wins), and how to read it.
        let rules: [(&str, &[&str], Parse); 7] = [
            (
                "item_id",
                &[
                    "item_id",
                    "product_id",
                    "productid",
                    "itemid",
                    "sku",
                    "stockcode",
                    "asin",
                    "id",
                ],
                Parse::Id,
            ),
            (
                "title",
                &[
                    "title",
                    "name",
                    "product_name",
                    "movie_title",
                    "product_title",
                ],
                Parse::Text,
            ),
            (
                "description",
                &[
                    "description",
                    "feature",
                    "features",
                    "product_description",
                    "desc",
                ],
                Parse::Text,
            ),
            (
                "category",
                &[
                    "category",
                    "category_code",
                    "sub_category",
                    "subcategory",
                    "class",
                    "category_id",
                ],
                Parse::Text,
            ),
            ("brand", &["brand", "manufacturer", "vendor"], Parse::Text),
            (
                "price",
                &[
                    "price",
                    "unitprice",
                    "unit_price",
                    "list_price",
                    "sale_price",
                ],
                Parse::Money,
            ),
            ("cost", &["cost", "unit_cost", "cogs"], Parse::Money),
        ];
        let mut used = Vec::new();
        for (canon, names, parse) in rules {
            if let Some(c) = cols.find(names) {
                put(canon, Some(Column::src(&c, parse)));
                used.push(c);
            }
        }
        extra = src
            .columns
            .iter()
            .filter(|c| !used.contains(c))
            .cloned()
            .collect();
        if !columns.contains_key("title") && columns.len() <= 1 {
            return Err(unknown(
                src,
                "no id, title, category or price column for an item catalog",
            ));
        }
        "catalog"
    } else if want(Target::Users)
        && !headerless
        && cols
            .find(&[
                "user_id",
                "userid",
                "customer_id",
                "customerid",
                "visitorid",
            ])
            .is_some()
    {
        let id = cols
            .find(&[
                "user_id",
                "userid",
                "customer_id",
                "customerid",
                "visitorid",
            ])
            .unwrap();
        put("user_id", Some(Column::src(&id, Parse::Id)));
        extra = src.columns.iter().filter(|c| **c != id).cloned().collect();
        "users"
    } else {
        let what = match kind {
            Some(k) => format!("nothing in it maps to {}", k.table()),
            None => "it matches none of the known exports".to_string(),
        };
        return Err(unknown(src, &what));
    };

    if columns.values().any(|c| c.parse == Parse::EventType) {
        event_types = default_event_types();
    }
    let mut mapping = Mapping {
        format: format.to_string(),
        target: match format {
            "obd" => Target::BanditLog,
            "catalog" => Target::Items,
            "users" => Target::Users,
            "reviews" => Target::Reviews,
            _ => Target::Events,
        },
        csv: src.dialect.clone(),
        encoding: Some(src.encoding.clone()),
        names,
        columns,
        event_types,
        extra,
    };
    // Timestamp formats come from the sample values.
    let pending: Vec<(String, Option<String>)> = mapping
        .columns
        .iter()
        .filter(|(_, r)| r.parse == Parse::Timestamp && r.format.is_none())
        .map(|(k, r)| (k.clone(), r.source.clone()))
        .collect();
    for (key, source) in pending {
        let format = match &source {
            Some(s) => detect_time_format(conn, &mapping.sample_values(src, s)).map_err(|m| {
                DataError::BadInput {
                    path: src.path.clone(),
                    message: format!("column '{s}': {m}"),
                }
            })?,
            None => "iso".to_string(),
        };
        if let Some(rule) = mapping.columns.get_mut(&key) {
            rule.format = Some(format);
        }
    }
    mapping.validate(src)?;
    Ok(mapping)
}

fn unknown(src: &Source, why: &str) -> DataError {
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

fn sample_column(src: &Source, i: usize) -> Vec<String> {
    src.sample
        .iter()
        .filter_map(|r| r.get(i).cloned().flatten())
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

fn looks_like_taobao(src: &Source) -> bool {
    if src.columns.len() != 5 {
        return false;
    }
    let v = sample_column(src, 3);
    !v.is_empty()
        && v.iter()
            .all(|x| matches!(x.as_str(), "pv" | "buy" | "cart" | "fav"))
}

fn looks_like_movielens(src: &Source) -> bool {
    if src.columns.len() != 4 {
        return false;
    }
    let num = |i: usize| {
        sample_column(src, i)
            .iter()
            .all(|x| x.parse::<f64>().is_ok())
    };
    let ratings = sample_column(src, 2);
    num(0)
        && num(1)
        && num(3)
        && !ratings.is_empty()
        && ratings
            .iter()
            .all(|x| x.parse::<f64>().is_ok_and(|r| (0.0..=10.0).contains(&r)))
}

fn obd_policy_campaign(path: &std::path::Path) -> Option<(String, String)> {
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect();
    let n = parts.len();
    if n >= 3 && matches!(parts[n - 3].as_str(), "random" | "bts") {
        Some((parts[n - 3].clone(), parts[n - 2].clone()))
    } else {
        None
    }
}

/// strftime formats tried, in order, when values are neither ISO nor epoch numbers.
const TIME_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S UTC",
    "%Y-%m-%d %H:%M:%S.%f UTC",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%m/%d/%Y",
    "%d/%m/%Y",
    "%d.%m.%Y",
    "%Y%m%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
];

/// Picks one timestamp format that reads every sample value, or `mixed` when only several together do.
pub fn detect_time_format(
    conn: &Connection,
    values: &[String],
) -> std::result::Result<String, String> {
    if values.is_empty() {
        return Ok("iso".into());
    }
    let all_digits = values.iter().all(|v| {
        let v = v.strip_suffix(".0").unwrap_or(v);
        !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.')
    });
    if all_digits {
        let max = values
            .iter()
            .filter_map(|v| v.parse::<f64>().ok())
            .fold(0.0f64, f64::max);
        let yyyymmdd = values
            .iter()
            .all(|v| v.len() == 8 && (v.starts_with("19") || v.starts_with("20")));
        return Ok(if yyyymmdd {
            "%Y%m%d"
        } else if max >= 1e11 {
            "epoch_ms"
        } else {
            "epoch_s"
        }
        .into());
    }
    let mut candidates: Vec<String> = vec!["iso".into()];
    candidates.extend(TIME_FORMATS.iter().map(|s| s.to_string()));
    let list = values.iter().map(|v| lit(v)).collect::<Vec<_>>().join(", ");
    let mut any_parsed = Vec::new();
    for fmt in &candidates {
        let expr = timestamp_expr("x", fmt);
        let sql = format!(
            "SELECT count(*) FILTER (WHERE ({expr}) IS NULL) FROM (SELECT unnest([{list}]) AS x)"
        );
        let failures: i64 = conn
            .query_row(&sql, [], |r| r.get(0))
            .map_err(|e| e.to_string())?;
        if failures == 0 {
            return Ok(fmt.clone());
        }
        if (failures as usize) < values.len() {
            any_parsed.push(fmt.clone());
        }
    }
    let expr = timestamp_expr("x", "mixed");
    let sql = format!(
        "SELECT count(*) FILTER (WHERE ({expr}) IS NULL) FROM (SELECT unnest([{list}]) AS x)"
    );
    let failures: i64 = conn
        .query_row(&sql, [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    if failures == 0 {
        return Ok("mixed".into());
    }
    Err(format!(
        "cannot read timestamps such as '{}' (tried ISO 8601, epoch seconds/milliseconds and {}); give `format` in a mapping",
        values[0],
        TIME_FORMATS.join(", ")
    ))
}

/// SQL turning the text expression `x` into a TIMESTAMP (UTC), NULL when it does not parse.
pub(crate) fn timestamp_expr(x: &str, format: &str) -> String {
    let epoch_s = format!("make_timestamp(CAST(TRY_CAST({x} AS DOUBLE) * 1000000 AS BIGINT))");
    let epoch_ms = format!("epoch_ms(CAST(TRY_CAST({x} AS DOUBLE) AS BIGINT))");
    match format {
        "iso" => format!("TRY_CAST({x} AS TIMESTAMP)"),
        "epoch_s" => epoch_s,
        "epoch_ms" => epoch_ms,
        "mixed" => {
            let fmts = TIME_FORMATS
                .iter()
                .map(|f| lit(f))
                .collect::<Vec<_>>()
                .join(", ");
            format!(
                "CASE WHEN regexp_full_match({x}, '[0-9]{{12,13}}') THEN {epoch_ms} \
                 WHEN regexp_full_match({x}, '[0-9]{{9,10}}(\\.[0-9]+)?') THEN {epoch_s} \
                 ELSE coalesce(TRY_CAST({x} AS TIMESTAMP), try_strptime({x}, [{fmts}])) END"
            )
        }
        f => format!("try_strptime({x}, {})", lit(f)),
    }
}
