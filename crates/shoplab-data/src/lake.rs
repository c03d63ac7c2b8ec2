//! A workspace's log as a lake: hive-partitioned Parquet written by DuckDB's
//! `COPY … PARTITION_BY`, which Spark (`shoplab-spark`), DuckDB or pandas read back: the
//! events in `events/` partitioned by the columns asked for, the items and users as
//! `items.parquet` and `users.parquet`.

use std::path::{Path, PathBuf};

use crate::error::{DataError, Result};
use crate::workspace::Workspace;

/// What the events can be partitioned by: their type, or their day, year or month (derived
/// from `event_time`).
pub const PARTITIONS: [&str; 4] = ["event_type", "event_date", "year", "month"];

/// One table written.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LakeTable {
    pub table: String,
    pub rows: u64,
    /// A folder of partitions, or one file.
    pub path: PathBuf,
}

impl Workspace {
    /// Writes the events (partitioned by `partition_by`, each one of [`PARTITIONS`]), the
    /// items and the users under `dir`, which must be new or empty: nothing is overwritten.
    pub fn export_lake(&self, dir: &Path, partition_by: &[String]) -> Result<Vec<LakeTable>> {
        let bad = |message: String| DataError::BadInput {
            path: dir.to_path_buf(),
            message,
        };
        if let Some(p) = partition_by
            .iter()
            .find(|p| !PARTITIONS.contains(&p.as_str()))
        {
            return Err(bad(format!(
                "--partition-by {p}: not a partition of the events (one of {})",
                PARTITIONS.join(", ")
            )));
        }
        if std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some()) {
            return Err(bad(
                "not empty (a lake export writes into a new or empty folder)".into(),
            ));
        }
        std::fs::create_dir_all(dir).map_err(|e| DataError::Io {
            context: format!("creating {}", dir.display()),
            source: e,
        })?;
        let derived: Vec<&str> = partition_by
            .iter()
            .filter_map(|p| match p.as_str() {
                "event_date" => Some("CAST(event_time AS DATE) AS event_date"),
                "year" => Some("year(event_time) AS year"),
                "month" => Some("month(event_time) AS month"),
                _ => None,
            })
            .collect();
        let columns = std::iter::once(
            "event_time, user_id, item_id, event_type, session_id, price, quantity, value, category, brand",
        )
        .chain(derived)
        .collect::<Vec<_>>()
        .join(", ");
        let quote = |p: &Path| p.display().to_string().replace('\'', "''");
        let events = dir.join("events");
        let options = if partition_by.is_empty() {
            "FORMAT parquet".to_string()
        } else {
            format!("FORMAT parquet, PARTITION_BY ({})", partition_by.join(", "))
        };
        let conn = self.connection();
        let mut out = Vec::new();
        let mut copy = |table: &str, sql: String, path: PathBuf| -> Result<()> {
            let rows = conn.execute(&sql, []).map_err(|e| DataError::Io {
                context: format!("writing {}", path.display()),
                source: std::io::Error::other(e.to_string()),
            })?;
            out.push(LakeTable {
                table: table.to_string(),
                rows: rows as u64,
                path,
            });
            Ok(())
        };
        let target = if partition_by.is_empty() {
            events.join("events.parquet")
        } else {
            events.clone()
        };
        if partition_by.is_empty() {
            std::fs::create_dir_all(&events).map_err(|e| DataError::Io {
                context: format!("creating {}", events.display()),
                source: e,
            })?;
        }
        copy(
            "events",
            format!(
                "COPY (SELECT {columns} FROM events ORDER BY event_time, user_id) TO '{}' ({options})",
                quote(&target)
            ),
            events,
        )?;
        for table in ["items", "users"] {
            let path = dir.join(format!("{table}.parquet"));
            copy(
                table,
                format!(
                    "COPY (SELECT * FROM {table}) TO '{}' (FORMAT parquet)",
                    quote(&path)
                ),
                path,
            )?;
        }
        Ok(out)
    }
}
