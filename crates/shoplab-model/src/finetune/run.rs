//! A review task's run: the TF-IDF baseline, or the encoder (probe, fine-tuning, export);
//! then validation and test metrics, stored with per-review values.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::eval::{evaluate, per_review};
use super::head::{export, predict_all};
use super::linear::fit_probe;
use super::reviews::{Examples, TextSplit, review_split};
use super::tfidf::Tfidf;
use super::tune::{Tokenized, fine_tune};
use crate::device;
use crate::encoder::Encoder;
use crate::error::Result;
use crate::registry::RunSummary;
use crate::run::{Caller, FinetuneOutcome, Progress, RunContext};
use crate::spec::{FinetuneConfig, RunSpec};
use crate::text;

/// Trains a new review-task run.
pub(crate) fn train(caller: Caller, cfg: &FinetuneConfig) -> Result<FinetuneOutcome> {
    let dir = model_dir(cfg)?;
    let split = review_split(caller.ws, cfg.task, cfg.text, cfg.limit, cfg.seed)?;
    let mut ctx = RunContext::create(
        caller,
        &RunSpec::Finetune(cfg.clone()),
        ("reviews", &cfg.run_model()),
        device::select(&cfg.device),
    )?;
    run(&mut ctx, cfg, &dir, &split)
}

/// Continues the cancelled review-task run `r` from its last checkpoint.
pub(crate) fn resume(
    caller: Caller,
    r: &RunSummary,
    cfg: &FinetuneConfig,
) -> Result<FinetuneOutcome> {
    let dir = model_dir(cfg)?;
    let split = review_split(caller.ws, cfg.task, cfg.text, cfg.limit, cfg.seed)?;
    let mut ctx = RunContext::reopen(caller, r, device::select(&cfg.device))?;
    run(&mut ctx, cfg, &dir, &split)
}

/// The encoder's model folder (none for TF-IDF).
fn model_dir(cfg: &FinetuneConfig) -> Result<PathBuf> {
    if cfg.method.uses_encoder() {
        Ok(text::resolve_model(&cfg.model)?.1)
    } else {
        Ok(PathBuf::new())
    }
}

/// Fits, evaluates and stores the run, then records how the session ended.
fn run(
    ctx: &mut RunContext,
    cfg: &FinetuneConfig,
    model_dir: &Path,
    split: &TextSplit,
) -> Result<FinetuneOutcome> {
    let mut outcome = FinetuneOutcome::start(ctx, cfg.run_model(), split.train.len());
    let result = fit_and_test(ctx, cfg, model_dir, split, &mut outcome);
    outcome.settle(ctx, result)
}

fn fit_and_test(
    ctx: &mut RunContext,
    cfg: &FinetuneConfig,
    model_dir: &Path,
    split: &TextSplit,
    outcome: &mut FinetuneOutcome,
) -> Result<()> {
    let preds = if cfg.method.uses_encoder() {
        fit_encoder(ctx, cfg, (model_dir, split), outcome)?
    } else {
        Some(fit_tfidf(ctx, cfg, split, outcome)?)
    };
    let Some((valid_preds, test_preds)) = preds else {
        return Ok(());
    };
    ctx.report(&Progress::Evaluating);
    let train_mean = split.train.mean();
    outcome.valid = evaluate(cfg.task, &valid_preds, &split.valid.targets, train_mean);
    if let Some(p) = outcome.probe.filter(|_| cfg.method.trains_encoder()) {
        let name = format!("probe_{}", cfg.task.metric().0);
        outcome.valid.metrics.push((name, p));
    }
    outcome.test = evaluate(cfg.task, &test_preds, &split.test.targets, train_mean);
    outcome.test.per_user = per_review(cfg.task, &test_preds, &split.test.targets);
    let reviews: Vec<String> = split
        .test
        .review_ids
        .iter()
        .map(|r| r.to_string())
        .collect();
    ctx.runs.finish(ctx.run_id, "valid", &outcome.valid, &[])?;
    ctx.runs
        .finish(ctx.run_id, "test", &outcome.test, &reviews)?;
    Ok(())
}

/// The TF-IDF baseline: validation and test predictions.
fn fit_tfidf(
    ctx: &mut RunContext,
    cfg: &FinetuneConfig,
    split: &TextSplit,
    outcome: &mut FinetuneOutcome,
) -> Result<(Vec<f32>, Vec<f32>)> {
    ctx.started(0, 0);
    let t = Instant::now();
    let tfidf = Tfidf::fit(&split.train.texts());
    let x = |e: &Examples| tfidf.transform(&e.texts());
    let (xt, xv) = (x(&split.train), x(&split.valid));
    let (m, _) = fit_probe(
        cfg.task,
        (&xt, &split.train.targets),
        (&xv, &split.valid.targets),
        split.train.mean(),
    );
    outcome.seconds = t.elapsed().as_secs_f64();
    ctx.runs.add_seconds(ctx.run_id, outcome.seconds)?;
    Ok((m.predict(&xv), m.predict(&x(&split.test))))
}

/// The encoder's probe and fine-tuning (exported when it trained): validation and test
/// predictions, or `None` when cancelled.
fn fit_encoder(
    ctx: &mut RunContext,
    cfg: &FinetuneConfig,
    (model_dir, split): (&Path, &TextSplit),
    outcome: &mut FinetuneOutcome,
) -> Result<Option<(Vec<f32>, Vec<f32>)>> {
    let enc = Encoder::new(model_dir, cfg, &ctx.device)?;
    let tok = |e: &Examples| enc.folder.encode(&e.texts(), cfg.max_tokens);
    let data = Tokenized {
        split,
        train: tok(&split.train)?,
        valid: tok(&split.valid)?,
        test: tok(&split.test)?,
    };
    let Some(head) = fine_tune(ctx, cfg, &enc, &data, outcome)? else {
        return Ok(None);
    };
    if cfg.method.trains_encoder() {
        outcome.export = Some(export(&enc, &head, cfg, model_dir, &ctx.dir)?);
    }
    Ok(Some((
        predict_all(&enc, &head, cfg.task, &data.valid)?,
        predict_all(&enc, &head, cfg.task, &data.test)?,
    )))
}
