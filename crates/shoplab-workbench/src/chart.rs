//! A [`Figure`] on screen: drawn with egui_plot (lines, points, bars, intervals as error
//! bars, named x ticks, legend, axis labels), with an Export menu that writes it as SVG or
//! PNG (legend and axis labels included) or its data as CSV, in the colours of the export.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use egui::Color32;
use egui_plot::{Bar, BarChart, Legend, Line, Plot, PlotPoints, Points};

use crate::dialog::{Dialog, Then};
use crate::figure::{self, Figure, Kind};
use crate::view::Cx;

/// Most named series a plot's legend lists (exports list them all).
pub const LEGEND: usize = 24;
/// Most series a plot's hover searches.
pub const HOVER: usize = 100;

/// The on-screen colour of palette entry `i` (the same as in exported pictures).
pub use crate::plot::color;

/// Draws `f` in a plot `height` points high; `id` keeps its zoom across frames.
pub fn show(ui: &mut egui::Ui, id: &str, f: &Figure, height: f32) -> egui_plot::PlotResponse<()> {
    show_with(ui, id, f, height, |p| p, |_| {})
}

/// `figures` side by side (each with its file stem), each under its `label` and Export menu.
pub(crate) fn row(
    ui: &mut egui::Ui,
    cx: &Cx<'_>,
    exports: &Exports,
    figures: &[(String, Figure)],
    height: f32,
    label: fn(&Figure) -> &str,
) {
    ui.columns(figures.len().max(1), |cols| {
        for ((stem, f), col) in figures.iter().zip(cols.iter_mut()) {
            col.horizontal(|ui| {
                ui.label(label(f));
                exports.menu(ui, cx, f, stem);
            });
            show(col, stem, f, height);
        }
    });
}

/// [`show`], with the plot configured by `configure` and more drawn by `extra` on top.
pub fn show_with(
    ui: &mut egui::Ui,
    id: &str,
    f: &Figure,
    height: f32,
    configure: impl FnOnce(Plot<'_>) -> Plot<'_>,
    extra: impl FnOnce(&mut egui_plot::PlotUi<'_>),
) -> egui_plot::PlotResponse<()> {
    let ticks = f.x_ticks.clone();
    // Error bars over bars: dark on a light theme, light on a dark one.
    let over_bars = if ui.visuals().dark_mode {
        Color32::from_gray(220)
    } else {
        Color32::from_gray(60)
    };
    let mut plot = Plot::new(id)
        .height(height)
        .x_axis_label(f.x_label.clone())
        .y_axis_label(f.y_label.clone());
    // A legend of hundreds of entries helps no one and costs a frame: up to LEGEND only.
    if f.series.iter().filter(|s| !s.name.is_empty()).count() <= LEGEND {
        // A line's band shares its name: the legend takes the line's colour (drawn first).
        plot = plot.legend(
            Legend::default().color_conflict_handling(egui_plot::ColorConflictHandling::PickFirst),
        );
    }
    if !ticks.is_empty() {
        plot = plot
            .x_axis_formatter(move |mark, _| {
                let i = mark.value.round();
                if (mark.value - i).abs() < 1e-6 && i >= 0.0 {
                    ticks.get(i as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .include_x(-0.5)
            .include_x(f.x_ticks.len() as f64 - 0.5);
    }
    // Hover finds the nearest point of every hoverable series each frame: unnamed series
    // (axes, runs drawn grey) never, and none at all in a plot of hundreds of series.
    let crowded = f.series.len() > HOVER;
    configure(plot).show(ui, |p| {
        for s in &f.series {
            let c = color(s.color);
            let hover = !crowded && !s.name.is_empty();
            let finite: Vec<[f64; 2]> = s
                .points
                .iter()
                .copied()
                .filter(|q| q[0].is_finite() && q[1].is_finite())
                .collect();
            match s.kind {
                Kind::Line => p.line(
                    Line::new(s.name.clone(), PlotPoints::new(finite))
                        .color(c)
                        .allow_hover(hover),
                ),
                Kind::Points => p.points(
                    Points::new(s.name.clone(), PlotPoints::new(finite))
                        .color(c)
                        .radius(3.5)
                        .allow_hover(hover),
                ),
                Kind::Bars => p.bar_chart(
                    BarChart::new(
                        s.name.clone(),
                        finite
                            .iter()
                            .map(|q| Bar::new(q[0], q[1]).width(0.6))
                            .collect(),
                    )
                    .color(c)
                    .allow_hover(hover),
                ),
            }
            match s.kind {
                // A line's intervals are a band: one item, however many points.
                Kind::Line if s.intervals.len() == s.points.len() && s.points.len() > 1 => {
                    let (mut xs, mut lo, mut hi) = (Vec::new(), Vec::new(), Vec::new());
                    for (q, iv) in s.points.iter().zip(&s.intervals) {
                        if q[0].is_finite() && iv[0].is_finite() && iv[1].is_finite() {
                            xs.push(q[0]);
                            lo.push(iv[0]);
                            hi.push(iv[1]);
                        }
                    }
                    p.add(
                        egui_plot::FilledArea::new(s.name.clone(), &xs, &lo, &hi)
                            .fill_color(c.gamma_multiply(0.25)),
                    );
                }
                Kind::Line | Kind::Points | Kind::Bars => {
                    for (q, iv) in s.points.iter().zip(&s.intervals) {
                        if q[0].is_finite() && iv[0].is_finite() && iv[1].is_finite() {
                            let bar =
                                Line::new("", PlotPoints::new(vec![[q[0], iv[0]], [q[0], iv[1]]]))
                                    .allow_hover(false);
                            let ink = match s.kind {
                                Kind::Bars => over_bars,
                                Kind::Line | Kind::Points => c,
                            };
                            p.line(bar.color(ink).width(2.0));
                        }
                    }
                }
            }
        }
        extra(p);
    })
}

/// Where exports report back: the "wrote …" line of the last one.
pub struct Exports {
    done: (SyncSender<String>, Receiver<String>),
    /// What the last export did.
    pub note: Option<String>,
}

impl Default for Exports {
    fn default() -> Self {
        Exports {
            done: sync_channel(8),
            note: None,
        }
    }
}

impl Exports {
    /// Takes the result of a finished export; true when there was one.
    pub fn poll(&mut self) -> bool {
        match self.done.1.try_recv() {
            Ok(n) => {
                self.note = Some(n);
                true
            }
            Err(_) => false,
        }
    }

    /// An "Export" menu for `f`: SVG, PNG (with legend and axis labels) or CSV, each in a
    /// save dialog proposing `stem.ext`.
    pub(crate) fn menu(&self, ui: &mut egui::Ui, cx: &Cx<'_>, f: &Figure, stem: &str) {
        self.menu_with(ui, cx, stem, || f.clone());
    }

    /// [`Exports::menu`] for a plot drawn its own way: `make` builds its figure, only when
    /// an export is picked.
    pub(crate) fn menu_with(
        &self,
        ui: &mut egui::Ui,
        cx: &Cx<'_>,
        stem: &str,
        make: impl FnOnce() -> Figure,
    ) {
        let mut make = Some(make);
        ui.menu_button("Export", |ui| {
            for (label, ext, kind) in [
                ("SVG picture…", "svg", "SVG picture"),
                ("PNG picture…", "png", "PNG picture"),
                ("CSV data…", "csv", "CSV data"),
            ] {
                if ui.button(label).clicked() {
                    let extensions: &'static [&'static str] = match ext {
                        "svg" => &["svg"],
                        "png" => &["png"],
                        _ => &["csv"],
                    };
                    cx.dialog(
                        Dialog {
                            title: "Export the plot",
                            filter: Some((kind, extensions)),
                            save_as: Some(format!("{stem}.{ext}")),
                        },
                        Then::Figure {
                            figure: Box::new(make.take().map(|m| m()).unwrap_or_default()),
                            done: self.done.0.clone(),
                        },
                    );
                    ui.close();
                }
            }
        })
        .response
        .on_hover_text(
            "the plot as SVG or PNG with its legend and axis labels, or its data as CSV",
        );
    }
}

/// Writes `f` to `path` (by its extension) on a thread of its own; `done` gets what happened.
pub fn save(
    f: Box<Figure>,
    path: std::path::PathBuf,
    done: SyncSender<String>,
    ctx: egui::Context,
) {
    std::thread::spawn(move || {
        let note = figure::save(&f, &path).unwrap_or_else(|e| e);
        let _ = done.send(note);
        ctx.request_repaint();
    });
}
