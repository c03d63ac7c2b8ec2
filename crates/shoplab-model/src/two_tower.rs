//! The text-aware two-tower recommender: items are known by their text, so an item nobody
//! has bought yet (a new arrival) is ranked as well as its description allows.
//!
//! - Item tower: the encoder (full fine-tuning, LoRA, or frozen) over each item's title,
//!   brand, category and description, mean-pooled and L2-normalized.
//! - User tower: the mean of the vectors of the user's training items, through a learned
//!   linear map (initialized to the identity), L2-normalized.
//! - Score: the cosine of the two, over a temperature τ.
//!
//! Training draws batches of (user, item) training interactions with distinct items; each
//! user's other batch items are its negatives (in-batch softmax), with the logQ correction
//! for items drawn in proportion to their popularity (Yi et al., 2019), and the user's own
//! training items among them masked out. The positive item is left out of the user's
//! history for that example, so the towers cannot match an item with itself. Only the
//! batch's items pass through the encoder with gradients; the history vectors come from a
//! table of every item's vector, refreshed after each epoch (and used to validate it).
//!
//! Evaluation is the lab's: full ranking on the split's test part, the users' training
//! items excluded, and the cold-start slice over items unseen in training
//! ([`metrics::ranking_evaluation`]). The run's user and item vectors are saved like a
//! factorization's ([`TowerVectors`]), so `recommend`, `export` and the comparison views
//! read it.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use candle_core::{DType, Device, Tensor, Var};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use shoplab_data::Workspace;

use crate::dataset::Dataset;
use crate::device;
use crate::encoder::{Encoder, embed_all, export_folder, load_trainable};
use crate::error::{ModelError, Result};
use crate::files::{BEST, CHECKPOINT, MODEL, STATE, check_ids, read_json, write_ids, write_json};
use crate::metrics;
use crate::models::{Recommender, TowerVectors, history_mean, normalize};
use crate::registry::{EpochRow, RunSummary};
use crate::run::{Caller, FinetuneOutcome, Progress, RunContext, State, epoch_rng};
use crate::spec::{FinetuneConfig, RunSpec};
use crate::steps::Steps;
use crate::text;

/// The text of each item of `ds` (by index): title, brand, category and description from
/// the workspace's `items`, joined by ". ". Returns the texts and how many items have none.
pub fn item_texts(ws: &Workspace, ds: &Dataset) -> Result<(Vec<String>, usize)> {
    let mut texts = vec![String::new(); ds.n_items()];
    let mut stmt = ws.connection().prepare(
        "SELECT CAST(item_id AS VARCHAR), concat_ws('. ', nullif(trim(title), ''),
                nullif(trim(brand), ''), nullif(trim(category), ''), nullif(trim(description), ''))
         FROM items",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (id, text) = row?;
        if let Some(i) = ds.item(&id) {
            texts[i as usize] = text;
        }
    }
    let missing = texts.iter().filter(|t| t.is_empty()).count();
    if missing * 2 > ds.n_items() {
        return Err(ModelError::Dataset {
            split: ds.split.clone(),
            message: format!(
                "{missing} of the split's {} items have no title, brand, category or description in `items`; \
                 import the catalog first (`shoplab import WS items.csv --kind items`)",
                ds.n_items()
            ),
        });
    }
    Ok((texts, missing))
}

/// What one run works on: the split, every item's tokenized text, and the sampling tables.
struct Data {
    ds: Dataset,
    items: Vec<tokenizers::Encoding>,
    /// Training interactions whose user has another training item (a history without
    /// the positive).
    eligible: Vec<usize>,
    /// ln of each item's share of the training interactions (the logQ correction).
    log_q: Vec<f32>,
    /// Items with training interactions.
    train_items: usize,
}

impl Data {
    fn new(ws: &Workspace, cfg: &FinetuneConfig, enc: &Encoder) -> Result<Self> {
        let split = cfg.split.as_deref().unwrap_or("main");
        let ds = Dataset::from_split(ws, split)?;
        let (texts, _) = item_texts(ws, &ds)?;
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let items = enc.folder.encode(&refs, cfg.max_tokens)?;
        let eligible: Vec<usize> = (0..ds.train.len())
            .filter(|&k| ds.seen[ds.train[k].user as usize].len() >= 2)
            .collect();
        if eligible.is_empty() {
            return Err(ModelError::Dataset {
                split: split.into(),
                message: "no user has two training items; the user tower needs a history".into(),
            });
        }
        let total = ds.train.len() as f64;
        let log_q = ds
            .item_counts
            .iter()
            .map(|&c| (f64::from(c.max(1)) / total).ln() as f32)
            .collect();
        let train_items = ds.item_counts.iter().filter(|&&c| c > 0).count();
        Ok(Data {
            ds,
            items,
            eligible,
            log_q,
            train_items,
        })
    }

    /// One epoch's micro-batches: `steps × accumulate` batches of `size` interactions
    /// drawn at random, each item at most once per batch.
    fn batches(&self, size: usize, count: usize, rng: &mut ChaCha8Rng) -> Vec<Vec<(u32, u32)>> {
        (0..count)
            .map(|_| {
                let mut batch: Vec<(u32, u32)> = Vec::with_capacity(size);
                let mut tries = 0;
                while batch.len() < size && tries < size * 8 {
                    tries += 1;
                    let x = self.ds.train[self.eligible[rng.random_range(0..self.eligible.len())]];
                    if batch.iter().all(|b| b.1 != x.item) {
                        batch.push((x.user, x.item));
                    }
                }
                batch
            })
            .collect()
    }
}

/// The item table: every item's vector from the encoder as it is now, rows L2-normalized.
fn item_table(enc: &Encoder, data: &Data) -> Result<Vec<f32>> {
    let rows = embed_all(enc, &data.items)?;
    let mut out = Vec::with_capacity(rows.len() * rows.first().map_or(0, Vec::len));
    for r in rows {
        let n = r.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
        out.extend(r.iter().map(|v| v / n));
    }
    Ok(out)
}

/// Trains a new two-tower run.
pub(crate) fn train(caller: Caller, cfg: &FinetuneConfig) -> Result<FinetuneOutcome> {
    let (_, dir) = text::resolve_model(&cfg.model)?;
    let (dev, dev_name) = device::select(&cfg.device);
    let enc = Encoder::new(&dir, cfg, &dev)?;
    let data = Data::new(caller.ws, cfg, &enc)?;
    let mut ctx = RunContext::create(
        caller,
        &RunSpec::TwoTower(cfg.clone()),
        (&data.ds.split, &cfg.run_model()),
        (dev, dev_name),
    )?;
    write_ids(&ctx.dir, &data.ds)?;
    run(&mut ctx, cfg, (&enc, &data), &dir)
}

/// Continues the cancelled two-tower run `r`.
pub(crate) fn resume(
    caller: Caller,
    r: &RunSummary,
    cfg: &FinetuneConfig,
) -> Result<FinetuneOutcome> {
    let (_, dir) = text::resolve_model(&cfg.model)?;
    let (dev, dev_name) = device::select(&cfg.device);
    let enc = Encoder::new(&dir, cfg, &dev)?;
    let data = Data::new(caller.ws, cfg, &enc)?;
    check_ids(&r.artifacts, &data.ds, r.run_id)?;
    let mut ctx = RunContext::reopen(caller, r, (dev, dev_name))?;
    run(&mut ctx, cfg, (&enc, &data), &dir)
}

/// Fits, evaluates and stores the run (`base`: the encoder's model folder), then records
/// how the session ended.
fn run(
    ctx: &mut RunContext,
    cfg: &FinetuneConfig,
    (enc, data): (&Encoder, &Data),
    base: &Path,
) -> Result<FinetuneOutcome> {
    let mut outcome = FinetuneOutcome::start(ctx, cfg.run_model(), data.ds.train.len());
    let result = fit_and_test(ctx, cfg, (enc, data), base, &mut outcome);
    outcome.settle(ctx, result)
}

fn fit_and_test(
    ctx: &mut RunContext,
    cfg: &FinetuneConfig,
    (enc, data): (&Encoder, &Data),
    base: &Path,
    outcome: &mut FinetuneOutcome,
) -> Result<()> {
    let dim = enc.folder.config.hidden_size;
    let eye = Tensor::eye(dim, DType::F32, &enc.device)?;
    let w = Var::from_tensor(&eye)?;
    let towers = Towers { cfg, enc, data, w };
    let Some(table) = towers.fit(ctx, outcome)? else {
        return Ok(());
    };
    ctx.report(&Progress::Evaluating);
    let ds = &data.ds;
    let vectors = TowerVectors::build(ds, &table, dim, towers.w.as_tensor())?;
    vectors.save(&ctx.file(MODEL))?;
    if cfg.method.trains_encoder() {
        outcome.export = Some(towers.export(base, &ctx.dir)?);
    }
    if !ds.valid.is_empty() {
        outcome.valid = metrics::ranking_evaluation(&vectors, ds, &ds.valid, cfg.k)?.1;
        outcome.valid.per_user.clear();
    }
    if let Some(p) = outcome.probe {
        outcome
            .valid
            .metrics
            .push((format!("probe_ndcg@{}", cfg.k), p));
    }
    outcome.test = metrics::evaluate(&vectors, ds, &ds.test, cfg.k)?;
    ctx.runs.finish(ctx.run_id, "valid", &outcome.valid, &[])?;
    ctx.runs
        .finish(ctx.run_id, "test", &outcome.test, &ds.users)?;
    Ok(())
}

/// The two towers in training: the encoder (item tower) and the user map `w`.
struct Towers<'a> {
    cfg: &'a FinetuneConfig,
    enc: &'a Encoder,
    data: &'a Data,
    w: Var,
}

impl Towers<'_> {
    fn dim(&self) -> usize {
        self.enc.folder.config.hidden_size
    }

    /// The trainable tensors besides the encoder's, by their checkpoint names.
    fn extra(&self) -> [(&'static str, &Var); 1] {
        [("tower.user_map", &self.w)]
    }

    /// The validation NDCG@k of the towers as they are (`table`: the item table).
    fn validate(&self, table: &[f32]) -> Result<f64> {
        let ds = &self.data.ds;
        let v = TowerVectors::build(ds, table, self.dim(), self.w.as_tensor())?;
        Ok(metrics::ranking_evaluation(&v, ds, &ds.valid, self.cfg.k)?
            .0
            .ndcg)
    }

    /// The epochs. Returns the item table of the best epoch's towers (the user map set to
    /// it), or `None` when cancelled.
    fn fit(&self, ctx: &mut RunContext, outcome: &mut FinetuneOutcome) -> Result<Option<Vec<f32>>> {
        let (cfg, data) = (self.cfg, self.data);
        let steps = cfg
            .steps
            .unwrap_or_else(|| data.train_items.div_ceil(cfg.batch_size * cfg.accumulate))
            .max(1);
        ctx.started(cfg.epochs, steps);
        let (mut table, mut state) = if ctx.done == 0 {
            self.untrained(ctx, outcome)?
        } else {
            self.restore(ctx, outcome)?
        };
        outcome.probe = state.probe;
        let mut vars = if cfg.method.trains_encoder() {
            self.enc.vars()
        } else {
            Vec::new()
        };
        vars.push(self.w.clone());
        let mut opt = Steps::new(ctx, cfg, vars, (steps, cfg.epochs))?;
        let (mut trained_seconds, mut trained_examples) = (0.0, 0usize);
        let metric = format!("ndcg@{}", cfg.k);
        for epoch in ctx.done + 1..=cfg.epochs {
            let t = Instant::now();
            let Some((total_loss, examples)) =
                self.epoch_steps(ctx, &mut opt, &table, (epoch, steps))?
            else {
                outcome.cancel();
                return Ok(None);
            };
            trained_examples += examples;
            trained_seconds += t.elapsed().as_secs_f64();
            if cfg.method.trains_encoder() {
                table = item_table(self.enc, data)?;
            }
            let value = if data.ds.valid.is_empty() {
                None
            } else {
                Some(self.validate(&table)?)
            };
            // Without a validation part every epoch is the best so far.
            let best = value.is_none_or(|v| state.observe(epoch, v, true));
            opt.checkpoint(ctx, (self.enc, &self.extra()), &state, best)?;
            let seconds = t.elapsed().as_secs_f64();
            outcome.seconds += seconds;
            let row = EpochRow {
                epoch: epoch as i64,
                loss: Some(total_loss / steps as f64),
                metric: value.map(|_| metric.clone()),
                value,
                seconds,
            };
            ctx.record_epoch(&row, cfg.epochs)?;
            outcome.epochs_done = epoch;
            if state.exhausted(cfg.patience) {
                break;
            }
        }
        if trained_seconds > 0.0 {
            outcome.examples_per_second = Some(trained_examples as f64 / trained_seconds);
        }
        if ctx.file(BEST).exists() {
            load_trainable(self.enc, &self.extra(), &ctx.file(BEST))?;
            if cfg.method.trains_encoder() {
                table = item_table(self.enc, data)?;
            }
        }
        outcome.best_epoch = state.best_epoch;
        Ok(Some(table))
    }

    /// A new run's item table from the pretrained encoder, and the untrained towers'
    /// validation value (the "probe") in the state.
    fn untrained(
        &self,
        ctx: &mut RunContext,
        outcome: &mut FinetuneOutcome,
    ) -> Result<(Vec<f32>, State)> {
        let t0 = Instant::now();
        let table = item_table(self.enc, self.data)?;
        let mut state = State::default();
        if !self.data.ds.valid.is_empty() {
            state.probe = Some(self.validate(&table)?);
        }
        write_json(&ctx.file(STATE), &state)?;
        let seconds = t0.elapsed().as_secs_f64();
        ctx.runs.add_seconds(ctx.run_id, seconds)?;
        outcome.seconds = seconds;
        Ok((table, state))
    }

    /// A resumed run's towers from its checkpoint, their item table, and its state.
    fn restore(
        &self,
        ctx: &RunContext,
        outcome: &mut FinetuneOutcome,
    ) -> Result<(Vec<f32>, State)> {
        let state = read_json(&ctx.file(STATE))?;
        load_trainable(self.enc, &self.extra(), &ctx.file(CHECKPOINT))?;
        outcome.seconds = ctx.stored_seconds()?;
        Ok((item_table(self.enc, self.data)?, state))
    }

    /// One epoch's optimizer steps (`epoch` of the run, `steps` per epoch): the summed step
    /// losses and the interactions trained on, or `None` when cancelled.
    fn epoch_steps(
        &self,
        ctx: &mut RunContext,
        opt: &mut Steps,
        table: &[f32],
        (epoch, steps): (usize, usize),
    ) -> Result<Option<(f64, usize)>> {
        let cfg = self.cfg;
        let mut rng = epoch_rng(cfg.seed, epoch);
        let batches = self
            .data
            .batches(cfg.batch_size, steps * cfg.accumulate, &mut rng);
        let (mut total_loss, mut examples) = (0.0, 0usize);
        for (step, group) in batches.chunks(cfg.accumulate).enumerate() {
            for batch in group {
                let loss = self.batch_loss(table, batch)?;
                opt.add(&(loss / group.len() as f64)?, self.enc)?;
                examples += batch.len();
            }
            let Some(loss) = opt.step(ctx, epoch, step)? else {
                return Ok(None);
            };
            total_loss += loss;
        }
        Ok(Some((total_loss, examples)))
    }

    /// The in-batch softmax loss of one micro-batch.
    fn batch_loss(&self, table: &[f32], batch: &[(u32, u32)]) -> Result<Tensor> {
        let (cfg, enc, data, w) = (self.cfg, self.enc, self.data, &self.w);
        let dim = enc.folder.config.hidden_size;
        let dev = &enc.device;
        let n = batch.len();
        // Each user's history without the positive, from the table.
        let mut hist = vec![0f32; n * dim];
        for (row, &(u, i)) in batch.iter().enumerate() {
            let seen = &data.ds.seen[u as usize];
            history_mean(
                table,
                dim,
                seen,
                Some(i),
                &mut hist[row * dim..(row + 1) * dim],
            );
        }
        let users = normalize(&Tensor::from_vec(hist, (n, dim), dev)?.matmul(w.as_tensor())?)?;
        let items = if cfg.method.trains_encoder() {
            let e: Vec<&tokenizers::Encoding> = batch
                .iter()
                .map(|&(_, i)| &data.items[i as usize])
                .collect();
            normalize(&enc.pooled(&e, true)?)?
        } else {
            let rows: Vec<f32> = batch
                .iter()
                .flat_map(|&(_, i)| table[i as usize * dim..(i as usize + 1) * dim].to_vec())
                .collect();
            Tensor::from_vec(rows, (n, dim), dev)?
        };
        // logQ correction, and a user's other training items are not its negatives.
        let mut bias = vec![0f32; n * n];
        for (r, &(u, _)) in batch.iter().enumerate() {
            let seen = &data.ds.seen[u as usize];
            for (c, &(_, j)) in batch.iter().enumerate() {
                bias[r * n + c] = if r != c && seen.binary_search(&j).is_ok() {
                    -1e4
                } else {
                    -data.log_q[j as usize]
                };
            }
        }
        let bias = Tensor::from_vec(bias, (n, n), dev)?;
        let logits = ((users.matmul(&items.t()?)? / cfg.temperature)? + bias)?;
        let target = Tensor::arange(0u32, n as u32, dev)?;
        Ok(candle_nn::loss::cross_entropy(&logits, &target)?)
    }

    /// The model folder: the encoder's merged weights, and the user map as the head.
    fn export(&self, base: &Path, dir: &Path) -> Result<std::path::PathBuf> {
        let head: HashMap<String, Tensor> = [(
            "user_map".to_string(),
            self.w.as_tensor().to_device(&Device::Cpu)?,
        )]
        .into();
        let meta = serde_json::json!({
            "task": "two-tower",
            "method": self.cfg.method.name(),
            "base_model": self.cfg.model,
            "split": self.data.ds.split,
            "output": "item vectors: the model's mean-pooled, L2-normalized embedding; user_map: the user tower's linear map of the mean history vector",
        });
        export_folder(self.enc, &head, &meta, base, dir)
    }
}
