//! RecBole atomic files (`.inter`): a ratings file whose header names carry their type
//! (`user_id:token, item_id:token, rating:float, timestamp:float, tab-separated`).

use super::{Proposal, Shape, ratings};

pub(super) fn recognizes(shape: &Shape) -> bool {
    ratings::has_rating_columns(shape) && ratings::has_typed_header(shape)
}

pub(super) fn propose(shape: &Shape) -> Proposal {
    ratings::propose(shape)
}
