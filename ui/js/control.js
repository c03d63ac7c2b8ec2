// The Control room: two pricing policies on the calibrated shop, day by day, live.
import { h, $, money, pct, count } from "./dom.js";
import { invoke, channel, showError } from "./api.js";
import { lineChart, decimalsFor } from "./charts.js";

const COLORS = { A: "#3b5bdb", B: "#e8590c" };

export function controlRoom(info) {
  const pols = info.scenarioPolicies;
  const pick = (side, dflt) => h("label", { class: "field" }, h("span", {}, `Policy ${side}`),
    h("select", { class: "select", id: `policy-${side}` },
      pols.map((p, i) => h("option", { value: p.id, title: p.help, selected: i === dflt }, p.label))));
  const numField = (id, label, value, min, max) => h("label", { class: "field field-num" }, h("span", {}, label),
    h("input", { id, type: "number", class: "input", value, min, max }));
  const start = h("button", { class: "btn btn-primary", "data-testid": "control-start", onclick: () => run() }, "Start");
  const stop = h("button", { class: "btn", "data-testid": "control-stop", disabled: true, onclick: () => halt() }, "Stop");
  const status = h("p", { class: "status", id: "control-status" }, "Pick two policies and start: each simulated day arrives live.");
  const charts = h("div", { class: "control-charts" });
  const totals = h("div", { class: "totals" });
  const root = h("div", { class: "control" },
    h("div", { class: "card control-form" },
      h("div", {}, h("h2", {}, "Control room"),
        h("p", { class: "fine" }, "What-if: policy A against policy B on the calibrated shop, means over seeds with 95% bands.")),
      h("div", { class: "control-fields" },
        pick("A", 0), pick("B", Math.min(1, pols.length - 1)),
        numField("control-days", "Days", 28, 1, 365), numField("control-seeds", "Seeds", 4, 1, 64),
        numField("control-speed", "Days / s", 14, 1, 1000), start, stop)),
    status, totals, charts);

  let points = [];
  let req = null;
  const label = (id) => (pols.find((p) => p.id === id) || { label: id }).label;
  // A day point names its policy (by id or by name): A or B by that, else by order of arrival.
  let sides = new Map();
  const sideOf = (p) => {
    if (!sides.has(p.policy)) {
      const taken = new Set(sides.values());
      const isA = p.policy === req.policyA || p.policy === label(req.policyA);
      const isB = p.policy === req.policyB || p.policy === label(req.policyB);
      sides.set(p.policy, isA && !taken.has("A") ? "A" : isB && !taken.has("B") ? "B" : taken.has("A") ? "B" : "A");
    }
    return sides.get(p.policy);
  };

  function draw() {
    const by = { A: [], B: [] };
    for (const p of points) by[sideOf(p)].push(p);
    const series = (key, lo, hi) => ["A", "B"].map((side) => ({
      color: COLORS[side], points: by[side].map((p) => ({ x: p.day, y: p[key], lo: p[lo], hi: p[hi] })),
    }));
    const first = points.length ? Math.min(...points.map((p) => p.day)) : 1; // days count from 0 or 1
    const x = [first, first + Math.max(1, req.days - 1)];
    const legend = h("div", { class: "legend" }, ["A", "B"].map((side) =>
      h("span", {}, h("i", { class: "key", style: { background: COLORS[side] } }), `${side} · ${label(side === "A" ? req.policyA : req.policyB)}`)));
    charts.replaceChildren(
      h("section", { class: "card" }, h("header", { class: "chart-head" }, h("h3", {}, "Conversion per day"), legend),
        lineChart({ series: series("conversion", "conversionLow", "conversionHigh"), x, fmtX: (v) => `day ${v}`, fmtY: (v, st) => pct(v, decimalsFor(st, 100)), width: 440, height: 210, zeroY: false, testid: "chart-conversion" })),
      h("section", { class: "card" }, h("header", { class: "chart-head" }, h("h3", {}, "Revenue per day"), legend.cloneNode(true)),
        lineChart({ series: series("revenue", "revenueLow", "revenueHigh"), x, fmtX: (v) => `day ${v}`, fmtY: (v) => money(v).replace(/\.\d\d$/, ""), width: 440, height: 210, zeroY: false, testid: "chart-revenue" })));
    const sum = (side) => {
      const ps = by[side];
      const sessions = ps.reduce((a, p) => a + p.sessions, 0);
      return {
        days: ps.length, sessions,
        conversion: sessions ? ps.reduce((a, p) => a + p.conversion * p.sessions, 0) / sessions : null,
        revenue: ps.reduce((a, p) => a + p.revenue, 0),
        margin: ps.reduce((a, p) => a + p.margin, 0),
      };
    };
    const t = { A: sum("A"), B: sum("B") };
    const delta = (k) => (t.A[k] ? `${t.B[k] >= t.A[k] ? "+" : ""}${(100 * (t.B[k] / t.A[k] - 1)).toFixed(1)} %` : "–");
    totals.replaceChildren(h("table", { class: "card totals-table", "data-testid": "control-totals" },
      h("thead", {}, h("tr", {}, h("th", {}, "Running totals"), h("th", {}, "days"), h("th", {}, "sessions"),
        h("th", {}, "conversion"), h("th", {}, "revenue"), h("th", {}, "margin"))),
      h("tbody", {},
        ["A", "B"].map((side) => h("tr", {},
          h("td", {}, h("i", { class: "key", style: { background: COLORS[side] } }), label(side === "A" ? req.policyA : req.policyB)),
          h("td", {}, String(t[side].days)), h("td", {}, count(t[side].sessions)), h("td", {}, pct(t[side].conversion, 2)),
          h("td", {}, money(t[side].revenue)), h("td", {}, money(t[side].margin)))),
        h("tr", { class: "delta" }, h("td", {}, "B vs A"), h("td", {}), h("td", {}, delta("sessions")),
          h("td", {}, delta("conversion")), h("td", {}, delta("revenue")), h("td", {}, delta("margin"))))));
  }

  function run() {
    const int = (id) => Number.parseInt($(`#${id}`, root).value, 10);
    req = {
      policyA: $("#policy-A", root).value,
      policyB: $("#policy-B", root).value,
      days: int("control-days") || 28,
      seeds: int("control-seeds") || 4,
      speed: Number($("#control-speed", root).value) || 14,
    };
    points = [];
    sides = new Map();
    draw();
    start.disabled = true;
    stop.disabled = false;
    status.textContent = `Running ${label(req.policyA)} against ${label(req.policyB)}…`;
    let queued = false;
    const onDay = channel((p) => {
      points.push(p);
      if (!queued) { queued = true; requestAnimationFrame(() => { queued = false; draw(); }); }
    });
    invoke("control_room_start", { req, onDay })
      .then((done) => {
        draw();
        status.textContent = `Simulation ${done.simId} stored, ${done.days} days${done.stopped ? " (stopped)" : ""}.`;
        status.dataset.testid = "control-done";
      })
      .catch((e) => {
        status.textContent = e.code === "busy" ? "The control room is already running a simulation." : e.message;
        showError(e);
      })
      .finally(() => { start.disabled = false; stop.disabled = true; });
  }

  function halt() {
    stop.disabled = true;
    status.textContent = "Stopping…";
    invoke("control_room_stop", {}).catch(showError);
  }

  return root;
}
