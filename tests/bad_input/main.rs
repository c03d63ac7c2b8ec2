//! The bad-input corpus: the `shoplab` binary fed every kind of bad input a user can give
//! it — import files, mapping and scenario TOML, out-of-range options, broken model folders
//! and files that are not (or not this version's) workspaces — one table-driven test.
//!
//! Each case names its setup (files written into its own folder: nothing large is
//! committed), its arguments, the exit code it must end with, what its stderr must say (the
//! file, `line N`/`column N`, the option as spelled on the command line, the allowed
//! range), and what must hold of the workspace afterwards: a refused command leaves the
//! workspace (and a `.wal` beside it) byte for byte as it was and creates no file; an
//! accepted import loads and rejects exactly the rows it should.
//!
//! The test runs every case, prints a markdown table (`case | exit | first line of message
//! | workspace unchanged`, visible with `--nocapture`), writes it to
//! `$CARGO_TARGET_DIR/bad-input-corpus.md` (else the temp folder), and fails listing every
//! failing case.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Rows of ML-100K in the base workspace (the first lines of `ml-100k.inter`).
const BASE_ROWS: usize = 2_000;
/// A command taking longer than this is killed and its case fails.
const TIMEOUT: Duration = Duration::from_secs(180);

// ---------------------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------------------

/// What the workspace path `{ws}` (the case folder's `shop.duckdb`) is before the command.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ws {
    /// The command takes no workspace (nothing written to `{ws}`).
    NotUsed,
    /// A copy of the base workspace: 2,000 ML-100K ratings imported, a split `main`.
    Base,
    /// No file at the path.
    Missing,
    /// A text file.
    Text,
    /// An empty file.
    Empty,
    /// A DuckDB database without ShopLab's tables.
    PlainDuckDb,
    /// The base workspace with `schema_version` 99 (a newer ShopLab's).
    Newer,
    /// The base workspace with `schema_version` 6 (it must migrate).
    Older,
}

/// What must hold afterwards.
#[derive(Clone, Copy, Debug)]
enum After {
    /// Refused: the workspace and its `.wal` byte for byte as before, no file created or
    /// removed in the case folder (a missing workspace is still missing).
    Unchanged,
    /// An accepted import (`--json`): rows loaded and rejected, the rejected rows' file
    /// lines, `rows_read` = loaded + rejected + duplicates, the workspace's events grew by
    /// the rows loaded, and an optional `SELECT count(*)` with the count it must give.
    Imported {
        loaded: u64,
        rejected: u64,
        lines: &'static [i64],
        check: Option<(&'static str, i64)>,
    },
    /// An older workspace migrated: exit 0, stderr says "migrated" and names the backup,
    /// which exists beside the workspace with the old schema version; the workspace has
    /// the new one.
    Migrated,
    /// A refused model folder: nothing in the models folder.
    NoModel,
    /// An imported model folder: `NAME/config.json` in the models folder.
    ModelImported(&'static str),
}

type Setup = fn(&Fixture, &Path);

struct Case {
    name: &'static str,
    ws: Ws,
    setup: Setup,
    /// `{ws}`: the workspace path; `{dir}`: the case folder.
    args: &'static [&'static str],
    /// Accepted exit codes.
    exit: &'static [i32],
    /// Each must be in stderr (`{ws}` and `{dir}` replaced).
    stderr: Vec<&'static str>,
    /// When not empty, at least one must be in stderr (a range, as it may be spelled).
    any_of: &'static [&'static str],
    after: After,
}

/// A parameter error: exit 1, or 2 where clap's own value parser refuses it.
fn param(name: &'static str, ws: Ws, args: &'static [&'static str]) -> Case {
    case(name, ws, args).exit(&[1, 2])
}

fn case(name: &'static str, ws: Ws, args: &'static [&'static str]) -> Case {
    Case {
        name,
        ws,
        setup: |_, _| {},
        args,
        exit: &[1],
        stderr: Vec::new(),
        any_of: &[],
        after: After::Unchanged,
    }
}

impl Case {
    fn setup(mut self, f: Setup) -> Self {
        self.setup = f;
        self
    }
    fn exit(mut self, codes: &'static [i32]) -> Self {
        self.exit = codes;
        self
    }
    fn err(mut self, parts: &[&'static str]) -> Self {
        self.stderr.extend_from_slice(parts);
        self
    }
    fn any(mut self, parts: &'static [&'static str]) -> Self {
        self.any_of = parts;
        self
    }
    fn after(mut self, after: After) -> Self {
        self.after = after;
        self
    }
}

/// How a lower bound of 0 (exclusive) may be spelled.
const POSITIVE: &[&str] = &["> 0", "greater than 0", "positive"];
/// How a lower bound of 1 may be spelled.
const AT_LEAST_1: &[&str] = &["at least 1", ">= 1", "≥ 1"];
/// How a fraction's range may be spelled.
const FRACTION: &[&str] = &["(0, 1)", "[0, 1)", "(0, 1]", "[0, 1]"];
/// How "the fractions add up to more than 1" may be spelled.
const SUM: &[&str] = &["sum", "add up", "together", "at most 1", "<= 1", "< 1"];

fn cases() -> Vec<Case> {
    use Ws::*;
    let imported = |loaded, rejected, lines| After::Imported {
        loaded,
        rejected,
        lines,
        check: None,
    };
    vec![
        // ---- import files ----------------------------------------------------------
        case(
            "import_bad_timestamps_in_sample",
            Base,
            &["import", "{ws}", "{dir}/ts.csv", "--json"],
        )
        .setup(|_, d| {
            let bad =
                ["yesterday", "2019-13-45 25:00:00 UTC", ""].map(|t| rees_row(t, "9.99", 900));
            write(d, "ts.csv", &rees_file(40, &bad, 1));
        })
        .exit(&[0])
        .after(imported(41, 3, &[42, 43, 44])),
        case(
            "import_bad_timestamps_after_sample",
            Base,
            &["import", "{ws}", "{dir}/ts.csv", "--json"],
        )
        .setup(|_, d| {
            let bad =
                ["yesterday", "2019-13-45 25:00:00 UTC", ""].map(|t| rees_row(t, "9.99", 900));
            write(d, "ts.csv", &rees_file(600, &bad, 1));
        })
        .exit(&[0])
        .after(imported(601, 3, &[602, 603, 604])),
        case(
            "import_non_numeric_prices",
            Base,
            &["import", "{ws}", "{dir}/price.csv", "--json"],
        )
        .setup(|_, d| {
            let bad = ["abc", "9.9.9"].map(|p| rees_row("2019-10-03 00:00:00 UTC", p, 901));
            write(d, "price.csv", &rees_file(40, &bad, 0));
        })
        .exit(&[0])
        .after(imported(40, 2, &[42, 43])),
        case(
            "import_ragged_rows",
            Base,
            &["import", "{ws}", "{dir}/ragged.csv", "--json"],
        )
        .setup(|_, d| {
            let bad = [
                "2019-10-03 00:00:00 UTC,view,5,1,x".to_string(),
                format!(
                    "{},extra,fields",
                    rees_row("2019-10-03 00:00:01 UTC", "1.5", 902)
                ),
            ];
            write(d, "ragged.csv", &rees_file(40, &bad, 0));
        })
        // A row short of fields is rejected with its line; extra trailing fields are
        // ignored by the CSV reader (not strict: stray quotes in real exports), so that
        // row loads from its first fields.
        .exit(&[0])
        .after(imported(41, 1, &[42])),
        case(
            "import_missing_required_columns",
            Base,
            &["import", "{ws}", "{dir}/nouser.csv"],
        )
        .setup(|_, d| {
            write(
                d,
                "nouser.csv",
                "event_time,event_type,product_id,price\n2019-10-01 00:00:00 UTC,view,1,9.99\n",
            );
        })
        .err(&["{dir}/nouser.csv"]),
        case(
            "import_empty_file",
            Base,
            &["import", "{ws}", "{dir}/empty.csv"],
        )
        .setup(|_, d| write(d, "empty.csv", ""))
        .err(&["{dir}/empty.csv", "empty"]),
        case(
            "import_header_only",
            Base,
            &["import", "{ws}", "{dir}/header.csv"],
        )
        .setup(|_, d| write(d, "header.csv", &format!("{REES_HEADER}\n")))
        .err(&["{dir}/header.csv", "header"]),
        case(
            "import_binary_garbage",
            Base,
            &["import", "{ws}", "{dir}/garbage.csv"],
        )
        .setup(|_, d| write_bytes(d, "garbage.csv", &garbage(4096))),
        case(
            "import_utf16_file",
            Base,
            &["import", "{ws}", "{dir}/utf16.csv"],
        )
        .setup(|_, d| {
            let text = rees_file(5, &[], 0);
            let mut bytes = vec![0xFF, 0xFE];
            bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
            write_bytes(d, "utf16.csv", &bytes);
        })
        .err(&["{dir}/utf16.csv"]),
        case(
            "import_latin1_file",
            Base,
            &["import", "{ws}", "{dir}/latin1.csv", "--json"],
        )
        .setup(|_, d| {
            let text = rees_file(5, &[], 0).replace("acme", "Nestlé");
            let bytes: Vec<u8> = text.chars().map(|c| c as u32 as u8).collect();
            write_bytes(d, "latin1.csv", &bytes);
        })
        .exit(&[0])
        .after(After::Imported {
            loaded: 5,
            rejected: 0,
            lines: &[],
            check: Some(("SELECT count(*) FROM events WHERE brand = 'Nestlé'", 5)),
        }),
        case(
            "import_unknown_format",
            Base,
            &["import", "{ws}", "{dir}/unknown.csv"],
        )
        .setup(|_, d| write(d, "unknown.csv", "foo,bar,baz\n1,2,3\n4,5,6\n"))
        .err(&["{dir}/unknown.csv", "not recognized"]),
        case(
            "import_truncated_gzip",
            Base,
            &["import", "{ws}", "{dir}/events.csv.gz"],
        )
        .setup(|_, d| {
            let gz = gzip_stored(rees_file(600, &[], 0).as_bytes());
            write_bytes(d, "events.csv.gz", &gz[..gz.len() / 2]);
        })
        .err(&["{dir}/events.csv.gz"]),
        case(
            "import_intact_gzip_control",
            Base,
            &["import", "{ws}", "{dir}/events.csv.gz", "--json"],
        )
        .setup(|_, d| {
            write_bytes(
                d,
                "events.csv.gz",
                &gzip_stored(rees_file(600, &[], 0).as_bytes()),
            )
        })
        .exit(&[0])
        .after(imported(600, 0, &[])),
        case(
            "import_missing_file",
            Base,
            &["import", "{ws}", "{dir}/nope.csv"],
        )
        .err(&["{dir}/nope.csv"]),
        case(
            "import_unknown_kind",
            Base,
            &["import", "{ws}", "{dir}/ml.inter", "--kind", "orders"],
        )
        .setup(|fx, d| fx.ml_slice(d, 20))
        .exit(&[1, 2])
        .err(&["orders"]),
        // ---- mapping files (import --mapping) --------------------------------------
        case(
            "mapping_control_valid",
            Base,
            &[
                "import",
                "{ws}",
                "{dir}/ml.inter",
                "--mapping",
                "{dir}/m.toml",
                "--json",
            ],
        )
        .setup(|fx, d| mapping_case(fx, d, MAPPING))
        .exit(&[0])
        .after(imported(20, 0, &[])),
        case(
            "mapping_syntax_error",
            Base,
            &[
                "import",
                "{ws}",
                "{dir}/ml.inter",
                "--mapping",
                "{dir}/m.toml",
            ],
        )
        .setup(|fx, d| {
            mapping_case(
                fx,
                d,
                &MAPPING.replace("target = \"events\"", "target = events"),
            )
        })
        .err(&["{dir}/m.toml", "line 2", "column"]),
        case(
            "mapping_unknown_key",
            Base,
            &[
                "import",
                "{ws}",
                "{dir}/ml.inter",
                "--mapping",
                "{dir}/m.toml",
            ],
        )
        .setup(|fx, d| {
            mapping_case(
                fx,
                d,
                &MAPPING.replace(
                    "encoding = \"utf-8\"",
                    "encoding = \"utf-8\"\ncolour = \"red\"",
                ),
            )
        })
        .err(&["{dir}/m.toml", "line 4", "column", "colour"]),
        case(
            "mapping_unknown_parse_variant",
            Base,
            &[
                "import",
                "{ws}",
                "{dir}/ml.inter",
                "--mapping",
                "{dir}/m.toml",
            ],
        )
        .setup(|fx, d| {
            mapping_case(
                fx,
                d,
                &MAPPING.replace("parse = \"number\"", "parse = \"guess\""),
            )
        })
        .err(&["{dir}/m.toml", "line 31", "column", "guess"]),
        case(
            "mapping_bad_value_type",
            Base,
            &[
                "import",
                "{ws}",
                "{dir}/ml.inter",
                "--mapping",
                "{dir}/m.toml",
            ],
        )
        .setup(|fx, d| mapping_case(fx, d, &MAPPING.replace("header = true", "header = \"yes\"")))
        .err(&["{dir}/m.toml", "line 9", "column"]),
        case(
            "mapping_missing_source_column",
            Base,
            &[
                "import",
                "{ws}",
                "{dir}/ml.inter",
                "--mapping",
                "{dir}/m.toml",
            ],
        )
        .setup(|fx, d| {
            mapping_case(
                fx,
                d,
                &MAPPING.replace("\"rating:float\"", "\"rating:int\""),
            )
        })
        .err(&["rating:int"])
        .any(&["{dir}/m.toml", "{dir}/ml.inter"]),
        case(
            "mapping_missing_required_column",
            Base,
            &[
                "import",
                "{ws}",
                "{dir}/ml.inter",
                "--mapping",
                "{dir}/m.toml",
            ],
        )
        .setup(|fx, d| {
            let text = MAPPING.replace(
                "[columns.user_id]\nsource = \"user_id:token\"\nparse = \"id\"\n",
                "",
            );
            mapping_case(fx, d, &text)
        })
        .err(&["missing required column", "user_id"]),
        case(
            "mapping_unknown_column",
            Base,
            &[
                "import",
                "{ws}",
                "{dir}/ml.inter",
                "--mapping",
                "{dir}/m.toml",
            ],
        )
        .setup(|fx, d| {
            mapping_case(
                fx,
                d,
                &format!("{MAPPING}\n[columns.colour]\nvalue = \"red\"\n"),
            )
        })
        .err(&["{dir}/m.toml", "colour"]),
        case(
            "mapping_unknown_event_type",
            Base,
            &[
                "import",
                "{ws}",
                "{dir}/ml.inter",
                "--mapping",
                "{dir}/m.toml",
            ],
        )
        .setup(|fx, d| {
            let text = format!(
                "{}\n[event_types]\nrating = \"like\"\n",
                MAPPING.replace("parse = \"text\"", "parse = \"event_type\"")
            );
            mapping_case(fx, d, &text)
        })
        .err(&["{dir}/m.toml", "like"]),
        case(
            "mapping_not_utf8",
            Base,
            &[
                "import",
                "{ws}",
                "{dir}/ml.inter",
                "--mapping",
                "{dir}/m.toml",
            ],
        )
        .setup(|fx, d| {
            fx.ml_slice(d, 20);
            let mut bytes = MAPPING.as_bytes().to_vec();
            bytes.extend([b'#', 0xFF, 0xFE, b'\n']);
            write_bytes(d, "m.toml", &bytes);
        })
        .err(&["{dir}/m.toml"]),
        case(
            "mapping_file_missing",
            Base,
            &[
                "import",
                "{ws}",
                "{dir}/ml.inter",
                "--mapping",
                "{dir}/none.toml",
            ],
        )
        .setup(|fx, d| fx.ml_slice(d, 20))
        .err(&["{dir}/none.toml"]),
        // ---- scenario files (simulate --scenario) ----------------------------------
        case(
            "scenario_syntax_error",
            Base,
            &["simulate", "{ws}", "--scenario", "{dir}/s.toml"],
        )
        .setup(|_, d| write(d, "s.toml", &SCENARIO.replace("days = 2", "days = = 2")))
        .err(&["{dir}/s.toml", "line 2", "column"]),
        case(
            "scenario_unknown_key",
            Base,
            &["simulate", "{ws}", "--scenario", "{dir}/s.toml"],
        )
        .setup(|_, d| {
            write(
                d,
                "s.toml",
                &SCENARIO.replace("seeds = 1", "seeds = 1\ncolour = \"red\""),
            )
        })
        .err(&["{dir}/s.toml", "line 5", "column", "colour"]),
        case(
            "scenario_unknown_policy_variant",
            Base,
            &["simulate", "{ws}", "--scenario", "{dir}/s.toml"],
        )
        .setup(|_, d| {
            write(
                d,
                "s.toml",
                &SCENARIO.replace("kind = \"list\"", "kind = \"greedy\""),
            )
        })
        .err(&["{dir}/s.toml", "line 10", "column", "greedy"]),
        case(
            "scenario_unknown_recommender",
            Base,
            &["simulate", "{ws}", "--scenario", "{dir}/s.toml"],
        )
        .setup(|_, d| {
            write(
                d,
                "s.toml",
                &SCENARIO.replace("\"popularity\"", "\"magic\""),
            )
        })
        .err(&["{dir}/s.toml", "line 9", "magic"]),
        case(
            "scenario_days_not_a_number",
            Base,
            &["simulate", "{ws}", "--scenario", "{dir}/s.toml"],
        )
        .setup(|_, d| {
            write(
                d,
                "s.toml",
                &SCENARIO.replace("days = 2", "days = \"thirty\""),
            )
        })
        .err(&["{dir}/s.toml", "line 2", "column"]),
        case(
            "scenario_negative_seeds",
            Base,
            &["simulate", "{ws}", "--scenario", "{dir}/s.toml"],
        )
        .setup(|_, d| write(d, "s.toml", &SCENARIO.replace("seeds = 1", "seeds = -3")))
        .err(&["{dir}/s.toml", "line 4", "column"]),
        case(
            "scenario_grid_of_strings",
            Base,
            &["simulate", "{ws}", "--scenario", "{dir}/s.toml"],
        )
        .setup(|_, d| {
            write(
                d,
                "s.toml",
                &SCENARIO.replace(
                    "{ kind = \"list\" }",
                    "{ kind = \"thompson\", grid = [\"low\", \"high\"] }",
                ),
            )
        })
        .err(&["{dir}/s.toml", "line 10", "column"]),
        case(
            "scenario_nan_in_grid",
            Base,
            &["simulate", "{ws}", "--scenario", "{dir}/s.toml"],
        )
        .setup(|_, d| {
            write(
                d,
                "s.toml",
                &SCENARIO.replace(
                    "{ kind = \"list\" }",
                    "{ kind = \"thompson\", grid = [0.9, nan] }",
                ),
            )
        })
        .err(&["{dir}/s.toml", "grid"]),
        case(
            "scenario_epsilon_out_of_range",
            Base,
            &["simulate", "{ws}", "--scenario", "{dir}/s.toml"],
        )
        .setup(|_, d| {
            write(
                d,
                "s.toml",
                &SCENARIO.replace(
                    "{ kind = \"list\" }",
                    "{ kind = \"epsilon-greedy\", grid = [0.9, 1.1], epsilon = 2.0 }",
                ),
            )
        })
        .err(&["{dir}/s.toml", "epsilon", "[0, 1]"]),
        case(
            "scenario_zero_days",
            Base,
            &["simulate", "{ws}", "--scenario", "{dir}/s.toml"],
        )
        .setup(|_, d| write(d, "s.toml", &SCENARIO.replace("days = 2", "days = 0")))
        .err(&["{dir}/s.toml", "days"]),
        case(
            "scenario_event_past_the_horizon",
            Base,
            &["simulate", "{ws}", "--scenario", "{dir}/s.toml"],
        )
        .setup(|_, d| {
            write(
                d,
                "s.toml",
                &format!("{SCENARIO}\n[[events]]\nday = 99\ntraffic = 2.0\n"),
            )
        })
        .err(&["{dir}/s.toml", "99"]),
        case(
            "scenario_no_policies",
            Base,
            &["simulate", "{ws}", "--scenario", "{dir}/s.toml"],
        )
        .setup(|_, d| write(d, "s.toml", SCENARIO.split("[[policies]]").next().unwrap()))
        .err(&["{dir}/s.toml", "policies"]),
        case(
            "scenario_unknown_calibration",
            Base,
            &["simulate", "{ws}", "--scenario", "{dir}/s.toml"],
        )
        .setup(|_, d| {
            let text = SCENARIO.replace(
                "world = { seed = 7, users = 100, items = 40, categories = 4 }",
                "world = { calibration = 5 }",
            );
            write(d, "s.toml", &text)
        })
        .err(&["calibration", "5"]),
        case(
            "scenario_file_missing",
            Base,
            &["simulate", "{ws}", "--scenario", "{dir}/none.toml"],
        )
        .err(&["{dir}/none.toml"]),
        // ---- CLI arguments: train --------------------------------------------------
        param(
            "train_lr_minus_1",
            Base,
            &[
                "train", "{ws}", "--split", "main", "--epochs", "1", "--lr", "-1",
            ],
        )
        .exit(&[1, 2])
        .err(&["--lr"]),
        param(
            "train_lr_eq_minus_1",
            Base,
            &[
                "train", "{ws}", "--split", "main", "--epochs", "1", "--lr=-1",
            ],
        )
        .err(&["--lr"])
        .any(POSITIVE),
        param(
            "train_lr_0",
            Base,
            &[
                "train", "{ws}", "--split", "main", "--epochs", "1", "--lr", "0",
            ],
        )
        .err(&["--lr"])
        .any(POSITIVE),
        param(
            "train_lr_nan",
            Base,
            &[
                "train", "{ws}", "--split", "main", "--epochs", "1", "--lr", "NaN",
            ],
        )
        .err(&["--lr"])
        .any(POSITIVE),
        param(
            "train_epochs_0",
            Base,
            &["train", "{ws}", "--split", "main", "--epochs", "0"],
        )
        .err(&["--epochs"])
        .any(AT_LEAST_1),
        param(
            "train_factors_0",
            Base,
            &[
                "train",
                "{ws}",
                "--split",
                "main",
                "--epochs",
                "1",
                "--factors",
                "0",
            ],
        )
        .err(&["--factors"])
        .any(AT_LEAST_1),
        param(
            "train_k_0",
            Base,
            &[
                "train", "{ws}", "--split", "main", "--epochs", "1", "--k", "0",
            ],
        )
        .err(&["--k"])
        .any(AT_LEAST_1),
        param(
            "train_batch_size_0",
            Base,
            &[
                "train",
                "{ws}",
                "--split",
                "main",
                "--epochs",
                "1",
                "--batch-size",
                "0",
            ],
        )
        .err(&["--batch-size"])
        .any(AT_LEAST_1),
        param(
            "train_patience_weird",
            Base,
            &[
                "train",
                "{ws}",
                "--split",
                "main",
                "--epochs",
                "1",
                "--patience",
                "weird",
            ],
        )
        .exit(&[2])
        .err(&["--patience", "weird"]),
        // ---- CLI arguments: split --------------------------------------------------
        param(
            "split_valid_1_5",
            Base,
            &["split", "{ws}", "--name", "bad", "--valid", "1.5"],
        )
        .err(&["--valid"])
        .any(FRACTION),
        param(
            "split_valid_and_test_sum_above_1",
            Base,
            &[
                "split", "{ws}", "--name", "bad", "--valid", "0.6", "--test", "0.6",
            ],
        )
        .err(&["--valid", "--test"])
        .any(SUM),
        param(
            "split_test_minus_0_1",
            Base,
            &["split", "{ws}", "--name", "bad", "--test", "-0.1"],
        )
        .exit(&[1, 2])
        .err(&["--test"]),
        param(
            "split_test_eq_minus_0_1",
            Base,
            &["split", "{ws}", "--name", "bad", "--test=-0.1"],
        )
        .err(&["--test"])
        .any(FRACTION),
        param(
            "split_cold_items_1_5",
            Base,
            &["split", "{ws}", "--name", "bad", "--cold-items", "1.5"],
        )
        .err(&["--cold-items"])
        .any(FRACTION),
        // ---- CLI arguments: simulate -----------------------------------------------
        param(
            "simulate_seeds_0",
            Base,
            &[
                "simulate",
                "{ws}",
                "--scenario",
                "{dir}/s.toml",
                "--seeds",
                "0",
            ],
        )
        .setup(|_, d| write(d, "s.toml", SCENARIO))
        .err(&["--seeds"])
        .any(AT_LEAST_1),
        param(
            "simulate_threads_0",
            Base,
            &[
                "simulate",
                "{ws}",
                "--scenario",
                "{dir}/s.toml",
                "--threads",
                "0",
            ],
        )
        .setup(|_, d| write(d, "s.toml", SCENARIO))
        .err(&["--threads"])
        .any(AT_LEAST_1),
        param(
            "simulate_speed_0",
            Base,
            &[
                "simulate",
                "{ws}",
                "--scenario",
                "{dir}/s.toml",
                "--realtime",
                "--speed",
                "0",
            ],
        )
        .setup(|_, d| write(d, "s.toml", SCENARIO))
        .err(&["--speed"])
        .any(POSITIVE),
        param(
            "simulate_speed_negative",
            Base,
            &[
                "simulate",
                "{ws}",
                "--scenario",
                "{dir}/s.toml",
                "--realtime",
                "--speed=-86400",
            ],
        )
        .setup(|_, d| write(d, "s.toml", SCENARIO))
        .err(&["--speed"])
        .any(POSITIVE),
        // ---- CLI arguments: pricing (no workspace) ---------------------------------
        param(
            "pricing_horizon_0",
            NotUsed,
            &["pricing", "--horizon", "0", "--seeds", "2"],
        )
        .err(&["--horizon"])
        .any(AT_LEAST_1),
        param(
            "pricing_seeds_0",
            NotUsed,
            &["pricing", "--horizon", "100", "--seeds", "0"],
        )
        .err(&["--seeds"])
        .any(AT_LEAST_1),
        param(
            "pricing_threads_0",
            NotUsed,
            &[
                "pricing",
                "--horizon",
                "100",
                "--seeds",
                "2",
                "--threads",
                "0",
            ],
        )
        .err(&["--threads"])
        .any(AT_LEAST_1),
        param(
            "pricing_price_0",
            NotUsed,
            &[
                "pricing",
                "--horizon",
                "100",
                "--seeds",
                "2",
                "--prices",
                "0,10",
            ],
        )
        .err(&["--prices"])
        .any(POSITIVE),
        param(
            "pricing_price_not_a_number",
            NotUsed,
            &[
                "pricing",
                "--horizon",
                "100",
                "--seeds",
                "2",
                "--prices",
                "10,abc",
            ],
        )
        .exit(&[2])
        .err(&["--prices", "abc"]),
        param(
            "pricing_epsilon_1_5",
            NotUsed,
            &[
                "pricing",
                "--horizon",
                "100",
                "--seeds",
                "2",
                "--policies",
                "eps:1.5",
            ],
        )
        .err(&["--policies", "eps:1.5"])
        .any(FRACTION),
        param(
            "pricing_fixed_index_past_the_grid",
            NotUsed,
            &[
                "pricing",
                "--horizon",
                "100",
                "--seeds",
                "2",
                "--policies",
                "fixed:9",
            ],
        )
        .err(&["--policies", "fixed:9"]),
        // ---- model folders (model import) ------------------------------------------
        case(
            "model_import_control_valid",
            NotUsed,
            &["model", "import", "{dir}/model", "--name", "tiny"],
        )
        .setup(|fx, d| fx.model_copy(d, Weights::Full))
        .exit(&[0])
        .after(After::ModelImported("tiny")),
        case(
            "model_missing_config_json",
            NotUsed,
            &["model", "import", "{dir}/model", "--name", "bad"],
        )
        .setup(|fx, d| {
            fx.model_copy(d, Weights::Full);
            std::fs::remove_file(d.join("model/config.json")).unwrap();
        })
        .err(&["{dir}/model", "config.json"])
        .after(After::NoModel),
        case(
            "model_config_json_not_json",
            NotUsed,
            &["model", "import", "{dir}/model", "--name", "bad"],
        )
        .setup(|fx, d| {
            fx.model_copy(d, Weights::Full);
            write(
                d,
                "model/config.json",
                "{\n  \"hidden_size\": 384,\n  \"num_hidden_layers\": six\n}\n",
            );
        })
        .err(&["{dir}/model/config.json", "line 3", "column"])
        .after(After::NoModel),
        case(
            "model_config_json_empty_object",
            NotUsed,
            &["model", "import", "{dir}/model", "--name", "bad"],
        )
        .setup(|fx, d| {
            fx.model_copy(d, Weights::Full);
            write(d, "model/config.json", "{}\n");
        })
        .err(&["{dir}/model/config.json"])
        .after(After::NoModel),
        case(
            "model_tokenizer_json_invalid",
            NotUsed,
            &["model", "import", "{dir}/model", "--name", "bad"],
        )
        .setup(|fx, d| {
            fx.model_copy(d, Weights::Full);
            write(
                d,
                "model/tokenizer.json",
                "{\n  \"version\": \"1.0\",\n  \"model\": [1, 2\n",
            );
        })
        .err(&["{dir}/model/tokenizer.json", "line", "column"])
        .after(After::NoModel),
        case(
            "model_safetensors_truncated",
            NotUsed,
            &["model", "import", "{dir}/model", "--name", "bad"],
        )
        .setup(|fx, d| fx.model_copy(d, Weights::Half))
        .err(&["{dir}/model/model.safetensors"])
        .after(After::NoModel),
        case(
            "model_folder_missing",
            NotUsed,
            &["model", "import", "{dir}/nope", "--name", "bad"],
        )
        .err(&["{dir}/nope"])
        .after(After::NoModel),
        // ---- workspace files ---------------------------------------------------------
        case("ws_missing_profile", Missing, &["profile", "{ws}"]).err(&["no workspace at", "{ws}"]),
        case(
            "ws_missing_train",
            Missing,
            &["train", "{ws}", "--split", "main", "--epochs", "1"],
        )
        .err(&["no workspace at", "{ws}"]),
        case("ws_missing_calibrate", Missing, &["calibrate", "{ws}"])
            .err(&["no workspace at", "{ws}"]),
        case("ws_missing_tables", Missing, &["tables", "{ws}"]).err(&["no workspace at", "{ws}"]),
        case("ws_missing_runs", Missing, &["runs", "{ws}"]).err(&["no workspace at", "{ws}"]),
        case("ws_text_file_profile", Text, &["profile", "{ws}"])
            .err(&["{ws}", "not a DuckDB workspace file"]),
        case(
            "ws_text_file_import",
            Text,
            &["import", "{ws}", "{dir}/ml.inter"],
        )
        .setup(|fx, d| fx.ml_slice(d, 20))
        .err(&["{ws}", "not a DuckDB workspace file"]),
        case("ws_empty_file_tables", Empty, &["tables", "{ws}"])
            .err(&["{ws}", "not a DuckDB workspace file"]),
        case("ws_directory_profile", NotUsed, &["profile", "{dir}"]).err(&["{dir}"]),
        case("ws_plain_duckdb_runs", PlainDuckDb, &["runs", "{ws}"])
            .err(&["{ws}", "not a ShopLab workspace"]),
        case(
            "ws_plain_duckdb_train",
            PlainDuckDb,
            &["train", "{ws}", "--split", "main", "--epochs", "1"],
        )
        .err(&["{ws}", "not a ShopLab workspace"]),
        case("ws_newer_profile", Newer, &["profile", "{ws}"]).err(&["{ws}", "newer ShopLab"]),
        case(
            "ws_newer_import",
            Newer,
            &["import", "{ws}", "{dir}/ml.inter"],
        )
        .setup(|fx, d| fx.ml_slice(d, 20))
        .err(&["{ws}", "newer ShopLab"]),
        case("ws_older_profile_migrates", Older, &["profile", "{ws}"])
            .exit(&[0])
            .err(&["migrated"])
            .after(After::Migrated),
        case(
            "ws_older_import_migrates",
            Older,
            &["import", "{ws}", "{dir}/ml.inter"],
        )
        .setup(|fx, d| fx.ml_slice(d, 20))
        .exit(&[0])
        .err(&["migrated"])
        .after(After::Migrated),
        // A read-only command reads an older workspace as it is: no migration, no write.
        case("ws_older_tables_read_only", Older, &["tables", "{ws}"]).exit(&[0]),
    ]
}

// ---------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------

const REES_HEADER: &str =
    "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session";

fn rees_row(time: &str, price: &str, user: usize) -> String {
    format!(
        "{time},view,{},2053013555631882655,electronics.smartphone,acme,{price},{user},s-{user}",
        1000 + user
    )
}

/// A REES46 export: `good` good rows (line 2 on), then `bad`, then `tail` good rows.
fn rees_file(good: usize, bad: &[String], tail: usize) -> String {
    let row = |i: usize| {
        let t = format!(
            "2019-10-01 {:02}:{:02}:{:02} UTC",
            i / 3600,
            i / 60 % 60,
            i % 60
        );
        rees_row(&t, "9.99", i)
    };
    let mut lines = vec![REES_HEADER.to_string()];
    lines.extend((0..good).map(row));
    lines.extend(bad.iter().cloned());
    lines.extend((good..good + tail).map(row));
    lines.join("\n") + "\n"
}

/// The mapping `shoplab import --show-mapping` proposes for `ml-100k.inter`, shared with the
/// mapping properties (line numbers matter: the cases edit lines 2, 3, 9 and 31).
const MAPPING: &str = include_str!("../fixtures/recbole-mapping.toml");

/// A small scenario that runs in a second (line numbers matter: the cases edit lines 2, 4,
/// 9 and 10).
const SCENARIO: &str = r#"name = "tiny"
days = 2
sessions_per_day = 40
seeds = 1
world = { seed = 7, users = 100, items = 40, categories = 4 }

[[policies]]
name = "list"
recommend = "popularity"
pricing = { kind = "list" }
"#;

fn mapping_case(fx: &Fixture, dir: &Path, mapping: &str) {
    fx.ml_slice(dir, 20);
    write(dir, "m.toml", mapping);
}

fn write(dir: &Path, name: &str, text: &str) {
    write_bytes(dir, name, text.as_bytes());
}

fn write_bytes(dir: &Path, name: &str, bytes: &[u8]) {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(p, bytes).unwrap();
}

/// Bytes from a fixed xorshift stream: the same garbage every run.
fn garbage(n: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A gzip member of stored (uncompressed) deflate blocks: a real `.gz` without a
/// compression library.
fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    if data.is_empty() {
        out.extend([1, 0, 0, 0xff, 0xff]);
    }
    let mut chunks = data.chunks(0xFFFF).peekable();
    while let Some(chunk) = chunks.next() {
        out.push(u8::from(chunks.peek().is_none()));
        let len = chunk.len() as u16;
        out.extend(len.to_le_bytes());
        out.extend((!len).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend(crc32(data).to_le_bytes());
    out.extend((data.len() as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[derive(Clone, Copy)]
enum Weights {
    Full,
    Half,
}

// ---------------------------------------------------------------------------------------
// The fixture: the base workspaces, prepared once
// ---------------------------------------------------------------------------------------

struct Fixture {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    base: PathBuf,
    newer: PathBuf,
    older: PathBuf,
    plain: PathBuf,
    /// `ml-100k.inter`'s header and its first rows.
    ml: Vec<String>,
    minilm: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().to_path_buf();
        let inter = dataset("ml-100k/ml-100k.inter");
        let text = std::fs::read_to_string(&inter).unwrap();
        let ml: Vec<String> = text.lines().take(BASE_ROWS + 1).map(String::from).collect();
        let prep = root.join("prep");
        std::fs::create_dir_all(&prep).unwrap();
        let slice = prep.join("ml-2000.inter");
        std::fs::write(&slice, ml.join("\n") + "\n").unwrap();

        let base = prep.join("base.duckdb");
        must(&["import", s(&base), s(&slice)], &root);
        must(&["split", s(&base), "--name", "main"], &root);
        let versioned = |name: &str, version: &str| {
            let p = prep.join(name);
            std::fs::copy(&base, &p).unwrap();
            let q =
                format!("UPDATE shoplab_meta SET value = '{version}' WHERE key = 'schema_version'");
            must(&["sql", s(&p), &q], &root);
            p
        };
        let newer = versioned("newer.duckdb", "99");
        let older = versioned("older.duckdb", "6");
        let plain = prep.join("plain.duckdb");
        {
            let conn = duckdb::Connection::open(&plain).unwrap();
            conn.execute_batch(
                "CREATE TABLE notes(id INTEGER, body VARCHAR); INSERT INTO notes VALUES (1, 'hello');",
            )
            .unwrap();
        }
        Fixture {
            _tmp: tmp,
            root,
            base,
            newer,
            older,
            plain,
            ml,
            minilm: dataset("minilm"),
        }
    }

    /// `ml.inter` in `dir`: the header and `rows` rows (a file the base has not seen).
    fn ml_slice(&self, dir: &Path, rows: usize) {
        let tail = &self.ml[self.ml.len() - rows..];
        let text = std::iter::once(&self.ml[0])
            .chain(tail)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n");
        write(dir, "ml.inter", &(text + "\n"));
    }

    /// `dir/model`: the cached MiniLM folder's small files, and its weights linked (or
    /// copied), or their first half.
    fn model_copy(&self, dir: &Path, weights: Weights) {
        let dst = dir.join("model");
        std::fs::create_dir_all(&dst).unwrap();
        for entry in std::fs::read_dir(&self.minilm).unwrap() {
            let entry = entry.unwrap();
            let (from, to) = (entry.path(), dst.join(entry.file_name()));
            if from.is_dir() {
                std::fs::create_dir_all(&to).unwrap();
                for inner in std::fs::read_dir(&from).unwrap() {
                    let inner = inner.unwrap();
                    std::fs::copy(inner.path(), to.join(inner.file_name())).unwrap();
                }
            } else if entry.file_name() == "model.safetensors" {
                match weights {
                    Weights::Full => {
                        if std::fs::hard_link(&from, &to).is_err() {
                            std::fs::copy(&from, &to).unwrap();
                        }
                    }
                    Weights::Half => {
                        let bytes = std::fs::read(&from).unwrap();
                        std::fs::write(&to, &bytes[..bytes.len() / 2]).unwrap();
                    }
                }
            } else {
                std::fs::copy(&from, &to).unwrap();
            }
        }
    }
}

fn dataset(rel: &str) -> PathBuf {
    shoplab_engine::dataset_path(rel).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs a preparation step that must succeed.
fn must(args: &[&str], root: &Path) {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let out = shoplab(&args, root, &root.join("models"), &root.join("prep-out"));
    assert_eq!(
        out.code,
        Some(0),
        "preparing the corpus: shoplab {args:?} failed:\n{}",
        out.stderr
    );
}

// ---------------------------------------------------------------------------------------
// Running a case
// ---------------------------------------------------------------------------------------

struct Outcome {
    /// `None`: killed by a signal, or by the timeout.
    code: Option<i32>,
    timed_out: bool,
    stdout: String,
    stderr: String,
}

/// Runs `shoplab` with its caches and models folder under `root` and `models`; output goes
/// through files in `out` (outside the case folder), so nothing blocks and nothing is
/// written where the case looks for new files.
fn shoplab(args: &[String], root: &Path, models: &Path, out: &Path) -> Outcome {
    std::fs::create_dir_all(out).unwrap();
    let (o, e) = (out.join("stdout"), out.join("stderr"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_shoplab"))
        .args(args)
        .env("SHOPLAB_CACHE", root.join("cache"))
        .env("SHOPLAB_MODELS", models)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&o).unwrap())
        .stderr(std::fs::File::create(&e).unwrap())
        .spawn()
        .expect("run shoplab");
    let started = Instant::now();
    let (status, timed_out) = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break (Some(status), false);
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break (None, true);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read =
        |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
    Outcome {
        code: status.and_then(|s| s.code()),
        timed_out,
        stdout: read(&o),
        stderr: read(&e),
    }
}

/// The case folder's files (names and contents, one level into sub-folders by name only),
/// the workspace's bytes and its `.wal`'s.
#[derive(PartialEq, Eq)]
struct Snapshot {
    names: Vec<String>,
    ws: Option<Vec<u8>>,
    wal: Option<Vec<u8>>,
}

fn snapshot(dir: &Path, ws: &Path) -> Snapshot {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    Snapshot {
        names,
        ws: std::fs::read(ws).ok(),
        wal: std::fs::read(wal_of(ws)).ok(),
    }
}

fn wal_of(ws: &Path) -> PathBuf {
    let mut name = ws.file_name().unwrap().to_os_string();
    name.push(".wal");
    ws.with_file_name(name)
}

/// One row of the report.
struct Row {
    name: &'static str,
    exit: String,
    message: String,
    unchanged: String,
    failures: Vec<String>,
}

fn run_case(fx: &Fixture, case: &Case, n: usize) -> Row {
    let dir = fx.root.join("cases").join(case.name);
    std::fs::create_dir_all(&dir).unwrap();
    let ws = dir.join("shop.duckdb");
    match case.ws {
        Ws::NotUsed | Ws::Missing => {}
        Ws::Base => drop(std::fs::copy(&fx.base, &ws).unwrap()),
        Ws::Newer => drop(std::fs::copy(&fx.newer, &ws).unwrap()),
        Ws::Older => drop(std::fs::copy(&fx.older, &ws).unwrap()),
        Ws::PlainDuckDb => drop(std::fs::copy(&fx.plain, &ws).unwrap()),
        Ws::Text => write(&dir, "shop.duckdb", "shop notes: buy milk\nand bread\n"),
        Ws::Empty => write(&dir, "shop.duckdb", ""),
    }
    (case.setup)(fx, &dir);
    let models = fx.root.join("models").join(case.name);
    let before = snapshot(&dir, &ws);
    let events_before = if before.ws.is_some() && matches!(case.ws, Ws::Base) {
        count(&ws, "SELECT count(*) FROM events").ok()
    } else {
        None
    };

    let (ws_s, dir_s) = (ws.display().to_string(), dir.display().to_string());
    let fill = |a: &str| a.replace("{ws}", &ws_s).replace("{dir}", &dir_s);
    let args: Vec<String> = case.args.iter().map(|a| fill(a)).collect();
    let out = shoplab(
        &args,
        &fx.root,
        &models,
        &fx.root.join("out").join(format!("{n:03}")),
    );

    let mut failures = Vec::new();
    let exit = match (out.code, out.timed_out) {
        (_, true) => "timeout".to_string(),
        (Some(c), _) => c.to_string(),
        (None, _) => "signal".to_string(),
    };
    if !out.code.is_some_and(|c| case.exit.contains(&c)) {
        failures.push(format!("exit {exit}, expected {:?}", case.exit));
    }
    if out.stderr.contains("panicked") || out.code == Some(101) {
        failures.push("panicked".into());
    }
    if out.code.is_some_and(|c| c != 0) && !out.stderr.starts_with("error") {
        failures.push("stderr does not start with \"error\"".into());
    }
    for want in &case.stderr {
        let want = fill(want);
        if !out.stderr.contains(&want) {
            failures.push(format!("stderr lacks {want:?}"));
        }
    }
    if !case.any_of.is_empty() && !case.any_of.iter().any(|w| out.stderr.contains(&fill(w))) {
        let shown: Vec<String> = case.any_of.iter().map(|w| fill(w)).collect();
        failures.push(format!("stderr has none of {shown:?}"));
    }

    let after = snapshot(&dir, &ws);
    let unchanged = match case.after {
        After::Unchanged | After::NoModel => {
            let mut verdict = refused_verdict(case.ws, &before, &after, &mut failures);
            if let Some(diff) = table_diff(case, &ws, &before, &after) {
                verdict.push_str(&format!(" ({diff})"));
            }
            if matches!(case.after, After::NoModel) {
                let left: Vec<String> = std::fs::read_dir(&models)
                    .map(|rd| {
                        rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                if !left.is_empty() {
                    failures.push(format!("the models folder has {left:?}"));
                }
            }
            verdict
        }
        After::Imported {
            loaded,
            rejected,
            lines,
            check,
        } => check_import(
            &ws,
            &out.stdout,
            events_before,
            (loaded, rejected, lines, check),
            &mut failures,
        ),
        After::Migrated => check_migrated(&dir, &ws, &out.stderr, &mut failures),
        After::ModelImported(name) => {
            if !models.join(name).join("config.json").is_file() {
                failures.push(format!("no {name}/config.json in the models folder"));
            }
            "n/a (model imported)".into()
        }
    };

    let first = out
        .stderr
        .lines()
        .find(|l| !l.trim().is_empty())
        .or_else(|| {
            let json = out.stdout.starts_with(['[', '{']);
            (!json).then(|| out.stdout.lines().next()).flatten()
        })
        .unwrap_or("(stderr empty)")
        .replace(&dir_s, "<dir>");
    Row {
        name: case.name,
        exit,
        message: first,
        unchanged,
        failures,
    }
}

/// The "workspace unchanged" column of a refused case, and its failures.
fn refused_verdict(
    ws: Ws,
    before: &Snapshot,
    after: &Snapshot,
    failures: &mut Vec<String>,
) -> String {
    let mut verdict = match (ws, &before.ws, &after.ws) {
        (Ws::NotUsed, _, _) => "n/a".to_string(),
        (_, None, None) => "yes (still absent)".to_string(),
        (_, None, Some(_)) => {
            failures.push("the missing workspace was created".into());
            "NO: created".to_string()
        }
        (_, Some(_), None) => {
            failures.push("the workspace was removed".into());
            "NO: removed".to_string()
        }
        (_, Some(a), Some(b)) if a == b && before.wal == after.wal => "yes".to_string(),
        (_, Some(a), Some(b)) => {
            let what = if a != b { "file" } else { ".wal" };
            failures.push(format!("the workspace changed ({what})"));
            format!("NO: {what} changed")
        }
    };
    if before.names != after.names {
        let added: Vec<&String> = after
            .names
            .iter()
            .filter(|n| !before.names.contains(n))
            .collect();
        let removed: Vec<&String> = before
            .names
            .iter()
            .filter(|n| !after.names.contains(n))
            .collect();
        failures.push(format!("files added {added:?}, removed {removed:?}"));
        verdict.push_str(&format!("; files added {added:?}"));
    }
    verdict
}

/// For a changed workspace, which tables' row counts changed (the base's tables).
fn table_diff(case: &Case, ws: &Path, before: &Snapshot, after: &Snapshot) -> Option<String> {
    if before.ws == after.ws || !matches!(case.ws, Ws::Base) || after.ws.is_none() {
        return None;
    }
    let copy = ws.with_extension("before.duckdb");
    std::fs::write(&copy, before.ws.as_ref()?).ok()?;
    let tables = [
        "events",
        "imports",
        "import_rejects",
        "profiles",
        "splits",
        "runs",
        "sims",
        "calibrations",
    ];
    let mut changed = Vec::new();
    for t in tables {
        let q = format!("SELECT count(*) FROM {t}");
        let (a, b) = (count(&copy, &q).ok()?, count(ws, &q).ok()?);
        if a != b {
            changed.push(format!("{t} {a}→{b}"));
        }
    }
    let _ = std::fs::remove_file(&copy);
    let _ = std::fs::remove_file(wal_of(&copy));
    Some(if changed.is_empty() {
        "same row counts".into()
    } else {
        changed.join(", ")
    })
}

fn count(db: &Path, query: &str) -> duckdb::Result<i64> {
    let config = duckdb::Config::default().access_mode(duckdb::AccessMode::ReadOnly)?;
    let conn = duckdb::Connection::open_with_flags(db, config)?;
    conn.query_row(query, [], |r| r.get(0))
}

type Expected = (u64, u64, &'static [i64], Option<(&'static str, i64)>);

fn check_import(
    ws: &Path,
    stdout: &str,
    events_before: Option<i64>,
    (loaded, rejected, lines, check): Expected,
    failures: &mut Vec<String>,
) -> String {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(stdout) else {
        failures.push("no JSON report on stdout".into());
        return "no import report".into();
    };
    let r = &json[0];
    let n = |k: &str| r[k].as_u64().unwrap_or(u64::MAX);
    if (n("rows_loaded"), n("rows_rejected")) != (loaded, rejected) {
        failures.push(format!(
            "loaded {} rejected {}, expected {loaded} and {rejected}",
            n("rows_loaded"),
            n("rows_rejected")
        ));
    }
    if n("rows_read") != n("rows_loaded") + n("rows_rejected") + n("rows_duplicate") {
        failures.push(format!(
            "rows_read {} is not loaded + rejected + duplicates",
            n("rows_read")
        ));
    }
    if let Some(before) = events_before {
        match count(ws, "SELECT count(*) FROM events") {
            Ok(after) if after - before == loaded as i64 => {}
            Ok(after) => failures.push(format!("events {before} → {after}, expected +{loaded}")),
            Err(e) => failures.push(format!("cannot count events: {e}")),
        }
    }
    let id = n("import_id");
    let got: Vec<i64> = (|| -> duckdb::Result<Vec<i64>> {
        let config = duckdb::Config::default().access_mode(duckdb::AccessMode::ReadOnly)?;
        let conn = duckdb::Connection::open_with_flags(ws, config)?;
        let mut st = conn.prepare(
            "SELECT coalesce(line, -1) FROM import_rejects WHERE import_id = ? ORDER BY line",
        )?;
        st.query_map([id as i64], |r| r.get(0))?.collect()
    })()
    .unwrap_or_else(|e| {
        failures.push(format!("cannot read import_rejects: {e}"));
        Vec::new()
    });
    if got != lines {
        failures.push(format!("rejected lines {got:?}, expected {lines:?}"));
    }
    if let Some((query, want)) = check {
        match count(ws, query) {
            Ok(got) if got == want => {}
            Ok(got) => failures.push(format!("{query}: {got}, expected {want}")),
            Err(e) => failures.push(format!("{query}: {e}")),
        }
    }
    format!(
        "no: imported {}, rejected {}",
        n("rows_loaded"),
        n("rows_rejected")
    )
}

fn check_migrated(dir: &Path, ws: &Path, stderr: &str, failures: &mut Vec<String>) -> String {
    let backups: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("shop.duckdb.") && name.contains("bak") && !name.ends_with(".wal")
        })
        .collect();
    let [backup] = backups.as_slice() else {
        failures.push(format!(
            "expected one backup beside the workspace, found {backups:?}"
        ));
        return "NO backup".into();
    };
    if !stderr.contains(&backup.display().to_string()) {
        failures.push(format!(
            "stderr does not name the backup {}",
            backup.display()
        ));
    }
    let version =
        "SELECT CAST(max(value) AS BIGINT) FROM shoplab_meta WHERE key = 'schema_version'";
    match count(backup, version) {
        Ok(6) => {}
        other => failures.push(format!(
            "the backup's schema version is {other:?}, expected 6"
        )),
    }
    match count(ws, version) {
        Ok(v) if v > 6 => {}
        other => failures.push(format!("the migrated schema version is {other:?}")),
    }
    format!(
        "migrated; backup {}",
        backup.file_name().unwrap().to_string_lossy()
    )
}

// ---------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------

#[test]
fn bad_input_corpus() {
    let fx = Fixture::new();
    let cases = cases();
    let mut names = std::collections::HashSet::new();
    for c in &cases {
        assert!(names.insert(c.name), "two cases named {}", c.name);
    }
    assert!(cases.len() >= 45, "the corpus has {} cases", cases.len());

    let started = Instant::now();
    let rows: Vec<Row> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| run_case(&fx, c, i))
        .collect();

    let cell = |t: &str| {
        let t: String = t.chars().take(140).collect();
        t.replace('|', "\\|")
    };
    let mut md = String::new();
    let failing: Vec<&Row> = rows.iter().filter(|r| !r.failures.is_empty()).collect();
    let _ = writeln!(
        md,
        "# The bad-input corpus\n\n{} cases, {} passing, {} failing ({:.0} s).\n",
        rows.len(),
        rows.len() - failing.len(),
        failing.len(),
        started.elapsed().as_secs_f64()
    );
    let _ = writeln!(
        md,
        "case | exit | first line of message | workspace unchanged"
    );
    let _ = writeln!(md, "--- | --- | --- | ---");
    for r in &rows {
        let mark = if r.failures.is_empty() { "" } else { " ❌" };
        let _ = writeln!(
            md,
            "{}{mark} | {} | {} | {}",
            r.name,
            r.exit,
            cell(&r.message),
            cell(&r.unchanged)
        );
    }
    if !failing.is_empty() {
        let _ = writeln!(md, "\n## Failing cases\n");
        for r in &failing {
            let _ = writeln!(md, "- **{}**: {}", r.name, r.failures.join("; "));
        }
    }
    println!("{md}");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let report = target.join("bad-input-corpus.md");
    match std::fs::write(&report, &md) {
        Ok(()) => println!("written to {}", report.display()),
        Err(e) => println!("cannot write {}: {e}", report.display()),
    }

    let summary: BTreeMap<&str, String> = failing
        .iter()
        .map(|r| (r.name, r.failures.join("; ")))
        .collect();
    assert!(
        summary.is_empty(),
        "{} of {} bad-input cases fail:\n{}",
        summary.len(),
        rows.len(),
        summary
            .iter()
            .map(|(k, v)| format!("  {k}: {v}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
