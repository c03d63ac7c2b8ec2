//! Mappings from an export's columns to the workspace's canonical tables: the mapping type,
//! its TOML form (print it, edit it, pass it back), its checks against a file, and the
//! dispatcher that proposes one for a file from the recognized export formats
//! (`crate::formats`, tried in the order of their one list).

use std::collections::BTreeMap;

use duckdb::Connection;
use serde::{Deserialize, Serialize};

pub use crate::canonical::{Column, Parse, Target};
use crate::error::{DataError, Result};
pub use crate::formats::default_event_types;
use crate::formats::{Format, Proposal, Shape, unknown};
use crate::schema::EVENT_TYPES;
use crate::source::{CsvDialect, Source};
pub use crate::timestamps::detect_time_format;

/// How to read a file and what each canonical column comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The recognized export shape (`rees46`, `retailrocket`, `taobao`, `movielens`, `recbole`,
    /// `ratings`, `obd`, `invoices`, `catalog`, `users`, `reviews`, `events`).
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

    /// Reads a mapping; an error names the line and column (TOML syntax, unknown keys and
    /// variants with the valid ones, unknown columns and event types).
    pub fn from_toml(text: &str) -> Result<Self> {
        let m: Mapping = toml::from_str(text).map_err(|e| DataError::Mapping(e.to_string()))?;
        m.check_names().map_err(|(key, message)| {
            DataError::Mapping(match locate(text, &key) {
                Some((line, column)) => format!("line {line}, column {column}: {message}"),
                None => message,
            })
        })?;
        Ok(m)
    }

    fn validate_self(&self) -> Result<()> {
        self.check_names()
            .map_err(|(_, message)| DataError::Mapping(message))
    }

    /// The first canonical column or event type the mapping names that does not exist:
    /// (the key as written, the message).
    fn check_names(&self) -> std::result::Result<(), (String, String)> {
        let known: Vec<&str> = self.target.columns().iter().map(|c| c.0).collect();
        for name in self.columns.keys() {
            if !known.contains(&name.as_str()) {
                return Err((
                    name.clone(),
                    format!(
                        "'{name}' is not a column of {} (expected one of: {})",
                        self.target.table(),
                        known.join(", ")
                    ),
                ));
            }
        }
        for (src, dst) in &self.event_types {
            if !EVENT_TYPES.contains(&dst.as_str()) {
                return Err((
                    src.clone(),
                    format!(
                        "event type '{src}' maps to '{dst}', which is not one of: {}",
                        EVENT_TYPES.join(", ")
                    ),
                ));
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
            // An event's user may be missing (a guest's row), but the mapping must say
            // where users come from: a log without any is more likely a wrong mapping.
            let named = *required || (self.target == Target::Events && *name == "user_id");
            if named && rule.is_none() && !generated {
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
            .map(|i| src.sample_column(i))
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

/// Recognizes the export shape of `src` and proposes a mapping. `kind` restricts the target.
pub fn detect(conn: &Connection, src: &Source, kind: Option<Target>) -> Result<Mapping> {
    let shape = Shape::new(src, kind);
    let Some(format) = Format::ALL
        .into_iter()
        .filter(|f| kind.is_none_or(|k| k == f.target()))
        .find(|f| f.recognizes(&shape))
    else {
        let what = match kind {
            Some(k) => format!("nothing in it maps to {}", k.table()),
            None => "it matches none of the known exports".to_string(),
        };
        return Err(unknown(src, &what));
    };
    let mut mapping = Mapping::proposed(src, format, format.propose(&shape)?);
    mapping.detect_time_formats(conn, src)?;
    mapping.validate(src)?;
    Ok(mapping)
}

impl Mapping {
    /// The mapping a format proposes for `src`, with the event names it knows.
    fn proposed(src: &Source, format: Format, proposal: Proposal) -> Mapping {
        let Proposal {
            columns,
            names,
            extra,
        } = proposal;
        let event_types = if columns.values().any(|c| c.parse == Parse::EventType) {
            default_event_types()
        } else {
            BTreeMap::new()
        };
        Mapping {
            format: format.name().to_string(),
            target: format.target(),
            csv: src.dialect.clone(),
            encoding: Some(src.encoding.clone()),
            names,
            columns,
            event_types,
            extra,
        }
    }

    /// Gives each timestamp column without a format the one its sample values are written in.
    fn detect_time_formats(&mut self, conn: &Connection, src: &Source) -> Result<()> {
        let pending: Vec<(String, Option<String>)> = self
            .columns
            .iter()
            .filter(|(_, r)| r.parse == Parse::Timestamp && r.format.is_none())
            .map(|(k, r)| (k.clone(), r.source.clone()))
            .collect();
        for (key, source) in pending {
            let format = match &source {
                Some(s) => detect_time_format(conn, &self.sample_values(src, s)).map_err(|m| {
                    DataError::BadInput {
                        path: src.path.clone(),
                        message: format!("column '{s}': {m}"),
                    }
                })?,
                None => "iso".to_string(),
            };
            if let Some(rule) = self.columns.get_mut(&key) {
                rule.format = Some(format);
            }
        }
        Ok(())
    }
}

/// Where `key` is written in a TOML text, 1-based (line, column): as a key (`key =`,
/// `key.x =`, quoted or not) or in a table header (`[columns.key]`).
fn locate(text: &str, key: &str) -> Option<(usize, usize)> {
    let forms = [key.to_string(), format!("\"{key}\""), format!("'{key}'")];
    text.lines().enumerate().find_map(|(i, line)| {
        let body = line.trim_start();
        let indent = line.len() - body.len();
        if let Some(header) = body.strip_prefix('[') {
            let inner = header.trim_start_matches('[').split(']').next()?;
            let last = inner.rsplit('.').next()?.trim();
            if forms.iter().any(|f| f == last) {
                let at = line.find(last)?;
                return Some((i + 1, at + 1));
            }
            return None;
        }
        forms.iter().find_map(|f| {
            let rest = body.strip_prefix(f.as_str())?.trim_start();
            (rest.starts_with('=') || rest.starts_with('.')).then_some((i + 1, indent + 1))
        })
    })
}
