//! The engine as the front-ends use it: sessions over a workspace, background jobs with
//! progress, and the plain results they hand out, on the public datasets.

use std::path::PathBuf;

use shoplab_engine::{
    EngineError, ImportOptions, JobEvent, ModelKind, PricingSpec, Progress, Session, SplitSpec,
    Strategy, TrainConfig, dataset_path, embed_texts, run_pricing,
};

fn dataset(rel: &str) -> PathBuf {
    dataset_path(rel).unwrap()
}

/// Runs a job to its end, keeping its events.
fn finish<T: Send + 'static>(job: shoplab_engine::Job<T>) -> (T, Vec<JobEvent>) {
    let mut events = Vec::new();
    while !job.is_finished() {
        events.extend(std::iter::from_fn(|| job.try_event()));
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    events.extend(std::iter::from_fn(|| job.try_event()));
    (job.join().unwrap(), events)
}

fn movielens(dir: &tempfile::TempDir) -> Session {
    let session = Session::create(dir.path().join("shop.duckdb")).unwrap();
    let job = session
        .import_job(&dataset("ml-100k/ml-100k.inter"), ImportOptions::default())
        .unwrap();
    let (report, events) = finish(job);
    assert_eq!(report.format, "recbole");
    assert_eq!((report.rows_loaded, report.rows_rejected), (100_000, 0));
    let progress: Vec<f64> = events
        .iter()
        .filter_map(|e| match e {
            JobEvent::Progress(f) => Some(*f),
            _ => None,
        })
        .collect();
    assert!(
        progress.iter().all(|f| (0.0..=1.0).contains(f)) && progress.contains(&1.0),
        "an import reports how far it got, up to done: {progress:?}"
    );
    session
}

#[test]
fn an_import_job_then_a_split_and_a_trained_run_on_movielens() {
    let dir = tempfile::tempdir().unwrap();
    let session = movielens(&dir);
    let events = session
        .table_counts()
        .unwrap()
        .into_iter()
        .find(|c| c.table == "events")
        .unwrap();
    assert_eq!(events.rows, 100_000);
    let profile = session.profile().unwrap();
    assert_eq!((profile.users, profile.items), (943, 1682));

    let split = split_main(&session);
    assert_eq!(split.n_train + split.n_valid + split.n_test, 100_000);

    let (outcome, events) = finish(
        session
            .train_job(TrainConfig::new("main", ModelKind::Pop))
            .unwrap(),
    );
    assert_eq!(outcome.status, "finished");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, JobEvent::Train(Progress::Started { .. })))
    );
    let ndcg = outcome.test.get("ndcg@10").unwrap();
    // Popularity on ML-100K, 8:1:1 per user, seed 1, full ranking: measured 0.1300.
    assert!((0.1295..0.1305).contains(&ndcg), "ndcg@10 {ndcg}");
    let runs = session.runs().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, "finished");
    assert_eq!(runs[0].model, "pop");

    // The top 10 of user 1 leaves out what the user rated in training.
    let recs = session.recommend(outcome.run_id, "1", 10).unwrap();
    assert_eq!(recs.len(), 10);
    assert!(recs.windows(2).all(|w| w[0].1 >= w[1].1), "best first");
    let seen = session
        .query(
            "SELECT item_id FROM split_interactions WHERE split = 'main' AND part = 'train' AND user_id = '1'",
            10_000,
        )
        .unwrap();
    assert!(!seen.rows.is_empty());
    for (item, _) in &recs {
        assert!(!seen.rows.iter().any(|r| &r[0] == item), "{item} was seen");
    }
    let interval = session
        .user_metric_interval(outcome.run_id, "ndcg@10")
        .unwrap()
        .unwrap();
    assert!(interval.low < ndcg && ndcg < interval.high);
}

#[test]
fn a_refused_request_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let session = movielens(&dir);
    let before = session.table_counts().unwrap();
    let err = session
        .train_job(TrainConfig::new("no-such-split", ModelKind::Pop))
        .and_then(|job| job.join())
        .unwrap_err();
    assert!(err.to_string().contains("no-such-split"), "{err}");
    let err = session.compare(1, 2, "ndcg@10").unwrap_err();
    assert!(matches!(err, EngineError::Model(_)), "{err}");
    let after = session.table_counts().unwrap();
    let rows = |c: &[shoplab_engine::TableCount]| {
        c.iter()
            .filter(|c| c.table != "runs")
            .map(|c| (c.table.clone(), c.rows))
            .collect::<Vec<_>>()
    };
    assert_eq!(rows(&before), rows(&after));
}

/// One product, the default logit demand: the lowest price of the grid is the clairvoyant's.
#[test]
fn pricing_policies_against_the_clairvoyant_price() {
    let spec = PricingSpec {
        appeal: 27.5,
        sensitivity: 7.7,
        prices: vec![29.9, 34.9, 39.9, 44.9],
        policies: vec!["fixed:0".into(), "thompson".into(), "fixed:3".into()],
        horizon: 3000,
        seeds: 20,
        threads: 2,
    };
    let report = run_pricing(&spec).unwrap();
    assert_eq!(report.best_price, 29.9);
    let share: Vec<f64> = report.policies.iter().map(|p| p.share).collect();
    assert!((share[0] - 1.0).abs() < 1e-12);
    assert!(share[1] > 0.95 && share[2] < 0.3, "{share:?}");
    assert!(report.policies.iter().all(|p| p.replicates == 20));
    assert!(report.policies[0].regret.abs() < 1e-6);

    let bad = PricingSpec {
        policies: vec!["greedy".into()],
        ..spec.clone()
    };
    let err = run_pricing(&bad).unwrap_err().to_string();
    assert!(err.contains("unknown policy \"greedy\""), "{err}");
    let empty = PricingSpec {
        prices: Vec::new(),
        ..spec
    };
    assert!(run_pricing(&empty).is_err());
}

/// Open Bandit Dataset, campaign "all": the uniform target on the uniform-random log is
/// that log's own mean reward (38 clicks in 10,000 impressions).
#[test]
fn off_policy_estimates_on_the_open_bandit_sample() {
    let dir = tempfile::tempdir().unwrap();
    let session = Session::create(dir.path().join("obd.duckdb")).unwrap();
    let report = session
        .import(
            &dataset("obd/random/all/all.csv"),
            &ImportOptions::default(),
        )
        .unwrap();
    assert_eq!(report.rows_loaded, 10_000);
    let r = session
        .ope("random", Some("all"), "uniform", 50, 5)
        .unwrap();
    assert_eq!((r.rows, r.actions, r.positions), (10_000, 80, 3));
    assert!((r.estimates.ips.value - 0.0038).abs() < 1e-12);
    assert!(r.estimates.ips.low <= 0.0038 && 0.0038 <= r.estimates.ips.high);
    let err = session
        .ope("greedy", Some("all"), "uniform", 50, 5)
        .unwrap_err();
    assert!(
        err.to_string().contains("no rows of policy \"greedy\""),
        "{err}"
    );
}

/// all-MiniLM-L6-v2 through the engine: the published embedding of the example sentence.
#[test]
fn texts_embedded_by_the_pretrained_encoder() {
    let folder = dataset("minilm");
    let (_, vectors) = embed_texts(
        folder.to_str().unwrap(),
        "cpu",
        &["This is an example sentence"],
    )
    .unwrap();
    assert_eq!(vectors[0].len(), 384);
    let head = [0.06766, 0.06350, 0.04871, 0.07930, 0.03745];
    for (v, want) in vectors[0].iter().zip(head) {
        assert!((f64::from(*v) - want).abs() < 1e-4, "{v} vs {want}");
    }
}

/// The storefront's "Similar items" by text: the demo catalog embedded by all-MiniLM-L6-v2,
/// each product's nearest products by the cosine of their title and description vectors.
#[test]
fn storefront_similar_items_by_text_embeddings() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("demo.duckdb");
    shoplab_engine::demo::build_demo(
        &ws,
        &shoplab_engine::demo::WorldConfig::demo(),
        shoplab_engine::demo::Contents::Data,
    )
    .unwrap();
    let session = Session::open(&ws).unwrap();
    let folder = dataset("minilm");
    let (model, n) = session
        .embed_items(folder.to_str().unwrap(), "cpu")
        .unwrap();
    assert_eq!(n, 300);
    let store = session.storefront().unwrap();
    assert_eq!(store.text_model.as_deref(), Some(model.as_str()));
    // Over the catalog's categorized products, most text neighbours share the category.
    let (mut same, mut all) = (0, 0);
    for p in store
        .products
        .iter()
        .filter(|p| !p.item.category.is_empty())
        .take(40)
    {
        let slate = store.text_similar_slate(&p.item.item_id, 5).unwrap();
        assert_eq!(slate.entries.len(), 5);
        assert_eq!(slate.reasons.name(), "text");
        assert!(slate.entries.windows(2).all(|w| w[0].score >= w[1].score));
        for e in &slate.entries {
            assert_eq!(e.because.len(), 1);
            all += 1;
            same += usize::from(store.products[e.product].item.category == p.item.category);
        }
    }
    println!("text neighbours in the same category: {same} of {all}");
    assert!(same * 10 >= all * 7, "{same} of {all}");
}

/// RecBole's ratio split of ML-100K, 8:1:1 per user, seed 1, as `main`.
fn split_main(session: &Session) -> shoplab_engine::SplitSummary {
    session
        .create_split(&SplitSpec {
            name: "main".into(),
            strategy: Strategy::RandomRatio {
                train: 0.8,
                valid: 0.1,
                test: 0.1,
            },
            seed: 1,
            event_types: None,
            min_value: None,
            k_core: None,
            cold_items: None,
        })
        .unwrap()
}

/// A user's items of one part of split `main`, oldest first.
fn items_of(session: &Session, user: &str, part: &str) -> Vec<String> {
    session
        .query(
            &format!(
                "SELECT item_id FROM split_interactions WHERE split = 'main' AND part = '{part}' \
                 AND user_id = '{user}' ORDER BY event_time, item_id"
            ),
            10_000,
        )
        .unwrap()
        .rows
        .into_iter()
        .map(|r| r[0].clone())
        .collect()
}

/// Test items in the top 10 of users 1–200: with the user's train items read as a new
/// history by `run`, and with the run's trained user vector.
fn fold_in_hits(session: &Session, run: i64) -> (usize, usize) {
    let live = session.live_model(run).unwrap();
    assert_eq!(live.reading().name(), "fold-in");
    let (mut hits_live, mut hits_stored) = (0usize, 0usize);
    for u in 1..=200 {
        let user = u.to_string();
        let test = items_of(session, &user, "test");
        let folded = live
            .recommend(&items_of(session, &user, "train"), 10)
            .unwrap();
        hits_live += folded
            .items
            .iter()
            .filter(|i| test.contains(&i.item_id))
            .count();
        hits_stored += session
            .recommend(run, &user, 10)
            .unwrap()
            .iter()
            .filter(|r| test.contains(&r.0))
            .count();
    }
    (hits_live, hits_stored)
}

/// Live recommendation on ML-100K: a history the run never saw is read natively by an
/// item-item model (the same slate as the stored user's, for the same history) and folded
/// into a factor model (about as good on the test part as the trained user vectors), each
/// item with the history items behind it.
#[test]
fn a_finished_run_scores_a_history_it_never_saw() {
    let dir = tempfile::tempdir().unwrap();
    let session = movielens(&dir);
    split_main(&session);
    let train = |model| {
        let (outcome, _) = finish(session.train_job(TrainConfig::new("main", model)).unwrap());
        assert_eq!(outcome.status, "finished");
        outcome.run_id
    };
    let (knn, bpr) = (train(ModelKind::ItemKnn), train(ModelKind::Bpr));

    // Item-kNN reads the history itself: user 196's train items give user 196's slate.
    let live = session.live_model(knn).unwrap();
    assert_eq!(live.reading().name(), "native");
    let history = items_of(&session, "196", "train");
    let mut with_new = history.clone();
    with_new.push("no-such-item".into());
    let recs = live.recommend(&with_new, 10).unwrap();
    assert_eq!(recs.unknown, ["no-such-item"]);
    assert_eq!(recs.reasons, "weight");
    let stored: Vec<String> = session
        .recommend(knn, "196", 10)
        .unwrap()
        .into_iter()
        .map(|r| r.0)
        .collect();
    let live_ids: Vec<String> = recs.items.iter().map(|i| i.item_id.clone()).collect();
    assert_eq!(live_ids, stored);
    for item in &recs.items {
        assert!(!item.because.is_empty(), "{item:?}");
        assert!(item.because.iter().all(|b| history.contains(&b.item_id)));
        assert!(item.because.windows(2).all(|w| w[0].weight >= w[1].weight));
    }
    // A click changes the slate at once: one more history item, other items.
    let clicked = live.recommend(&history[..3], 10).unwrap();
    assert_ne!(
        clicked.items.iter().map(|i| &i.item_id).collect::<Vec<_>>(),
        recs.items.iter().map(|i| &i.item_id).collect::<Vec<_>>()
    );

    // BPR folds the history in: over 200 users, the folded-in slates find about as many of
    // their test items as the trained user vectors do (measured: 322 against 335).
    let (hits_live, hits_stored) = fold_in_hits(&session, bpr);
    println!(
        "bpr: test hits in the top 10 of 200 users: fold-in {hits_live}, trained {hits_stored}"
    );
    assert!(
        hits_live as f64 >= 0.9 * hits_stored as f64,
        "fold-in {hits_live} vs trained {hits_stored}"
    );
    // NeuMF folds it in by its own objective too (both user vectors, every item parameter
    // fixed).
    let mut cfg = TrainConfig::new("main", ModelKind::NeuMf);
    cfg.epochs = 8;
    let (neumf, _) = finish(session.train_job(cfg).unwrap());
    let (hits_neumf, stored_neumf) = fold_in_hits(&session, neumf.run_id);
    println!(
        "neumf: test hits in the top 10 of 200 users: fold-in {hits_neumf}, trained {stored_neumf}"
    );
    assert!(
        hits_neumf as f64 >= 0.8 * stored_neumf as f64,
        "fold-in {hits_neumf} vs trained {stored_neumf}"
    );
    let live = session.live_model(bpr).unwrap();
    let one = live.recommend(&history, 5).unwrap();
    assert_eq!(one.reasons, "cosine");
    assert!(one.items.iter().all(|i| !i.because.is_empty()));
}

/// Inside a run: a rating model's residuals agree with its stored RMSE, a recommender's
/// metric splits by user activity over every evaluated user and its item vectors map with
/// their genres, and the conversion model's ROC area is the AUC it stored.
#[test]
fn looking_inside_runs_on_movielens_and_the_demo_shop() {
    let dir = tempfile::tempdir().unwrap();
    let session = movielens(&dir);
    let items = session
        .import(&dataset("ml-100k/ml-100k.item"), &ImportOptions::default())
        .unwrap();
    assert_eq!(items.rows_loaded, 1_682);
    split_main(&session);
    let train = |cfg: TrainConfig| {
        let (outcome, _) = finish(session.train_job(cfg).unwrap());
        assert_eq!(outcome.status, "finished");
        outcome.run_id
    };
    let mf = train(TrainConfig::new("main", ModelKind::Mf));
    let inside = session.inspect_run(mf).unwrap();
    let r = inside.ratings.expect("mf predicts ratings");
    let stored = shoplab_engine::run_metric(&session.run(mf).unwrap(), "rmse").unwrap();
    assert!((r.rmse - stored).abs() < 1e-4, "{} vs {stored}", r.rmse);
    assert!(r.n > 9_000 && r.n < 11_000, "{}", r.n);
    assert_eq!(r.residuals.iter().map(|b| b.2).sum::<usize>(), r.n);
    assert_eq!(r.pairs.len(), 5_000);
    assert!(inside.classifier.is_none());

    let mut cfg = TrainConfig::new("main", ModelKind::Bpr);
    cfg.epochs = 5;
    let bpr = train(cfg);
    let inside = session.inspect_run(bpr).unwrap();
    assert!(inside.ratings.is_none());
    assert_eq!(inside.metric.as_deref(), Some("ndcg@10"));
    let evaluated = session
        .query(
            &format!(
                "SELECT count(*) FROM run_user_metrics WHERE run_id = {bpr} AND metric = 'ndcg@10'"
            ),
            1,
        )
        .unwrap()
        .rows[0][0]
        .parse::<usize>()
        .unwrap();
    let bucketed: usize = inside.activity.iter().map(|b| b.users).sum();
    assert_eq!(bucketed, evaluated);
    // ML-100K users rated 20 movies or more: with 80% in training nobody is cold.
    assert_eq!(inside.activity[0].users, 0);
    let heavy = &inside.activity[3];
    assert!(heavy.users > 100 && heavy.low <= heavy.mean && heavy.mean <= heavy.high);
    // BPR recommends more popular items than light users go on to choose.
    let light = &inside.activity[1];
    assert!(light.recommended_popularity.unwrap() > light.test_popularity.unwrap());
    // Every item of the split (up to 2,000) is on the map, with its title.
    assert!(
        inside.map.len() > 1_500 && inside.map.len() <= 1_682,
        "{}",
        inside.map.len()
    );
    assert!(inside.map.iter().filter(|p| p.title.is_some()).count() > 1_500);

    // The conversion model on the demo shop's sessions.
    let demo = dir.path().join("demo.duckdb");
    shoplab_engine::demo::build_demo(
        &demo,
        &shoplab_engine::demo::WorldConfig::demo(),
        shoplab_engine::demo::Contents::Data,
    )
    .unwrap();
    let shop = Session::open(&demo).unwrap();
    let mut cfg = TrainConfig::new("", ModelKind::Conversion);
    cfg.epochs = 3;
    let (outcome, _) = finish(shop.train_job(cfg).unwrap());
    let inside = shop.inspect_run(outcome.run_id).unwrap();
    let c = inside.classifier.expect("a classifier");
    let auc = shoplab_engine::run_metric(&shop.run(outcome.run_id).unwrap(), "auc").unwrap();
    assert!((c.auc - auc).abs() < 1e-6, "{} vs {auc}", c.auc);
    assert!(c.auc > 0.6);
    assert_eq!(c.calibration.len(), 10);
    assert_eq!(c.calibration.iter().map(|d| d.2).sum::<usize>(), c.n);
    assert!(inside.map.is_empty() && inside.activity.is_empty());
}
