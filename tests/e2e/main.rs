//! End-to-end: the `shoplab` binary as a user runs it, on real public datasets.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn shoplab(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_shoplab"))
        .args(args)
        .env(
            "SHOPLAB_CACHE",
            std::env::temp_dir().join("shoplab-e2e-cache"),
        )
        .env(
            "SHOPLAB_MODELS",
            std::env::temp_dir().join("shoplab-e2e-models"),
        )
        .output()
        .expect("run shoplab")
}

fn ok(args: &[&str]) -> String {
    let out = shoplab(args);
    assert!(
        out.status.success(),
        "shoplab {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The error a command that must fail prints.
fn refused(args: &[&str]) -> String {
    let out = shoplab(args);
    assert!(!out.status.success(), "shoplab {args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn json(args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&ok(args)).expect("json output")
}

/// The JSON lines a command prints (one record a line).
fn json_lines(args: &[&str]) -> Vec<serde_json::Value> {
    let out = ok(args);
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The one value a one-row, one-column query returns.
fn sql_value(ws: &Path, query: &str) -> f64 {
    let out = ok(&["sql", s(ws), query]);
    let value = out.lines().nth(1).unwrap_or_default().trim();
    value
        .parse()
        .unwrap_or_else(|_| panic!("{query}: not one number: {out}"))
}

fn dataset(rel: &str) -> PathBuf {
    shoplab_engine::dataset_path(rel).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn movielens_import_profile_split() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("shop.duckdb");
    let data = dataset("ml-100k/ml-100k.inter");
    let reports = json(&["import", s(&ws), s(&data), "--json"]);
    assert_eq!(reports[0]["format"], "recbole");
    assert_eq!(reports[0]["rows_loaded"], 100_000);
    assert_eq!(reports[0]["rows_rejected"], 0);

    let profile = json(&["profile", s(&ws), "--json"]);
    assert_eq!(profile["events"], 100_000);
    assert_eq!(profile["users"], 943);
    assert_eq!(profile["items"], 1682);

    let a = json(&[
        "split",
        s(&ws),
        "--name",
        "main",
        "--strategy",
        "random",
        "--seed",
        "7",
        "--json",
    ]);
    let b = json(&[
        "split",
        s(&ws),
        "--name",
        "again",
        "--strategy",
        "random",
        "--seed",
        "7",
        "--json",
    ]);
    assert_eq!(a["n_train"], b["n_train"]);
    let total = a["n_train"].as_u64().unwrap()
        + a["n_valid"].as_u64().unwrap()
        + a["n_test"].as_u64().unwrap();
    assert_eq!(total, 100_000);

    // The workspace is a plain DuckDB file.
    let conn = duckdb::Connection::open(&ws).unwrap();
    let differing: i64 = conn
        .query_row(
            "SELECT count(*) FROM (
               (SELECT part, user_id, item_id FROM split_interactions WHERE split = 'main'
                EXCEPT ALL SELECT part, user_id, item_id FROM split_interactions WHERE split = 'again'))",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(differing, 0, "same seed, same split");
    let n: i64 = conn
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 100_000);
}

#[test]
fn mapping_can_be_shown_edited_and_used() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("shop.duckdb");
    let data = dataset("ml-100k/ml-100k.inter");
    let toml = ok(&["import", s(&ws), s(&data), "--show-mapping"]);
    assert!(toml.contains("format = \"recbole\""), "{toml}");
    assert!(toml.contains("format = \"epoch_s\""), "{toml}");
    // Treat every rating of 4 or more as a purchase-like signal by renaming the event type.
    let edited = toml.replace("value = \"rating\"", "value = \"purchase\"");
    assert_ne!(edited, toml);
    let mapping = dir.path().join("m.toml");
    std::fs::write(
        &mapping,
        edited.lines().skip(1).collect::<Vec<_>>().join("\n"),
    )
    .unwrap();
    let reports = json(&[
        "import",
        s(&ws),
        s(&data),
        "--mapping",
        s(&mapping),
        "--json",
    ]);
    assert_eq!(reports[0]["rows_loaded"], 100_000);
    let conn = duckdb::Connection::open(&ws).unwrap();
    let n: i64 = conn
        .query_row(
            "SELECT count(*) FROM events WHERE event_type = 'purchase'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 100_000);
}

#[test]
fn open_bandit_and_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("shop.duckdb");
    let obd = dataset("obd/random/all/all.csv");
    let costco = dataset("costco/electronics_dataset.csv");
    let r = json(&["import", s(&ws), s(&obd), "--json"]);
    assert_eq!(r[0]["target"], "bandit_log");
    assert_eq!(r[0]["rows_loaded"], 10_000);
    let r = json(&["import", s(&ws), s(&costco), "--kind", "items", "--json"]);
    assert_eq!(r[0]["rows_read"], 643);
    let tables = json(&["tables", s(&ws), "--json"]);
    let rows = |t: &str| {
        tables
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["table"] == t)
            .unwrap()["rows"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(rows("bandit_log"), 10_000);
    assert_eq!(rows("items"), 643);
}

#[test]
fn bad_input_exits_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("shop.duckdb");
    let empty = dir.path().join("empty.csv");
    std::fs::write(&empty, "").unwrap();
    let out = shoplab(&["import", s(&ws), s(&empty)]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: ") && err.contains("empty.csv") && err.contains("empty"),
        "{err}"
    );

    let not_db = dir.path().join("notes.duckdb");
    std::fs::write(&not_db, "hello").unwrap();
    let out = shoplab(&["profile", s(&not_db)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a DuckDB workspace file"));
}

#[test]
fn demo_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let a = json(&[
        "demo",
        "--out",
        s(&dir.path().join("a.duckdb")),
        "--data-only",
        "--json",
    ]);
    let b = json(&[
        "demo",
        "--out",
        s(&dir.path().join("b.duckdb")),
        "--data-only",
        "--json",
    ]);
    assert_eq!(a["events"]["rows_rejected"], 0);
    assert_eq!(a["catalog"]["rows_rejected"], 0);
    assert!(a["events"]["rows_loaded"].as_u64().unwrap() > 50_000);
    assert_eq!(a["events"]["rows_loaded"], b["events"]["rows_loaded"]);
    assert_eq!(a["profile"], b["profile"]);
    assert_eq!(a["split"]["n_test"], b["split"]["n_test"]);
    let p = &a["profile"];
    assert!(p["funnel"]["view_to_purchase"].as_f64().unwrap() > 0.0);
    assert_eq!(p["catalog_items"], a["catalog"]["rows_loaded"]);
}

/// What the recognizer proposes for real exports (edit a mapping starting from these).
#[test]
fn recognized_mappings() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("shop.duckdb");
    for (name, rel, kind) in [
        ("movielens_recbole_inter", "ml-100k/ml-100k.inter", None),
        (
            "movielens_recbole_item",
            "ml-100k/ml-100k.item",
            Some("items"),
        ),
        ("open_bandit_random_all", "obd/random/all/all.csv", None),
        (
            "costco_catalog",
            "costco/electronics_dataset.csv",
            Some("items"),
        ),
    ] {
        let path = dataset(rel);
        let mut args = vec!["import", s(&ws), s(&path), "--show-mapping"];
        if let Some(k) = kind {
            args.extend(["--kind", k]);
        }
        let out = ok(&args);
        // The first line names the file (a machine-specific path).
        let toml: String = out.lines().skip(1).collect::<Vec<_>>().join("\n");
        insta::assert_snapshot!(name, toml);
    }
}

#[test]
fn train_runs_compare_recommend() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("shop.duckdb");
    ok(&["import", s(&ws), s(&dataset("ml-100k/ml-100k.inter"))]);
    ok(&[
        "split",
        s(&ws),
        "--name",
        "main",
        "--strategy",
        "stratified",
        "--train",
        "0.75",
        "--valid",
        "0",
        "--test",
        "0.25",
    ]);
    let pop = json(&[
        "train",
        s(&ws),
        "--split",
        "main",
        "--model",
        "pop",
        "--json",
    ]);
    let ease = json(&[
        "train",
        s(&ws),
        "--split",
        "main",
        "--model",
        "ease",
        "--json",
    ]);
    assert_eq!(ease["status"], "finished");
    assert_eq!(ease["device"], "cpu");
    let (p, e) = (
        pop["metrics"]["ndcg@10"].as_f64().unwrap(),
        ease["metrics"]["ndcg@10"].as_f64().unwrap(),
    );
    assert!(e > p + 0.2, "ease {e} vs pop {p}");

    let runs = json(&["runs", s(&ws), "--json"]);
    assert_eq!(runs.as_array().unwrap().len(), 2);
    assert_eq!(runs[1]["model"], "ease");
    let listed = ok(&["runs", s(&ws)]);
    assert!(listed.contains("ease") && listed.contains("finished"));
    // Tags and a note on a run; `runs --tag` filters on them.
    let tagged = json(&[
        "tag",
        s(&ws),
        "2",
        "--add",
        "baseline,closed-form",
        "--note",
        "λ 300",
        "--json",
    ]);
    assert_eq!(
        tagged[0]["tags"],
        serde_json::json!(["baseline", "closed-form"])
    );
    assert_eq!(tagged[0]["note"], "λ 300");
    let tagged = json(&["tag", s(&ws), "2", "--remove", "closed-form", "--json"]);
    assert_eq!(tagged[0]["tags"], serde_json::json!(["baseline"]));
    assert_eq!(tagged[0]["note"], "λ 300");
    let only = json(&["runs", s(&ws), "--tag", "baseline", "--json"]);
    assert_eq!(only.as_array().unwrap().len(), 1);
    assert_eq!(only[0]["run_id"], 2);
    assert!(ok(&["runs", s(&ws)]).contains("#baseline  \"λ 300\""));
    let bad = shoplab(&["tag", s(&ws), "2", "--add", " "]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("a tag is 1–40 characters"));

    let c = json(&["compare", s(&ws), "1", "2", "--metric", "ndcg@10", "--json"]);
    assert_eq!(c["users"], 943);
    assert!(c["t_interval"][0].as_f64().unwrap() > 0.0);

    let recs = json(&[
        "recommend",
        s(&ws),
        "--run",
        "2",
        "--user",
        "196",
        "-k",
        "5",
        "--json",
    ]);
    assert_eq!(recs.as_array().unwrap().len(), 5);
    assert_eq!(recs[0]["rank"], 1);

    // A shopper the run never saw: three clicks (Star Wars, Fargo, Return of the Jedi),
    // read natively by EASE, each recommendation with the clicks behind it.
    let live = json(&[
        "recommend",
        s(&ws),
        "--run",
        "2",
        "--history",
        "50,100,181",
        "-k",
        "5",
        "--json",
    ]);
    assert_eq!(
        (live["model"].as_str(), live["reading"].as_str()),
        (Some("ease"), Some("native"))
    );
    let items = live["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    assert!(
        items
            .iter()
            .all(|i| !["50", "100", "181"].contains(&i["item_id"].as_str().unwrap()))
    );
    let because = items[0]["because"].as_array().unwrap();
    assert!(!because.is_empty() && because.len() <= 3, "{because:?}");
    let text = ok(&[
        "recommend",
        s(&ws),
        "--run",
        "2",
        "--history",
        "50,100,181",
        "-k",
        "3",
    ]);
    assert!(
        text.contains("reads the history natively") && text.contains("because: "),
        "{text}"
    );

    // A mistake gets a clear error.
    let out = shoplab(&["recommend", s(&ws), "--run", "9", "--user", "196"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("run 9: no such run"));

    // Every user's top 5 to Parquet, readable by DuckDB; the same list `recommend` gives.
    let parquet = dir.path().join("recs.parquet");
    let written = json(&[
        "export",
        s(&ws),
        "--run",
        "2",
        "--recommendations",
        s(&parquet),
        "-k",
        "5",
        "--json",
    ]);
    assert_eq!(written["recommendations"], 943 * 5);
    let query = format!(
        "SELECT string_agg(item_id, ',' ORDER BY rank) FROM '{}' WHERE user_id = '196'",
        s(&parquet)
    );
    let from_file = ok(&["sql", s(&ws), &query]);
    let listed: Vec<&str> = recs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["item_id"].as_str().unwrap())
        .collect();
    assert!(from_file.contains(&listed.join(",")), "{from_file}");
    // Surprise-style cross-validation: k-fold splits, one run per split, mean ± std.
    ok(&[
        "split",
        s(&ws),
        "--name",
        "cv",
        "--strategy",
        "kfold",
        "--folds",
        "3",
        "--seed",
        "1",
    ]);
    let lines = json_lines(&[
        "train",
        s(&ws),
        "--split",
        "cv1,cv2,cv3",
        "--model",
        "pop",
        "--json",
    ]);
    assert_eq!(lines.len(), 4, "{lines:?}");
    let cv = &lines[3]["cross_validation"];
    assert_eq!(cv["splits"], serde_json::json!(["cv1", "cv2", "cv3"]));
    let mean = cv["metrics"]["ndcg@10"]["mean"].as_f64().unwrap();
    let each: f64 = lines[..3]
        .iter()
        .map(|l| l["metrics"]["ndcg@10"].as_f64().unwrap())
        .sum::<f64>()
        / 3.0;
    assert!((mean - each).abs() < 1e-12 && cv["metrics"]["ndcg@10"]["std"].as_f64().unwrap() > 0.0);

    // A sweep: a small MF grid (SGD, two epochs) over factors, two seeds each; every trial
    // is a tagged run, and the summary groups the seeds and ranks the options.
    let lines = json_lines(&[
        "train",
        s(&ws),
        "--split",
        "main",
        "--model",
        "mf",
        "--optimizer",
        "sgd",
        "--epochs",
        "2",
        "--grid",
        "factors=4,64",
        "--seeds",
        "1,2",
        "--tag",
        "mf-grid",
        "--metric",
        "rmse",
        "--json",
    ]);
    assert_eq!(lines.len(), 5, "{lines:?}");
    let summary = &lines[4];
    assert_eq!(summary["tag"], "mf-grid");
    assert_eq!(summary["trials"], 4);
    let groups = summary["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{summary}");
    assert_eq!(groups[0]["label"], "factors=4");
    assert_eq!(groups[0]["n"], 2);
    let (lo, hi) = (
        groups[0]["interval"][0].as_f64().unwrap(),
        groups[0]["interval"][1].as_f64().unwrap(),
    );
    let mean = groups[0]["mean"].as_f64().unwrap();
    assert!(
        lo < mean && mean < hi && mean > 0.8 && mean < 1.3,
        "{summary}"
    );
    let first = &summary["importance"][0];
    assert!(
        ["factors", "seed"].contains(&first["param"].as_str().unwrap()),
        "{summary}"
    );
    let tagged = json(&["runs", s(&ws), "--tag", "mf-grid", "--json"]);
    assert_eq!(tagged.as_array().map(Vec::len), Some(4), "{tagged}");
    // A bad axis is refused before anything runs: no run is added.
    let before = json(&["runs", s(&ws), "--json"]).as_array().unwrap().len();
    let out = shoplab(&[
        "train",
        s(&ws),
        "--split",
        "main",
        "--model",
        "mf",
        "--grid",
        "depth=1,2",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("depth is not a numeric option of mf"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = json(&["runs", s(&ws), "--json"]).as_array().unwrap().len();
    assert_eq!(before, after);

    // EASE has no user or item vectors: a clear error.
    let out = shoplab(&[
        "export",
        s(&ws),
        "--run",
        "2",
        "--embeddings",
        s(&dir.path().join("e.parquet")),
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("model ease has no embeddings"));
}

#[test]
fn pricing_policies_from_the_cli() {
    let rows = json(&[
        "pricing",
        "--horizon",
        "3000",
        "--seeds",
        "20",
        "--policies",
        "thompson,fixed:0,fixed:3",
        "--json",
    ]);
    let share = |i: usize| rows[i]["share"].as_f64().unwrap();
    assert_eq!(rows[0]["policy"], "thompson");
    assert_eq!(rows[0]["replicates"], 20);
    // The lowest price is the clairvoyant's for the default demand; Thompson gets close.
    assert!((share(1) - 1.0).abs() < 1e-12);
    assert!(share(0) > 0.95 && share(2) < 0.3, "{rows}");
    let out = shoplab(&["pricing", "--policies", "greedy"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown policy \"greedy\""));
}

/// The competitor's price swept from 70% to 100% of ours: each value stored as a
/// simulation; at list price we sell more the less the competitor cuts.
#[test]
fn a_scenario_parameter_swept_over_values() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("shop.duckdb");
    ok(&["init", s(&ws)]);
    let scenario =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/competitor-cut.toml");
    let lines = json_lines(&[
        "simulate",
        s(&ws),
        "--scenario",
        s(&scenario),
        "--seeds",
        "2",
        "--sweep",
        "events.0.competitor_price=0.7..1.0:3",
        "--json",
    ]);
    // A line per value as it finishes, then the report.
    assert_eq!(lines.len(), 4);
    let report = &lines[3];
    assert_eq!(report["complete"], true);
    assert_eq!(report["seeds"], 2);
    let points = report["points"].as_array().unwrap();
    let values: Vec<f64> = points
        .iter()
        .map(|p| p["value"].as_f64().unwrap())
        .collect();
    assert_eq!(values, vec![0.7, 0.85, 1.0]);
    let revenue = |p: &serde_json::Value, policy: &str| {
        let pol = p["policies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["policy"] == policy)
            .unwrap();
        let r = &pol["metrics"]["revenue"];
        assert!(
            r["low"].as_f64() <= r["mean"].as_f64() && r["mean"].as_f64() <= r["high"].as_f64()
        );
        r["mean"].as_f64().unwrap()
    };
    assert!(revenue(&points[0], "list price") < revenue(&points[2], "list price"));
    assert_eq!(points[0]["policies"].as_array().unwrap().len(), 6);
    let stored = sql_value(
        &ws,
        "SELECT count(*) FROM sims WHERE name LIKE '%events.0.competitor_price=%'",
    );
    assert_eq!(stored, 3.0);
    let err = refused(&[
        "simulate",
        s(&ws),
        "--scenario",
        s(&scenario),
        "--sweep",
        "events.5.competitor_price=1,2",
    ]);
    assert!(err.contains("index 5 past the list's 1 elements"), "{err}");
    // Nothing was stored by the refused sweep.
    assert_eq!(sql_value(&ws, "SELECT count(*) FROM sims"), 3.0);
}

#[test]
fn a_shipped_scenario_runs_and_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("shop.duckdb");
    // A simulation needs a workspace to store its results in: `init` makes an empty one.
    let created = json(&["init", s(&ws), "--json"]);
    assert_eq!(created["created"], true);
    let scenario =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/competitor-cut.toml");
    let out = json(&[
        "simulate",
        s(&ws),
        "--scenario",
        s(&scenario),
        "--seeds",
        "2",
        "--json",
    ]);
    assert_eq!(out["sim_id"], 1);
    let policies = out["policies"].as_array().unwrap();
    // The scenario's 5 policies and the clairvoyant oracle, each with its regret.
    assert_eq!(policies.len(), 6);
    assert_eq!(policies[5]["policy"], "oracle");
    assert_eq!(policies[5]["regret"]["mean"], 0.0);
    assert!(policies[0]["regret"]["mean"].as_f64().unwrap() > 0.0);
    let revenue = &policies[0]["revenue"];
    assert!(revenue["low"].as_f64().unwrap() <= revenue["mean"].as_f64().unwrap());
    // 6 policies × 2 replicates × 30 days of each metric, readable with SQL.
    let rows = sql_value(
        &ws,
        "SELECT count(*) FROM sim_metrics WHERE sim_id = 1 AND metric = 'revenue'",
    );
    assert_eq!(rows, 360.0);
    // Listed, and read back as the same table.
    let sims = json(&["sims", s(&ws), "--json"]);
    assert_eq!(sims[0]["sim_id"], 1);
    assert_eq!(sims[0]["seeds"], 2);
    assert_eq!(sims[0]["policies"].as_array().unwrap().len(), 6);
    assert_eq!(sims[0]["policies"][5], "oracle");
    let again = json(&["sims", s(&ws), "--show", "1", "--json"]);
    assert_eq!(again["policies"], out["policies"]);
    let text = ok(&[
        "simulate",
        s(&ws),
        "--scenario",
        s(&scenario),
        "--seeds",
        "2",
    ]);
    assert!(
        text.contains("simulation 2:") && text.contains("thompson grid"),
        "{text}"
    );
    // Results by category: the synthetic shop's 8, per policy, stored and read back.
    let cats = policies[0]["categories"].as_array().unwrap();
    assert_eq!(cats.len(), 8);
    let sessions: f64 = cats.iter().map(|c| c["sessions"].as_f64().unwrap()).sum();
    assert!(sessions > 0.0);
    assert!(text.contains("margin by category"), "{text}");
    let stored = sql_value(
        &ws,
        "SELECT count(*) FROM sim_categories WHERE sim_id = 1 AND replicate = 0",
    );
    assert_eq!(stored, 6.0 * 8.0);

    // The same cut under the shop's price rules: .99 endings over cost + 10%, smartphones at
    // most at list; the rules cost the unconstrained optimum margin.
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/price-rules.toml");
    let ruled = json(&[
        "simulate",
        s(&ws),
        "--scenario",
        s(&rules),
        "--seeds",
        "2",
        "--json",
    ]);
    let margin = |out: &serde_json::Value, policy: &str| -> f64 {
        out["policies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["policy"] == policy)
            .unwrap()["margin"]["mean"]
            .as_f64()
            .unwrap()
    };
    assert!(
        margin(&ruled, "oracle") < margin(&out, "oracle"),
        "{} {}",
        margin(&ruled, "oracle"),
        margin(&out, "oracle")
    );
    // A rule for a category the shop does not have: refused, nothing stored.
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(&rules).unwrap().replace(
            "category = \"electronics.smartphone\"\nceiling",
            "category = \"toys\"\nceiling",
        ),
    )
    .unwrap();
    let err = refused(&["simulate", s(&ws), "--scenario", s(&bad), "--seeds", "1"]);
    assert!(
        err.contains("\"toys\"") && err.contains("electronics.smartphone"),
        "{err}"
    );
    assert_eq!(sql_value(&ws, "SELECT count(*) FROM sims"), 3.0);
}

/// Open Bandit Dataset: Bernoulli TS evaluated from the uniform-random log of campaign
/// "all", its own log as the truth. The Open Bandit Pipeline publishes mean relative
/// errors DM 0.157, IPW 0.311, DR 0.292 over 30 bootstrap rounds; ours land within one
/// standard deviation of the rounds from each.
#[test]
fn off_policy_evaluation_on_the_open_bandit_sample() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("obd.duckdb");
    for log in ["random", "bts"] {
        ok(&[
            "import",
            s(&ws),
            s(&dataset(&format!("obd/{log}/all/all.csv"))),
        ]);
    }
    let r = json(&[
        "ope",
        s(&ws),
        "--log",
        "random",
        "--policy",
        "log:bts",
        "--campaign",
        "all",
        "--json",
    ]);
    assert_eq!(
        (
            r["rows"].as_u64(),
            r["actions"].as_u64(),
            r["positions"].as_u64()
        ),
        (Some(10_000), Some(80), Some(3))
    );
    // 42 clicks in the 10,000 rows of the Bernoulli TS log.
    assert!((r["truth"].as_f64().unwrap() - 0.0042).abs() < 1e-12);
    let errors = r["relative_errors"].as_array().unwrap();
    let at = |k: usize| {
        (
            errors[k][0].as_f64().unwrap(),
            errors[k][1].as_f64().unwrap(),
        )
    };
    // Measured: IPS 0.229 (0.204), SNIPS 0.256 (0.221), DM 0.195 (0.169), DR 0.231 (0.200).
    for (k, published) in [(0, 0.311), (2, 0.157), (3, 0.292)] {
        let (m, s) = at(k);
        assert!(
            (m - published).abs() <= s,
            "estimator {k}: {m} ± {s} vs {published}"
        );
    }
    let ips = r["estimates"]["ips"]["value"].as_f64().unwrap();
    assert!((ips - 0.00504).abs() < 5e-5, "{ips}");
    // The uniform target on a uniform log is the log's own mean reward (38 clicks).
    let u = json(&[
        "ope",
        s(&ws),
        "--log",
        "random",
        "--policy",
        "uniform",
        "--campaign",
        "all",
        "--json",
    ]);
    assert!((u["estimates"]["ips"]["value"].as_f64().unwrap() - 0.0038).abs() < 1e-12);
    let out = shoplab(&["ope", s(&ws), "--log", "greedy", "--policy", "uniform"]);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("no rows of policy \"greedy\" (policies: bts, random)")
    );
}

/// Real time streams each day as it is simulated and ends where the batch run ends.
#[test]
fn realtime_simulation_streams_days_and_matches_the_batch_run() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("shop.duckdb");
    // A simulation needs a workspace to store its results in: `init` makes an empty one.
    let created = json(&["init", s(&ws), "--json"]);
    assert_eq!(created["created"], true);
    let scenario =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/price-sensitivity-shift.toml");
    let args = |realtime: bool| {
        let mut a = vec![
            "simulate",
            s(&ws),
            "--scenario",
            s(&scenario),
            "--seeds",
            "2",
            "--json",
        ];
        if realtime {
            a.extend(["--realtime", "--day-ms", "5"]);
        }
        ok(&a)
    };
    let batch: serde_json::Value = serde_json::from_str(args(false).trim()).unwrap();
    let live = args(true);
    let lines: Vec<serde_json::Value> = live
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // 30 days × 4 policies (3 and the oracle) streamed, then the summary.
    assert_eq!(lines.len(), 121, "{live}");
    assert_eq!(
        (lines[0]["day"].as_u64(), lines[119]["day"].as_u64()),
        (Some(0), Some(29))
    );
    assert_eq!(lines[120]["policies"], batch["policies"]);
    assert_eq!(lines[120]["sim_id"], 2);
}

/// The calibration's demand curves: one per category, demand falling with price inside the
/// sensitivity's band, revenue-optimal prices where a logit puts them; one item's curve in
/// money; bad options named.
fn demand_curves_of_the_demo_shop(ws: &Path) {
    let d = json(&["demand", s(ws), "--json"]);
    assert_eq!(d["calibration_id"], 1);
    let curves = d["curves"].as_array().unwrap();
    assert_eq!(curves.len(), 8);
    let items: u64 = curves.iter().map(|c| c["items"].as_u64().unwrap()).sum();
    assert_eq!(items, 300);
    for c in curves {
        let beta = c["elasticity"].as_f64().unwrap();
        let [lo, hi] = [0, 1].map(|k| c["interval"][k].as_f64().unwrap());
        assert!(lo < beta && beta < hi, "{c}");
        let points = c["points"].as_array().unwrap();
        assert_eq!(points.len(), 41);
        let p = |i: usize, k: &str| points[i][k].as_f64().unwrap();
        assert!((1..41).all(|i| p(i, "p_buy") < p(i - 1, "p_buy")), "{c}");
        for (i, point) in points.iter().enumerate() {
            let [a, b] = [0, 1].map(|k| point["p_buy_band"][k].as_f64().unwrap());
            assert!(a <= p(i, "p_buy") + 1e-12 && p(i, "p_buy") <= b + 1e-12);
        }
        // The demo shop's prices vary around the list price.
        let [s05, s95] = [0, 1].map(|k| c["seen"][k].as_f64().unwrap());
        assert!(s05 < 1.0 && s95 > 0.95 && s95 < 1.5, "{c}");
        // Margin is price minus cost: its maximum is at a higher price than revenue's.
        let (rev, mar) = (&c["revenue_best"], &c["margin_best"]);
        assert!(mar["multiple"].as_f64() >= rev["multiple"].as_f64(), "{c}");
    }
    // One item: prices in money, the revenue-optimal price where σ = 1 − 1/β.
    let category = curves[0]["key"].as_str().unwrap().to_string();
    let cat = json(&["demand", s(ws), "--category", &category, "--json"]);
    let of = cat["curves"].as_array().unwrap();
    assert_eq!(of.len() as u64, 1 + curves[0]["items"].as_u64().unwrap());
    let one = &of[1];
    assert_eq!(one["scope"], "item");
    let text = ok(&["demand", s(ws), "--item", one["key"].as_str().unwrap()]);
    assert!(
        text.contains("revenue-max price") && text.lines().count() > 41,
        "{text}"
    );
    for (args, says) in [
        (vec!["--category", "no.such"], "not in calibration 1"),
        (vec!["--from", "1.5", "--to", "0.5"], "0 < from < to"),
        (vec!["--calibration", "9"], "no calibration 9"),
    ] {
        let mut a = vec!["demand", s(ws)];
        a.extend(args);
        let err = refused(&a);
        assert!(err.contains(says), "{a:?}: {err}");
    }
}

/// An A/B test of margin-optimal prices against the list price on the calibrated demo shop:
/// each arm gets half the log's daily sessions; longer tests detect smaller effects, by
/// simulation and by formula, which agree within a factor of two.
fn plan_an_ab_test_on_the_demo_shop(ws: &Path, dir: &Path) {
    let scenario = dir.join("ab.toml");
    std::fs::write(
        &scenario,
        "name = \"ab\"\ndays = 14\nworld = { calibration = 1 }\n\
         [[policies]]\nname = \"list\"\nrecommend = \"popularity\"\npricing = { kind = \"list\" }\n\
         [[policies]]\nname = \"optimal\"\nrecommend = \"popularity\"\npricing = { kind = \"elasticity-optimal\" }\n",
    )
    .unwrap();
    let plan = json(&[
        "plan-ab",
        s(ws),
        "--scenario",
        s(&scenario),
        "--a",
        "list",
        "--b",
        "optimal",
        "--replicates",
        "60",
        "--json",
    ]);
    assert_eq!(plan["tests"], 60);
    let curve = plan["curve"].as_array().unwrap();
    assert_eq!(curve.len(), 14);
    let f = |v: &serde_json::Value| v.as_f64().unwrap();
    // Half the traffic per arm: about 596 sessions a day, of the log's 35,790 in 30 days.
    let per_day = f(&curve[0]["sessions_per_arm"]);
    assert!((per_day - 35790.0 / 60.0).abs() < 60.0, "{per_day}");
    // Margin-optimal prices sell less than the list price.
    assert!(f(&plan["effect"]) < 0.0, "{plan}");
    let n = f(&plan["sessions_formula"]);
    assert!(
        (f(&plan["days_formula"]) * per_day / n - 1.0).abs() < 0.1,
        "{plan}"
    );
    // Longer tests detect smaller effects, by simulation and by formula.
    assert!(f(&curve[13]["mde_simulated"]) < f(&curve[0]["mde_simulated"]));
    assert!(f(&curve[13]["mde_formula"]) < f(&curve[0]["mde_formula"]));
    for c in curve {
        let ratio = f(&c["mde_simulated"]) / f(&c["mde_formula"]);
        assert!((0.5..2.0).contains(&ratio), "{c}");
    }
    let text = ok(&[
        "plan-ab",
        s(ws),
        "--scenario",
        s(&scenario),
        "--a",
        "list",
        "--b",
        "optimal",
        "--replicates",
        "20",
        "--days",
        "5",
    ]);
    assert!(
        text.contains("MDE formula") && text.contains("days needed"),
        "{text}"
    );
    let err = refused(&[
        "plan-ab",
        s(ws),
        "--scenario",
        s(&scenario),
        "--a",
        "list",
        "--b",
        "nope",
    ]);
    assert!(
        err.contains("no policy named \"nope\"") && err.contains("\"optimal\""),
        "{err}"
    );
}

/// A real scanner panel (Ecdat's Tuna: 13,705 purchase occasions of 5 brands, every
/// brand's shelf price each time) as a shop log: the calibrated price sensitivity is the
/// conditional logit's (statsmodels' ConditionalLogit of the same utility gives 3.808, se
/// 0.055: `bash bench/scanner.sh`), and the calibration says that a log where every session
/// buys has no no-purchase share.
#[test]
fn a_scanner_panel_calibrates_to_the_conditional_logit() {
    let dir = tempfile::tempdir().unwrap();
    let panel = std::fs::read_to_string(dataset("ecdat/Tuna.csv")).unwrap();
    let mut lines = panel.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(|h| h.trim_matches('"').to_string())
        .collect();
    let brands: Vec<(usize, String)> = header
        .iter()
        .enumerate()
        .filter_map(|(i, h)| Some((i, h.strip_prefix("price.")?.to_string())))
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (hid, choice) = (col("Tuna.hid"), col("Tuna.choice"));
    let mut log = String::from(
        "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session\n",
    );
    let mut occasions = 0;
    for (n, line) in lines.enumerate() {
        let f: Vec<&str> = line.split(',').map(|x| x.trim_matches('"')).collect();
        let (day, minute) = (n / 100, n % 100);
        let t = format!(
            "{}-{:02}-{:02} {:02}:{:02}:00 UTC",
            2000 + day / 336,
            1 + (day % 336) / 28,
            1 + day % 28,
            minute / 60,
            minute % 60
        );
        for (i, b) in &brands {
            log += &format!("{t},view,tuna.{b},1,tuna,{b},{},{},s{n}\n", f[*i], f[hid]);
        }
        let chosen = f[choice];
        let price = brands.iter().find(|(_, b)| b == chosen).unwrap().0;
        log += &format!(
            "{t},purchase,tuna.{chosen},1,tuna,{chosen},{},{},s{n}\n",
            f[price], f[hid]
        );
        occasions += 1;
    }
    assert_eq!((occasions, brands.len()), (13705, 5));
    let csv = dir.path().join("tuna-log.csv");
    std::fs::write(&csv, log).unwrap();
    let ws = dir.path().join("tuna.duckdb");
    let imported = json(&["import", s(&ws), s(&csv), "--json"]);
    assert_eq!(imported[0]["rows_loaded"], 13705 * 6, "{imported}");
    let cal = json(&["calibrate", s(&ws), "--json"]);
    let tuna = &cal["categories"][0];
    let (raw, se) = (tuna["raw"].as_f64().unwrap(), tuna["se"].as_f64().unwrap());
    assert!((raw - 3.808).abs() < 0.02, "{tuna}");
    assert!((0.04..0.07).contains(&se), "{tuna}");
    let notes = cal["report"]["notes"].as_array().unwrap();
    assert!(
        notes[0]
            .as_str()
            .unwrap()
            .contains("every one of the 13705 sessions ends in a purchase"),
        "{notes:?}"
    );
    // The demand curves carry the note; demand falls with price at the panel's sensitivity.
    let d = json(&["demand", s(&ws), "--json"]);
    assert_eq!(d["notes"], cal["report"]["notes"]);
    assert_eq!(d["curves"][0]["key"], "tuna");
    assert_eq!(d["curves"][0]["items"], 5);
}

/// The demo shop's own logs calibrate the simulator; trained runs then recommend in it.
#[test]
fn calibrate_the_demo_shop_and_simulate_trained_runs_in_it() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("shop.duckdb");
    ok(&["demo", "--out", s(&ws), "--data-only"]);
    let cal = json(&["calibrate", s(&ws), "--json"]);
    assert_eq!(cal["calibration_id"], 1);
    let r = &cal["report"];
    // The demo log: 30 days, 1,885 purchases in 35,790 sessions.
    assert_eq!(r["days"], 30);
    assert_eq!(r["purchases"], 1885);
    assert_eq!(r["sessions"], 35790);
    let f = |k: &str| r[k].as_f64().unwrap();
    // Held out, the fitted appeals beat one purchase rate, and the predicted conversion is
    // within half a point of the observed one.
    assert!(f("loglik") > f("loglik_constant"), "{r}");
    assert!((f("predicted_conversion") - f("observed_conversion")).abs() < 0.005);
    // Eight categories; the pooled price sensitivity is the synthetic world's range.
    assert_eq!(cal["categories"].as_array().unwrap().len(), 8);
    assert!((1.0..2.5).contains(&f("pooled_elasticity")), "{r}");
    let items = sql_value(
        &ws,
        "SELECT count(*) FROM calibration_items WHERE calibration_id = 1",
    );
    assert_eq!(items, 300.0);
    demand_curves_of_the_demo_shop(&ws);
    plan_an_ab_test_on_the_demo_shop(&ws, dir.path());

    // A BPR run's vectors as the shoppers' affinities: they help predict the held-out choices.
    let bpr = json(&[
        "train",
        s(&ws),
        "--split",
        "main",
        "--model",
        "bpr",
        "--epochs",
        "5",
        "--factors",
        "64",
        "--json",
    ]);
    assert_eq!(bpr["run_id"], 1);
    // Its vectors export to Parquet: one FLOAT[] of 64 per user and item.
    let vectors = dir.path().join("vectors.parquet");
    ok(&["export", s(&ws), "--run", "1", "--embeddings", s(&vectors)]);
    let q = format!(
        "SELECT count(*) FILTER (WHERE len(vector) = 64) FROM '{}'",
        s(&vectors)
    );
    assert_eq!(sql_value(&ws, &q), 1987.0 + 300.0);
    let with_run = json(&["calibrate", s(&ws), "--run", "1", "--json"]);
    let w = &with_run["report"];
    assert!(w["affinity_weight"].as_f64().unwrap() > 0.2, "{w}");
    assert!(w["loglik"].as_f64().unwrap() > f("loglik"), "{w}");
    let conversion = json(&[
        "train",
        s(&ws),
        "--model",
        "conversion",
        "--epochs",
        "3",
        "--json",
    ]);
    assert_eq!(conversion["run_id"], 2);

    let scenario = dir.path().join("models.toml");
    std::fs::write(
        &scenario,
        r#"
name = "models in the calibrated shop"
days = 10
seeds = 2
slate = 4
arrivals = "replay"
stock = 30
world = { calibration = 2 }

[[policies]]
name = "popularity"
recommend = "popularity"
pricing = { kind = "list" }

[[policies]]
name = "bpr"
recommend = "run:1"
pricing = { kind = "list" }

[[policies]]
name = "expected revenue"
recommend = "expected-revenue:2"
pricing = { kind = "list" }

[[policies]]
name = "inventory thompson"
recommend = "popularity"
pricing = { kind = "thompson-inventory", grid = [0.9, 1.0, 1.1, 1.2] }
"#,
    )
    .unwrap();
    let out = json(&["simulate", s(&ws), "--scenario", s(&scenario), "--json"]);
    let policies = out["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 5);
    // The conversion run predicts and is scored; the price-blind run is not.
    assert!(policies[2]["conversion_mse"]["mean"].as_f64().unwrap() > 0.0);
    assert!(policies[1].get("conversion_mse").is_none());
    // Replayed arrivals: the logged sessions of days 1-10, the same for every policy.
    let sessions = sql_value(
        &ws,
        "SELECT sum(value) FROM sim_metrics WHERE metric = 'sessions' AND policy = 'bpr' AND replicate = 0",
    );
    let logged = sql_value(
        &ws,
        "SELECT count(DISTINCT session_id) FROM events \
         WHERE event_time < (SELECT min(event_time) FROM events)::DATE + INTERVAL 10 DAY \
         AND event_type IN ('view', 'purchase')",
    );
    assert_eq!(sessions, logged);
    // The stock is tracked and stored.
    let stock = sql_value(
        &ws,
        "SELECT min(value) FROM sim_metrics WHERE metric = 'stock'",
    );
    assert!(stock < 9000.0, "{stock}");

    // A scenario naming a run that does not exist gets a clear error.
    std::fs::write(
        &scenario,
        "name = \"x\"\nworld = { calibration = 2 }\n[[policies]]\nname = \"a\"\nrecommend = \"run:9\"\npricing = { kind = \"list\" }",
    )
    .unwrap();
    let bad = shoplab(&["simulate", s(&ws), "--scenario", s(&scenario)]);
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("9"),
        "{bad:?}"
    );
}

/// A pretrained encoder imported, then used by a part of its name: the reference sentence's
/// embedding, and the demo catalog's items embedded into the workspace, each item's nearest
/// neighbour in its own category.
#[test]
fn import_a_text_model_and_embed_text_and_items() {
    let out = ok(&[
        "model",
        "import",
        s(&dataset("minilm")),
        "--name",
        "all-minilm-l6-v2",
    ]);
    assert!(out.starts_with("all-minilm-l6-v2: "), "{out}");
    assert!(ok(&["model", "list"]).contains("all-minilm-l6-v2"));
    let v = json(&[
        "embed",
        "--model",
        "minilm",
        "--text",
        "This is an example sentence",
        "--json",
    ]);
    let got: Vec<f64> = v["vector"].as_array().unwrap()[..5]
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    for (a, b) in got
        .iter()
        .zip([0.06766, 0.06350, 0.04871, 0.07930, 0.03745])
    {
        assert!((a - b).abs() < 1e-4, "{got:?}");
    }
    let bad = shoplab(&["embed", "--model", "no-such-model", "--text", "x"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no such model"));

    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("shop.duckdb");
    ok(&["demo", "--out", s(&ws), "--data-only"]);
    let r = json(&["embed", s(&ws), "--model", "minilm", "--items", "--json"]);
    assert_eq!(r["items"], 300);
    let same = sql_value(
        &ws,
        "WITH e AS (SELECT e.item_id, e.vector, coalesce(i.category, '') AS category \
                    FROM item_embeddings e JOIN items i USING (item_id)), \
              nn AS (SELECT a.item_id, a.category, \
                            arg_max(b.category, list_cosine_similarity(a.vector, b.vector)) AS nn \
                     FROM e a, e b WHERE a.item_id <> b.item_id GROUP BY ALL) \
         SELECT avg(CASE WHEN category = nn THEN 1 ELSE 0 END) FROM nn",
    );
    // Measured: every item's nearest neighbour by its title and description is in its
    // category.
    assert_eq!(same, 1.0);
}

/// Reviews imported, a LoRA fine-tuning run and a TF-IDF baseline on the same split side by
/// side in `runs`, and the fine-tuned model folder used by `embed`.
#[test]
fn finetune_on_reviews_and_embed_with_the_result() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("shop.duckdb");
    let data = dataset("clothing-reviews/WomensClothingE-CommerceReviews.parquet.brotli");
    let r = json(&["import", s(&ws), s(&data), "--json"]);
    assert_eq!(r[0]["format"], "reviews");
    assert_eq!(r[0]["rows_loaded"], 22_641);
    let minilm = dataset("minilm");
    let common = [
        "--task",
        "recommend",
        "--limit",
        "300",
        "--max-tokens",
        "32",
        "--device",
        "cpu",
        "--json",
    ];
    let mut args = vec!["finetune", s(&ws), "--model", s(&minilm), "--lora", "4"];
    args.extend(["--epochs", "1"]);
    args.extend(common);
    let lora = json(&args);
    assert_eq!(lora["model"], "lora4:recommend");
    assert_eq!(lora["status"], "finished");
    assert_eq!(lora["train_size"], 240);
    assert!(lora["examples_per_second"].as_f64().unwrap() > 0.0);
    let auc = lora["metrics"]["auc"].as_f64().unwrap();
    assert!((0.5..=1.0).contains(&auc), "{lora}");
    let mut args = vec!["finetune", s(&ws), "--method", "tfidf"];
    args.extend(common);
    let tfidf = json(&args);
    assert_eq!(tfidf["model"], "tfidf:recommend");

    let runs = json(&["runs", s(&ws), "--json"]);
    let models: Vec<&str> = runs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["model"].as_str().unwrap())
        .collect();
    assert_eq!(models, ["lora4:recommend", "tfidf:recommend"]);
    assert!(
        runs[1]["metrics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m[0] == "auc")
    );
    // The two runs' test reviews are the same: a paired comparison, review by review.
    let c = json(&["compare", s(&ws), "1", "2", "--metric", "logloss", "--json"]);
    assert_eq!(c["users"], 30);
    // The Compare view's auc picks the per-review log loss of text runs.
    let by_auc = json(&["compare", s(&ws), "1", "2", "--metric", "auc", "--json"]);
    assert_eq!(
        (by_auc["metric"].as_str(), by_auc["users"].as_u64()),
        (Some("logloss"), Some(30))
    );
    // Inside the TF-IDF run: its ROC over the 30 test reviews has the area it stored.
    let inside = json(&["inside", s(&ws), "2", "--json"]);
    let stored = tfidf["metrics"]["auc"].as_f64().unwrap();
    assert_eq!(inside["classifier"]["n"], 30);
    let area = inside["classifier"]["auc"].as_f64().unwrap();
    assert!((area - stored).abs() < 1e-6, "{area} vs {stored}");
    assert!(ok(&["inside", s(&ws), "2"]).contains("classifier: 30 test examples"));
    let (lo, hi) = (
        c["t_interval"][0].as_f64().unwrap(),
        c["t_interval"][1].as_f64().unwrap(),
    );
    assert!(
        lo < c["diff"].as_f64().unwrap() && c["diff"].as_f64().unwrap() < hi,
        "{c}"
    );
    // A text run is not a recommender and cannot be resumed as one.
    let bad = shoplab(&["train", s(&ws), "--resume", "1"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("finetune --resume 1"));

    let export = lora["export"].as_str().unwrap();
    let v = json(&["embed", "--model", export, "--text", "Runs small", "--json"]);
    assert_eq!(v["vector"].as_array().unwrap().len(), 384);
}

/// The demo shop with a tenth of its items held out as new arrivals: the text-aware
/// two-tower run beside BPR in `runs`, both with the cold-start slice; compared user by
/// user on it; its recommendations and vectors read like any run's.
#[test]
fn two_tower_recommender_on_new_items() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("shop.duckdb");
    ok(&["demo", "--out", s(&ws), "--data-only"]);
    let split = json(&[
        "split",
        s(&ws),
        "--name",
        "cold",
        "--strategy",
        "temporal",
        "--cold-items",
        "0.1",
        "--json",
    ]);
    assert_eq!(split["n_train"], 100_191);
    let minilm = dataset("minilm");
    let tt = json(&[
        "finetune",
        s(&ws),
        "--model",
        s(&minilm),
        "--task",
        "two-tower",
        "--split",
        "cold",
        "--method",
        "frozen",
        "--epochs",
        "2",
        "--max-tokens",
        "48",
        "--device",
        "cpu",
        "--json",
    ]);
    assert_eq!(tt["model"], "frozen:two-tower");
    assert_eq!(tt["train_size"], 100_191);
    // 30 of the 300 items are new; 1,753 test users bought or viewed one of them.
    assert_eq!(tt["metrics"]["cold_users@10"], 1_753.0);
    let bpr = json(&[
        "train",
        s(&ws),
        "--split",
        "cold",
        "--model",
        "bpr",
        "--epochs",
        "10",
        "--json",
    ]);
    let cold = |v: &serde_json::Value| v["metrics"]["cold_ndcg@10"].as_f64().unwrap();
    assert!(cold(&tt) > 1.3 * cold(&bpr), "{tt} {bpr}");
    assert!(ok(&["runs", s(&ws)]).contains("frozen:two-tower"));
    let c = json(&[
        "compare",
        s(&ws),
        "2",
        "1",
        "--metric",
        "cold_ndcg@10",
        "--json",
    ]);
    assert_eq!(c["users"], 1_753);
    // run 1 (two-tower) minus run 2 (BPR), user by user: clearly above zero.
    assert!(c["t_interval"][0].as_f64().unwrap() > 0.0, "{c}");

    let user = {
        let conn = duckdb::Connection::open(&ws).unwrap();
        conn.query_row(
            "SELECT min(user_id) FROM split_interactions WHERE split = 'cold' AND part = 'train'",
            [],
            |r| r.get::<_, String>(0),
        )
        .unwrap()
    };
    let recs = json(&["recommend", s(&ws), "--run", "1", "--user", &user, "--json"]);
    assert_eq!(recs.as_array().unwrap().len(), 10);
    let vectors = dir.path().join("vectors.parquet");
    let written = json(&[
        "export",
        s(&ws),
        "--run",
        "1",
        "--embeddings",
        s(&vectors),
        "--json",
    ]);
    assert!(written["embeddings"].as_u64().unwrap() > 300);

    // Without item text there is nothing for the item tower to read.
    let bare = dir.path().join("bare.duckdb");
    ok(&["import", s(&bare), s(&dataset("ml-100k/ml-100k.inter"))]);
    ok(&["split", s(&bare), "--name", "main"]);
    let out = shoplab(&[
        "finetune",
        s(&bare),
        "--model",
        s(&minilm),
        "--task",
        "two-tower",
        "--method",
        "frozen",
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("1682 of the split's 1682 items have no title"),
        "{err}"
    );
}

/// A team on Spark: the workspace's log written to a lake as hive-partitioned Parquet, then
/// profiled on a Spark Connect server over the lake (the test command starts one at
/// `SPARK_REMOTE`); the figures equal the local profile's, and the profile is stored with
/// where it was computed. A bad endpoint or a lake without events is refused, the workspace
/// unchanged.
#[test]
fn a_lake_profiled_on_spark_matches_the_workspace() {
    let remote = match std::env::var("SPARK_REMOTE") {
        Ok(r) if !r.is_empty() => r,
        _ => {
            assert!(
                std::env::var("SHOPLAB_REQUIRE_SPARK").as_deref() != Ok("1"),
                "SHOPLAB_REQUIRE_SPARK=1 but SPARK_REMOTE is not set"
            );
            eprintln!("SPARK_REMOTE is not set: no Spark server to profile on");
            return;
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ml.duckdb");
    ok(&["import", s(&ws), s(&dataset("ml-100k/ml-100k.inter"))]);
    let local = json(&["profile", s(&ws), "--json"]);
    let lake = dir.path().join("lake");
    let written = json(&[
        "export",
        s(&ws),
        "--lake",
        s(&lake),
        "--partition-by",
        "event_type",
        "--json",
    ]);
    assert_eq!(written[0]["table"], "events");
    assert_eq!(written[0]["rows"], 100_000);
    assert!(lake.join("events/event_type=rating").is_dir());
    // The folder is not empty now: a second export is refused, nothing overwritten.
    let err = refused(&["export", s(&ws), "--lake", s(&lake)]);
    assert!(err.contains("not empty"), "{err}");
    let events = lake.join("events");
    let spark = json(&[
        "profile",
        s(&ws),
        "--spark",
        &remote,
        "--data",
        s(&events),
        "--json",
    ]);
    for key in [
        "events",
        "users",
        "items",
        "first_event",
        "last_event",
        "by_type",
        "funnel",
        "sparsity",
        "events_per_user",
        "events_per_item",
        "rating_mean",
    ] {
        assert_eq!(spark[key], local[key], "{key}");
    }
    assert_eq!(spark["events"], 100_000);
    assert!(
        spark["computed_on"]
            .as_str()
            .unwrap()
            .starts_with(&format!("spark {remote} over ")),
        "{}",
        spark["computed_on"]
    );
    assert_eq!(sql_value(&ws, "SELECT count(*) FROM profiles"), 2.0);
    let text = ok(&["profile", s(&ws), "--spark", &remote, "--data", s(&events)]);
    assert!(text.starts_with("computed on spark"), "{text}");
    // Refused: no server there; a file without the event columns. Nothing stored.
    let err = refused(&[
        "profile",
        s(&ws),
        "--spark",
        "sc://127.0.0.1:1",
        "--data",
        s(&events),
    ]);
    assert!(err.contains("sc://127.0.0.1:1"), "{err}");
    let users = lake.join("users.parquet");
    let err = refused(&["profile", s(&ws), "--spark", &remote, "--data", s(&users)]);
    assert!(err.contains("event_time"), "{err}");
    assert_eq!(sql_value(&ws, "SELECT count(*) FROM profiles"), 3.0);
    // The hashed split on the cluster and in the workspace: the same rows in the same parts.
    let split = |name: &str, spark: bool| {
        let mut args = vec![
            "split",
            s(&ws),
            "--name",
            name,
            "--strategy",
            "hashed",
            "--seed",
            "11",
            "--json",
        ];
        if spark {
            args.extend(["--spark", remote.as_str(), "--data", s(&events)]);
        }
        json(&args)
    };
    let here = split("here", false);
    let there = split("there", true);
    for part in ["n_train", "n_valid", "n_test"] {
        assert_eq!(here[part], there[part], "{part}");
    }
    assert_eq!(here["n_train"], 79_926);
    assert!(
        there["computed_on"]
            .as_str()
            .unwrap()
            .starts_with("spark sc://")
    );
    let differ = sql_value(
        &ws,
        "SELECT count(*) FROM (SELECT part, user_id, item_id, event_time FROM split_interactions WHERE split = 'here'
           EXCEPT ALL SELECT part, user_id, item_id, event_time FROM split_interactions WHERE split = 'there')",
    );
    assert_eq!(differ, 0.0);
    let listed = ok(&["splits", s(&ws)]);
    assert!(listed.contains("computed on spark"), "{listed}");
    // A drawn split is refused on Spark, saying which one runs there; nothing stored.
    let err = refused(&[
        "split",
        s(&ws),
        "--name",
        "drawn",
        "--spark",
        &remote,
        "--data",
        s(&events),
    ]);
    assert!(err.contains("--strategy hashed"), "{err}");
    assert_eq!(sql_value(&ws, "SELECT count(*) FROM splits"), 2.0);
    // The lake's events imported into a new workspace through the cluster: every rating.
    let copy = dir.path().join("copy.duckdb");
    let report = json(&[
        "import",
        s(&copy),
        "--spark",
        &remote,
        "--data",
        s(&events),
        "--json",
    ]);
    assert_eq!(report[0]["rows_loaded"], 100_000, "{report}");
    assert_eq!(report[0]["rows_rejected"], 0);
    assert_eq!(
        sql_value(
            &copy,
            "SELECT count(*) FROM imports WHERE computed_on LIKE 'spark sc://%'"
        ),
        1.0
    );
    let copied = json(&["profile", s(&copy), "--json"]);
    for key in [
        "events",
        "users",
        "items",
        "first_event",
        "last_event",
        "rating_mean",
    ] {
        assert_eq!(copied[key], local[key], "{key}");
    }
}
