//! The text-aware two-tower recommender on MovieLens-100K (ratings as interactions, the
//! movies' titles and genres as item text) with a tenth of the movies held out as new
//! arrivals: text ranks them where an ID-based model cannot.

use std::sync::atomic::{AtomicBool, Ordering};

use shoplab_data::{ImportOptions, SplitSpec, Strategy, Target, Workspace};
use shoplab_model::models::ModelKind;
use shoplab_model::registry::Runs;
use shoplab_model::two_tower::item_texts;
use shoplab_model::{
    Dataset, FinetuneConfig, Progress, TextMethod, TextTask, TrainConfig, compare_runs, finetune,
    load_run, train,
};

use crate::dataset;

/// ML-100K ratings and movies, split `cold`: per user 8:1:1 (seed 1), and 168 of the 1,682
/// movies held out (all their ratings in the test part).
fn movielens_cold() -> (tempfile::TempDir, Workspace) {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::create(dir.path().join("ws.duckdb")).unwrap();
    ws.import(&dataset("ml-100k/ml-100k.inter"), &ImportOptions::default())
        .unwrap();
    let items = ImportOptions {
        kind: Some(Target::Items),
        ..ImportOptions::default()
    };
    ws.import(&dataset("ml-100k/ml-100k.item"), &items).unwrap();
    ws.create_split(&SplitSpec {
        name: "cold".into(),
        strategy: Strategy::RandomRatio {
            train: 0.8,
            valid: 0.1,
            test: 0.1,
        },
        seed: 1,
        event_types: None,
        min_value: None,
        k_core: None,
        cold_items: Some(0.1),
    })
    .unwrap();
    (dir, ws)
}

fn config(method: TextMethod) -> FinetuneConfig {
    let minilm = dataset("minilm");
    let mut c = FinetuneConfig::new(minilm.to_str().unwrap(), TextTask::TwoTower, method);
    c.split = Some("cold".into());
    c.batch_size = 64;
    c.max_tokens = 24;
    c.device = "cpu".into();
    c
}

fn quiet(_: &Progress) {}

#[test]
fn item_text_is_title_then_genres() {
    let (_dir, ws) = movielens_cold();
    let ds = Dataset::from_split(&ws, "cold").unwrap();
    let (texts, missing) = item_texts(&ws, &ds).unwrap();
    assert_eq!((texts.len(), missing), (1_682, 0));
    assert_eq!(
        texts[ds.item("1").unwrap() as usize],
        "Toy Story. Animation Children's Comedy"
    );
    // 189 movies have no training rating: the 168 held out, and 21 whose few ratings all
    // fell in the validation or test part.
    assert_eq!(ds.item_counts.iter().filter(|&&c| c == 0).count(), 189);
}

/// The frozen encoder with a trained user map: validation NDCG rises above the untrained
/// towers (the "probe"), and on the cold slice it ranks the new movies far better than
/// popularity and BPR, which know them by ID only. A run cancelled after its first epoch
/// resumes to the same result; the stored run loads for recommendations and compares
/// user by user with the others.
#[test]
fn frozen_two_tower_ranks_new_items_by_their_text() {
    let (_dir, ws) = movielens_cold();
    let (q, no) = (&mut quiet, &AtomicBool::new(false));
    let pop = train(&ws, &TrainConfig::new("cold", ModelKind::Pop), q, no).unwrap();
    let mut bpr_cfg = TrainConfig::new("cold", ModelKind::Bpr);
    // The settings this test was measured with (64 factors, lr 0.01, reg 0.01).
    bpr_cfg.hyper = shoplab_model::models::Hyper::default();
    bpr_cfg.epochs = 10;
    bpr_cfg.device = "cpu".into();
    let bpr = train(&ws, &bpr_cfg, q, no).unwrap();

    let mut c = config(TextMethod::Frozen);
    c.epochs = 4;
    let tt = finetune(&ws, &c, q, no).unwrap();
    println!("{:?}\n{:?}", tt.valid.metrics, tt.test.metrics);
    let valid = tt.valid.get("ndcg@10").unwrap();
    let probe = tt.valid.get("probe_ndcg@10").unwrap();
    assert!(
        valid > 2.0 * probe,
        "validation {valid} vs untrained {probe}"
    );
    // Every test user ranks; 927 of the 943 have a held-out movie in their test part.
    assert_eq!(tt.test.get("cold_users@10").unwrap(), 927.0);
    let cold = |t: &shoplab_model::Evaluation| t.get("cold_ndcg@10").unwrap();
    println!(
        "cold ndcg@10: pop {} bpr {} two-tower {}",
        cold(&pop.test),
        cold(&bpr.test),
        cold(&tt.test)
    );
    assert!(cold(&tt.test) > 2.0 * cold(&bpr.test));
    assert!(cold(&tt.test) > 2.0 * cold(&pop.test));
    // Warm items: better than chance, short of popularity (titles and genres say little
    // of what is watched).
    assert!(tt.test.get("ndcg@10").unwrap() > 0.05);

    // Paired comparison on the cold slice, user by user.
    let runs = Runs::new(&ws);
    let cmp = compare_runs(&runs, bpr.run_id, tt.run_id, "cold_ndcg@10").unwrap();
    assert_eq!(cmp.users, 927);
    assert!(cmp.t_interval.0 > 0.0 && cmp.p_value < 1e-6, "{cmp:?}");

    // The stored vectors score as evaluated.
    let (ds, cfg, model) = load_run(&ws, tt.run_id).unwrap();
    assert_eq!(cfg.model, ModelKind::TwoTower);
    let again = shoplab_model::metrics::evaluate(model.as_ref(), &ds, &ds.test, 10).unwrap();
    assert!((again.get("cold_ndcg@10").unwrap() - cold(&tt.test)).abs() < 1e-9);
    assert_eq!(model.embeddings().unwrap().unwrap().dim, 384);

    // Cancel after epoch 2, resume: the result of the uninterrupted run.
    let cancel = AtomicBool::new(false);
    let mut stop = |p: &Progress| {
        if let Progress::Epoch { epoch: 2, .. } = p {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    let cut = finetune(&ws, &c, &mut stop, &cancel).unwrap();
    assert_eq!((cut.status.as_str(), cut.epochs_done), ("cancelled", 2));
    let resumed = shoplab_model::resume_finetune(&ws, cut.run_id, q, no).unwrap();
    assert_eq!(resumed.epochs_done, 4);
    for name in ["ndcg@10", "cold_ndcg@10", "recall@10"] {
        let (a, b) = (tt.test.get(name).unwrap(), resumed.test.get(name).unwrap());
        assert!(
            (a - b).abs() < 1e-5,
            "{name}: {a} uninterrupted, {b} resumed"
        );
    }
}

/// LoRA on the item tower: a few steps of in-batch softmax lower the loss, the validation
/// NDCG beats the untrained towers, and the adapted encoder is saved as a model folder.
#[test]
fn lora_two_tower_trains_the_item_encoder() {
    let (_dir, ws) = movielens_cold();
    let mut c = config(TextMethod::Lora);
    c.lora_rank = 4;
    c.epochs = 1;
    c.steps = Some(8);
    c.batch_size = 32;
    c.warmup = 0.0;
    let mut losses = Vec::new();
    let mut on = |p: &Progress| {
        if let Progress::Step { loss, .. } = p {
            losses.push(*loss);
        }
    };
    let o = finetune(&ws, &c, &mut on, &AtomicBool::new(false)).unwrap();
    println!("{losses:?}\n{:?}", o.valid.metrics);
    assert_eq!(losses.len(), 8);
    let half = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
    assert!(half(&losses[4..]) < half(&losses[..4]), "{losses:?}");
    let valid = o.valid.get("ndcg@10").unwrap();
    assert!(valid > o.valid.get("probe_ndcg@10").unwrap());
    let folder = o.export.unwrap();
    assert!(folder.join("model.safetensors").exists() && folder.join("head.json").exists());
    assert_eq!(o.model, "lora4:two-tower");
}
