//! REES46 "eCommerce behavior data from multi category store" (Kaggle):
//! `event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session`.

use super::{Proposal, Shape};
use crate::canonical::Parse;

pub(super) fn recognizes(shape: &Shape) -> bool {
    shape.has_all(&["event_time", "event_type", "product_id", "user_id"])
}

pub(super) fn propose(shape: &Shape) -> Proposal {
    let mut p = Proposal::default();
    p.put("event_time", shape.col(&["event_time"], Parse::Timestamp));
    p.put("event_type", shape.col(&["event_type"], Parse::EventType));
    p.put("item_id", shape.col(&["product_id"], Parse::Id));
    p.put("user_id", shape.col(&["user_id"], Parse::Id));
    p.put(
        "session_id",
        shape.col(&["user_session", "session_id"], Parse::Id),
    );
    p.put("price", shape.col(&["price"], Parse::Money));
    p.put(
        "item_category",
        shape.col(&["category_code", "category_id"], Parse::Text),
    );
    p.put("item_brand", shape.col(&["brand"], Parse::Text));
    p
}
