//! Train / valid / test splits, seeded and reproducible, stored in the workspace.
//! The ratio rules follow the libraries people compare against: RecBole's per-user ratio
//! split (`_calcu_split_ids`) and MS-Recommenders' `python_stratified_split` (`round`, half to even).

use std::path::Path;

use duckdb::params;
use duckdb::types::{TimeUnit, Value};
use polars::prelude::DataFrame;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::dialect;
use crate::error::{DataError, Result};
use crate::import::ImportOptions;
use crate::interaction::Row;
use crate::mapping::Target;
use crate::workspace::Workspace;

/// How interactions are divided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "strategy", rename_all = "snake_case")]
pub enum Strategy {
    /// Per user, shuffled, cut by ratios as RecBole does (e.g. 0.8 / 0.1 / 0.1).
    RandomRatio { train: f64, valid: f64, test: f64 },
    /// Per user, shuffled, cut at `round(ratio · n)` as MS-Recommenders does (e.g. 0.75 / 0 / 0.25).
    Stratified { train: f64, valid: f64, test: f64 },
    /// One global time cutoff: the last `test` fraction of interactions by time, `valid` before it.
    Temporal { valid: f64, test: f64 },
    /// Per user, the last `test` interactions by time, and the `valid` before them.
    LeaveLastOut { valid: u32, test: u32 },
    /// All interactions shuffled once by the seed and cut into `folds` equal parts, as
    /// Surprise's `KFold` does; part `fold` (0-based) is the test part, the rest train. The
    /// `folds` splits of one seed partition the data.
    KFold { folds: u32, fold: u32 },
    /// Per user, rows ordered by a hash of (seed, user, item, time) and cut by ratios: the
    /// split DuckDB and Spark compute alike ([`crate::dialect::hashed_split`]), so a split
    /// made on a cluster is the one the workspace would make.
    Hashed { train: f64, valid: f64, test: f64 },
}

impl Strategy {
    /// The name stored in `splits.strategy`.
    pub fn name(&self) -> &'static str {
        match self {
            Strategy::RandomRatio { .. } => "random_ratio",
            Strategy::Stratified { .. } => "stratified",
            Strategy::Temporal { .. } => "temporal",
            Strategy::LeaveLastOut { .. } => "leave_last_out",
            Strategy::KFold { .. } => "kfold",
            Strategy::Hashed { .. } => "hashed",
        }
    }
}

/// A split request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SplitSpec {
    pub name: String,
    pub strategy: Strategy,
    pub seed: u64,
    /// Event types to use; default: ratings when there are any, else view/cart/purchase/favorite/click.
    #[serde(default)]
    pub event_types: Option<Vec<String>>,
    /// Keep only interactions with `value >=` this (ratings).
    #[serde(default)]
    pub min_value: Option<f64>,
    /// Keep only users and items with at least k interactions (applied until stable).
    #[serde(default)]
    pub k_core: Option<u32>,
    /// Hold out this fraction of the items (a seeded sample) as new arrivals: every
    /// interaction with them goes to the test part, so they are unseen in training and
    /// validation (the cold-start slice of an evaluation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cold_items: Option<f64>,
}

impl SplitSpec {
    /// Refuses a request no split can be made from, naming each option out of range (as on
    /// the command line) with its range; nothing is read or written.
    pub fn check(&self) -> Result<()> {
        let mut bad = Vec::new();
        let fraction = |option: &str, v: f64, zero_ok: bool| {
            let ok = v.is_finite() && v < 1.0 && (v > 0.0 || (zero_ok && v == 0.0));
            let range = if zero_ok { "[0, 1)" } else { "(0, 1)" };
            (!ok).then(|| format!("{option} must be in {range} (got {})", short(v)))
        };
        match self.strategy {
            Strategy::RandomRatio { train, valid, test }
            | Strategy::Stratified { train, valid, test }
            | Strategy::Hashed { train, valid, test } => {
                bad.extend(fraction("--valid", valid, true));
                bad.extend(fraction("--test", test, false));
                // --train defaults to 1 - valid - test: checked only once those are sane.
                let sane = bad.is_empty();
                if sane && valid + test >= 1.0 {
                    bad.push(format!(
                        "--valid and --test must sum to less than 1, leaving a train part (got {})",
                        short(valid + test)
                    ));
                } else if sane {
                    bad.extend(fraction("--train", train, false));
                    let sum = train + valid + test;
                    if train > 0.0 && (sum - 1.0).abs() > 1e-6 {
                        bad.push(format!(
                            "--train, --valid and --test must sum to 1 (got {}; --train defaults to 1 - valid - test)",
                            short(sum)
                        ));
                    }
                }
            }
            Strategy::Temporal { valid, test } => {
                bad.extend(fraction("--valid", valid, true));
                bad.extend(fraction("--test", test, false));
                if valid + test >= 1.0 {
                    bad.push(format!(
                        "--valid and --test must sum to less than 1, leaving a train part (got {})",
                        short(valid + test)
                    ));
                }
            }
            Strategy::LeaveLastOut { test, .. } => {
                if test == 0 {
                    bad.push("--test must be at least 1 interaction per user (got 0)".into());
                }
            }
            Strategy::KFold { folds, fold } => {
                if folds < 2 {
                    bad.push(format!("--folds must be at least 2 (got {folds})"));
                } else if fold >= folds {
                    bad.push(format!("fold {fold} must be below --folds {folds}"));
                }
            }
        }
        if let Some(f) = self.cold_items
            && !(f.is_finite() && f > 0.0 && f < 1.0)
        {
            bad.push(format!("--cold-items must be in (0, 1) (got {f})"));
        }
        if self.k_core == Some(0) {
            bad.push("--k-core must be at least 1 (got 0)".into());
        }
        if self.name.trim().is_empty() {
            bad.push("--name must not be empty".into());
        }
        if bad.is_empty() {
            Ok(())
        } else {
            Err(DataError::Split(bad.join("; ")))
        }
    }
}

/// A fraction as a person wrote it: 0.2, not 0.19999999999999996.
fn short(v: f64) -> String {
    let s = format!("{v:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A stored split's summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplitSummary {
    pub name: String,
    pub strategy: String,
    pub params: String,
    pub seed: Option<i64>,
    pub n_train: u64,
    pub n_valid: u64,
    pub n_test: u64,
    /// Where it was computed when not in this workspace (`spark sc://… over PATH`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub computed_on: Option<String>,
}

/// One row of a split computed elsewhere (on a cluster), as it lands in the workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct SplitRow {
    pub user_id: String,
    pub item_id: String,
    pub value: Option<f64>,
    /// µs since the epoch.
    pub event_time: Option<i64>,
    /// `train`, `valid` or `test`.
    pub part: String,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Part {
    Train,
    Valid,
    Test,
}

impl Part {
    fn of(name: &str) -> Option<Part> {
        [Part::Train, Part::Valid, Part::Test]
            .into_iter()
            .find(|p| p.name() == name)
    }

    fn name(self) -> &'static str {
        match self {
            Part::Train => "train",
            Part::Valid => "valid",
            Part::Test => "test",
        }
    }
}

fn check_ratios(a: f64, b: f64, c: f64) -> Result<()> {
    let ok = [a, b, c].iter().all(|x| (0.0..=1.0).contains(x))
        && ((a + b + c) - 1.0).abs() < 1e-6
        && a > 0.0;
    if ok {
        Ok(())
    } else {
        Err(DataError::Split(format!(
            "ratios {a}/{b}/{c} must be in [0, 1], sum to 1, with a non-empty train part"
        )))
    }
}

/// RecBole's `_calcu_split_ids`: counts per part for `tot` interactions.
pub fn recbole_counts(tot: usize, ratios: [f64; 3]) -> [usize; 3] {
    let mut cnt = ratios.map(|r| (r * tot as f64) as usize);
    cnt[0] = tot - cnt[1] - cnt[2];
    for i in 1..3 {
        if cnt[0] <= 1 {
            break;
        }
        let r = ratios[3 - i] * tot as f64;
        if 0.0 < r && r < 1.0 {
            cnt[3 - i] += 1;
            cnt[0] -= 1;
        }
    }
    cnt
}

/// Python's `round`: halves go to the even neighbour.
fn round_half_even(x: f64) -> usize {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 && r as i64 % 2 != 0 {
        (r - x.signum()) as usize
    } else {
        r as usize
    }
}

/// MS-Recommenders' `split_pandas_data_with_ratios` cut points.
pub fn stratified_counts(tot: usize, ratios: [f64; 3]) -> [usize; 3] {
    let a = round_half_even(ratios[0] * tot as f64).min(tot);
    let b = round_half_even((ratios[0] + ratios[1]) * tot as f64).clamp(a, tot);
    [a, b - a, tot - b]
}

/// The temp table a split's source rows are staged in.
const SPLIT_SRC: &str = "_shoplab_split_src";

/// The event types a split reads when none are named: ratings when the log has any, else
/// the implicit kinds.
pub fn default_split_types(has_ratings: bool) -> Vec<String> {
    if has_ratings {
        vec!["rating".to_string()]
    } else {
        ["view", "cart", "purchase", "favorite", "click"]
            .map(String::from)
            .to_vec()
    }
}

fn no_interactions() -> DataError {
    DataError::Split("no interactions to split (import events first, or check --events / --min-value / --k-core)".into())
}

/// Appends rows (user, item, value, time in µs, part) to `split_interactions` as the split
/// `name`.
fn append_rows<'a>(
    c: &duckdb::Connection,
    name: &str,
    rows: impl Iterator<Item = (&'a str, &'a str, Option<f64>, Option<i64>, &'a str)>,
) -> Result<()> {
    let mut app = c.appender("split_interactions")?;
    for (user, item, value, time, part) in rows {
        app.append_row(params![
            name,
            part,
            user,
            item,
            value,
            time.map(|t| Value::Timestamp(TimeUnit::Microsecond, t))
        ])?;
    }
    app.flush()?;
    Ok(())
}

/// A drawn split's row and part as [`append_rows`] takes them.
fn drawn<'a>((r, p): (&'a Row, &Part)) -> (&'a str, &'a str, Option<f64>, Option<i64>, &'a str) {
    (&r.user, &r.item, r.value, r.time, p.name())
}

fn user_seed(seed: u64, user: &str) -> u64 {
    let h = blake3::hash(user.as_bytes());
    seed ^ u64::from_le_bytes(h.as_bytes()[..8].try_into().expect("8 bytes"))
}

impl Workspace {
    /// Builds and stores a split (replacing one of the same name).
    pub fn create_split(&self, spec: &SplitSpec) -> Result<SplitSummary> {
        spec.check()?;
        let params = serde_json::to_string(spec).expect("a split spec serializes");
        let seed = Some(spec.seed as i64);
        let name = spec.strategy.name();
        if let Strategy::Hashed { valid, test, .. } = spec.strategy {
            // Computed where the rows are, by the SQL a cluster runs too.
            let n = self.stage_split_source(spec)?;
            if n == 0 {
                return Err(no_interactions());
            }
            let (sql, _) =
                dialect::hashed_split(SPLIT_SRC, spec.seed, valid, test, spec.cold_items);
            let split = spec.name.replace('\'', "''");
            let r = self.store_split(&spec.name, name, params, seed, None, &|c| {
                c.execute_batch(&format!(
                    "INSERT INTO split_interactions
                     SELECT '{split}', part, user_id, item_id, value, event_time FROM ({sql})"
                ))?;
                Ok(())
            });
            self.connection()
                .execute_batch(&format!("DROP TABLE IF EXISTS temp.{SPLIT_SRC}"))?;
            return r;
        }
        let rows = self.split_source(spec)?;
        if rows.is_empty() {
            return Err(no_interactions());
        }
        let mut parts = assign(&rows, spec)?;
        if let Some(f) = spec.cold_items {
            hold_out_items(&rows, &mut parts, f, spec.seed)?;
        }
        self.store_split(&spec.name, name, params, seed, None, &|c| {
            append_rows(c, &spec.name, rows.iter().zip(&parts).map(drawn))
        })
    }

    /// Stores a split computed elsewhere (`computed_on` says where, e.g. a Spark cluster),
    /// replacing one of the same name; nothing changes when it fails.
    pub fn store_computed_split(
        &self,
        spec: &SplitSpec,
        computed_on: &str,
        rows: &[SplitRow],
    ) -> Result<SplitSummary> {
        spec.check()?;
        if rows.is_empty() {
            return Err(no_interactions());
        }
        if let Some(bad) = rows.iter().find(|r| Part::of(&r.part).is_none()) {
            return Err(DataError::Split(format!(
                "a computed split row has part {:?} (train, valid or test expected)",
                bad.part
            )));
        }
        let params = serde_json::to_string(spec).expect("a split spec serializes");
        let computed = rows.iter().map(|r| {
            let (user, item, part) = (r.user_id.as_str(), r.item_id.as_str(), r.part.as_str());
            (user, item, r.value, r.event_time, part)
        });
        self.store_split(
            &spec.name,
            spec.strategy.name(),
            params,
            Some(spec.seed as i64),
            Some(computed_on),
            &|c| append_rows(c, &spec.name, computed.clone()),
        )
    }

    /// The event types a split reads: the spec's, or ratings when the log has any, else the
    /// implicit kinds.
    fn split_types(&self, spec: &SplitSpec) -> Result<Vec<String>> {
        if let Some(t) = &spec.event_types {
            return Ok(t.clone());
        }
        let ratings: i64 = self.connection().query_row(
            "SELECT count(*) FROM events WHERE event_type = 'rating'",
            [],
            |r| r.get(0),
        )?;
        Ok(default_split_types(ratings > 0))
    }

    /// Puts the split's source rows in the temp table [`SPLIT_SRC`] (the k-core applied);
    /// returns how many there are.
    fn stage_split_source(&self, spec: &SplitSpec) -> Result<u64> {
        let c = self.connection();
        let types = self.split_types(spec)?;
        c.execute_batch(&format!(
            "DROP TABLE IF EXISTS temp.{SPLIT_SRC};
             CREATE TEMP TABLE {SPLIT_SRC} AS {}",
            dialect::split_source(&types, spec.min_value)
        ))?;
        let count = || -> Result<i64> {
            Ok(
                c.query_row(&format!("SELECT count(*) FROM {SPLIT_SRC}"), [], |r| {
                    r.get(0)
                })?,
            )
        };
        if let Some(k) = spec.k_core.filter(|k| *k > 1) {
            // The pass a cluster runs too, until no row goes.
            let mut n = count()?;
            loop {
                c.execute_batch(&format!(
                    "CREATE OR REPLACE TEMP TABLE {SPLIT_SRC}_pass AS {};
                     DROP TABLE temp.{SPLIT_SRC};
                     ALTER TABLE temp.{SPLIT_SRC}_pass RENAME TO {SPLIT_SRC}",
                    dialect::k_core_pass(SPLIT_SRC, k)
                ))?;
                let m = count()?;
                if m == n {
                    break;
                }
                n = m;
            }
        }
        Ok(count()? as u64)
    }

    fn split_source(&self, spec: &SplitSpec) -> Result<Vec<Row>> {
        self.stage_split_source(spec)?;
        // A fixed order, so that the seed alone decides the split.
        let mut stmt = self.connection().prepare(&format!(
            "SELECT user_id, item_id, value, epoch_us(event_time) FROM {SPLIT_SRC}
             ORDER BY user_id, event_time, item_id, value"
        ))?;
        let rows = Row::read_all(&mut stmt)?;
        self.connection()
            .execute_batch(&format!("DROP TABLE IF EXISTS temp.{SPLIT_SRC}"))?;
        Ok(rows)
    }

    /// Replaces the split `name` with the rows `fill` inserts into `split_interactions`, in
    /// one transaction; a split without training rows is refused and nothing changes.
    fn store_split(
        &self,
        name: &str,
        strategy: &str,
        params: String,
        seed: Option<i64>,
        computed_on: Option<&str>,
        fill: &dyn Fn(&duckdb::Connection) -> Result<()>,
    ) -> Result<SplitSummary> {
        let c = self.connection();
        c.execute_batch("BEGIN TRANSACTION")?;
        let r = (|| -> Result<[u64; 3]> {
            c.execute("DELETE FROM split_interactions WHERE split = ?", [name])?;
            c.execute("DELETE FROM splits WHERE name = ?", [name])?;
            fill(c)?;
            let (train, valid, test): (i64, i64, i64) = c.query_row(
                "SELECT count(*) FILTER (WHERE part = 'train'), count(*) FILTER (WHERE part = 'valid'),
                        count(*) FILTER (WHERE part = 'test')
                 FROM split_interactions WHERE split = ?",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            let n = [train, valid, test].map(|v| v as u64);
            if n[0] == 0 {
                return Err(DataError::Split(format!(
                    "the split leaves no training interactions ({} valid, {} test)",
                    n[1], n[2]
                )));
            }
            c.execute(
                "INSERT INTO splits VALUES (?, ?, ?, ?, ?, ?, ?, CAST(now() AS TIMESTAMP), ?)",
                params![
                    name,
                    strategy,
                    params,
                    seed,
                    n[0] as i64,
                    n[1] as i64,
                    n[2] as i64,
                    computed_on
                ],
            )?;
            Ok(n)
        })();
        let [n_train, n_valid, n_test] = match r {
            Ok(n) => {
                c.execute_batch("COMMIT")?;
                n
            }
            Err(e) => {
                let _ = c.execute_batch("ROLLBACK");
                return Err(e);
            }
        };
        Ok(SplitSummary {
            name: name.to_string(),
            strategy: strategy.to_string(),
            params,
            seed,
            n_train,
            n_valid,
            n_test,
            computed_on: computed_on.map(str::to_string),
        })
    }
    /// Stores a split exported by another tool: each file holds (user, item[, rating][, time]) rows.
    pub fn import_split(
        &self,
        name: &str,
        train: &Path,
        valid: Option<&Path>,
        test: &Path,
    ) -> Result<SplitSummary> {
        let mut rows = Vec::new();
        let mut parts = Vec::new();
        for (path, part) in [
            (Some(train), Part::Train),
            (valid, Part::Valid),
            (Some(test), Part::Test),
        ] {
            let Some(path) = path else { continue };
            let opts = ImportOptions {
                kind: Some(Target::Events),
                ..Default::default()
            };
            let (src, mapping) = self.inspect_file(path, &opts)?;
            let staged = self.stage_rows(&src, &mapping)?;
            for r in staged {
                rows.push(r);
                parts.push(part);
            }
        }
        let params = serde_json::json!({"train": train, "valid": valid, "test": test}).to_string();
        self.store_split(name, "imported", params, None, None, &|c| {
            append_rows(c, name, rows.iter().zip(&parts).map(drawn))
        })
    }

    /// Names and sizes of the stored splits.
    pub fn splits(&self) -> Result<Vec<SplitSummary>> {
        let mut stmt = self
            .connection()
            .prepare("SELECT name, strategy, params, seed, n_train, n_valid, n_test, computed_on FROM splits ORDER BY created_at, name")?;
        let rows = stmt
            .query_map([], |r| {
                Ok(SplitSummary {
                    name: r.get(0)?,
                    strategy: r.get(1)?,
                    params: r.get(2)?,
                    seed: r.get(3)?,
                    n_train: r.get::<_, i64>(4)? as u64,
                    n_valid: r.get::<_, i64>(5)? as u64,
                    n_test: r.get::<_, i64>(6)? as u64,
                    computed_on: r.get(7)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }

    /// One part (`train`, `valid`, `test`) of a split as a Polars DataFrame:
    /// user_id, item_id, value, event_time.
    pub fn split_frame(&self, name: &str, part: &str) -> Result<DataFrame> {
        let exists: i64 = self.connection().query_row(
            "SELECT count(*) FROM splits WHERE name = ?",
            [name],
            |r| r.get(0),
        )?;
        if exists == 0 {
            return Err(DataError::NotFound {
                kind: "split",
                name: name.to_string(),
            });
        }
        let sql = format!(
            "SELECT user_id, item_id, value, event_time FROM split_interactions WHERE split = '{}' AND part = '{}'
             ORDER BY user_id, event_time, item_id",
            name.replace('\'', "''"),
            part.replace('\'', "''")
        );
        self.query_frame(&sql)
    }
}

/// Moves every interaction of a seeded `fraction` of the items to the test part.
fn hold_out_items(rows: &[Row], parts: &mut [Part], fraction: f64, seed: u64) -> Result<()> {
    if !(0.0..1.0).contains(&fraction) {
        return Err(DataError::Split(format!(
            "cold items {fraction} is not a fraction in [0, 1)"
        )));
    }
    let mut items: Vec<&str> = rows.iter().map(|r| r.item.as_str()).collect();
    items.sort_unstable();
    items.dedup();
    items.shuffle(&mut ChaCha8Rng::seed_from_u64(seed ^ 0xC01D));
    let n = (fraction * items.len() as f64).round() as usize;
    let cold: std::collections::HashSet<&str> = items[..n].iter().copied().collect();
    for (row, part) in rows.iter().zip(parts.iter_mut()) {
        if cold.contains(row.item.as_str()) {
            *part = Part::Test;
        }
    }
    if parts.iter().all(|p| *p != Part::Train) {
        return Err(DataError::Split(format!(
            "holding out {n} of {} items as cold leaves no training interactions",
            items.len()
        )));
    }
    Ok(())
}

fn assign(rows: &[Row], spec: &SplitSpec) -> Result<Vec<Part>> {
    match spec.strategy {
        Strategy::RandomRatio { train, valid, test } => {
            check_ratios(train, valid, test)?;
            Ok(per_user_ratio(rows, spec.seed, |n| {
                recbole_counts(n, [train, valid, test])
            }))
        }
        Strategy::Stratified { train, valid, test } => {
            check_ratios(train, valid, test)?;
            Ok(per_user_ratio(rows, spec.seed, |n| {
                stratified_counts(n, [train, valid, test])
            }))
        }
        Strategy::Temporal { valid, test } => {
            check_ratios(1.0 - valid - test, valid, test)?;
            Ok(temporal(rows, valid, test))
        }
        Strategy::KFold { folds, fold } => k_fold(rows, spec.seed, folds, fold),
        // Computed in SQL where the rows are (`create_split`).
        Strategy::Hashed { .. } => Err(DataError::Split(
            "a hashed split is computed in SQL, not drawn".into(),
        )),
        Strategy::LeaveLastOut { valid, test } => leave_last_out(rows, valid, test),
    }
}

/// The rows of each user: users are contiguous in `rows` (ordered by user, then time).
fn user_groups(rows: &[Row]) -> Vec<std::ops::Range<usize>> {
    let mut groups = Vec::new();
    let mut start = 0;
    for i in 1..=rows.len() {
        if i == rows.len() || rows[i].user != rows[start].user {
            groups.push(start..i);
            start = i;
        }
    }
    groups
}

/// The part of position `k` when the first `n_train` positions train and the next
/// `n_valid` validate.
fn part_of(k: usize, n_train: usize, n_valid: usize) -> Part {
    if k < n_train {
        Part::Train
    } else if k < n_train + n_valid {
        Part::Valid
    } else {
        Part::Test
    }
}

/// Per user, shuffled by the user's seed, cut at the counts `counts(n)` gives for n rows.
fn per_user_ratio(rows: &[Row], seed: u64, counts: impl Fn(usize) -> [usize; 3]) -> Vec<Part> {
    let mut parts = vec![Part::Train; rows.len()];
    for g in user_groups(rows) {
        let mut idx: Vec<usize> = g.clone().collect();
        let mut rng = ChaCha8Rng::seed_from_u64(user_seed(seed, &rows[g.start].user));
        idx.shuffle(&mut rng);
        let cnt = counts(idx.len());
        for (k, i) in idx.into_iter().enumerate() {
            parts[i] = part_of(k, cnt[0], cnt[1]);
        }
    }
    parts
}

/// One global time cutoff: the last `test` fraction by time, `valid` before it.
fn temporal(rows: &[Row], valid: f64, test: f64) -> Vec<Part> {
    let mut parts = vec![Part::Train; rows.len()];
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| {
        (rows[a].time, &rows[a].user, &rows[a].item).cmp(&(
            rows[b].time,
            &rows[b].user,
            &rows[b].item,
        ))
    });
    let n = rows.len();
    let n_test = (test * n as f64).round() as usize;
    let n_valid = (valid * n as f64).round() as usize;
    for (k, i) in order.into_iter().enumerate() {
        parts[i] = last_parts(k, n, n_valid, n_test);
    }
    parts
}

/// The part of position `k` of `n` when the last `n_test` positions test and the
/// `n_valid` before them validate.
fn last_parts(k: usize, n: usize, n_valid: usize, n_test: usize) -> Part {
    if k >= n - n_test {
        Part::Test
    } else if k >= n - n_test - n_valid {
        Part::Valid
    } else {
        Part::Train
    }
}

/// Surprise's `KFold`: all rows shuffled once by the seed; fold `fold` is the test part.
fn k_fold(rows: &[Row], seed: u64, folds: u32, fold: u32) -> Result<Vec<Part>> {
    if folds < 2 || fold >= folds {
        return Err(DataError::Split(format!(
            "k-fold needs at least 2 folds and a fold below them (got fold {fold} of {folds})"
        )));
    }
    let mut parts = vec![Part::Train; rows.len()];
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    // Surprise's cut: fold f holds n/k rows, one more for the first n mod k folds.
    let (n, k) = (rows.len(), folds as usize);
    let start = |f: usize| f * (n / k) + f.min(n % k);
    let f = fold as usize;
    for &i in &order[start(f)..start(f + 1)] {
        parts[i] = Part::Test;
    }
    Ok(parts)
}

/// Per user, the last `test` interactions by time, and the `valid` before them.
fn leave_last_out(rows: &[Row], valid: u32, test: u32) -> Result<Vec<Part>> {
    if test == 0 {
        return Err(DataError::Split(
            "leave-last-out needs at least one test interaction per user".into(),
        ));
    }
    let mut parts = vec![Part::Train; rows.len()];
    for g in user_groups(rows) {
        let n = g.len();
        // Rows of a user are in time order; keep at least one for training.
        let n_test = (test as usize).min(n.saturating_sub(1));
        let n_valid = (valid as usize).min(n.saturating_sub(1 + n_test));
        for (k, i) in g.enumerate() {
            parts[i] = last_parts(k, n, n_valid, n_test);
        }
    }
    Ok(parts)
}
