// One small SVG line chart: series of points with an optional band (lo..hi), a vertical marker.
import { s } from "./dom.js";

function niceStep(span, n) {
  const raw = span / Math.max(1, n);
  const p = 10 ** Math.floor(Math.log10(raw || 1));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7 ? 5 : 10) * p;
}

/** Decimals that show multiples of `step` exactly (in units of `unit`: 100 for percents). */
export function decimalsFor(step, unit = 1) {
  for (let d = 0; d < 6; d++) {
    const v = step * unit * 10 ** d;
    if (Math.abs(v - Math.round(v)) < 1e-6) return d;
  }
  return 6;
}

function ticks(lo, hi, n) {
  const step = niceStep(hi - lo, n);
  const out = [];
  for (let i = Math.ceil(lo / step - 1e-9); i * step <= hi + 1e-9 * step; i++) out.push(i === 0 ? 0 : i * step);
  return out;
}

/**
 * series: [{ label, color, points: [{x, y, lo?, hi?}] }]; x: [x0, x1] (default: the data's);
 * fmtX/fmtY: tick labels, called with the value and the ticks' step; marker: an x to mark (a dashed line and a dot on each series).
 */
export function lineChart({ series, x = null, fmtX = String, fmtY = String, marker = null, width = 520, height = 170, zeroY = true, testid = null }) {
  const pad = { l: 54, r: 14, t: 10, b: 24 };
  const all = series.flatMap((se) => se.points);
  const xs = all.map((p) => p.x);
  const ys = all.flatMap((p) => [p.y, p.lo, p.hi]).filter((v) => v != null && Number.isFinite(v));
  const [x0, x1] = x || [Math.min(...xs, 0), Math.max(...xs, 1)];
  let y0 = ys.length ? Math.min(...ys) : 0, y1 = ys.length ? Math.max(...ys) : 1;
  if (zeroY) y0 = Math.min(0, y0);
  if (y1 - y0 < 1e-12) y1 = y0 + 1;
  y1 += (y1 - y0) * 0.08;
  const yt = ticks(y0, y1, 4);
  y1 = Math.max(y1, yt[yt.length - 1]);
  const X = (v) => pad.l + ((v - x0) / (x1 - x0 || 1)) * (width - pad.l - pad.r);
  const Y = (v) => height - pad.b - ((v - y0) / (y1 - y0)) * (height - pad.t - pad.b);

  const grid = yt.map((v) => s("g", { class: "tick" },
    s("line", { x1: pad.l, x2: width - pad.r, y1: Y(v), y2: Y(v) }),
    s("text", { x: pad.l - 6, y: Y(v) + 3.5, "text-anchor": "end" }, fmtY(v, yt.length > 1 ? yt[1] - yt[0] : 1))));
  const xTicks = ticks(x0, x1, Math.max(3, Math.round(width / 90)));
  const xt = xTicks.map((v) =>
    s("text", { class: "tick", x: X(v), y: height - 6, "text-anchor": "middle" }, fmtX(v, xTicks.length > 1 ? xTicks[1] - xTicks[0] : 1)));

  const drawn = series.map((se) => {
    const pts = se.points.filter((p) => Number.isFinite(p.y));
    const band = pts.filter((p) => p.lo != null && p.hi != null);
    const g = s("g", { class: "series" });
    if (band.length > 1) {
      const d = band.map((p, i) => `${i ? "L" : "M"}${X(p.x).toFixed(1)},${Y(p.hi).toFixed(1)}`).join("") +
        band.slice().reverse().map((p) => `L${X(p.x).toFixed(1)},${Y(p.lo).toFixed(1)}`).join("") + "Z";
      g.append(s("path", { d, fill: se.color, opacity: 0.14, stroke: "none" }));
    }
    if (pts.length > 1) {
      g.append(s("polyline", {
        points: pts.map((p) => `${X(p.x).toFixed(1)},${Y(p.y).toFixed(1)}`).join(" "),
        fill: "none", stroke: se.color, "stroke-width": 2, "stroke-linejoin": "round",
      }));
    }
    const last = pts[pts.length - 1];
    if (last && marker == null) g.append(s("circle", { cx: X(last.x), cy: Y(last.y), r: 3, fill: se.color }));
    return g;
  });

  let mark = null;
  if (marker != null) {
    mark = s("g", { class: "marker" },
      s("line", { x1: X(marker), x2: X(marker), y1: pad.t, y2: height - pad.b }),
      series.map((se) => {
        const p = se.points.reduce((b, q) => (Math.abs(q.x - marker) < Math.abs(b.x - marker) ? q : b), se.points[0]);
        return p ? s("circle", { cx: X(p.x), cy: Y(p.y), r: 4, fill: "#fff", stroke: se.color, "stroke-width": 2 }) : null;
      }));
  }
  return s("svg", {
    class: "chart", viewBox: `0 0 ${width} ${height}`, "data-testid": testid,
    "data-points": all.length, role: "img",
  }, grid, xt, drawn, mark);
}
