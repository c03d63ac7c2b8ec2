//! An item catalog: an id, a title, and category, brand, prices when given; the other
//! columns are kept as JSON in `attrs`. Taken for any file with a header under `--kind items`.

use super::{Proposal, Shape, unknown};
use crate::canonical::{Column, Parse, Target};
use crate::error::Result;

/// Canonical column, the names exports give it (first match wins), and how to read it.
const RULES: [(&str, &[&str], Parse); 7] = [
    (
        "item_id",
        &[
            "item_id",
            "product_id",
            "productid",
            "itemid",
            "sku",
            "stockcode",
            "asin",
            "id",
        ],
        Parse::Id,
    ),
    (
        "title",
        &[
            "title",
            "name",
            "product_name",
            "movie_title",
            "product_title",
        ],
        Parse::Text,
    ),
    (
        "description",
        &[
            "description",
            "feature",
            "features",
            "product_description",
            "desc",
        ],
        Parse::Text,
    ),
    (
        "category",
        &[
            "category",
            "category_code",
            "sub_category",
            "subcategory",
            "class",
            "category_id",
        ],
        Parse::Text,
    ),
    ("brand", &["brand", "manufacturer", "vendor"], Parse::Text),
    (
        "price",
        &[
            "price",
            "unitprice",
            "unit_price",
            "list_price",
            "sale_price",
        ],
        Parse::Money,
    ),
    ("cost", &["cost", "unit_cost", "cogs"], Parse::Money),
];

pub(super) fn recognizes(shape: &Shape) -> bool {
    !shape.headerless
        && (shape.kind == Some(Target::Items)
            || (shape.has(&["title", "name", "product_name", "movie_title"])
                && shape.has(&["price", "category", "sub_category", "class", "brand"])))
}

/// Fails when nothing but (at most) an id maps.
pub(super) fn propose(shape: &Shape) -> Result<Proposal> {
    let mut p = Proposal::default();
    for (canon, names, parse) in RULES {
        if let Some(c) = shape.find(names) {
            p.put(canon, Some(Column::src(&c, parse)));
        }
    }
    p.extra = shape.unused_columns(&p);
    if !p.columns.contains_key("title") && p.columns.len() <= 1 {
        return Err(unknown(
            shape.src,
            "no id, title, category or price column for an item catalog",
        ));
    }
    Ok(p)
}
