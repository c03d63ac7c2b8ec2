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
//! ([`crate::metrics::ranking_evaluation`]). The run's user and item vectors are saved like
//! a factorization's, so `recommend`, `export` and the comparison views read it.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use candle_core::{D, DType, Device, Tensor, Var};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use shoplab_data::Workspace;

use crate::dataset::Dataset;
use crate::device;
use crate::error::{ModelError, Result};
use crate::finetune::{
    self, Encoder, FinetuneConfig, FinetuneOutcome, Steps, TextMethod, embed_all, load_trainable,
    record_epoch,
};
use crate::metrics::{self, Evaluation};
use crate::models::{Embeddings, Recommender};
use crate::registry::{EpochRow, Runs};
use crate::text;
use crate::train::{
    BEST, CHECKPOINT, MODEL, Progress, STATE, State, check_ids, read_json, replace_file, write_json,
};

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

/// Row-wise L2 normalization (a zero row stays zero).
fn normalize(x: &Tensor) -> Result<Tensor> {
    let norm = x
        .sqr()?
        .sum_keepdim(D::Minus1)?
        .sqrt()?
        .clamp(1e-12, f64::MAX)?;
    Ok(x.broadcast_div(&norm)?)
}

/// Adds the mean of `table`'s rows (`dim` wide) for `items`, less `skip`, into `out`.
fn history_mean(table: &[f32], dim: usize, items: &[u32], skip: Option<u32>, out: &mut [f32]) {
    let mut n = 0usize;
    for &i in items.iter().filter(|&&i| Some(i) != skip) {
        let v = &table[i as usize * dim..(i as usize + 1) * dim];
        out.iter_mut().zip(v).for_each(|(a, b)| *a += b);
        n += 1;
    }
    let n = n.max(1) as f32;
    out.iter_mut().for_each(|a| *a /= n);
}

/// The fitted towers as vectors: one per user (from the training history) and per item.
pub struct TowerVectors {
    users: Tensor,
    items: Tensor,
}

impl TowerVectors {
    /// User vectors from the item table `items` (`n_items × dim`, rows L2-normalized) and
    /// the user map `w`: each user's training items averaged, mapped, normalized.
    fn build(ds: &Dataset, items: &[f32], dim: usize, w: &Tensor) -> Result<Self> {
        let device = w.device();
        let mut means = vec![0f32; ds.n_users() * dim];
        for (u, seen) in ds.seen.iter().enumerate() {
            history_mean(items, dim, seen, None, &mut means[u * dim..(u + 1) * dim]);
        }
        let means = Tensor::from_vec(means, (ds.n_users(), dim), device)?;
        Ok(TowerVectors {
            users: normalize(&means.matmul(w)?)?,
            items: Tensor::from_vec(items.to_vec(), (ds.n_items(), dim), device)?,
        })
    }

    pub fn load(path: &Path, device: &Device) -> Result<Self> {
        let mut t = candle_core::safetensors::load(path, device)?;
        let mut take = |name: &str| {
            t.remove(name).ok_or_else(|| ModelError::Config {
                model: "two-tower".into(),
                message: format!("{}: no tensor \"{name}\"", path.display()),
            })
        };
        Ok(TowerVectors {
            users: take("users")?,
            items: take("items")?,
        })
    }
}

impl Recommender for TowerVectors {
    fn score_users(&self, users: &[u32]) -> Result<Vec<f32>> {
        let idx = Tensor::from_slice(users, users.len(), self.users.device())?;
        let u = self.users.index_select(&idx, 0)?;
        Ok(u.matmul(&self.items.t()?)?
            .flatten_all()?
            .to_device(&Device::Cpu)?
            .to_vec1()?)
    }

    fn save(&self, path: &Path) -> Result<()> {
        let t: HashMap<String, Tensor> = [
            ("users".to_string(), self.users.to_device(&Device::Cpu)?),
            ("items".to_string(), self.items.to_device(&Device::Cpu)?),
        ]
        .into();
        replace_file(path, |tmp| Ok(candle_core::safetensors::save(&t, tmp)?))
    }

    fn embeddings(&self) -> Result<Option<Embeddings>> {
        let dim = self.items.dim(1)?;
        let flat = |t: &Tensor| -> Result<Vec<f32>> {
            Ok(t.to_device(&Device::Cpu)?.flatten_all()?.to_vec1()?)
        };
        Ok(Some(Embeddings {
            users: flat(&self.users)?,
            items: flat(&self.items)?,
            dim,
        }))
    }
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

/// The in-batch softmax loss of one micro-batch.
fn batch_loss(
    cfg: &FinetuneConfig,
    enc: &Encoder,
    data: &Data,
    table: &[f32],
    w: &Var,
    batch: &[(u32, u32)],
) -> Result<Tensor> {
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
    let items = if cfg.method == TextMethod::Frozen {
        let rows: Vec<f32> = batch
            .iter()
            .flat_map(|&(_, i)| table[i as usize * dim..(i as usize + 1) * dim].to_vec())
            .collect();
        Tensor::from_vec(rows, (n, dim), dev)?
    } else {
        let e: Vec<&tokenizers::Encoding> = batch
            .iter()
            .map(|&(_, i)| &data.items[i as usize])
            .collect();
        normalize(&enc.pooled(&e, true)?)?
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

/// Trains a new two-tower run (called by [`finetune::finetune`]).
pub(crate) fn train(
    ws: &Workspace,
    cfg: &FinetuneConfig,
    on: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
) -> Result<FinetuneOutcome> {
    let (_, dir) = text::resolve_model(&cfg.model)?;
    let (dev, dev_name) = device::select(&cfg.device);
    let enc = Encoder::new(&dir, cfg, &dev)?;
    let data = Data::new(ws, cfg, &enc)?;
    let runs = Runs::new(ws);
    let params = serde_json::to_string(cfg).unwrap_or_default();
    let (run_id, art) = runs.create(&data.ds.split, &cfg.run_model(), &params, &dev_name)?;
    write_json(&art.join("ids.json"), &(&data.ds.users, &data.ds.items))?;
    run(
        ws, cfg, &enc, &data, &dir, run_id, &art, &dev_name, 0, on, cancel,
    )
}

/// Continues a cancelled two-tower run (called by [`finetune::resume_finetune`]).
pub(crate) fn resume(
    ws: &Workspace,
    run_id: i64,
    cfg: &FinetuneConfig,
    on: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
) -> Result<FinetuneOutcome> {
    let runs = Runs::new(ws);
    let r = runs.get(run_id)?;
    let (_, dir) = text::resolve_model(&cfg.model)?;
    let (dev, dev_name) = device::select(&cfg.device);
    let enc = Encoder::new(&dir, cfg, &dev)?;
    let data = Data::new(ws, cfg, &enc)?;
    check_ids(&r.artifacts, &data.ds, run_id)?;
    runs.set_status(run_id, "running", None)?;
    let done = r.epochs_done as usize;
    run(
        ws,
        cfg,
        &enc,
        &data,
        &dir,
        run_id,
        &r.artifacts,
        &dev_name,
        done,
        on,
        cancel,
    )
}

#[allow(clippy::too_many_arguments)]
fn run(
    ws: &Workspace,
    cfg: &FinetuneConfig,
    enc: &Encoder,
    data: &Data,
    base: &Path,
    run_id: i64,
    art: &Path,
    dev_name: &str,
    done: usize,
    on: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
) -> Result<FinetuneOutcome> {
    let runs = Runs::new(ws);
    let mut outcome = FinetuneOutcome {
        run_id,
        model: cfg.run_model(),
        device: dev_name.into(),
        status: "finished".into(),
        epochs_done: done,
        seconds: 0.0,
        examples_per_second: None,
        best_epoch: None,
        probe: None,
        train_size: data.ds.train.len(),
        valid: Evaluation::default(),
        test: Evaluation::default(),
        export: None,
    };
    let result = (|| -> Result<()> {
        let dim = enc.folder.config.hidden_size;
        let eye = Tensor::eye(dim, DType::F32, &enc.device)?;
        let w = Var::from_tensor(&eye)?;
        let Some(table) = fit(
            cfg,
            enc,
            data,
            &w,
            (&runs, run_id, art),
            dev_name,
            done,
            on,
            cancel,
            &mut outcome,
        )?
        else {
            return Ok(());
        };
        on(&Progress::Evaluating);
        let ds = &data.ds;
        let vectors = TowerVectors::build(ds, &table, dim, w.as_tensor())?;
        vectors.save(&art.join(MODEL))?;
        if cfg.method != TextMethod::Frozen {
            let head: HashMap<String, Tensor> = [(
                "user_map".to_string(),
                w.as_tensor().to_device(&Device::Cpu)?,
            )]
            .into();
            let meta = serde_json::json!({
                "task": "two-tower",
                "method": cfg.method.name(),
                "base_model": cfg.model,
                "split": ds.split,
                "output": "item vectors: the model's mean-pooled, L2-normalized embedding; user_map: the user tower's linear map of the mean history vector",
            });
            outcome.export = Some(finetune::export_folder(enc, &head, &meta, base, art)?);
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
        runs.finish(run_id, "valid", &outcome.valid, &[])?;
        runs.finish(run_id, "test", &outcome.test, &ds.users)?;
        Ok(())
    })();
    runs.settle(
        run_id,
        result
            .as_ref()
            .map(|()| (outcome.status.as_str(), outcome.epochs_done)),
        "finetune",
    )?;
    result.map(|()| outcome)
}

/// The validation NDCG@k of the towers as they are.
fn validate(cfg: &FinetuneConfig, data: &Data, table: &[f32], dim: usize, w: &Var) -> Result<f64> {
    let v = TowerVectors::build(&data.ds, table, dim, w.as_tensor())?;
    Ok(
        metrics::ranking_evaluation(&v, &data.ds, &data.ds.valid, cfg.k)?
            .0
            .ndcg,
    )
}

/// The epochs. Returns the item table of the best epoch's towers (the user map `w` set to
/// it), or `None` when cancelled.
#[allow(clippy::too_many_arguments)]
fn fit(
    cfg: &FinetuneConfig,
    enc: &Encoder,
    data: &Data,
    w: &Var,
    (runs, run_id, art): (&Runs, i64, &Path),
    dev_name: &str,
    done: usize,
    on: &mut dyn FnMut(&Progress),
    cancel: &AtomicBool,
    outcome: &mut FinetuneOutcome,
) -> Result<Option<Vec<f32>>> {
    let dim = enc.folder.config.hidden_size;
    let steps = cfg
        .steps
        .unwrap_or_else(|| data.train_items.div_ceil(cfg.batch_size * cfg.accumulate))
        .max(1);
    on(&Progress::Started {
        run_id,
        device: dev_name.into(),
        epochs: cfg.epochs,
        steps,
    });
    let extra = [("tower.user_map", w)];
    let mut state = State::default();
    let t0 = Instant::now();
    let mut table = if done == 0 {
        let table = item_table(enc, data)?;
        if !data.ds.valid.is_empty() {
            state.probe = Some(validate(cfg, data, &table, dim, w)?);
        }
        write_json(&art.join(STATE), &state)?;
        let seconds = t0.elapsed().as_secs_f64();
        runs.add_seconds(run_id, seconds)?;
        outcome.seconds = seconds;
        table
    } else {
        state = read_json(&art.join(STATE))?;
        load_trainable(enc, &extra, &art.join(CHECKPOINT))?;
        outcome.seconds = runs.get(run_id)?.seconds;
        item_table(enc, data)?
    };
    outcome.probe = state.probe;
    let mut vars = if cfg.method == TextMethod::Frozen {
        Vec::new()
    } else {
        enc.vars()
    };
    vars.push(w.clone());
    let mut opt = Steps::new(cfg, vars, steps, cfg.epochs, art, done > 0)?;
    let (mut trained_seconds, mut trained_examples) = (0.0, 0usize);
    let metric = format!("ndcg@{}", cfg.k);
    for epoch in done + 1..=cfg.epochs {
        let t = Instant::now();
        let mut rng = ChaCha8Rng::seed_from_u64(
            cfg.seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        let batches = data.batches(cfg.batch_size, steps * cfg.accumulate, &mut rng);
        let mut total_loss = 0.0;
        for (step, group) in batches.chunks(cfg.accumulate).enumerate() {
            for batch in group {
                let loss = batch_loss(cfg, enc, data, &table, w, batch)?;
                opt.add(&(loss / group.len() as f64)?)?;
                trained_examples += batch.len();
            }
            let Some(loss) = opt.step(epoch, step, on, cancel)? else {
                outcome.status = "cancelled".into();
                return Ok(None);
            };
            total_loss += loss;
        }
        trained_seconds += t.elapsed().as_secs_f64();
        if cfg.method != TextMethod::Frozen {
            table = item_table(enc, data)?;
        }
        let value = if data.ds.valid.is_empty() {
            None
        } else {
            Some(validate(cfg, data, &table, dim, w)?)
        };
        // Without a validation part every epoch is the best so far.
        let best = value.is_none_or(|v| state.observe(epoch, v, true));
        opt.checkpoint(enc, &extra, art, &state, best)?;
        let seconds = t.elapsed().as_secs_f64();
        outcome.seconds += seconds;
        let row = EpochRow {
            epoch: epoch as i64,
            loss: Some(total_loss / steps as f64),
            metric: value.map(|_| metric.clone()),
            value,
            seconds,
        };
        record_epoch(runs, run_id, &row, cfg.epochs, on)?;
        outcome.epochs_done = epoch;
        if cfg.patience > 0 && state.bad_epochs >= cfg.patience {
            break;
        }
    }
    if trained_seconds > 0.0 {
        outcome.examples_per_second = Some(trained_examples as f64 / trained_seconds);
    }
    if art.join(BEST).exists() {
        load_trainable(enc, &extra, &art.join(BEST))?;
        if cfg.method != TextMethod::Frozen {
            table = item_table(enc, data)?;
        }
    }
    outcome.best_epoch = state.best_epoch;
    Ok(Some(table))
}
