//! What a view is and what it works with. A [`View`] is a struct that owns its state, draws
//! itself, takes the worker's answers to the requests it sent, and polls its own jobs. It
//! reaches the rest of the app only through a [`Cx`]: the workspace as last reported, and
//! the [`Shell`] (requests to the worker, the error line, file dialogs).

use std::path::PathBuf;
use std::sync::mpsc::SyncSender;

use shoplab_engine::{ImportReport, Profile, RunSummary, SplitSummary, TableCount};

use crate::dialog::{self, Dialog, Picked, Then};
use crate::prefs::Prefs;
use crate::tab::Tab;
use crate::worker::{Reply, Request};

/// A view of the workbench (a tab). Adding one: a struct implementing this, a row in
/// [`Tab`]'s table, and its field in the app (the compiler points at the rest).
pub(crate) trait View {
    /// The view in the central area.
    fn ui(&mut self, ui: &mut egui::Ui, cx: &mut Cx<'_>);

    /// Panels of its own beside the central area (drawn before it); most views have none.
    fn panels_ui(&mut self, _ui: &mut egui::Ui, _cx: &mut Cx<'_>) {}

    /// The worker's answer to a request this view sent with [`Cx::send`].
    fn on_reply(&mut self, reply: Reply, cx: &mut Cx<'_>);

    /// News of the workspace that every view hears.
    fn on_news(&mut self, _news: &News<'_>, _cx: &mut Cx<'_>) {}

    /// Takes at most one event of the view's own jobs (training, import, simulation, a
    /// PNG being written); true when it took one. The app calls this until nothing is left
    /// or the frame's time budget is spent.
    fn poll(&mut self, _cx: &mut Cx<'_>) -> bool {
        false
    }

    /// Whether a job of the view is under way.
    fn is_busy(&self) -> bool {
        false
    }

    /// The view was brought to the front (with a workspace open).
    fn on_show(&mut self, _cx: &mut Cx<'_>) {}

    /// Runs what the view runs (Ctrl+Enter, or `--run` once the workspace is open).
    fn run(&mut self, _cx: &mut Cx<'_>) {}

    /// Stops the view's running job (Escape).
    fn cancel(&mut self) {}

    /// A file picked in a dialog the view opened with [`Then::Load`].
    fn load(&mut self, _path: PathBuf, _cx: &mut Cx<'_>) {}

    /// Writes what the view remembers across restarts.
    fn save(&self, _prefs: &mut Prefs) {}
}

/// What every view hears of the workspace.
pub(crate) enum News<'a> {
    /// A workspace was opened, or its tables and profile were read again.
    Opened,
    /// The workspace's runs, read again.
    Runs(&'a [RunSummary]),
}

/// Who asked the worker, and so who gets the answer: the app (workspace-wide facts, which
/// every view hears as [`News`]) or one view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Asker {
    App,
    View(Tab),
}

/// What the worker last told us about the open workspace.
#[derive(Default)]
pub struct WorkspaceView {
    pub path: Option<PathBuf>,
    pub tables: Vec<TableCount>,
    pub profile: Option<Profile>,
    pub splits: Vec<SplitSummary>,
    pub last_import: Option<ImportReport>,
    /// The migration done when an older workspace was opened (its backup's path).
    pub migrated: Option<String>,
}

/// The app around the views: requests to the worker and what is in flight, the error
/// line, file dialogs.
pub(crate) struct Shell {
    requests: SyncSender<(Asker, Request)>,
    /// What the worker is doing (the latest request), while requests are in flight.
    busy: Option<String>,
    /// Requests sent and not yet answered.
    pending: usize,
    picked: SyncSender<Picked>,
    pub error: Option<String>,
}

impl Shell {
    pub fn new(requests: SyncSender<(Asker, Request)>, picked: SyncSender<Picked>) -> Self {
        Shell {
            requests,
            busy: None,
            pending: 0,
            picked,
            error: None,
        }
    }

    /// Sends `req` to the worker; its answer goes to `asker`.
    pub fn send(&mut self, asker: Asker, req: Request) {
        let what = req.describe();
        if self.requests.try_send((asker, req)).is_err() {
            self.error = Some("the worker is still busy with earlier requests".into());
        } else {
            self.busy = Some(what);
            self.pending += 1;
        }
    }

    /// One request was answered.
    pub fn answered(&mut self) {
        self.pending = self.pending.saturating_sub(1);
        if self.pending == 0 {
            self.busy = None;
        }
    }

    /// What the worker is doing, while requests are in flight.
    pub fn busy(&self) -> Option<&str> {
        self.busy.as_deref()
    }

    /// Shows a file dialog for `tab`; what is picked is done with `then` in a later frame.
    pub fn dialog(&self, tab: Tab, d: Dialog, then: Then) {
        dialog::show(d, tab, then, self.picked.clone());
    }
}

/// What a view works with: lent by the app for one call.
pub(crate) struct Cx<'a> {
    /// The view this is lent to: the answers to its requests come back to it.
    pub tab: Tab,
    /// The view in front.
    pub shown: Tab,
    pub workspace: &'a mut WorkspaceView,
    shell: &'a mut Shell,
}

impl<'a> Cx<'a> {
    pub fn new(
        tab: Tab,
        shown: Tab,
        workspace: &'a mut WorkspaceView,
        shell: &'a mut Shell,
    ) -> Self {
        Cx {
            tab,
            shown,
            workspace,
            shell,
        }
    }

    /// Asks the worker; the answer comes to this view's [`View::on_reply`].
    pub fn send(&mut self, req: Request) {
        self.shell.send(Asker::View(self.tab), req);
    }

    /// Asks the worker for workspace-wide facts (the tables and profile, the runs); every
    /// view hears the answer as [`News`].
    pub fn send_workspace(&mut self, req: Request) {
        self.shell.send(Asker::App, req);
    }

    /// Shows an error on the error line.
    pub fn fail(&mut self, message: String) {
        self.shell.error = Some(message);
    }

    /// Shows a file dialog; what is picked is done with `then` in a later frame.
    pub fn dialog(&self, d: Dialog, then: Then) {
        self.shell.dialog(self.tab, d, then);
    }
}

/// A reply reached a view (or the app) that never asks for it: a bug in who sends what.
pub(crate) fn misrouted(to: &str) {
    debug_assert!(false, "{to} got a reply to a request it does not send");
}

/// What a view's running job did since the last frame.
pub(crate) enum Polled<T> {
    /// Nothing new.
    Quiet,
    /// It sent this (a step, progress).
    Event(shoplab_engine::JobEvent),
    /// It ended (its events all read); the slot is empty again.
    Ended(shoplab_engine::Result<T>),
}

/// The job in `slot`: its next event, or once it finished and every event was read, its
/// result (taken out of the slot).
pub(crate) fn poll_job<T>(slot: &mut Option<shoplab_engine::Job<T>>) -> Polled<T> {
    let Some(job) = slot else {
        return Polled::Quiet;
    };
    let finished = job.is_finished();
    if let Some(e) = job.try_event() {
        return Polled::Event(e);
    }
    if !finished {
        return Polled::Quiet;
    }
    Polled::Ended(slot.take().expect("checked above").join())
}
