//! Printing, in one place. A command's result is a typed value that serializes to its JSON
//! form and displays as its text form; the [`Printer`] picks one of the two by `--json`.
//! Streaming commands (training runs one after another, a real-time simulation's days)
//! print one record per line, so `--json` output stays one JSON object per line there.

use std::fmt::{self, Display};
use std::path::Path;

use serde::Serialize;

/// Writes results to standard output as text or as JSON.
#[derive(Clone, Copy)]
pub struct Printer {
    json: bool,
}

impl Printer {
    pub fn new(json: bool) -> Self {
        Printer { json }
    }

    /// Whether results go out as JSON (progress bars stay hidden then).
    pub fn json(self) -> bool {
        self.json
    }

    /// One whole result: pretty JSON, or its text.
    pub fn print<R: Serialize + Display + ?Sized>(self, result: &R) -> serde_json::Result<()> {
        if self.json {
            out(&format!("{}\n", serde_json::to_string_pretty(result)?));
        } else {
            out(&result.to_string());
        }
        Ok(())
    }

    /// One record of a stream: a JSON line, or its text.
    pub fn line<R: Serialize + Display + ?Sized>(self, record: &R) -> serde_json::Result<()> {
        if self.json {
            out(&format!("{}\n", serde_json::to_string(record)?));
        } else {
            out(&record.to_string());
        }
        Ok(())
    }
}

/// Writes to standard output. A reader that stopped reading (`shoplab … | head`) ends the
/// program quietly, as `cat` does, instead of a panic.
pub fn out(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: writing the output: {e}");
        std::process::exit(1);
    }
}

/// `s` cut to `n` characters, with an ellipsis when cut.
pub fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n).collect::<String>())
    }
}

/// A share as a percentage with two decimals, `-` when unknown.
pub fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.2}%", v * 100.0))
        .unwrap_or_else(|| "-".into())
}

/// An evaluation's metrics as a JSON object, name to value.
pub fn metrics_json(metrics: &[(String, f64)]) -> serde_json::Map<String, serde_json::Value> {
    metrics
        .iter()
        .map(|(n, v)| (n.clone(), serde_json::json!(v)))
        .collect()
}

/// The line for a run stopped by Ctrl-C, with the command that continues it.
pub fn cancelled(
    f: &mut fmt::Formatter<'_>,
    command: &str,
    workspace: &Path,
    run_id: i64,
    epochs_done: usize,
) -> fmt::Result {
    writeln!(
        f,
        "run {run_id}: cancelled after epoch {epochs_done}; continue with `shoplab {command} {} --resume {run_id}`",
        workspace.display()
    )
}
