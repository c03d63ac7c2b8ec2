//! Rejected rows: the CSV reader's own (structural) and those that failed a check
//! (semantic), kept in `import_rejects` with their line, column and reason.

use duckdb::params;

use crate::error::Result;
use crate::source::{FileKind, Source};
use crate::workspace::Workspace;

use super::report::Reject;
use super::scratch::{REJ_ERR, STAGE};

impl Workspace {
    /// Copies the CSV reader's rejects; returns their distinct line numbers, sorted.
    pub(super) fn structural_rejects(&self, src: &Source, import_id: i64) -> Result<Vec<u64>> {
        if src.kind != FileKind::Csv {
            return Ok(Vec::new());
        }
        let conn = self.connection();
        conn.execute_batch(&format!(
            "INSERT INTO import_rejects
             SELECT {import_id}, line, min(column_name),
                    string_agg(DISTINCT lower(replace(CAST(error_type AS VARCHAR), '_', ' ')) || ': ' || error_message, '; '),
                    any_value(csv_line)
             FROM {REJ_ERR} GROUP BY line ORDER BY line"
        ))?;
        let mut stmt = conn.prepare(&format!(
            "SELECT DISTINCT line FROM {REJ_ERR} ORDER BY line"
        ))?;
        let lines = stmt
            .query_map([], |r| r.get::<_, i64>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(lines.into_iter().map(|l| l as u64).collect())
    }

    /// Copies rows that failed a check; their line is computed from the record number.
    pub(super) fn semantic_rejects(
        &self,
        src: &Source,
        import_id: i64,
        structural: &[u64],
    ) -> Result<u64> {
        let conn = self.connection();
        let mut stmt = conn.prepare(&format!(
            "SELECT rowid, _reason, _raw FROM {STAGE} WHERE _reason IS NOT NULL ORDER BY rowid"
        ))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let base = first_record_line(src);
        let mut app = conn.appender("import_rejects")?;
        let mut j = 0;
        let mut skipped = 0u64;
        for (rowid, reason, raw) in &rows {
            // Record k (0-based) sits on line base + k + 1, pushed down by rejected lines above it.
            let mut line = base + *rowid as u64 + 1 + skipped;
            while j < structural.len() && structural[j] <= line {
                j += 1;
                skipped += 1;
                line += 1;
            }
            let line = (src.kind != FileKind::Parquet).then_some(line as i64);
            let column = reason.split(':').next().unwrap_or("").to_string();
            app.append_row(params![import_id, line, column, reason, raw])?;
        }
        app.flush()?;
        Ok(rows.len() as u64)
    }

    /// Rejected rows of one import, in file order.
    pub fn rejects(&self, import_id: i64, limit: usize) -> Result<Vec<Reject>> {
        let mut stmt = self.connection().prepare(
            "SELECT line, column_name, reason, raw FROM import_rejects WHERE import_id = ? ORDER BY line NULLS LAST LIMIT ?",
        )?;
        let rows = stmt
            .query_map(params![import_id, limit as i64], |r| {
                Ok(Reject {
                    line: r.get::<_, Option<i64>>(0)?.map(|l| l as u64),
                    column: r.get(1)?,
                    reason: r.get(2)?,
                    raw: r.get(3)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

/// The line of the first record: after the skipped lines and the header of a CSV file.
pub(super) fn first_record_line(src: &Source) -> u64 {
    match (&src.kind, &src.dialect) {
        (FileKind::Csv, Some(d)) => d.skip + u64::from(d.header),
        (FileKind::Csv, None) | (FileKind::Parquet | FileKind::Ndjson, _) => 0,
    }
}
