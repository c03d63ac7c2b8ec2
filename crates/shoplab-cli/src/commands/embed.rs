//! Text encoders: `shoplab model import|list` and `shoplab embed` (items or given texts).

use std::fmt;

use anyhow::{Context, Result, ensure};
use serde::Serialize;
use shoplab_engine::{EncoderInfo, embed_texts, encoders, import_encoder};

use crate::cli::{EmbedArgs, ModelCommand};
use crate::output::Printer;

pub fn model(command: ModelCommand) -> Result<()> {
    let out = Printer::new(false);
    match command {
        ModelCommand::Import { folder, name } => {
            out.print(&Encoder(&import_encoder(&folder, name.as_deref())?))?
        }
        ModelCommand::List => {
            for e in encoders() {
                out.print(&Encoder(&e))?;
            }
        }
    }
    Ok(())
}

pub fn run(args: EmbedArgs) -> Result<()> {
    let out = Printer::new(args.output.json);
    if args.items {
        let ws = args.workspace.context("--items needs a workspace")?;
        let session = super::open(&ws)?;
        let (model, items) = session.embed_items(&args.model, &args.device)?;
        return Ok(out.line(&ItemsEmbedded { model, items })?);
    }
    ensure!(
        !args.text.is_empty(),
        "give --items (and a workspace) or --text"
    );
    let texts: Vec<&str> = args.text.iter().map(String::as_str).collect();
    let (_, vectors) = embed_texts(&args.model, &args.device, &texts)?;
    let rows: Vec<Embedded> = args
        .text
        .iter()
        .zip(&vectors)
        .map(|(text, vector)| Embedded { text, vector })
        .collect();
    match rows.as_slice() {
        [one] => out.line(one)?,
        many => out.line(&Many(many))?,
    }
    Ok(())
}

/// An imported encoder and its folder.
#[derive(Serialize)]
#[serde(transparent)]
struct Encoder<'a>(&'a EncoderInfo);

impl fmt::Display for Encoder<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}: {}", self.0.name, self.0.dir.display())
    }
}

/// The catalog embedded into `item_embeddings`.
#[derive(Serialize)]
struct ItemsEmbedded {
    model: String,
    items: usize,
}

impl fmt::Display for ItemsEmbedded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} items embedded with {} (table item_embeddings)",
            self.items, self.model
        )
    }
}

/// One text's vector (text output: its first five values and its size).
#[derive(Serialize)]
struct Embedded<'a> {
    text: &'a str,
    vector: &'a [f32],
}

impl fmt::Display for Embedded<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head: Vec<String> = self
            .vector
            .iter()
            .take(5)
            .map(|x| format!("{x:.5}"))
            .collect();
        writeln!(
            f,
            "{}: [{}, …] ({} dims)",
            self.text,
            head.join(", "),
            self.vector.len()
        )
    }
}

/// Several texts' vectors: a JSON array, or a line each.
#[derive(Serialize)]
#[serde(transparent)]
struct Many<'a>(&'a [Embedded<'a>]);

impl fmt::Display for Many<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|e| write!(f, "{e}"))
    }
}
