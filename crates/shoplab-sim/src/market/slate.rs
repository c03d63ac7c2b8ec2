//! The slate a session is shown: items of its category available today, chosen by the
//! policy's recommender.

use rand::seq::index::sample;

use crate::env::Environment;
use crate::scenario::Recommend;

use super::run::{Plan, Run};

/// The day's shelf: per category the items available today, and the same in the
/// popularity order (sales so far, then appeal), fixed for the day.
pub(super) struct Shelf {
    pub(super) available: Vec<Vec<usize>>,
    by_sales: Vec<Vec<usize>>,
}

impl Shelf {
    pub(super) fn new(env: &Environment, in_stock: &[bool], sold: &[u64]) -> Self {
        let mut available: Vec<Vec<usize>> = vec![Vec::new(); env.categories.len()];
        for i in (0..env.items.len()).filter(|&i| in_stock[i]) {
            available[env.items[i].category].push(i);
        }
        let by_sales = available
            .iter()
            .map(|items| {
                let mut v = items.clone();
                v.sort_by(|&a, &b| {
                    sold[b]
                        .cmp(&sold[a])
                        .then(env.items[b].appeal.total_cmp(&env.items[a].appeal))
                });
                v
            })
            .collect();
        Shelf {
            available,
            by_sales,
        }
    }
}

/// Buffers reused from one session to the next.
#[derive(Default)]
pub(super) struct SlateBuffers {
    /// The 8-bit query of the affinity scan.
    query: Vec<i8>,
    scored: Vec<(f64, usize)>,
}

impl Run<'_> {
    /// The slate shopper `u`, in category `cat`, is shown today: at most the scenario's
    /// slate size of the category's items still in stock.
    pub(super) fn slate(
        &mut self,
        u: usize,
        cat: usize,
        today: &Plan,
        buf: &mut SlateBuffers,
    ) -> Vec<usize> {
        let m = self.market;
        let env = &m.env;
        let n = env.items.len();
        let (c, prices) = (&today.conditions, &today.offer.prices);
        let stock = &self.stock;
        let open = |i: usize| stock.is_open(i);
        let items = &today.shelf.available[cat];
        let k = m.scenario.slate.min(items.len());
        match self.spec.recommend {
            Recommend::Popularity => today.shelf.by_sales[cat]
                .iter()
                .copied()
                .filter(|&i| open(i))
                .take(k)
                .collect(),
            Recommend::Random => sample(&mut self.own, items.len(), k)
                .into_iter()
                .map(|j| items[j])
                .filter(|&i| open(i))
                .collect(),
            Recommend::Affinity => {
                let (index, ids) = &m.affinity[cat];
                index
                    .top_k(
                        &env.users[u].embedding,
                        k,
                        &|j| !c.in_stock[ids[j]] || !open(ids[j]),
                        &mut buf.query,
                    )
                    .into_iter()
                    .map(|j| ids[j as usize])
                    .collect()
            }
            Recommend::ExpectedMargin => top(items, &open, k, &mut buf.scored, &|i| {
                let e = m.utility(Some(u), i, prices[i], c).exp();
                (prices[i] - env.items[i].cost) * e / (1.0 + e)
            }),
            Recommend::Run(_) => {
                let model = today.model.expect("checked by Market::specs");
                top(items, &open, k, &mut buf.scored, &|i| {
                    f64::from(model.scores[u * n + i])
                })
            }
            Recommend::ExpectedRevenue(_) => {
                let model = today.model.expect("checked by Market::specs");
                top(items, &open, k, &mut buf.scored, &|i| {
                    prices[i] * model.purchase_probability(u * n, i, prices[i])
                })
            }
        }
    }
}

/// The `k` open items of `items` with the highest `score` (ties: the lower item number).
fn top(
    items: &[usize],
    open: &dyn Fn(usize) -> bool,
    k: usize,
    scored: &mut Vec<(f64, usize)>,
    score: &dyn Fn(usize) -> f64,
) -> Vec<usize> {
    scored.clear();
    scored.extend(items.iter().filter(|&&i| open(i)).map(|&i| (score(i), i)));
    let k = k.min(scored.len());
    if k > 0 {
        scored.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    }
    scored[..k].iter().map(|s| s.1).collect()
}
