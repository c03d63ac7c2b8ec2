//! Invoice lines (UCI Online Retail I and II): one purchased line per row, the invoice as
//! the session, quantity and unit price.

use super::{Proposal, Shape};
use crate::canonical::{Column, Parse};

pub(super) fn recognizes(shape: &Shape) -> bool {
    shape.has_all(&["stockcode", "quantity", "invoicedate"]) && shape.has(&["invoiceno", "invoice"])
}

pub(super) fn propose(shape: &Shape) -> Proposal {
    let mut p = Proposal::default();
    p.put("event_time", shape.col(&["invoicedate"], Parse::Timestamp));
    p.put(
        "user_id",
        shape.col(&["customerid", "customer_id"], Parse::Id),
    );
    p.put("item_id", shape.col(&["stockcode"], Parse::Id));
    p.put("event_type", Some(Column::constant("purchase")));
    p.put(
        "session_id",
        shape.col(&["invoiceno", "invoice"], Parse::Id),
    );
    p.put("quantity", shape.col(&["quantity"], Parse::Number));
    p.put("price", shape.col(&["unitprice", "price"], Parse::Money));
    p.put("item_title", shape.col(&["description"], Parse::Text));
    p
}
