//! A generic event log: user, item and time under common names; the event type when a
//! column has it (else every row is a purchase), session, price, quantity, value, category
//! and brand when given.

use super::{Proposal, Shape};
use crate::canonical::{Column, Parse};

/// Spellings of the columns of generic event logs.
const EVENT_USER: &[&str] = &[
    "user_id",
    "userid",
    "user",
    "customer_id",
    "visitor_id",
    "visitorid",
];
const EVENT_ITEM: &[&str] = &[
    "item_id",
    "itemid",
    "product_id",
    "productid",
    "item",
    "sku",
];
const EVENT_TIME: &[&str] = &["event_time", "timestamp", "time", "ts", "date", "datetime"];
const EVENT_TYPE: &[&str] = &[
    "event_type",
    "event",
    "action",
    "behavior",
    "behaviour",
    "type",
];

pub(super) fn recognizes(shape: &Shape) -> bool {
    !shape.headerless && shape.has(EVENT_USER) && shape.has(EVENT_ITEM) && shape.has(EVENT_TIME)
}

pub(super) fn propose(shape: &Shape) -> Proposal {
    let mut p = Proposal::default();
    p.put("user_id", shape.col(EVENT_USER, Parse::Id));
    p.put("item_id", shape.col(EVENT_ITEM, Parse::Id));
    p.put("event_time", shape.col(EVENT_TIME, Parse::Timestamp));
    let event_type = match shape.find(EVENT_TYPE) {
        Some(c) => Column::src(&c, Parse::EventType),
        None => Column::constant("purchase"),
    };
    p.put("event_type", Some(event_type));
    p.put(
        "session_id",
        shape.col(&["session_id", "user_session", "session"], Parse::Id),
    );
    p.put("price", shape.col(&["price", "unit_price"], Parse::Money));
    p.put("quantity", shape.col(&["quantity", "qty"], Parse::Number));
    // ShopLab's own columns, as a lake export (`shoplab export --lake`) writes them.
    p.put("value", shape.col(&["value"], Parse::Number));
    p.put("item_category", shape.col(&["category"], Parse::Text));
    p.put("item_brand", shape.col(&["brand"], Parse::Text));
    p
}
