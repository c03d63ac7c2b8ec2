//! File dialogs, each on its own thread (the UI never waits on one). What is picked comes
//! back through a channel drained each frame, with what to do with it and the view that
//! asked.

use std::path::PathBuf;
use std::sync::mpsc::SyncSender;

use crate::tab::Tab;

/// What to do with the path a file dialog returns.
pub(crate) enum Then {
    /// Open it as the workspace.
    Open,
    /// Recognize it and preview its import.
    Import,
    /// Hand it to the view that asked (`View::load`).
    Load,
    /// Write this query's whole result there (answered to the view that asked).
    ExportQuery(String),
    /// Write this plot there (SVG, PNG or CSV by the extension); `done` gets what happened.
    Figure {
        figure: Box<crate::figure::Figure>,
        done: SyncSender<String>,
    },
    /// Save this part of the window there as a PNG; `done` gets what happened.
    Png {
        rect: egui::Rect,
        done: SyncSender<String>,
    },
}

/// A file dialog to show: its title, filter (name, extensions), and for a save dialog the
/// file name it proposes.
pub(crate) struct Dialog {
    pub title: &'static str,
    pub filter: Option<(&'static str, &'static [&'static str])>,
    pub save_as: Option<String>,
}

/// A path picked in a dialog that `tab` opened.
pub(crate) struct Picked {
    pub tab: Tab,
    pub then: Then,
    pub path: PathBuf,
}

/// Shows `dialog` on its own thread; what is picked is sent to `picked` for a later frame.
pub(crate) fn show(dialog: Dialog, tab: Tab, then: Then, picked: SyncSender<Picked>) {
    std::thread::spawn(move || {
        let mut d = rfd::FileDialog::new().set_title(dialog.title);
        if let Some((name, extensions)) = dialog.filter {
            d = d.add_filter(name, extensions);
        }
        let path = match dialog.save_as {
            Some(file) => d.set_file_name(file).save_file(),
            None => d.pick_file(),
        };
        if let Some(path) = path {
            let _ = picked.send(Picked { tab, then, path });
        }
    });
}
