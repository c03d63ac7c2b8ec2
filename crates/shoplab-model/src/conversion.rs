//! The conversion model: P(purchase | user, item, price, context), the bridge from
//! recommendation to pricing.
//!
//! Every item a shopper viewed in a session is an exposure; it converted when the session
//! bought it. The model is a logistic factorization machine with a price term:
//!
//! ```text
//! logit = b + w_u + w_i + <v_u, v_i> − e_c · ln(price / ref_i)
//! ```
//!
//! where `ref_i` is the item's median exposure price and `e_c ≥ 0`-ish is the price
//! elasticity of the item's category (read by the pricing simulator). Sessions (not
//! exposures) are split into train / valid / test by the seed, so one session's views never
//! straddle two parts. Trained in candle on binary cross-entropy with Adam; evaluated by
//! AUC and log loss against the base rate.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use candle_core::{D, DType, Device, Tensor, Var};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use shoplab_data::Workspace;

use crate::device;
use crate::error::{ModelError, Result};
use crate::files::{BEST, IDS, MODEL, read_json, write_json};
use crate::metrics::Evaluation;
use crate::models::{bce_with_logits, load_vars, save_vars};
use crate::optim::Adam;
use crate::registry::EpochRow;
use crate::run::{self, Caller, Progress, RunContext, TrainOutcome, epoch_rng};
use crate::spec::{RunSpec, TrainConfig};

/// Shares of sessions held out for validation and test.
const VALID: f64 = 0.1;
const TEST: f64 = 0.1;
/// The split stored with a conversion run.
pub const SESSIONS_SPLIT: &str = "sessions 80/10/10";

/// One exposure: a viewed item at a price, and whether the session bought it.
#[derive(Debug, Clone, Copy)]
pub struct Exposure {
    pub user: u32,
    pub item: u32,
    /// ln(price / the item's reference price).
    pub log_price: f32,
    pub bought: f32,
}

/// The exposures of a workspace, numbered and split by session.
#[derive(Debug, Clone)]
pub struct Exposures {
    pub users: Vec<String>,
    pub items: Vec<String>,
    pub categories: Vec<String>,
    /// Category of each item (index into `categories`).
    pub item_category: Vec<u32>,
    /// Median exposure price of each item.
    pub reference_price: Vec<f64>,
    pub train: Vec<Exposure>,
    pub valid: Vec<Exposure>,
    pub test: Vec<Exposure>,
}

impl Exposures {
    /// Reads the views and purchases of the workspace's events (a session is `session_id`,
    /// else the user's day); the price is the view's, else the item's list price.
    pub fn from_workspace(ws: &Workspace, seed: u64) -> Result<Self> {
        let rows = exposure_rows(ws)?;
        let part = split_sessions(&rows, seed);
        Ok(Self::numbered(&rows, &part))
    }

    /// Numbers the users, items and categories of `rows` in order of appearance, takes each
    /// item's median price as its reference, and puts each exposure in its session's part.
    fn numbered(rows: &[ExposureRow], part: &HashMap<&str, Part>) -> Self {
        let index = |map: &mut HashMap<String, u32>, names: &mut Vec<String>, key: &str| {
            *map.entry(key.to_string()).or_insert_with(|| {
                names.push(key.to_string());
                names.len() as u32 - 1
            })
        };
        let (mut users, mut items, mut categories) = (Vec::new(), Vec::new(), Vec::new());
        let (mut ui, mut ii, mut ci) = (HashMap::new(), HashMap::new(), HashMap::new());
        let mut item_category = Vec::new();
        let mut prices: Vec<Vec<f64>> = Vec::new();
        let mut raw = Vec::with_capacity(rows.len());
        for (session, user, item, price, bought, category) in rows {
            let u = index(&mut ui, &mut users, user);
            let i = index(&mut ii, &mut items, item);
            if i as usize == item_category.len() {
                item_category.push(index(&mut ci, &mut categories, category));
                prices.push(Vec::new());
            }
            prices[i as usize].push(*price);
            raw.push((part[session.as_str()], u, i, *price, *bought));
        }
        let reference_price: Vec<f64> = prices
            .into_iter()
            .map(|mut p| {
                p.sort_by(f64::total_cmp);
                p[p.len() / 2]
            })
            .collect();
        let mut out = Exposures {
            users,
            items,
            categories,
            item_category,
            reference_price,
            train: Vec::new(),
            valid: Vec::new(),
            test: Vec::new(),
        };
        for (p, user, item, price, bought) in raw {
            let x = Exposure {
                user,
                item,
                log_price: (price / out.reference_price[item as usize]).ln() as f32,
                bought: f32::from(u8::from(bought)),
            };
            match p {
                Part::Train => out.train.push(x),
                Part::Valid => out.valid.push(x),
                Part::Test => out.test.push(x),
            }
        }
        out
    }
}

/// One priced view: session, user, item, price, whether the session bought it, category.
type ExposureRow = (String, String, String, f64, bool, String);

/// Reads the priced views of the workspace's events, ordered by session and item; refuses a
/// log without both bought and unbought views.
fn exposure_rows(ws: &Workspace) -> Result<Vec<ExposureRow>> {
    let sql = format!(
        "
        WITH e AS (
            SELECT user_id, item_id, event_type, price,
                   {session} AS session
            FROM events WHERE event_type IN ('view', 'purchase') AND user_id IS NOT NULL),
        v AS (SELECT session, user_id, item_id, median(price) AS price
              FROM e WHERE event_type = 'view' GROUP BY ALL),
        p AS (SELECT DISTINCT session, item_id FROM e WHERE event_type = 'purchase')
        SELECT v.session, v.user_id, v.item_id, coalesce(v.price, i.price) AS price,
               p.item_id IS NOT NULL AS bought, coalesce(i.category, '') AS category
        FROM v LEFT JOIN p USING (session, item_id) LEFT JOIN items i USING (item_id)
        WHERE coalesce(v.price, i.price) > 0
        ORDER BY v.session, v.item_id",
        session = shoplab_data::schema::SESSION_KEY
    );
    let conn = ws.connection();
    let mut stmt = conn.prepare(&sql)?;
    let rows: Vec<ExposureRow> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })?
        .collect::<std::result::Result<_, _>>()?;
    let bought = rows.iter().filter(|r| r.4).count();
    if rows.is_empty() || bought == 0 || bought == rows.len() {
        return Err(ModelError::Dataset {
            split: SESSIONS_SPLIT.into(),
            message: format!(
                "the conversion model needs priced views, some bought in the same session \
                 and some not (an event log like REES46's); found {} priced views, {bought} \
                 of them bought",
                rows.len()
            ),
        });
    }
    Ok(rows)
}

/// Each session's part: sessions in order of appearance, shuffled by the seed, cut
/// 80/10/10.
fn split_sessions(rows: &[ExposureRow], seed: u64) -> HashMap<&str, Part> {
    let mut sessions: Vec<&str> = Vec::new();
    for r in rows {
        if sessions.last() != Some(&r.0.as_str()) {
            sessions.push(&r.0);
        }
    }
    let mut order: Vec<usize> = (0..sessions.len()).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let n = sessions.len();
    let n_test = (TEST * n as f64).round() as usize;
    let n_valid = (VALID * n as f64).round() as usize;
    let mut part: HashMap<&str, Part> = HashMap::with_capacity(n);
    for (k, &s) in order.iter().enumerate() {
        let p = if k < n_test {
            Part::Test
        } else if k < n_test + n_valid {
            Part::Valid
        } else {
            Part::Train
        };
        part.insert(sessions[s], p);
    }
    part
}

/// The part of the session split an exposure falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Train,
    Valid,
    Test,
}

/// The fitted model.
pub struct ConversionModel {
    bias: Var,
    w_user: Var,
    w_item: Var,
    v_user: Var,
    v_item: Var,
    /// Price elasticity per category.
    elasticity: Var,
    item_category: Tensor,
    reg: f64,
    device: Device,
}

const NAMES: [&str; 6] = [
    "bias",
    "user_weight",
    "item_weight",
    "user_factors",
    "item_factors",
    "elasticity",
];

impl ConversionModel {
    fn new(
        data: &Exposures,
        factors: usize,
        init_std: f64,
        reg: f64,
        seed: u64,
        device: &Device,
    ) -> Result<Self> {
        if factors == 0 {
            return Err(ModelError::Config {
                model: "conversion".into(),
                message: "factors must be at least 1".into(),
            });
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let normal = Normal::new(0.0f32, init_std as f32).map_err(|e| ModelError::Config {
            model: "conversion".into(),
            message: format!("init_std: {e}"),
        })?;
        let mut randn = |rows: usize| -> Result<Var> {
            let v: Vec<f32> = (0..rows * factors)
                .map(|_| normal.sample(&mut rng))
                .collect();
            Ok(Var::from_tensor(&Tensor::from_vec(
                v,
                (rows, factors),
                device,
            )?)?)
        };
        let (nu, ni, nc) = (data.users.len(), data.items.len(), data.categories.len());
        let rate = data.train.iter().map(|x| f64::from(x.bought)).sum::<f64>()
            / data.train.len().max(1) as f64;
        // Start at the base rate's log odds, so the first epochs learn effects, not the mean.
        let base =
            (rate.clamp(1e-6, 1.0 - 1e-6) / (1.0 - rate.clamp(1e-6, 1.0 - 1e-6))).ln() as f32;
        Ok(ConversionModel {
            bias: Var::from_tensor(&Tensor::new(&[base], device)?)?,
            w_user: Var::zeros(nu, DType::F32, device)?,
            w_item: Var::zeros(ni, DType::F32, device)?,
            v_user: randn(nu)?,
            v_item: randn(ni)?,
            elasticity: Var::zeros(nc, DType::F32, device)?,
            item_category: Tensor::from_slice(&data.item_category, ni, device)?,
            reg,
            device: device.clone(),
        })
    }

    fn vars(&self) -> Vec<Var> {
        vec![
            self.bias.clone(),
            self.w_user.clone(),
            self.w_item.clone(),
            self.v_user.clone(),
            self.v_item.clone(),
            self.elasticity.clone(),
        ]
    }

    /// Logits of exposures, and the factors they used (for the penalty).
    fn logits(&self, xs: &[Exposure]) -> Result<(Tensor, Tensor, Tensor)> {
        let users: Vec<u32> = xs.iter().map(|x| x.user).collect();
        let items: Vec<u32> = xs.iter().map(|x| x.item).collect();
        let prices: Vec<f32> = xs.iter().map(|x| x.log_price).collect();
        let u = Tensor::from_vec(users, xs.len(), &self.device)?;
        let i = Tensor::from_vec(items, xs.len(), &self.device)?;
        let p = Tensor::from_vec(prices, xs.len(), &self.device)?;
        let vu = self.v_user.as_tensor().index_select(&u, 0)?;
        let vi = self.v_item.as_tensor().index_select(&i, 0)?;
        let cat = self.item_category.index_select(&i, 0)?;
        let e = self.elasticity.as_tensor().index_select(&cat, 0)?;
        let logit = (((vu.mul(&vi)?.sum(D::Minus1)?
            + self.w_user.as_tensor().index_select(&u, 0)?)?
            + self.w_item.as_tensor().index_select(&i, 0)?)?
            - e.mul(&p)?)?
        .broadcast_add(self.bias.as_tensor())?;
        Ok((logit, vu, vi))
    }

    /// Mean binary cross-entropy plus `reg` times the mean squared norms of the factors
    /// and the user and item weights.
    fn loss(&self, xs: &[Exposure]) -> Result<Tensor> {
        let (x, vu, vi) = self.logits(xs)?;
        let y: Vec<f32> = xs.iter().map(|e| e.bought).collect();
        let y = Tensor::from_vec(y, xs.len(), &self.device)?;
        let bce = bce_with_logits(&x, &y)?;
        let norms = (vu.sqr()?.sum(D::Minus1)? + vi.sqr()?.sum(D::Minus1)?)?.mean_all()?;
        let weights = (self.w_user.as_tensor().sqr()?.mean_all()?
            + self.w_item.as_tensor().sqr()?.mean_all()?)?;
        Ok((bce + (norms + weights)?.affine(self.reg, 0.0)?)?)
    }

    /// Purchase probabilities of exposures.
    pub fn probabilities(&self, xs: &[Exposure]) -> Result<Vec<f32>> {
        let mut out = Vec::with_capacity(xs.len());
        for chunk in xs.chunks(65_536) {
            let (logit, _, _) = self.logits(chunk)?;
            let p = candle_nn::ops::sigmoid(&logit)?;
            out.extend(p.to_device(&Device::Cpu)?.to_vec1::<f32>()?);
        }
        Ok(out)
    }

    /// The fitted price elasticity of each category.
    pub fn elasticities(&self) -> Result<Vec<f32>> {
        Ok(self
            .elasticity
            .as_tensor()
            .to_device(&Device::Cpu)?
            .to_vec1()?)
    }

    fn tensors(&self) -> Vec<(&'static str, &Var)> {
        NAMES.into_iter().zip(self.vars_ref()).collect()
    }

    fn vars_ref(&self) -> [&Var; 6] {
        [
            &self.bias,
            &self.w_user,
            &self.w_item,
            &self.v_user,
            &self.v_item,
            &self.elasticity,
        ]
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        save_vars(path, self.tensors())
    }

    fn load(&self, path: &Path) -> Result<()> {
        load_vars("conversion", path, &self.device, self.tensors())
    }
}

/// AUC and mean log loss of the predicted purchase probabilities (see
/// [`metrics::binary`]), and the observed conversion rate.
pub fn evaluate(probs: &[f32], xs: &[Exposure], base_rate: f64) -> Evaluation {
    let labels: Vec<f32> = xs.iter().map(|x| x.bought).collect();
    let mut ev = crate::metrics::binary(probs, &labels, base_rate);
    let pos = labels.iter().filter(|&&y| y > 0.5).count() as f64;
    ev.metrics
        .push(("conversion_rate".into(), pos / labels.len().max(1) as f64));
    ev
}

/// Trains a conversion run: `cfg.hyper.factors`, `lr`, `reg`, `init_std`, `cfg.epochs`,
/// `batch_size`, `seed` (also the session split's), `patience` (on validation log loss).
pub(crate) fn train(caller: Caller, cfg: &TrainConfig) -> Result<TrainOutcome> {
    let data = Exposures::from_workspace(caller.ws, cfg.seed)?;
    let mut stored = cfg.clone();
    stored.split = SESSIONS_SPLIT.into();
    let mut ctx = RunContext::create(
        caller,
        &RunSpec::Conversion(stored),
        (SESSIONS_SPLIT, cfg.model.name()),
        device::select(&cfg.device),
    )?;
    let result = fit(&mut ctx, &data, cfg);
    let runs = &ctx.runs;
    match &result {
        Ok(o) if o.status == "cancelled" => runs.set_status(
            ctx.run_id,
            "cancelled",
            Some("cancelled; a conversion run is trained again from the start"),
        )?,
        Ok(_) => {}
        Err(e) => runs.set_status(ctx.run_id, "failed", Some(&e.to_string()))?,
    }
    result
}

/// The model in training, its optimizer and the early-stopping bookkeeping.
struct Fitting {
    model: ConversionModel,
    opt: Adam,
    base_rate: f64,
    steps: usize,
    best: Option<(usize, f64)>,
    bad: usize,
}

fn fit(ctx: &mut RunContext, data: &Exposures, cfg: &TrainConfig) -> Result<TrainOutcome> {
    let h = &cfg.hyper;
    let model = ConversionModel::new(data, h.factors, h.init_std, h.reg, cfg.seed, &ctx.device)?;
    let opt = Adam::new(model.vars(), h.lr, h.weight_decay)?;
    let base_rate =
        data.train.iter().map(|x| f64::from(x.bought)).sum::<f64>() / data.train.len() as f64;
    let mut f = Fitting {
        model,
        opt,
        base_rate,
        steps: data.train.len().div_ceil(cfg.batch_size.max(1)),
        best: None,
        bad: 0,
    };
    let mut outcome = TrainOutcome::start(ctx, cfg.model);
    ctx.started(cfg.epochs, f.steps);
    let mut order = data.train.clone();
    for epoch in 1..=cfg.epochs {
        let t = Instant::now();
        let mut rng = epoch_rng(cfg.seed, epoch);
        order.shuffle(&mut rng);
        let Some(loss) = epoch_steps(ctx, &mut f, &order, cfg, epoch)? else {
            outcome.status = "cancelled".into();
            return Ok(outcome);
        };
        let seconds = t.elapsed().as_secs_f64();
        let valid = validate(ctx, &mut f, data, epoch)?;
        let row = EpochRow {
            epoch: epoch as i64,
            loss: Some(loss),
            metric: valid.map(|_| "logloss".to_string()),
            value: valid,
            seconds,
        };
        ctx.record_epoch(&row, cfg.epochs)?;
        outcome.epochs_done = epoch;
        outcome.seconds += seconds;
        if cfg.patience > 0 && f.bad >= cfg.patience {
            break;
        }
    }
    outcome.seconds_per_epoch = Some(outcome.seconds / outcome.epochs_done.max(1) as f64);
    if let Some((epoch, _)) = f.best {
        f.model.load(&ctx.file(BEST))?;
        outcome.best_epoch = Some(epoch);
    }
    outcome.test = save_and_test(ctx, &f, data)?;
    Ok(outcome)
}

/// One epoch's steps over the shuffled `order`: the mean loss, or `None` when cancelled.
fn epoch_steps(
    ctx: &mut RunContext,
    f: &mut Fitting,
    order: &[Exposure],
    cfg: &TrainConfig,
    epoch: usize,
) -> Result<Option<f64>> {
    let steps = f.steps;
    let mut total = 0.0;
    for (step, batch) in order.chunks(cfg.batch_size.max(1)).enumerate() {
        if ctx.cancelled() {
            return Ok(None);
        }
        let loss = f.model.loss(batch)?;
        let value = f64::from(loss.to_scalar::<f32>()?);
        if !value.is_finite() {
            return Err(ModelError::Diverged {
                epoch,
                step: step + 1,
                loss: value,
                lr: cfg.hyper.lr,
            });
        }
        f.opt.backward_step(&loss)?;
        total += value;
        if step % 20 == 0 || step + 1 == steps {
            ctx.report(&Progress::Step {
                epoch,
                step: step + 1,
                steps,
                loss: value,
            });
        }
    }
    Ok(Some(total / steps.max(1) as f64))
}

/// The validation log loss of the epoch (keeping the best model so far), if there is a
/// validation part.
fn validate(
    ctx: &RunContext,
    f: &mut Fitting,
    data: &Exposures,
    epoch: usize,
) -> Result<Option<f64>> {
    if data.valid.is_empty() {
        return Ok(None);
    }
    let ev = evaluate(
        &f.model.probabilities(&data.valid)?,
        &data.valid,
        f.base_rate,
    );
    let valid = ev.get("logloss");
    if let Some(v) = valid {
        if f.best.is_none_or(|(_, b)| v < b) {
            f.best = Some((epoch, v));
            f.bad = 0;
            f.model.save(&ctx.file(BEST))?;
        } else {
            f.bad += 1;
        }
    }
    Ok(valid)
}

/// Saves the model and its numbering, and stores its test metrics (the run finishes).
fn save_and_test(ctx: &mut RunContext, f: &Fitting, data: &Exposures) -> Result<Evaluation> {
    f.model.save(&ctx.file(MODEL))?;
    write_json(
        &ctx.file(IDS),
        &(
            &data.users,
            &data.items,
            &data.categories,
            &data.reference_price,
        ),
    )?;
    ctx.report(&Progress::Evaluating);
    let mut test = evaluate(&f.model.probabilities(&data.test)?, &data.test, f.base_rate);
    for (c, e) in data.categories.iter().zip(f.model.elasticities()?) {
        test.metrics.push((format!("elasticity:{c}"), f64::from(e)));
    }
    ctx.runs.finish(ctx.run_id, "test", &test, &data.users)?;
    Ok(test)
}

/// A finished conversion run's parameters on the host, with the numbering of its users and
/// items: what the simulator needs to predict purchases at any price.
#[derive(Debug, Clone)]
pub struct ConversionParams {
    pub users: Vec<String>,
    pub items: Vec<String>,
    /// Each item's category (index into `elasticity`) and reference price.
    pub item_category: Vec<u32>,
    pub reference_price: Vec<f64>,
    pub bias: f32,
    pub w_user: Vec<f32>,
    pub w_item: Vec<f32>,
    /// Factors, row-major (`dim` per user or item).
    pub dim: usize,
    pub v_user: Vec<f32>,
    pub v_item: Vec<f32>,
    pub elasticity: Vec<f32>,
}

impl ConversionParams {
    /// The logit of a purchase of item `i` at its reference price by user `u` (`None`: a
    /// user the run has not seen, whose weight and factors are zero).
    pub fn logit(&self, u: Option<usize>, i: usize) -> f32 {
        let vi = &self.v_item[i * self.dim..(i + 1) * self.dim];
        let personal = u.map_or(0.0, |u| {
            let vu = &self.v_user[u * self.dim..(u + 1) * self.dim];
            self.w_user[u] + vu.iter().zip(vi).map(|(a, b)| a * b).sum::<f32>()
        });
        self.bias + self.w_item[i] + personal
    }

    /// The price slope of item `i` (its category's elasticity).
    pub fn slope(&self, i: usize) -> f32 {
        self.elasticity[self.item_category[i] as usize]
    }
}

/// Loads a finished conversion run's model with the exposures it was trained on (read again
/// from the workspace; they must have the run's users and items).
fn load_model(ws: &Workspace, run_id: i64) -> Result<(ConversionModel, Exposures, TrainConfig)> {
    let (r, spec) = run::finished(ws, run_id)?;
    let cfg = match spec {
        RunSpec::Conversion(cfg) => cfg,
        RunSpec::Train(_) | RunSpec::Finetune(_) | RunSpec::TwoTower(_) => {
            return Err(ModelError::WrongKind(
                run_id,
                format!("is a {} run, not a conversion model", r.model),
            ));
        }
    };
    let data = Exposures::from_workspace(ws, cfg.seed)?;
    let (users, items, _, _): (Vec<String>, Vec<String>, Vec<String>, Vec<f64>) =
        read_json(&r.artifacts.join(IDS))?;
    if users != data.users || items != data.items {
        return Err(ModelError::Run(
            run_id,
            "the workspace's events changed since the run was trained (users/items differ)".into(),
        ));
    }
    let h = &cfg.hyper;
    let model = ConversionModel::new(&data, h.factors, h.init_std, h.reg, cfg.seed, &Device::Cpu)?;
    model.load(&r.artifacts.join(MODEL))?;
    Ok((model, data, cfg))
}

/// A finished conversion run's purchase probability for each exposure of its test sessions,
/// and whether it was bought (1) or not (0).
pub fn test_predictions(ws: &Workspace, run_id: i64) -> Result<(Vec<f32>, Vec<f32>)> {
    let (model, data, _) = load_model(ws, run_id)?;
    let probs = model.probabilities(&data.test)?;
    Ok((probs, data.test.iter().map(|x| x.bought).collect()))
}

/// Loads a finished conversion run. Its exposures are read again from the workspace (the
/// numbering of categories is theirs) and must have the run's users and items.
pub fn load_params(ws: &Workspace, run_id: i64) -> Result<ConversionParams> {
    let (model, data, cfg) = load_model(ws, run_id)?;
    let h = &cfg.hyper;
    let flat = |v: &Var| -> Result<Vec<f32>> { Ok(v.as_tensor().flatten_all()?.to_vec1()?) };
    Ok(ConversionParams {
        bias: flat(&model.bias)?[0],
        w_user: flat(&model.w_user)?,
        w_item: flat(&model.w_item)?,
        dim: h.factors,
        v_user: flat(&model.v_user)?,
        v_item: flat(&model.v_item)?,
        elasticity: flat(&model.elasticity)?,
        users: data.users,
        items: data.items,
        item_category: data.item_category,
        reference_price: data.reference_price,
    })
}
