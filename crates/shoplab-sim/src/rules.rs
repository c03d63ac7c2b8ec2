//! The price-rules layer: what every policy's price passes through before shoppers see
//! it, shop-wide or per category — a floor at cost plus a margin, a ceiling at a multiple
//! of the list price, a largest move per day, and the prices allowed (charm endings such as
//! .99, or a ladder of price points).
//!
//! ```toml
//! [[rules]]                 # every category
//! floor_margin = 0.05       # never below cost × 1.05
//! ending = 0.99             # prices end in .99
//!
//! [[rules]]
//! category = "electronics.smartphone"
//! ceiling = 1.2             # at most 120% of list
//! max_move = 0.05           # ±5% a day
//! ladder = [99.0, 149.0, 199.0, 249.0]
//! ```
//!
//! A category's rule overrides the shop-wide one setting by setting (its ending or ladder
//! replaces the shop-wide ending or ladder). The oracle passes through the same rules, so
//! regret is measured against the best the rules allow.

use serde::{Deserialize, Serialize};

use crate::env::{Environment, Item};
use crate::{Result, SimError};

/// A price rule of a scenario (`[[rules]]`): one category's, or every category's.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceRule {
    /// The category it applies to (its code); none: every category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The lowest price: cost × (1 + floor_margin) (0.05: five percent over cost).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor_margin: Option<f64>,
    /// The highest price, as a multiple of the list price (1.2: 120% of list).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ceiling: Option<f64>,
    /// The largest change from yesterday's price, as a fraction of it (0.05: ±5%).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_move: Option<f64>,
    /// Prices end in this fraction of a unit (0.99: 4.99, 12.99; 0: whole units).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ending: Option<f64>,
    /// The allowed prices, in money (a price ladder); the nearest allowed one is offered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ladder: Vec<f64>,
}

impl PriceRule {
    /// Its settings in range, at least one of them set, an ending or a ladder (not both).
    pub(crate) fn check(&self) -> std::result::Result<(), String> {
        let PriceRule {
            category: _,
            floor_margin,
            ceiling,
            max_move,
            ending,
            ladder,
        } = self;
        if floor_margin.is_none()
            && ceiling.is_none()
            && max_move.is_none()
            && ending.is_none()
            && ladder.is_empty()
        {
            return Err("a rule needs floor_margin, ceiling, max_move, ending or ladder".into());
        }
        if floor_margin.is_some_and(|m| m <= -1.0) {
            return Err("floor_margin must be above -1 (a floor above zero)".into());
        }
        if ceiling.is_some_and(|c| c <= 0.0) {
            return Err("ceiling must be positive (a multiple of the list price)".into());
        }
        if max_move.is_some_and(|m| !(m > 0.0 && m <= 1.0)) {
            return Err("max_move must be in (0, 1]".into());
        }
        if ending.is_some_and(|e| !(0.0..1.0).contains(&e)) {
            return Err("ending must be in [0, 1) (0.99: prices end in .99)".into());
        }
        if ladder.iter().any(|p| *p <= 0.0) {
            return Err("the ladder's prices must be positive".into());
        }
        if ending.is_some() && !ladder.is_empty() {
            return Err("a rule has an ending or a ladder, not both".into());
        }
        Ok(())
    }

    /// What the rule does, in words.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(m) = self.floor_margin {
            parts.push(format!("floor cost +{:.0}%", m * 100.0));
        }
        if let Some(c) = self.ceiling {
            parts.push(format!("ceiling {:.0}% of list", c * 100.0));
        }
        if let Some(m) = self.max_move {
            parts.push(format!("±{:.0}% a day", m * 100.0));
        }
        if let Some(e) = self.ending {
            parts.push(format!("ends in {e:.2}").replace("0.", "."));
        }
        if !self.ladder.is_empty() {
            parts.push(format!("ladder of {} prices", self.ladder.len()));
        }
        parts.join(", ")
    }
}

/// The prices a rule allows.
#[derive(Debug, Clone, PartialEq)]
enum Allowed {
    Any,
    Ending(f64),
    Ladder(Vec<f64>),
}

/// One category's rule with the shop-wide one merged in.
#[derive(Debug, Clone, PartialEq)]
struct Rule {
    floor_margin: Option<f64>,
    ceiling: Option<f64>,
    max_move: Option<f64>,
    allowed: Allowed,
}

impl Rule {
    fn none() -> Self {
        Rule {
            floor_margin: None,
            ceiling: None,
            max_move: None,
            allowed: Allowed::Any,
        }
    }

    /// This rule with `r`'s settings over it.
    fn over(&self, r: &PriceRule) -> Self {
        let allowed = match (r.ending, r.ladder.is_empty()) {
            (Some(e), _) => Allowed::Ending(e),
            (None, false) => Allowed::Ladder(r.ladder.clone()),
            (None, true) => self.allowed.clone(),
        };
        Rule {
            floor_margin: r.floor_margin.or(self.floor_margin),
            ceiling: r.ceiling.or(self.ceiling),
            max_move: r.max_move.or(self.max_move),
            allowed,
        }
    }
}

/// The scenario's rules resolved against the environment: each category's rule.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceRules {
    /// Per category; empty when the scenario has no rules.
    by_category: Vec<Rule>,
}

impl PriceRules {
    /// Each category's rule: the shop-wide rules, then its own over them. An unknown
    /// category, or two rules for one category, is an error.
    pub fn resolve(rules: &[PriceRule], env: &Environment) -> Result<Self> {
        if rules.is_empty() {
            return Ok(PriceRules {
                by_category: Vec::new(),
            });
        }
        let shop = rules
            .iter()
            .filter(|r| r.category.is_none())
            .fold(Rule::none(), |acc, r| acc.over(r));
        let mut by_category = vec![shop; env.categories.len()];
        let mut seen = vec![false; env.categories.len()];
        for r in rules {
            let Some(code) = &r.category else { continue };
            let c = env
                .categories
                .iter()
                .position(|c| &c.code == code)
                .ok_or_else(|| {
                    let known: Vec<&str> = env.categories.iter().map(|c| c.code.as_str()).collect();
                    SimError::Config(format!(
                        "rule for category \"{code}\": no such category (known: {})",
                        known.join(", ")
                    ))
                })?;
            if std::mem::replace(&mut seen[c], true) {
                return Err(SimError::Config(format!(
                    "two rules for category \"{code}\": give it one"
                )));
            }
            by_category[c] = by_category[c].over(r);
        }
        Ok(PriceRules { by_category })
    }

    /// The prices the rules allow `item` today, `last` being yesterday's price: (lowest,
    /// highest), the floor winning over the ceiling and both over the move; `None` without
    /// rules.
    pub fn bounds(&self, item: &Item, last: f64) -> Option<(f64, f64)> {
        let rule = self.by_category.get(item.category)?;
        let (mut lo, mut hi) = (0.0, f64::INFINITY);
        if let Some(m) = rule.max_move {
            (lo, hi) = (last * (1.0 - m), last * (1.0 + m));
        }
        if let Some(c) = rule.ceiling {
            hi = hi.min(c * item.list_price);
            lo = lo.min(hi);
        }
        if let Some(m) = rule.floor_margin {
            lo = lo.max(item.cost * (1.0 + m));
            hi = hi.max(lo);
        }
        Some((lo, hi))
    }

    /// `price` (what the policy set for `item`) as the rules allow it: within
    /// [`PriceRules::bounds`], then the allowed price nearest to it (one within the floor and
    /// ceiling first, then one within the move).
    pub fn apply(&self, item: &Item, price: f64, last: f64) -> f64 {
        let Some(rule) = self.by_category.get(item.category) else {
            return price;
        };
        let (lo, hi) = self.bounds(item, last).unwrap_or((0.0, f64::INFINITY));
        let p = price.clamp(lo, hi);
        let candidates: Vec<f64> = match &rule.allowed {
            Allowed::Any => return p,
            Allowed::Ending(e) => {
                let k = p.floor();
                [k - 1.0 + e, k + e, k + 1.0 + e]
                    .into_iter()
                    .filter(|c| *c > 0.0)
                    .collect()
            }
            Allowed::Ladder(l) => l.clone(),
        };
        let floor = rule.floor_margin.map(|m| item.cost * (1.0 + m));
        let ceiling = rule.ceiling.map(|c| c * item.list_price);
        let key = |c: f64| {
            (
                floor.is_some_and(|f| c < f - 1e-9),
                ceiling.is_some_and(|h| c > h + 1e-9),
                !(lo - 1e-9..=hi + 1e-9).contains(&c),
                (c - p).abs(),
            )
        };
        candidates
            .into_iter()
            .min_by(|&a, &b| {
                let (ka, kb) = (key(a), key(b));
                (ka.0, ka.1, ka.2)
                    .cmp(&(kb.0, kb.1, kb.2))
                    .then(ka.3.total_cmp(&kb.3))
            })
            .unwrap_or(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{Category, Item};

    fn item(category: usize, list_price: f64, cost: f64) -> Item {
        Item {
            id: "i".into(),
            category,
            list_price,
            cost,
            appeal: 0.0,
            embedding: Vec::new(),
        }
    }

    fn env(codes: &[&str]) -> Environment {
        Environment {
            origin: "test".into(),
            categories: codes
                .iter()
                .map(|c| Category {
                    code: (*c).into(),
                    elasticity: 1.0,
                    share: 1.0,
                })
                .collect(),
            items: Vec::new(),
            users: Vec::new(),
            weekly: Vec::new(),
            logged_sessions: Vec::new(),
        }
    }

    #[test]
    fn every_price_passes_the_floor_ceiling_move_and_endings() {
        let rules = [
            PriceRule {
                floor_margin: Some(0.1),
                ending: Some(0.99),
                ..PriceRule::default()
            },
            PriceRule {
                category: Some("phones".into()),
                ceiling: Some(1.2),
                max_move: Some(0.05),
                ladder: vec![99.0, 149.0, 199.0],
                ..PriceRule::default()
            },
        ];
        let r = PriceRules::resolve(&rules, &env(&["books", "phones"])).unwrap();
        let book = item(0, 20.0, 10.0);
        // Charm ending: 17.3 → 16.99 (nearest .99); below the floor (11.0) → 11.99.
        assert_eq!(r.apply(&book, 17.3, 20.0), 16.99);
        assert_eq!(r.apply(&book, 8.0, 20.0), 11.99);
        // Phones: the ladder, within ±5% of yesterday and at most 1.2 × list.
        let phone = item(1, 150.0, 90.0);
        assert_eq!(r.apply(&phone, 150.0, 150.0), 149.0);
        // 200 asked, the move allows 157.5 at most: 149 is the nearest rung within it.
        assert_eq!(r.apply(&phone, 200.0, 150.0), 149.0);
        // Yesterday 190: the move allows 180.5 … 199.5, the ceiling 180: none within both,
        // so within the floor and ceiling first (149), not the move's 199.
        assert_eq!(r.apply(&phone, 199.0, 190.0), 149.0);
        let (lo, hi) = r.bounds(&phone, 150.0).unwrap();
        assert!((lo - 142.5).abs() < 1e-9 && (hi - 157.5).abs() < 1e-9);
        // The floor wins over the ceiling: cost 200 > 1.2 × 150.
        let dear = item(1, 150.0, 200.0);
        assert!((r.bounds(&dear, 150.0).unwrap().0 - 220.0).abs() < 1e-9);
        // No rules: the price as set.
        let none = PriceRules::resolve(&[], &env(&["books"])).unwrap();
        assert_eq!(none.apply(&book, 17.3, 20.0), 17.3);
        assert!(none.bounds(&book, 20.0).is_none());
    }

    #[test]
    fn rules_that_cannot_apply_are_refused() {
        let e = env(&["books"]);
        let unknown = PriceRule {
            category: Some("toys".into()),
            ceiling: Some(1.1),
            ..PriceRule::default()
        };
        let msg = PriceRules::resolve(&[unknown], &e).unwrap_err().to_string();
        assert!(msg.contains("\"toys\"") && msg.contains("books"), "{msg}");
        let twice = PriceRule {
            category: Some("books".into()),
            ceiling: Some(1.1),
            ..PriceRule::default()
        };
        let msg = PriceRules::resolve(&[twice.clone(), twice], &e)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("two rules"), "{msg}");
        for (bad, says) in [
            (PriceRule::default(), "needs"),
            (
                PriceRule {
                    ending: Some(1.5),
                    ..PriceRule::default()
                },
                "ending",
            ),
            (
                PriceRule {
                    ending: Some(0.99),
                    ladder: vec![9.99],
                    ..PriceRule::default()
                },
                "not both",
            ),
            (
                PriceRule {
                    floor_margin: Some(-1.0),
                    ..PriceRule::default()
                },
                "floor_margin",
            ),
        ] {
            let msg = bad.check().unwrap_err();
            assert!(msg.contains(says), "{msg}");
        }
    }
}
