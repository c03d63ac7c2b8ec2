//! The workspace profile: counts, time range, funnel, sparsity, activity and price statistics.
//! Means are rounded to 9 decimals so that a profile does not depend on the order in which
//! DuckDB's threads added the numbers up.

use serde::{Deserialize, Serialize};

use crate::quality::{Finding, ValueChecks};

use crate::dialect;
use crate::error::Result;
use crate::workspace::Workspace;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quantiles {
    pub min: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TypeCount {
    pub event_type: String,
    pub events: u64,
    pub users: u64,
}

/// view → cart → purchase, counted over distinct (user, item) pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Funnel {
    pub viewed_pairs: u64,
    pub carted_pairs: u64,
    pub purchased_pairs: u64,
    /// Viewed pairs that were carted.
    pub view_to_cart: Option<f64>,
    /// Carted pairs that were purchased.
    pub cart_to_purchase: Option<f64>,
    /// Viewed pairs that were purchased.
    pub view_to_purchase: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryPrices {
    pub category: String,
    pub items: u64,
    pub min: f64,
    pub p50: f64,
    pub mean: f64,
    pub max: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub events: u64,
    pub users: u64,
    pub items: u64,
    pub catalog_items: u64,
    pub sessions: u64,
    pub bandit_rows: u64,
    pub first_event: Option<String>,
    pub last_event: Option<String>,
    pub days: f64,
    pub by_type: Vec<TypeCount>,
    pub funnel: Funnel,
    /// 1 − (distinct user–item pairs) / (users × items).
    pub sparsity: Option<f64>,
    pub events_per_user: Option<Quantiles>,
    pub events_per_item: Option<Quantiles>,
    pub rating_mean: Option<f64>,
    /// Rows identical to another row in every column but `import_id`.
    pub duplicate_events: u64,
    pub price_by_category: Vec<CategoryPrices>,
    /// Purchases' value (guests' included), before refunds.
    #[serde(default)]
    pub revenue: f64,
    /// Refunds' value.
    #[serde(default)]
    pub refunded: f64,
    /// Refunds, guest rows and suspicious values over the whole log.
    #[serde(default)]
    pub checks: ValueChecks,
    /// The non-zero checks, each with the query that lists its rows.
    #[serde(default)]
    pub findings: Vec<Finding>,
    /// Where the event figures were computed when not in this workspace: a Spark Connect
    /// endpoint and the data it read (the catalog, bandit and value checks are then empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub computed_on: Option<String>,
}

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

impl Funnel {
    /// The funnel of the pair counts viewed, carted, purchased, viewed and carted, carted
    /// and purchased, viewed and purchased ([`dialect::FUNNEL`]'s columns after the first).
    pub fn of(
        [
            viewed,
            carted,
            purchased,
            view_cart,
            cart_purchase,
            view_purchase,
        ]: [u64; 6],
    ) -> Self {
        Funnel {
            viewed_pairs: viewed,
            carted_pairs: carted,
            purchased_pairs: purchased,
            view_to_cart: ratio(view_cart, viewed),
            cart_to_purchase: ratio(cart_purchase, carted),
            view_to_purchase: ratio(view_purchase, viewed),
        }
    }
}

/// 1 − (distinct user–item pairs) / (users × items); `None` without users or items.
pub fn sparsity(pairs: u64, users: u64, items: u64) -> Option<f64> {
    (users > 0 && items > 0).then(|| 1.0 - pairs as f64 / (users as f64 * items as f64))
}

/// The totals of `events` the profile starts from.
struct Totals {
    events: i64,
    users: i64,
    items: i64,
    sessions: i64,
    first: Option<String>,
    last: Option<String>,
    days: Option<f64>,
    rating_mean: Option<f64>,
}

impl Workspace {
    /// Computes the profile and stores it in `profiles`.
    pub fn profile(&self) -> Result<Profile> {
        let c = self.connection();
        let Totals {
            events,
            users,
            items,
            sessions,
            first,
            last,
            days,
            rating_mean,
        } = self.event_totals()?;
        let catalog_items: i64 = c.query_row("SELECT count(*) FROM items", [], |r| r.get(0))?;
        let bandit_rows: i64 = c.query_row("SELECT count(*) FROM bandit_log", [], |r| r.get(0))?;
        let by_type = self.counts_by_type()?;
        let (pairs, funnel) = self.funnel()?;
        let sparsity = sparsity(pairs as u64, users as u64, items as u64);
        let events_per_user = self.events_per("user_id")?;
        let events_per_item = self.events_per("item_id")?;
        let checks = ValueChecks::of_log(self)?;
        let (revenue, refunded) = self.revenue()?;
        let price_by_category = self.price_by_category()?;
        let profile = Profile {
            events: events as u64,
            users: users as u64,
            items: items as u64,
            catalog_items: catalog_items as u64,
            sessions: sessions as u64,
            bandit_rows: bandit_rows as u64,
            first_event: first,
            last_event: last,
            days: days.unwrap_or(0.0),
            by_type,
            funnel,
            sparsity,
            events_per_user,
            events_per_item,
            rating_mean,
            duplicate_events: checks.repeated,
            price_by_category,
            revenue,
            refunded,
            checks,
            findings: checks.findings(None),
            computed_on: None,
        };
        self.store_profile(&profile)?;
        Ok(profile)
    }

    fn event_totals(&self) -> Result<Totals> {
        Ok(self
            .connection()
            .query_row(dialect::TOTALS.duckdb, [], |r| {
                Ok(Totals {
                    events: r.get(0)?,
                    users: r.get(1)?,
                    items: r.get(2)?,
                    sessions: r.get(3)?,
                    first: r.get(4)?,
                    last: r.get(5)?,
                    days: r.get(6)?,
                    rating_mean: r.get(7)?,
                })
            })?)
    }

    fn counts_by_type(&self) -> Result<Vec<TypeCount>> {
        let mut stmt = self.connection().prepare(dialect::BY_TYPE.duckdb)?;
        let by_type = stmt
            .query_map([], |r| {
                Ok(TypeCount {
                    event_type: r.get(0)?,
                    events: r.get::<_, i64>(1)? as u64,
                    users: r.get::<_, i64>(2)? as u64,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(by_type)
    }

    /// The number of distinct (user, item) pairs, and the funnel over them.
    fn funnel(&self) -> Result<(i64, Funnel)> {
        let (pairs, counts) = self
            .connection()
            .query_row(dialect::FUNNEL.duckdb, [], |r| {
                let mut counts = [0u64; 6];
                for (k, c) in counts.iter_mut().enumerate() {
                    *c = r.get::<_, i64>(k + 1)? as u64;
                }
                Ok((r.get::<_, i64>(0)?, counts))
            })?;
        Ok((pairs, Funnel::of(counts)))
    }

    /// Quantiles of the number of events per `key` (a column of `events`).
    fn events_per(&self, key: &str) -> Result<Option<Quantiles>> {
        let (sql, _) = dialect::events_per(key);
        let q = self.connection().query_row(&sql, [], |r| {
            Ok(r.get::<_, Option<f64>>(0)?
                .map(|min| -> Result<Quantiles, duckdb::Error> {
                    Ok(Quantiles {
                        min,
                        p25: r.get(1)?,
                        p50: r.get(2)?,
                        p75: r.get(3)?,
                        p90: r.get(4)?,
                        p99: r.get(5)?,
                        max: r.get(6)?,
                        mean: r.get(7)?,
                    })
                }))
        })?;
        Ok(q.transpose()?)
    }

    /// The value of purchases and of refunds.
    fn revenue(&self) -> Result<(f64, f64)> {
        Ok(self
            .connection()
            .query_row(dialect::REVENUE.duckdb, [], |r| Ok((r.get(0)?, r.get(1)?)))?)
    }

    fn price_by_category(&self) -> Result<Vec<CategoryPrices>> {
        let mut stmt = self.connection().prepare(
            "SELECT coalesce(category, '(none)'), count(*), min(price), median(price), round(avg(price), 9), max(price)
             FROM items WHERE price IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 50",
        )?;
        let prices = stmt
            .query_map([], |r| {
                Ok(CategoryPrices {
                    category: r.get(0)?,
                    items: r.get::<_, i64>(1)? as u64,
                    min: r.get(2)?,
                    p50: r.get(3)?,
                    mean: r.get(4)?,
                    max: r.get(5)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(prices)
    }

    /// Stores a profile in `profiles` (one computed elsewhere: [`Profile::computed_on`]).
    pub fn store_profile(&self, profile: &Profile) -> Result<()> {
        let json = serde_json::to_string(profile).expect("profile serializes");
        self.connection().execute(
            "INSERT INTO profiles SELECT coalesce(max(profile_id), 0) + 1, CAST(now() AS TIMESTAMP), ? FROM profiles",
            [json],
        )?;
        Ok(())
    }

    /// The most recently stored profile, if any.
    pub fn last_profile(&self) -> Result<Option<Profile>> {
        let mut stmt = self
            .connection()
            .prepare("SELECT report FROM profiles ORDER BY profile_id DESC LIMIT 1")?;
        let mut rows = stmt.query([])?;
        Ok(match rows.next()? {
            Some(r) => serde_json::from_str(&r.get::<_, String>(0)?).ok(),
            None => None,
        })
    }
}

/// Histograms for the profile's charts (computed on demand, not stored).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Distributions {
    /// Users by their number of events, in powers of two: (bin k: 2^k … 2^(k+1) − 1, users).
    pub events_per_user: Vec<(i32, u64)>,
    /// Items by their number of events, likewise.
    pub events_per_item: Vec<(i32, u64)>,
    /// Per category (the eight with the most items), items by list price in bins of a
    /// quarter decade: (bin k: 10^(k/4) … 10^((k+1)/4), items).
    pub prices: Vec<(String, Vec<(i32, u64)>)>,
}

impl Workspace {
    /// The activity and price histograms of the profile charts.
    pub fn distributions(&self) -> Result<Distributions> {
        let c = self.connection();
        let pairs = |sql: &str| -> Result<Vec<(i32, u64)>> {
            let mut stmt = c.prepare(sql)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((r.get::<_, i32>(0)?, r.get::<_, i64>(1)? as u64))
                })?
                .collect::<std::result::Result<_, _>>()?;
            Ok(rows)
        };
        let per = |key: &str| {
            format!(
                "SELECT CAST(floor(log2(n)) AS INTEGER) AS bin, count(*) FROM \
                 (SELECT {key}, count(*) AS n FROM events WHERE {key} IS NOT NULL GROUP BY 1) \
                 GROUP BY 1 ORDER BY 1"
            )
        };
        let events_per_user = pairs(&per("user_id"))?;
        let events_per_item = pairs(&per("item_id"))?;
        // List prices from the catalog, else each item's median event price.
        let mut stmt = c.prepare(
            "WITH p AS (
                 SELECT coalesce(category, '(none)') AS category, price FROM items WHERE price > 0
                 UNION ALL
                 SELECT coalesce(min(category), '(none)'), median(price) FROM events
                 WHERE price > 0 AND item_id NOT IN (SELECT item_id FROM items WHERE price > 0)
                 GROUP BY item_id),
             top AS (SELECT category FROM p GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 8)
             SELECT category, CAST(floor(4 * log10(price)) AS INTEGER) AS bin, count(*)
             FROM p WHERE category IN (SELECT category FROM top)
             GROUP BY 1, 2 ORDER BY 1, 2",
        )?;
        let rows: Vec<(String, i32, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<std::result::Result<_, _>>()?;
        let mut prices: Vec<(String, Vec<(i32, u64)>)> = Vec::new();
        for (category, bin, n) in rows {
            match prices.last_mut() {
                Some((c, bins)) if *c == category => bins.push((bin, n as u64)),
                _ => prices.push((category, vec![(bin, n as u64)])),
            }
        }
        Ok(Distributions {
            events_per_user,
            events_per_item,
            prices,
        })
    }
}
