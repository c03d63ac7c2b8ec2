//! Product reviews: Women's E-Commerce Clothing Reviews, Amazon reviews, shop exports. A
//! review text and the reviewed item; rating, recommended flag, title and votes when given.

use super::{Proposal, Shape};
use crate::canonical::Parse;

/// Names of a review's text column.
const REVIEW_TEXT: &[&str] = &[
    "review_text",
    "reviewtext",
    "review_body",
    "review",
    "comment",
];
/// Names of a reviewed item's id.
const REVIEW_ITEM: &[&str] = &[
    "clothing_id",
    "item_id",
    "product_id",
    "productid",
    "asin",
    "itemid",
    "sku",
];

pub(super) fn recognizes(shape: &Shape) -> bool {
    !shape.headerless && shape.has(REVIEW_TEXT) && shape.has(REVIEW_ITEM)
}

pub(super) fn propose(shape: &Shape) -> Proposal {
    let mut p = Proposal::default();
    p.put("item_id", shape.col(REVIEW_ITEM, Parse::Id));
    p.put("text", shape.col(REVIEW_TEXT, Parse::Text));
    p.put(
        "user_id",
        shape.col(
            &["user_id", "reviewerid", "customer_id", "author_id"],
            Parse::Id,
        ),
    );
    p.put(
        "review_time",
        shape.col(
            &[
                "review_time",
                "unixreviewtime",
                "review_date",
                "date",
                "timestamp",
            ],
            Parse::Timestamp,
        ),
    );
    p.put(
        "rating",
        shape.col(
            &["rating", "overall", "stars", "star_rating", "score"],
            Parse::Number,
        ),
    );
    p.put(
        "recommended",
        shape.col(
            &[
                "recommended_ind",
                "recommended",
                "recommend",
                "would_recommend",
            ],
            Parse::Number,
        ),
    );
    p.put(
        "title",
        shape.col(
            &["title", "summary", "review_title", "headline"],
            Parse::Text,
        ),
    );
    p.put(
        "helpful",
        shape.col(
            &[
                "positive_feedback_count",
                "helpful_votes",
                "helpful",
                "vote",
            ],
            Parse::Number,
        ),
    );
    p.put(
        "item_category",
        shape.col(&["class_name", "category", "product_category"], Parse::Text),
    );
    // The other columns (age, department, an index) are kept as JSON in `attrs`.
    p.extra = shape.unused_columns(&p);
    p
}
