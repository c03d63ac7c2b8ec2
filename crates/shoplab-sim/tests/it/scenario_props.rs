//! Property tests of the scenario TOML (`shoplab simulate WS --scenario FILE`): whatever
//! text a user hands in, `Scenario::from_toml` and the editor's helpers (`events_of`,
//! `with_events`, `with_calibration`) answer with a value or an error and never panic; an
//! accepted scenario prints back to TOML that reads as the same scenario; and a small
//! accepted scenario runs in its synthetic world (or is refused) without a panic.
//!
//! Each of the four properties runs proptest's default 256 cases (`PROPTEST_CASES`
//! overrides) and prints how many cases it ran and how many were accepted
//! (`cargo test ... -- --nocapture`).

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use shoplab_sim::scenario::{events_of, with_calibration, with_events};
use shoplab_sim::{Market, Scenario};

/// Runs `test` on proptest's default number of values of `strategy`, shrinks a failure (a
/// panic included) to a minimal input, and prints how many cases ran.
fn check<S: Strategy>(name: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S::Value: std::fmt::Debug,
{
    let config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    let ran = std::cell::Cell::new(0u32);
    let mut runner = TestRunner::new(config.clone());
    let result = runner.run(&strategy, |v| {
        ran.set(ran.get() + 1);
        test(v)
    });
    println!(
        "property {name}: {} cases run (configured {})",
        ran.get(),
        config.cases
    );
    if let Err(e) = result {
        panic!("property {name} failed: {e}");
    }
}

/// The shipped scenarios, the base of the edited ones.
const SHIPPED: [&str; 3] = [
    include_str!("../../../../scenarios/competitor-cut.toml"),
    include_str!("../../../../scenarios/price-sensitivity-shift.toml"),
    include_str!("../../../../scenarios/calibrated-promo.toml"),
];

/// A TOML basic string holding `s`.
fn q(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn pick(pool: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(pool).prop_map(String::from)
}

/// A literal of some other type, now and then, where a value is expected.
fn wrong() -> impl Strategy<Value = String> {
    pick(&[
        "\"x\"",
        "true",
        "[]",
        "{}",
        "[1, \"a\"]",
        "{ a = 1 }",
        "1979-05-27",
        "-1",
        "1.5",
        "9223372036854775807",
        "nan",
        "inf",
        "-inf",
    ])
}

fn or_wrong(s: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    prop_oneof![9 => s, 1 => wrong()]
}

const INTS: &[&str] = &["0", "1", "2", "3", "10", "-1", "4294967295", "4294967296"];
const FLOATS: &[&str] = &[
    "0.0", "1.0", "0.5", "2.0", "-1.0", "1e-300", "1e308", "nan", "inf", "-inf", "0.02", "1",
];
const KINDS: &[&str] = &[
    "list",
    "cost-plus",
    "elasticity-optimal",
    "thompson",
    "thompson-poisson",
    "thompson-inventory",
    "ucb1",
    "epsilon-greedy",
    "competitor-match",
    "greedy",
    "",
];
const RECOMMENDERS: &[&str] = &[
    "popularity",
    "random",
    "affinity",
    "expected-margin",
    "run:1",
    "run:x",
    "expected-revenue:2",
    "expected-revenue:",
    "magic",
    "",
];
const CATEGORIES: &[&str] = &["electronics.smartphone", "appliances.kitchen", "nope", ""];

fn grid() -> impl Strategy<Value = String> {
    proptest::collection::vec(pick(FLOATS), 0..5).prop_map(|v| format!("[{}]", v.join(", ")))
}

/// A pricing inline table: a kind and any of the settings, fitting or not.
fn pricing() -> impl Strategy<Value = String> {
    (
        pick(KINDS),
        proptest::option::of(or_wrong(grid())),
        proptest::option::of(or_wrong(pick(FLOATS))),
        proptest::option::of(or_wrong(pick(FLOATS))),
        proptest::option::of(or_wrong(pick(FLOATS))),
        any::<bool>(),
    )
        .prop_map(|(kind, grid, epsilon, markup, undercut, odd)| {
            let mut parts = vec![format!("kind = {}", q(&kind))];
            parts.extend(grid.map(|g| format!("grid = {g}")));
            parts.extend(epsilon.map(|e| format!("epsilon = {e}")));
            parts.extend(markup.map(|m| format!("markup = {m}")));
            parts.extend(undercut.map(|u| format!("undercut = {u}")));
            if odd {
                parts.retain(|p| !p.starts_with("kind"));
            }
            format!("{{ {} }}", parts.join(", "))
        })
}

fn policy() -> impl Strategy<Value = String> {
    (
        proptest::option::of("[a-z ]{0,8}"),
        proptest::option::of(or_wrong(pick(RECOMMENDERS).prop_map(|r| q(&r)))),
        proptest::option::of(pricing()),
        proptest::option::of(or_wrong(pick(FLOATS))),
        any::<bool>(),
    )
        .prop_map(|(name, recommend, pricing, max_move, unknown)| {
            let mut s = String::from("\n[[policies]]\n");
            s.extend(name.map(|n| format!("name = {}\n", q(&n))));
            s.extend(recommend.map(|r| format!("recommend = {r}\n")));
            s.extend(pricing.map(|p| format!("pricing = {p}\n")));
            s.extend(max_move.map(|m| format!("max_move = {m}\n")));
            if unknown {
                s.push_str("colour = \"red\"\n");
            }
            s
        })
}

fn event() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        or_wrong(pick(INTS)).prop_map(|v| format!("until = {v}")),
        pick(CATEGORIES).prop_map(|c| format!("category = {}", q(&c))),
        or_wrong(pick(FLOATS)).prop_map(|v| format!("competitor_price = {v}")),
        or_wrong(pick(FLOATS)).prop_map(|v| format!("elasticity = {v}")),
        or_wrong(pick(FLOATS)).prop_map(|v| format!("promo = {v}")),
        or_wrong(pick(FLOATS)).prop_map(|v| format!("traffic = {v}")),
        or_wrong(pick(&["true", "false"])).prop_map(|v| format!("stock_out = {v}")),
        proptest::collection::vec(pick(&["1", "2", "x", ""]), 0..3).prop_map(|v| {
            let ids: Vec<String> = v.iter().map(|i| q(i)).collect();
            format!("launch = [{}]", ids.join(", "))
        }),
        Just("colour = 1".to_string()),
    ];
    (
        proptest::option::of(or_wrong(pick(INTS))),
        proptest::collection::vec(line, 0..5),
    )
        .prop_map(|(day, lines)| {
            let mut s = String::from("\n[[events]]\n");
            s.extend(day.map(|d| format!("day = {d}\n")));
            for l in lines {
                s.push_str(&l);
                s.push('\n');
            }
            s
        })
}

fn world() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        (
            pick(&[
                "seed",
                "users",
                "items",
                "categories",
                "calibration",
                "colour",
            ]),
            or_wrong(pick(INTS)),
        ),
        0..5,
    )
    .prop_map(|kv| {
        let parts: Vec<String> = kv.iter().map(|(k, v)| format!("{k} = {v}")).collect();
        format!("world = {{ {} }}", parts.join(", "))
    })
}

/// A scenario-shaped document: top-level settings, `[[policies]]` and `[[events]]`, each
/// present or not, fitting or not.
fn scenario_text() -> impl Strategy<Value = String> {
    let top = prop_oneof![
        "[a-z ]{0,10}".prop_map(|n| format!("name = {}", q(&n))),
        or_wrong(pick(INTS)).prop_map(|v| format!("days = {v}")),
        or_wrong(pick(FLOATS)).prop_map(|v| format!("sessions_per_day = {v}")),
        or_wrong(pick(&["\"poisson\"", "\"replay\"", "\"burst\""]))
            .prop_map(|v| format!("arrivals = {v}")),
        or_wrong(pick(INTS)).prop_map(|v| format!("stock = {v}")),
        or_wrong(pick(&["true", "false"])).prop_map(|v| format!("oracle = {v}")),
        or_wrong(pick(INTS)).prop_map(|v| format!("slate = {v}")),
        or_wrong(pick(INTS)).prop_map(|v| format!("seeds = {v}")),
        or_wrong(pick(FLOATS)).prop_map(|v| format!("competitor_weight = {v}")),
        world(),
        Just("colour = \"red\"".to_string()),
    ];
    (
        proptest::option::weighted(0.9, "[a-z ]{0,10}"),
        proptest::collection::vec(top, 0..6),
        proptest::collection::vec(prop_oneof![3 => sane_policy(), 1 => policy()], 0..4),
        proptest::collection::vec(prop_oneof![sane_event(), event()], 0..3),
    )
        .prop_map(|(name, top, policies, events)| {
            let mut s = name
                .map(|n| format!("name = {}\n", q(&n)))
                .unwrap_or_default();
            s.push_str(&top.join("\n"));
            s.push('\n');
            s.extend(policies);
            s.extend(events);
            s
        })
}

/// Multipliers and factors a check lets through, extreme ones included.
const EXTREME: &[&str] = &["0.9", "1.0", "1.1", "0.5", "2.0", "1e-300", "1e308"];

/// One of `pool`, or now and then `nan` or `inf` (which a check should refuse).
fn or_nan(pool: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![12 => pick(pool), 1 => pick(&["nan", "inf"])]
}

/// A policy whose pricing has the settings its kind needs, with extreme values.
fn sane_policy() -> impl Strategy<Value = String> {
    let grid = || {
        proptest::collection::vec(or_nan(EXTREME), 1..4).prop_map(|v| format!("[{}]", v.join(", ")))
    };
    let fraction = || or_nan(&["0.0", "0.1", "0.5", "0.99", "1.0"]);
    let pricing = prop_oneof![
        Just("{ kind = \"list\" }".to_string()),
        Just("{ kind = \"elasticity-optimal\" }".to_string()),
        or_nan(&["-0.5", "0.0", "0.3", "1e308"])
            .prop_map(|m| format!("{{ kind = \"cost-plus\", markup = {m} }}")),
        (
            pick(&["thompson", "thompson-poisson", "thompson-inventory", "ucb1"]),
            grid()
        )
            .prop_map(|(k, g)| format!("{{ kind = \"{k}\", grid = {g} }}")),
        (grid(), fraction()).prop_map(|(g, e)| format!(
            "{{ kind = \"epsilon-greedy\", grid = {g}, epsilon = {e} }}"
        )),
        fraction().prop_map(|u| format!("{{ kind = \"competitor-match\", undercut = {u} }}")),
    ];
    (
        pick(&["popularity", "random", "affinity", "expected-margin"]),
        pricing,
        proptest::option::of(or_nan(&["0.01", "0.5", "1.0"])),
    )
        .prop_map(|(recommend, pricing, max_move)| {
            let mut s = format!("\n[[policies]]\nname = \"{recommend}\"\nrecommend = \"{recommend}\"\npricing = {pricing}\n");
            s.extend(max_move.map(|m| format!("max_move = {m}\n")));
            s
        })
}

/// An event within a short horizon, with extreme factors.
fn sane_event() -> impl Strategy<Value = String> {
    let factor = || proptest::option::of(or_nan(EXTREME));
    (
        0u32..3,
        proptest::option::of(0u32..5),
        proptest::option::weighted(
            0.3,
            prop_oneof![3 => Just("electronics.smartphone".to_string()), 1 => pick(CATEGORIES)],
        ),
        (factor(), factor(), factor()),
        proptest::option::of(or_nan(&["0.0", "0.2", "0.99"])),
        any::<bool>(),
        prop_oneof![
            4 => Just(Vec::new()),
            1 => proptest::collection::vec(pick(&["1", "2", "x", ""]), 1..3),
        ],
    )
        .prop_map(
            |(
                day,
                until,
                category,
                (competitor, elasticity, traffic),
                promo,
                stock_out,
                launch,
            )| {
                let mut s = format!("\n[[events]]\nday = {day}\nstock_out = {stock_out}\n");
                s.extend(until.map(|u| format!("until = {u}\n")));
                s.extend(category.map(|c| format!("category = {}\n", q(&c))));
                s.extend(competitor.map(|v| format!("competitor_price = {v}\n")));
                s.extend(elasticity.map(|v| format!("elasticity = {v}\n")));
                s.extend(traffic.map(|v| format!("traffic = {v}\n")));
                s.extend(promo.map(|v| format!("promo = {v}\n")));
                let ids: Vec<String> = launch.iter().map(|i| q(i)).collect();
                s.push_str(&format!("launch = [{}]\n", ids.join(", ")));
                s
            },
        )
}

/// A small scenario that usually parses and runs in well under a second: a tiny world,
/// a few days and sessions, one to three policies of any kind, extreme settings included.
fn small_scenario() -> impl Strategy<Value = String> {
    (
        (
            1u32..4,
            or_nan(&["1", "5", "20", "60", "1e-300"]),
            1u64..3,
            1usize..5,
            proptest::option::of(0u64..6),
            any::<bool>(),
            or_nan(&["2.0", "0.0", "-1.0", "1e308"]),
            prop_oneof![7 => Just("poisson".to_string()), 1 => Just("replay".to_string())],
        ),
        (0usize..60, 0usize..40, 0usize..10, any::<u64>()),
        proptest::collection::vec(sane_policy(), 1..4),
        proptest::collection::vec(sane_event(), 0..3),
    )
        .prop_map(
            |((days, sessions, seeds, slate, stock, oracle, weight, arrivals), (users, items, categories, seed), policies, events)| {
                let mut s = format!(
                    "name = \"small\"\ndays = {days}\nsessions_per_day = {sessions}\nseeds = {seeds}\nslate = {slate}\noracle = {oracle}\ncompetitor_weight = {weight}\narrivals = \"{arrivals}\"\nworld = {{ seed = {}, users = {users}, items = {items}, categories = {categories} }}\n",
                    seed >> 1
                );
                s.extend(stock.map(|n| format!("stock = {n}\n")));
                s.extend(policies);
                s.extend(events);
                s
            },
        )
}

/// Random edits (delete, insert, replace) of a shipped scenario.
fn edited() -> impl Strategy<Value = String> {
    let edit = (
        any::<prop::sample::Index>(),
        0usize..4,
        prop_oneof![
            pick(&[
                "=",
                "\"",
                "[",
                "]",
                "\n",
                "#",
                "{",
                "}",
                ",",
                ".",
                "'",
                "\\",
                " ",
                "x",
                "0",
                "-",
                "nan",
                "\u{0}",
                "é",
                "[[policies]]",
                "[[events]]",
                "kind = \"x\"",
                "day = -1",
            ]),
            Just(String::new()),
        ],
    );
    (
        proptest::sample::select(SHIPPED.to_vec()),
        proptest::collection::vec(edit, 1..6),
    )
        .prop_map(|(base, edits)| {
            let mut text: Vec<char> = base.chars().collect();
            for (at, cut, insert) in edits {
                let at = at.index(text.len() + 1);
                let cut = cut.min(text.len() - at);
                text.splice(at..at + cut, insert.chars());
            }
            text.into_iter().collect()
        })
}

/// Any text, with TOML's own characters over-represented.
fn noise() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-z_\\.\\[\\]{}=\"',#\n\t 0-9\\-+:]{0,200}",
    ]
}

/// An accepted scenario reads back, from its own TOML, as the same scenario (compared as
/// printed, so that a NaN setting compares equal to itself).
fn round_trips(text: &str) -> Result<bool, TestCaseError> {
    let Ok(s) = Scenario::from_toml(text, "prop.toml") else {
        return Ok(false);
    };
    {
        let printed = toml::to_string(&s);
        prop_assert!(
            printed.is_ok(),
            "accepted {text:?}, cannot print: {printed:?}"
        );
        let printed = printed.unwrap();
        let again = Scenario::from_toml(&printed, "printed.toml");
        prop_assert!(
            again.as_ref().map(|a| format!("{a:?}")).ok() == Some(format!("{s:?}")),
            "accepted {text:?}, printed {printed:?}, read back {again:?}"
        );
    }
    Ok(true)
}

/// The editor's helpers answer on any text, and writing a text's own events back keeps them.
fn editor_helpers(text: &str) -> Result<(), TestCaseError> {
    let _ = with_calibration(text, 3);
    if let Ok((events, _days)) = events_of(text)
        && let Ok(written) = with_events(text, &events)
    {
        let again = events_of(&written).map(|(e, _)| format!("{e:?}"));
        prop_assert_eq!(again, Ok(format!("{events:?}")), "{}", text);
    }
    Ok(())
}

#[test]
fn the_scenario_parser_never_panics_on_any_text() {
    check("scenario: any text", noise(), |text| {
        let _ = Scenario::from_toml(&text, "any.toml");
        editor_helpers(&text)
    });
}

#[test]
fn the_scenario_parser_never_panics_on_scenario_shaped_text_and_round_trips() {
    let accepted = std::cell::Cell::new(0u32);
    check("scenario: scenario-shaped text", scenario_text(), |text| {
        accepted.set(accepted.get() + u32::from(round_trips(&text)?));
        editor_helpers(&text)
    });
    println!(
        "property scenario: scenario-shaped text: {} accepted",
        accepted.get()
    );
}

#[test]
fn the_scenario_parser_never_panics_on_edited_shipped_scenarios() {
    let accepted = std::cell::Cell::new(0u32);
    check("scenario: edited shipped scenarios", edited(), |text| {
        accepted.set(accepted.get() + u32::from(round_trips(&text)?));
        editor_helpers(&text)
    });
    println!(
        "property scenario: edited shipped scenarios: {} accepted",
        accepted.get()
    );
}

#[test]
fn an_accepted_small_scenario_runs_or_is_refused_without_a_panic() {
    let (ran, finished) = (std::cell::Cell::new(0u32), std::cell::Cell::new(0u32));
    check("scenario: small scenarios run", small_scenario(), |text| {
        if let Ok(s) = Scenario::from_toml(&text, "small.toml") {
            ran.set(ran.get() + 1);
            if Market::new(s).and_then(|m| m.run(1)).is_ok() {
                finished.set(finished.get() + 1);
            }
        }
        Ok(())
    });
    println!(
        "property scenario: small scenarios run: {} accepted, {} of them ran to the end",
        ran.get(),
        finished.get()
    );
}
