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

/// A distinct color per series index.
pub fn color(i: usize) -> Color32 {
    const COLORS: [Color32; 8] = [
        Color32::from_rgb(31, 119, 180),
        Color32::from_rgb(255, 127, 14),
        Color32::from_rgb(44, 160, 44),
        Color32::from_rgb(214, 39, 40),
        Color32::from_rgb(148, 103, 189),
        Color32::from_rgb(140, 86, 75),
        Color32::from_rgb(227, 119, 194),
        Color32::from_rgb(127, 127, 127),
    ];
    COLORS[i % COLORS.len()]
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
