//! The same figures through DuckDB and through Spark: real data imported into a workspace,
//! written to the lake as hive-partitioned Parquet (`Workspace::export_lake`), profiled by
//! the workspace (DuckDB) and by a Spark Connect server over the lake; every event figure is
//! the same. MovieLens-100K's ratings, partitioned by type; the demo shop's REES46-shaped log
//! (views, carts, purchases, removals with prices and sessions), partitioned by day.
//!
//! The server is the one at `SPARK_REMOTE` (`eval "$(bash scripts/spark.sh start)"`; the
//! test command starts one for the run). Without it these tests fail when
//! `SHOPLAB_REQUIRE_SPARK=1` (the test command sets it), and otherwise pass saying so.

use std::path::Path;

use shoplab_data::Workspace;
use shoplab_data::import::ImportOptions;
use shoplab_data::profile::Profile;
use shoplab_data::split::{SplitRow, SplitSpec, Strategy};
use shoplab_spark::{Lake, LakeError};

/// The Spark Connect endpoint, or `None` (then the test has nothing to compare against).
fn remote() -> Option<String> {
    match std::env::var("SPARK_REMOTE") {
        Ok(r) if !r.is_empty() => Some(r),
        _ => {
            assert!(
                std::env::var("SHOPLAB_REQUIRE_SPARK").as_deref() != Ok("1"),
                "SHOPLAB_REQUIRE_SPARK=1 but SPARK_REMOTE is not set (scripts/spark.sh start)"
            );
            eprintln!("SPARK_REMOTE is not set: no Spark server to compare against");
            None
        }
    }
}

/// The workspace's profile and the lake's, computed on Spark.
fn both(ws: &Workspace, lake: &Path, remote: &str) -> (Profile, Profile) {
    let local = ws.profile().unwrap();
    let mut steps = Vec::new();
    let spark = Lake::open(remote, &lake.join("events").display().to_string())
        .unwrap()
        .profile(&mut |s| steps.push(s.to_string()))
        .unwrap();
    assert_eq!(
        steps,
        [
            "totals",
            "by_type",
            "funnel",
            "events per user_id",
            "events per item_id",
            "revenue"
        ]
    );
    (local, spark)
}

/// Every event figure equal (money to the cent's ten-thousandth: the engines add in
/// different orders).
fn assert_same(local: &Profile, spark: &Profile) {
    assert_eq!(
        (spark.events, spark.users, spark.items, spark.sessions),
        (local.events, local.users, local.items, local.sessions)
    );
    assert_eq!(
        (&spark.first_event, &spark.last_event),
        (&local.first_event, &local.last_event)
    );
    assert!(
        (spark.days - local.days).abs() < 1e-9,
        "{} {}",
        spark.days,
        local.days
    );
    assert_eq!(spark.by_type, local.by_type);
    assert_eq!(spark.funnel, local.funnel);
    assert_eq!(spark.sparsity, local.sparsity);
    assert_eq!(spark.events_per_user, local.events_per_user);
    assert_eq!(spark.events_per_item, local.events_per_item);
    assert_eq!(spark.rating_mean, local.rating_mean);
    assert!((spark.revenue - local.revenue).abs() < 1e-4);
    assert!((spark.refunded - local.refunded).abs() < 1e-4);
    assert!(
        spark
            .computed_on
            .as_deref()
            .unwrap()
            .starts_with("spark sc://")
    );
    assert_eq!(local.computed_on, None);
}

#[test]
fn movielens_profiles_the_same_on_spark() {
    let Some(remote) = remote() else { return };
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::create(dir.path().join("ml.duckdb")).unwrap();
    let data = shoplab_data::datasets::path("ml-100k/ml-100k.inter").unwrap();
    ws.import(&data, &ImportOptions::default()).unwrap();
    let lake = dir.path().join("lake");
    let tables = ws.export_lake(&lake, &["event_type".into()]).unwrap();
    assert_eq!(tables[0].rows, 100_000);
    assert!(lake.join("events/event_type=rating").is_dir());
    let (local, spark) = both(&ws, &lake, &remote);
    assert_eq!(
        (spark.events, spark.users, spark.items),
        (100_000, 943, 1_682)
    );
    assert_eq!(spark.rating_mean, Some(3.52986));
    assert_same(&local, &spark);
    // The hashed split: the same rows in the same parts, then a 20-core.
    let sizes = same_split(&ws, &lake, &remote, hashed("h", 42));
    assert_eq!(sizes.iter().sum::<u64>(), 100_000);
    let core = same_split(
        &ws,
        &lake,
        &remote,
        SplitSpec {
            k_core: Some(20),
            ..hashed("core", 7)
        },
    );
    assert!(core.iter().sum::<u64>() < 100_000);
}

fn hashed(name: &str, seed: u64) -> SplitSpec {
    SplitSpec {
        name: name.into(),
        strategy: Strategy::Hashed {
            train: 0.8,
            valid: 0.1,
            test: 0.1,
        },
        seed,
        event_types: None,
        min_value: None,
        k_core: None,
        cold_items: None,
    }
}

/// The split `spec` made by the workspace and on Spark over the lake: the same rows in the
/// same parts, stored alike; returns the sizes (train, valid, test).
fn same_split(ws: &Workspace, lake: &Path, remote: &str, spec: SplitSpec) -> [u64; 3] {
    let local = ws.create_split(&spec).unwrap();
    let mut steps = Vec::new();
    let mut rows = Lake::open(remote, &lake.join("events").display().to_string())
        .unwrap()
        .split(&spec, &mut |s| steps.push(s.to_string()))
        .unwrap();
    assert_eq!(steps.first().map(String::as_str), Some("the split's rows"));
    assert_eq!(steps.last().map(String::as_str), Some("the hashed split"));
    let key = |r: &SplitRow| {
        (
            r.user_id.clone(),
            r.item_id.clone(),
            r.event_time,
            r.part.clone(),
        )
    };
    rows.sort_by_key(key);
    let mine = local_rows(ws, &spec.name);
    assert_eq!(rows.len(), mine.len());
    let differing = rows.iter().zip(&mine).filter(|(a, b)| a != b).count();
    assert_eq!(
        differing,
        0,
        "first: {:?}",
        rows.iter().zip(&mine).find(|(a, b)| a != b)
    );
    // Stored from the cluster under another name: the same sizes, with where it came from.
    let on_spark = SplitSpec {
        name: format!("{}-spark", spec.name),
        ..spec.clone()
    };
    let stored = ws
        .store_computed_split(&on_spark, "spark test", &rows)
        .unwrap();
    assert_eq!(
        (stored.n_train, stored.n_valid, stored.n_test),
        (local.n_train, local.n_valid, local.n_test)
    );
    assert_eq!(local_rows(ws, &on_spark.name), mine);
    assert_eq!(stored.computed_on.as_deref(), Some("spark test"));
    [local.n_train, local.n_valid, local.n_test]
}

/// A split's rows in the workspace, in the order [`same_split`] sorts Spark's.
fn local_rows(ws: &Workspace, split: &str) -> Vec<SplitRow> {
    let mut stmt = ws
        .connection()
        .prepare(
            "SELECT user_id, item_id, value, epoch_us(event_time), part FROM split_interactions
             WHERE split = ? ORDER BY user_id, item_id, epoch_us(event_time), part",
        )
        .unwrap();
    stmt.query_map([split], |r| {
        Ok(SplitRow {
            user_id: r.get(0)?,
            item_id: r.get(1)?,
            value: r.get(2)?,
            event_time: r.get(3)?,
            part: r.get(4)?,
        })
    })
    .unwrap()
    .collect::<Result<_, _>>()
    .unwrap()
}

#[test]
fn the_demo_shops_log_profiles_the_same_on_spark() {
    let Some(remote) = remote() else { return };
    let dir = tempfile::tempdir().unwrap();
    let world = shoplab_synth::World::generate(&shoplab_synth::WorldConfig::demo());
    let csv = dir.path().join("events.csv");
    world
        .write_events_csv(std::fs::File::create(&csv).unwrap(), None)
        .unwrap();
    let ws = Workspace::create(dir.path().join("shop.duckdb")).unwrap();
    ws.import(&csv, &ImportOptions::default()).unwrap();
    let lake = dir.path().join("lake");
    ws.export_lake(&lake, &["event_date".into()]).unwrap();
    assert!(lake.join("events/event_date=2019-10-01").is_dir());
    let (local, spark) = both(&ws, &lake, &remote);
    assert!(spark.funnel.purchased_pairs > 0 && spark.revenue > 0.0);
    assert_same(&local, &spark);
    // Views, carts and purchases split by the hash, with 10% of the items held out cold.
    let sizes = same_split(
        &ws,
        &lake,
        &remote,
        SplitSpec {
            cold_items: Some(0.1),
            ..hashed("shop", 3)
        },
    );
    assert!(sizes.iter().all(|n| *n > 0), "{sizes:?}");
    // The calibration's sessions: the same (session, item) rows, prices and purchases.
    let here = shoplab_data::simlab::choice_rows(&ws).unwrap();
    let sessions = Lake::open(&remote, &lake.join("events").display().to_string())
        .unwrap()
        .choice_sessions(&mut |_| {})
        .unwrap();
    let there = shoplab_data::simlab::choice_rows_from(&ws, &sessions).unwrap();
    assert!(here.len() > 10_000, "{}", here.len());
    assert_eq!(here.len(), there.len());
    for (a, b) in here.iter().zip(&there) {
        // Medians interpolate in both; their last bit may differ.
        assert!(
            (a.price - b.price).abs() < 1e-9 * a.price.abs().max(1.0),
            "{a:?} {b:?}"
        );
        let same = shoplab_data::simlab::ChoiceRow {
            price: a.price,
            ..b.clone()
        };
        assert_eq!(a, &same);
    }
    assert!(there.iter().any(|r| r.bought) && there.iter().any(|r| !r.category.is_empty()));
    // A split drawn by ShopLab's generator is refused on Spark, saying which one runs there.
    let drawn = SplitSpec {
        strategy: Strategy::RandomRatio {
            train: 0.8,
            valid: 0.1,
            test: 0.1,
        },
        ..hashed("drawn", 3)
    };
    let err = Lake::open(&remote, &lake.join("events").display().to_string())
        .unwrap()
        .split(&drawn, &mut |_| {})
        .expect_err("refused");
    assert!(err.to_string().contains("--strategy hashed"), "{err}");
}

#[test]
fn a_lake_without_the_event_columns_is_refused_with_what_it_has() {
    let Some(remote) = remote() else { return };
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("clicks.csv");
    std::fs::write(&csv, "when,who\n2020-01-01,u1\n").unwrap();
    let err = Lake::open(&remote, &csv.display().to_string())
        .err()
        .expect("refused");
    let LakeError::Data(message) = &err else {
        panic!("{err}")
    };
    assert!(
        message.contains("event_time") && message.contains("when, who"),
        "{message}"
    );
    // A server that is not there: a clear error naming it.
    let err = Lake::open("sc://127.0.0.1:1", &csv.display().to_string())
        .err()
        .expect("refused");
    assert!(err.to_string().contains("sc://127.0.0.1:1"), "{err}");
}

/// The demo shop's REES46-shaped log with bad rows put in at known lines: each a good row
/// with one field spoiled (or, for some, made harder but still good).
fn log_with_bad_rows(dir: &Path) -> std::path::PathBuf {
    let world = shoplab_synth::World::generate(&shoplab_synth::WorldConfig::demo());
    let mut text = Vec::new();
    world.write_events_csv(&mut text, None).unwrap();
    let text = String::from_utf8(text).unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    // event_time, event_type, product_id, category_id, category_code, brand, price, user_id, user_session
    let spoil = |lines: &mut Vec<String>, line: usize, field: usize, value: &str| {
        let mut fields: Vec<String> = lines[line - 1].split(',').map(String::from).collect();
        fields[field] = value.to_string();
        lines[line - 1] = fields.join(",");
    };
    spoil(&mut lines, 10, 0, "yesterday");
    spoil(&mut lines, 20, 1, "wishlist");
    spoil(&mut lines, 30, 1, "it's");
    spoil(&mut lines, 40, 2, "");
    spoil(&mut lines, 50, 6, "abc");
    spoil(&mut lines, 60, 6, "-5");
    spoil(&mut lines, 70, 6, "inf");
    spoil(&mut lines, 80, 6, "\"$1,299.99\"");
    spoil(&mut lines, 90, 6, "1d");
    spoil(&mut lines, 100, 7, "");
    spoil(&mut lines, 110, 0, "2019-10-01 00:00:00");
    spoil(&mut lines, 120, 5, "\"acme, inc\"");
    spoil(&mut lines, 130, 6, "0x1p3");
    let path = dir.join("events.csv");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

/// An import's counts, rejects and loaded events, to compare two workspaces by.
type Rejects = Vec<(Option<i64>, String, String, Option<String>)>;
fn imported(ws: &Workspace) -> ((i64, i64, i64), Rejects, Vec<String>) {
    let c = ws.connection();
    let counts = c
        .query_row(
            "SELECT rows_read, rows_loaded, rows_rejected FROM imports",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let mut stmt = c
        .prepare("SELECT line, column_name, reason, raw FROM import_rejects ORDER BY line, reason")
        .unwrap();
    let rejects = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut stmt = c
        .prepare(
            "SELECT concat_ws('|', CAST(event_time AS VARCHAR), user_id, item_id, event_type, session_id,
                              CAST(price AS VARCHAR), CAST(quantity AS VARCHAR), CAST(value AS VARCHAR),
                              category, brand, '.')
             FROM events ORDER BY ALL",
        )
        .unwrap();
    let events = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    (counts, rejects, events)
}

#[test]
fn a_log_with_bad_rows_imports_the_same_through_spark() {
    let Some(remote) = remote() else { return };
    let dir = tempfile::tempdir().unwrap();
    let csv = log_with_bad_rows(dir.path());
    let local = Workspace::create(dir.path().join("local.duckdb")).unwrap();
    let here = local.import(&csv, &ImportOptions::default()).unwrap();
    let on_spark = Workspace::create(dir.path().join("spark.duckdb")).unwrap();
    let lake = Lake::connect(&remote).unwrap();
    let mut steps = Vec::new();
    let there = lake
        .import(
            &on_spark,
            &csv.display().to_string(),
            &ImportOptions::default(),
            &mut |s| steps.push(s.to_string()),
        )
        .unwrap();
    assert_eq!(steps.first().map(String::as_str), Some("sampling the file"));
    assert_eq!(
        (there.rows_read, there.rows_loaded, there.rows_rejected),
        (here.rows_read, here.rows_loaded, here.rows_rejected)
    );
    eprintln!(
        "read {} loaded {} rejected {}",
        there.rows_read, there.rows_loaded, there.rows_rejected
    );
    let (a, b) = (imported(&local), imported(&on_spark));
    assert_eq!(a.0, b.0);
    // Every reject the same: line, column, reason (quoting the raw value) and raw row.
    assert_eq!(a.1, b.1);
    let lines: Vec<i64> = b.1.iter().filter_map(|r| r.0).collect();
    // "wishlist" reads as a favorite, a time without " UTC" as ISO, "$1,299.99" as a price:
    // good rows in both.
    assert_eq!(lines, [10, 30, 40, 50, 60, 70, 90, 130]);
    assert!(
        b.1[1].2.contains("unknown event type 'it's'"),
        "{}",
        b.1[1].2
    );
    // The same events loaded, value for value.
    assert_eq!(a.2.len(), b.2.len());
    assert_eq!(a.2, b.2);
    let computed_on: Option<String> = on_spark
        .connection()
        .query_row("SELECT computed_on FROM imports", [], |r| r.get(0))
        .unwrap();
    assert!(computed_on.unwrap().starts_with("spark sc://"));
    // The same file again: recognized, nothing loaded twice.
    let again = lake
        .import(
            &on_spark,
            &csv.display().to_string(),
            &ImportOptions::default(),
            &mut |_| {},
        )
        .unwrap();
    assert_eq!(again.import_id, there.import_id);
    assert_eq!(imported(&on_spark).2.len(), b.2.len());
}
