//! The scenario's timed events: resolved against the environment once (the category each
//! applies to, the items each launches), then turned into each day's [`Conditions`].

use crate::env::{Environment, Item};
use crate::scenario::Event;
use crate::{Result, SimError};

use super::Market;

/// What an event refers to in the environment.
pub(super) struct EventTarget {
    /// The category it applies to (`None`: all).
    category: Option<usize>,
    /// The items it launches.
    launch: Vec<usize>,
}

/// Each event's category and launched items, by code and id; an unknown one is an error.
pub(super) fn resolve(events: &[Event], env: &Environment) -> Result<Vec<EventTarget>> {
    events
        .iter()
        .map(|e| {
            Ok(EventTarget {
                category: e
                    .category
                    .as_ref()
                    .map(|code| category_of(env, code, e.day))
                    .transpose()?,
                launch: e
                    .launch
                    .iter()
                    .map(|id| item_of(env, id, e.day))
                    .collect::<Result<Vec<usize>>>()?,
            })
        })
        .collect()
}

fn category_of(env: &Environment, code: &str, day: u32) -> Result<usize> {
    env.categories
        .iter()
        .position(|c| c.code == code)
        .ok_or_else(|| {
            let known: Vec<&str> = env
                .categories
                .iter()
                .map(|c| c.code.as_str())
                .filter(|c| !c.is_empty())
                .collect();
            SimError::Config(format!(
                "event on day {day}: no category \"{code}\" (known: {})",
                known.join(", ")
            ))
        })
}

fn item_of(env: &Environment, id: &str, day: u32) -> Result<usize> {
    env.items
        .iter()
        .position(|i| i.id == id)
        .ok_or_else(|| SimError::Config(format!("event on day {day}: no item \"{id}\" to launch")))
}

/// One day's conditions: per item its competitor price (if any), elasticity factor, promo
/// discount and availability; the traffic factor.
pub(super) struct Conditions {
    pub(super) competitor: Vec<Option<f64>>,
    pub(super) elasticity: Vec<f64>,
    pub(super) promo: Vec<f64>,
    pub(super) in_stock: Vec<bool>,
    pub(super) traffic: f64,
}

impl Conditions {
    /// No event: no competitor, the world's elasticities, list prices, everything in stock.
    fn neutral(n: usize) -> Self {
        Conditions {
            competitor: vec![None; n],
            elasticity: vec![1.0; n],
            promo: vec![0.0; n],
            in_stock: vec![true; n],
            traffic: 1.0,
        }
    }

    /// The effects of an active event on the items of `category` (`None`: all).
    fn apply(&mut self, e: &Event, category: Option<usize>, items: &[Item]) {
        // Every field named: a new kind of event must say here what it does.
        let Event {
            day: _,
            until: _,
            category: _,
            competitor_price,
            elasticity,
            promo,
            traffic,
            stock_out,
            // Before its day, see `Market::conditions`.
            launch: _,
        } = e;
        if let Some(f) = traffic {
            self.traffic *= f;
        }
        for (i, item) in items.iter().enumerate() {
            if category.is_some_and(|c| c != item.category) {
                continue;
            }
            if let Some(f) = competitor_price {
                self.competitor[i] = Some(f * item.list_price);
            }
            if let Some(f) = elasticity {
                self.elasticity[i] *= f;
            }
            if let Some(d) = promo {
                self.promo[i] = *d;
            }
            if *stock_out {
                self.in_stock[i] = false;
            }
        }
    }
}

impl Market {
    /// The conditions of `day`: items not launched yet are out of stock; the active events
    /// apply in the scenario's order.
    pub(super) fn conditions(&self, day: u32) -> Conditions {
        let mut c = Conditions::neutral(self.env.items.len());
        for (e, target) in self.scenario.events.iter().zip(&self.event_targets) {
            if day < e.day {
                for &i in &target.launch {
                    c.in_stock[i] = false;
                }
            }
        }
        for (e, target) in self.scenario.events.iter().zip(&self.event_targets) {
            if e.active(day) {
                c.apply(e, target.category, &self.env.items);
            }
        }
        c
    }
}
