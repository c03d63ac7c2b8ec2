use std::io::Write;

use shoplab_data::{ImportOptions, Target, Workspace};

use crate::{dataset, fscalar, scalar};

#[test]
fn movielens_100k_from_recbole_atomic_file() {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::open(dir.path().join("ws.duckdb")).unwrap();
    let r = ws
        .import(&dataset("ml-100k/ml-100k.inter"), &ImportOptions::default())
        .unwrap();
    assert_eq!(r.format, "recbole");
    assert_eq!(
        (r.rows_read, r.rows_loaded, r.rows_rejected),
        (100_000, 100_000, 0)
    );
    assert_eq!(
        scalar(&ws, "SELECT count(DISTINCT user_id) FROM events"),
        943
    );
    assert_eq!(
        scalar(&ws, "SELECT count(DISTINCT item_id) FROM events"),
        1682
    );
    assert_eq!(scalar(&ws, "SELECT count(*) FROM items"), 1682);
    // u.data's first line: 196 242 3 881250949.
    let (t, v): (String, f64) = ws
        .connection()
        .query_row(
            "SELECT CAST(event_time AS VARCHAR), value FROM events WHERE user_id = '196' AND item_id = '242'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((t.as_str(), v), ("1997-12-04 15:55:49", 3.0));
    assert!((fscalar(&ws, "SELECT avg(value) FROM events") - 3.52986).abs() < 1e-5);

    // The same content again: recognized by its hash, nothing duplicated.
    let again = ws
        .import(&dataset("ml-100k/ml-100k.inter"), &ImportOptions::default())
        .unwrap();
    assert!(again.already_imported);
    assert_eq!(again.import_id, r.import_id);
    assert_eq!(scalar(&ws, "SELECT count(*) FROM events"), 100_000);
    assert_eq!(scalar(&ws, "SELECT count(*) FROM imports"), 1);

    let p = ws.profile().unwrap();
    assert_eq!((p.events, p.users, p.items), (100_000, 943, 1682));
    assert!((p.sparsity.unwrap() - (1.0 - 100_000.0 / (943.0 * 1682.0))).abs() < 1e-9);
    assert_eq!(p.events_per_user.as_ref().unwrap().min, 20.0);
    assert_eq!(p.events_per_user.as_ref().unwrap().max, 737.0);
}

#[test]
fn movielens_headerless_u_data_shape() {
    // u.data is the same rows, tab separated, without a header.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(dataset("ml-100k/ml-100k.inter")).unwrap();
    let udata = dir.path().join("u.data");
    let mut f = std::fs::File::create(&udata).unwrap();
    for line in text.lines().skip(1) {
        writeln!(f, "{line}").unwrap();
    }
    drop(f);
    let ws = Workspace::open(dir.path().join("ws.duckdb")).unwrap();
    let r = ws.import(&udata, &ImportOptions::default()).unwrap();
    assert_eq!(r.format, "movielens");
    assert_eq!(r.rows_loaded, 100_000);
    assert_eq!(
        scalar(&ws, "SELECT count(DISTINCT user_id) FROM events"),
        943
    );
}

#[test]
fn movielens_users_and_items_files() {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::open(dir.path().join("ws.duckdb")).unwrap();
    let users = ws
        .import(
            &dataset("ml-100k/ml-100k.user"),
            &ImportOptions {
                kind: Some(Target::Users),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(users.rows_loaded, 943);
    let items = ws
        .import(
            &dataset("ml-100k/ml-100k.item"),
            &ImportOptions {
                kind: Some(Target::Items),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(items.rows_loaded, 1682);
    let title: String = ws
        .connection()
        .query_row("SELECT title FROM items WHERE item_id = '1'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(title, "Toy Story");
}

#[test]
fn open_bandit_random_all() {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::open(dir.path().join("ws.duckdb")).unwrap();
    let r = ws
        .import(
            &dataset("obd/random/all/all.csv"),
            &ImportOptions::default(),
        )
        .unwrap();
    assert_eq!(r.format, "obd");
    assert_eq!(r.target, Target::BanditLog);
    assert_eq!((r.rows_loaded, r.rows_rejected), (10_000, 0));
    assert_eq!(
        scalar(
            &ws,
            "SELECT count(*) FROM bandit_log WHERE propensity = 0.0125"
        ),
        10_000
    );
    assert_eq!(
        scalar(
            &ws,
            "SELECT count(*) FROM bandit_log WHERE policy = 'random' AND campaign = 'all'"
        ),
        10_000
    );
    assert_eq!(scalar(&ws, "SELECT min(position) FROM bandit_log"), 1);
    assert_eq!(scalar(&ws, "SELECT max(position) FROM bandit_log"), 3);
    assert_eq!(
        scalar(&ws, "SELECT count(DISTINCT action) FROM bandit_log"),
        80
    );
    // Features are kept as JSON context.
    assert_eq!(
        scalar(
            &ws,
            "SELECT count(*) FROM bandit_log WHERE json_extract_string(context, '$.user_feature_0') IS NOT NULL"
        ),
        10_000
    );
}

#[test]
fn costco_catalog_text_prices() {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::open(dir.path().join("ws.duckdb")).unwrap();
    let path = dataset("costco/electronics_dataset.csv");
    let r = ws
        .import(
            &path,
            &ImportOptions {
                kind: Some(Target::Items),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(r.format, "catalog");
    assert_eq!(r.rows_read, 643);
    assert_eq!(r.rows_loaded + r.rows_rejected, 643);
    assert_eq!(r.rows_rejected, 0, "{:?}", r.rejects);
    // "$20.99 " → 20.99; "$2,299.99 " → 2299.99.
    let price = fscalar(
        &ws,
        "SELECT price FROM items WHERE title = 'Duracell Coppertop Alkaline AA Batteries, 40-count'",
    );
    assert_eq!(price, 20.99);
    assert_eq!(
        scalar(&ws, "SELECT count(*) FROM items WHERE price = 2299.99"),
        5
    );
    // One product has no price at all; 14 are ranges such as "$1,149.99through-$1,499.99" (low end kept).
    assert_eq!(
        scalar(&ws, "SELECT count(*) FROM items WHERE price IS NULL"),
        1
    );
    assert_eq!(
        scalar(
            &ws,
            "SELECT count(*) FROM items WHERE price = 1149.99 AND attrs LIKE '%Discount%'"
        ),
        1
    );
    assert_eq!(
        scalar(&ws, "SELECT count(DISTINCT category) FROM items"),
        23
    );
}
