//! Session simulation and the REES46-shaped event writer.

use std::io::{self, Write};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1, Poisson};

use crate::fmt::{self, Chunked};
use crate::{
    EMBED_DIM, EVENTS_HEADER, EventCounts, MIN_PRICE, STREAM_EVENTS, World, dot, mnl_in_place,
    sample_cdf,
};

/// Distinct items viewed per session: 1 + Poisson(EXTRA_VIEWS_MEAN), capped.
const EXTRA_VIEWS_MEAN: f64 = 2.2;
const MAX_SLATE: usize = 12;
/// Strength of user/category affinity when choosing a session's category.
const CATEGORY_AFFINITY: f64 = 1.5;
/// Scale of the Gumbel noise added to affinity when ranking candidates.
const AFFINITY_NOISE: f64 = 0.8;
/// Probability that a viewed item is viewed a second time.
const REVIEW_PROB: f64 = 0.12;
/// Probability that the item about to be bought is put in the cart first.
const CART_BEFORE_PURCHASE: f64 = 0.9;
/// A viewed-but-not-bought item is carted with probability min(MAX, SCALE * p_j).
const BROWSE_CART_SCALE: f64 = 2.5;
const BROWSE_CART_MAX: f64 = 0.5;
/// Probability that a browse cart is removed later in the session.
const REMOVE_PROB: f64 = 0.35;
/// Seconds between consecutive events: MIN_GAP + Exp(mean MEAN_GAP).
const MIN_GAP_S: u32 = 2;
const MEAN_GAP_S: f64 = 40.0;
/// Relative traffic per hour of day (UTC).
const HOURLY: [f64; 24] = [
    0.3, 0.2, 0.15, 0.1, 0.1, 0.15, 0.3, 0.5, 0.8, 1.0, 1.1, 1.2, 1.2, 1.15, 1.1, 1.1, 1.15, 1.25,
    1.4, 1.6, 1.7, 1.5, 1.0, 0.6,
];
const DAY_S: u32 = 86_400;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    View,
    Cart,
    Purchase,
    Remove,
}

impl Kind {
    fn as_bytes(self) -> &'static [u8] {
        match self {
            Kind::View => b"view,",
            Kind::Cart => b"cart,",
            Kind::Purchase => b"purchase,",
            Kind::Remove => b"remove_from_cart,",
        }
    }
}

#[derive(Clone, Copy)]
struct Ev {
    session: u128,
    /// Seconds since the start of day 0.
    time: u32,
    user_id: u64,
    item: u32,
    cents: u32,
    kind: Kind,
}

/// Everything a session needs about a user, in one cache line (the user
/// table is large and accessed at random).
#[derive(Clone, Copy)]
#[repr(align(64))]
struct UserHot {
    emb: [f32; EMBED_DIM],
    mult: f64,
    user_id: u64,
    /// Walker/Vose alias entry for activity-weighted sampling.
    keep: f64,
    alias: u32,
}

/// Per-item data used when scoring and choosing.
#[derive(Clone, Copy)]
struct ItemHot {
    emb: [f32; EMBED_DIM],
    appeal: f64,
    elasticity: f64,
}

fn to_array(v: &[f32]) -> [f32; EMBED_DIM] {
    let mut a = [0.0; EMBED_DIM];
    for (x, y) in a.iter_mut().zip(v) {
        *x = *y;
    }
    a
}

struct Sim<'w> {
    world: &'w World,
    rng: ChaCha8Rng,
    users: Vec<UserHot>,
    items: Vec<ItemHot>,
    hour_cdf: Vec<f64>,
    extra_views: Poisson<f64>,
    cat_w: Vec<f64>,
    cand: Vec<u32>,
    scored: Vec<(f64, u32)>,
    probs: Vec<f64>,
    carted: Vec<(u32, u32)>,
}

/// Vose's alias method: O(1) sampling proportional to `w` (non-empty, positive sum).
fn alias_table(w: &[f64]) -> Vec<(f64, u32)> {
    let n = w.len();
    let total: f64 = w.iter().sum();
    let mut p: Vec<f64> = w.iter().map(|x| x * n as f64 / total).collect();
    let mut table = vec![(1.0, 0u32); n];
    let (mut small, mut large): (Vec<u32>, Vec<u32>) =
        (0..n as u32).partition(|&i| p[i as usize] < 1.0);
    while let (Some(s), Some(&l)) = (small.pop(), large.last()) {
        table[s as usize] = (p[s as usize], l);
        p[l as usize] += p[s as usize] - 1.0;
        if p[l as usize] < 1.0 {
            large.pop();
            small.push(l);
        }
    }
    // Leftovers (numerical slack) keep themselves with probability 1.
    for i in small.into_iter().chain(large) {
        table[i as usize] = (1.0, i);
    }
    table
}

fn gap(rng: &mut ChaCha8Rng) -> u32 {
    let e: f64 = Exp1.sample(rng);
    MIN_GAP_S + (e * MEAN_GAP_S).min(3_600.0) as u32
}

fn gumbel(rng: &mut ChaCha8Rng) -> f64 {
    let u = rng.random::<f64>().clamp(1e-12, 1.0 - 1e-12);
    -(-u.ln()).ln()
}

impl<'w> Sim<'w> {
    fn new(world: &'w World) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(world.config.seed);
        rng.set_stream(STREAM_EVENTS);
        let activity: Vec<f64> = world.users.iter().map(|u| u.activity).collect();
        let users = world
            .users
            .iter()
            .zip(alias_table(&activity))
            .map(|(u, (keep, alias))| UserHot {
                emb: to_array(&u.embedding),
                mult: u.price_sensitivity_mult,
                user_id: u.user_id,
                keep,
                alias,
            })
            .collect();
        let items = world
            .items
            .iter()
            .map(|it| ItemHot {
                emb: to_array(&it.embedding),
                appeal: it.appeal,
                elasticity: world.categories[it.category].elasticity,
            })
            .collect();
        let mut acc = 0.0;
        let hour_cdf = HOURLY
            .iter()
            .map(|h| {
                acc += h;
                acc
            })
            .collect();
        Self {
            world,
            rng,
            users,
            items,
            hour_cdf,
            extra_views: Poisson::new(EXTRA_VIEWS_MEAN).expect("valid lambda"),
            cat_w: Vec::new(),
            cand: Vec::new(),
            scored: Vec::new(),
            probs: Vec::new(),
            carted: Vec::new(),
        }
    }

    /// Simulate one session starting on `day`, appending its events to `out`.
    fn session(&mut self, day: u32, out: &mut Vec<Ev>) {
        let Sim {
            world,
            rng,
            users,
            items,
            hour_cdf,
            extra_views,
            cat_w,
            cand,
            scored,
            probs,
            carted,
        } = self;
        let world: &World = world;

        let user = {
            let i = rng.random_range(0..users.len());
            let u = &users[i];
            if rng.random::<f64>() < u.keep {
                i
            } else {
                u.alias as usize
            }
        };
        let uh = &users[user];
        let hour = sample_cdf(rng, hour_cdf) as u32;
        let mut t = day * DAY_S + hour * 3_600 + rng.random_range(0..3_600u32);
        let mut session: u128 = rng.random();
        // UUID version 4, RFC 4122 variant.
        session = (session & !(0xF << 76)) | (0x4 << 76);
        session = (session & !(0x3 << 62)) | (0x2 << 62);
        let ue = &uh.emb[..];

        // Category: popularity x affinity.
        cat_w.clear();
        let mut acc = 0.0;
        for &c in &world.active_categories {
            let cat = &world.categories[c];
            acc += cat.popularity * (CATEGORY_AFFINITY * dot(ue, &cat.embedding)).exp();
            cat_w.push(acc);
        }
        let cat = world.active_categories[sample_cdf(rng, cat_w)];
        let pool = &world.cat_items[cat];
        let pool_cdf = &world.cat_view_cdf[cat];

        // Slate: popular candidates re-ranked by noisy affinity.
        let want = (1 + extra_views.sample(rng) as usize)
            .min(MAX_SLATE)
            .min(pool.len());
        cand.clear();
        for _ in 0..(2 * want + 2) {
            let it = pool[sample_cdf(rng, pool_cdf)];
            if !cand.contains(&it) {
                cand.push(it);
            }
        }
        scored.clear();
        for &it in cand.iter() {
            let s = dot(ue, &items[it as usize].emb) + AFFINITY_NOISE * gumbel(rng);
            scored.push((s, it));
        }
        scored.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.truncate(want);

        // One MNL draw over the viewed items at today's prices.
        probs.clear();
        for &(_, it) in scored.iter() {
            let price = f64::from(world.daily_cents(it as usize, day)) / 100.0;
            // Same arithmetic as `World::utility`.
            let ih = &items[it as usize];
            probs.push(
                ih.appeal + dot(ue, &ih.emb) - ih.elasticity * uh.mult * price.max(MIN_PRICE).ln(),
            );
        }
        mnl_in_place(probs);
        let r: f64 = rng.random();
        let mut chosen = None;
        let mut acc = 0.0;
        for (j, p) in probs.iter().enumerate() {
            acc += p;
            if r < acc {
                chosen = Some(j);
                break;
            }
        }

        // Timeline.
        let user_id = uh.user_id;
        let mut push = |kind: Kind, item: u32, cents: u32, t: &mut u32, rng: &mut ChaCha8Rng| {
            out.push(Ev {
                session,
                time: *t,
                item,
                user_id,
                cents,
                kind,
            });
            *t += gap(rng);
        };
        carted.clear();
        for (j, &(_, it)) in scored.iter().enumerate() {
            let cents = world.daily_cents(it as usize, day);
            push(Kind::View, it, cents, &mut t, rng);
            if rng.random::<f64>() < REVIEW_PROB {
                push(Kind::View, it, cents, &mut t, rng);
            }
            if chosen == Some(j) {
                if rng.random::<f64>() < CART_BEFORE_PURCHASE {
                    push(Kind::Cart, it, cents, &mut t, rng);
                }
            } else if rng.random::<f64>() < (BROWSE_CART_SCALE * probs[j]).min(BROWSE_CART_MAX) {
                push(Kind::Cart, it, cents, &mut t, rng);
                carted.push((it, cents));
            }
        }
        for &(it, cents) in carted.iter() {
            if rng.random::<f64>() < REMOVE_PROB {
                push(Kind::Remove, it, cents, &mut t, rng);
            }
        }
        if let Some(j) = chosen {
            let it = scored[j].1;
            push(
                Kind::Purchase,
                it,
                world.daily_cents(it as usize, day),
                &mut t,
                rng,
            );
        }
    }
}

pub(crate) fn write_events<W: Write>(
    world: &World,
    out: W,
    max_events: Option<u64>,
) -> io::Result<EventCounts> {
    let mut w = Chunked::new(out);
    w.buf.extend_from_slice(EVENTS_HEADER.as_bytes());
    w.buf.push(b'\n');
    let mut counts = EventCounts::default();
    let max = max_events.unwrap_or(u64::MAX);
    let cfg = &world.config;
    let lambda = cfg.n_users as f64 * cfg.sessions_per_user_per_day;
    if max == 0 || cfg.days == 0 || world.active_categories.is_empty() || lambda <= 0.0 {
        w.finish()?;
        return Ok(counts);
    }
    let n_sessions = Poisson::new(lambda).expect("positive finite lambda");

    // Per-item constant middle of the row: "product_id,category_id,code,brand,".
    let mut prefix = Vec::new();
    let mut prefix_at = Vec::with_capacity(world.items.len() + 1);
    prefix_at.push(0);
    for item in &world.items {
        let cat = &world.categories[item.category];
        fmt::push_u64(&mut prefix, item.item_id);
        prefix.push(b',');
        fmt::push_u64(&mut prefix, cat.category_id);
        prefix.push(b',');
        fmt::push_csv_field(&mut prefix, &cat.code);
        prefix.push(b',');
        fmt::push_csv_field(&mut prefix, &item.brand);
        prefix.push(b',');
        prefix_at.push(prefix.len());
    }
    let mut dates: Vec<Vec<u8>> = (0..=cfg.days + 1)
        .map(|d| fmt::date_prefix(cfg.start, d))
        .collect();

    let mut sim = Sim::new(world);
    let mut buf: Vec<Ev> = Vec::new();
    let mut carry: Vec<Ev> = Vec::new();
    let mut keys: Vec<u64> = Vec::new();
    let mut written = 0u64;
    'days: for day in 0..cfg.days {
        let n: f64 = n_sessions.sample(&mut sim.rng);
        for _ in 0..n as u64 {
            sim.session(day, &mut buf);
        }
        // Sort (time, index) keys rather than the events themselves: the index
        // tie-break makes this equivalent to a stable sort, so carried-over
        // events (earlier sessions) stay ahead on ties and events within a
        // session keep their order (their times increase).
        assert!(
            buf.len() <= u32::MAX as usize,
            "more than 2^32 events on one day"
        );
        keys.clear();
        keys.extend(
            buf.iter()
                .enumerate()
                .map(|(i, e)| (u64::from(e.time) << 32) | i as u64),
        );
        keys.sort_unstable();
        let split = if day + 1 == cfg.days {
            keys.len()
        } else {
            keys.partition_point(|&k| k >> 32 < u64::from((day + 1) * DAY_S))
        };
        for &k in &keys[..split] {
            if written == max {
                break 'days;
            }
            let e = &buf[(k & 0xFFFF_FFFF) as usize];
            let d = (e.time / DAY_S) as usize;
            while dates.len() <= d {
                dates.push(fmt::date_prefix(cfg.start, dates.len() as u32));
            }
            let s = e.time % DAY_S;
            let b = &mut w.buf;
            b.extend_from_slice(&dates[d]);
            fmt::push_2d(b, s / 3_600);
            b.push(b':');
            fmt::push_2d(b, s / 60 % 60);
            b.push(b':');
            fmt::push_2d(b, s % 60);
            b.extend_from_slice(b" UTC,");
            b.extend_from_slice(e.kind.as_bytes());
            let item = e.item as usize;
            b.extend_from_slice(&prefix[prefix_at[item]..prefix_at[item + 1]]);
            fmt::push_cents(b, u64::from(e.cents));
            b.push(b',');
            fmt::push_u64(b, e.user_id);
            b.push(b',');
            fmt::push_uuid(b, e.session);
            b.push(b'\n');
            match e.kind {
                Kind::View => counts.view += 1,
                Kind::Cart => counts.cart += 1,
                Kind::Purchase => counts.purchase += 1,
                Kind::Remove => counts.remove_from_cart += 1,
            }
            written += 1;
            w.maybe_flush()?;
        }
        carry.clear();
        carry.extend(
            keys[split..]
                .iter()
                .map(|&k| buf[(k & 0xFFFF_FFFF) as usize]),
        );
        std::mem::swap(&mut buf, &mut carry);
    }
    w.finish()?;
    Ok(counts)
}

/// One simulated session as the shop logged it: the shopper, the day, the items viewed at
/// their prices (in view order, each once), and the item bought (if any).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionLog {
    /// Index into [`World::users`].
    pub user: usize,
    pub day: u32,
    /// (index into [`World::items`], price shown).
    pub views: Vec<(usize, f64)>,
    /// Index into [`World::items`].
    pub purchase: Option<usize>,
}

/// Every session of the world's log, in simulation order, without writing CSV: the same
/// sessions [`write_events`] writes (same randomness), for experiments that need millions
/// of them.
pub(crate) fn for_each_session(world: &World, on: &mut dyn FnMut(&SessionLog)) {
    let cfg = &world.config;
    let lambda = cfg.n_users as f64 * cfg.sessions_per_user_per_day;
    if cfg.days == 0 || world.active_categories.is_empty() || lambda <= 0.0 {
        return;
    }
    let n_sessions = Poisson::new(lambda).expect("positive finite lambda");
    let user_index: std::collections::HashMap<u64, usize> = world
        .users
        .iter()
        .enumerate()
        .map(|(i, u)| (u.user_id, i))
        .collect();
    let mut sim = Sim::new(world);
    let mut buf: Vec<Ev> = Vec::new();
    let mut log = SessionLog {
        user: 0,
        day: 0,
        views: Vec::new(),
        purchase: None,
    };
    for day in 0..cfg.days {
        let n: f64 = n_sessions.sample(&mut sim.rng);
        for _ in 0..n as u64 {
            buf.clear();
            sim.session(day, &mut buf);
            let Some(first) = buf.first() else { continue };
            log.user = user_index[&first.user_id];
            log.day = day;
            log.views.clear();
            log.purchase = None;
            for e in &buf {
                let item = e.item as usize;
                match e.kind {
                    Kind::View if !log.views.iter().any(|v| v.0 == item) => {
                        log.views.push((item, f64::from(e.cents) / 100.0));
                    }
                    Kind::Purchase => log.purchase = Some(item),
                    _ => {}
                }
            }
            on(&log);
        }
    }
}
