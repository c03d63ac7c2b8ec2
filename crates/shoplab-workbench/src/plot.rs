//! Plot helpers: per-pixel decimation of long series, and series colors.

use egui::Color32;

/// Decimates a series sorted by x for a plot `columns` pixels wide: per column, the first,
/// lowest, highest and last points (in x order), so that the drawn line covers every pixel
/// the full series would — min/max decimation. Series up to four points a column are
/// returned whole.
pub fn decimate(points: &[[f64; 2]], columns: usize) -> Vec<[f64; 2]> {
    let columns = columns.max(1);
    if points.len() <= 4 * columns {
        return points.to_vec();
    }
    let (x0, x1) = (points[0][0], points[points.len() - 1][0]);
    let width = (x1 - x0).max(f64::MIN_POSITIVE);
    let column = |x: f64| (((x - x0) / width * columns as f64) as usize).min(columns - 1);
    let mut out = Vec::with_capacity(4 * columns);
    let mut start = 0;
    while start < points.len() {
        let c = column(points[start][0]);
        let mut end = start + 1;
        while end < points.len() && column(points[end][0]) == c {
            end += 1;
        }
        let bucket = &points[start..end];
        let lowest = (0..bucket.len())
            .min_by(|&a, &b| bucket[a][1].total_cmp(&bucket[b][1]))
            .unwrap_or(0);
        let highest = (0..bucket.len())
            .max_by(|&a, &b| bucket[a][1].total_cmp(&bucket[b][1]))
            .unwrap_or(0);
        let mut keep = [0, lowest, highest, bucket.len() - 1];
        keep.sort_unstable();
        let mut last = usize::MAX;
        for k in keep {
            if k != last {
                out.push(bucket[k]);
                last = k;
            }
        }
        start = end;
    }
    out
}

/// Saves the part `rect` (in points) of the window to a PNG file at `path`, from the next
/// frame's screenshot; `done` gets what happened, in words.
pub fn save_png(
    ctx: &egui::Context,
    rect: egui::Rect,
    path: std::path::PathBuf,
    done: std::sync::mpsc::SyncSender<String>,
) {
    let ppp = ctx.pixels_per_point();
    let repaint = ctx.clone();
    ctx.send_viewport_cmd(egui::ViewportCommand::Screenshot(
        egui::ScreenshotCallback::new(move |image| {
            let size = egui::vec2(image.width() as f32, image.height() as f32) / ppp;
            let rect = rect.intersect(egui::Rect::from_min_size(egui::Pos2::ZERO, size));
            let part = image.region(&rect, Some(ppp));
            let bytes: Vec<u8> = part.pixels.iter().flat_map(|c| c.to_array()).collect();
            let result = image::save_buffer(
                &path,
                &bytes,
                part.width() as u32,
                part.height() as u32,
                image::ExtendedColorType::Rgba8,
            );
            let _ = done.try_send(match result {
                Ok(()) => format!("wrote {}", path.display()),
                Err(e) => format!("{}: {e}", path.display()),
            });
            repaint.request_repaint();
        }),
    ));
}

/// A "Save as PNG…" button for a group of plots: remembers where the group was drawn and
/// writes that part of the window.
pub struct PngExport {
    pub rect: Option<egui::Rect>,
    done: (
        std::sync::mpsc::SyncSender<String>,
        std::sync::mpsc::Receiver<String>,
    ),
}

impl Default for PngExport {
    fn default() -> Self {
        PngExport {
            rect: None,
            done: std::sync::mpsc::sync_channel(4),
        }
    }
}

impl PngExport {
    /// What saving the plots takes, once they have been drawn.
    pub(crate) fn then(&self) -> Option<crate::dialog::Then> {
        Some(crate::dialog::Then::Png {
            rect: self.rect?,
            done: self.done.0.clone(),
        })
    }

    /// What the last save did, once it is done.
    pub fn poll(&self) -> Option<String> {
        self.done.1.try_recv().ok()
    }
}

/// A long series drawn decimated to the visible x-range and the plot's width; the
/// decimated points are kept until the view or the width changes.
pub struct Series {
    pub points: Vec<[f64; 2]>,
    /// x and y ranges of the whole series.
    extent: [[f64; 2]; 2],
    cache: Option<Decimated>,
}

/// Points decimated for an x-range and a width in pixels.
struct Decimated {
    range: (f64, f64),
    width: usize,
    points: Vec<[f64; 2]>,
}

impl Series {
    /// A deterministic random walk of `n` points (the plotting benchmark's series).
    pub fn walk(n: usize) -> Self {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut y = 0.0;
        let points = (0..n)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                y += (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                [i as f64, y]
            })
            .collect();
        Series::new(points)
    }

    /// A series sorted by x.
    pub fn new(points: Vec<[f64; 2]>) -> Self {
        let mut extent = [[f64::INFINITY, f64::NEG_INFINITY]; 2];
        for q in &points {
            for d in 0..2 {
                extent[d] = [extent[d][0].min(q[d]), extent[d][1].max(q[d])];
            }
        }
        Series {
            points,
            extent,
            cache: None,
        }
    }

    pub fn show(&mut self, ui: &mut egui::Ui) {
        ui.label(format!(
            "{} points, drawn per pixel column",
            self.points.len()
        ));
        let width = ui.available_width() as usize;
        let Series {
            points,
            extent,
            cache,
        } = self;
        // The whole series' extent, so that auto-bounds show all of it from the first frame
        // (bounds taken from the drawn points alone would grow a margin per frame).
        let mut plot = egui_plot::Plot::new("bench_series");
        if !points.is_empty() {
            plot = plot
                .include_x(extent[0][0])
                .include_x(extent[0][1])
                .include_y(extent[1][0])
                .include_y(extent[1][1]);
        }
        plot.show(ui, |p| {
            let b = p.plot_bounds();
            let range = (b.min()[0], b.max()[0]);
            let fresh = cache
                .as_ref()
                .is_some_and(|c| c.range == range && c.width == width);
            if !fresh {
                let lo = points.partition_point(|q| q[0] < range.0).saturating_sub(1);
                let hi = (points.partition_point(|q| q[0] <= range.1) + 1).min(points.len());
                let visible = if lo < hi {
                    &points[lo..hi]
                } else {
                    &points[..]
                };
                *cache = Some(Decimated {
                    range,
                    width,
                    points: decimate(visible, width),
                });
            }
            let shown = cache.as_ref().map(|c| c.points.clone()).unwrap_or_default();
            p.line(egui_plot::Line::new(
                "series",
                egui_plot::PlotPoints::new(shown),
            ));
        });
    }
}

/// A distinct color per series index: the palette exported pictures use
/// ([`crate::figure::color`]), so a plot and its SVG or PNG agree.
pub fn color(i: usize) -> Color32 {
    let [r, g, b] = crate::figure::color(i);
    Color32::from_rgb(r, g, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimation_keeps_every_columns_extremes() {
        // A million points of a noisy sine, 1,000 columns.
        let points: Vec<[f64; 2]> = (0..1_000_000)
            .map(|i| {
                let x = i as f64 / 1_000.0;
                [x, x.sin() + if i % 7_919 == 0 { 5.0 } else { 0.0 }]
            })
            .collect();
        let d = decimate(&points, 1_000);
        assert!(d.len() <= 4_000, "{}", d.len());
        // Every spike survives, and the ends.
        let spikes = points.iter().filter(|p| p[1] > 4.0).count();
        assert_eq!(d.iter().filter(|p| p[1] > 4.0).count(), spikes);
        assert_eq!((d[0], d[d.len() - 1]), (points[0], points[999_999]));
        // Still sorted by x.
        assert!(d.windows(2).all(|w| w[0][0] <= w[1][0]));
        // Short series are untouched.
        assert_eq!(decimate(&points[..100], 1_000), points[..100].to_vec());
    }
}
