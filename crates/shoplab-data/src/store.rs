//! What a storefront reads from the workspace: the catalog with each item's activity, the
//! shoppers and their histories, co-purchases, and the calibrated price sensitivities.

use duckdb::OptionalExt;

use crate::error::Result;
use crate::schema::EVENT_TYPES;
use crate::workspace::Workspace;

/// An item of the catalog (`items`, and items only the events name), with its activity.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreItem {
    pub item_id: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// `items`' category, else the events' (empty when neither has one).
    pub category: String,
    pub brand: Option<String>,
    pub price: Option<f64>,
    pub cost: Option<f64>,
    pub views: u64,
    pub carts: u64,
    pub purchases: u64,
}

/// Every item of the workspace, in item order.
pub fn catalog(ws: &Workspace) -> Result<Vec<StoreItem>> {
    let conn = ws.connection();
    let mut stmt = conn.prepare(
        "WITH activity AS (
             SELECT item_id,
                    count(*) FILTER (WHERE event_type = 'view') AS views,
                    count(*) FILTER (WHERE event_type = 'cart') AS carts,
                    count(*) FILTER (WHERE event_type = 'purchase') AS purchases,
                    mode(category) AS category, mode(brand) AS brand, median(price) AS price
             FROM events WHERE item_id IS NOT NULL GROUP BY item_id)
         SELECT coalesce(i.item_id, a.item_id), nullif(trim(i.title), ''),
                nullif(trim(i.description), ''),
                coalesce(nullif(i.category, ''), a.category, ''),
                coalesce(nullif(i.brand, ''), nullif(a.brand, '')),
                coalesce(i.price, a.price), i.cost,
                coalesce(a.views, 0), coalesce(a.carts, 0), coalesce(a.purchases, 0)
         FROM items i FULL JOIN activity a ON i.item_id = a.item_id
         ORDER BY 1",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(StoreItem {
                item_id: r.get(0)?,
                title: r.get(1)?,
                description: r.get(2)?,
                category: r.get(3)?,
                brand: r.get(4)?,
                price: r.get(5)?,
                cost: r.get(6)?,
                views: r.get::<_, i64>(7)? as u64,
                carts: r.get::<_, i64>(8)? as u64,
                purchases: r.get::<_, i64>(9)? as u64,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// A shopper with their activity.
#[derive(Debug, Clone, PartialEq)]
pub struct ShopperRow {
    pub user_id: String,
    pub views: u64,
    pub carts: u64,
    pub purchases: u64,
    pub last_seen: Option<String>,
    pub top_category: Option<String>,
}

/// Up to `limit` shoppers whose id contains `search` (all when `None`), those who bought
/// most first, then the most active.
pub fn shoppers(ws: &Workspace, search: Option<&str>, limit: usize) -> Result<Vec<ShopperRow>> {
    let conn = ws.connection();
    let mut stmt = conn.prepare(
        "SELECT user_id,
                count(*) FILTER (WHERE event_type = 'view'),
                count(*) FILTER (WHERE event_type = 'cart'),
                count(*) FILTER (WHERE event_type = 'purchase'),
                CAST(max(event_time) AS VARCHAR),
                mode(nullif(category, '')) FILTER (WHERE event_type = 'view')
         FROM events
         WHERE user_id IS NOT NULL AND contains(lower(user_id), lower(coalesce(?, '')))
         GROUP BY user_id
         ORDER BY 4 DESC, count(*) DESC, user_id
         LIMIT ?",
    )?;
    let rows = stmt
        .query_map(duckdb::params![search, limit as i64], |r| {
            Ok(ShopperRow {
                user_id: r.get(0)?,
                views: r.get::<_, i64>(1)? as u64,
                carts: r.get::<_, i64>(2)? as u64,
                purchases: r.get::<_, i64>(3)? as u64,
                last_seen: r.get(4)?,
                top_category: r.get(5)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Whether the events have `user`.
pub fn has_shopper(ws: &Workspace, user: &str) -> Result<bool> {
    Ok(ws
        .connection()
        .query_row(
            "SELECT 1 FROM events WHERE user_id = ? LIMIT 1",
            [user],
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// One event of a shopper's history.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    pub time: Option<String>,
    pub item_id: String,
    pub event_type: String,
}

/// The last `limit` item events of `user`, oldest first; events of the same second in
/// funnel order ([`EVENT_TYPES`]: a view before the cart before the purchase), then by item.
pub fn history(ws: &Workspace, user: &str, limit: usize) -> Result<Vec<HistoryRow>> {
    let conn = ws.connection();
    let funnel = EVENT_TYPES
        .iter()
        .map(|t| format!("'{t}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut stmt = conn.prepare(&format!(
        "SELECT t, item_id, event_type FROM (
             SELECT CAST(event_time AS VARCHAR) AS t, item_id, event_type, event_time,
                    list_position([{funnel}], event_type) AS stage
             FROM events WHERE user_id = ? AND item_id IS NOT NULL
             ORDER BY event_time DESC, stage DESC, item_id DESC LIMIT ?)
         ORDER BY event_time, stage, item_id"
    ))?;
    let rows = stmt
        .query_map(duckdb::params![user, limit as i64], |r| {
            Ok(HistoryRow {
                time: r.get(0)?,
                item_id: r.get(1)?,
                event_type: r.get(2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// What co-purchases were counted in: the same session, or (when the sessions have too few)
/// the same shopper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoPurchase {
    Session,
    Shopper,
}

/// The items bought together with `item` most often: by sessions that bought both, else by
/// shoppers when sessions give fewer than `k` items. Each with its count, most first.
pub fn also_bought(
    ws: &Workspace,
    item: &str,
    k: usize,
) -> Result<(CoPurchase, Vec<(String, u64)>)> {
    let by_session = co_purchases(ws, item, k, "coalesce(session_id, user_id)")?;
    if by_session.len() >= k {
        return Ok((CoPurchase::Session, by_session));
    }
    Ok((CoPurchase::Shopper, co_purchases(ws, item, k, "user_id")?))
}

fn co_purchases(ws: &Workspace, item: &str, k: usize, key: &str) -> Result<Vec<(String, u64)>> {
    let conn = ws.connection();
    let mut stmt = conn.prepare(&format!(
        "WITH bought AS (
             SELECT DISTINCT {key} AS g, item_id FROM events
             WHERE event_type = 'purchase' AND user_id IS NOT NULL AND item_id IS NOT NULL)
         SELECT b.item_id, count(*) AS n
         FROM bought a JOIN bought b ON a.g = b.g AND b.item_id <> a.item_id
         WHERE a.item_id = ?
         GROUP BY b.item_id ORDER BY n DESC, b.item_id LIMIT ?"
    ))?;
    let rows = stmt
        .query_map(duckdb::params![item, k as i64], |r| {
            Ok((r.get(0)?, r.get::<_, i64>(1)? as u64))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// A category's calibrated price sensitivity and its standard error.
#[derive(Debug, Clone, PartialEq)]
pub struct CategorySensitivity {
    pub calibration_id: i64,
    pub category: String,
    pub elasticity: f64,
    pub se: Option<f64>,
}

/// The latest calibration's id.
pub fn latest_calibration(ws: &Workspace) -> Result<Option<i64>> {
    Ok(ws
        .connection()
        .query_row("SELECT max(calibration_id) FROM calibrations", [], |r| {
            r.get(0)
        })?)
}

/// The price sensitivity calibration `calibration_id` found for `category`.
pub fn category_sensitivity(
    ws: &Workspace,
    calibration_id: i64,
    category: &str,
) -> Result<Option<CategorySensitivity>> {
    Ok(ws
        .connection()
        .query_row(
            "SELECT elasticity, elasticity_se FROM calibration_categories
             WHERE calibration_id = ? AND category = ?",
            duckdb::params![calibration_id, category],
            |r| {
                Ok(CategorySensitivity {
                    calibration_id,
                    category: category.to_string(),
                    elasticity: r.get(0)?,
                    se: r.get(1)?,
                })
            },
        )
        .optional()?)
}

/// The encoder whose item vectors were stored last (`item_embeddings`), if any.
pub fn latest_embedding_model(ws: &Workspace) -> Result<Option<String>> {
    Ok(ws
        .connection()
        .query_row(
            "SELECT model FROM item_embeddings ORDER BY created_at DESC, model LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?)
}

/// The `k` items whose `model` text vectors are nearest `item`'s (cosine), with the cosine,
/// nearest first.
pub fn text_neighbours(
    ws: &Workspace,
    model: &str,
    item: &str,
    k: usize,
) -> Result<Vec<(String, f64)>> {
    let conn = ws.connection();
    let mut stmt = conn.prepare(
        "SELECT b.item_id, list_cosine_similarity(a.vector, b.vector) AS s
         FROM item_embeddings a JOIN item_embeddings b
           ON b.model = a.model AND b.item_id <> a.item_id
         WHERE a.model = ? AND a.item_id = ?
         ORDER BY s DESC, b.item_id LIMIT ?",
    )?;
    let rows = stmt
        .query_map(duckdb::params![model, item, k as i64], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}
