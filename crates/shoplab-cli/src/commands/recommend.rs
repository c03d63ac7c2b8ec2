//! Using a finished run: `shoplab recommend` (one user's top k) and `shoplab export`
//! (everyone's recommendations, the vectors) to Parquet.

use std::fmt;
use std::path::Path;

use anyhow::Result;
use serde::Serialize;
use shoplab_engine::Session;

use crate::cli::{ExportArgs, RecommendArgs};
use crate::output::Printer;

pub fn run(args: RecommendArgs) -> Result<()> {
    let session = Session::open_read_only(&args.workspace)?;
    let recs = session.recommend(args.run, &args.user, args.k)?;
    let rows: Vec<Recommended> = recs
        .iter()
        .enumerate()
        .map(|(r, (item, score))| Recommended {
            rank: r + 1,
            item_id: item,
            score: *score,
        })
        .collect();
    Printer::new(args.output.json).print(&Slate(&rows))?;
    Ok(())
}

pub fn export(args: ExportArgs) -> Result<()> {
    let session = super::open(&args.workspace)?;
    let recommendations = match &args.recommendations {
        Some(path) => Some((
            path.as_path(),
            session.export_recommendations(args.run, args.k, path)?,
        )),
        None => None,
    };
    let embeddings = match &args.embeddings {
        Some(path) => Some((path.as_path(), session.export_embeddings(args.run, path)?)),
        None => None,
    };
    let written = Exported {
        recommendations,
        embeddings,
        k: args.k,
    };
    Printer::new(args.output.json).line(&written)?;
    Ok(())
}

/// One recommended item.
#[derive(Serialize)]
struct Recommended<'a> {
    rank: usize,
    item_id: &'a str,
    score: f32,
}

/// A user's recommendations, best first.
#[derive(Serialize)]
#[serde(transparent)]
struct Slate<'a>(&'a [Recommended<'a>]);

impl fmt::Display for Slate<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in self.0 {
            writeln!(f, "{:>3}. {:<12} {:.4}", r.rank, r.item_id, r.score)?;
        }
        Ok(())
    }
}

/// The files written and their rows (JSON: the rows per kind).
struct Exported<'a> {
    recommendations: Option<(&'a Path, usize)>,
    embeddings: Option<(&'a Path, usize)>,
    k: usize,
}

impl Serialize for Exported<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        if let Some((_, rows)) = self.recommendations {
            m.serialize_entry("recommendations", &rows)?;
        }
        if let Some((_, rows)) = self.embeddings {
            m.serialize_entry("embeddings", &rows)?;
        }
        m.end()
    }
}

impl fmt::Display for Exported<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((path, rows)) = self.recommendations {
            writeln!(
                f,
                "{}: {rows} recommendations (top {})",
                path.display(),
                self.k
            )?;
        }
        if let Some((path, rows)) = self.embeddings {
            writeln!(f, "{}: {rows} vectors (users and items)", path.display())?;
        }
        Ok(())
    }
}
