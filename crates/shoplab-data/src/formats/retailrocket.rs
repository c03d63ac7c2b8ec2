//! RetailRocket `events.csv`: `timestamp,visitorid,event,itemid,transactionid`
//! (epoch milliseconds; view / addtocart / transaction).

use super::{Proposal, Shape};
use crate::canonical::Parse;

pub(super) fn recognizes(shape: &Shape) -> bool {
    shape.has_all(&["timestamp", "visitorid", "event", "itemid"])
}

pub(super) fn propose(shape: &Shape) -> Proposal {
    let mut p = Proposal::default();
    p.put("event_time", shape.col(&["timestamp"], Parse::Timestamp));
    p.put("user_id", shape.col(&["visitorid"], Parse::Id));
    p.put("event_type", shape.col(&["event"], Parse::EventType));
    p.put("item_id", shape.col(&["itemid"], Parse::Id));
    p.put("session_id", shape.col(&["transactionid"], Parse::Id));
    p
}
