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

/// The rows a split reads (`user_id`, `item_id`, `value`, `event_time`): events of `types`
/// with a user and an item, and a value of at least `min_value` when given (the same SQL in
/// both).
pub fn split_source(types: &[String], min_value: Option<f64>) -> String {
    let list = types
        .iter()
        .map(|t| format!("'{}'", t.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ");
    let min = min_value
        .map(|m| format!(" AND value >= {m}"))
        .unwrap_or_default();
    format!(
        "SELECT user_id, item_id, value, event_time FROM events
         WHERE event_type IN ({list}) AND item_id IS NOT NULL AND user_id IS NOT NULL{min}"
    )
}

/// One pass of a k-core: the rows of `from` whose user and item both have at least `k` rows
/// in it (applied until no row goes; the same SQL in both). Counted by windows, so that a
/// pass reads `from` once and a chain of passes stays linear on a lazy engine.
pub fn k_core_pass(from: &str, k: u32) -> String {
    format!(
        "SELECT user_id, item_id, value, event_time FROM (
           SELECT *, count(*) OVER (PARTITION BY user_id) AS per_user,
                     count(*) OVER (PARTITION BY item_id) AS per_item
           FROM {from}) counted
         WHERE per_user >= {k} AND per_item >= {k}"
    )
}

/// The hashed split's key of a row of `from`, as (DuckDB, Spark) SQL: the first 15 hex digits
/// (60 bits, so a BIGINT ≥ 0 in both) of the SHA-256 of `seed|user|item|time in epoch ms`
/// (an absent time is the empty text). Both engines give the same number for the same row.
pub fn split_key(seed: u64) -> (String, String) {
    (
        format!(
            "('0x' || substr(sha256(concat_ws('|', '{seed}', user_id, item_id,
                coalesce(CAST(epoch_ms(event_time) AS VARCHAR), ''))), 1, 15))::BIGINT"
        ),
        format!(
            "CAST(conv(substr(sha2(concat_ws('|', '{seed}', user_id, item_id,
                coalesce(CAST(unix_millis(CAST(event_time AS TIMESTAMP)) AS STRING), '')), 256), 1, 15), 16, 10) AS BIGINT)"
        ),
    )
}

/// An item's key for the cold hold-out: as [`split_key`] over `seed|cold|item`.
fn cold_key(seed: u64) -> (String, String) {
    (
        format!(
            "('0x' || substr(sha256(concat_ws('|', '{seed}', 'cold', item_id)), 1, 15))::BIGINT"
        ),
        format!(
            "CAST(conv(substr(sha2(concat_ws('|', '{seed}', 'cold', item_id), 256), 1, 15), 16, 10) AS BIGINT)"
        ),
    )
}

/// The hashed split of `from`'s rows, as (DuckDB, Spark) SQL returning `user_id`, `item_id`,
/// `value`, `event_time`, `part` (`train`, `valid` or `test`).
///
/// Per user, rows are ordered by [`split_key`] (ties by item, time, value); of a user's `n`
/// rows the last `⌊test·n + ½⌋` test and the `⌊valid·n + ½⌋` before them validate, keeping at
/// least one to train. With `cold_items`, the items are ordered by their own key and the
/// first `⌊f·items + ½⌋` are held out: every row of theirs tests. Fractions are written as
/// decimals, so both engines compute the cuts exactly; the engines differ only in the hash's
/// spelling.
pub fn hashed_split(
    from: &str,
    seed: u64,
    valid: f64,
    test: f64,
    cold_items: Option<f64>,
) -> (String, String) {
    let body = |key: &str, cold_key: &str| {
        let (cold_ctes, cold_join, cold_case) = match cold_items {
            Some(f) => (
                format!(
                    ", items AS (SELECT item_id AS cold_item, {cold_key} AS ik
                                 FROM (SELECT DISTINCT item_id FROM {from}) d),
                     ranked_items AS (SELECT cold_item, ik,
                                             row_number() OVER (ORDER BY ik, cold_item) AS ipos,
                                             count(*) OVER () AS ni FROM items),
                     cold AS (SELECT cold_item FROM ranked_items WHERE ipos <= floor({f} * ni + 0.5))"
                ),
                " LEFT JOIN cold ON cut.item_id = cold.cold_item",
                "WHEN cold.cold_item IS NOT NULL THEN 'test' ",
            ),
            None => (String::new(), "", ""),
        };
        format!(
            "WITH keyed AS (SELECT user_id, item_id, value, event_time, {key} AS k FROM {from}),
             ranked AS (SELECT *, row_number() OVER (PARTITION BY user_id
                                    ORDER BY k, item_id, event_time NULLS LAST, value NULLS LAST) AS pos,
                               count(*) OVER (PARTITION BY user_id) AS n
                        FROM keyed),
             tested AS (SELECT *, least(floor({test} * n + 0.5), n - 1) AS n_test FROM ranked),
             cut AS (SELECT *, least(floor({valid} * n + 0.5), n - 1 - n_test) AS n_valid FROM tested)
             {cold_ctes}
             SELECT cut.user_id, cut.item_id, cut.value, cut.event_time,
                    CASE {cold_case}WHEN pos <= n - n_valid - n_test THEN 'train'
                         WHEN pos <= n - n_test THEN 'valid' ELSE 'test' END AS part
             FROM cut{cold_join}"
        )
    };
    let (key, cold) = (split_key(seed), cold_key(seed));
    (body(&key.0, &cold.0), body(&key.1, &cold.1))
}

/// Which SQL an expression builder writes: the workspace's (DuckDB) or a cluster's (Spark).
/// The import's conversions and checks (the `import` module) are built once through these
/// spellings, so their reject reasons are the same text on both engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    #[default]
    DuckDb,
    Spark,
}

impl Engine {
    /// A string literal. Spark reads backslash escapes in literals and takes `''` for two
    /// adjacent literals, so there a quote is `\'` and a backslash `\\`.
    pub fn lit(self, s: &str) -> String {
        match self {
            Engine::DuckDb => format!("'{}'", s.replace('\'', "''")),
            Engine::Spark => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        }
    }

    /// A quoted identifier.
    pub fn ident(self, s: &str) -> String {
        match self {
            Engine::DuckDb => format!("\"{}\"", s.replace('"', "\"\"")),
            Engine::Spark => format!("`{}`", s.replace('`', "``")),
        }
    }

    /// A regular expression as a literal. Written with `\s`, not POSIX classes: RE2 (DuckDB)
    /// and Java (Spark) both read `\s`, only RE2 reads `[[:space:]]`.
    pub fn regex(self, re: &str) -> String {
        self.lit(re)
    }

    /// The text type's name.
    pub fn text(self) -> &'static str {
        match self {
            Engine::DuckDb => "VARCHAR",
            Engine::Spark => "STRING",
        }
    }

    /// A canonical column type (`VARCHAR`, `DOUBLE`, `TIMESTAMP`) in this engine.
    pub fn ty(self, ty: &str) -> &str {
        if ty == "VARCHAR" { self.text() } else { ty }
    }

    /// `x` read as a DOUBLE, NULL where it is not a number. Java reads more as numbers than
    /// DuckDB does (`1d`, `0x1p3`): on Spark only a plain decimal, exponent, inf or nan is.
    pub fn try_double(self, x: &str) -> String {
        match self {
            Engine::DuckDb => format!("TRY_CAST({x} AS DOUBLE)"),
            Engine::Spark => format!(
                "CASE WHEN {x} RLIKE '^\\\\s*[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?\\\\s*$'
                        OR lower(trim({x})) IN ('inf', '+inf', '-inf', 'infinity', '+infinity', '-infinity', 'nan')
                      THEN try_cast({x} AS DOUBLE) END"
            ),
        }
    }

    /// Whether the DOUBLE `c` is infinite.
    pub fn is_inf(self, c: &str) -> String {
        match self {
            Engine::DuckDb => format!("isinf({c})"),
            Engine::Spark => format!("abs({c}) = double('Infinity')"),
        }
    }

    /// Whether `x` matches the regex `re` whole.
    pub fn full_match(self, x: &str, re: &str) -> String {
        match self {
            Engine::DuckDb => format!("regexp_full_match({x}, {})", self.regex(re)),
            Engine::Spark => format!("{x} RLIKE {}", self.regex(&format!("^(?:{re})$"))),
        }
    }

    /// Every match of `re` in `x` replaced by `with`.
    pub fn replace_all(self, x: &str, re: &str, with: &str) -> String {
        match self {
            Engine::DuckDb => format!(
                "regexp_replace({x}, {}, {}, 'g')",
                self.regex(re),
                self.lit(with)
            ),
            Engine::Spark => format!(
                "regexp_replace({x}, {}, {})",
                self.regex(re),
                self.lit(with)
            ),
        }
    }

    /// Lowercase hex SHA-256 of the text `x`.
    pub fn sha256(self, x: &str) -> String {
        match self {
            Engine::DuckDb => format!("sha256({x})"),
            Engine::Spark => format!("sha2({x}, 256)"),
        }
    }

    /// A TIMESTAMP from whole µs since the epoch in the DOUBLE `x`; from ms.
    pub fn from_epoch(self, x: &str, unit_ms: bool) -> String {
        match (self, unit_ms) {
            (Engine::DuckDb, false) => {
                format!("make_timestamp(CAST({x} * 1000000 AS BIGINT))")
            }
            (Engine::DuckDb, true) => format!("epoch_ms(CAST({x} AS BIGINT))"),
            // DuckDB rounds a DOUBLE cast to BIGINT; Spark truncates.
            (Engine::Spark, false) => {
                format!("timestamp_micros(CAST(round({x} * 1000000) AS BIGINT))")
            }
            (Engine::Spark, true) => format!("timestamp_millis(CAST(round({x}) AS BIGINT))"),
        }
    }

    /// `x` read by the strftime format `fmt` (NULL when it does not parse). Spark takes a
    /// datetime pattern: the strftime specifiers ShopLab recognizes are translated; `None`
    /// where `fmt` has one Spark has no pattern for.
    pub fn strptime(self, x: &str, fmt: &str) -> Option<String> {
        match self {
            Engine::DuckDb => Some(format!("try_strptime({x}, {})", self.lit(fmt))),
            Engine::Spark => Some(format!(
                "try_to_timestamp({x}, {})",
                self.lit(&spark_pattern(fmt)?)
            )),
        }
    }
}

/// A strftime format as a Spark datetime pattern (`%d.%m.%Y %H:%M` → `d.M.yyyy H:m`):
/// single letters where strftime reads one or two digits; literal text quoted.
fn spark_pattern(fmt: &str) -> Option<String> {
    let compact = !fmt.contains(|c: char| !c.is_ascii_alphanumeric() && c != '%');
    let mut out = String::new();
    let mut literal = String::new();
    let mut chars = fmt.chars();
    let flush = |out: &mut String, literal: &mut String| {
        if !literal.is_empty() {
            if literal
                .chars()
                .all(|c| !c.is_ascii_alphabetic() && c != '\'')
            {
                out.push_str(literal);
            } else {
                out.push_str(&format!("'{}'", literal.replace('\'', "''")));
            }
            literal.clear();
        }
    };
    while let Some(c) = chars.next() {
        if c != '%' {
            literal.push(c);
            continue;
        }
        let spec = chars.next()?;
        if spec == '%' {
            literal.push('%');
            continue;
        }
        flush(&mut out, &mut literal);
        out.push_str(match (spec, compact) {
            ('Y', _) => "yyyy",
            ('y', _) => "yy",
            ('m', false) => "M",
            ('m', true) => "MM",
            ('d', false) => "d",
            ('d', true) => "dd",
            ('H', false) => "H",
            ('H', true) => "HH",
            ('M', false) => "m",
            ('M', true) => "mm",
            ('S', false) => "s",
            ('S', true) => "ss",
            ('f', _) => "SSSSSS",
            ('b', _) => "MMM",
            ('B', _) => "MMMM",
            ('I', _) => "h",
            ('p', _) => "a",
            ('z', _) => "XX",
            ('j', _) => "D",
            _ => return None,
        });
    }
    flush(&mut out, &mut literal);
    Some(out)
}

/// The calibration's sessions: per session (its `session_id`, else the user's day) and item
/// viewed or bought, the session's user, its day (days since the log's first) and the first
/// day's weekday (0 Monday), the item's median view and purchase prices there, whether it
/// was bought, and the item's category in the events; as (DuckDB, Spark) SQL, in session
/// and item order. The workspace adds the catalog's list price, cost and category.
pub fn choice_sessions() -> (String, String) {
    let body = |session: &str, day_offset: &str, weekday: &str| {
        format!(
            "WITH e AS (SELECT user_id, item_id, event_type, price, CAST(event_time AS DATE) AS day,
                               {session} AS session
                        FROM events WHERE event_type IN ('view', 'purchase') AND item_id IS NOT NULL
                              AND {session} IS NOT NULL),
                  s AS (SELECT session, coalesce(min(user_id), '') AS user_id, min(day) AS day
                        FROM e GROUP BY session),
                  v AS (SELECT session, item_id,
                               median(price) FILTER (WHERE event_type = 'view') AS view_price,
                               median(price) FILTER (WHERE event_type = 'purchase') AS buy_price,
                               bool_or(event_type = 'purchase') AS bought
                        FROM e GROUP BY session, item_id),
                  ec AS (SELECT item_id, min(category) AS category FROM events
                         WHERE item_id IS NOT NULL GROUP BY item_id),
                  f0 AS (SELECT min(day) AS d FROM s)
             SELECT v.session, s.user_id, CAST({day_offset} AS INTEGER) AS day,
                    CAST({weekday} AS INTEGER) AS first_weekday,
                    v.item_id, v.view_price, v.buy_price, v.bought, ec.category
             FROM v JOIN s USING (session) CROSS JOIN f0 LEFT JOIN ec USING (item_id)
             ORDER BY v.session, v.item_id"
        )
    };
    let session = |text: &str| {
        format!("coalesce(session_id, user_id || ':' || CAST(CAST(event_time AS DATE) AS {text}))")
    };
    (
        body(
            &session("VARCHAR"),
            "datediff('day', f0.d, s.day)",
            "isodow(f0.d) - 1",
        ),
        body(&session("STRING"), "datediff(s.day, f0.d)", "weekday(f0.d)"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strftime_formats_read_as_spark_patterns() {
        let p = |f| spark_pattern(f);
        assert_eq!(p("%Y-%m-%d %H:%M:%S UTC").unwrap(), "yyyy-M-d H:m:s' UTC'");
        assert_eq!(p("%d.%m.%Y %H:%M").unwrap(), "d.M.yyyy H:m");
        assert_eq!(p("%Y%m%d").unwrap(), "yyyyMMdd");
        assert_eq!(p("%m/%d/%Y").unwrap(), "M/d/yyyy");
        assert_eq!(
            p("%Y-%m-%dT%H:%M:%S.%f").unwrap(),
            "yyyy-M-d'T'H:m:s.SSSSSS"
        );
        // A specifier without a pattern: the import is refused on Spark, not misread.
        assert_eq!(p("%Y week %U"), None);
        assert!(Engine::Spark.strptime("x", "%G-%V").is_none());
    }

    #[test]
    fn literals_keep_quotes_and_backslashes_in_both_engines() {
        assert_eq!(Engine::DuckDb.lit(r"it's \d"), r"'it''s \d'");
        assert_eq!(Engine::Spark.lit(r"it's \d"), r"'it\'s \\d'");
        assert_eq!(Engine::Spark.ident("a`b"), "`a``b`");
    }
}
