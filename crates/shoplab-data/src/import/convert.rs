//! Per canonical column: the SQL that turns the file's text into the canonical value, and the
//! checks whose failure rejects the row (as a reason in staging, as an error in the single pass).

use std::collections::BTreeMap;

use crate::canonical::{Column, Parse};
use crate::dialect::Engine;
use crate::mapping::Mapping;
use crate::schema::EVENT_TYPES;
use crate::source::Source;
use crate::timestamps::timestamp_expr_in;

/// A rule a canonical value must keep, or its row is rejected.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Check {
    /// A required column with no value.
    Missing,
    /// A value that does not read as a number, a price or a timestamp.
    Unreadable,
    UnknownEventType,
    NotFinite,
    Negative,
    /// A propensity outside (0, 1].
    Propensity,
    /// A rating row without its rating.
    MissingRating,
}

impl Check {
    /// `WHEN … THEN '<reason>'` for the staging query: `c` the canonical value, `r` the raw
    /// text; the reason's text is the same in every engine.
    pub(super) fn when_sql(self, name: &str, c: &str, r: &str, rule: &Column, e: Engine) -> String {
        let src_name = rule.source.clone().unwrap_or_default();
        let lit = |s: &str| e.lit(s);
        // `before || r || after`: the reason quoting the raw text.
        let quoting =
            |before: &str, after: &str| format!("{} || {r} || {}", lit(before), lit(after));
        match self {
            Check::Missing => format!(
                "WHEN {c} IS NULL AND ({r} IS NULL OR trim({r}) = '') THEN {}",
                lit(&format!("{name}: missing value (column \"{src_name}\")"))
            ),
            Check::Unreadable => {
                let what = match rule.parse {
                    Parse::Number => "a number".to_string(),
                    Parse::Money => "a price".to_string(),
                    Parse::Timestamp | Parse::Text | Parse::Id | Parse::EventType => {
                        format!("a timestamp ({})", rule.format.as_deref().unwrap_or("iso"))
                    }
                };
                format!(
                    "WHEN {c} IS NULL AND {r} IS NOT NULL AND trim({r}) <> '' THEN {}",
                    quoting(&format!("{name}: cannot read '"), &format!("' as {what}"))
                )
            }
            Check::UnknownEventType => format!(
                "WHEN {c} IS NULL AND {r} IS NOT NULL THEN {}",
                quoting(
                    "event_type: unknown event type '",
                    &format!(
                        "' (known: {}; map others under [event_types])",
                        EVENT_TYPES.join(", ")
                    )
                )
            ),
            Check::NotFinite => format!(
                "WHEN isnan({c}) OR {} THEN {}",
                e.is_inf(c),
                quoting(&format!("{name}: '"), "' is not a finite number")
            ),
            Check::Negative => {
                format!(
                    "WHEN {c} < 0 THEN {}",
                    quoting(&format!("{name}: negative ('"), "')")
                )
            }
            Check::Propensity => format!(
                "WHEN {c} <= 0 OR {c} > 1 THEN {}",
                quoting("propensity: '", "' is not in (0, 1]")
            ),
            Check::MissingRating => format!(
                "WHEN {c} IS NULL THEN {}",
                lit(&format!("value: missing rating (column \"{src_name}\")"))
            ),
        }
    }

    /// The same rule as a condition for the single pass, on the value `v`; `raw` is the
    /// file's text, or `None` where the reader typed the column (and so already rejects
    /// what it cannot read).
    pub(super) fn fails_sql(self, v: &str, raw: Option<&str>) -> Option<String> {
        Some(match (self, raw) {
            (Check::Missing | Check::MissingRating, _) => format!("{v} IS NULL"),
            (Check::Unreadable, Some(r)) => {
                format!("({v} IS NULL AND {r} IS NOT NULL AND trim({r}) <> '')")
            }
            (Check::UnknownEventType, Some(r)) => format!("({v} IS NULL AND {r} IS NOT NULL)"),
            (Check::Unreadable | Check::UnknownEventType, None) => return None,
            (Check::NotFinite, _) => format!("isnan({v}) OR isinf({v})"),
            (Check::Negative, _) => format!("{v} < 0"),
            (Check::Propensity, _) => format!("{v} <= 0 OR {v} > 1"),
        })
    }
}

/// The checks one canonical column gets.
pub(super) fn checks_of(
    name: &str,
    required: bool,
    rule: &Column,
    mapping: &Mapping,
) -> Vec<Check> {
    let mut checks = Vec::new();
    if required {
        checks.push(Check::Missing);
    }
    match rule.parse {
        Parse::Number | Parse::Money => checks.extend([Check::Unreadable, Check::NotFinite]),
        Parse::Timestamp => checks.push(Check::Unreadable),
        Parse::EventType => checks.push(Check::UnknownEventType),
        Parse::Text | Parse::Id => {}
    }
    if matches!(name, "price" | "cost") {
        checks.push(Check::Negative);
    }
    if name == "propensity" {
        checks.push(Check::Propensity);
    }
    let ratings = mapping
        .columns
        .get("event_type")
        .and_then(|e| e.value.as_deref())
        == Some("rating");
    if name == "value" && ratings {
        checks.push(Check::MissingRating);
    }
    checks
}

/// The rule's source column in the sample, as the file has it.
fn raw_sample<'a>(rule: &Column, mapping: &Mapping, src: &'a Source) -> Vec<&'a str> {
    rule.source
        .as_deref()
        .map(|c| mapping.raw_sample_values(src, c))
        .unwrap_or_default()
}

/// `trim(r)` where the sample shows the column's values padded with spaces, else `r`: ids
/// and event types are taken as written otherwise (trimming every value would cost the
/// single pass about a tenth of its time).
fn trimmed_if_padded(r: &str, rule: &Column, mapping: &Mapping, src: &Source) -> String {
    if raw_sample(rule, mapping, src)
        .iter()
        .any(|v| v.trim() != *v)
    {
        format!("trim({r})")
    } else {
        r.to_string()
    }
}

/// SQL converting the raw text column `r` by the rule's parse.
pub(super) fn convert(
    r: &str,
    rule: &Column,
    mapping: &Mapping,
    src: &Source,
    e: Engine,
) -> String {
    match rule.parse {
        // Text is kept as written (as DuckDB, pandas and Polars read it); only ids are trimmed.
        Parse::Text => format!("NULLIF({r}, '')"),
        Parse::Id => id_sql(r, rule, mapping, src, e),
        Parse::Number => e.try_double(r),
        // Plain numbers first (fast path); then currency text ("$1,299.99 "); then a range
        // ("$1,149.99through-$1,499.99", "10 - 12"), of which the low end is kept.
        Parse::Money => format!(
            "coalesce({}, {}, {})",
            e.try_double(r),
            e.try_double(&e.replace_all(r, r"[$€£¥,\s]|USD|EUR|GBP", "")),
            e.try_double(&format!(
                "replace(regexp_extract({r}, {}, 1), ',', '')",
                e.regex(
                    r"^\s*[$€£¥]?\s*([0-9][0-9,]*(\.[0-9]+)?)\s*(through|to|-|–|\s)+[$€£¥]?[0-9]"
                )
            ))
        ),
        Parse::Timestamp => timestamp_expr_in(
            e,
            &format!("trim({r})"),
            rule.format.as_deref().unwrap_or("iso"),
        ),
        Parse::EventType => event_type_sql(r, rule, mapping, src, e),
    }
}

/// An id: trimmed where the sample shows padding; `17850.0` read as `17850` where the
/// sample shows such ids.
fn id_sql(r: &str, rule: &Column, mapping: &Mapping, src: &Source, e: Engine) -> String {
    let id = trimmed_if_padded(r, rule, mapping, src);
    let float_ids = raw_sample(rule, mapping, src)
        .iter()
        .any(|v| v.trim().ends_with(".0"));
    if float_ids {
        format!("NULLIF({}, '')", e.replace_all(&id, r"\.0+$", ""))
    } else {
        format!("NULLIF({id}, '')")
    }
}

/// An event type through the mapping's `[event_types]` (or the canonical names), as a
/// `CASE` with the names the sample shows most first.
fn event_type_sql(r: &str, rule: &Column, mapping: &Mapping, src: &Source, e: Engine) -> String {
    // Without an `[event_types]` table the source already uses the canonical names.
    let canonical: BTreeMap<String, String> = EVENT_TYPES
        .iter()
        .map(|t| (t.to_string(), t.to_string()))
        .collect();
    let table = if mapping.event_types.is_empty() {
        &canonical
    } else {
        &mapping.event_types
    };
    let mut pairs: Vec<(&String, &String)> = table.iter().collect();
    // Values seen in the sample first: CASE stops at the first match.
    let seen: Vec<String> = rule
        .source
        .as_deref()
        .map(|c| mapping.sample_values(src, c))
        .unwrap_or_default();
    let lower_needed = seen.iter().any(|v| v.chars().any(char::is_uppercase));
    pairs.sort_by_key(|(k, _)| std::cmp::Reverse(seen.iter().filter(|v| v == k).count()));
    let key = trimmed_if_padded(r, rule, mapping, src);
    let key = if lower_needed {
        format!("lower({key})")
    } else {
        key
    };
    let whens: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("WHEN {} THEN {}", e.lit(k), e.lit(v)))
        .collect();
    format!("CASE {key} {} END", whens.join(" "))
}
