//! `shoplab train`: a recommendation or conversion model on one split (several: a
//! cross-validation), or a cancelled run resumed.

use std::fmt;
use std::path::Path;

use anyhow::{Result, bail};
use serde::Serialize;
use serde_json::{Map, Value};
use shoplab_engine::{Hyper, ModelKind, Optimizer, TrainConfig, TrainOutcome};

use crate::cli::{HyperArgs, TrainArgs};
use crate::output::{Printer, cancelled, metrics_json};
use crate::progress;

pub fn run(args: TrainArgs) -> Result<()> {
    let out = Printer::new(args.output.json);
    let session = super::open(&args.workspace)?;
    if args.sweep.is_sweep() {
        if args.run.resume.is_some() {
            bail!("--resume continues one run; it does not go with a sweep's options");
        }
        let base = configs(&args)?;
        if base.len() != 1 {
            bail!("a sweep runs on one split (got {})", base.len());
        }
        return super::sweep::run(&session, &args, base[0].clone(), out);
    }
    // One config per split (several: a cross-validation); none to resume.
    let configs = match args.run.resume {
        Some(_) => Vec::new(),
        None => configs(&args)?,
    };
    let mut outcomes = Vec::new();
    for i in 0..configs.len().max(1) {
        let job = match (args.run.resume, configs.get(i)) {
            (Some(run), _) => session.resume_job(run)?,
            (None, Some(c)) => session.train_job(c.clone())?,
            (None, None) => bail!("--split is required"),
        };
        let outcome = progress::training(job, out.json())?;
        out.line(&Trained::new(&outcome, &args.workspace))?;
        let stop = outcome.status != "finished";
        outcomes.push(outcome);
        if stop {
            break;
        }
    }
    if configs.len() > 1 && outcomes.len() == configs.len() {
        out.line(&CrossValidation::new(&configs, &outcomes))?;
    }
    Ok(())
}

/// The runs to start: the model's config with the given settings, once per split.
fn configs(args: &TrainArgs) -> Result<Vec<TrainConfig>> {
    let kind = match (args.model.as_str(), args.hyper.objective.as_deref()) {
        ("mf", Some("bpr")) => ModelKind::Bpr,
        ("mf", None | Some("mse")) => ModelKind::Mf,
        (m, None) => ModelKind::parse(m)?,
        (m, Some(o)) => bail!("--objective {o} does not apply to model {m}"),
    };
    let split = args.split.as_deref();
    if split.is_none() && kind != ModelKind::Conversion {
        bail!("--split is required (to continue a run: --resume RUN)");
    }
    let mut cfg = TrainConfig::new(split.unwrap_or_default(), kind);
    if let Some(v) = args.epochs {
        cfg.epochs = v;
    }
    cfg.batch_size = args.batch_size;
    cfg.seed = args.run.seed;
    cfg.k = args.k;
    if let Some(v) = args.patience {
        cfg.patience = v;
    }
    cfg.device = args.run.device.clone();
    if let Some(v) = args.run.lr {
        cfg.hyper.lr = v;
    }
    apply(&args.hyper, &mut cfg.hyper)?;
    Ok(split
        .unwrap_or_default()
        .split(',')
        .map(|name| {
            let mut c = cfg.clone();
            c.split = name.trim().to_string();
            c
        })
        .collect())
}

/// The hyperparameters given on the command line, over the model's defaults.
fn apply(args: &HyperArgs, hyper: &mut Hyper) -> Result<()> {
    if let Some(v) = args.factors {
        hyper.factors = v;
    }
    if let Some(v) = args.reg {
        hyper.reg = v;
    }
    if let Some(v) = &args.optimizer {
        hyper.optimizer = Optimizer::parse(v)?;
    }
    if let Some(v) = args.weight_decay {
        hyper.weight_decay = v;
    }
    if let Some(v) = args.max_len {
        hyper.max_len = v;
    }
    if let Some(v) = args.negatives {
        hyper.negatives = v;
    }
    if let Some(v) = args.burn_in {
        hyper.burn_in = v;
    }
    if let Some(v) = args.alpha {
        hyper.noise_precision = v;
    }
    if let Some(v) = args.lambda {
        hyper.lambda = v;
    }
    if let Some(v) = args.neighbors {
        hyper.neighbors = v;
    }
    Ok(())
}

/// One finished, cancelled or failed training run.
#[derive(Serialize)]
pub(crate) struct Trained<'a> {
    run_id: i64,
    model: &'a str,
    device: &'a str,
    status: &'a str,
    seconds: f64,
    epochs: usize,
    seconds_per_epoch: Option<f64>,
    best_epoch: Option<usize>,
    metrics: Map<String, Value>,
    #[serde(skip)]
    test: &'a [(String, f64)],
    #[serde(skip)]
    workspace: &'a Path,
}

impl<'a> Trained<'a> {
    pub(crate) fn new(o: &'a TrainOutcome, workspace: &'a Path) -> Self {
        Trained {
            run_id: o.run_id,
            model: o.model.name(),
            device: &o.device,
            status: &o.status,
            seconds: o.seconds,
            epochs: o.epochs_done,
            seconds_per_epoch: o.seconds_per_epoch,
            best_epoch: o.best_epoch,
            metrics: metrics_json(&o.test.metrics),
            test: &o.test.metrics,
            workspace,
        }
    }
}

impl fmt::Display for Trained<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.status == "cancelled" {
            return cancelled(f, "train", self.workspace, self.run_id, self.epochs);
        }
        writeln!(
            f,
            "run {}: {} on {}, {} epochs, {:.2} s{}",
            self.run_id,
            self.model,
            self.device,
            self.epochs,
            self.seconds,
            self.best_epoch
                .map(|e| format!(" (best validation at epoch {e})"))
                .unwrap_or_default()
        )?;
        for (name, v) in self.test {
            writeln!(f, "  test {name:<20} {v:.4}")?;
        }
        Ok(())
    }
}

/// Mean and standard deviation of each test metric over the splits of a cross-validation.
#[derive(Serialize)]
struct CrossValidation<'a> {
    cross_validation: Folds<'a>,
}

#[derive(Serialize)]
struct Folds<'a> {
    splits: Vec<&'a str>,
    runs: Vec<i64>,
    metrics: Map<String, Value>,
    #[serde(skip)]
    summary: Vec<(String, f64, f64)>,
}

impl<'a> CrossValidation<'a> {
    fn new(configs: &'a [TrainConfig], outcomes: &[TrainOutcome]) -> Self {
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
        let metrics = summary
            .iter()
            .map(|(n, m, s)| (n.clone(), serde_json::json!({"mean": m, "std": s})))
            .collect();
        CrossValidation {
            cross_validation: Folds {
                splits: configs.iter().map(|c| c.split.as_str()).collect(),
                runs: outcomes.iter().map(|o| o.run_id).collect(),
                metrics,
                summary,
            },
        }
    }
}

impl fmt::Display for CrossValidation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cv = &self.cross_validation;
        writeln!(
            f,
            "cross-validation over {} splits ({}):",
            cv.splits.len(),
            cv.splits.join(", ")
        )?;
        for (name, mean, std) in &cv.summary {
            writeln!(f, "  test {name:<20} {mean:.4} ± {std:.4}")?;
        }
        Ok(())
    }
}
