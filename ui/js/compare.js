// The Compare tab: two runs for the same shopper and moment, side by side, overlap marked.
import { h, pct } from "./dom.js";
import { tile, badgeLine } from "./widgets.js";

function runSelect(runs, value, side, onChange) {
  return h("label", { class: "field" }, h("span", {}, `Run ${side}`),
    h("select", { class: "select", "data-testid": `compare-select-${side.toLowerCase()}`,
      onchange: (e) => onChange(Number(e.target.value)) },
      runs.map((r) => h("option", { value: r.runId, selected: r.runId === value }, r.label))));
}

/** The tab's controls; the columns come with compareColumns once the answer is in. */
export function compareHead({ runs, runA, runB, onChange, historyLength }) {
  return h("div", { class: "compare-head card" },
    h("div", {},
      h("h2", {}, "Compare two runs"),
      h("p", { class: "fine" }, `The same moment for both: this session's history of ${historyLength} item(s), top 8.`)),
    h("div", { class: "compare-selects" },
      runSelect(runs, runA, "A", (v) => onChange(v, runB)),
      h("span", { class: "vs" }, "vs"),
      runSelect(runs, runB, "B", (v) => onChange(runA, v))));
}

export function compareColumns(cmp, { onOpen }) {
  const both = new Set(cmp.overlap);
  const column = (slate, side) =>
    h("section", { class: "card compare-col", "data-testid": `compare-${side}` },
      h("header", { class: "compare-col-head" },
        h("span", { class: `side side-${side}` }, side.toUpperCase()),
        h("h3", {}, slate.badge ? slate.badge.label : slate.title)),
      badgeLine(slate),
      h("p", { class: "basis" }, slate.basis),
      h("div", { class: "col-list" }, slate.items.map((it, i) =>
        tile(it, { row: true, rank: i + 1, onOpen, overlap: both.has(it.product.itemId),
          why: { reasonKind: slate.reasonKind, runLabel: slate.badge && slate.badge.label } }))));
  return h("div", { class: "compare" },
    h("div", { class: "overlap-bar card" },
      h("span", {}, "Overlap ", h("b", {}, `${cmp.overlap.length} item(s)`)),
      h("span", {}, "Jaccard ", h("b", { "data-testid": "jaccard" }, cmp.jaccard.toFixed(2))),
      h("span", { class: "meter", title: pct(cmp.jaccard, 0) }, h("i", { style: { width: `${Math.round(100 * cmp.jaccard)}%` } })),
      h("span", { class: "fine" }, "Items in both slates are marked “in both”.")),
    h("div", { class: "compare-cols" }, column(cmp.a, "a"), column(cmp.b, "b")));
}
