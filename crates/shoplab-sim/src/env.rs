//! The simulated shop's truth: categories, items, shoppers and their demand, and the
//! shape of arrivals. Built from a synthetic world ([`Environment::from_world`]), whose
//! parameters are known, or from a fit to a workspace's own logs (calibration, a layer
//! above this one).
//!
//! The utility of item `i` at price `p` for shopper `u` is
//!
//! ```text
//! U(u, i, p) = appeal_i + <emb_u, emb_i> − elasticity_cat(i) · mult_u · ln p
//! ```
//!
//! and a shopper shown a slate buys one item (or none, utility 0) by the multinomial logit.

use serde::{Deserialize, Serialize};
use shoplab_synth::World;

/// A product category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Category {
    pub code: String,
    /// Price sensitivity β (> 0: demand falls as the price rises).
    pub elasticity: f64,
    /// Relative share of sessions that land in the category.
    pub share: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// The shop's item id.
    pub id: String,
    /// Index into [`Environment::categories`].
    pub category: usize,
    pub list_price: f64,
    pub cost: f64,
    /// The utility's intercept (it includes `elasticity · ln(list_price)`, so that an
    /// average shopper's utility at the list price is the item's quality).
    pub appeal: f64,
    pub embedding: Vec<f32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// The shop's user id.
    pub id: String,
    pub embedding: Vec<f32>,
    /// Multiplies the category's price sensitivity (1: average).
    pub price_mult: f64,
    /// Relative session rate (mean 1).
    pub activity: f64,
}

/// Everything the market simulates with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    /// Where it comes from, in words ("synthetic world, seed 46", "calibration 2").
    pub origin: String,
    pub categories: Vec<Category>,
    pub items: Vec<Item>,
    pub users: Vec<User>,
    /// Relative sessions per day of the week, day 0 of the simulation first (mean 1);
    /// empty: flat.
    pub weekly: Vec<f64>,
    /// Sessions per logged day, for replaying the log's arrivals (empty: none logged).
    pub logged_sessions: Vec<u64>,
}

impl Environment {
    /// The truth of a synthetic world, with its ids as strings.
    pub fn from_world(world: &World, origin: String) -> Self {
        Environment {
            origin,
            categories: world
                .categories
                .iter()
                .map(|c| Category {
                    code: c.code.clone(),
                    elasticity: c.elasticity,
                    share: c.popularity,
                })
                .collect(),
            items: world
                .items
                .iter()
                .map(|i| Item {
                    id: i.item_id.to_string(),
                    category: i.category,
                    list_price: i.base_price,
                    cost: i.cost,
                    appeal: i.appeal,
                    embedding: i.embedding.clone(),
                })
                .collect(),
            users: world
                .users
                .iter()
                .map(|u| User {
                    id: u.user_id.to_string(),
                    embedding: u.embedding.clone(),
                    price_mult: u.price_sensitivity_mult,
                    activity: u.activity,
                })
                .collect(),
            weekly: Vec::new(),
            logged_sessions: Vec::new(),
        }
    }

    /// The utility of item `i` at price `p` for shopper `u` (see the module's formula).
    pub fn utility(&self, u: usize, i: usize, p: f64) -> f64 {
        let item = &self.items[i];
        let user = &self.users[u];
        let beta = self.categories[item.category].elasticity;
        item.appeal + dot(&user.embedding, &item.embedding)
            - beta * user.price_mult * p.max(0.01).ln()
    }

    /// Length of the embeddings (0 when there are none).
    pub fn dim(&self) -> usize {
        self.items.first().map_or(0, |i| i.embedding.len())
    }
}

pub(crate) fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum()
}
