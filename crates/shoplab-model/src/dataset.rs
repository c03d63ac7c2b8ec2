//! A split of the workspace as dense indices: users and items numbered in a fixed order,
//! interactions per part, what each user saw in training.

use std::collections::HashMap;

use shoplab_data::Workspace;
use shoplab_data::polars::prelude::DataFrame;

use crate::error::{ModelError, Result};

/// One interaction, by dense user and item index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interaction {
    pub user: u32,
    pub item: u32,
    /// The rating, or 1 for implicit feedback without a value.
    pub value: f32,
}

/// A split ready for training: ids numbered in order of first appearance (train, then
/// valid, then test, each ordered by user, time, item), so the same split always gives the
/// same numbering.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub split: String,
    pub users: Vec<String>,
    pub items: Vec<String>,
    pub train: Vec<Interaction>,
    pub valid: Vec<Interaction>,
    pub test: Vec<Interaction>,
    /// Train items per user, sorted and without repeats.
    pub seen: Vec<Vec<u32>>,
    /// Train interactions per item.
    pub item_counts: Vec<u32>,
    /// Mean train value.
    pub mean: f32,
    user_index: HashMap<String, u32>,
    item_index: HashMap<String, u32>,
}

/// (user id, item id, value) rows of one part.
pub type Rows = Vec<(String, String, Option<f64>)>;

impl Dataset {
    /// Reads split `name` from the workspace (through Polars).
    pub fn from_split(ws: &Workspace, name: &str) -> Result<Self> {
        let part = |p: &str| -> Result<Rows> { frame_rows(&ws.split_frame(name, p)?) };
        Self::from_parts(name, part("train")?, part("valid")?, part("test")?)
    }

    /// Builds the dataset from rows of each part.
    pub fn from_parts(name: &str, train: Rows, valid: Rows, test: Rows) -> Result<Self> {
        if train.is_empty() {
            return Err(ModelError::Dataset {
                split: name.into(),
                message: "the train part is empty".into(),
            });
        }
        let mut ds = Dataset {
            split: name.into(),
            users: Vec::new(),
            items: Vec::new(),
            train: Vec::new(),
            valid: Vec::new(),
            test: Vec::new(),
            seen: Vec::new(),
            item_counts: Vec::new(),
            mean: 0.0,
            user_index: HashMap::new(),
            item_index: HashMap::new(),
        };
        ds.train = ds.index_rows(train);
        ds.valid = ds.index_rows(valid);
        ds.test = ds.index_rows(test);
        let mut seen = vec![Vec::new(); ds.users.len()];
        let mut counts = vec![0u32; ds.items.len()];
        for x in &ds.train {
            seen[x.user as usize].push(x.item);
            counts[x.item as usize] += 1;
        }
        for s in &mut seen {
            s.sort_unstable();
            s.dedup();
        }
        ds.seen = seen;
        ds.item_counts = counts;
        ds.mean = (ds.train.iter().map(|x| f64::from(x.value)).sum::<f64>() / ds.train.len() as f64)
            as f32;
        Ok(ds)
    }

    fn index_rows(&mut self, rows: Rows) -> Vec<Interaction> {
        rows.into_iter()
            .map(|(u, i, v)| Interaction {
                user: intern(&mut self.user_index, &mut self.users, u),
                item: intern(&mut self.item_index, &mut self.items, i),
                value: v.map_or(1.0, |v| v as f32),
            })
            .collect()
    }

    pub fn n_users(&self) -> usize {
        self.users.len()
    }

    pub fn n_items(&self) -> usize {
        self.items.len()
    }

    pub fn user(&self, id: &str) -> Option<u32> {
        self.user_index.get(id).copied()
    }

    pub fn item(&self, id: &str) -> Option<u32> {
        self.item_index.get(id).copied()
    }

    /// Items of `part` per user, sorted and without repeats (the relevant items when
    /// evaluating on that part).
    pub fn relevant(&self, part: &[Interaction]) -> Vec<Vec<u32>> {
        let mut rel = vec![Vec::new(); self.n_users()];
        for x in part {
            rel[x.user as usize].push(x.item);
        }
        for r in &mut rel {
            r.sort_unstable();
            r.dedup();
        }
        rel
    }
}

fn intern(index: &mut HashMap<String, u32>, names: &mut Vec<String>, id: String) -> u32 {
    if let Some(&i) = index.get(&id) {
        return i;
    }
    let i = names.len() as u32;
    names.push(id.clone());
    index.insert(id, i);
    i
}

fn frame_rows(df: &DataFrame) -> Result<Rows> {
    let users = df.column("user_id")?.str()?;
    let items = df.column("item_id")?.str()?;
    let values = df.column("value")?.f64()?;
    Ok(users
        .iter()
        .zip(items.iter())
        .zip(values.iter())
        .filter_map(|((u, i), v)| Some((u?.to_string(), i?.to_string(), v)))
        .collect())
}
