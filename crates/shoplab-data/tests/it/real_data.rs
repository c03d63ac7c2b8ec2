use std::io::Write;

use shoplab_data::{ImportOptions, Target, Workspace};

use crate::{dataset, fscalar, scalar};

#[test]
fn movielens_100k_from_recbole_atomic_file() {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::create(dir.path().join("ws.duckdb")).unwrap();
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
    let ws = Workspace::create(dir.path().join("ws.duckdb")).unwrap();
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
    let ws = Workspace::create(dir.path().join("ws.duckdb")).unwrap();
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
    let ws = Workspace::create(dir.path().join("ws.duckdb")).unwrap();
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
    let ws = Workspace::create(dir.path().join("ws.duckdb")).unwrap();
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

/// The same event log as gzip and zstd CSV, TSV, Parquet and NDJSON: each recognized and loaded alike.
#[test]
fn containers_and_compression() {
    let dir = tempfile::tempdir().unwrap();
    let src = shoplab_data::duckdb::Connection::open_in_memory().unwrap();
    src.execute_batch(
        "CREATE TABLE t AS SELECT * FROM (VALUES
           ('2019-10-01 00:00:00 UTC', 'view', '1', '2053', 'electronics.smartphone', 'acme', '9.99', '7', 's-7'),
           ('2019-10-01 00:00:05 UTC', 'cart', '1', '2053', 'electronics.smartphone', 'acme', '9.99', '7', 's-7'),
           ('2019-10-01 00:01:00 UTC', 'purchase', '1', '2053', 'electronics.smartphone', 'acme', '9.99', '7', 's-7'))
         v(event_time, event_type, product_id, category_id, category_code, brand, price, user_id, user_session)",
    )
    .unwrap();
    for (name, options) in [
        ("events.csv.gz", "(HEADER, COMPRESSION gzip)"),
        ("events.csv.zst", "(HEADER, COMPRESSION zstd)"),
        ("events.tsv", "(HEADER, DELIMITER '\t')"),
        ("events.parquet", "(FORMAT parquet)"),
        // Typed as a shop's warehouse writes it: the single pass reads these columns as stored.
        ("events-typed.parquet", "(FORMAT parquet)"),
        ("events.jsonl", "(FORMAT json)"),
    ] {
        let path = dir.path().join(name);
        let table = match name {
            "events-typed.parquet" => {
                "(SELECT CAST(replace(event_time, ' UTC', '') AS TIMESTAMP) AS event_time, event_type,
                         product_id, category_id, category_code, brand, CAST(price AS DOUBLE) AS price,
                         user_id, user_session FROM t)"
            }
            _ => "t",
        };
        src.execute_batch(&format!("COPY {table} TO '{}' {options}", path.display()))
            .unwrap();
        let ws = Workspace::create(dir.path().join(format!("{name}.duckdb"))).unwrap();
        let r = ws.import(&path, &ImportOptions::default()).unwrap();
        assert_eq!(
            (r.format.as_str(), r.rows_loaded, r.rows_rejected),
            ("rees46", 3, 0),
            "{name}"
        );
        assert_eq!(
            fscalar(
                &ws,
                "SELECT sum(value) FROM events WHERE event_type = 'purchase'"
            ),
            9.99,
            "{name}"
        );
        let category: String = ws
            .connection()
            .query_row("SELECT category FROM items WHERE item_id = '1'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(category, "electronics.smartphone", "{name}");
    }
}

/// MovieLens-100K as Parquet (typed columns, as DuckDB writes them) loads the same events
/// as its CSV: every row, every value.
#[test]
fn movielens_as_parquet_loads_what_its_csv_loads() {
    let dir = tempfile::tempdir().unwrap();
    let inter = dataset("ml-100k/ml-100k.inter");
    let parquet = dir.path().join("ml-100k.parquet");
    let src = shoplab_data::duckdb::Connection::open_in_memory().unwrap();
    src.execute_batch(&format!(
        "COPY (SELECT * FROM read_csv('{}')) TO '{}' (FORMAT parquet)",
        inter.display(),
        parquet.display()
    ))
    .unwrap();
    let digest = |file: &std::path::Path, name: &str| {
        let ws = Workspace::create(dir.path().join(name)).unwrap();
        let r = ws.import(file, &ImportOptions::default()).unwrap();
        assert_eq!((r.rows_loaded, r.rows_rejected), (100_000, 0), "{name}");
        ws.connection()
            .query_row(
                "SELECT count(*), count(DISTINCT user_id), count(DISTINCT item_id),
                        sum(hash(event_time, user_id, item_id, event_type, session_id, price, quantity, value)),
                        (SELECT count(*) FROM items)
                 FROM events",
                [],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i128>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                },
            )
            .unwrap()
    };
    let from_csv = digest(&inter, "csv.duckdb");
    assert_eq!(
        (from_csv.0, from_csv.1, from_csv.2, from_csv.4),
        (100_000, 943, 1_682, 1_682)
    );
    assert_eq!(digest(&parquet, "parquet.duckdb"), from_csv);
}

#[test]
fn pseudonymized_user_ids_are_consistent_across_imports() {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::create(dir.path().join("ws.duckdb")).unwrap();
    let opts = ImportOptions {
        pseudonymize: true,
        ..Default::default()
    };
    ws.import(&dataset("ml-100k/ml-100k.inter"), &opts).unwrap();
    ws.import(
        &dataset("ml-100k/ml-100k.user"),
        &ImportOptions {
            kind: Some(Target::Users),
            ..opts.clone()
        },
    )
    .unwrap();
    assert_eq!(
        scalar(&ws, "SELECT count(DISTINCT user_id) FROM events"),
        943
    );
    assert_eq!(
        scalar(&ws, "SELECT count(*) FROM events WHERE user_id = '196'"),
        0
    );
    assert_eq!(scalar(&ws, "SELECT min(length(user_id)) FROM events"), 16);
    // The same shopper gets the same pseudonym in both files.
    assert_eq!(
        scalar(
            &ws,
            "SELECT count(DISTINCT e.user_id) FROM events e JOIN users u USING (user_id)"
        ),
        943
    );
    assert_eq!(
        scalar(&ws, "SELECT count(*) FROM imports WHERE pseudonymized"),
        2
    );
}

/// The other export shapes the recognizer knows, in the layouts their public datasets use.
#[test]
fn retailrocket_taobao_invoices_and_generic_events() {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::create(dir.path().join("ws.duckdb")).unwrap();
    let file = |name: &str, body: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p
    };
    // RetailRocket events.csv: ms epoch, addtocart / transaction.
    let rr = file(
        "events.csv",
        "timestamp,visitorid,event,itemid,transactionid\n\
         1433221332117,257597,view,355908,\n\
         1433224214164,992329,addtocart,248676,\n\
         1433221955914,121688,transaction,15335,4000\n",
    );
    let r = ws.import(&rr, &ImportOptions::default()).unwrap();
    assert_eq!((r.format.as_str(), r.rows_loaded), ("retailrocket", 3));
    let (t, ty): (String, String) = ws
        .connection()
        .query_row(
            "SELECT CAST(event_time AS VARCHAR), event_type FROM events WHERE user_id = '992329'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (t.as_str(), ty.as_str()),
        ("2015-06-02 05:50:14.164", "cart")
    );
    assert_eq!(
        scalar(
            &ws,
            "SELECT count(*) FROM events WHERE event_type = 'purchase' AND session_id = '4000'"
        ),
        1
    );

    // Taobao UserBehavior: no header; pv / buy / cart / fav; epoch seconds.
    let tb = file(
        "UserBehavior.csv",
        "1,2268318,2520377,pv,1511544070\n1,2333346,2520771,pv,1511561733\n1,2576651,149192,buy,1511572885\n2,3830808,4181361,fav,1511593493\n",
    );
    let r = ws.import(&tb, &ImportOptions::default()).unwrap();
    assert_eq!((r.format.as_str(), r.rows_loaded), ("taobao", 4));
    assert_eq!(
        scalar(
            &ws,
            &format!(
                "SELECT count(*) FROM events WHERE import_id = {} AND event_type = 'favorite'",
                r.import_id
            )
        ),
        1
    );
    assert_eq!(
        scalar(
            &ws,
            &format!(
                "SELECT count(*) FROM events WHERE import_id = {} AND category = '149192'",
                r.import_id
            )
        ),
        1
    );

    // Invoice lines (Online Retail): m/d/Y H:M dates, float customer ids, a guest line
    // without one (kept, no user), a cancellation (credit note C…, negative quantity: a
    // refund of the positive quantity), and a line at price 0 (counted, kept).
    let inv = file(
        "online_retail.csv",
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n\
         536365,85123A,WHITE HANGING HEART T-LIGHT HOLDER,6,12/1/2010 8:26,2.55,17850.0,United Kingdom\n\
         536365,71053,WHITE METAL LANTERN,6,12/1/2010 8:26,3.39,17850.0,United Kingdom\n\
         536366,22633,HAND WARMER UNION JACK,6,12/1/2010 8:28,1.85,,United Kingdom\n\
         C536379,D,Discount,-1,12/1/2010 9:41,27.5,14527.0,United Kingdom\n\
         536414,22139,,56,12/1/2010 11:52,0,,United Kingdom\n",
    );
    let ws = Workspace::create(dir.path().join("invoices.duckdb")).unwrap();
    let r = ws.import(&inv, &ImportOptions::default()).unwrap();
    assert_eq!(
        (
            r.format.as_str(),
            r.rows_read,
            r.rows_loaded,
            r.rows_rejected
        ),
        ("invoices", 5, 5, 0)
    );
    assert_eq!(
        (r.checks.refunds, r.checks.guest_rows, r.checks.zero_prices),
        (1, 2, 1)
    );
    assert_eq!(
        r.findings.iter().map(|f| f.rows).collect::<Vec<_>>(),
        [1, 2, 1]
    );
    // The refund keeps its credit note as its session, a positive quantity and value.
    let (kind, qty, value): (String, f64, f64) = ws
        .connection()
        .query_row(
            "SELECT event_type, quantity, value FROM events WHERE session_id = 'C536379'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((kind.as_str(), qty, value), ("refund", 1.0, 27.5));
    // The guest's purchase keeps its revenue; it has no user.
    assert_eq!(
        fscalar(
            &ws,
            "SELECT value FROM events WHERE item_id = '22633' AND user_id IS NULL"
        ),
        6.0 * 1.85
    );
    assert_eq!(
        fscalar(&ws, "SELECT value FROM events WHERE item_id = '85123A'"),
        6.0 * 2.55
    );
    let p = ws.profile().unwrap();
    assert_eq!((p.checks.refunds, p.checks.guest_rows), (1, 2));
    assert!((p.revenue - (6.0 * 2.55 + 6.0 * 3.39 + 6.0 * 1.85)).abs() < 1e-9);
    assert!((p.refunded - 27.5).abs() < 1e-9);
    assert_eq!(
        scalar(&ws, "SELECT count(*) FROM events WHERE user_id = '17850'"),
        2
    );
    let title: String = ws
        .connection()
        .query_row("SELECT title FROM items WHERE item_id = '71053'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(title, "WHITE METAL LANTERN");
    let t: String = ws
        .connection()
        .query_row(
            "SELECT CAST(min(event_time) AS VARCHAR) FROM events WHERE session_id = '536365'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(t, "2010-12-01 08:26:00");
}

#[test]
fn clothing_reviews_recognized_and_rejects_reviews_without_text() {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::create(dir.path().join("ws.duckdb")).unwrap();
    let path = dataset("clothing-reviews/WomensClothingE-CommerceReviews.parquet.brotli");
    let r = ws.import(&path, &ImportOptions::default()).unwrap();
    assert_eq!(r.format, "reviews");
    assert_eq!(r.target, Target::Reviews);
    assert_eq!(r.rows_read, 23_486);
    // 845 reviews have a title or a rating but no text.
    assert_eq!(r.rows_loaded, 22_641);
    assert_eq!(r.rows_rejected, 845);
    assert!(
        r.rejects[0]
            .reason
            .contains("text: missing value (column \"Review Text\")"),
        "{:?}",
        r.rejects[0]
    );
    assert_eq!(scalar(&ws, "SELECT count(*) FROM reviews"), 22_641);
    assert_eq!(
        scalar(&ws, "SELECT sum(recommended)::BIGINT FROM reviews"),
        18_540
    );
    assert_eq!(scalar(&ws, "SELECT count(title) FROM reviews"), 19_675);
    let mean = fscalar(&ws, "SELECT avg(rating) FROM reviews");
    assert!((mean - 4.183_560_8).abs() < 1e-6, "{mean}");
    // Reviewed items join the catalog with their class as category.
    assert_eq!(scalar(&ws, "SELECT count(*) FROM items"), 1_179);
    assert_eq!(
        scalar(
            &ws,
            "SELECT count(*) FROM items WHERE item_id = '1080' AND category = 'Dresses'"
        ),
        1
    );
    // Unmapped columns (age, division, department) are kept in attrs.
    assert_eq!(
        scalar(
            &ws,
            "SELECT count(*) FROM reviews WHERE json_extract_string(attrs, '$.Age') IS NOT NULL"
        ),
        22_641
    );
}
