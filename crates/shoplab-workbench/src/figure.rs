//! Plot export: a plot described as plain data (a [`Figure`]), written as SVG and PNG with
//! its title, axis labels and legend (drawn with plotters, text in the PNG from a built-in
//! font), and its data as long-format CSV.

use std::fmt::Write as _;
use std::ops::Range;
use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontStyle, register_font};

/// A plot as plain data: drawn by egui_plot on screen, written as SVG, PNG and CSV.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figure {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// Names for whole-number x positions (bar charts, parallel-coordinate axes): x = index.
    pub x_ticks: Vec<String>,
    pub series: Vec<Series>,
}

/// One series of a [`Figure`].
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub kind: Kind,
    pub points: Vec<[f64; 2]>,
    /// An interval (low, high) per point, drawn as a vertical error bar; empty for none.
    pub intervals: Vec<[f64; 2]>,
    /// Index into the palette (`color(i)`).
    pub color: usize,
}

/// How a series is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Points joined in order; a non-finite point breaks the line.
    Line,
    /// A filled circle per point.
    Points,
    /// A bar per point, from 0 to y, 0.6 wide and centred on x.
    Bars,
}

/// Tableau 10, the categorical palette.
const PALETTE: [[u8; 3]; 10] = [
    [78, 121, 167],
    [242, 142, 43],
    [225, 87, 89],
    [118, 183, 178],
    [89, 161, 79],
    [237, 201, 72],
    [176, 122, 161],
    [255, 157, 167],
    [156, 117, 95],
    [186, 176, 172],
];

/// Colour `i` of a 10-colour categorical palette (Tableau 10), cycling.
pub fn color(i: usize) -> [u8; 3] {
    PALETTE[i % PALETTE.len()]
}

/// Size of the pictures [`save`] writes, in pixels.
pub const SAVE_SIZE: (u32, u32) = (1200, 700);

/// Bars are this wide, in x units, centred on their x.
const BAR_WIDTH: f64 = 0.6;

/// At most this many named x ticks are labelled; more are thinned to every n-th.
const MAX_X_TICKS: usize = 30;

impl Figure {
    /// The name of whole-number position `x` in `x_ticks`, if it has one.
    fn tick_name(&self, x: f64) -> Option<&str> {
        if x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x < self.x_ticks.len() as f64 {
            Some(&self.x_ticks[x as usize])
        } else {
            None
        }
    }
}

impl Series {
    /// The points (with their interval, if any) whose coordinates are both finite.
    fn finite(&self) -> impl Iterator<Item = ([f64; 2], Option<[f64; 2]>)> + '_ {
        self.points
            .iter()
            .enumerate()
            .filter(|(_, p)| p[0].is_finite() && p[1].is_finite())
            .map(|(i, &p)| {
                let interval = self
                    .intervals
                    .get(i)
                    .copied()
                    .filter(|q| q[0].is_finite() && q[1].is_finite());
                (p, interval)
            })
    }
}

/// The figure's data in long format: header `series,x,x_name,y,low,high`, one row per point.
/// `x_name` is the x tick's name when x is a whole-number index into `x_ticks`; `low` and
/// `high` are empty when the point has no interval. Non-finite numbers are written as
/// `NaN`, `inf` and `-inf`. Fields are quoted as RFC 4180 has it; lines end in `\n`.
pub fn to_csv(f: &Figure) -> String {
    let mut out = String::from("series,x,x_name,y,low,high\n");
    for s in &f.series {
        for (i, p) in s.points.iter().enumerate() {
            let (low, high) = match s.intervals.get(i) {
                Some(q) => (q[0].to_string(), q[1].to_string()),
                None => (String::new(), String::new()),
            };
            let _ = writeln!(
                out,
                "{},{},{},{},{low},{high}",
                csv_field(&s.name),
                p[0],
                csv_field(f.tick_name(p[0]).unwrap_or("")),
                p[1],
            );
        }
    }
    out
}

/// A CSV field, quoted (with inner quotes doubled) when it holds a comma, quote or newline.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The figure as an SVG document `width`×`height` pixels.
pub fn to_svg(f: &Figure, width: u32, height: u32) -> Result<String, String> {
    check_size(width, height)?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        draw(&root, f)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

/// Writes the figure as a PNG image `width`×`height` pixels to `path` (whatever its
/// extension).
pub fn to_png(f: &Figure, width: u32, height: u32, path: &Path) -> Result<(), String> {
    check_size(width, height)?;
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        draw(&root, f)?;
        root.present().map_err(|e| e.to_string())?;
    }
    image::save_buffer_with_format(
        path,
        &rgb,
        width,
        height,
        image::ExtendedColorType::Rgb8,
        image::ImageFormat::Png,
    )
    .map_err(|e| format!("{}: {e}", path.display()))
}

/// Writes the figure to `path` by its extension: `.svg`, `.png` (both [`SAVE_SIZE`]) or
/// `.csv` (the data); says what it did. Errors name the path.
pub fn save(f: &Figure, path: &Path) -> Result<String, String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let (w, h) = SAVE_SIZE;
    let write = |contents: String| {
        std::fs::write(path, contents).map_err(|e| format!("{}: {e}", path.display()))
    };
    match ext.as_deref() {
        Some("svg") => to_svg(f, w, h)
            .map_err(|e| format!("{}: {e}", path.display()))
            .and_then(write)?,
        Some("png") => to_png(f, w, h, path).map_err(|e| {
            let named = path.display().to_string();
            if e.starts_with(&named) {
                e
            } else {
                format!("{named}: {e}")
            }
        })?,
        Some("csv") => write(to_csv(f))?,
        _ => {
            return Err(format!(
                "{}: cannot save a plot as this; use .svg, .png or .csv",
                path.display()
            ));
        }
    }
    Ok(format!("wrote {}", path.display()))
}

fn check_size(width: u32, height: u32) -> Result<(), String> {
    if width == 0 || height == 0 {
        return Err(format!("cannot draw a plot {width}×{height} pixels"));
    }
    Ok(())
}

/// Registers the built-in fonts with plotters, once: text is laid out (SVG, PNG) and drawn
/// (PNG) with them, never with a system font.
fn register_fonts() {
    static FONTS: Once = Once::new();
    FONTS.call_once(|| {
        for (family, bytes) in [
            ("sans-serif", epaint_default_fonts::UBUNTU_LIGHT),
            ("serif", epaint_default_fonts::UBUNTU_LIGHT),
            ("monospace", epaint_default_fonts::HACK_REGULAR),
        ] {
            // The fonts are built in and known to parse; a failure would show as missing
            // text, reported by plotters as an unavailable font.
            let _ = register_font(family, FontStyle::Normal, bytes);
        }
    });
}

/// The x axis: plain numbers, or with `ticks` names, marks on whole-number positions only.
struct XAxis {
    inner: RangedCoordf64,
    ticks: usize,
}

impl Ranged for XAxis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if self.ticks == 0 {
            return self.inner.key_points(hint);
        }
        if hint.weight().allow_light_points() {
            return Vec::new();
        }
        let range = self.inner.range();
        let first = range.start.ceil().max(0.0) as usize;
        let last = range.end.floor().min(self.ticks as f64 - 1.0);
        if last < first as f64 {
            return Vec::new();
        }
        let last = last as usize;
        let count = last - first + 1;
        let step = count.div_ceil(hint.max_num_points().max(1)).max(1);
        (first..=last).step_by(step).map(|i| i as f64).collect()
    }

    fn range(&self) -> Range<f64> {
        self.inner.range()
    }
}

impl ValueFormatter<f64> for XAxis {
    fn format(value: &f64) -> String {
        RangedCoordf64::format(value)
    }
}

/// `[lo, hi]` of `values`, widened when it is a point and padded by 5% each side; `None`
/// when there are no values.
fn padded_range(values: impl Iterator<Item = f64>) -> Option<Range<f64>> {
    let (mut lo, mut hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo > hi {
        return None;
    }
    if hi - lo <= f64::EPSILON * lo.abs().max(hi.abs()) {
        let half = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        (lo, hi) = (lo - half, hi + half);
    }
    let pad = (hi - lo) * 0.05;
    if pad.is_finite() {
        (lo, hi) = (lo - pad, hi + pad);
    }
    Some(lo..hi)
}

/// Draws the intervals of `points` as vertical segments with small caps.
fn draw_intervals<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<XAxis, RangedCoordf64>>,
    points: &[([f64; 2], Option<[f64; 2]>)],
    style: ShapeStyle,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let intervals: Vec<(f64, [f64; 2])> = points
        .iter()
        .filter_map(|&(p, interval)| interval.map(|q| (p[0], q)))
        .collect();
    chart.draw_series(
        intervals
            .iter()
            .map(|&(x, [low, high])| PathElement::new(vec![(x, low), (x, high)], style)),
    )?;
    chart.draw_series(intervals.iter().flat_map(|&(x, [low, high])| {
        [low, high]
            .map(|y| EmptyElement::at((x, y)) + PathElement::new(vec![(-4, 0), (4, 0)], style))
    }))?;
    Ok(())
}

/// An axis label for `v` on an axis `span` long: plotters' number format, with the
/// rounding error of a mark at zero (which would read "-0.0") taken off.
fn number(v: f64, span: f64) -> String {
    let v = if v.abs() < span.abs() * 1e-9 { 0.0 } else { v };
    RangedCoordf64::format(&v)
}

fn rgb(i: usize) -> RGBColor {
    let [r, g, b] = color(i);
    RGBColor(r, g, b)
}

/// The axes' ranges from the finite data (bars from 0 and their width, intervals, named
/// tick positions), padded; and whether there is any data.
fn data_ranges(f: &Figure) -> (Range<f64>, Range<f64>, bool) {
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for s in &f.series {
        for (p, interval) in s.finite() {
            if s.kind == Kind::Bars {
                xs.extend([p[0] - BAR_WIDTH / 2.0, p[0] + BAR_WIDTH / 2.0]);
                ys.push(0.0);
            } else {
                xs.push(p[0]);
            }
            ys.push(p[1]);
            if let Some([low, high]) = interval {
                ys.extend([low, high]);
            }
        }
    }
    let has_data = !xs.is_empty();
    if has_data && !f.x_ticks.is_empty() {
        xs.extend([0.0, f.x_ticks.len() as f64 - 1.0]);
    }
    (
        padded_range(xs.into_iter()).unwrap_or(0.0..1.0),
        padded_range(ys.into_iter()).unwrap_or(0.0..1.0),
        has_data,
    )
}

/// A line's points as runs of finite points: a non-finite point breaks the line rather
/// than join across the gap.
fn line_runs(points: &[[f64; 2]]) -> Vec<Vec<(f64, f64)>> {
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut run = Vec::new();
    for p in points {
        if p[0].is_finite() && p[1].is_finite() {
            run.push((p[0], p[1]));
        } else if !run.is_empty() {
            runs.push(std::mem::take(&mut run));
        }
    }
    runs.push(run);
    runs
}

/// Draws the figure on `root`: title, axes with their labels (and tick names), the series,
/// their intervals and a legend of the named ones; "no data" when nothing can be drawn.
fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, f: &Figure) -> Result<(), String> {
    register_fonts();
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    root.fill(&WHITE).map_err(err)?;

    let (x_range, y_range, has_data) = data_ranges(f);
    let ticks = if has_data { f.x_ticks.len() } else { 0 };

    let mut builder = ChartBuilder::on(root);
    builder
        .margin(20)
        .x_label_area_size(if f.x_label.is_empty() { 30 } else { 55 })
        .y_label_area_size(if f.y_label.is_empty() { 60 } else { 85 });
    if !f.title.is_empty() {
        builder.caption(&f.title, ("sans-serif", 24));
    }
    let x_axis = XAxis {
        inner: x_range.clone().into(),
        ticks,
    };
    let mut chart = builder
        .build_cartesian_2d(x_axis, y_range.clone())
        .map_err(err)?;

    let x_span = x_range.end - x_range.start;
    let y_span = y_range.end - y_range.start;
    let x_format = |x: &f64| match f.tick_name(*x) {
        Some(name) if ticks > 0 => name.to_string(),
        _ => number(*x, x_span),
    };
    let y_format = |y: &f64| number(*y, y_span);
    let mut mesh = chart.configure_mesh();
    mesh.x_label_formatter(&x_format)
        .y_label_formatter(&y_format)
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 16))
        .bold_line_style(RGBColor(215, 215, 215))
        .light_line_style(RGBColor(240, 240, 240))
        .max_light_lines(2)
        .axis_style(RGBColor(90, 90, 90));
    if ticks > 0 {
        mesh.x_labels(ticks.min(MAX_X_TICKS));
    }
    if !f.x_label.is_empty() {
        mesh.x_desc(&f.x_label);
    }
    if !f.y_label.is_empty() {
        mesh.y_desc(&f.y_label);
    }
    mesh.draw().map_err(err)?;

    if !has_data {
        let centre = (
            (x_range.start + x_range.end) / 2.0,
            (y_range.start + y_range.end) / 2.0,
        );
        let style = ("sans-serif", 22)
            .into_font()
            .color(&RGBColor(110, 110, 110))
            .pos(Pos::new(HPos::Center, VPos::Center));
        chart
            .plotting_area()
            .draw(&Text::new("no data", centre, style))
            .map_err(err)?;
        return Ok(());
    }

    let mut named = false;
    for s in &f.series {
        let colour = rgb(s.color);
        let points: Vec<([f64; 2], Option<[f64; 2]>)> = s.finite().collect();
        // Intervals go under lines and markers, over bars (where, in a dark grey, they show).
        if s.kind != Kind::Bars {
            draw_intervals(&mut chart, &points, colour.stroke_width(1)).map_err(err)?;
        }
        let anno = match s.kind {
            Kind::Line => {
                let runs = line_runs(&s.points);
                let style = colour.stroke_width(2);
                chart.draw_series(
                    runs.into_iter()
                        .filter(|r| !r.is_empty())
                        .map(move |r| PathElement::new(r, style)),
                )
            }
            Kind::Points => chart.draw_series(
                points
                    .iter()
                    .map(|(p, _)| Circle::new((p[0], p[1]), 4, colour.filled())),
            ),
            Kind::Bars => chart.draw_series(points.iter().map(|(p, _)| {
                Rectangle::new(
                    [
                        (p[0] - BAR_WIDTH / 2.0, 0.0),
                        (p[0] + BAR_WIDTH / 2.0, p[1]),
                    ],
                    colour.filled(),
                )
            })),
        }
        .map_err(err)?;
        if !s.name.is_empty() {
            named = true;
            let anno = anno.label(s.name.as_str());
            match s.kind {
                Kind::Line => anno.legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
                }),
                Kind::Points => {
                    anno.legend(move |(x, y)| Circle::new((x + 10, y), 4, colour.filled()))
                }
                Kind::Bars => anno.legend(move |(x, y)| {
                    Rectangle::new([(x + 2, y - 6), (x + 18, y + 6)], colour.filled())
                }),
            };
        }

        if s.kind == Kind::Bars {
            draw_intervals(&mut chart, &points, RGBColor(50, 50, 50).stroke_width(2))
                .map_err(err)?;
        }
    }

    if named {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .label_font(("sans-serif", 14))
            .background_style(WHITE.filled())
            .border_style(RGBColor(90, 90, 90))
            .draw()
            .map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(name: &str, kind: Kind, points: &[[f64; 2]], intervals: &[[f64; 2]]) -> Series {
        Series {
            name: name.to_string(),
            kind,
            points: points.to_vec(),
            intervals: intervals.to_vec(),
            color: 0,
        }
    }

    /// Test metric per model with intervals, a line over the same axes, and a named point.
    fn sample() -> Figure {
        let mut line = series(
            "loss, train",
            Kind::Line,
            &[[0.0, 0.9], [1.0, 0.7], [f64::NAN, 1.0], [2.0, 0.55]],
            &[],
        );
        line.color = 1;
        let mut points = series("say \"hi\"", Kind::Points, &[[1.5, 0.3]], &[]);
        points.color = 2;
        Figure {
            title: "Recall@10 by model".to_string(),
            x_label: "model".to_string(),
            y_label: "recall".to_string(),
            x_ticks: vec![
                "popularity".to_string(),
                "mf, bpr".to_string(),
                "sasrec".to_string(),
            ],
            series: vec![
                series(
                    "test",
                    Kind::Bars,
                    &[[0.0, 0.12], [1.0, 0.2], [2.0, 0.31]],
                    &[[0.1, 0.14], [0.18, 0.22]],
                ),
                line,
                points,
            ],
        }
    }

    #[test]
    fn csv_is_long_format_and_quoted() {
        let f = Figure {
            x_ticks: vec!["a".to_string(), "b,c".to_string()],
            series: vec![
                series(
                    "m \"1\"",
                    Kind::Bars,
                    &[[0.0, 0.5], [1.0, 2.0]],
                    &[[0.25, 0.75]],
                ),
                series("line\nb", Kind::Line, &[[0.5, -1.0], [3.0, 1e-3]], &[]),
            ],
            ..Figure::default()
        };
        assert_eq!(
            to_csv(&f),
            "series,x,x_name,y,low,high\n\
             \"m \"\"1\"\"\",0,a,0.5,0.25,0.75\n\
             \"m \"\"1\"\"\",1,\"b,c\",2,,\n\
             \"line\nb\",0.5,,-1,,\n\
             \"line\nb\",3,,0.001,,\n"
        );
        assert_eq!(to_csv(&Figure::default()), "series,x,x_name,y,low,high\n");
        let odd = Figure {
            series: vec![series(
                "s",
                Kind::Line,
                &[[f64::NAN, f64::INFINITY]],
                &[[-f64::INFINITY, 1.0]],
            )],
            ..Figure::default()
        };
        assert_eq!(
            to_csv(&odd),
            "series,x,x_name,y,low,high\ns,NaN,,inf,-inf,1\n"
        );
    }

    #[test]
    fn svg_has_title_labels_legend_and_ticks() {
        let svg = to_svg(&sample(), 800, 500).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..100.min(svg.len())]);
        assert!(svg.trim_end().ends_with("</svg>"));
        for text in [
            "Recall@10 by model",
            "model",
            "recall",
            "test",
            "loss, train",
            "say &quot;hi&quot;",
            "popularity",
            "mf, bpr",
            "sasrec",
        ] {
            // plotters writes each text on a line of its own inside `<text …>`.
            assert!(
                svg.contains(&format!("\n{text}\n</text>")),
                "{text:?} not in the SVG"
            );
        }
        assert!(!svg.contains("no data"));
    }

    #[test]
    fn empty_and_degenerate_figures_still_draw() {
        let empty = Figure {
            title: "Nothing yet".to_string(),
            ..Figure::default()
        };
        let svg = to_svg(&empty, 400, 300).unwrap();
        assert!(svg.contains("Nothing yet") && svg.contains("no data"));

        // Only non-finite points: nothing to draw either.
        let nan = Figure {
            series: vec![series(
                "x",
                Kind::Line,
                &[[f64::NAN, 1.0], [0.0, f64::INFINITY]],
                &[],
            )],
            ..Figure::default()
        };
        assert!(to_svg(&nan, 400, 300).unwrap().contains("no data"));

        // One point: the ranges are widened, not empty.
        let one = Figure {
            series: vec![series("", Kind::Points, &[[3.0, 3.0]], &[])],
            ..Figure::default()
        };
        let svg = to_svg(&one, 400, 300).unwrap();
        assert!(svg.contains("<circle"));
        assert!(!svg.contains("no data"));
        assert!(to_svg(&one, 0, 300).is_err());

        // Negative bars: the zero mark reads "0.0", not "-0.0".
        let lift = Figure {
            x_ticks: vec!["a".to_string(), "b".to_string()],
            series: vec![series("lift", Kind::Bars, &[[0.0, -0.2], [1.0, 0.1]], &[])],
            ..Figure::default()
        };
        let svg = to_svg(&lift, 600, 400).unwrap();
        assert!(svg.contains("\n0.0\n</text>") && !svg.contains("\n-0.0\n</text>"));
    }

    #[test]
    fn png_decodes_with_its_size_and_a_picture() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plot.png");
        to_png(&sample(), 640, 400, &path).unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        assert_eq!((img.width(), img.height()), (640, 400));
        let first = *img.get_pixel(0, 0);
        assert!(
            img.pixels().any(|p| *p != first),
            "the PNG is all one colour"
        );
        // Bars in the first palette colour, and dark text somewhere (title, labels).
        let [r, g, b] = color(0);
        assert!(img.pixels().any(|p| p.0 == [r, g, b]));
        assert!(img.pixels().any(|p| p.0.iter().all(|&c| c < 100)));
    }

    #[test]
    fn save_picks_by_extension() {
        let dir = tempfile::tempdir().unwrap();
        let f = sample();
        for ext in ["svg", "png", "csv", "SVG"] {
            let path = dir.path().join(format!("plot.{ext}"));
            let said = save(&f, &path).unwrap();
            assert_eq!(said, format!("wrote {}", path.display()));
            let bytes = std::fs::read(&path).unwrap();
            match ext {
                "svg" | "SVG" => assert!(bytes.starts_with(b"<svg")),
                "png" => {
                    assert!(bytes.starts_with(b"\x89PNG"));
                    let img = image::load_from_memory(&bytes).unwrap();
                    assert_eq!((img.width(), img.height()), SAVE_SIZE);
                }
                _ => assert_eq!(String::from_utf8(bytes).unwrap(), to_csv(&f)),
            }
        }
        let jpg = dir.path().join("plot.jpg");
        let e = save(&f, &jpg).unwrap_err();
        for ext in ["svg", "png", "csv"] {
            assert!(e.contains(ext), "{e}");
        }
        assert!(!jpg.exists());
        assert!(save(&f, &dir.path().join("plot")).is_err());
        let missing = dir.path().join("no/such/dir/plot.svg");
        assert!(save(&f, &missing).unwrap_err().contains("plot.svg"));
    }

    #[test]
    fn palette_cycles() {
        assert_eq!(color(0), [78, 121, 167]);
        assert_eq!(color(10), color(0));
        assert_eq!(color(13), color(3));
        let distinct: std::collections::BTreeSet<_> = (0..10).map(color).collect();
        assert_eq!(distinct.len(), 10);
    }

    #[test]
    fn x_axis_marks_whole_ticks_only() {
        let axis = XAxis {
            inner: (-0.3..9.3).into(),
            ticks: 10,
        };
        use plotters::coord::ranged1d::{BoldPoints, LightPoints};
        assert_eq!(
            axis.key_points(BoldPoints(10)),
            (0..10).map(f64::from).collect::<Vec<_>>()
        );
        assert_eq!(
            axis.key_points(BoldPoints(5)),
            vec![0.0, 2.0, 4.0, 6.0, 8.0]
        );
        assert!(axis.key_points(LightPoints::new(10, 100)).is_empty());
    }
}
