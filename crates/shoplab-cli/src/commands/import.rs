//! `shoplab import`: exports into the workspace, or the recognized mapping shown.

use std::fmt;

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use serde::Serialize;
use shoplab_engine::{DataError, ImportOptions, ImportReport, Mapping, Session, Target};

use crate::cli::ImportArgs;
use crate::output::Printer;
use crate::progress;

pub fn run(args: ImportArgs) -> Result<()> {
    let out = Printer::new(args.output.json);
    // Everything that can be refused before the workspace is touched is checked first: a
    // typo never leaves a new, empty workspace behind.
    let mapping = match &args.mapping {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("reading the mapping {}", p.display()))?;
            // One line that names the file, then the reader's line and column.
            let mapping = Mapping::from_toml(&text).map_err(|e| match e {
                DataError::Mapping(m) => anyhow!("mapping {}: {m}", p.display()),
                other => anyhow!("mapping {}: {other}", p.display()),
            })?;
            Some(mapping)
        }
        None => None,
    };
    let kind = args
        .kind
        .as_deref()
        .map(|k| k.parse::<Target>())
        .transpose()
        .map_err(|e| anyhow!("--kind: {e}"))?;
    if let Some(missing) = args.files.iter().find(|f| !f.is_file()) {
        bail!("{}: no such file", missing.display());
    }
    let opts = ImportOptions {
        kind,
        mapping,
        pseudonymize: args.pseudonymize,
        dedupe: args.dedupe,
    };
    let existed = args.workspace.exists();
    let session = super::create(&args.workspace)?;
    let mut reports = Vec::new();
    let result = import_all(&session, &args, &opts, out, &mut reports);
    if !existed && reports.is_empty() && (result.is_err() || args.show_mapping) {
        // A workspace this command created and filled with nothing goes again.
        drop(session);
        remove_workspace(&args.workspace);
    }
    result
}

fn import_all(
    session: &Session,
    args: &ImportArgs,
    opts: &ImportOptions,
    out: Printer,
    reports: &mut Vec<ImportReport>,
) -> Result<()> {
    if args.show_mapping {
        for file in &args.files {
            let preview = session.preview_import(file, opts)?;
            crate::output::out(&format!(
                "# {}\n{}\n",
                file.display(),
                preview.mapping.to_toml()
            ));
        }
        return Ok(());
    }
    if let Some((remote, data)) = args.spark.target() {
        if args.show_mapping {
            bail!(
                "--show-mapping reads a local file; with --spark the import's report shows the mapping"
            );
        }
        let report = progress::on_spark(out.json(), |step, stop| {
            session.import_on_spark(remote, data, opts, step, stop)
        })?;
        if !out.json() {
            crate::output::out(&Imported(&report).to_string());
        }
        reports.push(report);
    }
    for file in &args.files {
        let report = progress::import(session, file, opts, out.json())?;
        if !out.json() {
            crate::output::out(&Imported(&report).to_string());
        }
        reports.push(report);
    }
    if out.json() {
        out.print(&Imports(reports))?;
    }
    Ok(())
}

/// Removes a workspace file this command created, and its write-ahead log.
fn remove_workspace(path: &Path) {
    let _ = std::fs::remove_file(path);
    let mut wal = path.as_os_str().to_owned();
    wal.push(".wal");
    let _ = std::fs::remove_file(wal);
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
        findings(f, &r.findings)
    }
}

/// Refunds, guest rows and suspicious values, each with the query that lists its rows.
pub fn findings(f: &mut fmt::Formatter<'_>, found: &[shoplab_engine::Finding]) -> fmt::Result {
    for x in found {
        writeln!(
            f,
            "  {} {}: shoplab sql <workspace> \"{}\"",
            x.rows, x.what, x.query
        )?;
    }
    Ok(())
}
