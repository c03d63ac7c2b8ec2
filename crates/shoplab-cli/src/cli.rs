//! The command line: every command's arguments, with the groups several commands share
//! (output, a run's seed/device/resume, a model's hyperparameters, fine-tuning) defined once
//! and flattened. Parsing only: what a command does lives in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "shoplab",
    version,
    about = "ShopLab: e-commerce data, models and pricing simulation on your own machine"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Create an empty workspace (import creates one too; no other command does).
    Init(WorkspaceArgs),
    /// Import exports (CSV/TSV, Parquet, NDJSON; gzip/zstd) into a workspace; the format is recognized.
    Import(ImportArgs),
    /// Counts, time range, funnel, sparsity, activity and price statistics (stored in the workspace);
    /// with --spark and --data, the event figures of a lake's log computed on a Spark cluster.
    Profile(ProfileArgs),
    /// Create a train/valid/test split (or import one exported by another tool).
    Split(SplitArgs),
    /// List the workspace's splits.
    Splits(WorkspaceArgs),
    /// Row counts of the workspace's tables.
    Tables(WorkspaceArgs),
    /// Rejected rows of an import, with line and reason.
    Rejects(RejectsArgs),
    /// Run SQL against the workspace.
    Sql(SqlArgs),
    /// Train a model on a split; the run, its epochs and its test metrics go to the registry.
    /// Ctrl-C cancels cleanly; `--resume RUN` continues a cancelled run.
    Train(TrainArgs),
    /// Fine-tune a text encoder on the workspace's reviews (rating or recommended flag from
    /// the review text), or fit a baseline on the same split; a run in the registry.
    Finetune(FinetuneArgs),
    /// The runs of the workspace: model, parameters, device, status, test metrics, time, tags.
    Runs(RunsArgs),
    /// Tag a run or write a note on it (`runs --tag` filters on tags).
    Tag(TagArgs),
    /// Paired comparison of run B against run A on one metric, with 95% intervals.
    Compare(CompareArgs),
    /// Inside a finished run: residuals, ROC and calibration, the metric by user activity,
    /// the item vectors' map (the workbench draws them; --json has every point).
    Inside(InsideArgs),
    /// Top-k items of a finished run for one user (items seen in training left out).
    Recommend(RecommendArgs),
    /// Write a finished run's recommendations (every user's top k) and/or its user and
    /// item vectors to Parquet files.
    Export(ExportArgs),
    /// Build the demo workspace from the synthetic storefront and show what is in it.
    Demo(DemoArgs),
    /// Run a what-if scenario (TOML: world, policies, events) over its seeds; results go to
    /// the workspace (`sims`, `sim_metrics`) and a table with 95% intervals is printed.
    Simulate(SimulateArgs),
    /// The stored simulations (newest first), or one read back with its table (`--show ID`).
    Sims(SimsArgs),
    /// Fits the simulator's environment to the workspace's own sessions: each category's
    /// price sensitivity (shrunk towards the pool), each item's appeal, arrivals per day and
    /// week; prints the fit report and stores the calibration for scenarios
    /// (`world = { calibration = ID }`).
    Calibrate(CalibrateArgs),
    /// A calibration's demand curves: per category (or one category and its items, or one
    /// item) the purchase probability, revenue and margin per visit across prices, with the
    /// price sensitivity's 95% band, the prices the log showed, and the best prices.
    Demand(DemandArgs),
    /// Off-policy evaluation on the workspace's bandit_log: IPS, SNIPS, DM and DR with
    /// bootstrap intervals; against a logged target, also each estimator's relative error.
    Ope(OpeArgs),
    /// Plan an A/B test of two policies of a scenario: by simulation on its shop (a
    /// calibrated one is the workspace's own), the power and minimum detectable effect of
    /// each test length, the days needed; next to the textbook two-proportion formula.
    PlanAb(PlanAbArgs),
    /// Dynamic pricing of one product with known logit demand: each policy over many seeds,
    /// its share of the clairvoyant revenue with a 95% interval, and its regret.
    Pricing(PricingArgs),
    /// Pretrained text encoders (BERT family, Hugging Face folder layout): import, list.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
    /// Text embeddings: every item's title and description into the workspace's
    /// `item_embeddings` (`--items`), or the given texts printed (`--text`, no workspace).
    Embed(EmbedArgs),
    /// Write a synthetic storefront (REES46-shaped events.csv + catalog.csv) with known demand.
    Generate(GenerateArgs),
}

#[derive(Subcommand)]
pub enum ModelCommand {
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

/// How results are printed: text for a person, or JSON for a program.
#[derive(Args, Clone, Copy)]
#[command(next_help_heading = "Output")]
pub struct OutputArgs {
    /// Print JSON (streaming commands: one JSON object per line).
    #[arg(long)]
    pub json: bool,
}

/// A command over one workspace that needs nothing else.
#[derive(Args)]
pub struct WorkspaceArgs {
    pub workspace: PathBuf,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args)]
pub struct ProfileArgs {
    pub workspace: PathBuf,
    #[command(flatten)]
    pub spark: SparkArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Where a step runs when not in the workspace: a Spark cluster over a lake's events.
#[derive(Args)]
pub struct SparkArgs {
    /// A Spark Connect endpoint (`sc://host:port`): the step runs there, over --data, and
    /// only its result comes back (stored in this workspace with where it was computed).
    #[arg(long, requires = "data")]
    pub spark: Option<String>,
    /// The events the cluster reads: Parquet (a file or a folder, hive-partitioned or not,
    /// as `shoplab export --lake` writes) or a `.csv` with a header, with the canonical
    /// columns; a path or URI the Spark server can read.
    #[arg(long, requires = "spark")]
    pub data: Option<String>,
}

impl SparkArgs {
    /// The endpoint and the data, when the step runs on Spark.
    pub fn target(&self) -> Option<(&str, &str)> {
        self.spark.as_deref().zip(self.data.as_deref())
    }
}

#[derive(Args)]
pub struct ImportArgs {
    /// Workspace file (created when missing; an older one is migrated after a backup).
    pub workspace: PathBuf,
    /// Files to import (or, with --spark, none: the cluster reads --data).
    #[arg(required_unless_present = "data", conflicts_with = "data")]
    pub files: Vec<PathBuf>,
    /// What the files hold: events, items, users or bandit_log (default: recognized).
    #[arg(long)]
    pub kind: Option<String>,
    /// A TOML mapping to use instead of the recognized one (see --show-mapping).
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Print the recognized mapping as TOML and import nothing.
    #[arg(long)]
    pub show_mapping: bool,
    /// Replace user ids by a salted hash.
    #[arg(long)]
    pub pseudonymize: bool,
    /// Drop rows that repeat an earlier row exactly.
    #[arg(long)]
    pub dedupe: bool,
    /// Read and check the events on a Spark cluster (--data: a CSV or Parquet events
    /// file the server reads); the checked rows and the rejects land here.
    #[command(flatten)]
    pub spark: SparkArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct SplitArgs {
    pub workspace: PathBuf,
    #[arg(long)]
    pub name: String,
    #[arg(long, value_enum, default_value_t = StrategyArg::Random)]
    pub strategy: StrategyArg,
    /// Train fraction (ratio strategies); default 1 - valid - test.
    #[arg(long)]
    pub train: Option<f64>,
    /// Valid fraction (ratio strategies, temporal) or count per user (leave-last).
    #[arg(long, default_value_t = 0.1)]
    pub valid: f64,
    /// Test fraction or count per user (leave-last).
    #[arg(long, default_value_t = 0.1)]
    pub test: f64,
    /// kfold: the number of folds.
    #[arg(long, default_value_t = 5)]
    pub folds: u32,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Event types to use, comma separated (default: ratings if any, else view,cart,purchase,favorite,click).
    #[arg(long, value_delimiter = ',')]
    pub events: Option<Vec<String>>,
    /// Keep interactions with value >= this (ratings).
    #[arg(long)]
    pub min_value: Option<f64>,
    /// Keep users and items with at least k interactions.
    #[arg(long)]
    pub k_core: Option<u32>,
    /// Compute the split on a Spark cluster over a lake's events (`--strategy hashed`).
    #[command(flatten)]
    pub spark: SparkArgs,
    /// Hold out this fraction of the items as new arrivals: all their interactions go
    /// to the test part (the cold-start slice: `cold_ndcg@k`, `cold_recall@k`, ...).
    #[arg(long)]
    pub cold_items: Option<f64>,
    /// Import the split from files instead: train file.
    #[arg(long, requires = "test_file")]
    pub train_file: Option<PathBuf>,
    #[arg(long)]
    pub valid_file: Option<PathBuf>,
    #[arg(long)]
    pub test_file: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum StrategyArg {
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
    /// Per user, ordered by a hash of (seed, user, item, time), cut by ratios: the split
    /// DuckDB and Spark (`--spark`) compute alike.
    Hashed,
}

#[derive(Args)]
pub struct RejectsArgs {
    pub workspace: PathBuf,
    pub import_id: i64,
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

#[derive(Args)]
pub struct SqlArgs {
    pub workspace: PathBuf,
    pub query: String,
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
}

/// What every training run takes: its seed, device, learning rate, and a run to resume.
#[derive(Args)]
#[command(next_help_heading = "Run")]
pub struct RunArgs {
    /// Learning rate (peak rate with a schedule; default: the model's own).
    #[arg(long)]
    pub lr: Option<f64>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// cpu, cuda or auto (CUDA when built with it and a GPU is found).
    #[arg(long, default_value = "auto")]
    pub device: String,
    /// Continue this cancelled run from its last checkpoint.
    #[arg(long)]
    pub resume: Option<i64>,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct TrainArgs {
    pub workspace: PathBuf,
    /// The split to train and evaluate on; several, comma separated, for a
    /// cross-validation. Not for conversion, which splits the sessions itself.
    #[arg(long)]
    pub split: Option<String>,
    /// pop, itemknn, ease, mf, bpr, bpmf, neumf, sasrec; conversion (P(purchase | user, item,
    /// price) from the views and purchases of the event log).
    #[arg(long, default_value = "bpr", long_help = model_help())]
    pub model: String,
    /// Epochs (bpmf: Gibbs sweeps); default: the model's own (see --model).
    #[arg(long)]
    pub epochs: Option<usize>,
    #[arg(long, default_value_t = 1024)]
    pub batch_size: usize,
    /// Cut-off of the ranking metrics.
    #[arg(short, long, default_value_t = 10)]
    pub k: usize,
    /// Epochs without a better validation value before stopping (0: never stop early);
    /// default: the model's own (see --model).
    #[arg(long)]
    pub patience: Option<usize>,
    #[command(flatten)]
    pub hyper: HyperArgs,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub sweep: SweepArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// A sweep: many runs over a grid or a random draw of the options; each trial is a run
/// tagged with the sweep's name, and the sweep ends with its runs grouped over seeds and
/// each option's importance.
#[derive(Args)]
#[command(next_help_heading = "Sweep")]
pub struct SweepArgs {
    /// An option and its values, NAME=V1,V2,... (repeat for a grid: every combination).
    #[arg(long, value_name = "NAME=V1,V2")]
    pub grid: Vec<String>,
    /// An option drawn at random, NAME=LOW..HIGH or NAME=log:LOW..HIGH (with --random).
    #[arg(long, value_name = "NAME=LOW..HIGH")]
    pub range: Vec<String>,
    /// Random search: this many configurations drawn from --grid lists and --range ranges.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub random: Option<u64>,
    /// Seed of the random search's draws.
    #[arg(long, default_value_t = 0)]
    pub search_seed: u64,
    /// Run each configuration once per seed (comma separated); replaces --seed.
    #[arg(long, value_delimiter = ',', value_name = "S1,S2")]
    pub seeds: Vec<u64>,
    /// The sweep's tag on every trial's run (default: sweep-N, the first free number).
    #[arg(long)]
    pub tag: Option<String>,
    /// The test metric the sweep's summary groups and ranks options by (default: ndcg@10,
    /// or rmse for rating models).
    #[arg(long)]
    pub metric: Option<String>,
}

impl SweepArgs {
    /// Whether these options ask for a sweep.
    pub fn is_sweep(&self) -> bool {
        !self.grid.is_empty()
            || !self.range.is_empty()
            || self.random.is_some()
            || !self.seeds.is_empty()
    }
}

/// A recommendation model's hyperparameters; unset ones keep the model's defaults.
#[derive(Args)]
#[command(next_help_heading = "Model")]
pub struct HyperArgs {
    /// For mf: mse (explicit ratings, the default) or bpr (implicit feedback).
    #[arg(long)]
    pub objective: Option<String>,
    /// Latent factors; default: the model's own (see --model).
    #[arg(long)]
    pub factors: Option<usize>,
    /// L2 regularization of the factors (with sgd: per example).
    #[arg(long)]
    pub reg: Option<f64>,
    /// mf, bpr: adam (mini-batch Adam on any device, the default) or sgd (per-example
    /// SGD in one fused CPU pass, the fastest on a CPU).
    #[arg(long)]
    pub optimizer: Option<String>,
    /// Adam's decoupled weight decay (AdamW); default 0.
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// sasrec: the most recent items a user's state reads (default 50).
    #[arg(long)]
    pub max_len: Option<usize>,
    /// neumf: unseen items drawn per observed one (default 4).
    #[arg(long)]
    pub negatives: Option<usize>,
    /// bpmf: sweeps discarded before averaging (default 20).
    #[arg(long)]
    pub burn_in: Option<usize>,
    /// bpmf: precision α of the rating noise (default 2).
    #[arg(long)]
    pub alpha: Option<f64>,
    /// EASE's λ.
    #[arg(long)]
    pub lambda: Option<f64>,
    /// Item-kNN: neighbours kept per item.
    #[arg(long)]
    pub neighbors: Option<usize>,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct FinetuneArgs {
    pub workspace: PathBuf,
    /// The encoder: an imported model's name, a part of it, or a model folder.
    #[arg(long, default_value = "minilm")]
    pub model: String,
    /// rating (regression, RMSE), recommend (the recommended flag, AUC), or two-tower
    /// (a text-aware recommender on a split: items by their text, users by their
    /// history; NDCG@k with a cold-start slice).
    #[arg(long, default_value = "rating")]
    pub task: String,
    #[arg(long, default_value_t = 3)]
    pub epochs: usize,
    /// Texts per micro-batch (default 16; two-tower: 64, the in-batch negatives).
    #[arg(long)]
    pub batch_size: Option<usize>,
    #[arg(long, default_value_t = 0.01)]
    pub weight_decay: f64,
    /// Epochs without a better validation value before stopping (0: never stop early).
    #[arg(long, default_value_t = 0)]
    pub patience: usize,
    #[command(flatten)]
    pub encoder: EncoderArgs,
    #[command(flatten)]
    pub two_tower: TwoTowerArgs,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// How a text encoder is fine-tuned.
#[derive(Args)]
#[command(next_help_heading = "Fine-tuning")]
pub struct EncoderArgs {
    /// review (title, then text), text or title.
    #[arg(long, default_value = "review")]
    pub text: String,
    /// full (every weight), lora (adapters, with --lora R), frozen (linear probe on the
    /// pretrained embeddings) or tfidf (linear model on TF-IDF). Default: lora with
    /// --lora, else full.
    #[arg(long)]
    pub method: Option<String>,
    /// LoRA rank r on the attention query and value projections.
    #[arg(long)]
    pub lora: Option<usize>,
    /// LoRA scale α (the adapter adds α/r·B·A).
    #[arg(long, default_value_t = 16.0)]
    pub lora_alpha: f64,
    /// Micro-batches per optimizer step (gradient accumulation).
    #[arg(long, default_value_t = 1)]
    pub accumulate: usize,
    /// Tokens a text is truncated to.
    #[arg(long, default_value_t = 128)]
    pub max_tokens: usize,
    /// Fraction of the steps warming the learning rate up (then it decays linearly).
    #[arg(long, default_value_t = 0.1)]
    pub warmup: f64,
    /// Use at most N reviews (a seeded sample), before the 80/10/10 split.
    #[arg(long)]
    pub limit: Option<usize>,
    /// f32, or bf16 / f16 (mixed precision: f32 weights, half-precision passes).
    #[arg(long, default_value = "f32")]
    pub precision: String,
}

/// The two-tower task's own settings.
#[derive(Args)]
#[command(next_help_heading = "Two-tower")]
pub struct TwoTowerArgs {
    /// two-tower: the split to train and evaluate on.
    #[arg(long, default_value = "main")]
    pub split: String,
    /// two-tower: softmax temperature of the in-batch cosine scores.
    #[arg(long, default_value_t = 0.05)]
    pub temperature: f64,
    /// two-tower: optimizer steps per epoch (default: training items / batch).
    #[arg(long)]
    pub steps: Option<usize>,
    /// two-tower: cut-off of the ranking metrics.
    #[arg(long, default_value_t = 10)]
    pub k: usize,
}

#[derive(Args)]
pub struct RunsArgs {
    pub workspace: PathBuf,
    /// Only the runs with this tag.
    #[arg(long)]
    pub tag: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args)]
pub struct TagArgs {
    pub workspace: PathBuf,
    pub run: i64,
    /// Tags to add (comma-separated or repeated).
    #[arg(long, value_delimiter = ',')]
    pub add: Vec<String>,
    /// Tags to remove.
    #[arg(long, value_delimiter = ',')]
    pub remove: Vec<String>,
    /// The run's note (replaces the old one; an empty string clears it).
    #[arg(long)]
    pub note: Option<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args)]
pub struct DemandArgs {
    pub workspace: PathBuf,
    /// The calibration (default: the latest).
    #[arg(long)]
    pub calibration: Option<i64>,
    /// One category: its curve, then each of its items'.
    #[arg(long, conflicts_with = "item")]
    pub category: Option<String>,
    /// One item's curve.
    #[arg(long)]
    pub item: Option<String>,
    /// The lowest price, as a multiple of the list price.
    #[arg(long, default_value_t = 0.5)]
    pub from: f64,
    /// The highest price, as a multiple of the list price.
    #[arg(long, default_value_t = 1.5)]
    pub to: f64,
    /// Prices on the curve.
    #[arg(long, default_value_t = 41)]
    pub points: usize,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args)]
pub struct InsideArgs {
    pub workspace: PathBuf,
    pub run: i64,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args)]
pub struct CompareArgs {
    pub workspace: PathBuf,
    pub a: i64,
    pub b: i64,
    #[arg(long, default_value = "ndcg@10")]
    pub metric: String,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args)]
pub struct RecommendArgs {
    pub workspace: PathBuf,
    #[arg(long)]
    pub run: i64,
    /// A shopper of the run's split: their stored recommendations.
    #[arg(long, required_unless_present = "history", conflicts_with = "history")]
    pub user: Option<String>,
    /// A history the run never saw, item ids oldest first, comma separated: scored live
    /// (natively, or folded into a factor model), each item with the history items behind it.
    #[arg(long, value_delimiter = ',')]
    pub history: Option<Vec<String>>,
    #[arg(short, long, default_value_t = 10)]
    pub k: usize,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args)]
pub struct ExportArgs {
    pub workspace: PathBuf,
    #[arg(long, required_unless_present = "lake")]
    pub run: Option<i64>,
    /// Parquet file for `user_id, rank, item_id, score`.
    #[arg(long, required_unless_present_any = ["embeddings", "lake"])]
    pub recommendations: Option<PathBuf>,
    /// Parquet file for `kind, id, vector` (factorization models).
    #[arg(long)]
    pub embeddings: Option<PathBuf>,
    #[arg(short, long, default_value_t = 10)]
    pub k: usize,
    /// A new or empty folder: the workspace's log as a lake, hive-partitioned Parquet
    /// (`events/`, `items.parquet`, `users.parquet`) that Spark, DuckDB or pandas read.
    #[arg(long, conflicts_with_all = ["run", "recommendations", "embeddings"])]
    pub lake: Option<PathBuf>,
    /// With --lake: the events' partitions, comma separated (event_type, event_date, year,
    /// month; none: one file).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "event_type",
        requires = "lake"
    )]
    pub partition_by: Vec<String>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args)]
pub struct DemoArgs {
    /// Where to write it (default: the cache's demo.duckdb).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Only the data, its profile and split: no trained runs, no calibration (seconds instead of
    /// about a minute).
    #[arg(long)]
    pub data_only: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct SimulateArgs {
    pub workspace: PathBuf,
    #[arg(long)]
    pub scenario: PathBuf,
    /// Replicates (overrides the scenario's `seeds`).
    #[arg(long, value_parser = at_least_one_u64)]
    pub seeds: Option<u64>,
    #[arg(long, default_value_t = 2, value_parser = at_least_one)]
    pub threads: usize,
    /// Real time: each simulated day's metrics are printed as it happens (one JSON line
    /// each with --json), at one day per --day-ms (or at --speed times real time);
    /// Ctrl-C stops and keeps the days so far.
    #[arg(long)]
    pub realtime: bool,
    /// Sweep one number of the scenario: PATH=LOW..HIGH:POINTS or PATH=V1,V2,… (PATH is
    /// dotted into the TOML: sessions_per_day, competitor_weight, events.0.competitor_price,
    /// events.1.promo, policies.*.max_move; * is every element). Each value runs over the
    /// seeds and is stored; a line per value (Ctrl-C stops), then the table.
    #[arg(long, conflicts_with = "realtime")]
    pub sweep: Option<String>,
    #[arg(long, default_value_t = 500, conflicts_with = "speed", value_parser = at_least_one_u64)]
    pub day_ms: u64,
    /// Simulated time per unit of wall time (86400: a day a second).
    #[arg(long, value_parser = positive)]
    pub speed: Option<f64>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args)]
pub struct SimsArgs {
    pub workspace: PathBuf,
    /// One simulation's table, as `simulate` printed it.
    #[arg(long)]
    pub show: Option<i64>,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args)]
pub struct PlanAbArgs {
    pub workspace: PathBuf,
    /// The scenario (TOML) whose policies are tested, on its world.
    #[arg(long)]
    pub scenario: PathBuf,
    /// The control: a policy's name in the scenario.
    #[arg(long)]
    pub a: String,
    /// The treatment: a policy's name in the scenario.
    #[arg(long)]
    pub b: String,
    /// Two-sided significance level.
    #[arg(long, default_value_t = 0.05)]
    pub alpha: f64,
    /// The probability of detecting the effect.
    #[arg(long, default_value_t = 0.8)]
    pub power: f64,
    /// Simulated tests.
    #[arg(long, default_value_t = 200, value_parser = at_least_one_u64)]
    pub replicates: u64,
    /// The longest test considered, in days (default: the scenario's horizon).
    #[arg(long)]
    pub days: Option<u32>,
    /// Each arm's share of the day's sessions.
    #[arg(long, default_value_t = 0.5)]
    pub share: f64,
    #[arg(long, default_value_t = 2, value_parser = at_least_one)]
    pub threads: usize,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct CalibrateArgs {
    pub workspace: PathBuf,
    /// A trained run whose user and item vectors give the shoppers' affinities.
    #[arg(long)]
    pub run: Option<i64>,
    /// Share of sessions held out for the fit report.
    #[arg(long, default_value_t = 0.2, value_parser = fraction)]
    pub holdout: f64,
    /// Margin assumed for items without a cost in the catalog.
    #[arg(long, default_value_t = 0.3, value_parser = fraction)]
    pub margin: f64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Compute the sessions on a Spark cluster over a lake's events (the catalog is this
    /// workspace's).
    #[command(flatten)]
    pub spark: SparkArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args)]
pub struct OpeArgs {
    pub workspace: PathBuf,
    /// The behavior policy whose log is used (bandit_log.policy).
    #[arg(long)]
    pub log: String,
    /// uniform, or log:<policy> (the distribution another logged policy played).
    #[arg(long)]
    pub policy: String,
    #[arg(long)]
    pub campaign: Option<String>,
    /// Bootstrap resamples for the intervals.
    #[arg(long, default_value_t = 200, value_parser = at_least_one)]
    pub resamples: usize,
    /// Bootstrap rounds for the relative errors (a logged target).
    #[arg(long, default_value_t = 30, value_parser = at_least_one)]
    pub rounds: usize,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args)]
#[command(allow_negative_numbers = true)]
pub struct PricingArgs {
    /// The price grid, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "29.9,34.9,39.9,44.9", value_parser = positive)]
    pub prices: Vec<f64>,
    /// Utility of the product at price 1.
    #[arg(long, default_value_t = 27.5, value_parser = finite)]
    pub appeal: f64,
    /// Price sensitivity β (utility per unit of ln price).
    #[arg(long, default_value_t = 7.7, value_parser = finite)]
    pub sensitivity: f64,
    /// Policies: fixed:K (grid index), thompson, ucb1, eps:E.
    #[arg(long, value_delimiter = ',', default_value = "thompson,ucb1,eps:0.1")]
    pub policies: Vec<String>,
    /// Periods (one shopper each) per replicate.
    #[arg(long, default_value_t = 10_000, value_parser = at_least_one_u64)]
    pub horizon: u64,
    /// Replicates (seeds 0 … N-1).
    #[arg(long, default_value_t = 100, value_parser = at_least_one_u64)]
    pub seeds: u64,
    #[arg(long, default_value_t = 2, value_parser = at_least_one)]
    pub threads: usize,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args)]
pub struct EmbedArgs {
    pub workspace: Option<PathBuf>,
    /// An imported model's name, a unique part of one, or a model folder.
    #[arg(long)]
    pub model: String,
    #[arg(long, conflicts_with = "text")]
    pub items: bool,
    #[arg(long)]
    pub text: Vec<String>,
    #[arg(long, default_value = "auto")]
    pub device: String,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args)]
pub struct GenerateArgs {
    #[arg(long)]
    pub out: PathBuf,
    /// About this many events.
    #[arg(long, default_value_t = 200_000)]
    pub events: u64,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
}

/// `--model`'s long help: the models, and each one's defaults as the engine has them.
fn model_help() -> String {
    use shoplab_engine::ModelKind;
    let mut help = String::from(
        "The model: pop, itemknn, ease, mf, bpr, bpmf, neumf, sasrec; conversion \
         (P(purchase | user, item, price) from the views and purchases of the event log).\n\n\
         Each model's defaults, chosen on the validation part of MovieLens-100K (random 8:1:1 \
         split, seed 1; `bash bench/defaults.sh` prints what they reach on its test part \
         against tuned settings). An option given on the command line replaces its default:\n",
    );
    for kind in ModelKind::ALL {
        help.push_str(&format!("  {:<11} {}\n", kind.name(), kind.defaults_text()));
    }
    help.trim_end().to_string()
}

/// Range checks of the options only the command line has (a model's and a split's options
/// are checked by the engine, for every front-end); clap names the option in its message.
fn finite(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err("expected a finite number".into()),
    }
}

fn positive(s: &str) -> Result<f64, String> {
    match finite(s) {
        Ok(v) if v > 0.0 => Ok(v),
        _ => Err("expected a number > 0".into()),
    }
}

fn fraction(s: &str) -> Result<f64, String> {
    match finite(s) {
        Ok(v) if (0.0..1.0).contains(&v) => Ok(v),
        _ => Err("expected a fraction in [0, 1)".into()),
    }
}

fn at_least_one(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(v) if v >= 1 => Ok(v),
        _ => Err("expected a whole number, at least 1".into()),
    }
}

fn at_least_one_u64(s: &str) -> Result<u64, String> {
    at_least_one(s).map(|v| v as u64)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
