//! `shoplab finetune`: a text encoder fine-tuned on reviews, a baseline on the same split,
//! or the two-tower recommender; or a cancelled text run resumed.

use std::fmt;
use std::path::Path;

use anyhow::Result;
use serde::Serialize;
use serde_json::{Map, Value};
use shoplab_engine::{FinetuneConfig, FinetuneOutcome, Precision, TextField, TextMethod, TextTask};

use crate::cli::FinetuneArgs;
use crate::output::{Printer, cancelled, metrics_json};
use crate::progress;

pub fn run(args: FinetuneArgs) -> Result<()> {
    let out = Printer::new(args.output.json);
    let session = super::open(&args.workspace)?;
    let job = match args.run.resume {
        Some(run) => session.resume_finetune_job(run)?,
        None => session.finetune_job(config(&args)?)?,
    };
    let outcome = progress::training(job, out.json())?;
    out.line(&Finetuned::new(&outcome, &args.workspace))?;
    Ok(())
}

/// The run's configuration from the command line.
fn config(args: &FinetuneArgs) -> Result<FinetuneConfig> {
    let enc = &args.encoder;
    let method = match (enc.method.as_deref(), enc.lora) {
        (Some(m), _) => TextMethod::parse(m)?,
        (None, Some(_)) => TextMethod::Lora,
        (None, None) => TextMethod::Full,
    };
    let mut cfg = FinetuneConfig::new(&args.model, TextTask::parse(&args.task)?, method);
    cfg.text = TextField::parse(&enc.text)?;
    cfg.lora_rank = enc.lora.unwrap_or(8);
    cfg.lora_alpha = enc.lora_alpha;
    cfg.epochs = args.epochs;
    if let Some(v) = args.run.lr {
        cfg.lr = v;
    }
    let two_tower = cfg.task == TextTask::TwoTower;
    cfg.batch_size = args.batch_size.unwrap_or(if two_tower { 64 } else { 16 });
    if two_tower {
        let tt = &args.two_tower;
        cfg.split = Some(tt.split.clone());
        cfg.temperature = tt.temperature;
        cfg.steps = tt.steps;
        cfg.k = tt.k;
    }
    cfg.accumulate = enc.accumulate;
    cfg.max_tokens = enc.max_tokens;
    cfg.warmup = enc.warmup;
    cfg.weight_decay = args.weight_decay;
    cfg.limit = enc.limit;
    cfg.seed = args.run.seed;
    cfg.precision = Precision::parse(&enc.precision)?;
    cfg.patience = args.patience;
    cfg.device = args.run.device.clone();
    Ok(cfg)
}

/// A text run's outcome: validation and test metrics, speed, the exported model folder.
#[derive(Serialize)]
struct Finetuned<'a> {
    run_id: i64,
    model: &'a str,
    device: &'a str,
    status: &'a str,
    seconds: f64,
    epochs: usize,
    examples_per_second: Option<f64>,
    best_epoch: Option<usize>,
    train_size: usize,
    valid: Map<String, Value>,
    metrics: Map<String, Value>,
    export: Option<&'a Path>,
    #[serde(skip)]
    outcome: &'a FinetuneOutcome,
    #[serde(skip)]
    workspace: &'a Path,
}

impl<'a> Finetuned<'a> {
    fn new(o: &'a FinetuneOutcome, workspace: &'a Path) -> Self {
        Finetuned {
            run_id: o.run_id,
            model: &o.model,
            device: &o.device,
            status: &o.status,
            seconds: o.seconds,
            epochs: o.epochs_done,
            examples_per_second: o.examples_per_second,
            best_epoch: o.best_epoch,
            train_size: o.train_size,
            valid: metrics_json(&o.valid.metrics),
            metrics: metrics_json(&o.test.metrics),
            export: o.export.as_deref(),
            outcome: o,
            workspace,
        }
    }
}

impl fmt::Display for Finetuned<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let o = self.outcome;
        if o.status == "cancelled" {
            return cancelled(f, "finetune", self.workspace, o.run_id, o.epochs_done);
        }
        let what = if o.model.ends_with("two-tower") {
            "interactions"
        } else {
            "reviews"
        };
        writeln!(
            f,
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
        )?;
        for (name, v) in &o.valid.metrics {
            writeln!(f, "  valid {name:<20} {v:.4}")?;
        }
        for (name, v) in &o.test.metrics {
            writeln!(f, "  test  {name:<20} {v:.4}")?;
        }
        if let Some(dir) = &o.export {
            writeln!(
                f,
                "  model folder: {} (shoplab model import it to reuse)",
                dir.display()
            )?;
        }
        Ok(())
    }
}
