use shoplab_data::split::{recbole_counts, stratified_counts};
use shoplab_data::{ImportOptions, SplitSpec, Strategy, Workspace};

use crate::{dataset, scalar};

fn movielens() -> (tempfile::TempDir, Workspace) {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::create(dir.path().join("ws.duckdb")).unwrap();
    ws.import(&dataset("ml-100k/ml-100k.inter"), &ImportOptions::default())
        .unwrap();
    (dir, ws)
}

fn spec(name: &str, strategy: Strategy, seed: u64) -> SplitSpec {
    SplitSpec {
        name: name.into(),
        strategy,
        seed,
        event_types: None,
        min_value: None,
        k_core: None,
        cold_items: None,
    }
}

fn contents(ws: &Workspace, name: &str) -> Vec<(String, String, String, i64)> {
    let mut stmt = ws
        .connection()
        .prepare("SELECT part, user_id, item_id, epoch_us(event_time) FROM split_interactions WHERE split = ? ORDER BY ALL")
        .unwrap();
    stmt.query_map([name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

#[test]
fn ratio_rules_match_the_reference_libraries() {
    // RecBole `_calcu_split_ids(tot=20, [0.8, 0.1, 0.1])` → [16, 2, 2]; tot=5 → [3, 1, 1].
    assert_eq!(recbole_counts(20, [0.8, 0.1, 0.1]), [16, 2, 2]);
    assert_eq!(recbole_counts(5, [0.8, 0.1, 0.1]), [3, 1, 1]);
    assert_eq!(recbole_counts(2, [0.8, 0.1, 0.1]), [1, 0, 1]);
    // MS-Recommenders: round(0.75 * 22) = round(16.5) = 16 (half to even); round(0.75 * 30) = 22.
    assert_eq!(stratified_counts(22, [0.75, 0.0, 0.25]), [16, 0, 6]);
    assert_eq!(stratified_counts(30, [0.75, 0.0, 0.25]), [22, 0, 8]);
}

#[test]
fn random_ratio_split_is_reproducible() {
    let (_d1, a) = movielens();
    let (_d2, b) = movielens();
    let s = Strategy::RandomRatio {
        train: 0.8,
        valid: 0.1,
        test: 0.1,
    };
    let sa = a.create_split(&spec("main", s.clone(), 7)).unwrap();
    let sb = b.create_split(&spec("main", s.clone(), 7)).unwrap();
    assert_eq!(sa.n_train + sa.n_valid + sa.n_test, 100_000);
    assert_eq!(
        (sa.n_train, sa.n_valid, sa.n_test),
        (sb.n_train, sb.n_valid, sb.n_test)
    );
    assert_eq!(contents(&a, "main"), contents(&b, "main"));
    // Per user, RecBole's counts.
    let users_off = scalar(
        &a,
        "WITH c AS (SELECT user_id, count(*) n, count(*) FILTER (WHERE part = 'test') t FROM split_interactions GROUP BY 1)
         SELECT count(*) FROM c WHERE t <> CAST(floor(n * 0.1) AS BIGINT) + CASE WHEN n * 0.1 < 1 THEN 1 ELSE 0 END",
    );
    assert_eq!(users_off, 0);
    // Another seed gives another split of the same sizes.
    a.create_split(&spec("other", s, 8)).unwrap();
    assert_ne!(
        contents(&a, "main")
            .into_iter()
            .filter(|r| r.0 == "test")
            .collect::<Vec<_>>(),
        contents(&a, "other")
            .into_iter()
            .filter(|r| r.0 == "test")
            .collect::<Vec<_>>()
    );
}

#[test]
fn stratified_temporal_and_leave_last_out() {
    let (_d, ws) = movielens();
    let s = ws
        .create_split(&spec(
            "strat",
            Strategy::Stratified {
                train: 0.75,
                valid: 0.0,
                test: 0.25,
            },
            42,
        ))
        .unwrap();
    assert_eq!(s.n_valid, 0);
    assert_eq!(s.n_train + s.n_test, 100_000);
    // Every user keeps about 75% in train.
    assert_eq!(
        scalar(
            &ws,
            "SELECT count(DISTINCT user_id) FROM split_interactions WHERE split = 'strat' AND part = 'test'"
        ),
        943
    );

    let t = ws
        .create_split(&spec(
            "time",
            Strategy::Temporal {
                valid: 0.1,
                test: 0.1,
            },
            0,
        ))
        .unwrap();
    assert_eq!((t.n_train, t.n_valid, t.n_test), (80_000, 10_000, 10_000));
    let ordered = scalar(
        &ws,
        "SELECT CAST((SELECT max(event_time) FROM split_interactions WHERE split = 'time' AND part = 'train')
             <= (SELECT min(event_time) FROM split_interactions WHERE split = 'time' AND part = 'test') AS INTEGER)",
    );
    assert_eq!(ordered, 1);

    let l = ws
        .create_split(&spec(
            "loo",
            Strategy::LeaveLastOut { valid: 1, test: 1 },
            0,
        ))
        .unwrap();
    assert_eq!((l.n_valid, l.n_test), (943, 943));

    // k-core and a rating threshold.
    let mut k = spec(
        "k10",
        Strategy::RandomRatio {
            train: 0.8,
            valid: 0.1,
            test: 0.1,
        },
        1,
    );
    k.k_core = Some(10);
    k.min_value = Some(4.0);
    let ks = ws.create_split(&k).unwrap();
    let total = ks.n_train + ks.n_valid + ks.n_test;
    assert_eq!(
        total as i64,
        scalar(
            &ws,
            "SELECT count(*) FROM split_interactions WHERE split = 'k10'"
        )
    );
    assert!(
        total < 55_375,
        "ratings >= 4 number 55,375 in ML-100K: {total}"
    );
    assert_eq!(
        scalar(
            &ws,
            "SELECT count(*) FROM (SELECT user_id FROM split_interactions WHERE split = 'k10' GROUP BY 1 HAVING count(*) < 10)"
        ),
        0
    );
}

#[test]
fn split_as_polars_frame_and_imported_split() {
    let (dir, ws) = movielens();
    ws.create_split(&spec(
        "main",
        Strategy::RandomRatio {
            train: 0.8,
            valid: 0.1,
            test: 0.1,
        },
        7,
    ))
    .unwrap();
    let train = ws.split_frame("main", "train").unwrap();
    let test = ws.split_frame("main", "test").unwrap();
    let s = &ws.splits().unwrap()[0];
    assert_eq!(train.height() as u64, s.n_train);
    assert_eq!(test.height() as u64, s.n_test);
    assert_eq!(
        train
            .get_column_names()
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>(),
        vec!["user_id", "item_id", "value", "event_time"]
    );
    assert!(ws.split_frame("nope", "train").is_err());

    // Export the parts as another tool would, then import them as a split.
    for part in ["train", "valid", "test"] {
        ws.connection()
            .execute_batch(&format!(
                "COPY (SELECT user_id AS \"user_id:token\", item_id AS \"item_id:token\", value AS \"rating:float\",
                              epoch(event_time) AS \"timestamp:float\"
                       FROM split_interactions WHERE split = 'main' AND part = '{part}')
                 TO '{}' (DELIMITER '\t', HEADER)",
                dir.path().join(format!("ml.{part}.inter")).display()
            ))
            .unwrap();
    }
    let imported = ws
        .import_split(
            "recbole",
            &dir.path().join("ml.train.inter"),
            Some(&dir.path().join("ml.valid.inter")),
            &dir.path().join("ml.test.inter"),
        )
        .unwrap();
    assert_eq!(
        (imported.n_train, imported.n_valid, imported.n_test),
        (s.n_train, s.n_valid, s.n_test)
    );
    assert_eq!(
        scalar(
            &ws,
            "SELECT count(*) FROM (SELECT part, user_id, item_id, event_time FROM split_interactions WHERE split = 'main'
                                   EXCEPT ALL
                                   SELECT part, user_id, item_id, event_time FROM split_interactions WHERE split = 'recbole')"
        ),
        0
    );
}

/// Surprise-style k-fold: the test parts of one seed's folds partition the ratings, each
/// fold the rest as train.
#[test]
fn kfold_test_parts_partition_the_data() {
    let (_dir, ws) = movielens();
    for fold in 0..5 {
        let s = ws
            .create_split(&spec(
                &format!("cv{fold}"),
                Strategy::KFold { folds: 5, fold },
                1,
            ))
            .unwrap();
        assert_eq!((s.n_train, s.n_valid, s.n_test), (80_000, 0, 20_000));
    }
    // Every rating is in exactly one test part (ML-100K has no repeated user-item pair).
    let distinct = scalar(
        &ws,
        "SELECT count(DISTINCT (user_id, item_id)) FROM split_interactions WHERE part = 'test'",
    );
    assert_eq!(distinct, 100_000);
    // The same seed gives the same folds; another seed other folds.
    let again = ws
        .create_split(&spec("again", Strategy::KFold { folds: 5, fold: 2 }, 1))
        .unwrap();
    assert_eq!(again.n_test, 20_000);
    let same = |a: &str, b: &str| {
        contents(&ws, a)
            .into_iter()
            .map(|r| (r.0, r.1, r.2))
            .collect::<Vec<_>>()
            == contents(&ws, b)
                .into_iter()
                .map(|r| (r.0, r.1, r.2))
                .collect::<Vec<_>>()
    };
    assert!(same("cv2", "again"));
    ws.create_split(&spec("other", Strategy::KFold { folds: 5, fold: 2 }, 2))
        .unwrap();
    assert!(!same("cv2", "other"));
    let bad = ws.create_split(&spec("bad", Strategy::KFold { folds: 5, fold: 5 }, 1));
    assert!(
        bad.unwrap_err()
            .to_string()
            .contains("must be below --folds 5")
    );
}

/// `cold_items`: a seeded tenth of ML-100K's 1,682 items is held out, every interaction with
/// them in the test part, none in train or valid; the rest is split as usual.
#[test]
fn cold_items_are_held_out_of_training() {
    let (_dir, ws) = movielens();
    let strategy = Strategy::RandomRatio {
        train: 0.8,
        valid: 0.1,
        test: 0.1,
    };
    let mut cold = spec("cold", strategy.clone(), 3);
    cold.cold_items = Some(0.1);
    let s = ws.create_split(&cold).unwrap();
    assert_eq!(s.n_train + s.n_valid + s.n_test, 100_000);
    let q = |sql: &str| scalar(&ws, sql);
    // Items of the split that never occur in train or valid: the round(0.1 × 1,682) = 168
    // held out, and 8 rarely rated movies whose ratings all fell in the test part anyway.
    let held = "SELECT item_id FROM split_interactions WHERE split = 'cold' GROUP BY 1
                HAVING count(*) FILTER (WHERE part <> 'test') = 0";
    assert_eq!(q(&format!("SELECT count(*) FROM ({held})")), 176);
    // Every rating of a held-out item is in the test part, so test = their ratings plus
    // about a tenth of the rest.
    let cold_ratings = q(&format!(
        "SELECT count(*) FROM split_interactions WHERE split = 'cold' AND item_id IN ({held})"
    ));
    assert!(cold_ratings > 0);
    let warm_test = s.n_test as i64 - cold_ratings;
    let warm = 100_000 - cold_ratings;
    assert!(
        (warm_test as f64 / warm as f64 - 0.1).abs() < 0.01,
        "{warm_test} of {warm}"
    );
    // The same seed holds out the same items; another seed others.
    let again = ws.create_split(&cold).unwrap();
    assert_eq!(again, s);
    let mut other = spec("cold2", strategy, 4);
    other.cold_items = Some(0.1);
    ws.create_split(&other).unwrap();
    let both = q(&format!(
        "SELECT count(*) FROM ({held}) a JOIN (SELECT item_id FROM split_interactions WHERE split = 'cold2' GROUP BY 1
         HAVING count(*) FILTER (WHERE part <> 'test') = 0) b USING (item_id)"
    ));
    assert!(both < 60, "{both} of 176 held out by both seeds");
    let mut bad = spec(
        "bad",
        Strategy::Temporal {
            valid: 0.1,
            test: 0.1,
        },
        1,
    );
    bad.cold_items = Some(1.0);
    let e = ws.create_split(&bad).unwrap_err().to_string();
    assert!(e.contains("--cold-items must be in (0, 1)"), "{e}");
}

#[test]
fn a_hashed_split_cuts_each_user_by_a_hash_the_same_for_the_same_seed() {
    let (_d, ws) = movielens();
    let hashed = Strategy::Hashed {
        train: 0.8,
        valid: 0.1,
        test: 0.1,
    };
    let s = ws.create_split(&spec("h", hashed.clone(), 42)).unwrap();
    assert_eq!(s.strategy, "hashed");
    assert_eq!(s.n_train + s.n_valid + s.n_test, 100_000);
    assert_eq!(s.computed_on, None);
    // Per user: ⌊0.1·n + ½⌋ test and as many valid, the rest train. User 196 has 39
    // ratings: 4 test, 4 valid, 31 train.
    let parts: Vec<(String, i64)> = {
        let mut stmt = ws
            .connection()
            .prepare("SELECT part, count(*) FROM split_interactions WHERE split = 'h' AND user_id = '196' GROUP BY 1 ORDER BY 1")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(
        parts,
        [
            ("test".into(), 4),
            ("train".into(), 31),
            ("valid".into(), 4)
        ]
    );
    // Which rows test is the hash's, not the time's: the same seed gives the same rows,
    // another seed others.
    let again = ws.create_split(&spec("h2", hashed.clone(), 42)).unwrap();
    assert_eq!(
        (again.n_train, again.n_valid, again.n_test),
        (s.n_train, s.n_valid, s.n_test)
    );
    assert_eq!(contents(&ws, "h"), contents(&ws, "h2"));
    ws.create_split(&spec("h3", hashed.clone(), 7)).unwrap();
    assert_ne!(contents(&ws, "h"), contents(&ws, "h3"));
    // The key is SHA-256 over `seed|user|item|epoch ms`: the first 15 hex digits.
    let key: i64 = scalar(
        &ws,
        "SELECT ('0x' || substr(sha256('42|196|242|881250949000'), 1, 15))::BIGINT",
    );
    let rank: i64 = scalar(
        &ws,
        "SELECT count(*) FROM events WHERE user_id = '196' AND ('0x' || substr(sha256(
           concat_ws('|', '42', user_id, item_id, CAST(epoch_ms(event_time) AS VARCHAR))), 1, 15))::BIGINT
           <= ('0x' || substr(sha256('42|196|242|881250949000'), 1, 15))::BIGINT",
    );
    let part: String = ws
        .connection()
        .query_row(
            "SELECT part FROM split_interactions WHERE split = 'h' AND user_id = '196' AND item_id = '242'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let expected = if rank <= 31 {
        "train"
    } else if rank <= 35 {
        "valid"
    } else {
        "test"
    };
    assert!(key > 0);
    assert_eq!(part, expected, "rank {rank} of 39");
    // Cold items: the first 5% of items by their own hash, all their rows test.
    let cold = ws
        .create_split(&SplitSpec {
            cold_items: Some(0.05),
            ..spec("cold", hashed, 42)
        })
        .unwrap();
    assert!(cold.n_test > s.n_test);
    let cold_items: i64 = scalar(
        &ws,
        "SELECT count(DISTINCT item_id) FROM split_interactions WHERE split = 'cold' AND item_id NOT IN
           (SELECT item_id FROM split_interactions WHERE split = 'cold' AND part <> 'test')",
    );
    // ⌊0.05 · 1,682 + ½⌋ = 84 held out, and the few items whose every rating drew test.
    assert!((84..120).contains(&cold_items), "{cold_items}");
}
