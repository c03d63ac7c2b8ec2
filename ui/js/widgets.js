// Product tiles, the storefront's widgets (a row of tiles with the run's badge) and the
// why-this popover.
import { h, money, pct, fixed, score, categoryLabel } from "./dom.js";
import { placeholder } from "./art.js";

export const REASON_TEXT = {
  weight: "item-item similarity from your history",
  cosine: "nearest in the model's item space",
  text: "text similarity",
  count: "bought by the same shoppers",
  none: "popularity: no history item behind it",
};

/**
 * A product tile. `item` is a SlateItem ({product, score, because}) or a bare ProductCard.
 * opts: onOpen(itemId), why ({reasonKind, runLabel}: shows the "why?" link), isNew, overlap, rank, row.
 */
export function tile(item, opts = {}) {
  const card = item.product || item;
  const hasScore = item.product && item.score != null;
  const el = h("article", {
    class: ["tile", opts.row && "tile-row", opts.isNew && "is-new", opts.overlap && "is-overlap"].filter(Boolean).join(" "),
    "data-testid": "tile",
    "data-item-id": card.itemId,
    "data-overlap": opts.overlap ? "true" : null,
    tabindex: 0,
    title: card.title,
    onclick: () => opts.onOpen && opts.onOpen(card.itemId),
    onkeydown: (e) => { if (e.key === "Enter" && opts.onOpen) opts.onOpen(card.itemId); },
  },
    opts.rank != null ? h("span", { class: "tile-rank" }, String(opts.rank)) : null,
    opts.rose ? h("span", { class: "tile-rose", title: `up ${opts.rose} since the last re-score` }, `▲ ${opts.rose}`) : null,
    h("div", { class: "tile-art" }, placeholder(card.category, card.hue)),
    h("div", { class: "tile-body" },
      h("div", { class: "tile-title" }, card.title),
      h("div", { class: "tile-brand" }, card.brand || categoryLabel(card.category)),
      h("div", { class: "tile-meta" },
        h("span", { class: "tile-price" }, money(card.price)),
        hasScore
          ? h("span", { class: "tile-score", title: "score" }, score(item.score))
          : h("span", { class: "tile-score", title: "popularity percentile" }, `top ${Math.max(1, Math.round(100 - card.popularity))} %`)),
      opts.overlap ? h("span", { class: "chip chip-overlap" }, "in both") : null,
      opts.why
        ? h("button", {
            class: "why-link",
            type: "button",
            "data-testid": "why-link",
            onclick: (e) => { e.stopPropagation(); openWhy(e.currentTarget, item, opts.why); },
          }, "why?")
        : null));
  return el;
}

/** The run badge line of a slate: run label, NDCG@10 with its interval, reading, popularity, coverage. */
export function badgeLine(slate) {
  const b = slate.badge;
  const parts = [];
  if (b) {
    parts.push(h("span", { class: "run-badge", title: `${b.model} · split ${b.split}` }, b.label));
    if (b.ndcg != null) {
      const ci = b.ndcgLow != null && b.ndcgHigh != null ? ` [${fixed(b.ndcgLow)}, ${fixed(b.ndcgHigh)}]` : "";
      parts.push(h("span", { class: "stat", title: "test NDCG@10 with its 95% interval over users" }, `NDCG@10 ${fixed(b.ndcg)}${ci}`));
    }
    parts.push(h("span", { class: `reading reading-${b.reading}` }, b.readingText));
  } else {
    parts.push(h("span", { class: "run-badge run-badge-log" }, "from the event log"));
  }
  if (Number.isFinite(slate.popularity)) parts.push(h("span", { class: "stat", title: "mean popularity percentile of the slate's items" }, `popularity ${Math.round(slate.popularity)}th pct`));
  if (slate.coverage != null) parts.push(h("span", { class: "stat", title: "share of the catalog the run's top-k reaches over the shoppers" }, `coverage ${pct(slate.coverage, 0)}`));
  return h("div", { class: "badge-line" }, parts);
}

/**
 * A widget: title, basis, badge line and a row of tiles. Tiles whose item was not in `prev`
 * (the item ids of the widget's previous render, in order) flash; those that rose show by how
 * much. `tools` goes in the header (the run select).
 */
export function widget(slate, { onOpen, prev = null, tools = null } = {}) {
  const why = { reasonKind: slate.reasonKind, runLabel: slate.badge ? slate.badge.label : null };
  const tiles = slate.items.map((it, i) => {
    const was = prev ? prev.indexOf(it.product.itemId) : -1;
    return tile(it, { onOpen, why, isNew: prev != null && was < 0, rose: was > i ? was - i : 0 });
  });
  return h("section", { class: "widget card", "data-testid": `widget-${slate.kind}`, "data-kind": slate.kind },
    h("header", { class: "widget-head" },
      h("div", {},
        h("h3", {}, slate.title),
        h("p", { class: "basis" }, slate.basis)),
      tools ? h("div", { class: "widget-tools" }, tools) : null),
    badgeLine(slate),
    tiles.length ? h("div", { class: "row" }, tiles) : h("p", { class: "empty" }, "Nothing to show for this moment."),
    slate.unknown && slate.unknown.length
      ? h("p", { class: "fine" }, `${slate.unknown.length} history item(s) unknown to this run, left out of its reading.`)
      : null);
}

// ---- why-this popover --------------------------------------------------------------------

let popover = null;

export function closeWhy() {
  if (popover) popover.remove();
  popover = null;
}

function openWhy(anchor, item, { reasonKind, runLabel }) {
  closeWhy();
  const because = item.because || [];
  const max = Math.max(1e-12, ...because.map((r) => Math.abs(r.weight)));
  const kind = REASON_TEXT[reasonKind] || reasonKind;
  popover = h("div", { class: "why", "data-testid": "why", role: "dialog", "aria-label": "Why this item" },
    h("header", {},
      h("strong", {}, `Why “${item.product.title}”?`),
      h("button", { class: "why-close", "aria-label": "Close", onclick: closeWhy }, "×")),
    h("p", { class: "why-kind" }, because.length || reasonKind === "none" ? kind : `${kind}: no reasons given`),
    because.length
      ? h("ul", { class: "why-list" }, because.map((r) =>
          h("li", { "data-testid": "why-reason" },
            h("span", { class: "why-title", title: r.itemId }, r.title),
            h("span", { class: "why-bar" }, h("i", { style: { width: `${(100 * Math.abs(r.weight)) / max}%` } })),
            h("span", { class: "why-weight" }, score(r.weight)))))
      : null,
    h("p", { class: "fine" }, `score ${score(item.score)}${runLabel ? ` · ${runLabel}` : ""}`));
  document.body.append(popover);
  const a = anchor.getBoundingClientRect();
  const w = popover.offsetWidth;
  const left = Math.min(Math.max(8, a.left + a.width / 2 - w / 2), document.documentElement.clientWidth - w - 8);
  popover.style.left = `${left + window.scrollX}px`;
  popover.style.top = `${a.bottom + window.scrollY + 8}px`;
}

document.addEventListener("click", (e) => {
  if (popover && !popover.contains(e.target) && !e.target.closest(".why-link")) closeWhy();
});
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape") closeWhy();
});
