//! Looking into a workspace: `shoplab tables`, `shoplab rejects`, `shoplab sql`.

use std::fmt;

use anyhow::Result;
use serde::Serialize;
use shoplab_engine::{QueryResult, Reject, Session, TableCount};

use crate::cli::{RejectsArgs, SqlArgs, WorkspaceArgs};
use crate::output::{Printer, truncate};

pub fn tables(args: WorkspaceArgs) -> Result<()> {
    let session = Session::open_read_only(&args.workspace)?;
    let counts = session.table_counts()?;
    Printer::new(args.output.json).print(&Tables(&counts))?;
    Ok(())
}

pub fn rejects(args: RejectsArgs) -> Result<()> {
    let session = Session::open_read_only(&args.workspace)?;
    let rejects = session.rejects(args.import_id, args.limit)?;
    Printer::new(false).print(&Rejects(&rejects))?;
    Ok(())
}

pub fn sql(args: SqlArgs) -> Result<()> {
    let session = super::open(&args.workspace)?;
    let result = session.query(&args.query, args.limit)?;
    Printer::new(false).print(&Rows(&result))?;
    Ok(())
}

/// Row counts per table.
#[derive(Serialize)]
#[serde(transparent)]
struct Tables<'a>(&'a [TableCount]);

impl fmt::Display for Tables<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0 {
            writeln!(f, "{:<20} {:>12}", c.table, c.rows)?;
        }
        Ok(())
    }
}

/// Rejected rows: line, column, reason and the raw row.
#[derive(Serialize)]
#[serde(transparent)]
struct Rejects<'a>(&'a [Reject]);

impl fmt::Display for Rejects<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for r in self.0 {
            writeln!(
                f,
                "line {:>8}  {:<14} {}{}",
                r.line.map(|l| l.to_string()).unwrap_or_else(|| "-".into()),
                r.column.as_deref().unwrap_or_default(),
                r.reason,
                r.raw
                    .as_deref()
                    .map(|raw| format!("\n                {}", truncate(raw, 160)))
                    .unwrap_or_default()
            )?;
        }
        Ok(())
    }
}

/// A query's result as tab-separated lines, the column names first.
#[derive(Serialize)]
#[serde(transparent)]
struct Rows<'a>(&'a QueryResult);

impl fmt::Display for Rows<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.0.columns.join("\t"))?;
        for row in &self.0.rows {
            writeln!(f, "{}", row.join("\t"))?;
        }
        Ok(())
    }
}
