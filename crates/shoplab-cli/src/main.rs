//! `shoplab`: every engine capability, headless. The only place that turns errors into exit codes.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use shoplab_engine::demo::{self, WorldConfig};
use shoplab_engine::{
    FinetuneConfig, FinetuneOutcome, ImportOptions, ImportReport, Job, JobEvent, Mapping,
    ModelKind, Optimizer, Precision, Profile, Progress, Session, SplitSpec, SplitSummary, Strategy,
    Target, TextField, TextMethod, TextTask, TrainConfig, TrainOutcome,
};

#[derive(Parser)]
#[command(
    name = "shoplab",
    version,
    about = "ShopLab: e-commerce data, models and pricing simulation on your own machine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum ModelCommand {
    /// Copy an HF model folder (config.json, tokenizer.json, model.safetensors) into the
    /// models folder, after checking that it loads.
    Import {
        folder: PathBuf,
        #[arg(long)]
        name: Option<String>,
    },
    /// The imported models and where they are.
    List,
}

#[derive(Subcommand)]
enum Command {
    /// Import exports (CSV/TSV, Parquet, NDJSON; gzip/zstd) into a workspace; the format is recognized.
    Import {
        /// Workspace file (created when missing).
        workspace: PathBuf,
        /// Files to import.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// What the files hold: events, items, users or bandit_log (default: recognized).
        #[arg(long)]
        kind: Option<String>,
        /// A TOML mapping to use instead of the recognized one (see --show-mapping).
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// Print the recognized mapping as TOML and import nothing.
        #[arg(long)]
        show_mapping: bool,
        /// Replace user ids by a salted hash.
        #[arg(long)]
        pseudonymize: bool,
        /// Drop rows that repeat an earlier row exactly.
        #[arg(long)]
        dedupe: bool,
        #[arg(long)]
        json: bool,
    },
    /// Counts, time range, funnel, sparsity, activity and price statistics (stored in the workspace).
    Profile {
        workspace: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Create a train/valid/test split (or import one exported by another tool).
    Split {
        workspace: PathBuf,
        #[arg(long)]
        name: String,
        #[arg(long, value_enum, default_value_t = StrategyArg::Random)]
        strategy: StrategyArg,
        /// Train fraction (ratio strategies); default 1 - valid - test.
        #[arg(long)]
        train: Option<f64>,
        /// Valid fraction (ratio strategies, temporal) or count per user (leave-last).
        #[arg(long, default_value_t = 0.1)]
        valid: f64,
        /// Test fraction or count per user (leave-last).
        #[arg(long, default_value_t = 0.1)]
        test: f64,
        /// kfold: the number of folds.
        #[arg(long, default_value_t = 5)]
        folds: u32,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Event types to use, comma separated (default: ratings if any, else view,cart,purchase,favorite,click).
        #[arg(long, value_delimiter = ',')]
        events: Option<Vec<String>>,
        /// Keep interactions with value >= this (ratings).
        #[arg(long)]
        min_value: Option<f64>,
        /// Keep users and items with at least k interactions.
        #[arg(long)]
        k_core: Option<u32>,
        /// Hold out this fraction of the items as new arrivals: all their interactions go
        /// to the test part (the cold-start slice: `cold_ndcg@k`, `cold_recall@k`, ...).
        #[arg(long)]
        cold_items: Option<f64>,
        /// Import the split from files instead: train file.
        #[arg(long, requires = "test_file")]
        train_file: Option<PathBuf>,
        #[arg(long)]
        valid_file: Option<PathBuf>,
        #[arg(long)]
        test_file: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// List the workspace's splits.
    Splits {
        workspace: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Row counts of the workspace's tables.
    Tables {
        workspace: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Rejected rows of an import, with line and reason.
    Rejects {
        workspace: PathBuf,
        import_id: i64,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Run SQL against the workspace.
    Sql {
        workspace: PathBuf,
        query: String,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Train a model on a split; the run, its epochs and its test metrics go to the registry.
    /// Ctrl-C cancels cleanly; `--resume RUN` continues a cancelled run.
    Train {
        workspace: PathBuf,
        /// The split to train and evaluate on; several, comma separated, for a
        /// cross-validation. Not for conversion, which splits the sessions itself.
        #[arg(long)]
        split: Option<String>,
        /// pop, itemknn, ease, mf, bpr, bpmf, neumf, sasrec; conversion (P(purchase | user, item,
        /// price) from the views and purchases of the event log).
        #[arg(long, default_value = "bpr")]
        model: String,
        /// For mf: mse (explicit ratings, the default) or bpr (implicit feedback).
        #[arg(long)]
        objective: Option<String>,
        #[arg(long, default_value_t = 64)]
        factors: usize,
        #[arg(long, default_value_t = 30)]
        epochs: usize,
        /// Learning rate.
        #[arg(long)]
        lr: Option<f64>,
        /// L2 regularization of the factors (with sgd: per example).
        #[arg(long)]
        reg: Option<f64>,
        /// mf, bpr: adam (mini-batch Adam on any device, the default) or sgd (per-example
        /// SGD in one fused CPU pass, the fastest on a CPU).
        #[arg(long)]
        optimizer: Option<String>,
        /// Adam's decoupled weight decay (AdamW); default 0.
        #[arg(long)]
        weight_decay: Option<f64>,
        /// sasrec: the most recent items a user's state reads (default 50).
        #[arg(long)]
        max_len: Option<usize>,
        /// neumf: unseen items drawn per observed one (default 4).
        #[arg(long)]
        negatives: Option<usize>,
        /// bpmf: sweeps discarded before averaging (default 20).
        #[arg(long)]
        burn_in: Option<usize>,
        /// bpmf: precision α of the rating noise (default 2).
        #[arg(long)]
        alpha: Option<f64>,
        /// EASE's λ.
        #[arg(long)]
        lambda: Option<f64>,
        /// Item-kNN: neighbours kept per item.
        #[arg(long)]
        neighbors: Option<usize>,
        #[arg(long, default_value_t = 1024)]
        batch_size: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Cut-off of the ranking metrics.
        #[arg(short, long, default_value_t = 10)]
        k: usize,
        /// Epochs without a better validation value before stopping (0: never stop early).
        #[arg(long, default_value_t = 5)]
        patience: usize,
        /// cpu, cuda or auto (CUDA when built with it and a GPU is found).
        #[arg(long, default_value = "auto")]
        device: String,
        /// Continue this cancelled run from its last checkpoint.
        #[arg(long)]
        resume: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// Fine-tune a text encoder on the workspace's reviews (rating or recommended flag from
    /// the review text), or fit a baseline on the same split; a run in the registry.
    Finetune {
        workspace: PathBuf,
        /// The encoder: an imported model's name, a part of it, or a model folder.
        #[arg(long, default_value = "minilm")]
        model: String,
        /// rating (regression, RMSE), recommend (the recommended flag, AUC), or two-tower
        /// (a text-aware recommender on a split: items by their text, users by their
        /// history; NDCG@k with a cold-start slice).
        #[arg(long, default_value = "rating")]
        task: String,
        /// two-tower: the split to train and evaluate on.
        #[arg(long, default_value = "main")]
        split: String,
        /// two-tower: softmax temperature of the in-batch cosine scores.
        #[arg(long, default_value_t = 0.05)]
        temperature: f64,
        /// two-tower: optimizer steps per epoch (default: training items / batch).
        #[arg(long)]
        steps: Option<usize>,
        /// two-tower: cut-off of the ranking metrics.
        #[arg(long, default_value_t = 10)]
        k: usize,
        /// review (title, then text), text or title.
        #[arg(long, default_value = "review")]
        text: String,
        /// full (every weight), lora (adapters, with --lora R), frozen (linear probe on the
        /// pretrained embeddings) or tfidf (linear model on TF-IDF). Default: lora with
        /// --lora, else full.
        #[arg(long)]
        method: Option<String>,
        /// LoRA rank r on the attention query and value projections.
        #[arg(long)]
        lora: Option<usize>,
        /// LoRA scale α (the adapter adds α/r·B·A).
        #[arg(long, default_value_t = 16.0)]
        lora_alpha: f64,
        #[arg(long, default_value_t = 3)]
        epochs: usize,
        /// Peak learning rate (default 3e-5 full, 1e-3 LoRA).
        #[arg(long)]
        lr: Option<f64>,
        /// Texts per micro-batch (default 16; two-tower: 64, the in-batch negatives).
        #[arg(long)]
        batch_size: Option<usize>,
        /// Micro-batches per optimizer step (gradient accumulation).
        #[arg(long, default_value_t = 1)]
        accumulate: usize,
        /// Tokens a text is truncated to.
        #[arg(long, default_value_t = 128)]
        max_tokens: usize,
        /// Fraction of the steps warming the learning rate up (then it decays linearly).
        #[arg(long, default_value_t = 0.1)]
        warmup: f64,
        #[arg(long, default_value_t = 0.01)]
        weight_decay: f64,
        /// Use at most N reviews (a seeded sample), before the 80/10/10 split.
        #[arg(long)]
        limit: Option<usize>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// f32, or bf16 / f16 (mixed precision: f32 weights, half-precision passes).
        #[arg(long, default_value = "f32")]
        precision: String,
        /// Epochs without a better validation value before stopping (0: never stop early).
        #[arg(long, default_value_t = 0)]
        patience: usize,
        /// cpu, cuda or auto.
        #[arg(long, default_value = "auto")]
        device: String,
        /// Continue this cancelled run from its last checkpoint.
        #[arg(long)]
        resume: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// The runs of the workspace: model, parameters, device, status, test metrics, time.
    Runs {
        workspace: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Paired comparison of run B against run A on one metric, with 95% intervals.
    Compare {
        workspace: PathBuf,
        a: i64,
        b: i64,
        #[arg(long, default_value = "ndcg@10")]
        metric: String,
        #[arg(long)]
        json: bool,
    },
    /// Top-k items of a finished run for one user (items seen in training left out).
    Recommend {
        workspace: PathBuf,
        #[arg(long)]
        run: i64,
        #[arg(long)]
        user: String,
        #[arg(short, long, default_value_t = 10)]
        k: usize,
        #[arg(long)]
        json: bool,
    },
    /// Write a finished run's recommendations (every user's top k) and/or its user and
    /// item vectors to Parquet files.
    Export {
        workspace: PathBuf,
        #[arg(long)]
        run: i64,
        /// Parquet file for `user_id, rank, item_id, score`.
        #[arg(long, required_unless_present = "embeddings")]
        recommendations: Option<PathBuf>,
        /// Parquet file for `kind, id, vector` (factorization models).
        #[arg(long)]
        embeddings: Option<PathBuf>,
        #[arg(short, long, default_value_t = 10)]
        k: usize,
        #[arg(long)]
        json: bool,
    },
    /// Build the demo workspace from the synthetic storefront and show what is in it.
    Demo {
        /// Where to write it (default: the cache's demo.duckdb).
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Run a what-if scenario (TOML: world, policies, events) over its seeds; results go to
    /// the workspace (`sims`, `sim_metrics`) and a table with 95% intervals is printed.
    Simulate {
        workspace: PathBuf,
        #[arg(long)]
        scenario: PathBuf,
        /// Replicates (overrides the scenario's `seeds`).
        #[arg(long)]
        seeds: Option<u64>,
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Real time: each simulated day's metrics are printed as it happens (one JSON line
        /// each with --json), at one day per --day-ms (or at --speed times real time);
        /// Ctrl-C stops and keeps the days so far.
        #[arg(long)]
        realtime: bool,
        #[arg(long, default_value_t = 500, conflicts_with = "speed")]
        day_ms: u64,
        /// Simulated time per unit of wall time (86400: a day a second).
        #[arg(long)]
        speed: Option<f64>,
        #[arg(long)]
        json: bool,
    },
    /// Fits the simulator's environment to the workspace's own sessions: each category's
    /// price sensitivity (shrunk towards the pool), each item's appeal, arrivals per day and
    /// week; prints the fit report and stores the calibration for scenarios
    /// (`world = { calibration = ID }`).
    Calibrate {
        workspace: PathBuf,
        /// A trained run whose user and item vectors give the shoppers' affinities.
        #[arg(long)]
        run: Option<i64>,
        /// Share of sessions held out for the fit report.
        #[arg(long, default_value_t = 0.2)]
        holdout: f64,
        /// Margin assumed for items without a cost in the catalog.
        #[arg(long, default_value_t = 0.3)]
        margin: f64,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        #[arg(long)]
        json: bool,
    },
    /// Off-policy evaluation on the workspace's bandit_log: IPS, SNIPS, DM and DR with
    /// bootstrap intervals; against a logged target, also each estimator's relative error.
    Ope {
        workspace: PathBuf,
        /// The behavior policy whose log is used (bandit_log.policy).
        #[arg(long)]
        log: String,
        /// uniform, or log:<policy> (the distribution another logged policy played).
        #[arg(long)]
        policy: String,
        #[arg(long)]
        campaign: Option<String>,
        /// Bootstrap resamples for the intervals.
        #[arg(long, default_value_t = 200)]
        resamples: usize,
        /// Bootstrap rounds for the relative errors (a logged target).
        #[arg(long, default_value_t = 30)]
        rounds: usize,
        #[arg(long)]
        json: bool,
    },
    /// Dynamic pricing of one product with known logit demand: each policy over many seeds,
    /// its share of the clairvoyant revenue with a 95% interval, and its regret.
    Pricing {
        /// The price grid, comma separated.
        #[arg(long, value_delimiter = ',', default_value = "29.9,34.9,39.9,44.9")]
        prices: Vec<f64>,
        /// Utility of the product at price 1.
        #[arg(long, default_value_t = 27.5)]
        appeal: f64,
        /// Price sensitivity β (utility per unit of ln price).
        #[arg(long, default_value_t = 7.7)]
        sensitivity: f64,
        /// Policies: fixed:K (grid index), thompson, ucb1, eps:E.
        #[arg(long, value_delimiter = ',', default_value = "thompson,ucb1,eps:0.1")]
        policies: Vec<String>,
        /// Periods (one shopper each) per replicate.
        #[arg(long, default_value_t = 10_000)]
        horizon: u64,
        /// Replicates (seeds 0 … N-1).
        #[arg(long, default_value_t = 100)]
        seeds: u64,
        #[arg(long, default_value_t = 2)]
        threads: usize,
        #[arg(long)]
        json: bool,
    },
    /// Pretrained text encoders (BERT family, Hugging Face folder layout): import, list.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
    /// Text embeddings: every item's title and description into the workspace's
    /// `item_embeddings` (`--items`), or the given texts printed (`--text`, no workspace).
    Embed {
        workspace: Option<PathBuf>,
        /// An imported model's name, a unique part of one, or a model folder.
        #[arg(long)]
        model: String,
        #[arg(long, conflicts_with = "text")]
        items: bool,
        #[arg(long)]
        text: Vec<String>,
        #[arg(long, default_value = "auto")]
        device: String,
        #[arg(long)]
        json: bool,
    },
    /// Write a synthetic storefront (REES46-shaped events.csv + catalog.csv) with known demand.
    Generate {
        #[arg(long)]
        out: PathBuf,
        /// About this many events.
        #[arg(long, default_value_t = 200_000)]
        events: u64,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum StrategyArg {
    /// Per user, shuffled, RecBole's ratio rule (8:1:1).
    Random,
    /// Per user, shuffled, MS-Recommenders' rule (75/25).
    Stratified,
    /// One global time cutoff.
    Temporal,
    /// Per user, the last interactions by time.
    LeaveLast,
    /// Surprise's k-fold: `--folds K` writes the K splits NAME1 … NAMEK.
    Kfold,
}

/// One finished, cancelled or failed training run, as text or one JSON line.
/// An evaluation's metrics as a JSON object, name to value.
fn metrics_json(ev: &shoplab_engine::Evaluation) -> serde_json::Map<String, serde_json::Value> {
    ev.metrics
        .iter()
        .map(|(n, v)| (n.clone(), serde_json::json!(v)))
        .collect()
}

fn print_outcome(outcome: &TrainOutcome, json: bool, workspace: &Path) {
    if json {
        let metrics = metrics_json(&outcome.test);
        println!(
            "{}",
            serde_json::json!({
                "run_id": outcome.run_id,
                "model": outcome.model.name(),
                "device": outcome.device,
                "status": outcome.status,
                "seconds": outcome.seconds,
                "epochs": outcome.epochs_done,
                "seconds_per_epoch": outcome.seconds_per_epoch,
                "best_epoch": outcome.best_epoch,
                "metrics": metrics,
            })
        );
    } else if outcome.status == "cancelled" {
        println!(
            "run {}: cancelled after epoch {}; continue with `shoplab train {} --resume {}`",
            outcome.run_id,
            outcome.epochs_done,
            workspace.display(),
            outcome.run_id
        );
    } else {
        println!(
            "run {}: {} on {}, {} epochs, {:.2} s{}",
            outcome.run_id,
            outcome.model.name(),
            outcome.device,
            outcome.epochs_done,
            outcome.seconds,
            outcome
                .best_epoch
                .map(|e| format!(" (best validation at epoch {e})"))
                .unwrap_or_default()
        );
        for (name, v) in &outcome.test.metrics {
            println!("  test {name:<20} {v:.4}");
        }
    }
}

/// A text run's outcome, as text or one JSON line.
fn print_finetune(o: &FinetuneOutcome, json: bool, workspace: &Path) {
    if json {
        println!(
            "{}",
            serde_json::json!({
                "run_id": o.run_id,
                "model": o.model,
                "device": o.device,
                "status": o.status,
                "seconds": o.seconds,
                "epochs": o.epochs_done,
                "examples_per_second": o.examples_per_second,
                "best_epoch": o.best_epoch,
                "train_size": o.train_size,
                "valid": metrics_json(&o.valid),
                "metrics": metrics_json(&o.test),
                "export": o.export,
            })
        );
    } else if o.status == "cancelled" {
        println!(
            "run {}: cancelled after epoch {}; continue with `shoplab finetune {} --resume {}`",
            o.run_id,
            o.epochs_done,
            workspace.display(),
            o.run_id
        );
    } else {
        let what = if o.model.ends_with("two-tower") {
            "interactions"
        } else {
            "reviews"
        };
        println!(
            "run {}: {} on {}, {} training {what}, {} epochs, {:.1} s{}{}",
            o.run_id,
            o.model,
            o.device,
            o.train_size,
            o.epochs_done,
            o.seconds,
            o.examples_per_second
                .map(|e| format!(" ({e:.1} examples/s)"))
                .unwrap_or_default(),
            o.best_epoch
                .map(|e| format!(", best validation at epoch {e}"))
                .unwrap_or_default()
        );
        for (name, v) in &o.valid.metrics {
            println!("  valid {name:<20} {v:.4}");
        }
        for (name, v) in &o.test.metrics {
            println!("  test  {name:<20} {v:.4}");
        }
        if let Some(dir) = &o.export {
            println!(
                "  model folder: {} (shoplab model import it to reuse)",
                dir.display()
            );
        }
    }
}

/// Each policy's conversion, revenue and margin over the horizon: mean over replicates with
/// a 95% interval, the revenue relative to the first policy, the regret against the oracle
/// (when it ran) and the error of the policy's predicted conversion (when it predicts).
fn print_simulation(report: &shoplab_engine::SimReport, json: bool) {
    type Summary<'a> = Vec<(&'a str, shoplab_engine::sim::Estimate)>;
    let rows: Vec<(String, Summary)> = report
        .runs
        .iter()
        .map(|r| (r.policy.clone(), r.summary()))
        .collect();
    if json {
        let policies: Vec<serde_json::Value> = rows
            .iter()
            .map(|(name, s)| {
                let mut m = serde_json::Map::new();
                m.insert("policy".into(), serde_json::json!(name));
                for (metric, e) in s {
                    m.insert(
                        (*metric).into(),
                        serde_json::json!({"mean": e.mean, "low": e.low, "high": e.high}),
                    );
                }
                serde_json::Value::Object(m)
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({"sim_id": report.sim_id, "name": report.name, "policies": policies})
        );
        return;
    }
    let replicates = report.runs.first().map_or(0, |r| r.replicates.len());
    println!(
        "simulation {}: {} ({replicates} replicates)",
        report.sim_id, report.name
    );
    println!(
        "{:<22} {:>10} {:>30} {:>30} {:>9} {:>22} {:>10}",
        "policy",
        "conversion",
        "revenue (95% CI)",
        "margin (95% CI)",
        "vs first",
        "regret vs oracle",
        "conv. RMSE"
    );
    let get = |s: &Summary, metric: &str| s.iter().find(|m| m.0 == metric).map(|m| m.1);
    let first = rows
        .first()
        .and_then(|r| get(&r.1, "revenue"))
        .map_or(1.0, |e| e.mean);
    let ci = |e: Option<shoplab_engine::sim::Estimate>| {
        e.map_or("-".into(), |e| {
            format!("{:.0} [{:.0}, {:.0}]", e.mean, e.low, e.high)
        })
    };
    for (name, s) in &rows {
        let margin = get(s, "margin");
        let regret = get(s, "regret").map_or("-".into(), |r| {
            let oracle = r.mean + margin.map_or(0.0, |m| m.mean);
            format!(
                "{:.0} ({:.1}%)",
                r.mean,
                100.0 * r.mean / oracle.abs().max(1e-9)
            )
        });
        let rmse = get(s, "conversion_mse").map_or("-".into(), |e| {
            format!("{:.2} pp", 100.0 * e.mean.max(0.0).sqrt())
        });
        println!(
            "{:<22} {:>9.2}% {:>30} {:>30} {:>8.3}× {:>22} {:>10}",
            name,
            100.0 * get(s, "conversion").map_or(0.0, |e| e.mean),
            ci(get(s, "revenue")),
            ci(margin),
            get(s, "revenue").map_or(0.0, |e| e.mean) / first,
            regret,
            rmse
        );
    }
}

/// The fit report of a calibration and its categories' price sensitivities.
fn print_calibration(r: &shoplab_engine::CalibrationReport, json: bool) {
    let c = &r.calibration;
    let f = &c.report;
    if json {
        println!(
            "{}",
            serde_json::json!({
                "calibration_id": r.calibration_id,
                "run_id": r.run_id,
                "report": f,
                "categories": c.categories,
            })
        );
        return;
    }
    println!(
        "calibration {}: {} sessions over {} days ({:.0} a day), {} purchases, {} items, {} shoppers",
        r.calibration_id,
        f.sessions,
        f.days,
        f.mean_sessions_per_day,
        f.purchases,
        c.items.len(),
        c.env.users.len()
    );
    println!(
        "held out ({} of {} sessions), log-likelihood per session: model {:.5}, without price {:.5}, one purchase rate {:.5}",
        f.holdout_sessions, f.sessions, f.loglik, f.loglik_no_price, f.loglik_constant
    );
    println!(
        "held-out conversion: predicted {:.2}%, observed {:.2}%",
        100.0 * f.predicted_conversion,
        100.0 * f.observed_conversion
    );
    println!("calibration by decile of predicted conversion (predicted → observed):");
    let bins: Vec<String> = f
        .calibration
        .iter()
        .map(|b| format!("{:.1}→{:.1}%", 100.0 * b.predicted, 100.0 * b.observed))
        .collect();
    println!("  {}", bins.join("  "));
    if let Some(run) = r.run_id {
        println!(
            "affinity weight of run {run}'s vectors: {:.3}",
            f.affinity_weight
        );
    }
    println!(
        "price sensitivity: pooled {:.3}, spread between categories {:.3}",
        f.pooled_elasticity, f.between_sd
    );
    println!(
        "{:<36} {:>9} {:>16} {:>9} {:>9} {:>8} {:>7}",
        "category", "β (used)", "own estimate", "views", "purchases", "price sd", "share"
    );
    for k in &c.categories {
        let name = if k.code.is_empty() { "(none)" } else { &k.code };
        println!(
            "{:<36} {:>9.3} {:>16} {:>9} {:>9} {:>8.3} {:>6.1}%",
            name,
            k.elasticity,
            format!("{:.3} ± {:.3}", k.raw, k.se),
            k.views,
            k.purchases,
            k.price_sd,
            100.0 * k.share
        );
    }
    if f.costs_assumed > 0 {
        println!(
            "{} items have no cost in the catalog: their cost is assumed from --margin",
            f.costs_assumed
        );
    }
}

/// Mean and standard deviation of each test metric over the splits of a cross-validation.
fn print_cross_validation(configs: &[TrainConfig], outcomes: &[TrainOutcome], json: bool) {
    let n = outcomes.len() as f64;
    let mut summary = Vec::new();
    for (name, _) in &outcomes[0].test.metrics {
        let values: Vec<f64> = outcomes.iter().filter_map(|o| o.test.get(name)).collect();
        if values.len() != outcomes.len() {
            continue;
        }
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        summary.push((name.clone(), mean, var.sqrt()));
    }
    let splits: Vec<&str> = configs.iter().map(|c| c.split.as_str()).collect();
    if json {
        let metrics: serde_json::Map<String, serde_json::Value> = summary
            .iter()
            .map(|(n, m, s)| (n.clone(), serde_json::json!({"mean": m, "std": s})))
            .collect();
        let runs: Vec<i64> = outcomes.iter().map(|o| o.run_id).collect();
        println!(
            "{}",
            serde_json::json!({"cross_validation": {"splits": splits, "runs": runs, "metrics": metrics}})
        );
    } else {
        println!(
            "cross-validation over {} splits ({}):",
            splits.len(),
            splits.join(", ")
        );
        for (name, mean, std) in summary {
            println!("  test {name:<20} {mean:.4} ± {std:.4}");
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        // Interrupted by Ctrl-C (a cancelled run), as shells expect.
        Ok(()) if INTERRUPTED.load(Ordering::Relaxed) => ExitCode::from(130),
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Import {
            workspace,
            files,
            kind,
            mapping,
            show_mapping,
            pseudonymize,
            dedupe,
            json,
        } => {
            let session = Session::open(&workspace)?;
            let mapping = match mapping {
                Some(p) => {
                    let text = std::fs::read_to_string(&p)
                        .with_context(|| format!("reading mapping {}", p.display()))?;
                    Some(
                        Mapping::from_toml(&text)
                            .with_context(|| format!("mapping {}", p.display()))?,
                    )
                }
                None => None,
            };
            let kind = kind.map(|k| k.parse::<Target>()).transpose()?;
            let opts = ImportOptions {
                kind,
                mapping,
                pseudonymize,
                dedupe,
            };
            let mut reports = Vec::new();
            for file in &files {
                if show_mapping {
                    let preview = session.preview_import(file, &opts)?;
                    println!("# {}\n{}", file.display(), preview.mapping.to_toml());
                    continue;
                }
                let report = import_with_progress(&session, file, &opts, json)?;
                if !json {
                    print_import(&report);
                }
                reports.push(report);
            }
            if json && !show_mapping {
                println!("{}", serde_json::to_string_pretty(&reports)?);
            }
        }
        Command::Profile { workspace, json } => {
            let session = Session::open(&workspace)?;
            let profile = session.profile()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&profile)?);
            } else {
                print_profile(&profile);
            }
        }
        Command::Split {
            workspace,
            name,
            strategy,
            train,
            valid,
            test,
            folds,
            seed,
            events,
            min_value,
            k_core,
            cold_items,
            train_file,
            valid_file,
            test_file,
            json,
        } => {
            let session = Session::open(&workspace)?;
            let spec = |name: String, strategy| SplitSpec {
                name,
                strategy,
                seed,
                event_types: events.clone(),
                min_value,
                k_core,
                cold_items,
            };
            let summaries = if let (Some(tr), Some(te)) = (&train_file, &test_file) {
                vec![session.import_split(&name, tr, valid_file.as_deref(), te)?]
            } else if let StrategyArg::Kfold = strategy {
                (0..folds)
                    .map(|fold| {
                        let strategy = Strategy::KFold { folds, fold };
                        session.create_split(&spec(format!("{name}{}", fold + 1), strategy))
                    })
                    .collect::<Result<Vec<_>, _>>()?
            } else {
                let train = train.unwrap_or(1.0 - valid - test);
                let strategy = match strategy {
                    StrategyArg::Random => Strategy::RandomRatio { train, valid, test },
                    StrategyArg::Stratified => Strategy::Stratified { train, valid, test },
                    StrategyArg::Temporal => Strategy::Temporal { valid, test },
                    StrategyArg::LeaveLast => {
                        if valid.fract() != 0.0 || test.fract() != 0.0 {
                            bail!("leave-last takes counts per user: --valid 1 --test 1");
                        }
                        Strategy::LeaveLastOut {
                            valid: valid as u32,
                            test: test as u32,
                        }
                    }
                    StrategyArg::Kfold => unreachable!("handled above"),
                };
                vec![session.create_split(&spec(name, strategy))?]
            };
            if json && summaries.len() == 1 {
                println!("{}", serde_json::to_string_pretty(&summaries[0])?);
            } else if json {
                println!("{}", serde_json::to_string_pretty(&summaries)?);
            } else {
                print_splits(&summaries);
            }
        }
        Command::Splits { workspace, json } => {
            let session = Session::open_read_only(&workspace)?;
            let splits = session.splits()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&splits)?);
            } else {
                print_splits(&splits);
            }
        }
        Command::Tables { workspace, json } => {
            let session = Session::open_read_only(&workspace)?;
            let counts = session.table_counts()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&counts)?);
            } else {
                for c in counts {
                    println!("{:<20} {:>12}", c.table, c.rows);
                }
            }
        }
        Command::Rejects {
            workspace,
            import_id,
            limit,
        } => {
            let session = Session::open_read_only(&workspace)?;
            for r in session.rejects(import_id, limit)? {
                println!(
                    "line {:>8}  {:<14} {}{}",
                    r.line.map(|l| l.to_string()).unwrap_or_else(|| "-".into()),
                    r.column.unwrap_or_default(),
                    r.reason,
                    r.raw
                        .map(|raw| format!("\n                {}", truncate(&raw, 160)))
                        .unwrap_or_default()
                );
            }
        }
        Command::Sql {
            workspace,
            query,
            limit,
        } => {
            let session = Session::open(&workspace)?;
            let result = session.query(&query, limit)?;
            println!("{}", result.columns.join("\t"));
            for row in result.rows {
                println!("{}", row.join("\t"));
            }
        }
        Command::Train {
            workspace,
            split,
            model,
            objective,
            factors,
            epochs,
            lr,
            reg,
            optimizer,
            weight_decay,
            max_len,
            negatives,
            burn_in,
            alpha,
            lambda,
            neighbors,
            batch_size,
            seed,
            k,
            patience,
            device,
            resume,
            json,
        } => {
            let session = Session::open(&workspace)?;
            // One config per split (several: a cross-validation); none to resume.
            let configs: Vec<TrainConfig> = match resume {
                Some(_) => Vec::new(),
                None => {
                    let kind = match (model.as_str(), objective.as_deref()) {
                        ("mf", Some("bpr")) => ModelKind::Bpr,
                        ("mf", None | Some("mse")) => ModelKind::Mf,
                        (m, None) => ModelKind::parse(m)?,
                        (m, Some(o)) => bail!("--objective {o} does not apply to model {m}"),
                    };
                    if split.is_none() && kind != ModelKind::Conversion {
                        bail!("--split is required (to continue a run: --resume RUN)");
                    }
                    let mut cfg = TrainConfig::new(split.as_deref().unwrap_or_default(), kind);
                    cfg.hyper.factors = factors;
                    cfg.epochs = epochs;
                    cfg.batch_size = batch_size;
                    cfg.seed = seed;
                    cfg.k = k;
                    cfg.patience = patience;
                    cfg.device = device;
                    if let Some(v) = lr {
                        cfg.hyper.lr = v;
                    }
                    if let Some(v) = reg {
                        cfg.hyper.reg = v;
                    }
                    if let Some(v) = optimizer {
                        cfg.hyper.optimizer = Optimizer::parse(&v)?;
                    }
                    if let Some(v) = weight_decay {
                        cfg.hyper.weight_decay = v;
                    }
                    if let Some(v) = max_len {
                        cfg.hyper.max_len = v;
                    }
                    if let Some(v) = negatives {
                        cfg.hyper.negatives = v;
                    }
                    if let Some(v) = burn_in {
                        cfg.hyper.burn_in = v;
                    }
                    if let Some(v) = alpha {
                        cfg.hyper.noise_precision = v;
                    }
                    if let Some(v) = lambda {
                        cfg.hyper.lambda = v;
                    }
                    if let Some(v) = neighbors {
                        cfg.hyper.neighbors = v;
                    }
                    let splits = split.as_deref().unwrap_or_default().split(',');
                    splits
                        .map(|name| {
                            let mut c = cfg.clone();
                            c.split = name.trim().to_string();
                            c
                        })
                        .collect()
                }
            };
            let mut outcomes = Vec::new();
            for i in 0..configs.len().max(1) {
                let job = match (resume, configs.get(i)) {
                    (Some(run), _) => session.resume_job(run)?,
                    (None, Some(c)) => session.train_job(c.clone())?,
                    (None, None) => bail!("--split is required"),
                };
                let outcome = follow_training(job, json)?;
                print_outcome(&outcome, json, &workspace);
                let stop = outcome.status != "finished";
                outcomes.push(outcome);
                if stop {
                    break;
                }
            }
            if configs.len() > 1 && outcomes.len() == configs.len() {
                print_cross_validation(&configs, &outcomes, json);
            }
        }
        Command::Finetune {
            workspace,
            model,
            task,
            split,
            temperature,
            steps,
            k,
            text,
            method,
            lora,
            lora_alpha,
            epochs,
            lr,
            batch_size,
            accumulate,
            max_tokens,
            warmup,
            weight_decay,
            limit,
            seed,
            precision,
            patience,
            device,
            resume,
            json,
        } => {
            let session = Session::open(&workspace)?;
            let job = match resume {
                Some(run) => session.resume_finetune_job(run)?,
                None => {
                    let method = match (method.as_deref(), lora) {
                        (Some(m), _) => TextMethod::parse(m)?,
                        (None, Some(_)) => TextMethod::Lora,
                        (None, None) => TextMethod::Full,
                    };
                    let mut cfg = FinetuneConfig::new(&model, TextTask::parse(&task)?, method);
                    cfg.text = TextField::parse(&text)?;
                    cfg.lora_rank = lora.unwrap_or(8);
                    cfg.lora_alpha = lora_alpha;
                    cfg.epochs = epochs;
                    if let Some(v) = lr {
                        cfg.lr = v;
                    }
                    let two_tower = cfg.task == TextTask::TwoTower;
                    cfg.batch_size = batch_size.unwrap_or(if two_tower { 64 } else { 16 });
                    if two_tower {
                        cfg.split = Some(split);
                        cfg.temperature = temperature;
                        cfg.steps = steps;
                        cfg.k = k;
                    }
                    cfg.accumulate = accumulate;
                    cfg.max_tokens = max_tokens;
                    cfg.warmup = warmup;
                    cfg.weight_decay = weight_decay;
                    cfg.limit = limit;
                    cfg.seed = seed;
                    cfg.precision = Precision::parse(&precision)?;
                    cfg.patience = patience;
                    cfg.device = device;
                    session.finetune_job(cfg)?
                }
            };
            let o = follow_training(job, json)?;
            print_finetune(&o, json, &workspace);
        }
        Command::Runs { workspace, json } => {
            let session = Session::open_read_only(&workspace)?;
            let runs = session.runs()?;
            if json {
                println!("{}", serde_json::to_string_pretty(&runs)?);
            } else {
                println!(
                    "{:>4}  {:<16} {:<10} {:<8} {:<9} {:>6} {:>9}  metrics",
                    "run", "model", "split", "device", "status", "epochs", "seconds"
                );
                for r in runs {
                    let shown: Vec<String> = r
                        .metrics
                        .iter()
                        .filter(|(n, _)| {
                            [
                                "rmse",
                                "ndcg@",
                                "recall@",
                                "precision@",
                                "cold_ndcg@",
                                "auc",
                                "logloss",
                            ]
                            .iter()
                            .any(|p| n.starts_with(p))
                        })
                        .map(|(n, v)| format!("{n} {v:.4}"))
                        .collect();
                    println!(
                        "{:>4}  {:<16} {:<10} {:<8} {:<9} {:>6} {:>9.2}  {}",
                        r.run_id,
                        r.model,
                        truncate(&r.split, 10),
                        r.device,
                        r.status,
                        r.epochs_done,
                        r.seconds,
                        shown.join("  ")
                    );
                }
            }
        }
        Command::Compare {
            workspace,
            a,
            b,
            metric,
            json,
        } => {
            let session = Session::open_read_only(&workspace)?;
            let c = session.compare(a, b, &metric)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&c)?);
            } else {
                println!("{} over {} users (run {b} - run {a}):", c.metric, c.users);
                println!("  run {a}: {:.4}   run {b}: {:.4}", c.mean_a, c.mean_b);
                println!(
                    "  difference {:+.4}  paired t 95% CI [{:+.4}, {:+.4}]  p = {:.4}",
                    c.diff, c.t_interval.0, c.t_interval.1, c.p_value
                );
                println!(
                    "  bootstrap 95% CI [{:+.4}, {:+.4}] (10,000 resamples of users)",
                    c.bootstrap_interval.0, c.bootstrap_interval.1
                );
            }
        }
        Command::Export {
            workspace,
            run,
            recommendations,
            embeddings,
            k,
            json,
        } => {
            let session = Session::open(&workspace)?;
            let mut written = serde_json::Map::new();
            if let Some(path) = recommendations {
                let rows = session.export_recommendations(run, k, &path)?;
                if !json {
                    println!("{}: {rows} recommendations (top {k})", path.display());
                }
                written.insert("recommendations".into(), serde_json::json!(rows));
            }
            if let Some(path) = embeddings {
                let rows = session.export_embeddings(run, &path)?;
                if !json {
                    println!("{}: {rows} vectors (users and items)", path.display());
                }
                written.insert("embeddings".into(), serde_json::json!(rows));
            }
            if json {
                println!("{}", serde_json::Value::Object(written));
            }
        }
        Command::Simulate {
            workspace,
            scenario,
            seeds,
            threads,
            realtime,
            day_ms,
            speed,
            json,
        } => {
            let text = std::fs::read_to_string(&scenario)
                .with_context(|| format!("reading {}", scenario.display()))?;
            let session = Session::open(&workspace)?;
            let origin = scenario.display().to_string();
            let report = if realtime {
                catch_ctrl_c();
                let pace = match speed {
                    Some(x) if x > 0.0 && x.is_finite() => Duration::from_secs_f64(86_400.0 / x),
                    Some(x) => anyhow::bail!("--speed must be positive, got {x}"),
                    None => Duration::from_millis(day_ms),
                };
                session.simulate_live(&text, &origin, seeds, pace, &mut |d| {
                    if json {
                        println!("{}", serde_json::to_string(d).unwrap_or_default());
                    } else {
                        println!(
                            "day {:>3}  {:<22} conversion {:>6.2}%  revenue {:>12.0}  margin {:>11.0}{}",
                            d.day + 1,
                            d.policy,
                            100.0 * d.conversion,
                            d.revenue,
                            d.margin,
                            d.regret
                                .map(|r| format!("  regret {r:>9.0}"))
                                .unwrap_or_default()
                        );
                    }
                    !INTERRUPTED.load(Ordering::Relaxed)
                })?
            } else {
                session.simulate(&text, &origin, seeds, threads)?
            };
            print_simulation(&report, json);
        }
        Command::Calibrate {
            workspace,
            run,
            holdout,
            margin,
            seed,
            json,
        } => {
            let session = Session::open(&workspace)?;
            let opts = shoplab_engine::sim::calibrate::CalibrateOptions {
                holdout,
                seed,
                default_margin: margin,
                ..Default::default()
            };
            let r = session.calibrate(&opts, run)?;
            print_calibration(&r, json);
        }
        Command::Ope {
            workspace,
            log,
            policy,
            campaign,
            resamples,
            rounds,
            json,
        } => {
            let session = Session::open_read_only(&workspace)?;
            let r = session.ope(&log, campaign.as_deref(), &policy, resamples, rounds)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                println!(
                    "{} on the log of {}{}: {} rows, {} actions, {} positions",
                    r.target,
                    r.behavior,
                    r.campaign
                        .as_deref()
                        .map(|c| format!(" ({c})"))
                        .unwrap_or_default(),
                    r.rows,
                    r.actions,
                    r.positions
                );
                let errors = r.relative_errors.map(|e| e.map(Some)).unwrap_or([None; 4]);
                println!(
                    "{:<7} {:>10} {:>24} {:>22}",
                    "", "estimate", "95% bootstrap interval", "relative error (sd)"
                );
                for ((name, e), err) in r.estimates.rows().iter().zip(errors) {
                    let err = err
                        .map(|(m, sd)| format!("{m:.3} ({sd:.3})"))
                        .unwrap_or_default();
                    println!(
                        "{name:<7} {:>10.5} {:>24} {err:>22}",
                        e.value,
                        format!("[{:.5}, {:.5}]", e.low, e.high)
                    );
                }
                if let Some(t) = r.truth {
                    println!("on-policy mean reward of the target's own log: {t:.5}");
                }
            }
        }
        Command::Pricing {
            prices,
            appeal,
            sensitivity,
            policies,
            horizon,
            seeds,
            threads,
            json,
        } => {
            use shoplab_engine::sim::{LogitDemand, PolicyKind, run_replicates};
            let demand = LogitDemand::new(appeal, sensitivity)?;
            let kinds = policies
                .iter()
                .map(|p| PolicyKind::parse(p))
                .collect::<Result<Vec<_>, _>>()?;
            let summaries = run_replicates(&demand, &prices, &kinds, horizon, 0..seeds, threads)?;
            if json {
                let rows: Vec<serde_json::Value> = summaries
                    .iter()
                    .map(|s| {
                        serde_json::json!({
                            "policy": s.policy, "share": s.share, "share_ci": [s.share_ci.0, s.share_ci.1],
                            "regret": s.regret, "seconds": s.seconds, "replicates": s.replicates.len(),
                        })
                    })
                    .collect();
                println!("{}", serde_json::Value::Array(rows));
            } else {
                let best = demand.best_price(&prices);
                println!(
                    "best price {} (buys {:.1}%, {:.2} a shopper); {seeds} seeds × {horizon} periods",
                    prices[best],
                    100.0 * demand.buy_probability(prices[best]),
                    demand.expected_revenue(prices[best])
                );
                println!(
                    "{:<16} {:>22} {:>12} {:>9}",
                    "policy", "% clairvoyant (95% CI)", "regret", "seconds"
                );
                for s in summaries {
                    println!(
                        "{:<16} {:>7.2} [{:.2}, {:.2}] {:>12.1} {:>9.3}",
                        s.policy,
                        100.0 * s.share,
                        100.0 * s.share_ci.0,
                        100.0 * s.share_ci.1,
                        s.regret,
                        s.seconds
                    );
                }
            }
        }
        Command::Recommend {
            workspace,
            run,
            user,
            k,
            json,
        } => {
            let session = Session::open_read_only(&workspace)?;
            let recs = session.recommend(run, &user, k)?;
            if json {
                let rows: Vec<_> = recs
                    .iter()
                    .enumerate()
                    .map(|(r, (item, score))| serde_json::json!({"rank": r + 1, "item_id": item, "score": score}))
                    .collect();
                println!("{}", serde_json::to_string_pretty(&rows)?);
            } else {
                for (r, (item, score)) in recs.iter().enumerate() {
                    println!("{:>3}. {item:<12} {score:.4}", r + 1);
                }
            }
        }
        Command::Demo { out, json } => {
            let path = out.unwrap_or_else(demo::default_demo_path);
            let spinner = spinner(
                json,
                "building the demo workspace from the synthetic storefront",
            );
            let report = demo::build_demo(&path, &WorldConfig::demo())?;
            spinner.finish_and_clear();
            if json {
                println!(
                    "{}",
                    serde_json::json!({
                        "workspace": report.path,
                        "events": report.events,
                        "catalog": report.catalog,
                        "split": report.split,
                        "profile": report.profile,
                    })
                );
            } else {
                println!("demo workspace: {}\n", report.path.display());
                print_import(&report.catalog);
                print_import(&report.events);
                println!();
                print_profile(&report.profile);
                println!();
                print_splits(&[report.split]);
                println!(
                    "\nopen it: duckdb {} \"select * from events limit 5\"",
                    report.path.display()
                );
            }
        }
        Command::Model { command } => match command {
            ModelCommand::Import { folder, name } => {
                let name = shoplab_engine::text::import_model(&folder, name.as_deref())?;
                println!(
                    "{name}: {}",
                    shoplab_engine::text::models_dir().join(&name).display()
                );
            }
            ModelCommand::List => {
                for name in shoplab_engine::text::list_models() {
                    println!(
                        "{name}: {}",
                        shoplab_engine::text::models_dir().join(&name).display()
                    );
                }
            }
        },
        Command::Embed {
            workspace,
            model,
            items,
            text,
            device,
            json,
        } => {
            if items {
                let ws = workspace.context("--items needs a workspace")?;
                let session = Session::open(&ws)?;
                let (name, n) = session.embed_items(&model, &device)?;
                if json {
                    println!("{}", serde_json::json!({"model": name, "items": n}));
                } else {
                    println!("{n} items embedded with {name} (table item_embeddings)");
                }
            } else {
                anyhow::ensure!(!text.is_empty(), "give --items (and a workspace) or --text");
                let (name, dir) = shoplab_engine::text::resolve_model(&model)?;
                let (dev, _) = shoplab_engine::device::select(&device);
                let enc = shoplab_engine::text::TextEncoder::load(&dir, &name, &dev)?;
                let texts: Vec<&str> = text.iter().map(String::as_str).collect();
                let vectors = enc.embed(&texts)?;
                if json {
                    let rows: Vec<serde_json::Value> = text
                        .iter()
                        .zip(&vectors)
                        .map(|(t, v)| serde_json::json!({"text": t, "vector": v}))
                        .collect();
                    println!(
                        "{}",
                        if rows.len() == 1 {
                            rows[0].clone()
                        } else {
                            serde_json::Value::Array(rows)
                        }
                    );
                } else {
                    for (t, v) in text.iter().zip(&vectors) {
                        let head: Vec<String> =
                            v.iter().take(5).map(|x| format!("{x:.5}")).collect();
                        println!("{t}: [{}, …] ({} dims)", head.join(", "), v.len());
                    }
                }
            }
        }
        Command::Generate { out, events, seed } => {
            let spinner = spinner(false, "generating");
            let (ev, cat) =
                demo::write_demo_files(&out, &WorldConfig::with_target_events(events, seed))?;
            spinner.finish_and_clear();
            println!("{}\n{}", ev.display(), cat.display());
        }
    }
    Ok(())
}

fn spinner(quiet: bool, msg: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new_spinner().with_message(msg.to_string());
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

fn import_with_progress(
    session: &Session,
    file: &Path,
    opts: &ImportOptions,
    quiet: bool,
) -> Result<ImportReport> {
    let job = session.import_job(file, opts.clone())?;
    let pb = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(1000)
    };
    pb.set_style(
        ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {percent:>3}% {elapsed}")
            .expect("template")
            .progress_chars("=> "),
    );
    pb.set_message(format!("importing {}", file.display()));
    catch_ctrl_c();
    while !job.is_finished() {
        cancel_on_ctrl_c(&job, &pb);
        while let Some(ev) = job.try_event() {
            if let JobEvent::Progress(f) = ev {
                pb.set_position((f * 1000.0) as u64);
            }
        }
        pb.tick();
        std::thread::sleep(Duration::from_millis(50));
    }
    pb.finish_and_clear();
    Ok(job.join()?)
}

/// Set by Ctrl-C; the job being followed is cancelled.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

fn catch_ctrl_c() {
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::Relaxed));
}

/// Cancels the followed job once Ctrl-C was pressed (an import rolls back; a training run
/// stops after its current step and keeps its last checkpoint).
fn cancel_on_ctrl_c<T>(job: &Job<T>, pb: &ProgressBar) {
    if INTERRUPTED.load(Ordering::Relaxed) && !job.is_cancelled() {
        job.cancel();
        pb.set_message("cancelling …");
    }
}

/// Shows a training job's progress (epochs, loss, validation) until it ends.
fn follow_training<T: Send + 'static>(job: Job<T>, quiet: bool) -> Result<T> {
    catch_ctrl_c();
    let pb = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(1)
    };
    pb.set_style(
        ProgressStyle::with_template("[{bar:24}] {msg} {elapsed}")
            .expect("template")
            .progress_chars("=> "),
    );
    let mut last_val = String::new();
    while !job.is_finished() {
        cancel_on_ctrl_c(&job, &pb);
        while let Some(ev) = job.try_event() {
            match ev {
                JobEvent::Train(Progress::Started { epochs, device, .. }) => {
                    pb.set_length(epochs.max(1) as u64);
                    pb.set_message(format!("training on {device}"));
                }
                JobEvent::Train(Progress::Step {
                    epoch,
                    step,
                    steps,
                    loss,
                }) => pb.set_message(format!(
                    "epoch {epoch}  step {step}/{steps}  loss {loss:.4}{last_val}"
                )),
                JobEvent::Train(Progress::Epoch {
                    epoch,
                    epochs,
                    loss,
                    validation,
                    ..
                }) => {
                    last_val = validation
                        .map(|(n, v)| format!("  val {n} {v:.4}"))
                        .unwrap_or_default();
                    pb.set_position(epoch as u64);
                    pb.set_message(format!("epoch {epoch}/{epochs}  loss {loss:.4}{last_val}"));
                }
                JobEvent::Train(Progress::Evaluating) => pb.set_message("evaluating on test"),
                _ => {}
            }
        }
        pb.tick();
        std::thread::sleep(Duration::from_millis(50));
    }
    pb.finish_and_clear();
    Ok(job.join()?)
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

fn print_import(r: &ImportReport) {
    if r.already_imported {
        println!(
            "{}: already imported as import {} ({} rows loaded then); nothing done",
            r.file.display(),
            r.import_id,
            r.rows_loaded
        );
        return;
    }
    println!(
        "{}: {} → {}  read {}  loaded {}  rejected {}{}  ({:.2} s, import {})",
        r.file.display(),
        r.format,
        r.target.table(),
        r.rows_read,
        r.rows_loaded,
        r.rows_rejected,
        if r.rows_duplicate > 0 {
            format!("  duplicates dropped {}", r.rows_duplicate)
        } else {
            String::new()
        },
        r.seconds,
        r.import_id
    );
    if r.items_upserted > 0 {
        println!(
            "  items created or completed from the events: {}",
            r.items_upserted
        );
    }
    for rej in r.rejects.iter().take(5) {
        println!(
            "  rejected line {}: {}",
            rej.line
                .map(|l| l.to_string())
                .unwrap_or_else(|| "-".into()),
            rej.reason
        );
    }
    if r.rows_rejected > 5 {
        println!("  … see all: shoplab rejects <workspace> {}", r.import_id);
    }
}

fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.2}%", v * 100.0))
        .unwrap_or_else(|| "-".into())
}

fn print_profile(p: &Profile) {
    println!(
        "events {}   users {}   items {} (catalog {})   sessions {}",
        p.events, p.users, p.items, p.catalog_items, p.sessions
    );
    println!(
        "time   {} … {}  ({:.1} days)",
        p.first_event.as_deref().unwrap_or("-"),
        p.last_event.as_deref().unwrap_or("-"),
        p.days
    );
    println!("by type:");
    for t in &p.by_type {
        println!(
            "  {:<18} {:>12} events  {:>10} users",
            t.event_type, t.events, t.users
        );
    }
    let f = &p.funnel;
    println!(
        "funnel (user-item pairs): viewed {}  carted {}  purchased {}   view→cart {}  cart→purchase {}  view→purchase {}",
        f.viewed_pairs,
        f.carted_pairs,
        f.purchased_pairs,
        pct(f.view_to_cart),
        pct(f.cart_to_purchase),
        pct(f.view_to_purchase)
    );
    if let Some(s) = p.sparsity {
        println!("sparsity {:.4}%", s * 100.0);
    }
    for (name, q) in [
        ("events per user", &p.events_per_user),
        ("events per item", &p.events_per_item),
    ] {
        if let Some(q) = q {
            println!(
                "{name}: min {} p25 {} p50 {} p75 {} p90 {} p99 {} max {} mean {:.2}",
                q.min, q.p25, q.p50, q.p75, q.p90, q.p99, q.max, q.mean
            );
        }
    }
    if let Some(m) = p.rating_mean {
        println!("mean rating {m:.3}");
    }
    if p.duplicate_events > 0 {
        println!("duplicate events {}", p.duplicate_events);
    }
    if p.bandit_rows > 0 {
        println!("bandit_log rows {}", p.bandit_rows);
    }
    if !p.price_by_category.is_empty() {
        println!("prices by category (items):");
        for c in p.price_by_category.iter().take(12) {
            println!(
                "  {:<32} {:>6} items  min {:>9.2}  median {:>9.2}  mean {:>9.2}  max {:>9.2}",
                truncate(&c.category, 32),
                c.items,
                c.min,
                c.p50,
                c.mean,
                c.max
            );
        }
    }
}

fn print_splits(splits: &[SplitSummary]) {
    println!(
        "{:<16} {:<16} {:>10} {:>10} {:>10}  seed",
        "split", "strategy", "train", "valid", "test"
    );
    for s in splits {
        println!(
            "{:<16} {:<16} {:>10} {:>10} {:>10}  {}",
            s.name,
            s.strategy,
            s.n_train,
            s.n_valid,
            s.n_test,
            s.seed.map(|x| x.to_string()).unwrap_or_else(|| "-".into())
        );
    }
}
