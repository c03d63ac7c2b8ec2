//! The analyst workbench (eframe/egui): **Data** (tables, profile, import, SQL console),
//! **Models** (configure and start a training run, watch its curves live, cancel, resume),
//! **Compare** (runs table, overlaid curves, metric intervals, paired comparison, top-K side
//! by side) and **Simulate** (a scenario run in batch or real time, conversion, revenue and
//! margin per policy with 95% bands, linked axes). The UI thread never touches DuckDB: a
//! worker thread owns the session and answers over bounded channels; training runs and
//! simulations run on threads of their own and are polled each frame.
//!
//! Modules, lowest layer first: `tab` (the views by name), `prefs`, `dialog`, `worker`,
//! [`plot`]; `view` (the `View` trait and the context a view works in); one module per
//! view (`data`, `models`, `compare`, `simulate`); `app` (the window around the views,
//! routing the worker's answers to the view that asked).

mod app;
mod chart;
mod compare;
mod data;
mod dialog;
pub mod figure;
mod models;
pub mod plot;
mod prefs;
mod simulate;
mod tab;
mod view;
mod worker;

pub use app::{Launch, Start, WorkbenchApp};
pub use compare::CompareView;
pub use data::DataView;
pub use models::ModelsView;
pub use prefs::TrainForm;
pub use simulate::SimView;
pub use tab::{Tab, UnknownTab};
pub use view::WorkspaceView;
pub use worker::{Reply, Request};
