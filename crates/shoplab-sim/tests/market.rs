//! What-if scenarios on the synthetic shop: deterministic, common shoppers across policies,
//! events that move the outcome the way they should, clear errors.

use shoplab_sim::{Market, Scenario};

fn scenario(events: &str) -> Scenario {
    let text = format!(
        r#"
name = "test"
days = 8
sessions_per_day = 400
seeds = 4
world = {{ seed = 7, users = 400, items = 120, categories = 8 }}

[[policies]]
name = "list"
recommend = "popularity"
pricing = {{ kind = "list" }}

[[policies]]
name = "optimal"
recommend = "popularity"
pricing = {{ kind = "elasticity-optimal" }}

[[policies]]
name = "thompson"
recommend = "random"
pricing = {{ kind = "thompson", grid = [0.9, 1.0, 1.1] }}

[[policies]]
name = "ucb1"
recommend = "popularity"
pricing = {{ kind = "ucb1", grid = [0.9, 1.0, 1.1] }}
max_move = 0.1

[[policies]]
name = "eps"
recommend = "affinity"
pricing = {{ kind = "epsilon-greedy", grid = [0.9, 1.0, 1.1], epsilon = 0.1 }}

[[policies]]
name = "match"
recommend = "popularity"
pricing = {{ kind = "competitor-match", undercut = 0.02 }}

[[policies]]
name = "slow optimal"
recommend = "popularity"
pricing = {{ kind = "elasticity-optimal" }}
max_move = 0.01
{events}
"#
    );
    Scenario::from_toml(&text, "test.toml").unwrap()
}

/// Per replicate: sessions, purchases, revenue, margin over the horizon.
type Totals = (u64, u64, f64, f64);
/// Per policy: its name and the totals of each replicate.
type Runs = Vec<(String, Vec<Totals>)>;

fn totals(m: &Market, threads: usize) -> Runs {
    m.run(threads)
        .unwrap()
        .into_iter()
        .map(|r| {
            let per: Vec<Totals> = r
                .replicates
                .iter()
                .map(|days| {
                    days.iter().fold((0, 0, 0.0, 0.0), |a, d| {
                        (
                            a.0 + d.sessions,
                            a.1 + d.purchases,
                            a.2 + d.revenue,
                            a.3 + d.margin,
                        )
                    })
                })
                .collect();
            (r.policy, per)
        })
        .collect()
}

#[test]
fn same_seed_same_results_and_the_same_shoppers_for_every_policy() {
    let m = Market::new(scenario("")).unwrap();
    let a = totals(&m, 1);
    let b = totals(&m, 2);
    assert_eq!(a, b);
    // Arrivals depend on the seed only: every policy saw the same sessions.
    let sessions = |p: usize| a[p].1.iter().map(|t| t.0).collect::<Vec<_>>();
    assert_eq!(sessions(0), sessions(1));
    assert_eq!(sessions(0), sessions(2));
    // About 400 a day for 8 days.
    assert!(
        sessions(0).iter().all(|&s| (2_900..3_500).contains(&s)),
        "{:?}",
        sessions(0)
    );
}

#[test]
fn events_move_the_outcome_as_they_should() {
    let base = totals(&Market::new(scenario("")).unwrap(), 2);
    let margin = |t: &Runs, p: usize| -> f64 { t[p].1.iter().map(|x| x.3).sum() };
    let revenue = |t: &Runs, p: usize| -> f64 { t[p].1.iter().map(|x| x.2).sum() };
    // Pricing for the margin under the true demand earns more margin than the list price.
    assert!(margin(&base, 1) > 1.1 * margin(&base, 0), "{base:?}");

    // A competitor at 80% of our list price from day 2, for every category: at list price
    // we sell less; matching the competitor (2% below) sells more than the list price.
    let cut = totals(
        &Market::new(scenario("[[events]]\nday = 2\ncompetitor_price = 0.8")).unwrap(),
        2,
    );
    assert!(revenue(&cut, 0) < 0.9 * revenue(&base, 0));
    let purchases = |t: &Runs, p: usize| -> u64 { t[p].1.iter().map(|x| x.1).sum() };
    assert!(purchases(&cut, 5) > purchases(&cut, 0));
    // Without a competitor, matching is the list price.
    assert_eq!(base[5].1, base[0].1);

    // Twice the traffic on days 4-5: more sessions, the same shoppers before.
    let surge = totals(
        &Market::new(scenario("[[events]]\nday = 4\nuntil = 5\ntraffic = 2.0")).unwrap(),
        2,
    );
    let s = |t: &Runs| t[0].1.iter().map(|x| x.0).sum::<u64>();
    let ratio = s(&surge) as f64 / s(&base) as f64;
    assert!((1.15..1.35).contains(&ratio), "{ratio}");

    // Everything out of stock: nothing is sold.
    let empty = totals(
        &Market::new(scenario("[[events]]\nday = 0\nstock_out = true")).unwrap(),
        2,
    );
    assert!(empty.iter().all(|(_, r)| r.iter().all(|x| x.1 == 0)));
}

#[test]
fn bad_scenarios_get_clear_errors() {
    let e = Market::new(scenario(
        "[[events]]\nday = 1\ncategory = \"toys\"\npromo = 0.1",
    ))
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("no category \"toys\" (known: "), "{e}");
    let past = Scenario::from_toml(
        "name = \"x\"\ndays = 5\n[[policies]]\nname = \"a\"\nrecommend = \"random\"\npricing = { kind = \"list\" }\n[[events]]\nday = 9\ntraffic = 2.0",
        "x.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(
        past.contains("x.toml: an event on day 9 is past the 5 days"),
        "{past}"
    );
    let typo = Scenario::from_toml(
        "name = \"x\"\n[[policies]]\nname = \"a\"\nrecommend = \"random\"\npricing = { kind = \"lst\" }",
        "x.toml",
    )
    .unwrap_err()
    .to_string();
    assert!(typo.contains("x.toml") && typo.contains("lst"), "{typo}");
    let none = Scenario::from_toml("name = \"x\"\npolicies = []", "x.toml")
        .unwrap_err()
        .to_string();
    assert!(none.contains("no [[policies]]"), "{none}");
}

#[test]
fn the_shipped_scenarios_parse() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
    let mut n = 0;
    for f in std::fs::read_dir(dir).unwrap() {
        let path = f.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let s = Scenario::from_toml(&text, &path.display().to_string()).unwrap();
        Market::new(s).unwrap();
        n += 1;
    }
    assert!(n >= 2);
}

#[test]
fn bounded_moves_keep_prices_near_yesterdays() {
    let m = Market::new(scenario("")).unwrap();
    let runs = m.run(2).unwrap();
    let slow = runs.iter().find(|r| r.policy == "slow optimal").unwrap();
    let free = runs.iter().find(|r| r.policy == "optimal").unwrap();
    // Day d's prices are within 1% a day of the list price: at most 1.01^(d+1) of it.
    for days in &slow.replicates {
        for (d, day) in days.iter().enumerate() {
            let idx = day.mean_price_index();
            let (lo, hi) = (0.99f64.powi(d as i32 + 1), 1.01f64.powi(d as i32 + 1));
            assert!(
                day.purchases == 0 || (lo - 1e-9..=hi + 1e-9).contains(&idx),
                "day {d}: {idx}"
            );
        }
    }
    // Unbounded, the optimal prices sit far from the list price from the first day.
    let first: f64 = free
        .replicates
        .iter()
        .map(|d| (d[0].mean_price_index() - 1.0).abs())
        .sum();
    assert!(first / free.replicates.len() as f64 > 0.05, "{first}");
}
