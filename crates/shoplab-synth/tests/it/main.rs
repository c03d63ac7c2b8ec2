//! Integration tests for shoplab-synth.

use std::collections::HashMap;
use std::sync::OnceLock;

use shoplab_synth::{CATALOG_HEADER, EVENTS_HEADER, EventCounts, World, WorldConfig};

const HEADER: &str =
    "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session";

fn small_config(seed: u64) -> WorldConfig {
    WorldConfig {
        seed,
        n_users: 300,
        n_items: 120,
        n_categories: 6,
        n_brands: 25,
        days: 5,
        sessions_per_user_per_day: 0.5,
        start: (2019, 10, 1),
    }
}

fn events_bytes(world: &World, max: Option<u64>) -> (Vec<u8>, EventCounts) {
    let mut out = Vec::new();
    let counts = world.write_events_csv(&mut out, max).unwrap();
    (out, counts)
}

struct Demo {
    world: World,
    csv: String,
    counts: EventCounts,
}

/// The demo world and its event log, generated once per test binary.
/// Item id → position in the world's catalog.
fn item_positions(d: &Demo) -> HashMap<u64, usize> {
    d.world
        .items
        .iter()
        .enumerate()
        .map(|(i, it)| (it.item_id, i))
        .collect()
}

fn demo() -> &'static Demo {
    static DEMO: OnceLock<Demo> = OnceLock::new();
    DEMO.get_or_init(|| {
        let world = World::generate(&WorldConfig::demo());
        let (bytes, counts) = events_bytes(&world, None);
        Demo {
            world,
            csv: String::from_utf8(bytes).unwrap(),
            counts,
        }
    })
}

/// Minimal RFC 4180 record parser (no embedded newlines needed here).
fn parse_csv_line(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => cur.push(c),
            (false, '"') if cur.is_empty() => quoted = true,
            (false, ',') => fields.push(std::mem::take(&mut cur)),
            (false, c) => cur.push(c),
        }
    }
    fields.push(cur);
    fields
}

#[test]
fn header_is_exact() {
    assert_eq!(EVENTS_HEADER, HEADER);
    let (bytes, _) = events_bytes(&World::generate(&small_config(1)), Some(10));
    let text = String::from_utf8(bytes).unwrap();
    assert_eq!(text.lines().next().unwrap(), HEADER);

    let mut cat = Vec::new();
    World::generate(&small_config(1))
        .write_catalog_csv(&mut cat)
        .unwrap();
    let cat = String::from_utf8(cat).unwrap();
    assert_eq!(
        cat.lines().next().unwrap(),
        "item_id,title,description,category_id,category_code,brand,price,cost"
    );
    assert_eq!(CATALOG_HEADER, cat.lines().next().unwrap());
}

#[test]
fn deterministic_for_seed() {
    let a = World::generate(&small_config(7));
    let b = World::generate(&small_config(7));
    let c = World::generate(&small_config(8));
    let (ea, _) = events_bytes(&a, None);
    let (eb, _) = events_bytes(&b, None);
    let (ec, _) = events_bytes(&c, None);
    assert!(ea.len() > 1000);
    assert_eq!(ea, eb, "same seed must give identical events");
    assert_ne!(ea, ec, "different seeds must differ");
    // Writing twice from the same world is also identical.
    assert_eq!(events_bytes(&a, None).0, ea);

    let cat = |w: &World| {
        let mut v = Vec::new();
        w.write_catalog_csv(&mut v).unwrap();
        v
    };
    assert_eq!(cat(&a), cat(&b));
    assert_ne!(cat(&a), cat(&c));
}

#[test]
fn max_events_truncates_to_a_prefix() {
    let w = World::generate(&small_config(3));
    let (full, full_counts) = events_bytes(&w, None);
    let (part, counts) = events_bytes(&w, Some(500));
    assert!(full_counts.total() > 500);
    assert_eq!(counts.total(), 500);
    assert_eq!(
        String::from_utf8(part.clone()).unwrap().lines().count(),
        501
    );
    assert!(full.starts_with(&part));
    let (none, zero) = events_bytes(&w, Some(0));
    assert_eq!(zero, EventCounts::default());
    assert_eq!(none, format!("{HEADER}\n").into_bytes());
}

#[test]
fn counts_match_csv_and_rows_are_well_formed() {
    let d = demo();
    let mut seen = EventCounts::default();
    let mut prev_time = "";
    let ids = item_positions(d);
    let mut rows = 0u64;
    for line in d.csv.lines().skip(1) {
        rows += 1;
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 9, "{line}");
        let time = f[0];
        assert_eq!(time.len(), 23, "{time}");
        assert!(time.ends_with(" UTC"));
        assert!(
            time >= prev_time,
            "rows out of time order: {prev_time} then {time}"
        );
        prev_time = time;
        match f[1] {
            "view" => seen.view += 1,
            "cart" => seen.cart += 1,
            "purchase" => seen.purchase += 1,
            "remove_from_cart" => seen.remove_from_cart += 1,
            other => panic!("bad event_type {other}"),
        }
        let item = ids[&f[2].parse::<u64>().unwrap()];
        let it = &d.world.items[item];
        let cat = &d.world.categories[it.category];
        assert_eq!(f[3].parse::<u64>().unwrap(), cat.category_id);
        assert_eq!(f[4], cat.code);
        assert_eq!(f[5], it.brand);
        let (_, frac) = f[6].split_once('.').unwrap();
        assert_eq!(frac.len(), 2, "price {}", f[6]);
        assert!(f[6].parse::<f64>().unwrap() > 0.0);
        f[7].parse::<u64>().unwrap();
        let s = f[8];
        assert_eq!(s.len(), 36);
        assert_eq!(
            s.split('-').map(str::len).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(s.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    }
    assert_eq!(seen, d.counts);
    assert_eq!(rows, d.counts.total());
    assert!(d.csv.starts_with("event_time,"));
    assert!(
        prev_time.starts_with("2019-10-3") || prev_time.starts_with("2019-11-01"),
        "{prev_time}"
    );
}

#[test]
fn demo_size_and_funnel() {
    let c = demo().counts;
    let total = c.total();
    assert!(
        (100_000..=300_000).contains(&total),
        "demo produced {total} events"
    );
    assert!(c.view > c.cart, "{c:?}");
    assert!(c.cart > c.purchase, "{c:?}");
    assert!(c.purchase > 0 && c.remove_from_cart > 0, "{c:?}");
    let conv = c.purchase as f64 / c.view as f64;
    assert!((0.005..0.1).contains(&conv), "purchase/view = {conv}");
}

#[test]
fn target_events_within_20_percent() {
    let target = 200_000u64;
    let cfg = WorldConfig::with_target_events(target, 11);
    let world = World::generate(&cfg);
    let counts = world.write_events_csv(std::io::sink(), None).unwrap();
    let ratio = counts.total() as f64 / target as f64;
    assert!(
        (0.8..=1.2).contains(&ratio),
        "got {} events for target {target}",
        counts.total()
    );
}

#[test]
fn demand_is_price_elastic_in_the_log() {
    let d = demo();
    let ids = item_positions(d);
    // (relative price, is_purchase) for views and purchases.
    let mut views = Vec::new();
    let mut purchases = Vec::new();
    for line in d.csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let item = ids[&f[2].parse::<u64>().unwrap()];
        let rel = f[6].parse::<f64>().unwrap() / d.world.items[item].base_price;
        match f[1] {
            "view" => views.push(rel),
            "purchase" => purchases.push(rel),
            _ => {}
        }
    }
    let mut sorted = views.clone();
    sorted.sort_by(f64::total_cmp);
    let q25 = sorted[sorted.len() / 4];
    let q75 = sorted[sorted.len() * 3 / 4];
    assert!(q75 > q25 * 1.05, "price variation too small: {q25}..{q75}");
    let rate = |lo: f64, hi: f64| {
        let v = views.iter().filter(|&&r| r >= lo && r <= hi).count() as f64;
        let p = purchases.iter().filter(|&&r| r >= lo && r <= hi).count() as f64;
        p / v
    };
    let cheap = rate(0.0, q25);
    let dear = rate(q75, f64::INFINITY);
    println!(
        "purchase/view: cheapest quartile {cheap:.4}, dearest quartile {dear:.4} (rel. price q25 {q25:.3}, q75 {q75:.3})"
    );
    assert!(
        cheap > dear * 1.15,
        "purchase/view cheap {cheap:.4} vs expensive {dear:.4}"
    );
}

#[test]
fn choice_probabilities_are_a_proper_logit() {
    let w = &demo().world;
    let slate = [0usize, 1, 2, 3];
    let base: Vec<f64> = slate.iter().map(|&i| w.items[i].base_price).collect();
    for user in [0usize, 1, 17, 999] {
        let p = w.choice_probabilities(user, &slate, &base);
        assert_eq!(p.len(), slate.len());
        let sum: f64 = p.iter().sum();
        assert!(p.iter().all(|&x| x > 0.0));
        assert!(sum < 1.0, "sum {sum}");
        // Ratios follow exp(utility differences).
        let r = p[0] / p[1];
        let expect = (w.utility(user, 0, base[0]) - w.utility(user, 1, base[1])).exp();
        assert!((r / expect - 1.0).abs() < 1e-9);
        // Raising item 0's price lowers its probability and raises the others'.
        let mut dearer = base.clone();
        dearer[0] *= 1.2;
        let q = w.choice_probabilities(user, &slate, &dearer);
        assert!(q[0] < p[0]);
        assert!(q[1..].iter().zip(&p[1..]).all(|(a, b)| a > b));
        assert!(q.iter().sum::<f64>() < sum);
    }
    // Utility formula.
    let (u, i, price) = (5usize, 7usize, 42.0_f64);
    let it = &w.items[i];
    let us = &w.users[u];
    let dot: f64 = us
        .embedding
        .iter()
        .zip(&it.embedding)
        .map(|(a, b)| f64::from(*a) * f64::from(*b))
        .sum();
    let expect = it.appeal + dot
        - w.categories[it.category].elasticity * us.price_sensitivity_mult * price.ln();
    assert!((w.utility(u, i, price) - expect).abs() < 1e-9);
    assert!(w.choice_probabilities(0, &[], &[]).is_empty());
}

#[test]
fn catalog_is_consistent() {
    let w = &demo().world;
    let mut out = Vec::new();
    w.write_catalog_csv(&mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), w.items.len() + 1);
    let mut empty_brand = 0;
    let mut empty_code = 0;
    let mut quoted = 0;
    for (line, item) in lines[1..].iter().zip(&w.items) {
        let f = parse_csv_line(line);
        assert_eq!(f.len(), 8, "{line}");
        quoted += usize::from(line.contains('"'));
        assert_eq!(f[0].parse::<u64>().unwrap(), item.item_id);
        assert_eq!(f[1], item.title);
        assert_eq!(f[2], item.description);
        assert_eq!(f[5], item.brand);
        let price: f64 = f[6].parse().unwrap();
        let cost: f64 = f[7].parse().unwrap();
        assert!(price > 0.0 && cost > 0.0 && cost < price, "{line}");
        let margin = 1.0 - cost / price;
        assert!((0.09..=0.51).contains(&margin), "margin {margin} in {line}");
        empty_brand += usize::from(f[5].is_empty());
        empty_code += usize::from(f[4].is_empty());
    }
    assert!(empty_brand > 0, "some brands should be empty");
    assert!(empty_code > 0, "some category codes should be empty");
    assert!(quoted > 0, "some fields should need quoting");
    let ids: std::collections::HashSet<u64> = w.items.iter().map(|i| i.item_id).collect();
    assert_eq!(ids.len(), w.items.len());
    let uids: std::collections::HashSet<u64> = w.users.iter().map(|u| u.user_id).collect();
    assert_eq!(uids.len(), w.users.len());
    // Daily prices stay positive and near the list price.
    for (i, item) in w.items.iter().enumerate() {
        for day in 0..w.config.days {
            let p = w.daily_price(i, day);
            assert!(
                p > item.cost && p <= item.base_price * 1.17,
                "{p} vs {}",
                item.base_price
            );
        }
    }
}

#[test]
fn invalid_configs_are_rejected() {
    let mut c = small_config(1);
    c.sessions_per_user_per_day = f64::NAN;
    assert!(World::try_generate(&c).is_err());
    let mut c = small_config(1);
    c.start = (2019, 2, 30);
    assert!(c.validate().is_err());
    let mut c = small_config(1);
    c.n_categories = 0;
    assert!(c.validate().is_err());
    // Degenerate but valid: no users -> header only.
    let mut c = small_config(1);
    c.n_users = 0;
    let (bytes, counts) = events_bytes(&World::generate(&c), None);
    assert_eq!(counts.total(), 0);
    assert_eq!(bytes, format!("{HEADER}\n").into_bytes());
}

/// Throughput and calibration report; run with
/// `cargo test -p shoplab-synth --release -- --ignored --nocapture report`.
#[test]
#[ignore = "slow report, run in release"]
fn report() {
    for target in [200_000u64, 2_000_000, 10_000_000] {
        let cfg = WorldConfig::with_target_events(target, 1);
        let t0 = std::time::Instant::now();
        let world = World::generate(&cfg);
        let gen_s = t0.elapsed().as_secs_f64();
        let t1 = std::time::Instant::now();
        let mut out = std::io::sink();
        let c = world.write_events_csv(&mut out, None).unwrap();
        let s = t1.elapsed().as_secs_f64();
        println!(
            "target {target}: {cfg:?}\n  world {gen_s:.2}s, {} rows in {s:.2}s = {:.2}M rows/s; {c:?}; purchase/view {:.4}",
            c.total(),
            c.total() as f64 / s / 1e6,
            c.purchase as f64 / c.view as f64
        );
    }
    let d = demo();
    println!("demo: {:?} total {}", d.counts, d.counts.total());
}
