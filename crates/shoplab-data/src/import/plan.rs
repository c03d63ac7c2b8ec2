//! The SQL that reads a file for an import: the staging query (every record, with its
//! reject reason and raw text) and the single pass's strict query (typed, a failed check
//! raises an error), built once from the source and the mapping.

use crate::canonical::{Column, Parse, Target};
use crate::dialect::Engine;
use crate::mapping::Mapping;
use crate::source::{FileKind, Source};

use super::convert::{checks_of, convert};
use super::scratch::{REJ_ERR, REJ_SCAN, STAGE};

/// Marks the errors raised by the single pass's strict conversions.
pub(super) const STRICT_MARK: &str = "shoplab-strict-check:";

/// The type the single pass asks the CSV reader for, for a column read by `rule`: numbers
/// and ISO timestamps are parsed by the reader itself (much faster than text and a cast)
/// when the sample shows they are plain; anything else stays text.
fn reader_type(rule: &Column, sample: &[String]) -> &'static str {
    match rule.parse {
        Parse::Number | Parse::Money => {
            if sample.iter().all(|v| v.parse::<f64>().is_ok()) {
                "DOUBLE"
            } else {
                "VARCHAR"
            }
        }
        Parse::Timestamp => {
            if rule.format.as_deref().unwrap_or("iso") == "iso" {
                "TIMESTAMP"
            } else {
                "VARCHAR"
            }
        }
        Parse::Text | Parse::Id | Parse::EventType => "VARCHAR",
    }
}

/// The SQL that reads the file once into a staging table: canonical columns, a reject
/// reason per row, and the raw row text for rejected rows only.
pub(super) struct StagePlan {
    canon: Vec<(String, String)>,
    raws: Vec<String>,
    /// `WHEN <check fails> THEN '<column>: <reason>'`, in column order.
    whens: Vec<String>,
    /// The single pass: per canonical column, its value from the typed scan and the
    /// conditions that would reject it (each raises an error marked [`STRICT_MARK`]).
    strict: Vec<(String, String, Vec<String>)>,
    /// The single pass's columns of the file, typed where the reader types them.
    strict_raws: Vec<String>,
    /// The single pass's scan, with plain numbers and timestamps typed by the reader.
    strict_scan: String,
    extra: String,
    scan: String,
    delimiter: String,
    engine: Engine,
}

/// The relation a Spark import reads: the file's columns as text, and `__ord`, the record's
/// place in the file (0-based).
pub(crate) const SPARK_SCAN: &str = "import_src";

/// What a plan is built from.
struct Inputs<'a> {
    src: &'a Source,
    mapping: &'a Mapping,
    /// The pseudonym salt, when user ids are replaced by a salted hash.
    salt: Option<&'a str>,
    /// Source column names as the mapping refers to them, in file order.
    names: Vec<String>,
    /// Per file column, the type the single pass asks the reader for.
    types: Vec<&'static str>,
    engine: Engine,
}

impl<'a> Inputs<'a> {
    fn new(src: &'a Source, mapping: &'a Mapping, salt: Option<&'a str>, engine: Engine) -> Self {
        let mut inputs = Inputs {
            src,
            mapping,
            salt,
            names: mapping.source_columns(src),
            types: Vec::new(),
            engine,
        };
        inputs.types = inputs.reader_types();
        inputs
    }

    /// A source column (as the mapping names it) → its position in the file.
    fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|c| c == name)
    }

    /// What the single pass asks the reader for: a type where every rule reading the
    /// column wants the same one.
    fn reader_types(&self) -> Vec<&'static str> {
        let (src, mapping) = (self.src, self.mapping);
        let mut types: Vec<Option<&'static str>> = vec![None; src.columns.len()];
        for rule in mapping.columns.values().filter(|r| r.value.is_none()) {
            if let Some(col) = rule.source.as_deref()
                && let Some(i) = self.index_of(col)
            {
                let want = match (
                    reader_type(rule, &mapping.sample_values(src, col)),
                    src.column_types.get(i),
                ) {
                    // A file that stores types is read typed where it stores that type.
                    (want, Some(stored)) if stored != want => "VARCHAR",
                    (want, _) => want,
                };
                types[i] = match types[i] {
                    Some(t) if t != want => Some("VARCHAR"),
                    _ => Some(want),
                };
            }
        }
        types.into_iter().map(|t| t.unwrap_or("VARCHAR")).collect()
    }

    /// The single pass's columns, `__r_<i>`: as the reader types them (a CSV reader asked
    /// for the types, a Parquet file storing them), as text otherwise.
    fn strict_raw_columns(&self) -> Vec<String> {
        let src = self.src;
        let mut raws = self.raw_columns();
        if !src.column_types.is_empty() {
            for (i, c) in src.columns.iter().enumerate() {
                if self.types[i] != "VARCHAR" {
                    raws[i] = format!("{} AS __r_{i}", src.col_stored(c));
                }
            }
        }
        raws
    }

    /// The single pass's scan: a CSV file read typed (its reader's rejects kept), a
    /// Parquet file as it is.
    fn strict_scan(&self) -> String {
        match self.src.kind {
            FileKind::Csv => self
                .src
                .typed_csv_scan_sql(&self.types, &keep_reader_rejects()),
            FileKind::Parquet | FileKind::Ndjson => self.src.scan_sql(""),
        }
    }

    /// The file's columns as text, `__r_<i>` (and on Spark, the record's place `__ord`).
    fn raw_columns(&self) -> Vec<String> {
        let e = self.engine;
        let mut raws: Vec<String> = self
            .src
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| match e {
                Engine::DuckDb => format!("{} AS __r_{i}", self.src.col_text(c)),
                Engine::Spark => format!("CAST(s.{} AS STRING) AS __r_{i}", e.ident(c)),
            })
            .collect();
        if e == Engine::Spark {
            raws.push("s.__ord AS __ord".into());
        }
        raws
    }

    /// The columns the mapping keeps, as one JSON text value.
    fn extra_sql(&self) -> String {
        let engine = self.engine;
        if self.mapping.extra.is_empty() {
            return format!("CAST(NULL AS {})", engine.text());
        }
        let pairs: Vec<String> = self
            .mapping
            .extra
            .iter()
            .filter_map(|e| {
                self.index_of(e)
                    .map(|i| format!("{}, __r_{i}", engine.lit(e)))
            })
            .collect();
        match engine {
            Engine::DuckDb => format!("CAST(json_object({}) AS VARCHAR)", pairs.join(", ")),
            Engine::Spark => format!("to_json(named_struct({}))", pairs.join(", ")),
        }
    }

    /// The staging scan: every column as text, the CSV reader's rejects kept.
    fn staging_scan(&self) -> String {
        match (self.engine, self.src.kind) {
            (Engine::Spark, _) => SPARK_SCAN.to_string(),
            (Engine::DuckDb, FileKind::Csv) => self.src.scan_sql(&keep_reader_rejects()),
            (Engine::DuckDb, FileKind::Parquet | FileKind::Ndjson) => self.src.scan_sql(""),
        }
    }
}

/// Options of a CSV scan that keep the reader's rejects in the scratch tables.
fn keep_reader_rejects() -> String {
    format!(", store_rejects = true, rejects_table = '{REJ_ERR}', rejects_scan = '{REJ_SCAN}'")
}

impl StagePlan {
    pub(super) fn new(src: &Source, mapping: &Mapping, salt: Option<&str>) -> Self {
        Self::for_engine(src, mapping, salt, Engine::DuckDb)
    }

    /// The plan in `engine`'s SQL; on Spark it reads [`SPARK_SCAN`].
    pub(super) fn for_engine(
        src: &Source,
        mapping: &Mapping,
        salt: Option<&str>,
        engine: Engine,
    ) -> Self {
        let inputs = Inputs::new(src, mapping, salt, engine);
        let mut plan = StagePlan {
            canon: Vec::new(),
            raws: inputs.raw_columns(),
            whens: Vec::new(),
            strict: Vec::new(),
            strict_raws: inputs.strict_raw_columns(),
            strict_scan: inputs.strict_scan(),
            extra: inputs.extra_sql(),
            scan: inputs.staging_scan(),
            delimiter: src
                .dialect
                .as_ref()
                .map(|d| d.delimiter.clone())
                .unwrap_or_else(|| ",".into()),
            engine,
        };
        for (name, required) in mapping.target.columns() {
            plan.add_column(&inputs, name, *required);
        }
        plan
    }

    /// The canonical column `name`: its value, its checks, its single-pass value.
    fn add_column(&mut self, inputs: &Inputs, name: &str, required: bool) {
        let (src, mapping, e) = (inputs.src, inputs.mapping, inputs.engine);
        let ty = e.ty(column_type(mapping.target, name));
        let Some(rule) = mapping.columns.get(name) else {
            self.canon
                .push((name.to_string(), format!("CAST(NULL AS {ty})")));
            self.strict
                .push((name.to_string(), format!("CAST(NULL AS {ty})"), Vec::new()));
            return;
        };
        let source = rule.source.as_deref().filter(|_| rule.value.is_none());
        let index = source.and_then(|s| inputs.index_of(s));
        let raw = index.map(|i| format!("__r_{i}"));
        let expr = match (&rule.value, &raw) {
            (Some(v), _) => format!("CAST({} AS {ty})", e.lit(v)),
            (None, Some(r)) => convert(r, rule, mapping, src, e),
            (None, None) => format!("CAST(NULL AS {ty})"),
        };
        let expr = match (inputs.salt, name) {
            (Some(s), "user_id") => format!(
                "substr({}, 1, 16)",
                e.sha256(&format!("{} || ({expr})", e.lit(s)))
            ),
            _ => expr,
        };
        let checks = if raw.is_some() {
            checks_of(name, required, rule, mapping)
        } else {
            Vec::new()
        };
        // The single pass reads plain numbers and ISO timestamps typed.
        let typed = index.is_some_and(|i| inputs.types[i] != "VARCHAR");
        let v = format!("__v_{name}");
        let fails: Vec<String> = checks
            .iter()
            .filter_map(|c| c.fails_sql(&v, raw.as_deref().filter(|_| !typed)))
            .collect();
        let value = match &raw {
            Some(r) if typed => r.clone(),
            _ => expr.clone(),
        };
        self.strict.push((name.to_string(), value, fails));
        if let Some(r) = &raw {
            let c = format!("__c_{name}");
            self.whens
                .extend(checks.iter().map(|k| k.when_sql(name, &c, r, rule, e)));
        }
        self.canon.push((name.to_string(), expr));
    }

    /// The staging query: canonical columns, `__extra`, `_reason`, and `_raw` for rejected
    /// rows (on Spark, also `__ord`).
    pub(super) fn select_sql(&self) -> String {
        let e = self.engine;
        let inner_canon: Vec<String> = self
            .canon
            .iter()
            .map(|(n, e)| format!("{e} AS __c_{n}"))
            .collect();
        let outer_canon: Vec<String> = self.canon.iter().map(|(n, _)| format!("__c_{n}")).collect();
        // The file's columns (on Spark, `__ord` follows them).
        let n_raw = self.raws.len() - usize::from(e == Engine::Spark);
        let raw_cols: Vec<String> = (0..n_raw).map(|i| format!("__r_{i}")).collect();
        let reason = if self.whens.is_empty() {
            format!("CAST(NULL AS {})", e.text())
        } else {
            format!("CASE {} END", self.whens.join(" "))
        };
        let ord = if e == Engine::Spark { ", __ord" } else { "" };
        format!(
            "SELECT {outer}, __extra, _reason,
                    CASE WHEN _reason IS NOT NULL THEN concat_ws({delim}, {raw_cols}) END AS _raw{ord}
             FROM (SELECT *, {reason} AS _reason
                   FROM (SELECT *, {extra} AS __extra FROM (SELECT *, {inner} FROM (SELECT {raws} FROM {scan} s))))",
            outer = outer_canon.join(", "),
            delim = e.lit(&self.delimiter),
            raw_cols = raw_cols.join(", "),
            extra = self.extra,
            raws = self.raws.join(", "),
            inner = inner_canon.join(", "),
            scan = self.scan,
        )
    }

    /// Every row, read typed, with each check raising an error instead of rejecting the
    /// row: what the single pass loads.
    pub(super) fn strict_rows_sql(&self) -> String {
        let values: Vec<String> = self
            .strict
            .iter()
            .map(|(n, e, _)| format!("{e} AS __v_{n}"))
            .collect();
        let checked: Vec<String> = self
            .strict
            .iter()
            .map(|(n, _, fails)| {
                if fails.is_empty() {
                    format!("__v_{n} AS __c_{n}")
                } else {
                    format!(
                        "CASE WHEN {} THEN error('{STRICT_MARK} {n}') ELSE __v_{n} END AS __c_{n}",
                        fails.join(" OR ")
                    )
                }
            })
            .collect();
        format!(
            "SELECT {checked}, CAST(NULL AS VARCHAR) AS __extra, CAST(NULL AS VARCHAR) AS _reason
             FROM (SELECT *, {values} FROM (SELECT {raws} FROM {scan} s))",
            checked = checked.join(", "),
            values = values.join(", "),
            raws = self.strict_raws.join(", "),
            scan = self.strict_scan,
        )
    }

    pub(super) fn stage_sql(&self) -> String {
        format!("CREATE TEMP TABLE {STAGE} AS {}", self.select_sql())
    }

    /// Item attributes of an event log, read from the file's item columns only.
    pub(super) fn item_attrs_sql(&self, src: &Source) -> String {
        let wanted = [
            "item_id",
            "item_title",
            "item_category",
            "item_brand",
            "price",
            "event_time",
        ];
        let canon: Vec<String> = self
            .canon
            .iter()
            .filter(|(n, _)| wanted.contains(&n.as_str()))
            .map(|(n, e)| format!("{e} AS __c_{n}"))
            .collect();
        format!(
            "SELECT * FROM (SELECT {canon} FROM (SELECT {raws} FROM {scan} s)) WHERE __c_item_id IS NOT NULL",
            canon = canon.join(", "),
            raws = self.raws.join(", "),
            scan = src.scan_sql(", ignore_errors = true"),
        )
    }
}

pub(super) fn column_type(target: Target, name: &str) -> &'static str {
    match (target, name) {
        (_, "event_time" | "ts" | "review_time") => "TIMESTAMP",
        (
            _,
            "price" | "cost" | "quantity" | "value" | "reward" | "propensity" | "position"
            | "rating" | "recommended" | "helpful",
        ) => "DOUBLE",
        _ => "VARCHAR",
    }
}
