//! Open Bandit Dataset logs (`<policy>/<campaign>/<campaign>.csv`): one logged impression
//! per row with its position, click and propensity; the user features are kept as JSON.

use std::path::Path;

use super::{Proposal, Shape, norm};
use crate::canonical::{Column, Parse};

pub(super) fn recognizes(shape: &Shape) -> bool {
    shape.has_all(&["item_id", "position", "click", "propensity_score"])
}

pub(super) fn propose(shape: &Shape) -> Proposal {
    let mut p = Proposal::default();
    p.put("ts", shape.col(&["timestamp"], Parse::Timestamp));
    p.put("action", shape.col(&["item_id"], Parse::Id));
    p.put("position", shape.col(&["position"], Parse::Number));
    p.put("reward", shape.col(&["click"], Parse::Number));
    p.put(
        "propensity",
        shape.col(&["propensity_score"], Parse::Number),
    );
    if let Some((policy, campaign)) = policy_campaign(&shape.src.path) {
        p.put("policy", Some(Column::constant(&policy)));
        p.put("campaign", Some(Column::constant(&campaign)));
    }
    p.extra = shape
        .src
        .columns
        .iter()
        .filter(|c| {
            let n = norm(c);
            n.starts_with("user_feature") || n.starts_with("user_item_affinity")
        })
        .cloned()
        .collect();
    p
}

/// The policy and campaign of a file in the dataset's layout (`random/all/all.csv`).
fn policy_campaign(path: &Path) -> Option<(String, String)> {
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_string())
        .collect();
    let n = parts.len();
    if n >= 3 && matches!(parts[n - 3].as_str(), "random" | "bts") {
        Some((parts[n - 3].clone(), parts[n - 2].clone()))
    } else {
        None
    }
}
