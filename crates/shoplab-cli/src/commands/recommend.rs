//! Using a finished run: `shoplab recommend` (one user's top k) and `shoplab export`
//! (everyone's recommendations, the vectors) to Parquet.

use std::fmt;
use std::path::Path;

use anyhow::{Result, bail};
use serde::Serialize;
use shoplab_engine::{LiveRecs, Reading, Session};

use crate::cli::{ExportArgs, RecommendArgs};
use crate::output::Printer;

pub fn run(args: RecommendArgs) -> Result<()> {
    let session = Session::open_read_only(&args.workspace)?;
    let out = Printer::new(args.output.json);
    if let Some(history) = &args.history {
        let live = session.live_model(args.run)?;
        out.print(&Live(&live.recommend(history, args.k)?))?;
        return Ok(());
    }
    let Some(user) = &args.user else {
        bail!("--user or --history is required");
    };
    let recs = session.recommend(args.run, user, args.k)?;
    let rows: Vec<Recommended> = recs
        .iter()
        .enumerate()
        .map(|(r, (item, score))| Recommended {
            rank: r + 1,
            item_id: item,
            score: *score,
        })
        .collect();
    out.print(&Slate(&rows))?;
    Ok(())
}

/// A live slate: how the run read the history, each item with its reasons.
#[derive(Serialize)]
#[serde(transparent)]
struct Live<'a>(&'a LiveRecs);

impl fmt::Display for Live<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        let reads = match r.reading {
            Reading::Native => "reads the history natively",
            Reading::FoldIn => "folds the history into a user vector",
            Reading::Ignored => "ignores the history",
            Reading::Unsupported => "cannot read a new history",
        };
        let reasons = match r.reasons {
            "weight" => "the history items adding most to each",
            "cosine" => "the history items nearest each in the model's item space",
            _ => "none",
        };
        writeln!(
            f,
            "run {} ({}) {reads}; because: {reasons}",
            r.run_id,
            r.model.name()
        )?;
        if !r.unknown.is_empty() {
            writeln!(
                f,
                "not in the run's split, left out: {}",
                r.unknown.join(", ")
            )?;
        }
        for (rank, item) in r.items.iter().enumerate() {
            let because: Vec<String> = item
                .because
                .iter()
                .map(|b| format!("{} {:.3}", b.item_id, b.weight))
                .collect();
            writeln!(
                f,
                "{:>3}. {:<12} {:>9.4}  because: {}",
                rank + 1,
                item.item_id,
                item.score,
                if because.is_empty() {
                    "-".into()
                } else {
                    because.join(", ")
                }
            )?;
        }
        Ok(())
    }
}

pub fn export(args: ExportArgs) -> Result<()> {
    let session = super::open(&args.workspace)?;
    if let Some(dir) = &args.lake {
        let partition_by: Vec<String> = args
            .partition_by
            .iter()
            .filter(|p| !p.is_empty() && p.as_str() != "none")
            .cloned()
            .collect();
        let tables = session.export_lake(dir, &partition_by)?;
        Printer::new(args.output.json).print(&Lake(&tables))?;
        return Ok(());
    }
    let run = args.run.expect("clap requires --run without --lake");
    let recommendations = match &args.recommendations {
        Some(path) => Some((
            path.as_path(),
            session.export_recommendations(run, args.k, path)?,
        )),
        None => None,
    };
    let embeddings = match &args.embeddings {
        Some(path) => Some((path.as_path(), session.export_embeddings(run, path)?)),
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

/// The tables written to a lake.
#[derive(Serialize)]
#[serde(transparent)]
struct Lake<'a>(&'a [shoplab_engine::LakeTable]);

impl std::fmt::Display for Lake<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for t in self.0 {
            writeln!(
                f,
                "{:<8} {:>12} rows  {}",
                t.table,
                t.rows,
                t.path.display()
            )?;
        }
        Ok(())
    }
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
