//! The Simulate view's parameter sweep: one number of the scenario (a dotted path into its
//! TOML) over a range, each value run over the seeds and stored; conversion, revenue and
//! margin against the value, a line per policy with its 95% band. Progress and cancel.

use shoplab_engine::{Job, JobEvent, ParamSweep, SimSweepReport, scenario_events};

use crate::chart::{self, Exports};
use crate::figure::{Figure, Kind, Series};
use crate::view::{Cx, Polled, poll_job};
use crate::worker::Request;

/// The sweep's state.
pub struct SweepPanel {
    pub path: String,
    pub from: f64,
    pub to: f64,
    pub points: usize,
    pub seeds: u64,
    pub job: Option<Job<SimSweepReport>>,
    pub stage: String,
    pub progress: f64,
    pub report: Option<SimSweepReport>,
    pub figures: Vec<(String, Figure)>,
    /// A sweep the view's "run" starts instead of the scenario (`--sweep`).
    pub pending: Option<ParamSweep>,
    /// Open the panel on the next frame (a sweep just started).
    pub reveal: bool,
}

impl Default for SweepPanel {
    fn default() -> Self {
        SweepPanel {
            path: "events.0.competitor_price".into(),
            from: 0.7,
            to: 1.0,
            points: 7,
            seeds: 10,
            job: None,
            stage: String::new(),
            progress: 0.0,
            report: None,
            figures: Vec::new(),
            pending: None,
            reveal: false,
        }
    }
}

/// Paths worth offering for a scenario: its traffic and competitor weight, each event's
/// numbers, every policy's largest daily move.
fn suggestions(scenario: &str) -> Vec<String> {
    let mut out = vec![
        "sessions_per_day".to_string(),
        "competitor_weight".into(),
        "policies.*.max_move".into(),
    ];
    if let Ok((events, _)) = scenario_events(scenario) {
        for (i, e) in events.iter().enumerate() {
            for (name, set) in [
                ("competitor_price", e.competitor_price.is_some()),
                ("elasticity", e.elasticity.is_some()),
                ("promo", e.promo.is_some()),
                ("traffic", e.traffic.is_some()),
                ("day", true),
            ] {
                if set {
                    out.push(format!("events.{i}.{name}"));
                }
            }
        }
    }
    out
}

/// Conversion, revenue and margin against the value, a line per policy with its band.
pub fn figures(r: &SimSweepReport) -> Vec<(String, Figure)> {
    let mut policies: Vec<String> = Vec::new();
    for p in r.points.iter().flat_map(|p| &p.policies) {
        if !policies.contains(&p.policy) {
            policies.push(p.policy.clone());
        }
    }
    [
        ("conversion", "conversion (%)", 100.0),
        ("revenue", "revenue over the horizon", 1.0),
        ("margin", "margin over the horizon", 1.0),
    ]
    .iter()
    .map(|(metric, label, scale)| {
        let series = policies
            .iter()
            .enumerate()
            .map(|(k, name)| {
                let mut points = Vec::new();
                let mut intervals = Vec::new();
                for p in &r.points {
                    let e = p
                        .policies
                        .iter()
                        .find(|x| &x.policy == name)
                        .and_then(|x| x.metrics.get(*metric));
                    if let Some(e) = e {
                        points.push([p.value, scale * e.mean]);
                        intervals.push([scale * e.low, scale * e.high]);
                    }
                }
                Series {
                    name: name.clone(),
                    kind: Kind::Line,
                    points,
                    intervals,
                    color: k,
                }
            })
            .collect();
        (
            format!("sweep-{}-{metric}", r.path.replace(['.', '*'], "_")),
            Figure {
                title: format!(
                    "{label} against {} ({} replicates, 95% bands)",
                    r.path, r.seeds
                ),
                x_label: r.path.clone(),
                y_label: label.to_string(),
                x_ticks: Vec::new(),
                series,
            },
        )
    })
    .collect()
}

impl SweepPanel {
    /// The sweep's progress, or its report once it ended; true when something changed.
    pub(crate) fn poll(&mut self, cx: &mut Cx<'_>) -> bool {
        match poll_job(&mut self.job) {
            Polled::Quiet => return false,
            Polled::Event(JobEvent::Stage(s)) => self.stage = s,
            Polled::Event(JobEvent::Progress(f)) => self.progress = f,
            Polled::Event(JobEvent::Train(_)) => {}
            Polled::Ended(Ok(r)) => {
                self.figures = figures(&r);
                self.report = Some(r);
            }
            Polled::Ended(Err(e)) => cx.fail(e.to_string()),
        }
        true
    }

    pub fn start(&mut self, job: Job<SimSweepReport>) {
        self.stage = "starting".into();
        self.progress = 0.0;
        self.job = Some(job);
        self.reveal = true;
    }

    /// Starts `sweep` over `scenario` with the panel's replicates; the panel shows its
    /// parameter and range.
    pub(crate) fn send(&mut self, sweep: ParamSweep, scenario: &str, cx: &mut Cx<'_>) {
        self.path.clone_from(&sweep.path);
        if let (Some(&from), Some(&to)) = (sweep.values.first(), sweep.values.last()) {
            (self.from, self.to, self.points) = (from, to, sweep.values.len());
        }
        cx.send(Request::SimSweep {
            scenario: scenario.to_string(),
            sweep: Box::new(sweep),
            seeds: self.seeds,
        });
    }

    fn spec(&self) -> String {
        format!(
            "{}={}..{}:{}",
            self.path.trim(),
            self.from,
            self.to,
            self.points
        )
    }

    pub(crate) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        cx: &mut Cx<'_>,
        exports: &Exports,
        scenario: &str,
    ) {
        ui.horizontal(|ui| {
            let label = ui.label("parameter");
            ui.add(egui::TextEdit::singleline(&mut self.path).desired_width(200.0))
                .labelled_by(label.id)
                .on_hover_text("a number of the scenario, dotted into its TOML: events.0.competitor_price, sessions_per_day, policies.*.max_move (* is every policy)");
            egui::ComboBox::from_label("or pick one")
                .selected_text("…")
                .show_ui(ui, |ui| {
                    for s in suggestions(scenario) {
                        ui.selectable_value(&mut self.path, s.clone(), s);
                    }
                });
            ui.add(egui::DragValue::new(&mut self.from).speed(0.01).prefix("from "));
            ui.add(egui::DragValue::new(&mut self.to).speed(0.01).prefix("to "));
            ui.add(egui::DragValue::new(&mut self.points).range(2..=50).prefix("points "));
            ui.add(egui::DragValue::new(&mut self.seeds).range(1..=200).prefix("replicates "));
            if self.job.is_some() {
                if ui.button("Cancel the sweep").clicked()
                    && let Some(j) = &self.job
                {
                    j.cancel();
                }
            } else if ui.button("Run the sweep").clicked() {
                match ParamSweep::parse(&self.spec()) {
                    Ok(sweep) => self.send(sweep, scenario, cx),
                    Err(e) => cx.fail(e.to_string()),
                }
            }
        });
        if self.job.is_some() {
            ui.add(egui::ProgressBar::new(self.progress as f32).text(&self.stage));
        }
        let Some(r) = &self.report else {
            ui.weak("Each value of the parameter runs the scenario over its replicates and is stored as a simulation.");
            return;
        };
        ui.label(format!(
            "{} values × {} replicates{}; stored as simulations {}–{}",
            r.points.len(),
            r.seeds,
            if r.complete { "" } else { " (cancelled)" },
            r.points.first().map_or(0, |p| p.sim_id),
            r.points.last().map_or(0, |p| p.sim_id),
        ))
        .on_hover_text(format!("ran in {:.1} s", r.seconds));
        chart::row(ui, cx, exports, &self.figures, 220.0, |f| &f.y_label);
    }
}
