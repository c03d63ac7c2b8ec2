//! The reviews a text task reads: the task's target and the chosen text of every review
//! that has both, split 80/10/10 by the seed.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use shoplab_data::Workspace;

use crate::error::{ModelError, Result};
use crate::spec::{TextField, TextTask};

/// The `reviews` column a task predicts (`None`: the task does not read reviews).
fn target_column(task: TextTask) -> Option<&'static str> {
    match task {
        TextTask::Rating => Some("rating"),
        TextTask::Recommend => Some("recommended"),
        TextTask::TwoTower => None,
    }
}

/// The SQL expression of a review's text.
fn text_sql(field: TextField) -> &'static str {
    match field {
        TextField::Review => {
            "CASE WHEN title IS NULL OR trim(title) = '' THEN text ELSE title || '. ' || text END"
        }
        TextField::Text => "text",
        TextField::Title => "title",
    }
}

#[derive(Debug, Clone, Default)]
pub struct Examples {
    pub review_ids: Vec<i64>,
    pub texts: Vec<String>,
    pub targets: Vec<f32>,
}

impl Examples {
    pub fn len(&self) -> usize {
        self.texts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    pub(crate) fn texts(&self) -> Vec<&str> {
        self.texts.iter().map(String::as_str).collect()
    }

    pub(crate) fn mean(&self) -> f64 {
        self.targets.iter().map(|&t| f64::from(t)).sum::<f64>() / self.len().max(1) as f64
    }
}

/// The reviews of a task, split 80/10/10 by the seed.
#[derive(Debug, Clone)]
pub struct TextSplit {
    pub train: Examples,
    pub valid: Examples,
    pub test: Examples,
}

/// Reads the reviews that have the task's target and text, shuffles them by `seed`, keeps
/// `limit` of them and cuts train, validation and test 80/10/10.
pub fn review_split(
    ws: &Workspace,
    task: TextTask,
    field: TextField,
    limit: Option<usize>,
    seed: u64,
) -> Result<TextSplit> {
    let Some(col) = target_column(task) else {
        return Err(ModelError::Config {
            model: task.name().into(),
            message: "reads a split's interactions, not reviews".into(),
        });
    };
    let text = text_sql(field);
    let mut stmt = ws.connection().prepare(&format!(
        "SELECT review_id, {text}, {col} FROM reviews
         WHERE {col} IS NOT NULL AND {text} IS NOT NULL AND trim({text}) <> '' ORDER BY review_id"
    ))?;
    let mut rows: Vec<(i64, String, f64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<std::result::Result<_, _>>()?;
    let no_data = |message: String| ModelError::Dataset {
        split: "reviews".into(),
        message,
    };
    if rows.len() < 10 {
        return Err(no_data(format!(
            "{} reviews have a {col} and a text; at least 10 are needed (import reviews with `shoplab import WS FILE --kind reviews`)",
            rows.len()
        )));
    }
    if task.is_classification()
        && let Some(r) = rows.iter().find(|r| r.2 != 0.0 && r.2 != 1.0)
    {
        return Err(no_data(format!(
            "review {} has recommended = {}; the flag must be 0 or 1",
            r.0, r.2
        )));
    }
    rows.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    if let Some(l) = limit {
        rows.truncate(l.max(10));
    }
    let n = rows.len();
    let (n_train, n_valid) = (n * 8 / 10, n / 10);
    let part = |rows: &[(i64, String, f64)]| Examples {
        review_ids: rows.iter().map(|r| r.0).collect(),
        texts: rows.iter().map(|r| r.1.clone()).collect(),
        targets: rows.iter().map(|r| r.2 as f32).collect(),
    };
    Ok(TextSplit {
        train: part(&rows[..n_train]),
        valid: part(&rows[n_train..n_train + n_valid]),
        test: part(&rows[n_train + n_valid..]),
    })
}
