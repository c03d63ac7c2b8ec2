// The product page's price panel: list and policy price, P(purchase) at both, the calibrated
// elasticity, and a slider over the price curve with its chart and readout.
import { h, money, pct, fixed } from "./dom.js";
import { lineChart, decimalsFor } from "./charts.js";

const ACCENT = "#3b5bdb", WARM = "#e8590c";

function fig(label, value, sub = null) {
  return h("div", { class: "fig" }, h("div", { class: "fig-label" }, label), h("div", { class: "fig-value" }, value),
    sub ? h("div", { class: "fig-sub" }, sub) : null);
}

/** panel: PricePanel; policies: ShopInfo.pricingPolicies; onPolicy(id) re-asks for the panel. */
export function pricePanel(panel, { policies, policy, onPolicy }) {
  const chosen = policies.find((p) => p.id === panel.policy) || { label: panel.policy, help: "" };
  const select = h("select", { class: "select", "aria-label": "Pricing policy", "data-testid": "policy-select",
    onchange: (e) => onPolicy(e.target.value) },
    policies.map((p) => h("option", { value: p.id, title: p.help, selected: p.id === policy }, p.label)));
  const left = h("div", { class: "price-left" });
  const right = h("div", { class: "price-right" });
  const el = h("section", { class: "card price", "data-testid": "price-panel" },
    h("header", { class: "price-head" },
      h("div", {}, h("h3", {}, "Price lab"), h("p", { class: "fine" }, chosen.help)),
      h("label", { class: "run-pick" }, h("span", {}, "Policy"), select)),
    h("div", { class: "price-body" }, left, right));
  left.append(
    h("div", { class: "figs" },
      fig("List price", money(panel.listPrice), panel.cost != null ? `cost ${money(panel.cost)}` : null),
      fig(`${chosen.label} today`, money(panel.policyPrice),
        panel.listPrice ? `${panel.policyPrice >= panel.listPrice ? "+" : ""}${(100 * (panel.policyPrice / panel.listPrice - 1)).toFixed(1)} % vs list` : null),
      fig("P(purchase) at list", pct(panel.pBuyList, 2)),
      fig("P(purchase) at policy", pct(panel.pBuyPolicy, 2)),
      fig("Conversion run", panel.conversionRun != null ? `run ${panel.conversionRun}` : "none"),
      fig("Elasticity", panel.elasticity ? fixed(panel.elasticity.value, 2) : "–",
        panel.elasticity ? `[${fixed(panel.elasticity.low, 2)}, ${fixed(panel.elasticity.high, 2)}] · calibration ${panel.elasticity.calibrationId}` : "no calibration")));
  if (panel.notes && panel.notes.length) left.append(h("ul", { class: "notes" }, panel.notes.map((n) => h("li", {}, n))));

  const curve = panel.curve || [];
  if (curve.length) {
    const near = (price) => curve.reduce((b, p, i) => (Math.abs(p.price - price) < Math.abs(curve[b].price - price) ? i : b), 0);
    const charts = h("div", { class: "price-charts" });
    const readout = h("div", { class: "readout", "data-testid": "price-readout", "aria-live": "polite" });
    const slider = h("input", {
      type: "range", min: 0, max: curve.length - 1, step: 1, value: near(panel.policyPrice),
      class: "slider", "data-testid": "price-slider", "aria-label": "Price",
      oninput: () => show(Number(slider.value)),
    });
    const xr = [curve[0].price, curve[curve.length - 1].price];
    const show = (i) => {
      const p = curve[i];
      slider.setAttribute("aria-valuetext", money(p.price));
      const fmtX = (v) => money(v).replace(/\.00$/, "");
      charts.replaceChildren(
        h("div", {},
          h("div", { class: "chart-title" }, h("i", { class: "key", style: { background: ACCENT } }), "expected conversion, P(buy)"),
          lineChart({ series: [{ color: ACCENT, points: curve.map((q) => ({ x: q.price, y: q.pBuy, lo: q.pBuyLow, hi: q.pBuyHigh })) }],
            x: xr, marker: p.price, fmtX, fmtY: (v, st) => pct(v, decimalsFor(st, 100)), width: 300, height: 140, testid: "price-chart-pbuy" })),
        h("div", {},
          h("div", { class: "chart-title" }, h("i", { class: "key", style: { background: WARM } }), "revenue per visit"),
          lineChart({ series: [{ color: WARM, points: curve.map((q) => ({ x: q.price, y: q.revenue, lo: q.revenueLow, hi: q.revenueHigh })) }],
            x: xr, marker: p.price, fmtX, fmtY: fmtX, width: 300, height: 140, testid: "price-chart-revenue" })));
      readout.replaceChildren(
        h("span", { class: "readout-price" }, money(p.price)),
        h("span", {}, "P(buy) ", h("b", {}, pct(p.pBuy, 2))),
        h("span", {}, "revenue / visit ", h("b", {}, money(p.revenue))),
        h("span", {}, "margin / visit ", h("b", {}, p.margin != null ? money(p.margin) : "–")));
    };
    right.append(
      charts,
      h("div", { class: "slider-row" },
        h("span", { class: "fine" }, money(xr[0])), slider, h("span", { class: "fine" }, money(xr[1]))),
      readout);
    show(Number(slider.value));
  } else {
    right.append(h("p", { class: "empty" }, "No price curve for this product."));
  }
  return el;
}
