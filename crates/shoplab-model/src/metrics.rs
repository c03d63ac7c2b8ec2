//! Evaluation: top-K by full ranking over all items (a user's train items excluded), and
//! rating error. Per-user values are kept so two runs can be compared pairwise.

use crate::dataset::{Dataset, Interaction};
use crate::error::Result;
use crate::models::Recommender;

/// Mean top-K metrics over the users with at least one relevant item.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct RankingMetrics {
    pub k: usize,
    pub users: usize,
    pub precision: f64,
    pub recall: f64,
    pub ndcg: f64,
    pub mrr: f64,
    pub hit: f64,
    pub map: f64,
    /// Share of the catalog that appears in some user's top K.
    pub coverage: f64,
    /// Mean train popularity (interactions) of the recommended items.
    pub avg_popularity: f64,
}

/// Metrics of one evaluation: named means, and per-user values (user index, metric, value).
#[derive(Debug, Clone, Default)]
pub struct Evaluation {
    pub metrics: Vec<(String, f64)>,
    pub per_user: Vec<(u32, String, f64)>,
}

impl Evaluation {
    pub fn get(&self, name: &str) -> Option<f64> {
        self.metrics
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| *v)
    }

    fn extend(&mut self, other: Evaluation) {
        self.metrics.extend(other.metrics);
        self.per_user.extend(other.per_user);
    }
}

/// Users scored per call of the model: bounds memory to `CHUNK × items` scores.
const CHUNK: usize = 256;

/// The top `k` items of one user's scores, best first (ties: lower index first), with the
/// `seen` items (sorted) left out.
pub fn top_k(scores: &[f32], seen: &[u32], k: usize) -> Vec<u32> {
    top_k_among(scores, seen, None, k)
}

/// [`top_k`] over the items `allowed` marks (all when `None`).
fn top_k_among(scores: &[f32], seen: &[u32], allowed: Option<&[bool]>, k: usize) -> Vec<u32> {
    let mut idx: Vec<u32> = (0..scores.len() as u32)
        .filter(|&i| allowed.is_none_or(|a| a[i as usize]) && seen.binary_search(&i).is_err())
        .collect();
    let better = |a: &u32, b: &u32| {
        let (sa, sb) = (scores[*a as usize], scores[*b as usize]);
        sb.total_cmp(&sa).then(a.cmp(b))
    };
    if idx.len() > k {
        idx.select_nth_unstable_by(k, better);
        idx.truncate(k);
    }
    idx.sort_unstable_by(better);
    idx
}

/// One user's ranking values, in the order of [`RANKING_NAMES`].
pub type UserRanking = (u32, [f64; 6]);

/// Top-K metrics of `model` against `relevant` items per user, ranking the items
/// `candidates` marks (all items when `None`); coverage is a share of the candidates.
pub fn ranking(
    model: &dyn Recommender,
    ds: &Dataset,
    relevant: &[Vec<u32>],
    candidates: Option<&[bool]>,
    k: usize,
) -> Result<(RankingMetrics, Vec<UserRanking>)> {
    let users: Vec<u32> = (0..ds.n_users() as u32)
        .filter(|&u| !relevant[u as usize].is_empty())
        .collect();
    let n_items = ds.n_items();
    let mut recommended = vec![false; n_items];
    let mut pop_sum = 0.0;
    let mut rec_count = 0usize;
    let mut per_user = Vec::with_capacity(users.len());
    let discounts: Vec<f64> = (0..k).map(|r| 1.0 / ((r + 2) as f64).log2()).collect();
    for chunk in users.chunks(CHUNK) {
        let scores = model.score_users(chunk)?;
        for (row, &u) in chunk.iter().enumerate() {
            let s = &scores[row * n_items..(row + 1) * n_items];
            let top = top_k_among(s, &ds.seen[u as usize], candidates, k);
            let rel = &relevant[u as usize];
            let (mut hits, mut dcg, mut first, mut ap) = (0usize, 0.0, 0.0, 0.0);
            for (r, &i) in top.iter().enumerate() {
                recommended[i as usize] = true;
                pop_sum += f64::from(ds.item_counts[i as usize]);
                rec_count += 1;
                if rel.binary_search(&i).is_ok() {
                    hits += 1;
                    dcg += discounts[r];
                    if first == 0.0 {
                        first = 1.0 / (r + 1) as f64;
                    }
                    ap += hits as f64 / (r + 1) as f64;
                }
            }
            let ideal: f64 = discounts[..rel.len().min(k)].iter().sum();
            per_user.push((
                u,
                [
                    hits as f64 / k as f64,
                    hits as f64 / rel.len() as f64,
                    dcg / ideal,
                    first,
                    f64::from(u8::from(hits > 0)),
                    ap / rel.len().min(k) as f64,
                ],
            ));
        }
    }
    let n = per_user.len().max(1) as f64;
    let mean = |j: usize| per_user.iter().map(|(_, v)| v[j]).sum::<f64>() / n;
    let m = RankingMetrics {
        k,
        users: per_user.len(),
        precision: mean(0),
        recall: mean(1),
        ndcg: mean(2),
        mrr: mean(3),
        hit: mean(4),
        map: mean(5),
        coverage: recommended.iter().filter(|&&r| r).count() as f64
            / candidates
                .map_or(n_items, |c| c.iter().filter(|&&c| c).count())
                .max(1) as f64,
        avg_popularity: pop_sum / rec_count.max(1) as f64,
    };
    Ok((m, per_user))
}

/// Names of the per-user ranking values, in the order [`ranking`] returns them.
pub const RANKING_NAMES: [&str; 6] = ["precision", "recall", "ndcg", "mrr", "hit", "map"];

/// Ranking metrics as an [`Evaluation`] (`ndcg@10`, …, `coverage@10`, `avg_popularity@10`).
///
/// When `part` has items unseen in training (new arrivals, e.g. a split's `cold_items`), a
/// cold-start slice follows: each user with such items ranks the unseen items only
/// (`cold_ndcg@10`, `cold_recall@10`, …, over `cold_users@10` users). A model that knows
/// items only by their interactions ranks them at chance; one that reads their text need
/// not.
pub fn ranking_evaluation(
    model: &dyn Recommender,
    ds: &Dataset,
    part: &[Interaction],
    k: usize,
) -> Result<(RankingMetrics, Evaluation)> {
    let relevant = ds.relevant(part);
    let (m, per_user) = ranking(model, ds, &relevant, None, k)?;
    let mut ev = Evaluation::default();
    push_ranking(&mut ev, "", &m, per_user);
    let cold: Vec<bool> = ds.item_counts.iter().map(|&c| c == 0).collect();
    if part.iter().any(|x| cold[x.item as usize]) {
        let relevant: Vec<Vec<u32>> = relevant
            .into_iter()
            .map(|r| r.into_iter().filter(|&i| cold[i as usize]).collect())
            .collect();
        let (c, per_user) = ranking(model, ds, &relevant, Some(&cold), k)?;
        push_ranking(&mut ev, "cold_", &c, per_user);
        ev.metrics.push((format!("cold_users@{k}"), c.users as f64));
    }
    Ok((m, ev))
}

fn push_ranking(ev: &mut Evaluation, prefix: &str, m: &RankingMetrics, per_user: Vec<UserRanking>) {
    let k = m.k;
    let means = [m.precision, m.recall, m.ndcg, m.mrr, m.hit, m.map];
    for (name, v) in RANKING_NAMES.iter().zip(means) {
        ev.metrics.push((format!("{prefix}{name}@{k}"), v));
    }
    ev.metrics
        .push((format!("{prefix}coverage@{k}"), m.coverage));
    if prefix.is_empty() {
        ev.metrics
            .push((format!("avg_popularity@{k}"), m.avg_popularity));
    }
    for (u, vals) in per_user {
        for (name, v) in RANKING_NAMES.iter().zip(vals) {
            ev.per_user.push((u, format!("{prefix}{name}@{k}"), v));
        }
    }
}

/// RMSE and MAE of predicted values on `part`, with per-user RMSE.
pub fn rating_evaluation(
    model: &dyn Recommender,
    ds: &Dataset,
    part: &[Interaction],
) -> Result<Option<Evaluation>> {
    let pairs: Vec<(u32, u32)> = part.iter().map(|x| (x.user, x.item)).collect();
    let Some(pred) = model.predict(&pairs)? else {
        return Ok(None);
    };
    let mut se = vec![(0.0f64, 0usize); ds.n_users()];
    let (mut sq, mut abs) = (0.0f64, 0.0f64);
    for (x, p) in part.iter().zip(&pred) {
        let e = f64::from(*p) - f64::from(x.value);
        sq += e * e;
        abs += e.abs();
        let s = &mut se[x.user as usize];
        s.0 += e * e;
        s.1 += 1;
    }
    let n = part.len().max(1) as f64;
    let mut ev = Evaluation {
        metrics: vec![("rmse".into(), (sq / n).sqrt()), ("mae".into(), abs / n)],
        per_user: Vec::new(),
    };
    for (u, (s, c)) in se.iter().enumerate() {
        if *c > 0 {
            ev.per_user
                .push((u as u32, "rmse".into(), (s / *c as f64).sqrt()));
        }
    }
    Ok(Some(ev))
}

/// Everything that applies to `model` on `part`: rating error when it predicts values,
/// top-K ranking always.
pub fn evaluate(
    model: &dyn Recommender,
    ds: &Dataset,
    part: &[Interaction],
    k: usize,
) -> Result<Evaluation> {
    let mut ev = rating_evaluation(model, ds, part)?.unwrap_or_default();
    ev.extend(ranking_evaluation(model, ds, part, k)?.1);
    Ok(ev)
}

/// The cross-entropy of probability `p` for a 0/1 label, `p` kept off 0 and 1.
pub fn log_loss(p: f64, y: f32) -> f64 {
    let p = p.clamp(1e-7, 1.0 - 1e-7);
    if y > 0.5 { -p.ln() } else { -(1.0 - p).ln() }
}

/// Binary predictions against 0/1 labels: AUC (the probability that a random positive is
/// scored above a random negative, ties counting half), mean log loss, and the log loss of
/// always predicting `base_rate` (the train rate).
pub fn binary(probs: &[f32], labels: &[f32], base_rate: f64) -> Evaluation {
    let mut order: Vec<usize> = (0..labels.len()).collect();
    order.sort_by(|&a, &b| probs[a].total_cmp(&probs[b]));
    // Rank sum of the positives, with average ranks for ties.
    let (mut rank_sum, mut k) = (0.0f64, 0usize);
    while k < order.len() {
        let mut j = k;
        while j + 1 < order.len() && probs[order[j + 1]] == probs[order[k]] {
            j += 1;
        }
        let avg = (k + j) as f64 / 2.0 + 1.0;
        for &o in &order[k..=j] {
            if labels[o] > 0.5 {
                rank_sum += avg;
            }
        }
        k = j + 1;
    }
    let pos = labels.iter().filter(|&&y| y > 0.5).count() as f64;
    let neg = labels.len() as f64 - pos;
    let auc = (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg).max(1.0);
    let n = labels.len().max(1) as f64;
    let logloss = labels
        .iter()
        .zip(probs)
        .map(|(y, p)| log_loss(f64::from(*p), *y))
        .sum::<f64>()
        / n;
    let base = labels.iter().map(|y| log_loss(base_rate, *y)).sum::<f64>() / n;
    Evaluation {
        metrics: vec![
            ("auc".into(), auc),
            ("logloss".into(), logloss),
            ("logloss_base_rate".into(), base),
        ],
        per_user: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_skips_seen_and_breaks_ties_by_index() {
        let scores = [0.5, 0.9, 0.9, 0.1, 0.7];
        assert_eq!(top_k(&scores, &[1], 3), vec![2, 4, 0]);
        assert_eq!(top_k(&scores, &[], 10), vec![1, 2, 4, 0, 3]);
    }
}
