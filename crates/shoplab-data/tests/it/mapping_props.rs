//! Property tests of the mapping TOML (`shoplab import --mapping FILE`): whatever text a
//! user hands in, `Mapping::from_toml` answers with a mapping or an error and never
//! panics; a mapping it accepts prints back to TOML that reads as the same mapping; and an
//! accepted mapping applied to an arbitrary small CSV imports or is refused without a
//! panic, a refused import leaving the workspace's row counts as they were.
//!
//! Each of the four properties runs proptest's default 256 cases (`PROPTEST_CASES`
//! overrides; `IMPORT_CASES` sets the import property's own) and prints how many cases it
//! ran and how many were accepted (`cargo test ... -- --nocapture`).

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use shoplab_data::{ImportOptions, Mapping, Workspace};

/// Cases of the import property (each a transaction on a real workspace): proptest's
/// default; set a number here to change it.
const IMPORT_CASES: Option<u32> = None;

/// Runs `test` on `cases` values of `strategy` (proptest's default when `None`), shrinks a
/// failure (a panic included) to a minimal input, and prints how many cases ran.
fn check<S: Strategy>(
    name: &str,
    cases: Option<u32>,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    let mut config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    if let Some(n) = cases {
        config.cases = n;
    }
    let ran = std::cell::Cell::new(0u32);
    let mut runner = TestRunner::new(config.clone());
    let result = runner.run(&strategy, |v| {
        ran.set(ran.get() + 1);
        test(v)
    });
    println!(
        "property {name}: {} cases run (configured {})",
        ran.get(),
        config.cases
    );
    if let Err(e) = result {
        panic!("property {name} failed: {e}");
    }
}

/// The mapping `--show-mapping` proposes for `ml-100k.inter`.
const RECBOLE: &str = include_str!("../../../../tests/fixtures/recbole-mapping.toml");

/// A REES46-like mapping with event types, extra columns and a money column.
const REES: &str = r#"format = "rees46"
target = "events"
names = ["a", "b"]
extra = ["brand"]

[csv]
delimiter = ","
quote = "\""
escape = "\""
header = true
skip = 0

[columns.event_time]
source = "event_time"
parse = "timestamp"
format = "%Y-%m-%d %H:%M:%S UTC"

[columns.event_type]
source = "event_type"
parse = "event_type"

[columns.price]
source = "price"
parse = "money"

[event_types]
view = "view"
buy = "purchase"
"#;

/// A TOML basic string holding `s`.
fn q(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A TOML array of strings.
fn list(items: &[&str]) -> String {
    let items: Vec<String> = items.iter().map(|s| q(s)).collect();
    format!("[{}]", items.join(", "))
}

/// Text with TOML's own characters over-represented, or any text at all.
fn toml_noise() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z_\\.\\[\\]{}=\"',#\n\t 0-9\\-+:]{0,200}",
        proptest::collection::vec(
            prop_oneof![
                Just("[".to_string()),
                Just("]".to_string()),
                Just("[[".to_string()),
                Just("=".to_string()),
                Just("\"".to_string()),
                Just("'''".to_string()),
                Just("\"\"\"".to_string()),
                Just("\n".to_string()),
                Just("{".to_string()),
                Just("}".to_string()),
                Just(",".to_string()),
                Just("columns".to_string()),
                Just("csv".to_string()),
                Just("format".to_string()),
                Just("target".to_string()),
                "[a-z]{1,6}",
                "-?[0-9]{1,20}",
            ],
            0..60
        )
        .prop_map(|parts| parts.concat()),
    ]
}

/// A TOML string literal: usual values, odd ones, and the wrong type now and then.
fn value(pool: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        8 => proptest::sample::select(pool).prop_map(q),
        1 => "[ -~]{0,12}".prop_map(|v| q(&v)),
        1 => proptest::sample::select(vec![
            "1", "-1", "0", "1.5", "nan", "inf", "true", "[]", "[\"a\"]", "{}", "{ a = 1 }",
            "18446744073709551615", "\"\\u0000\"", "\"\\t\"", "1979-05-27T07:32:00Z",
        ])
        .prop_map(String::from),
    ]
}

const FORMATS: &[&str] = &[
    "recbole", "rees46", "events", "catalog", "users", "obd", "x",
];
const TARGETS: &[&str] = &[
    "events",
    "items",
    "users",
    "bandit_log",
    "reviews",
    "orders",
    "",
];
const ENCODINGS: &[&str] = &["utf-8", "latin-1", "utf-16", "ebcdic", ""];
const COLUMNS: &[&str] = &[
    "event_time",
    "user_id",
    "item_id",
    "event_type",
    "session_id",
    "price",
    "quantity",
    "value",
    "item_title",
    "item_category",
    "item_brand",
    "title",
    "description",
    "category",
    "brand",
    "cost",
    "ts",
    "action",
    "position",
    "reward",
    "propensity",
    "policy",
    "campaign",
    "text",
    "review_time",
    "rating",
    "recommended",
    "colour",
    "",
];
const SOURCES: &[&str] = &[
    "user_id", "item_id", "ts", "event", "price", "rating", "a", "b", "nope", "",
];
const PARSES: &[&str] = &[
    "text",
    "id",
    "number",
    "money",
    "timestamp",
    "event_type",
    "guess",
];
const TIME_FORMATS: &[&str] = &[
    "iso",
    "epoch_s",
    "epoch_ms",
    "mixed",
    "%Y-%m-%d %H:%M:%S",
    "%d/%m/%Y",
    "%Q",
    "%",
    "",
    "%Y-%m-%d %H:%M:%S UTC",
];
const CHARS: &[&str] = &[
    ",", "\t", ";", "|", "\"", "'", "\\", "", ",,", "\n", "\0", "é",
];
const EVENT_TYPES: &[&str] = &["view", "cart", "purchase", "rating", "click", "like", ""];

/// One `key = value` line of the top level, sometimes an unknown key.
fn top_line() -> impl Strategy<Value = String> {
    prop_oneof![
        value(FORMATS).prop_map(|v| format!("format = {v}")),
        value(TARGETS).prop_map(|v| format!("target = {v}")),
        value(ENCODINGS).prop_map(|v| format!("encoding = {v}")),
        proptest::collection::vec(proptest::sample::select(SOURCES), 0..4)
            .prop_map(|v| format!("names = {}", list(&v))),
        proptest::collection::vec(proptest::sample::select(SOURCES), 0..3)
            .prop_map(|v| format!("extra = {}", list(&v))),
        Just("colour = \"red\"".to_string()),
    ]
}

fn csv_section() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        value(CHARS).prop_map(|v| format!("delimiter = {v}")),
        value(CHARS).prop_map(|v| format!("quote = {v}")),
        value(CHARS).prop_map(|v| format!("escape = {v}")),
        proptest::sample::select(vec!["true", "false", "\"yes\"", "1"])
            .prop_map(|v| format!("header = {v}")),
        proptest::sample::select(vec!["0", "1", "3", "-1", "100000", "18446744073709551615"])
            .prop_map(|v| format!("skip = {v}")),
    ];
    proptest::collection::vec(line, 0..6).prop_map(|lines| format!("[csv]\n{}\n", lines.join("\n")))
}

fn column_section() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        value(SOURCES).prop_map(|v| format!("source = {v}")),
        value(&["rating", "view", "1", "", "2019-10-01"]).prop_map(|v| format!("value = {v}")),
        value(PARSES).prop_map(|v| format!("parse = {v}")),
        value(TIME_FORMATS).prop_map(|v| format!("format = {v}")),
        Just("colour = 1".to_string()),
    ];
    (
        proptest::sample::select(COLUMNS),
        proptest::collection::vec(line, 0..5),
    )
        .prop_map(|(name, lines)| format!("[columns.{}]\n{}\n", q(name), lines.join("\n")))
}

fn event_types_section() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        (
            proptest::sample::select(vec!["view", "buy", "Add To Cart", "", "1"]),
            value(EVENT_TYPES),
        ),
        0..4,
    )
    .prop_map(|pairs| {
        let lines: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{} = {v}", q(k)))
            .collect();
        format!("[event_types]\n{}\n", lines.join("\n"))
    })
}

/// A mapping-shaped document: top-level keys, `[csv]`, `[columns.*]`, `[event_types]`, in
/// any number (duplicates too).
fn mapping_text() -> impl Strategy<Value = String> {
    (
        proptest::collection::vec(top_line(), 0..7),
        proptest::option::of(csv_section()),
        proptest::collection::vec(column_section(), 0..6),
        proptest::option::of(event_types_section()),
    )
        .prop_map(|(top, csv, columns, events)| {
            let mut text = top.join("\n");
            text.push('\n');
            text.extend(csv);
            for c in columns {
                text.push_str(&c);
            }
            text.extend(events);
            text
        })
}

/// A mapping-shaped document that is usually accepted: an events mapping whose columns
/// name the generated CSV's columns, with random parse rules and formats.
fn plausible_mapping() -> impl Strategy<Value = String> {
    // A canonical column from its own source column, read its own way, most of the time.
    let column = |name: &'static str, src: &'static str, parse: &'static str| {
        (
            prop_oneof![
                6 => Just(src),
                3 => proptest::sample::select(CSV_COLUMNS),
                1 => proptest::sample::select(SOURCES),
            ],
            prop_oneof![3 => Just(parse), 1 => proptest::sample::select(PARSES)],
            prop_oneof![
                2 => Just(None),
                1 => proptest::sample::select(TIME_FORMATS).prop_map(Some),
            ],
        )
            .prop_map(move |(src, parse, format)| {
                let mut s = format!(
                    "[columns.{name}]\nsource = {}\nparse = {}\n",
                    q(src),
                    q(parse)
                );
                if let Some(f) = format {
                    s.push_str(&format!("format = {}\n", q(f)));
                }
                s
            })
    };
    (
        prop_oneof![6 => Just(","), 1 => proptest::sample::select(vec![";", "\t", "|"])],
        prop_oneof![6 => Just("\""), 1 => proptest::sample::select(vec!["", "'"])],
        proptest::bool::weighted(0.9),
        prop_oneof![6 => Just(0u64), 1 => 1u64..3],
        proptest::option::weighted(
            0.2,
            proptest::sample::select(vec!["utf-8", "latin-1", "utf-16"]),
        ),
        column("event_time", "ts", "timestamp"),
        column("user_id", "user_id", "id"),
        column("item_id", "item_id", "id"),
        prop_oneof![
            Just("[columns.event_type]\nvalue = \"view\"\nparse = \"text\"\n".to_string()),
            column("event_type", "event", "event_type"),
        ],
        proptest::option::of(column("price", "price", "money")),
        proptest::option::of(event_types_section()),
    )
        .prop_map(
            |(delim, quote, header, skip, enc, t, u, i, e, p, events)| {
                let mut s = format!(
                    "format = \"events\"\ntarget = \"events\"\n{}\n[csv]\ndelimiter = {}\nquote = {}\nescape = {}\nheader = {header}\nskip = {skip}\n\n{t}{u}{i}{e}",
                    enc.map(|e| format!("encoding = {}", q(e))).unwrap_or_default(),
                    q(delim),
                    q(quote),
                    q(quote)
                );
                s.extend(p);
                s.extend(events);
                s
            },
        )
}

/// The columns of the generated CSVs (a mapping's sources also name missing ones).
const CSV_COLUMNS: &[&str] = &[
    "user_id", "item_id", "ts", "event", "price", "rating", "a", "b",
];

/// A CSV cell: mostly usual values, some odd ones, some any printable text.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => proptest::sample::select(vec![
            "1", "42", "7", "9.99", "881250949", "2019-10-01 00:00:00 UTC", "2019-10-01", "view",
            "purchase",
        ])
        .prop_map(String::from),
        2 => proptest::sample::select(vec![
            "-1", "", "abc", "$1,299.99", "1e400", "nan", "2019-13-45 25:00:00", "01/02/2020",
            "buy", "\"q\"", "\"a,b\"", "é", "\u{0}",
        ])
        .prop_map(String::from),
        1 => "[ -~]{0,8}",
    ]
}

/// A small CSV: the usual header (a column dropped now and then), and a few rows of
/// cells, most as wide as the header.
fn small_csv() -> impl Strategy<Value = String> {
    let header = prop_oneof![
        4 => Just(CSV_COLUMNS.to_vec()),
        1 => proptest::sample::subsequence(CSV_COLUMNS, 5..=CSV_COLUMNS.len()),
    ];
    header
        .prop_flat_map(|header| {
            let n = header.len();
            let row = prop_oneof![
                8 => proptest::collection::vec(cell(), n..=n),
                1 => proptest::collection::vec(cell(), 0..n + 3),
            ];
            (Just(header), proptest::collection::vec(row, 0..6))
        })
        .prop_map(|(header, rows)| {
            let mut lines = vec![header.join(",")];
            lines.extend(rows.iter().map(|r| r.join(",")));
            lines.join("\n") + "\n"
        })
}

/// Random edits (delete, insert, replace) of a valid mapping.
fn mutated(base: &'static str) -> impl Strategy<Value = String> {
    let edit = (
        0usize..base.len(),
        0usize..4,
        prop_oneof![
            proptest::sample::select(vec![
                "=",
                "\"",
                "[",
                "]",
                "\n",
                "#",
                "{",
                "}",
                ",",
                ".",
                "'",
                "\\",
                " ",
                "x",
                "0",
                "\u{0}",
                "é",
                "[[columns]]",
                "parse = \"guess\"",
                "source = 1",
            ])
            .prop_map(String::from),
            Just(String::new()),
        ],
    );
    proptest::collection::vec(edit, 1..6).prop_map(move |edits| {
        let mut text: Vec<char> = base.chars().collect();
        for (at, cut, insert) in edits {
            let at = at.min(text.len());
            let cut = cut.min(text.len() - at);
            text.splice(at..at + cut, insert.chars());
        }
        text.into_iter().collect()
    })
}

/// A mapping that is accepted reads back, from its own TOML, as the same mapping.
fn round_trips(text: &str) -> Result<bool, TestCaseError> {
    let Ok(m) = Mapping::from_toml(text) else {
        return Ok(false);
    };
    {
        let printed = m.to_toml();
        prop_assert!(
            !printed.starts_with("# cannot render"),
            "{text:?} → {printed}"
        );
        let again = Mapping::from_toml(&printed);
        prop_assert!(
            again.as_ref().ok() == Some(&m),
            "accepted {text:?}, printed {printed:?}, read back {again:?}"
        );
    }
    Ok(true)
}

#[test]
fn the_mapping_parser_never_panics_on_any_text() {
    check("mapping: any text", None, toml_noise(), |text| {
        let _ = Mapping::from_toml(&text);
        Ok(())
    });
}

#[test]
fn the_mapping_parser_never_panics_on_mapping_shaped_text_and_round_trips() {
    let accepted = std::cell::Cell::new(0u32);
    check(
        "mapping: mapping-shaped text",
        None,
        prop_oneof![mapping_text(), plausible_mapping()],
        |text| {
            accepted.set(accepted.get() + u32::from(round_trips(&text)?));
            Ok(())
        },
    );
    println!(
        "property mapping: mapping-shaped text: {} accepted",
        accepted.get()
    );
}

#[test]
fn the_mapping_parser_never_panics_on_edited_mappings() {
    let accepted = std::cell::Cell::new(0u32);
    check(
        "mapping: edited mappings",
        None,
        prop_oneof![mutated(RECBOLE), mutated(REES)],
        |text| {
            accepted.set(accepted.get() + u32::from(round_trips(&text)?));
            Ok(())
        },
    );
    println!(
        "property mapping: edited mappings: {} accepted",
        accepted.get()
    );
}

#[test]
fn an_accepted_mapping_on_an_arbitrary_csv_imports_or_is_refused_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::create(dir.path().join("ws.duckdb")).unwrap();
    let counts = |ws: &Workspace| -> Vec<(String, u64)> {
        ws.table_counts()
            .unwrap()
            .into_iter()
            .map(|t| (t.table, t.rows))
            .collect()
    };
    let (n, imported, raw) = (
        std::cell::Cell::new(0u32),
        std::cell::Cell::new(0u32),
        std::cell::Cell::new(0u32),
    );
    check(
        "mapping: applied to an arbitrary CSV",
        IMPORT_CASES,
        (plausible_mapping(), small_csv()),
        |(text, csv)| {
            let Ok(mapping) = Mapping::from_toml(&text) else {
                return Ok(());
            };
            n.set(n.get() + 1);
            let file = dir.path().join(format!("f{}.csv", n.get()));
            std::fs::write(&file, &csv).unwrap();
            let before = counts(&ws);
            let opts = ImportOptions {
                mapping: Some(mapping),
                ..ImportOptions::default()
            };
            match ws.import(Path::new(&file), &opts) {
                Ok(r) => {
                    imported.set(imported.get() + 1);
                    prop_assert_eq!(
                        r.rows_read,
                        r.rows_loaded + r.rows_rejected + r.rows_duplicate,
                        "{}\n{}",
                        text,
                        csv
                    )
                }
                Err(e) => {
                    // Not a failure here (the property is "no panic, nothing changed"),
                    // but counted: a refusal in DuckDB's words rather than ours.
                    let m = e.to_string();
                    if ["Binder Error", "Parser Error", "Catalog Error"]
                        .iter()
                        .any(|k| m.contains(k))
                    {
                        raw.set(raw.get() + 1);
                    }
                    prop_assert_eq!(
                        before,
                        counts(&ws),
                        "refused, yet changed:\n{}\n{}",
                        text,
                        csv
                    )
                }
            }
            Ok(())
        },
    );
    println!(
        "property mapping: applied to an arbitrary CSV: {} accepted mappings tried, {} imports \
         done, {} refused with a raw DuckDB error (Binder/Parser/Catalog Error)",
        n.get(),
        imported.get(),
        raw.get()
    );
}
