//! Values that load but deserve a look: refunds and guest rows (kept, and counted so
//! figures can be read with them in mind), prices of 0, timestamps years away from the rest
//! of the log, and rows repeated exactly. Counted per import (the import report, the
//! `imports` row) and over the whole log (the profile), each with the query that lists its
//! rows.

use crate::error::Result;
use crate::workspace::Workspace;

/// How far outside the log's central range (its 1st to 99th percentile of time) an event
/// must lie to count as far off: a year.
pub const FAR_DAYS: i64 = 365;

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
    /// Rows more than [`FAR_DAYS`] days outside the log's 1st–99th percentile of time.
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

impl ValueChecks {
    /// The counts of the events `filter` selects (an SQL condition on `events`).
    fn count(ws: &Workspace, filter: &str) -> Result<Self> {
        let sql = format!(
            "WITH e AS (SELECT * FROM events WHERE {filter}),
                  r AS (SELECT quantile_disc(event_time, 0.01) AS lo, quantile_disc(event_time, 0.99) AS hi FROM e)
             SELECT
               count(*) FILTER (WHERE event_type = 'refund'),
               count(*) FILTER (WHERE user_id IS NULL),
               count(*) FILTER (WHERE price = 0),
               count(*) FILTER (WHERE event_time < r.lo - INTERVAL {FAR_DAYS} DAY
                                   OR event_time > r.hi + INTERVAL {FAR_DAYS} DAY),
               count(*) - (SELECT count(*) FROM (SELECT DISTINCT event_time, user_id, item_id, event_type,
                                                   session_id, price, quantity, value FROM e))
             FROM e CROSS JOIN r"
        );
        let n = ws.connection().query_row(&sql, [], |r| {
            Ok([
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
            ])
        })?;
        let [refunds, guest_rows, zero_prices, far_times, repeated] = n.map(|v| v.max(0) as u64);
        Ok(ValueChecks {
            refunds,
            guest_rows,
            zero_prices,
            far_times,
            repeated,
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
    /// of the whole log).
    pub fn findings(&self, import_id: Option<i64>) -> Vec<Finding> {
        let scope = import_id
            .map(|id| format!("import_id = {id} AND "))
            .unwrap_or_default();
        let within = import_id
            .map(|id| format!(" WHERE import_id = {id}"))
            .unwrap_or_default();
        let far = format!(
            "WITH r AS (SELECT quantile_disc(event_time, 0.01) AS lo, quantile_disc(event_time, 0.99) AS hi FROM events{within}) \
             SELECT e.* FROM events e, r WHERE {scope}(event_time < r.lo - INTERVAL {FAR_DAYS} DAY OR event_time > r.hi + INTERVAL {FAR_DAYS} DAY)"
        );
        let repeated = format!(
            "SELECT event_time, user_id, item_id, event_type, session_id, price, quantity, value, count(*) AS copies \
             FROM events{within} GROUP BY ALL HAVING count(*) > 1"
        );
        [
            (
                "refunds",
                self.refunds,
                format!("SELECT * FROM events WHERE {scope}event_type = 'refund'"),
            ),
            (
                "guest rows (no user)",
                self.guest_rows,
                format!("SELECT * FROM events WHERE {scope}user_id IS NULL"),
            ),
            (
                "prices of 0",
                self.zero_prices,
                format!("SELECT * FROM events WHERE {scope}price = 0"),
            ),
            (
                "timestamps a year or more outside the log's range",
                self.far_times,
                far,
            ),
            ("rows repeated exactly", self.repeated, repeated),
        ]
        .into_iter()
        .filter(|(_, n, _)| *n > 0)
        .map(|(what, rows, query)| Finding {
            what: what.to_string(),
            rows,
            query,
        })
        .collect()
    }
}
