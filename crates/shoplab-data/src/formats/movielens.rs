//! MovieLens `u.data`: no header; `user item rating timestamp`, tab-separated.

use super::{Proposal, Shape};
use crate::canonical::{Column, Parse};

pub(super) fn recognizes(shape: &Shape) -> bool {
    shape.headerless && looks_like_movielens(shape)
}

/// Four numeric columns, the third a rating between 0 and 10.
fn looks_like_movielens(shape: &Shape) -> bool {
    let src = shape.src;
    if src.columns.len() != 4 {
        return false;
    }
    let num = |i: usize| {
        src.sample_column(i)
            .iter()
            .all(|x| x.parse::<f64>().is_ok())
    };
    let ratings = src.sample_column(2);
    num(0)
        && num(1)
        && num(3)
        && !ratings.is_empty()
        && ratings
            .iter()
            .all(|x| x.parse::<f64>().is_ok_and(|r| (0.0..=10.0).contains(&r)))
}

pub(super) fn propose(_shape: &Shape) -> Proposal {
    let mut p = Proposal {
        names: ["user_id", "item_id", "rating", "timestamp"]
            .map(String::from)
            .to_vec(),
        ..Default::default()
    };
    p.put("user_id", Some(Column::src("user_id", Parse::Id)));
    p.put("item_id", Some(Column::src("item_id", Parse::Id)));
    p.put("value", Some(Column::src("rating", Parse::Number)));
    p.put("event_type", Some(Column::constant("rating")));
    p.put(
        "event_time",
        Some(Column::src("timestamp", Parse::Timestamp)),
    );
    p
}
