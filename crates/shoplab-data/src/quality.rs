//! Values that load but deserve a look: refunds and guest rows (kept, and counted so
//! figures can be read with them in mind), prices of 0, timestamps years away from the rest
//! of the log, and rows repeated exactly. Counted per import (the import report, the
//! `imports` row) and over the whole log (the profile), each with the query that lists its
//! rows.

use crate::error::Result;
use crate::row_hashes::{Buckets, Gathered};
use crate::workspace::Workspace;

/// The counts of one import's events, or of the whole log.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ValueChecks {
    /// Refund events: cancellations, returns (a purchase line with a negative quantity
    /// becomes one).
    pub refunds: u64,
    /// Rows without a user (guest checkouts): kept for revenue, pricing and the profile,
    /// left out of splits and so of every recommender.
    pub guest_rows: u64,
    /// Rows with a price of exactly 0.
    pub zero_prices: u64,
    /// Rows more than a year outside the log's 1st–99th percentile of time.
    pub far_times: u64,
    /// Rows identical to an earlier one in every column but the import.
    pub repeated: u64,
}

/// One suspicious count with the SQL that lists its rows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Finding {
    pub what: String,
    pub rows: u64,
    pub query: String,
}

/// The log's central range of time (1st and 99th percentile) of the events `filter` selects.
fn range_sql(filter: &str) -> String {
    format!(
        "SELECT quantile_disc(event_time, 0.01) AS lo, quantile_disc(event_time, 0.99) AS hi \
         FROM events WHERE {filter}"
    )
}

/// The row-level checks: what each counts, and its condition on `events` (with `r`, the
/// range of [`range_sql`], joined). One definition serves the count and the listing query.
const ROW_CHECKS: [(&str, &str); 4] = [
    ("refunds", "event_type = 'refund'"),
    ("guest rows (no user)", "user_id IS NULL"),
    ("prices of 0", "price = 0"),
    (
        "timestamps a year or more outside the log's range",
        "(event_time < r.lo - INTERVAL 365 DAY OR event_time > r.hi + INTERVAL 365 DAY)",
    ),
];

/// The far-off timestamps' place in [`ROW_CHECKS`]: the one check that needs the range.
const FAR_TIMES: usize = 3;

/// The columns that make two events the same row (all but the import).
const ROW_COLUMNS: &str =
    "event_time, user_id, item_id, event_type, session_id, price, quantity, value";

impl ValueChecks {
    /// The counts of the events `filter` selects (an SQL condition on `events`). Exact, in
    /// one or two scans that hold little: the plain counts with the time span (no row can
    /// be a year outside a range when the whole log spans less than a year, so the
    /// percentiles are computed only when it spans more), and in the same scan a 64-bit
    /// hash of each row, gathered from DuckDB's vectors into buckets here (8 bytes a row,
    /// where a DISTINCT over the rows held every row: ~1 GB and ~1.7 s for 10M events);
    /// the rows whose hash is seen more than once are then compared column by column, so
    /// two different rows of one hash are never taken for a repeat.
    fn count(ws: &Workspace, filter: &str) -> Result<Self> {
        let conn = ws.connection();
        let counts: Vec<String> = ROW_CHECKS[..FAR_TIMES]
            .iter()
            .map(|(_, cond)| format!("count(*) FILTER (WHERE {cond})"))
            .collect();
        // The last column's count is not read: computing it gathers the rows' hashes.
        let hashes = Gathered::start();
        let sql = format!(
            "SELECT {}, coalesce(max(event_time) - min(event_time) > INTERVAL 365 DAY, false),
                    count({})
             FROM events WHERE {filter}",
            counts.join(", "),
            hashes.call(ROW_COLUMNS)
        );
        let (refunds, guest_rows, zero_prices, long) = conn.query_row(&sql, [], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, bool>(3)?,
            ))
        })?;
        let far_times: i64 = match long {
            true => conn.query_row(
                &format!(
                    "SELECT count(*) FROM events e CROSS JOIN ({range}) r WHERE {filter} AND {far}",
                    range = range_sql(filter),
                    far = ROW_CHECKS[FAR_TIMES].1
                ),
                [],
                |r| r.get(0),
            )?,
            false => 0,
        };
        let count = |n: i64| n.max(0) as u64;
        Ok(ValueChecks {
            refunds: count(refunds),
            guest_rows: count(guest_rows),
            zero_prices: count(zero_prices),
            far_times: count(far_times),
            repeated: repeated_rows(ws, filter, hashes.finish())?,
        })
    }

    /// The counts of import `import_id`'s events.
    pub fn of_import(ws: &Workspace, import_id: i64) -> Result<Self> {
        Self::count(ws, &format!("import_id = {import_id}"))
    }

    /// The counts of the whole event log.
    pub fn of_log(ws: &Workspace) -> Result<Self> {
        Self::count(ws, "true")
    }

    /// The non-zero counts, each with a query listing its rows (of import `import_id`, or
    /// of the whole log): the condition it was counted by.
    pub fn findings(&self, import_id: Option<i64>) -> Vec<Finding> {
        let filter = import_id.map_or_else(|| "true".to_string(), |id| format!("import_id = {id}"));
        let rows = [
            self.refunds,
            self.guest_rows,
            self.zero_prices,
            self.far_times,
        ];
        let mut found: Vec<Finding> = ROW_CHECKS
            .iter()
            .zip(rows)
            .map(|((what, cond), rows)| Finding {
                what: (*what).to_string(),
                rows,
                query: format!(
                    "SELECT e.* FROM events e, ({range}) r WHERE {filter} AND {cond}",
                    range = range_sql(&filter)
                ),
            })
            .collect();
        found.push(Finding {
            what: "rows repeated exactly".into(),
            rows: self.repeated,
            query: format!(
                "SELECT {ROW_COLUMNS}, count(*) AS copies FROM events WHERE {filter} GROUP BY ALL HAVING count(*) > 1"
            ),
        });
        found.retain(|f| f.rows > 0);
        found
    }
}

/// Rows of the events `filter` selects identical to an earlier one in every column of
/// [`ROW_COLUMNS`], given the hashes of those columns.
fn repeated_rows(ws: &Workspace, filter: &str, hashes: Buckets) -> Result<u64> {
    let conn = ws.connection();
    let key = format!("hash({ROW_COLUMNS})");
    let seen = hashes.repeated();
    if seen.is_empty() {
        return Ok(0);
    }
    // The rows of the hashes seen more than once, compared column by column.
    conn.execute_batch(&format!(
        "DROP TABLE IF EXISTS temp.{SEEN}; CREATE TEMP TABLE {SEEN}(k UBIGINT)"
    ))?;
    {
        let mut app = conn.appender(SEEN)?;
        for k in &seen {
            app.append_row([k])?;
        }
    }
    let n: Result<i64> = conn
        .query_row(
            &format!(
                "WITH rows AS (SELECT {ROW_COLUMNS} FROM events
                               WHERE {filter} AND {key} IN (SELECT k FROM temp.{SEEN}))
                 SELECT count(*) - (SELECT count(*) FROM (SELECT DISTINCT * FROM rows)) FROM rows"
            ),
            [],
            |r| r.get(0),
        )
        .map_err(Into::into);
    conn.execute_batch(&format!("DROP TABLE IF EXISTS temp.{SEEN}"))?;
    Ok(n?.max(0) as u64)
}

/// The scratch table of the hashes seen more than once.
const SEEN: &str = "_shoplab_seen_hashes";
