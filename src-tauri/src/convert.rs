//! Engine results into the UI's DTOs: the only place that knows both shapes.

use shoplab_engine::storefront::{
    PRICE_POLICIES, PriceQuote, StoreRun, StoreSlate, Widgets, reading_text,
};
use shoplab_engine::{LiveDay, Storefront};

use crate::dto::{
    Category, Choice, DayPoint, Elasticity, HistoryStep, PricePanel, PricePoint, Product,
    ProductCard, Reason, RunBadge, Slate, SlateItem, Slates,
};

/// A stable hue (0–359) for a category's placeholder image.
pub fn hue(category: &str) -> u16 {
    // FNV-1a: the same hue on every machine and run.
    let h = category.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (h % 360) as u16
}

pub fn categories(store: &Storefront) -> Vec<Category> {
    store
        .categories
        .iter()
        .map(|(name, items)| Category {
            name: name.clone(),
            items: *items,
            hue: hue(name),
        })
        .collect()
}

pub fn card(store: &Storefront, product: usize) -> ProductCard {
    let p = &store.products[product];
    ProductCard {
        item_id: p.item.item_id.clone(),
        title: p.title(),
        brand: p.item.brand.clone(),
        category: p.item.category.clone(),
        price: p.item.price,
        popularity: p.popularity,
        hue: hue(&p.item.category),
    }
}

pub fn product(store: &Storefront, product: usize) -> Product {
    let p = &store.products[product].item;
    Product {
        card: card(store, product),
        description: p.description.clone(),
        cost: p.cost,
        views: p.views,
        carts: p.carts,
        purchases: p.purchases,
    }
}

pub fn history(
    store: &Storefront,
    rows: Vec<(shoplab_engine::storefront::HistoryRow, usize)>,
) -> Vec<HistoryStep> {
    rows.into_iter()
        .map(|(r, p)| HistoryStep {
            event_type: r.event_type,
            time: r.time,
            product: card(store, p),
        })
        .collect()
}

pub fn badge(run: &StoreRun) -> RunBadge {
    RunBadge {
        run_id: run.run.run_id,
        model: run.model.name().to_string(),
        split: run.run.split.clone(),
        ndcg: run.ndcg.as_ref().map(|e| e.mean),
        ndcg_low: run.ndcg.as_ref().map(|e| e.low),
        ndcg_high: run.ndcg.as_ref().map(|e| e.high),
        reading: run.reading.name().to_string(),
        reading_text: reading_text(run.reading).to_string(),
        label: format!("{} · run {}", run.model.name(), run.run.run_id),
    }
}

pub fn slate(store: &Storefront, kind: &str, title: &str, s: StoreSlate) -> Slate {
    Slate {
        kind: kind.into(),
        title: title.into(),
        badge: s.run.map(|r| badge(&store.runs[r])),
        popularity: s.popularity(store),
        basis: s.basis,
        reason_kind: s.reasons.name().into(),
        items: s
            .entries
            .into_iter()
            .map(|e| SlateItem {
                product: card(store, e.product),
                score: e.score,
                because: e
                    .because
                    .into_iter()
                    .map(|(p, weight)| Reason {
                        item_id: store.products[p].item.item_id.clone(),
                        title: store.products[p].title(),
                        weight,
                    })
                    .collect(),
            })
            .collect(),
        coverage: s.coverage,
        unknown: s.unknown,
    }
}

fn choice(id: &str, label: &str, help: &str) -> Choice {
    Choice {
        id: id.into(),
        label: label.into(),
        help: help.into(),
    }
}

/// The widgets of one re-score, titled.
pub fn slates(
    store: &Storefront,
    generation: u64,
    category: Option<&str>,
    w: Widgets,
    millis: f64,
) -> Slates {
    let popular = match category {
        Some(c) => format!("Popular in {}", c.rsplit('.').next().unwrap_or(c)),
        None => "Popular in the shop".into(),
    };
    Slates {
        generation,
        for_you: slate(store, "for_you", "Recommended for you", w.for_you),
        similar: w
            .similar
            .map(|s| slate(store, "similar", "Similar items", s)),
        also_bought: w
            .also_bought
            .map(|s| slate(store, "also_bought", "Shoppers also bought", s)),
        popular: Some(slate(store, "popular", &popular, w.popular)),
        millis,
    }
}

pub fn price_policies() -> Vec<Choice> {
    PRICE_POLICIES
        .iter()
        .map(|p| choice(p.id, p.label, p.help))
        .collect()
}

pub fn control_policies() -> Vec<Choice> {
    shoplab_engine::storefront::CONTROL_POLICIES
        .iter()
        .map(|p| choice(p.id, p.label, p.help))
        .collect()
}

pub fn price(store: &Storefront, q: PriceQuote) -> PricePanel {
    PricePanel {
        item_id: store.products[q.product].item.item_id.clone(),
        list_price: q.list_price,
        cost: q.cost,
        policy: q.policy.into(),
        policy_price: q.policy_price,
        p_buy_list: q.p_buy_list,
        p_buy_policy: q.p_buy_policy,
        conversion_run: q.conversion_run,
        elasticity: q
            .elasticity
            .map(|(calibration_id, category, value, low, high)| Elasticity {
                calibration_id,
                category,
                value,
                low,
                high,
            }),
        curve: q
            .curve
            .into_iter()
            .map(|c| PricePoint {
                price: c.price,
                p_buy: c.p_buy,
                revenue: c.revenue,
                margin: c.margin,
                p_buy_low: c.p_buy_band.map(|b| b.0),
                p_buy_high: c.p_buy_band.map(|b| b.1),
                revenue_low: c.p_buy_band.map(|b| b.0 * c.price),
                revenue_high: c.p_buy_band.map(|b| b.1 * c.price),
            })
            .collect(),
        notes: q.notes,
    }
}

pub fn day(d: &LiveDay) -> DayPoint {
    DayPoint {
        day: d.day,
        policy: d.policy.clone(),
        sessions: d.sessions,
        conversion: d.conversion,
        conversion_low: d.conversion_ci[0],
        conversion_high: d.conversion_ci[1],
        revenue: d.revenue,
        revenue_low: d.revenue_ci[0],
        revenue_high: d.revenue_ci[1],
        margin: d.margin,
    }
}
