//! # shoplab-synth — a synthetic storefront with known truth
//!
//! Generates, deterministically from a seed, a small e-commerce world —
//! categories, a catalog, shoppers — and simulates browsing sessions whose
//! purchases follow a **multinomial-logit (MNL) demand model** whose
//! parameters are all public. It is used to
//!
//! 1. build the bundled demo workspace ([`WorldConfig::demo`]),
//! 2. produce large REES46-shaped event logs for import benchmarks
//!    ([`WorldConfig::with_target_events`], [`World::write_events_csv`]),
//! 3. give pricing experiments the *true* demand parameters
//!    ([`World::utility`], [`World::choice_probabilities`]).
//!
//! ## Demand model
//!
//! The utility of item `i` for user `u` at price `p` is
//!
//! ```text
//! U(u, i, p) = appeal_i + <emb_u, emb_i> - elasticity_{cat(i)} * mult_u * ln(p)
//! ```
//!
//! and, offered a slate `S` with prices, the shopper buys item `j` with
//! probability `exp(U_j) / (1 + Σ_{k∈S} exp(U_k))`; the `1` is the
//! no-purchase option (utility 0).
//!
//! `appeal_i` already contains `elasticity * ln(base_price_i)`, so that at its
//! list price an item's utility for an average shopper (`mult = 1`) does not
//! depend on its price level; what remains is a per-item *quality* term.
//!
//! ## Session model
//!
//! Each day every user starts `Poisson(sessions_per_user_per_day * activity_u)`
//! sessions (activity is log-normal with mean 1, so there are heavy and light
//! shoppers) at diurnally distributed times. (Equivalently, and that is how it
//! is simulated: a day has `Poisson(n_users * rate)` sessions, each belonging
//! to a user drawn ∝ activity.) A session
//!
//! * picks a category with probability ∝ `popularity_c * exp(1.5 <emb_u, emb_c>)`,
//! * draws candidates from that category ∝ `exp(1.2 * quality_i)` and keeps the
//!   `1 + Poisson(2.2)` with the best affinity `<emb_u, emb_i>` plus Gumbel noise,
//! * views them at the day's price (`base_price` times a mean-reverting ±10%
//!   random walk, with occasional 20%-off promotions — see
//!   [`World::daily_price`]), sometimes viewing an item twice,
//! * draws one MNL choice (or nothing) over the viewed items at those prices;
//!   the chosen item is usually carted, then purchased at the end of the
//!   session; other items are carted with probability `min(0.5, 2.5 p_j)` and
//!   some of those carts are removed again (`remove_from_cart`).
//!
//! Because prices vary day to day independently of everything else, the price
//! elasticity is identifiable from the event log.
//!
//! ## Determinism
//!
//! Everything is a function of [`WorldConfig`] (ChaCha8 streams derived from
//! `seed`): the same config gives byte-identical CSV output on a given
//! platform. `max_events` only truncates the log, so a truncated log is a
//! prefix of the full one.
//!
//! ```
//! use shoplab_synth::{World, WorldConfig};
//! let mut cfg = WorldConfig::demo();
//! cfg.n_users = 50;
//! cfg.days = 2;
//! let world = World::generate(&cfg);
//! let mut csv = Vec::new();
//! let counts = world.write_events_csv(&mut csv, Some(100)).unwrap();
//! assert!(counts.total() <= 100);
//! let p = world.choice_probabilities(0, &[0, 1], &[world.items[0].base_price, world.items[1].base_price]);
//! assert!(p.iter().sum::<f64>() < 1.0);
//! ```

mod events;
mod fmt;
mod names;

pub use events::SessionLog;

use std::io::{self, Write};

use rand::seq::SliceRandom;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal, StandardNormal};

use crate::names::{ADJECTIVES, MODEL_LETTERS, TEMPLATES, USES, capitalize};

/// Dimension of user/item/category latent vectors.
pub const EMBED_DIM: usize = 8;

/// Header of [`World::write_events_csv`] (without the trailing newline).
pub const EVENTS_HEADER: &str =
    "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session";

/// Header of [`World::write_catalog_csv`] (without the trailing newline).
pub const CATALOG_HEADER: &str =
    "item_id,title,description,category_id,category_code,brand,price,cost";

/// Mean number of CSV rows one session produces (views, carts, removals,
/// purchases); measured on generated worlds and used by
/// [`WorldConfig::with_target_events`].
pub const EVENTS_PER_SESSION: f64 = 4.0;

/// Smallest price [`World::utility`] will take the logarithm of.
pub const MIN_PRICE: f64 = 0.01;

// Internal stream ids so catalog, prices and events use independent randomness.
const STREAM_PRICES: u64 = 1;
const STREAM_EVENTS: u64 = 2;

/// Quality (utility at list price) is Normal(QUALITY_MEAN, QUALITY_SD).
const QUALITY_MEAN: f64 = -5.8;
const QUALITY_SD: f64 = 0.8;

/// Parameters of a synthetic world. Everything generated is a pure function of it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WorldConfig {
    /// Master seed; every random stream is derived from it.
    pub seed: u64,
    pub n_users: usize,
    pub n_items: usize,
    pub n_categories: usize,
    /// Size of the brand vocabulary (0 means every item has an empty brand).
    pub n_brands: usize,
    /// Number of simulated days.
    pub days: u32,
    /// Mean number of sessions a user starts per day (users differ by a
    /// log-normal activity factor with mean 1).
    pub sessions_per_user_per_day: f64,
    /// First simulated day as (year, month, day).
    pub start: (i32, u32, u32),
}

/// Why a [`WorldConfig`] cannot be generated.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("sessions_per_user_per_day must be finite and >= 0, got {0}")]
    SessionRate(f64),
    #[error("invalid start date {0:04}-{1:02}-{2:02}")]
    StartDate(i32, u32, u32),
    #[error("n_categories must be > 0 when n_items > 0")]
    NoCategories,
    #[error("{what} = {value} exceeds the supported maximum {max}")]
    TooLarge {
        what: &'static str,
        value: u64,
        max: u64,
    },
}

impl WorldConfig {
    /// The bundled demo: 2 000 users, 300 items, 8 categories, 40 brands,
    /// 30 days from 2019-10-01; about 140k events (≈128k views, 6k carts,
    /// 1.9k purchases, 1.5k removals).
    pub fn demo() -> Self {
        Self {
            seed: 46,
            n_users: 2_000,
            n_items: 300,
            n_categories: 8,
            n_brands: 40,
            days: 30,
            sessions_per_user_per_day: 0.6,
            start: (2019, 10, 1),
        }
    }

    /// A 30-day world sized so that [`World::write_events_csv`] produces about
    /// `n_events` rows (typically within a few percent for `n_events ≥ 100k`).
    /// Catalog size grows like `2·sqrt(n_events)` (200..100k items).
    pub fn with_target_events(n_events: u64, seed: u64) -> Self {
        let n = n_events.max(1) as f64;
        let days = 30u32;
        let rate = 0.25;
        let n_users = (n / (f64::from(days) * rate * EVENTS_PER_SESSION))
            .round()
            .max(1.0) as usize;
        let n_items = ((2.0 * n.sqrt()).round() as usize).clamp(200, 100_000);
        let n_categories = (n_items / 250).clamp(8, 22);
        let n_brands = (n_items / 10).clamp(20, 2_000);
        Self {
            seed,
            n_users,
            n_items,
            n_categories,
            n_brands,
            days,
            sessions_per_user_per_day: rate,
            start: (2019, 10, 1),
        }
    }

    /// Check that the configuration can be generated.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let r = self.sessions_per_user_per_day;
        if !r.is_finite() || r < 0.0 {
            return Err(ConfigError::SessionRate(r));
        }
        let (y, m, d) = self.start;
        if !fmt::is_valid_date(y, m, d) {
            return Err(ConfigError::StartDate(y, m, d));
        }
        if self.n_items > 0 && self.n_categories == 0 {
            return Err(ConfigError::NoCategories);
        }
        let limits: [(&'static str, u64, u64); 4] = [
            ("n_users", self.n_users as u64, u64::from(u32::MAX)),
            ("n_items", self.n_items as u64, u64::from(u32::MAX)),
            ("n_categories", self.n_categories as u64, 1 << 20),
            ("days", u64::from(self.days), 36_500),
        ];
        for (what, value, max) in limits {
            if value > max {
                return Err(ConfigError::TooLarge { what, value, max });
            }
        }
        Ok(())
    }
}

/// A product category.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Category {
    /// REES46-style large numeric id.
    pub category_id: u64,
    /// REES46-style dotted code, e.g. `"electronics.smartphone"`; `""` for
    /// some categories (as in REES46).
    pub code: String,
    /// Price-sensitivity coefficient β > 0 of the utility.
    pub elasticity: f64,
    /// Relative share of sessions landing in this category (before affinity).
    pub popularity: f64,
    /// Category centroid in the latent space (item embeddings scatter around it).
    pub embedding: Vec<f32>,
}

/// A catalog item.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Item {
    pub item_id: u64,
    pub title: String,
    pub description: String,
    /// Index into [`World::categories`].
    pub category: usize,
    /// May be empty.
    pub brand: String,
    /// List price (> 0, two decimals).
    pub base_price: f64,
    /// Unit cost, 50–90% of the list price.
    pub cost: f64,
    /// α of the utility (includes `elasticity * ln(base_price)`).
    pub appeal: f64,
    pub embedding: Vec<f32>,
}

/// A shopper.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct User {
    pub user_id: u64,
    pub embedding: Vec<f32>,
    /// Multiplies the category elasticity (log-normal around 1).
    pub price_sensitivity_mult: f64,
    /// Relative session rate (log-normal, mean 1).
    pub activity: f64,
}

/// Number of rows per event type written by [`World::write_events_csv`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct EventCounts {
    pub view: u64,
    pub cart: u64,
    pub purchase: u64,
    pub remove_from_cart: u64,
}

impl EventCounts {
    pub fn total(&self) -> u64 {
        self.view + self.cart + self.purchase + self.remove_from_cart
    }
}

/// A generated storefront: the config, the truth, and a price schedule.
#[derive(Debug, Clone)]
pub struct World {
    pub config: WorldConfig,
    pub categories: Vec<Category>,
    pub items: Vec<Item>,
    pub users: Vec<User>,
    /// Item indices per category.
    cat_items: Vec<Vec<u32>>,
    /// Cumulative view-popularity weights, parallel to `cat_items`.
    cat_view_cdf: Vec<Vec<f64>>,
    /// Categories that have at least one item.
    active_categories: Vec<usize>,
    /// Daily price in cents, `[item * days + day]`.
    daily_cents: Vec<u32>,
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    StandardNormal.sample(rng)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn to_cents(x: f64) -> u32 {
    (x * 100.0).round().clamp(1.0, f64::from(u32::MAX)) as u32
}

pub(crate) fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum()
}

fn log_normal(mean_one_sigma: f64) -> LogNormal<f64> {
    // E[X] = 1.
    LogNormal::new(-0.5 * mean_one_sigma * mean_one_sigma, mean_one_sigma).expect("valid sigma")
}

impl World {
    /// Generate the world. Panics if `config` is invalid (see [`WorldConfig::validate`]);
    /// use [`World::try_generate`] to get an error instead.
    pub fn generate(config: &WorldConfig) -> World {
        match Self::try_generate(config) {
            Ok(w) => w,
            Err(e) => panic!("invalid WorldConfig: {e}"),
        }
    }

    /// Generate the world, or report why the config is invalid.
    ///
    /// One seeded stream draws, in this order, the categories, the brands, the items and
    /// the shoppers; the daily prices come from a stream of their own.
    pub fn try_generate(config: &WorldConfig) -> Result<World, ConfigError> {
        config.validate()?;
        let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
        let n_cat = if config.n_items == 0 {
            config.n_categories
        } else {
            config.n_categories.max(1)
        };
        let (categories, median_price) = draw_categories(&mut rng, n_cat);
        let brands = Brands::draw(&mut rng, config.n_brands, n_cat);
        let (items, quality) = draw_items(&mut rng, config, &categories, &median_price, &brands);
        let users = draw_users(&mut rng, config, &categories);
        let (cat_items, cat_view_cdf) = view_popularity(&items, &quality, n_cat);
        let active_categories = (0..n_cat).filter(|&c| !cat_items[c].is_empty()).collect();
        let daily_cents = daily_prices(config, &items);
        Ok(World {
            config: config.clone(),
            categories,
            items,
            users,
            cat_items,
            cat_view_cdf,
            active_categories,
            daily_cents,
        })
    }

    /// Multinomial-logit utility of `item` for `user` at `price`:
    /// `appeal + <user.emb, item.emb> - elasticity * mult * ln(price)`.
    /// Prices below [`MIN_PRICE`] are treated as `MIN_PRICE`.
    pub fn utility(&self, user: usize, item: usize, price: f64) -> f64 {
        let u = &self.users[user];
        let it = &self.items[item];
        let beta = self.categories[it.category].elasticity;
        it.appeal + dot(&u.embedding, &it.embedding)
            - beta * u.price_sensitivity_mult * price.max(MIN_PRICE).ln()
    }

    /// Purchase probabilities over a slate with a no-purchase option
    /// (utility 0): one probability per slate entry; they sum to < 1, the
    /// remainder being the probability of buying nothing.
    ///
    /// Panics if `slate` and `prices` differ in length.
    pub fn choice_probabilities(&self, user: usize, slate: &[usize], prices: &[f64]) -> Vec<f64> {
        assert_eq!(
            slate.len(),
            prices.len(),
            "slate and prices must have the same length"
        );
        let mut p: Vec<f64> = slate
            .iter()
            .zip(prices)
            .map(|(&i, &price)| self.utility(user, i, price))
            .collect();
        mnl_in_place(&mut p);
        p
    }

    /// The price of `item` on simulated day `day` (0-based; days past the end
    /// use the last day). Equals `base_price` times a ±15% random-walk factor,
    /// occasionally times 0.8 for a promotion, never below `cost + 0.01`.
    pub fn daily_price(&self, item: usize, day: u32) -> f64 {
        f64::from(self.daily_cents(item, day)) / 100.0
    }

    pub(crate) fn daily_cents(&self, item: usize, day: u32) -> u32 {
        let days = self.config.days as usize;
        if days == 0 {
            return to_cents(self.items[item].base_price);
        }
        let d = (day as usize).min(days - 1);
        self.daily_cents[item * days + d]
    }

    /// Write the catalog as CSV with header
    /// `item_id,title,description,category_id,category_code,brand,price,cost`
    /// (`price` is the list price), quoting fields per RFC 4180 when needed.
    pub fn write_catalog_csv<W: Write>(&self, out: W) -> io::Result<()> {
        let mut w = fmt::Chunked::new(out);
        w.buf.extend_from_slice(CATALOG_HEADER.as_bytes());
        w.buf.push(b'\n');
        for item in &self.items {
            let cat = &self.categories[item.category];
            let b = &mut w.buf;
            fmt::push_u64(b, item.item_id);
            b.push(b',');
            fmt::push_csv_field(b, &item.title);
            b.push(b',');
            fmt::push_csv_field(b, &item.description);
            b.push(b',');
            fmt::push_u64(b, cat.category_id);
            b.push(b',');
            fmt::push_csv_field(b, &cat.code);
            b.push(b',');
            fmt::push_csv_field(b, &item.brand);
            b.push(b',');
            fmt::push_cents(b, u64::from(to_cents(item.base_price)));
            b.push(b',');
            fmt::push_cents(b, u64::from(to_cents(item.cost)));
            b.push(b'\n');
            w.maybe_flush()?;
        }
        w.finish()
    }

    /// Simulate sessions and write a REES46-shaped event log with header
    /// `event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session`.
    ///
    /// `event_time` looks like `2019-10-01 00:00:03 UTC`; `event_type` is one of
    /// `view`, `cart`, `purchase`, `remove_from_cart`; `price` has two
    /// decimals; `user_session` is a random (deterministic) UUID v4. Rows are in
    /// time order. At most `max_events` rows are written (the result is a
    /// prefix of the unlimited log). Returns the number of rows per type.
    ///
    /// Output is chunked internally; wrapping `out` in a `BufWriter` is not needed.
    pub fn write_events_csv<W: Write>(
        &self,
        out: W,
        max_events: Option<u64>,
    ) -> io::Result<EventCounts> {
        events::write_events(self, out, max_events)
    }

    /// Calls `on` with every session of the log [`World::write_events_csv`] writes (the
    /// same sessions, in simulation order), without formatting any CSV.
    pub fn for_each_session(&self, on: &mut dyn FnMut(&SessionLog)) {
        events::for_each_session(self, on)
    }
}

/// Turn utilities into MNL probabilities with an outside option of utility 0.
pub(crate) fn mnl_in_place(u: &mut [f64]) {
    let m = u.iter().copied().fold(0.0f64, f64::max);
    let mut denom = (-m).exp();
    for x in u.iter_mut() {
        *x = (*x - m).exp();
        denom += *x;
    }
    for x in u.iter_mut() {
        *x /= denom;
    }
}

/// The categories (a template each, a price sensitivity, a popularity, a taste vector)
/// and each one's median price.
fn draw_categories(rng: &mut ChaCha8Rng, n_cat: usize) -> (Vec<Category>, Vec<f64>) {
    let pop_dist = log_normal(0.6);
    let mut categories = Vec::with_capacity(n_cat);
    let mut median_price = Vec::with_capacity(n_cat);
    for c in 0..n_cat {
        let tpl = &TEMPLATES[c % TEMPLATES.len()];
        let code = if c % 5 == 4 {
            String::new()
        } else {
            tpl.code.to_string()
        };
        let category_id =
            2_053_013_552_000_000_000u64 + ((c as u64) << 32) + u64::from(rng.next_u32());
        let elasticity = (1.6 * (0.25 * normal(rng)).exp()).clamp(0.8, 3.5);
        let popularity = pop_dist.sample(rng);
        let embedding = (0..EMBED_DIM)
            .map(|_| (0.35 * normal(rng)) as f32)
            .collect();
        median_price.push(tpl.median_price * (0.15 * normal(rng)).exp());
        categories.push(Category {
            category_id,
            code,
            elasticity,
            popularity,
            embedding,
        });
    }
    (categories, median_price)
}

/// The brands, and which of them each category stocks.
struct Brands {
    names: Vec<String>,
    /// Each category's pool of brands (indices into `names`).
    by_category: Vec<Vec<usize>>,
    /// Brand k of a pool gets Zipf weight 1/(k+1): the cumulative weights.
    zipf_cdf: Vec<f64>,
}

impl Brands {
    fn draw(rng: &mut ChaCha8Rng, n_brands: usize, n_cat: usize) -> Self {
        let mut stems = names::brand_stems();
        stems.shuffle(rng);
        let names: Vec<String> = (0..n_brands)
            .map(|b| {
                let stem = &stems[b % stems.len()];
                let round = b / stems.len();
                if round == 0 {
                    stem.clone()
                } else {
                    format!("{stem}{}", round + 1)
                }
            })
            .collect();
        // Each category stocks a random subset of brands.
        let pool_size = if names.is_empty() {
            0
        } else {
            (names.len() * 3 / n_cat.max(1))
                .clamp(3, 40)
                .min(names.len())
        };
        let by_category = (0..n_cat)
            .map(|_| rand::seq::index::sample(rng, names.len(), pool_size).into_vec())
            .collect();
        let zipf_cdf = (0..pool_size)
            .scan(0.0, |acc, k| {
                *acc += 1.0 / (k as f64 + 1.0);
                Some(*acc)
            })
            .collect();
        Brands {
            names,
            by_category,
            zipf_cdf,
        }
    }

    /// A brand of `category`'s pool (empty: an unbranded item, 8% of them).
    fn pick(&self, rng: &mut ChaCha8Rng, category: usize) -> String {
        if self.zipf_cdf.is_empty() || rng.random::<f64>() < 0.08 {
            String::new()
        } else {
            self.names[self.by_category[category][sample_cdf(rng, &self.zipf_cdf)]].clone()
        }
    }
}

/// The items (title, description, price, cost, appeal, taste vector) and each one's
/// quality (its utility at price 1 before the category's price term).
fn draw_items(
    rng: &mut ChaCha8Rng,
    config: &WorldConfig,
    categories: &[Category],
    median_price: &[f64],
    brands: &Brands,
) -> (Vec<Item>, Vec<f64>) {
    let n_cat = categories.len();
    let cat_weight_cdf: Vec<f64> = categories
        .iter()
        .scan(0.0, |acc, c| {
            *acc += c.popularity.sqrt();
            Some(*acc)
        })
        .collect();
    let mut items = Vec::with_capacity(config.n_items);
    let mut quality = Vec::with_capacity(config.n_items);
    for i in 0..config.n_items {
        let category = if i < n_cat {
            i
        } else {
            sample_cdf(rng, &cat_weight_cdf)
        };
        let tpl = &TEMPLATES[category % TEMPLATES.len()];
        let brand = brands.pick(rng, category);
        let variant = rng.random_range(0..tpl.variants.len());
        let (title, description) = item_text(rng, tpl, &brand, variant);
        let raw =
            median_price[category] * (0.45 * normal(rng)).exp() * (1.0 + 0.12 * variant as f64);
        let base_price = round2(raw.max(1.0));
        let margin = rng.random_range(0.10..0.50);
        let cost = round2(base_price * (1.0 - margin)).min(round2(base_price - 0.01));
        let q = QUALITY_MEAN + QUALITY_SD * normal(rng);
        let appeal = q + categories[category].elasticity * base_price.ln();
        let embedding = categories[category]
            .embedding
            .iter()
            .map(|&c| c + (0.3 * normal(rng)) as f32)
            .collect();
        let item_id = 1_000_000 + 13 * i as u64 + rng.random_range(0..13u64);
        quality.push(q);
        items.push(Item {
            item_id,
            title,
            description,
            category,
            brand,
            base_price,
            cost,
            appeal,
            embedding,
        });
    }
    (items, quality)
}

/// An item's title (brand, noun, model code, variant) and one-sentence description.
fn item_text(
    rng: &mut ChaCha8Rng,
    tpl: &names::Template,
    brand: &str,
    variant: usize,
) -> (String, String) {
    let letter = MODEL_LETTERS[rng.random_range(0..MODEL_LETTERS.len())];
    let number = rng.random_range(10..100u32) * 10;
    let title = if brand.is_empty() {
        format!("{} {letter}{number} {}", tpl.noun, tpl.variants[variant])
    } else {
        format!(
            "{} {} {letter}{number} {}",
            capitalize(brand),
            tpl.noun,
            tpl.variants[variant]
        )
    };
    let adj = ADJECTIVES[rng.random_range(0..ADJECTIVES.len())];
    let feature = tpl.features[rng.random_range(0..tpl.features.len())];
    let usage = USES[rng.random_range(0..USES.len())];
    let by = if brand.is_empty() {
        String::new()
    } else {
        format!(" by {}", capitalize(brand))
    };
    let description = format!(
        "{adj} {}{by} with {feature}, {usage}.",
        tpl.noun.to_lowercase()
    );
    (title, description)
}

/// The shoppers: a favourite category whose taste they lean to, a price-sensitivity
/// multiplier and an activity level.
fn draw_users(rng: &mut ChaCha8Rng, config: &WorldConfig, categories: &[Category]) -> Vec<User> {
    let pop_cdf: Vec<f64> = categories
        .iter()
        .scan(0.0, |acc, c| {
            *acc += c.popularity;
            Some(*acc)
        })
        .collect();
    let mult_dist = log_normal(0.1);
    let activity_dist = log_normal(0.8);
    let mut users = Vec::with_capacity(config.n_users);
    for u in 0..config.n_users {
        let fav = if pop_cdf.is_empty() {
            None
        } else {
            Some(sample_cdf(rng, &pop_cdf))
        };
        let embedding = (0..EMBED_DIM)
            .map(|d| {
                let centre = fav.map_or(0.0, |f| 0.7 * categories[f].embedding[d]);
                centre + (0.35 * normal(rng)) as f32
            })
            .collect();
        users.push(User {
            user_id: 512_000_000 + 3 * u as u64 + rng.random_range(0..3u64),
            embedding,
            price_sensitivity_mult: mult_dist.sample(rng),
            activity: activity_dist.sample(rng),
        });
    }
    users
}

/// Each category's items and the cumulative weights (exp(1.2 · quality)) a view picks
/// them by.
fn view_popularity(
    items: &[Item],
    quality: &[f64],
    n_cat: usize,
) -> (Vec<Vec<u32>>, Vec<Vec<f64>>) {
    let mut cat_items = vec![Vec::new(); n_cat];
    let mut cat_view_cdf = vec![Vec::new(); n_cat];
    for (i, item) in items.iter().enumerate() {
        let c = item.category;
        let prev = cat_view_cdf[c].last().copied().unwrap_or(0.0);
        cat_items[c].push(i as u32);
        cat_view_cdf[c].push(prev + (1.2 * quality[i]).exp());
    }
    (cat_items, cat_view_cdf)
}

/// Every item's price each day, in cents: the log-multiplier is an AR(1) with rho 0.8,
/// innovation sd 0.04 (stationary sd ~0.067), clamped to ±0.15; plus a 20%-off promotion
/// on 4% of days. Prices never drop below cost + 0.01.
fn daily_prices(config: &WorldConfig, items: &[Item]) -> Vec<u32> {
    let mut prng = ChaCha8Rng::seed_from_u64(config.seed);
    prng.set_stream(STREAM_PRICES);
    let days = config.days as usize;
    let mut daily_cents = Vec::with_capacity(items.len() * days);
    for item in items {
        let mut x = 0.067 * normal(&mut prng);
        let floor = to_cents(item.cost) + 1;
        for day in 0..days {
            if day > 0 {
                x = 0.8 * x + 0.04 * normal(&mut prng);
            }
            x = x.clamp(-0.15, 0.15);
            let promo = if prng.random::<f64>() < 0.04 {
                0.8
            } else {
                1.0
            };
            daily_cents.push(to_cents(item.base_price * x.exp() * promo).max(floor));
        }
    }
    daily_cents
}

/// Index drawn proportionally to the increments of a cumulative-weight vector.
pub(crate) fn sample_cdf<R: Rng + ?Sized>(rng: &mut R, cdf: &[f64]) -> usize {
    let total = cdf[cdf.len() - 1];
    let r = rng.random::<f64>() * total;
    cdf.partition_point(|&c| c <= r).min(cdf.len() - 1)
}
