// The storefront: state, the request sequence (tests/ui/README.md lists it), and the pages.
// Every click of the demo (open a product = view, add to cart, buy) appends to the session
// history and re-scores all widgets with one storefront_slates call; latest wins.
import { h, $, money, count, categoryLabel, categoryPath, shortDate } from "./dom.js";
import { invoke, showError, showNote, hideBanner, onOpenWorkspace } from "./api.js";
import { placeholder } from "./art.js";
import { tile, widget, badgeLine, closeWhy } from "./widgets.js";
import { pricePanel } from "./price.js";
import { compareHead, compareColumns } from "./compare.js";
import { controlRoom } from "./control.js";

const K = 8;
const state = {
  info: null,
  shoppers: [],
  picked: false, // a shopper (or the anonymous one) is picked
  shopper: null, // the Shopper picked; null: anonymous
  logHistory: [], // the shopper's HistoryStep[], oldest first
  clicks: [], // the demo's own steps this session: { eventType, product: ProductCard }
  runId: null,
  similarRunId: null,
  policy: null,
  page: { kind: "home" }, // home | category {category, cards} | product {product, price}
  prevIds: {}, // widget kind → item ids at its previous render (new ones flash)
  seq: { page: 0, slates: 0, price: 0, shoppers: 0, compare: 0 }, // latest request wins
};

/** The session history sent to the recommenders: the shopper's log, then the demo's clicks. */
const sessionIds = () => [
  ...state.logHistory.map((st) => st.product.itemId),
  ...state.clicks.map((c) => c.product.itemId),
];

// ---- workspace ---------------------------------------------------------------------------

async function openWorkspace(path) {
  try {
    setInfo(await invoke("open_workspace", { path }));
  } catch (e) {
    showError(e);
    return;
  }
  loadShoppers(null);
}

async function chooseWorkspace() {
  try {
    const path = await invoke("choose_workspace", {});
    if (path) await openWorkspace(path);
  } catch (e) {
    showError(e);
  }
}
onOpenWorkspace(chooseWorkspace);

function setInfo(info) {
  Object.assign(state, {
    info, shoppers: [], picked: false, shopper: null, logHistory: [], clicks: [],
    runId: info.defaultRun ?? (info.runs[0] ? info.runs[0].runId : null),
    similarRunId: info.similarRuns.length ? info.similarRuns[0] : null,
    policy: info.pricingPolicies.length ? info.pricingPolicies[0].id : null,
    page: { kind: "home" }, prevIds: {},
  });
  for (const k of Object.keys(state.seq)) state.seq[k]++;
  $("#ws-path").textContent = info.path;
  $("#ws-path").title = info.path;
  hideBanner();
  if (info.migration) showNote(`Workspace migrated: ${info.migration}`);
  $("#control").replaceChildren(controlRoom(info));
  renderNav();
  renderShoppers();
  renderHistory();
  setTab("store");
  renderStore();
}

// ---- shoppers and the session history ----------------------------------------------------

function loadShoppers(search) {
  const seq = ++state.seq.shoppers;
  invoke("shoppers", { search, limit: 40 }).then((list) => {
    if (seq !== state.seq.shoppers) return;
    state.shoppers = list;
    renderShoppers();
  }, showError);
}

async function pickShopper(shopper) {
  closeWhy();
  const seq = ++state.seq.page;
  state.seq.slates++;
  Object.assign(state, { picked: true, shopper, logHistory: [], clicks: [], page: { kind: "home" }, prevIds: {} });
  renderShoppers();
  renderHistory();
  renderNav();
  setTab("store");
  renderStore();
  if (shopper) {
    try {
      const steps = await invoke("shopper_history", { userId: shopper.userId });
      if (seq !== state.seq.page) return;
      state.logHistory = steps;
      renderHistory();
    } catch (e) {
      if (seq === state.seq.page) showError(e);
      return;
    }
  }
  rescore();
}

function renderShoppers() {
  const list = $("#shopper-list");
  const anon = h("li", {
    class: `shopper shopper-anon${state.picked && !state.shopper ? " is-active" : ""}`,
    "data-testid": "shopper-anonymous", tabindex: 0, role: "button",
    onclick: () => pickShopper(null), onkeydown: (e) => e.key === "Enter" && pickShopper(null),
  },
    h("span", { class: "avatar avatar-anon" }, "?"),
    h("span", { class: "shopper-main" }, h("span", { class: "shopper-id" }, "Anonymous shopper"),
      h("span", { class: "shopper-sub" }, "empty history: only this session's clicks")));
  const rows = state.shoppers.map((sh) => h("li", {
    class: `shopper${state.shopper && state.shopper.userId === sh.userId ? " is-active" : ""}`,
    "data-testid": "shopper", "data-user-id": sh.userId, tabindex: 0, role: "button",
    onclick: () => pickShopper(sh), onkeydown: (e) => e.key === "Enter" && pickShopper(sh),
  },
    h("span", { class: "avatar" }, sh.userId.replace(/[^A-Za-z0-9]/g, "").slice(-2).toUpperCase()),
    h("span", { class: "shopper-main" },
      h("span", { class: "shopper-line" },
        h("span", { class: "shopper-id" }, sh.userId),
        sh.topCategory ? h("span", { class: "chip", title: `most viewed: ${sh.topCategory}` }, categoryLabel(sh.topCategory)) : null),
      h("span", { class: "shopper-sub" }, `${count(sh.views)} views · ${count(sh.carts)} carts · ${count(sh.purchases)} bought`))));
  list.replaceChildren(anon, ...rows);
  if (state.info && !state.shoppers.length) list.append(h("li", { class: "empty" }, "No shopper matches."));
}

// Short labels for the event types a log may hold (the column is narrow).
const EVENT_LABELS = { remove_from_cart: "removed", refund: "refund", rating: "rated" };

function stepRow(step, mine) {
  return h("li", { class: `step${mine ? " step-mine" : ""}`, "data-testid": mine ? "session-step" : "log-step",
    title: step.time ? shortDate(step.time) : "this session", onclick: () => openProduct(step.product.itemId) },
    h("span", { class: `type type-${step.eventType}`, title: step.eventType }, EVENT_LABELS[step.eventType] || step.eventType),
    h("span", { class: "step-title" }, step.product.title),
    h("span", { class: "step-price" }, money(step.product.price)));
}

function renderHistory() {
  const box = $("#history");
  if (!state.picked) {
    box.replaceChildren(h("p", { class: "fine pad" }, "Pick a shopper: their history feeds the recommenders, and every click here adds to it."));
    return;
  }
  const who = state.shopper ? state.shopper.userId : "Anonymous shopper";
  box.replaceChildren(
    h("div", { class: "history-head" }, h("h3", {}, "Session history"),
      h("span", { class: "fine" }, `${who} · ${sessionIds().length} item(s) sent`)),
    h("div", { class: "group-label group-mine" }, "This session"),
    state.clicks.length
      ? h("ul", { class: "steps" }, state.clicks.slice().reverse().map((c) => stepRow(c, true)))
      : h("p", { class: "fine pad" }, "Open, cart or buy a product: it lands here and re-scores the storefront."),
    h("div", { class: "group-label" }, "From the log"),
    state.logHistory.length
      ? h("ul", { class: "steps" }, state.logHistory.slice().reverse().map((st) => stepRow(st, false)))
      : h("p", { class: "fine pad" }, state.shopper ? "Loading…" : "No history: an anonymous visit."));
}

// ---- navigation ----------------------------------------------------------------------------

function renderNav() {
  const p = state.page;
  const item = (label, active, onclick, extra = {}) =>
    h("button", { class: `nav-item${active ? " is-active" : ""}`, onclick, ...extra }, ...label);
  $("#catnav").replaceChildren(
    item(["Home"], p.kind === "home", goHome, { "data-testid": "nav-home" }),
    ...state.info.categories.map((c) =>
      item([categoryLabel(c.name), h("span", { class: "count" }, count(c.items))],
        (p.kind === "category" && p.category === c.name) || (p.kind === "product" && p.product.card.category === c.name),
        () => openCategory(c.name), { "data-testid": "category", "data-category": c.name, title: categoryPath(c.name) })));
}

function setTab(tab) {
  closeWhy();
  for (const t of ["store", "compare", "control"]) {
    $(`#${t}`).hidden = t !== tab;
    $(`[data-tab="${t}"]`).classList.toggle("is-active", t === tab);
  }
}

function goHome() {
  closeWhy();
  state.seq.page++;
  state.page = { kind: "home" };
  setTab("store");
  renderNav();
  renderStore();
  if (state.picked) rescore();
}

async function openCategory(category) {
  closeWhy();
  const seq = ++state.seq.page;
  state.seq.slates++;
  state.page = { kind: "category", category, cards: null };
  setTab("store");
  renderNav();
  renderStore();
  try {
    const cards = await invoke("category_page", { category, limit: 24 });
    if (seq !== state.seq.page) return;
    state.page.cards = cards;
    renderStore();
  } catch (e) {
    if (seq === state.seq.page) showError(e);
  }
}

async function openProduct(itemId) {
  closeWhy();
  const seq = ++state.seq.page;
  let product;
  try {
    product = await invoke("product_page", { itemId });
  } catch (e) {
    if (seq === state.seq.page) showError(e);
    return;
  }
  if (seq !== state.seq.page) return;
  if (!state.picked) state.picked = true; // browsing before picking: an anonymous shopper
  state.clicks.push({ eventType: "view", product: product.card });
  state.page = { kind: "product", product, price: null };
  setTab("store");
  renderShoppers();
  renderHistory();
  renderNav();
  renderStore();
  window.scrollTo(0, 0);
  rescore();
  loadPrice();
}

function click(eventType) {
  const p = state.page;
  if (p.kind !== "product") return;
  state.clicks.push({ eventType, product: p.product.card });
  renderHistory();
  const btn = $(`[data-testid="${eventType === "cart" ? "add-to-cart" : "buy"}"]`);
  if (btn) {
    btn.classList.remove("did");
    void btn.offsetWidth;
    btn.classList.add("did");
  }
  rescore();
}

// ---- re-scoring ----------------------------------------------------------------------------

function rescore() {
  if (state.runId == null) {
    const box = $("#widgets");
    if (box) box.replaceChildren(h("p", { class: "empty card" }, "No finished recommender run in this workspace yet."));
    return;
  }
  const p = state.page;
  const onProduct = p.kind === "product";
  const req = {
    runId: state.runId,
    similarRunId: state.similarRunId,
    history: sessionIds(),
    itemId: onProduct ? p.product.card.itemId : null,
    category: onProduct ? p.product.card.category : null,
    k: K,
  };
  const seq = ++state.seq.slates;
  const millis = $("#millis");
  if (millis) millis.textContent = "re-scoring…";
  invoke("storefront_slates", { req }).then(
    (slates) => seq === state.seq.slates && renderSlates(slates),
    (e) => seq === state.seq.slates && e.code !== "superseded" && showError(e),
  );
}

function runSelect() {
  return h("label", { class: "run-pick" }, h("span", {}, "Model"),
    h("select", { class: "select", "data-testid": "run-select", "aria-label": "Model behind Recommended for you",
      onchange: (e) => { state.runId = Number(e.target.value); rescore(); } },
      state.info.runs.map((r) => h("option", { value: r.runId, selected: r.runId === state.runId, title: r.readingText }, r.label))));
}

// "Similar items": a run's item space or neighbourhood, or the item text embeddings.
function similarSelect() {
  const info = state.info;
  const options = info.similarRuns.map((id) => {
    const run = info.runs.find((r) => r.runId === id);
    return h("option", { value: String(id), selected: state.similarRunId === id }, run ? run.label : `run ${id}`);
  });
  if (info.textModel) {
    options.push(h("option", { value: "", selected: state.similarRunId == null }, `text · ${info.textModel}`));
  }
  if (options.length < 2) return null;
  return h("label", { class: "run-pick" }, h("span", {}, "Similar by"),
    h("select", { class: "select", "data-testid": "similar-select", "aria-label": "What Similar items is computed from",
      onchange: (e) => { state.similarRunId = e.target.value === "" ? null : Number(e.target.value); rescore(); } },
      options));
}

function renderSlates(slates) {
  const box = $("#widgets");
  if (!box) return;
  closeWhy();
  const shown = [slates.forYou, slates.similar, slates.alsoBought, slates.popular].filter(Boolean);
  box.dataset.generation = slates.generation;
  let fresh = 0;
  box.replaceChildren(...shown.map((sl) => {
    const prev = state.prevIds[sl.kind] || null;
    const now = sl.items.map((it) => it.product.itemId);
    state.prevIds[sl.kind] = now;
    if (prev) fresh += now.filter((id) => !prev.includes(id)).length;
    const tools = sl.kind === "for_you" ? runSelect() : sl.kind === "similar" ? similarSelect() : null;
    return widget(sl, { onOpen: openProduct, prev, tools });
  }));
  const ms = `re-scored in ${slates.millis.toFixed(1)} ms`;
  const millis = $("#millis");
  if (millis) millis.textContent = ms;
  // On the product page the widgets are below the fold: say what changed, next to the buttons.
  const note = $("#live-note");
  if (note) {
    note.hidden = false;
    note.replaceChildren(h("b", {}, fresh ? `${fresh} new item(s)` : "Same items, re-ranked"), ` · ${ms} ↓`);
  }
}

// ---- price panel ---------------------------------------------------------------------------

function loadPrice() {
  const p = state.page;
  const slot = $("#price-slot");
  if (p.kind !== "product" || !slot) return;
  if (state.policy == null) {
    slot.replaceChildren(h("section", { class: "card price" }, h("p", { class: "empty" }, "No pricing policy in this workspace.")));
    return;
  }
  const seq = ++state.seq.price;
  const req = { itemId: p.product.card.itemId, userId: state.shopper ? state.shopper.userId : null, policy: state.policy };
  invoke("price_panel", { req }).then((panel) => {
    if (seq !== state.seq.price || state.page !== p) return;
    p.price = panel;
    $("#price-slot").replaceChildren(pricePanel(panel, {
      policies: state.info.pricingPolicies, policy: state.policy,
      onPolicy: (id) => { state.policy = id; loadPrice(); },
    }));
  }, (e) => {
    if (seq !== state.seq.price) return;
    showError(e);
    slot.replaceChildren(h("section", { class: "card price" }, h("p", { class: "empty" }, e.message)));
  });
}

// ---- pages ---------------------------------------------------------------------------------

function storeHead(title, sub) {
  return h("div", { class: "page-head" },
    h("div", {}, h("h1", {}, title), sub ? h("p", { class: "fine" }, sub) : null),
    h("span", { class: "millis", id: "millis" }, ""));
}

const widgetsBox = () => h("div", { id: "widgets", class: "widgets" }, h("div", { class: "loading card" }, "Scoring the storefront…"));

function welcome() {
  const i = state.info;
  const stat = (label, value) => h("div", { class: "stat-card card" }, h("div", { class: "fig-label" }, label), h("div", { class: "fig-value" }, value));
  return h("div", { class: "welcome" },
    h("section", { class: "hero card" },
      h("div", {},
        h("h1", {}, "A live storefront over your shop's data"),
        h("p", {}, "Pick a shopper on the left (or the anonymous one). Their history feeds the trained models; every product you open, cart or buy re-scores the whole page at once."))),
    h("div", { class: "stats" },
      stat("Shoppers", count(i.users)), stat("Products", count(i.items)), stat("Events", count(i.events)),
      stat("Period", i.firstEvent ? `${shortDate(i.firstEvent)} – ${shortDate(i.lastEvent)}` : "–")),
    h("h2", { class: "section-title" }, "Categories"),
    h("div", { class: "cat-grid" }, i.categories.map((c) =>
      h("button", { class: "cat-card card", onclick: () => openCategory(c.name) },
        placeholder(c.name, c.hue),
        h("span", { class: "cat-name" }, categoryLabel(c.name)),
        h("span", { class: "fine" }, `${count(c.items)} products`)))),
    h("h2", { class: "section-title" }, "Models"),
    i.runs.length
      ? h("div", { class: "card runs" }, i.runs.map((r) => badgeLine({ badge: r, popularity: NaN, coverage: null })))
      : h("p", { class: "empty card" }, "No finished recommender run yet."));
}

function productView(product) {
  const c = product.card;
  return h("div", { class: "product-page" },
    h("div", { class: "crumbs" },
      h("button", { class: "link", onclick: goHome }, "Home"), " › ",
      h("button", { class: "link", onclick: () => openCategory(c.category) }, categoryPath(c.category))),
    h("section", { class: "card product", "data-testid": "product", "data-item-id": c.itemId },
      h("div", { class: "product-art" }, placeholder(c.category, c.hue)),
      h("div", { class: "product-info" },
        h("div", { class: "eyebrow" }, c.brand || categoryLabel(c.category)),
        h("h1", {}, c.title),
        h("div", { class: "price-big" }, money(c.price)),
        product.description ? h("p", { class: "desc" }, product.description) : null,
        h("div", { class: "chips" },
          h("span", { class: "chip" }, categoryLabel(c.category)),
          h("span", { class: "chip", title: "popularity percentile among the catalog's items" }, `popularity ${Math.round(c.popularity)}th pct`),
          h("span", { class: "chip" }, `${count(product.views)} views · ${count(product.carts)} carts · ${count(product.purchases)} bought`))),
      h("div", { class: "actions" },
        h("button", { class: "btn btn-primary", "data-testid": "add-to-cart", onclick: () => click("cart") }, "Add to cart"),
        h("button", { class: "btn", "data-testid": "buy", onclick: () => click("purchase") }, "Buy now"),
        h("p", { class: "fine" }, "Opening this page was a view. Each click joins the session history and re-scores every widget below."),
        h("button", { class: "live-note", id: "live-note", hidden: true, "data-testid": "live-note",
          onclick: () => $('[data-testid="widget-for_you"]')?.scrollIntoView({ behavior: "smooth", block: "start" }) }))),
    h("div", { id: "price-slot" }, h("section", { class: "card price loading" }, "Pricing…")),
    h("div", { class: "live-strip" }, h("span", { class: "live-dot" }), h("b", {}, "Live storefront"),
      h("span", { class: "fine" }, `for ${state.shopper ? state.shopper.userId : "an anonymous shopper"}`),
      h("span", { class: "millis", id: "millis" }, "")),
    widgetsBox());
}

function categoryView(p) {
  const cat = state.info.categories.find((c) => c.name === p.category);
  return h("div", {},
    storeHead(categoryLabel(p.category), `${categoryPath(p.category)} · ${cat ? count(cat.items) : "?"} products, most popular first`),
    p.cards == null
      ? h("div", { class: "loading card" }, "Loading…")
      : h("div", { class: "grid", "data-testid": "category-grid" }, p.cards.map((c) => tile(c, { onOpen: openProduct }))));
}

function renderStore() {
  const p = state.page;
  const who = state.shopper ? state.shopper.userId : "an anonymous shopper";
  let view;
  if (p.kind === "product") view = productView(p.product);
  else if (p.kind === "category") view = categoryView(p);
  else if (!state.picked) view = welcome();
  else view = h("div", {}, storeHead(`Storefront of ${who}`, "Recommended with the model you pick; popular items for comparison."), widgetsBox());
  $("#store").replaceChildren(view);
}

// ---- compare -------------------------------------------------------------------------------

function openCompare() {
  setTab("compare");
  const runs = state.info ? state.info.runs : [];
  if (!runs.length) {
    $("#compare").replaceChildren(h("p", { class: "empty card" }, "No finished recommender run to compare."));
    return;
  }
  const runA = state.runId ?? runs[0].runId;
  const other = runs.find((r) => r.runId !== runA);
  loadCompare(runA, other ? other.runId : runA);
}

function loadCompare(runA, runB) {
  const seq = ++state.seq.compare;
  const history = sessionIds();
  const head = compareHead({ runs: state.info.runs, runA, runB, onChange: loadCompare, historyLength: history.length });
  $("#compare").replaceChildren(head, h("div", { class: "loading card" }, "Scoring both runs…"));
  invoke("compare_runs", { req: { runA, runB, history, k: K } }).then((cmp) => {
    if (seq !== state.seq.compare) return;
    $("#compare").replaceChildren(head, compareColumns(cmp, { onOpen: openProduct }));
  }, (e) => seq === state.seq.compare && showError(e));
}

// ---- start ---------------------------------------------------------------------------------

function boot() {
  $("#open-ws").addEventListener("click", chooseWorkspace);
  $('[data-tab="store"]').addEventListener("click", () => { setTab("store"); });
  $('[data-tab="compare"]').addEventListener("click", openCompare);
  $('[data-tab="control"]').addEventListener("click", () => setTab("control"));
  let timer = null;
  $("#search").addEventListener("input", (e) => {
    clearTimeout(timer);
    const text = e.target.value.trim();
    timer = setTimeout(() => state.info && loadShoppers(text || null), 250);
  });
  openWorkspace(null);
}

boot();
