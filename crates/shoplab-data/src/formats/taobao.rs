//! Taobao UserBehavior: no header; `user,item,category,behavior,timestamp` with
//! pv / buy / cart / fav and epoch seconds.

use super::{Proposal, Shape};
use crate::canonical::{Column, Parse};

pub(super) fn recognizes(shape: &Shape) -> bool {
    shape.headerless && looks_like_taobao(shape)
}

/// Five columns, the fourth only Taobao's behavior names.
fn looks_like_taobao(shape: &Shape) -> bool {
    let src = shape.src;
    if src.columns.len() != 5 {
        return false;
    }
    let v = src.sample_column(3);
    !v.is_empty()
        && v.iter()
            .all(|x| matches!(x.as_str(), "pv" | "buy" | "cart" | "fav"))
}

pub(super) fn propose(_shape: &Shape) -> Proposal {
    let mut p = Proposal {
        names: ["user_id", "item_id", "category_id", "behavior", "timestamp"]
            .map(String::from)
            .to_vec(),
        ..Default::default()
    };
    p.put("user_id", Some(Column::src("user_id", Parse::Id)));
    p.put("item_id", Some(Column::src("item_id", Parse::Id)));
    p.put(
        "item_category",
        Some(Column::src("category_id", Parse::Text)),
    );
    p.put(
        "event_type",
        Some(Column::src("behavior", Parse::EventType)),
    );
    p.put(
        "event_time",
        Some(Column::src("timestamp", Parse::Timestamp)),
    );
    p
}
