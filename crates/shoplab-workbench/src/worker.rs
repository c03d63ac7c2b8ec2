//! The worker thread: owns the engine session, so DuckDB never runs on the UI thread.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender};

use shoplab_engine::{ImportOptions, ImportReport, Profile, Session, SplitSummary, TableCount};

pub enum Request {
    Open(PathBuf),
    OpenDemo,
    Import(PathBuf),
    Profile,
}

impl Request {
    pub fn describe(&self) -> String {
        match self {
            Request::Open(p) => format!("opening {}", p.display()),
            Request::OpenDemo => "opening the demo workspace (built on first use)".into(),
            Request::Import(p) => format!("importing {}", p.display()),
            Request::Profile => "profiling".into(),
        }
    }
}

pub enum Reply {
    Opened {
        path: PathBuf,
        tables: Vec<TableCount>,
        profile: Option<Profile>,
        splits: Vec<SplitSummary>,
    },
    Imported {
        report: Box<ImportReport>,
        tables: Vec<TableCount>,
        profile: Profile,
    },
    Failed(String),
}

pub fn spawn(ctx: egui::Context, requests: Receiver<Request>, replies: SyncSender<Reply>) {
    std::thread::Builder::new()
        .name("workbench-worker".into())
        .spawn(move || {
            let mut session: Option<Session> = None;
            for req in requests {
                let reply =
                    handle(&mut session, req).unwrap_or_else(|e| Reply::Failed(e.to_string()));
                if replies.send(reply).is_err() {
                    break;
                }
                ctx.request_repaint();
            }
        })
        .expect("spawn worker");
}

fn handle(session: &mut Option<Session>, req: Request) -> shoplab_engine::Result<Reply> {
    match req {
        Request::Open(path) => open(session, path),
        Request::OpenDemo => {
            *session = None; // release the file before the demo may be rebuilt
            let path = shoplab_engine::demo::ensure_demo()?;
            open(session, path)
        }
        Request::Import(file) => {
            let s = session.as_ref().ok_or_else(no_workspace)?;
            let report = s.import(&file, &ImportOptions::default())?;
            let profile = s.profile()?;
            Ok(Reply::Imported {
                report: Box::new(report),
                tables: s.table_counts()?,
                profile,
            })
        }
        Request::Profile => {
            let s = session.as_ref().ok_or_else(no_workspace)?;
            let profile = s.profile()?;
            Ok(Reply::Opened {
                path: s.path(),
                tables: s.table_counts()?,
                profile: Some(profile),
                splits: s.splits()?,
            })
        }
    }
}

fn open(session: &mut Option<Session>, path: PathBuf) -> shoplab_engine::Result<Reply> {
    *session = None;
    let s = Session::open(&path)?;
    let profile = match s.last_profile()? {
        Some(p) => Some(p),
        None if s
            .table_counts()?
            .iter()
            .any(|t| t.table == "events" && t.rows > 0) =>
        {
            Some(s.profile()?)
        }
        None => None,
    };
    let reply = Reply::Opened {
        path,
        tables: s.table_counts()?,
        profile,
        splits: s.splits()?,
    };
    *session = Some(s);
    Ok(reply)
}

fn no_workspace() -> shoplab_engine::EngineError {
    shoplab_engine::EngineError::Job("open a workspace first".into())
}
