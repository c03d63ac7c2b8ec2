//! Loading the checked rows into the target table: the SQL that inserts events (and the
//! items they mention), items, users, bandit logs and reviews.

use crate::canonical::Target;
use crate::error::Result;
use crate::mapping::Mapping;
use crate::workspace::Workspace;

use super::scratch::STAGE;

/// A purchase line with a negative quantity is a cancellation (an invoice's credit note,
/// a return): it is stored as a `refund` of the positive quantity, its value positive.
const REFUND_TYPE: &str = "CASE WHEN __c_event_type = 'purchase' AND __c_quantity < 0 THEN 'refund' ELSE __c_event_type END";
const REFUND_QUANTITY: &str = "CASE WHEN __c_event_type = 'purchase' AND __c_quantity < 0 THEN -__c_quantity ELSE __c_quantity END";

/// `INSERT INTO events` from a query with the staging columns (`_reason IS NULL` rows only).
pub(super) fn insert_events_sql(import_id: i64, from: &str, distinct: bool) -> String {
    let distinct = if distinct { "DISTINCT" } else { "" };
    format!(
        "INSERT INTO events (event_time, user_id, item_id, event_type, session_id, price, quantity, value,
                             import_id, category, brand)
         SELECT {distinct} __c_event_time, __c_user_id, __c_item_id, {REFUND_TYPE},
           __c_session_id, __c_price, {REFUND_QUANTITY},
           coalesce(__c_value, CASE WHEN {REFUND_TYPE} IN ('purchase', 'refund') THEN __c_price * coalesce(abs(__c_quantity), 1) END),
           {import_id}, __c_item_category, __c_item_brand
         FROM {from} WHERE _reason IS NULL"
    )
}

/// The items of one import's events, as the item columns [`upsert_event_items_sql`] reads.
pub(super) fn event_items_of(import_id: i64) -> String {
    format!(
        "(SELECT item_id AS __c_item_id, CAST(NULL AS VARCHAR) AS __c_item_title, category AS __c_item_category,
                 brand AS __c_item_brand, price AS __c_price, event_time AS __c_event_time
          FROM events WHERE import_id = {import_id} AND item_id IS NOT NULL)"
    )
}

/// Creates or completes the items an event log mentions, from a query with the item columns.
pub(super) fn upsert_event_items_sql(import_id: i64, from: &str) -> String {
    format!(
        "INSERT INTO items (item_id, title, category, brand, price, import_id)
         SELECT __c_item_id, any_value(__c_item_title), any_value(__c_item_category), any_value(__c_item_brand),
                arg_max(__c_price, __c_event_time), {import_id}
         FROM {from} GROUP BY __c_item_id
         ON CONFLICT (item_id) DO UPDATE SET title = coalesce(items.title, excluded.title),
            category = coalesce(items.category, excluded.category),
            brand = coalesce(items.brand, excluded.brand),
            price = coalesce(items.price, excluded.price)"
    )
}

impl Workspace {
    /// Loads the staged rows without a reject reason into the mapping's target table:
    /// (rows loaded, items created or completed on the way).
    pub(super) fn load_staged(
        &self,
        mapping: &Mapping,
        import_id: i64,
        dedupe: bool,
    ) -> Result<(u64, u64)> {
        match mapping.target {
            Target::Events => self.load_staged_events(mapping, import_id, dedupe),
            Target::Items => Ok((self.load_staged_items(import_id)?, 0)),
            Target::Users => Ok((self.load_staged_users(import_id)?, 0)),
            Target::BanditLog => Ok((self.load_staged_bandit_log(import_id, dedupe)?, 0)),
            Target::Reviews => self.load_staged_reviews(import_id),
        }
    }

    fn load_staged_events(
        &self,
        mapping: &Mapping,
        import_id: i64,
        dedupe: bool,
    ) -> Result<(u64, u64)> {
        let conn = self.connection();
        let n = conn.execute(&insert_events_sql(import_id, STAGE, dedupe), [])?;
        let items_from = if mapping.columns.contains_key("item_title") {
            format!("(SELECT * FROM {STAGE} WHERE _reason IS NULL AND __c_item_id IS NOT NULL)")
        } else {
            event_items_of(import_id)
        };
        let items = conn.execute(&upsert_event_items_sql(import_id, &items_from), [])?;
        Ok((n as u64, items as u64))
    }

    /// Items without an id are numbered by their row.
    fn load_staged_items(&self, import_id: i64) -> Result<u64> {
        let n = self.connection().execute(
            &format!(
                "INSERT INTO items (item_id, title, description, category, brand, price, cost, attrs, import_id)
                 SELECT coalesce(__c_item_id, CAST(rowid + 1 AS VARCHAR)), __c_title, __c_description, __c_category,
                        __c_brand, __c_price, __c_cost, __extra, {import_id}
                 FROM {STAGE} WHERE _reason IS NULL
                 ON CONFLICT (item_id) DO UPDATE SET title = coalesce(excluded.title, items.title),
                   description = coalesce(excluded.description, items.description),
                   category = coalesce(excluded.category, items.category),
                   brand = coalesce(excluded.brand, items.brand),
                   price = coalesce(excluded.price, items.price),
                   cost = coalesce(excluded.cost, items.cost),
                   attrs = coalesce(excluded.attrs, items.attrs),
                   import_id = excluded.import_id"
            ),
            [],
        )?;
        Ok(n as u64)
    }

    fn load_staged_users(&self, import_id: i64) -> Result<u64> {
        let n = self.connection().execute(
            &format!(
                "INSERT INTO users (user_id, attrs, import_id)
                 SELECT __c_user_id, __extra, {import_id} FROM {STAGE} WHERE _reason IS NULL
                 ON CONFLICT (user_id) DO UPDATE SET attrs = excluded.attrs, import_id = excluded.import_id"
            ),
            [],
        )?;
        Ok(n as u64)
    }

    fn load_staged_bandit_log(&self, import_id: i64, dedupe: bool) -> Result<u64> {
        let distinct = if dedupe { "DISTINCT" } else { "" };
        let n = self.connection().execute(
            &format!(
                "INSERT INTO bandit_log SELECT {distinct} __c_ts, __c_user_id, __c_action, CAST(__c_position AS INTEGER),
                   __c_reward, __c_propensity, __c_policy, __c_campaign, __extra, {import_id}
                 FROM {STAGE} WHERE _reason IS NULL"
            ),
            [],
        )?;
        Ok(n as u64)
    }

    /// Reviews are numbered after the stored ones; reviewed items join the catalog (with
    /// their category when the export has one).
    fn load_staged_reviews(&self, import_id: i64) -> Result<(u64, u64)> {
        let conn = self.connection();
        let n = conn.execute(
            &format!(
                "INSERT INTO reviews
                 SELECT (SELECT coalesce(max(review_id), 0) FROM reviews) + row_number() OVER (ORDER BY rowid),
                        __c_item_id, __c_user_id, __c_review_time, __c_rating, __c_recommended, __c_title,
                        __c_text, __c_helpful, __extra, {import_id}
                 FROM {STAGE} WHERE _reason IS NULL"
            ),
            [],
        )?;
        let items = conn.execute(
            &format!(
                "INSERT INTO items (item_id, category, import_id)
                 SELECT __c_item_id, any_value(__c_item_category), {import_id}
                 FROM {STAGE} WHERE _reason IS NULL GROUP BY __c_item_id
                 ON CONFLICT (item_id) DO UPDATE SET category = coalesce(items.category, excluded.category)"
            ),
            [],
        )?;
        Ok((n as u64, items as u64))
    }
}
