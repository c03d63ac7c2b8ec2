//! The analyst workbench (eframe/egui): **Data** (tables, profile, import, SQL console),
//! **Models** (start any run kind, a sweep or a split, watch its curves live, cancel,
//! resume), **Compare** (an experiment tracker: any metric, tags and notes, differing
//! parameters, groups over seeds, parallel coordinates with brushing, parameter importance,
//! paired tests, inside a run) and **Simulate** (a scenario run in batch or real time,
//! conversion, revenue and margin per policy with 95% bands, linked axes). The UI thread never touches DuckDB: a
//! worker thread owns the session and answers over bounded channels; training runs and
//! simulations run on threads of their own and are polled each frame.
//!
//! Modules, lowest layer first: `tab` (the views by name), [`figure`] (a plot as plain data,
//! written as SVG, PNG and CSV), `prefs`, `dialog`, `worker`, [`plot`]; `view` (the `View`
//! trait and the context a view works in); `chart` (a figure drawn with egui_plot, and its
//! Export menu); one module per view (`data`, `models`, `compare`, `simulate`; `spark`, the Data
//! view's steps on a Spark cluster); `app` (the
//! window around the views, routing the worker's answers to the view that asked). Every
//! plot exports as SVG, PNG and CSV.

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
mod spark;
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
