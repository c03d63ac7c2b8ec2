//! A users file: a user id; the other columns are kept as JSON in `attrs`.

use super::{Proposal, Shape};
use crate::canonical::{Column, Parse};

/// Spellings of a user id column.
const USER_ID: &[&str] = &[
    "user_id",
    "userid",
    "customer_id",
    "customerid",
    "visitorid",
];

pub(super) fn recognizes(shape: &Shape) -> bool {
    !shape.headerless && shape.has(USER_ID)
}

pub(super) fn propose(shape: &Shape) -> Proposal {
    let mut p = Proposal::default();
    if let Some(id) = shape.find(USER_ID) {
        p.put("user_id", Some(Column::src(&id, Parse::Id)));
        p.extra = shape
            .src
            .columns
            .iter()
            .filter(|c| **c != id)
            .cloned()
            .collect();
    }
    p
}
