//! A scenario parameter swept over values: any number in the scenario's TOML named by a
//! dotted path (`sessions_per_day`, `events.0.competitor_price`, `policies.*.max_move`,
//! `world.seed`; `*` is every element of an array), each value a scenario of its own,
//! checked before anything runs.

use serde::Serialize;

use crate::scenario::Scenario;
use crate::{Result, SimError};

/// The most points a sweep may have.
pub const MAX_POINTS: usize = 200;

/// A parameter and its values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParamSweep {
    pub path: String,
    pub values: Vec<f64>,
}

fn bad(spec: &str, why: &str) -> SimError {
    SimError::Config(format!(
        "sweep {spec:?}: {why} (expected PATH=LOW..HIGH:POINTS or PATH=V1,V2,…, e.g. \
         events.0.competitor_price=0.7..1.0:7 or policies.*.max_move=0.02,0.05,0.1)"
    ))
}

impl ParamSweep {
    /// `path=low..high:points` (evenly spaced, both ends included) or `path=v1,v2,…`.
    pub fn parse(spec: &str) -> Result<Self> {
        let (path, values) = spec.split_once('=').ok_or_else(|| bad(spec, "no '='"))?;
        let path = path.trim();
        if path.is_empty() || path.split('.').any(str::is_empty) {
            return Err(bad(spec, "an empty name in the path"));
        }
        let number = |s: &str| {
            s.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| bad(spec, &format!("{:?} is not a number", s.trim())))
        };
        let values = if let Some((lo, rest)) = values.split_once("..") {
            let (hi, n) = rest
                .split_once(':')
                .ok_or_else(|| bad(spec, "a range needs its number of points, ':N'"))?;
            let (lo, hi) = (number(lo)?, number(hi)?);
            let n: usize = n
                .trim()
                .parse()
                .ok()
                .filter(|n| (2..=MAX_POINTS).contains(n))
                .ok_or_else(|| bad(spec, &format!("points must be 2 to {MAX_POINTS}")))?;
            if hi <= lo {
                return Err(bad(spec, "the range's high end must be above its low end"));
            }
            // Rounded to 9 decimals: 0.7..1.0:4 is 0.7, 0.8, 0.9, 1.0, not 0.7999999999999999.
            (0..n)
                .map(|i| {
                    let v = lo + (hi - lo) * i as f64 / (n - 1) as f64;
                    (v * 1e9).round() / 1e9
                })
                .collect()
        } else {
            values
                .split(',')
                .map(number)
                .collect::<Result<Vec<f64>>>()?
        };
        if values.is_empty() || values.len() > MAX_POINTS {
            return Err(bad(spec, &format!("1 to {MAX_POINTS} values")));
        }
        Ok(ParamSweep {
            path: path.to_string(),
            values,
        })
    }

    /// The scenario text at each value, each checked as a scenario (`origin` names it in
    /// errors).
    pub fn scenarios(&self, text: &str, origin: &str) -> Result<Vec<(f64, String, Scenario)>> {
        self.values
            .iter()
            .map(|&v| {
                let t = with_value(text, &self.path, v)?;
                let s = Scenario::from_toml(&t, &format!("{origin} at {}={v}", self.path))?;
                Ok((v, t, s))
            })
            .collect()
    }
}

/// The scenario text with the number at `path` set to `value` (a whole number where the
/// text has one there, or where the scenario wants one); the rest of the text, comments
/// included, stays as it was.
pub fn with_value(text: &str, path: &str, value: f64) -> Result<String> {
    toml::from_str::<toml::Table>(text).map_err(|e| SimError::Config(format!("scenario: {e}")))?;
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e| SimError::Config(format!("scenario: {e}")))?;
    let parts: Vec<&str> = path.split('.').collect();
    let set = set_in(doc.as_table_mut(), &parts, value)
        .map_err(|why| SimError::Config(format!("sweep path {path:?}: {why}")))?;
    if set == 0 {
        return Err(SimError::Config(format!(
            "sweep path {path:?}: no such value in the scenario"
        )));
    }
    Ok(doc.to_string())
}

/// Whole-number settings of a scenario.
const INTEGERS: &[&str] = &[
    "days",
    "seeds",
    "slate",
    "stock",
    "day",
    "seed",
    "users",
    "items",
    "categories",
    "calibration",
];

/// The index `head` of a list of `len` elements (`*`: all of them).
fn indexes(head: &str, len: usize) -> std::result::Result<std::ops::Range<usize>, String> {
    if head == "*" {
        return Ok(0..len);
    }
    let i: usize = head
        .parse()
        .map_err(|_| format!("{head:?} is not an index of a list (0, 1, … or *)"))?;
    if i >= len {
        return Err(format!("index {i} past the list's {len} elements"));
    }
    Ok(i..i + 1)
}

/// Sets the value at `path` under a table (or an inline one); how many were set.
fn set_in(
    t: &mut dyn toml_edit::TableLike,
    path: &[&str],
    value: f64,
) -> std::result::Result<usize, String> {
    let (head, rest) = path.split_first().ok_or("an empty path")?;
    if rest.is_empty() {
        let old = t.get(head).and_then(toml_edit::Item::as_value);
        if t.contains_key(head) && !old.is_some_and(|v| v.is_integer() || v.is_float()) {
            return Err(format!("{head} is not a number"));
        }
        let whole = old.is_some_and(toml_edit::Value::is_integer) || INTEGERS.contains(head);
        let mut new = if whole {
            if value.fract() != 0.0 {
                return Err(format!("{head} takes whole numbers, not {value}"));
            }
            toml_edit::Value::from(value as i64)
        } else {
            toml_edit::Value::from(value)
        };
        if let Some(old) = old {
            *new.decor_mut() = old.decor().clone();
        }
        t.insert(head, toml_edit::Item::Value(new));
        return Ok(1);
    }
    match t.get_mut(head) {
        Some(inner) => set_item(inner, rest, value),
        None => Err(format!("no {head:?} in the scenario")),
    }
}

/// Sets the value at `path` under an item; how many were set.
fn set_item(
    item: &mut toml_edit::Item,
    path: &[&str],
    value: f64,
) -> std::result::Result<usize, String> {
    let (head, rest) = path.split_first().ok_or("an empty path")?;
    match item {
        toml_edit::Item::Table(t) => set_in(t, path, value),
        toml_edit::Item::ArrayOfTables(a) => {
            let mut n = 0;
            for i in indexes(head, a.len())? {
                let t = a.get_mut(i).expect("in range");
                n += set_in(t, rest, value)?;
            }
            Ok(n)
        }
        toml_edit::Item::Value(toml_edit::Value::InlineTable(t)) => set_in(t, path, value),
        toml_edit::Item::Value(toml_edit::Value::Array(a)) => {
            let mut n = 0;
            for i in indexes(head, a.len())? {
                match a.get_mut(i).expect("in range") {
                    toml_edit::Value::InlineTable(t) => n += set_in(t, rest, value)?,
                    _ => {
                        return Err(format!(
                            "{head:?} is inside a value that is not a table or a list"
                        ));
                    }
                }
            }
            Ok(n)
        }
        toml_edit::Item::Value(_) | toml_edit::Item::None => Err(format!(
            "{head:?} is inside a value that is not a table or a list"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"
name = "cut"
days = 30
[[policies]]
name = "list"
recommend = "popularity"
pricing = { kind = "list" }
[[policies]]
name = "match"
recommend = "popularity"
pricing = { kind = "competitor-match", undercut = 0.02 }
max_move = 0.05
[[events]]
day = 10
category = "electronics.smartphone"
competitor_price = 0.85   # of our list price
"#;

    #[test]
    fn ranges_and_lists_parse_and_bad_ones_are_named() {
        let s = ParamSweep::parse("events.0.competitor_price=0.7..1.0:4").unwrap();
        assert_eq!(s.path, "events.0.competitor_price");
        assert_eq!(s.values.len(), 4);
        assert!((s.values[1] - 0.8).abs() < 1e-12 && (s.values[3] - 1.0).abs() < 1e-12);
        let l = ParamSweep::parse("sessions_per_day=500, 1000,2000").unwrap();
        assert_eq!(l.values, vec![500.0, 1000.0, 2000.0]);
        for (spec, says) in [
            ("nothing", "no '='"),
            ("a=1..2", "number of points"),
            ("a=2..1:3", "high end"),
            ("a=x,1", "\"x\" is not a number"),
            ("a..b=1", "empty name"),
            ("a=1..2:1", "points must be"),
        ] {
            let e = ParamSweep::parse(spec).unwrap_err().to_string();
            assert!(e.contains(says), "{spec}: {e}");
        }
    }

    #[test]
    fn each_value_is_a_checked_scenario() {
        let s = ParamSweep::parse("events.0.competitor_price=0.7..1.0:4").unwrap();
        let points = s.scenarios(TEXT, "cut.toml").unwrap();
        assert_eq!(points.len(), 4);
        let first = &points[0].2;
        assert_eq!(first.events[0].competitor_price, Some(0.7));
        // The stored text is the scenario's own, comments kept.
        assert!(
            points[0]
                .1
                .contains("competitor_price = 0.7   # of our list price"),
            "{}",
            points[0].1
        );
        // Inside an inline table.
        let cut = ParamSweep::parse("policies.1.pricing.undercut=0.05").unwrap();
        let p = &cut.scenarios(TEXT, "cut.toml").unwrap()[0];
        assert!(p.1.contains("undercut = 0.05"), "{}", p.1);
        // Every policy's max_move at once; one that had none gets one.
        let all = ParamSweep::parse("policies.*.max_move=0.1").unwrap();
        let p = &all.scenarios(TEXT, "cut.toml").unwrap()[0].2;
        assert!(p.policies.iter().all(|p| p.max_move == Some(0.1)));
        // Whole numbers stay whole; a fraction where one is wanted is refused.
        let days = ParamSweep::parse("days=20,40").unwrap();
        assert_eq!(days.scenarios(TEXT, "x").unwrap()[1].2.days, 40);
        let e = ParamSweep::parse("days=20.5")
            .unwrap()
            .scenarios(TEXT, "x")
            .unwrap_err();
        assert!(e.to_string().contains("whole numbers"), "{e}");
        for (spec, says) in [
            ("events.3.competitor_price=1", "index 3 past"),
            ("nope.x=1", "no \"nope\""),
            ("name=1", "not a number"),
        ] {
            let e = ParamSweep::parse(spec)
                .unwrap()
                .scenarios(TEXT, "x")
                .unwrap_err();
            assert!(e.to_string().contains(says), "{spec}: {e}");
        }
        // A value the scenario refuses is refused before anything runs.
        let e = ParamSweep::parse("policies.1.max_move=-1")
            .unwrap()
            .scenarios(TEXT, "x");
        assert!(e.is_err());
    }
}
