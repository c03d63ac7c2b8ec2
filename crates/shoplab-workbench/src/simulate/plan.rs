//! The Simulate view's A/B test planner: two of the scenario's policies, a significance and
//! a power; by simulation on the scenario's shop, the power and the minimum detectable
//! effect of each test length, next to the textbook formula.

use shoplab_engine::{AbPlan, AbQuery, PlanOptions, scenario_policies};

use crate::chart::{self, Exports};
use crate::figure::{Figure, Kind, Series};
use crate::view::Cx;
use crate::worker::Request;

/// The planner's state.
pub struct PlanPanel {
    pub a: String,
    pub b: String,
    pub alpha: f64,
    pub power: f64,
    pub replicates: u64,
    pub plan: Option<AbPlan>,
    pub figures: Vec<(String, Figure)>,
    /// The scenario's policy names, and the text they were read from (read again only when
    /// the text changes, not every frame).
    names: (String, Vec<String>),
}

impl Default for PlanPanel {
    fn default() -> Self {
        PlanPanel {
            a: String::new(),
            b: String::new(),
            alpha: 0.05,
            power: 0.8,
            replicates: 200,
            plan: None,
            figures: Vec::new(),
            names: (String::new(), Vec::new()),
        }
    }
}

fn line(name: &str, points: Vec<[f64; 2]>, color: usize) -> Series {
    Series {
        name: name.into(),
        kind: Kind::Line,
        points,
        intervals: Vec::new(),
        color,
    }
}

/// Power against the test's length (with its interval and the target), and the minimum
/// detectable effect by simulation and by formula against the effect itself.
pub fn figures(p: &AbPlan) -> Vec<(String, Figure)> {
    let days = |f: &dyn Fn(&shoplab_engine::PowerPoint) -> f64| -> Vec<[f64; 2]> {
        p.curve.iter().map(|c| [f64::from(c.days), f(c)]).collect()
    };
    let last = p.curve.len() as f64;
    let mut power = line("simulated power (95% interval)", days(&|c| c.power), 0);
    power.intervals = p.curve.iter().map(|c| c.power_interval).collect();
    let target = line(
        &format!("target {}", p.options.power),
        vec![[1.0, p.options.power], [last, p.options.power]],
        7,
    );
    let effect = 100.0 * p.effect.abs();
    vec![
        (
            "ab-power".into(),
            Figure {
                title: format!("power of a test of {:?} against {:?}", p.b, p.a),
                x_label: "days the test runs".into(),
                y_label: "power".into(),
                x_ticks: Vec::new(),
                series: vec![power, target],
            },
        ),
        (
            "ab-mde".into(),
            Figure {
                title: "minimum detectable effect on conversion (points)".into(),
                x_label: "days the test runs".into(),
                y_label: "MDE, conversion points".into(),
                x_ticks: Vec::new(),
                series: vec![
                    line("simulated", days(&|c| 100.0 * c.mde_simulated), 0),
                    line("formula", days(&|c| 100.0 * c.mde_formula), 1),
                    line(
                        &format!("the effect, {effect:.3} points"),
                        vec![[1.0, effect], [last, effect]],
                        2,
                    ),
                ],
            },
        ),
    ]
}

impl PlanPanel {
    pub fn take(&mut self, plan: AbPlan) {
        self.figures = figures(&plan);
        self.plan = Some(plan);
    }

    pub(crate) fn ui(
        &mut self,
        ui: &mut egui::Ui,
        cx: &mut Cx<'_>,
        exports: &Exports,
        scenario: &str,
    ) {
        if self.names.0 != scenario {
            self.names = (
                scenario.to_string(),
                scenario_policies(scenario).unwrap_or_default(),
            );
        }
        let names = self.names.1.clone();
        if names.len() < 2 {
            ui.weak("The scenario needs two policies to test one against the other.");
            return;
        }
        for (v, i) in [(&mut self.a, 0), (&mut self.b, 1)] {
            if !names.contains(v) {
                *v = names[i].clone();
            }
        }
        ui.horizontal(|ui| {
            for (label, v) in [("A (control)", &mut self.a), ("B (treatment)", &mut self.b)] {
                egui::ComboBox::from_label(label)
                    .selected_text(v.clone())
                    .show_ui(ui, |ui| {
                        for n in &names {
                            ui.selectable_value(v, n.clone(), n);
                        }
                    });
            }
            ui.add(egui::DragValue::new(&mut self.alpha).range(0.001..=0.2).speed(0.001).prefix("α "));
            ui.add(egui::DragValue::new(&mut self.power).range(0.55..=0.99).speed(0.01).prefix("power "));
            ui.add(egui::DragValue::new(&mut self.replicates).range(10..=2000).prefix("tests "));
            if ui
                .button("Plan the test")
                .on_hover_text("each arm gets half the day's sessions; the scenario's horizon is the longest test")
                .clicked()
            {
                cx.send(Request::PlanAb {
                    scenario: scenario.to_string(),
                    query: Box::new(AbQuery {
                        a: self.a.clone(),
                        b: self.b.clone(),
                        options: PlanOptions {
                            alpha: self.alpha,
                            power: self.power,
                        },
                        replicates: self.replicates,
                        ..Default::default()
                    }),
                });
            }
        });
        let Some(p) = &self.plan else {
            ui.weak("How many days an A/B test of B against A needs, simulated on this shop and by the textbook formula.");
            return;
        };
        let horizon = p.curve.len();
        let days = |d: Option<u32>| d.map_or(format!("more than {horizon}"), |d| d.to_string());
        ui.label(format!(
            "conversion A {:.3}%, B {:.3}%: effect {:+.3} points ({:+.1}%). Days needed: simulated power ≥ {}: {}; simulated MDE ≤ effect: {}; formula: {}.",
            100.0 * p.conversion_a.mean,
            100.0 * p.conversion_b.mean,
            100.0 * p.effect,
            100.0 * p.relative_effect,
            p.options.power,
            days(p.days_by_power),
            days(p.days_by_mde),
            p.days_formula.map_or("- (no effect)".into(), |d| format!("{d:.1} ({:.0} sessions per arm)", p.sessions_formula.unwrap_or_default())),
        ));
        chart::row(ui, cx, exports, &self.figures, 200.0, |f| &f.title);
    }
}
