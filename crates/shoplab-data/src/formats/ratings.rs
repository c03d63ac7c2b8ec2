//! A ratings file with a header (MovieLens `ratings.csv`, Book-Crossing, shop exports):
//! user, item, rating, perhaps a time. RecBole's atomic files share the shape (`recbole`).

use super::{Proposal, Shape};
use crate::canonical::{Column, Parse};

/// Spellings of the columns of ratings exports.
const RATING_USER: &[&str] = &["user_id", "userid", "user"];
const RATING_ITEM: &[&str] = &[
    "item_id",
    "itemid",
    "movieid",
    "movie_id",
    "item",
    "product_id",
    "productid",
];
const RATING_VALUE: &[&str] = &["rating", "score", "stars"];

/// A user, an item and a rating column, under a header.
pub(super) fn has_rating_columns(shape: &Shape) -> bool {
    !shape.headerless && shape.has(RATING_USER) && shape.has(RATING_ITEM) && shape.has(RATING_VALUE)
}

/// Whether the header has RecBole's `name:type` columns.
pub(super) fn has_typed_header(shape: &Shape) -> bool {
    shape.src.columns.iter().any(|c| c.contains(':'))
}

pub(super) fn recognizes(shape: &Shape) -> bool {
    has_rating_columns(shape) && !has_typed_header(shape)
}

pub(super) fn propose(shape: &Shape) -> Proposal {
    let mut p = Proposal::default();
    p.put("user_id", shape.col(RATING_USER, Parse::Id));
    p.put("item_id", shape.col(RATING_ITEM, Parse::Id));
    p.put("value", shape.col(RATING_VALUE, Parse::Number));
    p.put("event_type", Some(Column::constant("rating")));
    let time = match shape.find(&["timestamp", "time", "date", "event_time"]) {
        Some(c) => Column::src(&c, Parse::Timestamp),
        None => Column {
            value: Some("1970-01-01 00:00:00".into()),
            parse: Parse::Timestamp,
            ..Default::default()
        },
    };
    p.put("event_time", Some(time));
    p
}
