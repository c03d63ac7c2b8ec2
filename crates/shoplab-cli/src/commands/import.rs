//! `shoplab import`: exports into the workspace, or the recognized mapping shown.

use std::fmt;

use anyhow::{Context, Result};
use serde::Serialize;
use shoplab_engine::{ImportOptions, ImportReport, Mapping, Session, Target};

use crate::cli::ImportArgs;
use crate::output::Printer;
use crate::progress;

pub fn run(args: ImportArgs) -> Result<()> {
    let out = Printer::new(args.output.json);
    let session = Session::open(&args.workspace)?;
    let mapping = match &args.mapping {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading mapping {}", p.display()))?;
            Some(Mapping::from_toml(&text).with_context(|| format!("mapping {}", p.display()))?)
        }
        None => None,
    };
    let kind = args.kind.map(|k| k.parse::<Target>()).transpose()?;
    let opts = ImportOptions {
        kind,
        mapping,
        pseudonymize: args.pseudonymize,
        dedupe: args.dedupe,
    };
    if args.show_mapping {
        for file in &args.files {
            let preview = session.preview_import(file, &opts)?;
            println!("# {}\n{}", file.display(), preview.mapping.to_toml());
        }
        return Ok(());
    }
    let mut reports = Vec::new();
    for file in &args.files {
        let report = progress::import(&session, file, &opts, out.json())?;
        if !out.json() {
            print!("{}", Imported(&report));
        }
        reports.push(report);
    }
    if out.json() {
        out.print(&Imports(&reports))?;
    }
    Ok(())
}

/// The imports of one command: a JSON array, or each import's lines.
#[derive(Serialize)]
#[serde(transparent)]
struct Imports<'a>(&'a [ImportReport]);

impl fmt::Display for Imports<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|r| write!(f, "{}", Imported(r)))
    }
}

/// One import: rows read, loaded, rejected (the first rejects with their lines).
#[derive(Serialize)]
#[serde(transparent)]
pub struct Imported<'a>(pub &'a ImportReport);

impl fmt::Display for Imported<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        if r.already_imported {
            return writeln!(
                f,
                "{}: already imported as import {} ({} rows loaded then); nothing done",
                r.file.display(),
                r.import_id,
                r.rows_loaded
            );
        }
        writeln!(
            f,
            "{}: {} → {}  read {}  loaded {}  rejected {}{}  ({:.2} s, import {})",
            r.file.display(),
            r.format,
            r.target.table(),
            r.rows_read,
            r.rows_loaded,
            r.rows_rejected,
            if r.rows_duplicate > 0 {
                format!("  duplicates dropped {}", r.rows_duplicate)
            } else {
                String::new()
            },
            r.seconds,
            r.import_id
        )?;
        if r.items_upserted > 0 {
            writeln!(
                f,
                "  items created or completed from the events: {}",
                r.items_upserted
            )?;
        }
        for rej in r.rejects.iter().take(5) {
            writeln!(
                f,
                "  rejected line {}: {}",
                rej.line
                    .map(|l| l.to_string())
                    .unwrap_or_else(|| "-".into()),
                rej.reason
            )?;
        }
        if r.rows_rejected > 5 {
            writeln!(
                f,
                "  … see all: shoplab rejects <workspace> {}",
                r.import_id
            )?;
        }
        Ok(())
    }
}
