//! What the workspace knows of its items beyond the events: the text an encoder reads
//! for each item, stored item vectors (`item_embeddings`), the logged recommendation
//! impressions (`bandit_log`), and what a shopper did in a split's test part.

use duckdb::types::{TimeUnit, Value};

use crate::error::Result;
use crate::workspace::Workspace;

/// Each item's text for an encoder: its title and description joined by ". ", else its
/// category; items with none of them are left out. In item order.
pub fn item_texts(ws: &Workspace) -> Result<Vec<(String, String)>> {
    let conn = ws.connection();
    let mut stmt = conn.prepare(
        "SELECT item_id, trim(concat_ws('. ', nullif(trim(title), ''), nullif(trim(description), ''),
                                CASE WHEN coalesce(title, description) IS NULL THEN category END))
         FROM items ORDER BY item_id",
    )?;
    let items: Vec<(String, Option<String>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .and_then(|rows| rows.collect())?;
    Ok(items
        .into_iter()
        .filter_map(|(id, t)| Some((id, t.filter(|t| !t.is_empty())?)))
        .collect())
}

/// An item's title and category, either of which may be missing.
pub type ItemLabel = (Option<String>, Option<String>);

/// Each catalog item's title and category, for labelling items in plots.
pub fn item_labels(ws: &Workspace) -> Result<std::collections::HashMap<String, ItemLabel>> {
    let conn = ws.connection();
    let mut stmt = conn.prepare(
        "SELECT item_id, nullif(trim(title), ''), nullif(trim(category), '') FROM items",
    )?;
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))
        .and_then(|rows| rows.collect())?;
    Ok(rows)
}

/// Stores `model`'s vector of each item (`items[i]`'s is `vectors[i]`) in
/// `item_embeddings`, replacing that model's earlier rows, in one transaction.
pub fn store_item_embeddings(
    ws: &Workspace,
    model: &str,
    items: &[(String, String)],
    vectors: &[Vec<f32>],
) -> Result<()> {
    ws.transaction(|conn| {
        conn.execute("DELETE FROM item_embeddings WHERE model = ?", [model])?;
        let mut app = conn.appender("item_embeddings")?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_micros() as i64);
        for ((id, text), v) in items.iter().zip(vectors) {
            let list = Value::List(v.iter().map(|x| Value::Float(*x)).collect());
            app.append_row(duckdb::params![
                model,
                id,
                text,
                list,
                Value::Timestamp(TimeUnit::Microsecond, now)
            ])?;
        }
        app.flush()
    })
}

/// One logged impression of `bandit_log`.
#[derive(Debug, Clone, PartialEq)]
pub struct BanditRow {
    pub policy: Option<String>,
    pub action: String,
    /// The slot shown in (1 when the log has no positions).
    pub position: i64,
    pub reward: f64,
    pub propensity: f64,
}

/// The impressions of `campaign` (all of them when `None`), in log order.
pub fn bandit_rows(ws: &Workspace, campaign: Option<&str>) -> Result<Vec<BanditRow>> {
    let conn = ws.connection();
    let mut stmt = conn.prepare(
        "SELECT policy, action, coalesce(position, 1), reward, propensity FROM bandit_log
         WHERE coalesce(campaign, '') = coalesce(?, coalesce(campaign, ''))
         ORDER BY import_id, ts, position, action",
    )?;
    let rows = stmt
        .query_map([campaign], |r| {
            Ok(BanditRow {
                policy: r.get(0)?,
                action: r.get(1)?,
                position: r.get(2)?,
                reward: r.get(3)?,
                propensity: r.get(4)?,
            })
        })?
        .collect::<std::result::Result<_, _>>()?;
    Ok(rows)
}

/// The items `user` has in the test part of `split` (what the user went on to buy, rate or
/// view after the training period), in time order.
pub fn test_items(ws: &Workspace, split: &str, user: &str) -> Result<Vec<String>> {
    let conn = ws.connection();
    let mut stmt = conn.prepare(
        "SELECT item_id FROM split_interactions
         WHERE split = ? AND part = 'test' AND user_id = ?
         ORDER BY event_time NULLS LAST, item_id",
    )?;
    let items = stmt
        .query_map(duckdb::params![split, user], |r| r.get(0))
        .and_then(|rows| rows.collect())?;
    Ok(items)
}
