//! Timestamps as exports write them: the formats recognized from sample values, and the
//! SQL that reads each of them.

use crate::dialect::Engine;
use duckdb::Connection;

use crate::source::lit;

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

/// The share of sample values a format may leave unread and still be picked: those rows
/// are the export's bad ones, rejected with their lines.
const MAX_BAD_SHARE: f64 = 0.2;

/// Picks one timestamp format that reads every sample value, or `mixed` when only several
/// together do; failing that, the one that reads all but a few bad values.
pub fn detect_time_format(
    conn: &Connection,
    values: &[String],
) -> std::result::Result<String, String> {
    if values.is_empty() {
        return Ok("iso".into());
    }
    if let Some(numeric) = numeric_format(values) {
        return Ok(numeric.into());
    }
    let list = values.iter().map(|v| lit(v)).collect::<Vec<_>>().join(", ");
    // The first format that reads every value; else the one that reads the most, when the
    // values it cannot read are a few bad rows (rejected with their lines on import).
    let mut best: Option<(i64, &str)> = None;
    for fmt in std::iter::once("iso").chain(TIME_FORMATS.iter().copied()) {
        let bad = unreadable_count(conn, &list, fmt)?;
        if bad == 0 {
            return Ok(fmt.to_string());
        }
        if best.is_none_or(|(b, _)| bad < b) {
            best = Some((bad, fmt));
        }
    }
    let mixed = unreadable_count(conn, &list, "mixed")?;
    if mixed == 0 {
        return Ok("mixed".into());
    }
    let few = |bad: i64| (bad as f64) <= MAX_BAD_SHARE * values.len() as f64;
    match best {
        Some((bad, fmt)) if bad <= mixed && few(bad) => return Ok(fmt.to_string()),
        _ if few(mixed) => return Ok("mixed".into()),
        _ => {}
    }
    Err(format!(
        "cannot read timestamps such as '{}' (tried ISO 8601, epoch seconds/milliseconds and {}); give `format` in a mapping",
        values[0],
        TIME_FORMATS.join(", ")
    ))
}

/// `%Y%m%d`, `epoch_ms` or `epoch_s` when every value is written in digits; `None` otherwise.
fn numeric_format(values: &[String]) -> Option<&'static str> {
    let all_digits = values.iter().all(|v| {
        let v = v.strip_suffix(".0").unwrap_or(v);
        !v.is_empty() && v.chars().all(|c| c.is_ascii_digit() || c == '.')
    });
    if !all_digits {
        return None;
    }
    let max = values
        .iter()
        .filter_map(|v| v.parse::<f64>().ok())
        .fold(0.0f64, f64::max);
    let yyyymmdd = values
        .iter()
        .all(|v| v.len() == 8 && (v.starts_with("19") || v.starts_with("20")));
    Some(if yyyymmdd {
        "%Y%m%d"
    } else if max >= 1e11 {
        "epoch_ms"
    } else {
        "epoch_s"
    })
}

/// How many of the values in the SQL list `list` the format `fmt` cannot read.
fn unreadable_count(conn: &Connection, list: &str, fmt: &str) -> std::result::Result<i64, String> {
    let expr = timestamp_expr("x", fmt);
    let sql = format!(
        "SELECT count(*) FILTER (WHERE ({expr}) IS NULL) FROM (SELECT unnest([{list}]) AS x)"
    );
    conn.query_row(&sql, [], |r| r.get(0))
        .map_err(|e| e.to_string())
}

/// SQL turning the text expression `x` into a TIMESTAMP (UTC), NULL when it does not parse.
pub(crate) fn timestamp_expr(x: &str, format: &str) -> String {
    timestamp_expr_in(Engine::DuckDb, x, format)
}

/// [`timestamp_expr`] in the engine `e`. A strftime format Spark has no pattern for reads
/// nothing there ([`spark_can_read`] tells before an import is sent).
pub(crate) fn timestamp_expr_in(e: Engine, x: &str, format: &str) -> String {
    let number = e.try_double(x);
    let epoch_s = e.from_epoch(&number, false);
    let epoch_ms = e.from_epoch(&number, true);
    let strptime = |f: &str| {
        e.strptime(x, f)
            .unwrap_or_else(|| "CAST(NULL AS TIMESTAMP)".into())
    };
    let iso = match e {
        Engine::DuckDb => format!("TRY_CAST({x} AS TIMESTAMP)"),
        Engine::Spark => format!("try_cast({x} AS TIMESTAMP)"),
    };
    match format {
        "iso" => iso,
        "epoch_s" => epoch_s,
        "epoch_ms" => epoch_ms,
        "mixed" => {
            let formats = match e {
                Engine::DuckDb => format!(
                    "try_strptime({x}, [{}])",
                    TIME_FORMATS
                        .iter()
                        .map(|f| e.lit(f))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                Engine::Spark => format!(
                    "coalesce({})",
                    TIME_FORMATS
                        .iter()
                        .map(|f| strptime(f))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            format!(
                "CASE WHEN {} THEN {epoch_ms} WHEN {} THEN {epoch_s} ELSE coalesce({iso}, {formats}) END",
                e.full_match(x, "[0-9]{12,13}"),
                e.full_match(x, r"[0-9]{9,10}(\.[0-9]+)?"),
            )
        }
        f => strptime(f),
    }
}

/// Whether Spark reads the timestamp format `format` (each strftime specifier has a pattern).
pub fn spark_can_read(format: &str) -> bool {
    matches!(format, "iso" | "epoch_s" | "epoch_ms" | "mixed")
        || Engine::Spark.strptime("x", format).is_some()
}
