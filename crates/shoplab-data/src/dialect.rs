//! The queries that must scale, once per engine and side by side: the event log's profile
//! figures in DuckDB's SQL (the workspace) and in Spark SQL (a cluster, through Spark
//! Connect), both over a relation `events` with the workspace's canonical columns
//! (`event_time`, `user_id`, `item_id`, `event_type`, `session_id`, `price`, `quantity`,
//! `value`). Each pair returns the same columns in the same order; `shoplab-spark`'s tests run
//! every pair on the same data and assert the same answer.
//!
//! Where the dialects differ: Spark has no `quantile_disc` (`percentile_disc(q) WITHIN GROUP`),
//! no `::` casts, no `epoch()` of an interval (`unix_micros` of each end), and it reads a
//! DuckDB timestamp from Parquet as `TIMESTAMP_NTZ` (cast to `TIMESTAMP` under a UTC session).
//! Sums of money are rounded to 6 decimals in both, so that the engines' different orders of
//! summation do not show.

/// One query in both dialects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    pub name: &'static str,
    pub duckdb: &'static str,
    pub spark: &'static str,
}

/// Events, users, items, sessions; the first and last event time (text), the days between
/// them; the mean rating.
pub const TOTALS: Pair = Pair {
    name: "totals",
    duckdb: "SELECT count(*), count(DISTINCT user_id), count(DISTINCT item_id), count(DISTINCT session_id),
                    CAST(min(event_time) AS VARCHAR), CAST(max(event_time) AS VARCHAR),
                    epoch(max(event_time) - min(event_time)) / 86400.0,
                    round(avg(value) FILTER (WHERE event_type = 'rating'), 9)
             FROM events",
    spark: "SELECT count(*), count(DISTINCT user_id), count(DISTINCT item_id), count(DISTINCT session_id),
                   CAST(min(event_time) AS STRING), CAST(max(event_time) AS STRING),
                   (unix_micros(CAST(max(event_time) AS TIMESTAMP))
                     - unix_micros(CAST(min(event_time) AS TIMESTAMP))) / 86400000000.0,
                   round(avg(value) FILTER (WHERE event_type = 'rating'), 9)
            FROM events",
};

/// Per event type: events and distinct users, most events first (the same SQL in both).
pub const BY_TYPE: Pair = same(
    "by_type",
    "SELECT event_type, count(*), count(DISTINCT user_id) FROM events GROUP BY 1 ORDER BY 2 DESC, 1",
);

/// Over distinct (user, item) pairs: all, viewed, carted, purchased, viewed and carted,
/// carted and purchased, viewed and purchased (the same SQL in both).
pub const FUNNEL: Pair = same(
    "funnel",
    "WITH p AS (SELECT user_id, item_id,
                       bool_or(event_type = 'view') AS v, bool_or(event_type = 'cart') AS c,
                       bool_or(event_type = 'purchase') AS b
                FROM events WHERE item_id IS NOT NULL AND user_id IS NOT NULL GROUP BY 1, 2)
     SELECT count(*), count(*) FILTER (WHERE v), count(*) FILTER (WHERE c), count(*) FILTER (WHERE b),
            count(*) FILTER (WHERE v AND c), count(*) FILTER (WHERE c AND b), count(*) FILTER (WHERE v AND b)
     FROM p",
);

/// A query both dialects read alike.
const fn same(name: &'static str, sql: &'static str) -> Pair {
    Pair {
        name,
        duckdb: sql,
        spark: sql,
    }
}

/// The value of purchases and of refunds.
pub const REVENUE: Pair = Pair {
    name: "revenue",
    duckdb: "SELECT round(coalesce(sum(value) FILTER (WHERE event_type = 'purchase'), 0), 6),
                    round(coalesce(sum(value) FILTER (WHERE event_type = 'refund'), 0), 6)
             FROM events",
    spark: "SELECT CAST(round(coalesce(sum(value) FILTER (WHERE event_type = 'purchase'), 0), 6) AS DOUBLE),
                   CAST(round(coalesce(sum(value) FILTER (WHERE event_type = 'refund'), 0), 6) AS DOUBLE)
            FROM events",
};

/// The columns a count of events can be taken per ([`events_per`]).
pub const PER: [&str; 2] = ["user_id", "item_id"];

/// Quantiles (min, p25, p50, p75, p90, p99, max, mean) of the number of events per `key`
/// (`user_id` or `item_id`), as (DuckDB, Spark) SQL.
pub fn events_per(key: &str) -> (String, String) {
    assert!(PER.contains(&key), "events per {key}: not a key of events");
    let duckdb = format!(
        "SELECT min(n), quantile_disc(n, 0.25), quantile_disc(n, 0.5), quantile_disc(n, 0.75),
                quantile_disc(n, 0.9), quantile_disc(n, 0.99), max(n), round(avg(n), 9)
         FROM (SELECT count(*)::DOUBLE AS n FROM events WHERE {key} IS NOT NULL GROUP BY {key})"
    );
    let q = |p: &str| format!("percentile_disc({p}) WITHIN GROUP (ORDER BY n)");
    let spark = format!(
        "SELECT min(n), {}, {}, {}, {}, {}, max(n), round(avg(n), 9)
         FROM (SELECT CAST(count(*) AS DOUBLE) AS n FROM events WHERE {key} IS NOT NULL GROUP BY {key})",
        q("0.25"),
        q("0.5"),
        q("0.75"),
        q("0.9"),
        q("0.99")
    );
    (duckdb, spark)
}
