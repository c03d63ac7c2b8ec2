// The storefront walked as a person would, in Debian's chromium through playwright-core, with
// the app's commands answered from a fixture file (mock-tauri.js) and the app's CSP served.
//   SHOPLAB_UI_FIXTURES=tests/ui/fixtures/sample.json node --test tests/ui/
// SHOPLAB_UI_SHOTS=<folder>: screenshots; SHOPLAB_UI_LOOSE=1: fixture misses are printed only;
// CHROMIUM: the browser (default /usr/bin/chromium).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import { serve, mockScript, appCsp, repoRoot } from "./serve.mjs";

const fixturePath = resolve(process.env.SHOPLAB_UI_FIXTURES || join(repoRoot, "tests/ui/fixtures/sample.json"));
const fixtureText = readFileSync(fixturePath, "utf8");
const fixture = JSON.parse(fixtureText);
const LOOSE = process.env.SHOPLAB_UI_LOOSE === "1";
const SHOTS = process.env.SHOPLAB_UI_SHOTS || null;
if (SHOTS) mkdirSync(SHOTS, { recursive: true });

let server, browser;
before(async () => {
  server = await serve();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--no-first-run", "--disable-quic"],
  });
});
after(async () => {
  if (browser) await browser.close();
  if (server) await server.close();
});

// ---- fixture helpers -----------------------------------------------------------------------

function equal(a, b) {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}
function sortKeys(x) {
  if (Array.isArray(x)) return x.map(sortKeys);
  if (x && typeof x === "object") return Object.fromEntries(Object.keys(x).sort().map((k) => [k, sortKeys(x[k])]));
  return x;
}
/** The fixture call answering (cmd, args), or a failed assertion. */
function fixtureFor(cmd, args) {
  const f = fixture.calls.find((c) => c.cmd === cmd && equal(c.args, args));
  assert.ok(f, `the fixture has no ${cmd} call with args ${JSON.stringify(args)}`);
  return f;
}
const okFor = (cmd, args) => {
  const f = fixtureFor(cmd, args);
  assert.ok(!f.err, `${cmd} answers an error in the fixture: ${JSON.stringify(f.err)}`);
  return f.ok;
};
const ids = (slate) => slate.items.map((it) => it.product.itemId);

// ---- page helpers --------------------------------------------------------------------------

async function openApp(text = fixtureText) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (m) => m.type() === "error" && problems.push(`console error: ${m.text()}`));
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure() && r.failure().errorText}`));
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) =>
      window.__cspViolations.push(`${e.violatedDirective}: ${e.blockedURI}`));
  });
  await page.addInitScript({ content: mockScript(text) });
  const response = await page.goto(server.url);
  assert.equal(response.headers()["content-security-policy"], appCsp(), "the page is served with the app's CSP");
  return { page, context, problems };
}

const calls = (page) => page.evaluate(() => window.__fixtureCalls);
const callsOf = async (page, cmd) => (await calls(page)).filter((c) => c.cmd === cmd);

/** Waits until `cmd` has been called more than `before` times; returns the latest call's args. */
async function nextCall(page, cmd, before) {
  await page.waitForFunction(([c, n]) => window.__fixtureCalls.filter((x) => x.cmd === c).length > n, [cmd, before]);
  const all = await callsOf(page, cmd);
  return all[all.length - 1].args;
}

async function tileIds(page, scope) {
  return page.locator(`${scope} [data-testid="tile"]`).evaluateAll((els) => els.map((e) => e.dataset.itemId));
}

/** Waits until the widgets show the answer `slates` (its generation, its for_you items). */
async function waitForSlates(page, slates) {
  await page.waitForFunction(([gen, want]) => {
    const box = document.querySelector("#widgets");
    const got = [...document.querySelectorAll('[data-testid="widget-for_you"] [data-testid="tile"]')].map((e) => e.dataset.itemId);
    return box && box.dataset.generation === String(gen) && JSON.stringify(got) === JSON.stringify(want);
  }, [slates.generation, ids(slates.forYou)]);
  for (const [key, kind] of [["similar", "similar"], ["alsoBought", "also_bought"], ["popular", "popular"]]) {
    const sl = slates[key];
    const n = await page.locator(`[data-testid="widget-${kind}"]`).count();
    assert.equal(n, sl ? 1 : 0, `widget-${kind} shown exactly when the answer has it`);
    if (sl) assert.deepEqual(await tileIds(page, `[data-testid="widget-${kind}"]`), ids(sl));
  }
}

async function shot(page, name, fullPage = false) {
  if (!SHOTS) return;
  if (fullPage) await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

/** Fails on fixture misses (unless SHOPLAB_UI_LOOSE=1), console errors and CSP violations. */
async function checkClean(t, page, problems) {
  const misses = await page.evaluate(() => window.__fixtureMisses);
  if (misses.length) {
    t.diagnostic(`fixture misses: ${misses.length}`);
    for (const m of misses) console.log(`fixture miss: ${m.cmd} ${JSON.stringify(m.args)}`);
  }
  if (!LOOSE) assert.deepEqual(misses, [], "every command call has an exact fixture");
  const csp = await page.evaluate(() => window.__cspViolations);
  assert.deepEqual(csp, [], "no CSP violation");
  assert.deepEqual(problems, [], "no console error");
}

/** Sequential steps of one test: a failed step skips the rest. */
function stepper(t) {
  let broken = false;
  return (name, fn) => t.test(name, async (st) => {
    if (broken) return st.skip("an earlier step failed");
    try {
      await fn(st);
    } catch (e) {
      broken = true;
      throw e;
    }
  });
}

const info = fixture.calls.find((c) => c.cmd === "open_workspace" && equal(c.args, { path: null }))?.ok;

// ---- the journey ---------------------------------------------------------------------------

test("storefront journey", async (t) => {
  assert.ok(info, "the fixture opens the demo workspace (open_workspace {path: null})");
  const { page, context, problems } = await openApp();
  const step = stepper(t);
  const s = {}; // what the steps learn along the way

  await step("loads the workspace, then the shoppers", async () => {
    await page.locator('[data-testid="shopper"]').first().waitFor();
    const cs = await calls(page);
    assert.deepEqual(cs.slice(0, 2), [
      { cmd: "open_workspace", args: { path: null } },
      { cmd: "shoppers", args: { search: null, limit: 40 } },
    ]);
    s.shoppers = okFor("shoppers", { search: null, limit: 40 });
    assert.equal(await page.locator('[data-testid="shopper"]').count(), s.shoppers.length);
    assert.equal(await page.locator("#ws-path").textContent(), info.path);
    assert.equal(await page.locator('[data-testid="category"]').count(), info.categories.length);
  });

  await step("pick the first shopper: their history, then the storefront", async () => {
    s.shopper = s.shoppers[0];
    await page.locator('[data-testid="shopper"]').first().click();
    assert.deepEqual(await nextCall(page, "shopper_history", 0), { userId: s.shopper.userId });
    s.history = okFor("shopper_history", { userId: s.shopper.userId }).map((st) => st.product.itemId);
    s.run = info.defaultRun;
    s.similarRun = info.similarRuns.length ? info.similarRuns[0] : null;
    const req = { runId: s.run, similarRunId: s.similarRun, history: s.history, itemId: null, category: null, k: 8 };
    assert.deepEqual(await nextCall(page, "storefront_slates", 0), { req });
    const slates = okFor("storefront_slates", { req });
    assert.ok(slates.forYou.items.length > 0, "the fixture recommends something");
    await waitForSlates(page, slates);
    const badge = page.locator('[data-testid="widget-for_you"] .run-badge');
    assert.equal(await badge.textContent(), slates.forYou.badge.label);
    assert.equal(await page.locator('[data-testid="log-step"]').count(), s.history.length);
    await shot(page, "storefront");
  });

  await step("open the first recommended product: a view, re-scored, priced", async () => {
    const first = page.locator('[data-testid="widget-for_you"] [data-testid="tile"]').first();
    s.item = await first.getAttribute("data-item-id");
    const nSlates = (await callsOf(page, "storefront_slates")).length;
    await first.click();
    assert.deepEqual(await nextCall(page, "product_page", 0), { itemId: s.item });
    s.product = okFor("product_page", { itemId: s.item });
    await page.locator(`[data-testid="product"][data-item-id="${s.item}"]`).waitFor();
    s.history = [...s.history, s.item];
    const req = { runId: s.run, similarRunId: s.similarRun, history: s.history, itemId: s.item, category: s.product.card.category, k: 8 };
    assert.deepEqual(await nextCall(page, "storefront_slates", nSlates), { req });
    await waitForSlates(page, okFor("storefront_slates", { req }));
    s.policy = info.pricingPolicies[0].id;
    const preq = { req: { itemId: s.item, userId: s.shopper.userId, policy: s.policy } };
    assert.deepEqual(await nextCall(page, "price_panel", 0), preq);
    s.panel = okFor("price_panel", preq);
    await page.locator('[data-testid="price-readout"]').waitFor();
    assert.equal(await page.locator('[data-testid="session-step"]').count(), 1);
  });

  await step("add to cart: the longer history re-scores every widget", async () => {
    const nSlates = (await callsOf(page, "storefront_slates")).length;
    await page.locator('[data-testid="add-to-cart"]').click();
    const got = await nextCall(page, "storefront_slates", nSlates);
    s.history = [...s.history, s.item];
    assert.equal(got.req.history.length, s.history.length, "the history grew by one");
    const req = { runId: s.run, similarRunId: s.similarRun, history: s.history, itemId: s.item, category: s.product.card.category, k: 8 };
    assert.deepEqual(got, { req });
    await waitForSlates(page, okFor("storefront_slates", { req }));
    assert.equal(await page.locator('[data-testid="session-step"]').count(), 2);
    assert.equal(await page.locator('[data-testid="session-step"] .type').first().textContent(), "cart");
  });

  await step("switch the model: the other run's badge", async () => {
    // The run the fixture switches to (any other run when it has none for this moment).
    const same = (c) => c.cmd === "storefront_slates" && c.args.req.runId !== s.run && c.args.req.itemId === s.item &&
      equal(c.args.req.history, s.history);
    const target = fixture.calls.find(same);
    const other = info.runs.find((r) => (target ? r.runId === target.args.req.runId : r.runId !== s.run));
    assert.ok(other, "the fixture has two runs");
    const nSlates = (await callsOf(page, "storefront_slates")).length;
    await page.locator('[data-testid="run-select"]').selectOption(String(other.runId));
    s.run = other.runId;
    const req = { runId: s.run, similarRunId: s.similarRun, history: s.history, itemId: s.item, category: s.product.card.category, k: 8 };
    assert.deepEqual(await nextCall(page, "storefront_slates", nSlates), { req });
    s.slates = okFor("storefront_slates", { req });
    await waitForSlates(page, s.slates);
    assert.equal(await page.locator('[data-testid="widget-for_you"] .run-badge').textContent(), other.label);
    assert.equal(await page.locator('[data-testid="run-select"]').inputValue(), String(other.runId));
  });

  await step("why? lists the reasons behind a tile", async () => {
    const widgets = [s.slates.forYou, s.slates.similar, s.slates.alsoBought, s.slates.popular].filter(Boolean);
    let pick = null;
    for (const w of widgets) {
      const it = w.items.find((i) => i.because.length > 0);
      if (it) { pick = { w, it }; break; }
    }
    assert.ok(pick, "some tile of the answer has reasons");
    await page.locator(`[data-testid="widget-${pick.w.kind}"] [data-testid="tile"][data-item-id="${pick.it.product.itemId}"] [data-testid="why-link"]`).click();
    const why = page.locator('[data-testid="why"]');
    await why.waitFor();
    const words = { weight: "item-item similarity from your history", cosine: "nearest in the model's item space",
      text: "text similarity", count: "bought by the same shoppers", none: "popularity: no history item behind it" };
    if (words[pick.w.reasonKind]) assert.match(await why.textContent(), new RegExp(words[pick.w.reasonKind].replace(/[()]/g, "\\$&")));
    const titles = await why.locator('[data-testid="why-reason"] .why-title').allTextContents();
    assert.deepEqual(titles, pick.it.because.map((r) => r.title));
  });

  await step("move the price slider: the readout follows", async () => {
    assert.ok(s.panel.curve.length >= 2, "the price curve has points to slide over");
    const slider = page.locator('[data-testid="price-slider"]');
    const readout = page.locator('[data-testid="price-readout"]');
    const before = await readout.textContent();
    const at = Number(await slider.inputValue());
    await slider.focus();
    await page.keyboard.press(at > 0 ? "Home" : "End");
    const to = at > 0 ? 0 : s.panel.curve.length - 1;
    assert.equal(Number(await slider.inputValue()), to);
    const after = await readout.textContent();
    assert.notEqual(after, before);
    const usd = (x) => new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(x);
    assert.ok(after.includes(usd(s.panel.curve[to].price)), `the readout shows the slider's price: ${after}`);
    assert.ok(await page.locator('[data-testid="why"]').isVisible(), "the why popover is still open");
    await shot(page, "product", true);
  });

  await step("compare two runs: both columns, overlap marked", async () => {
    await page.locator('[data-testid="tab-compare"]').click();
    const runB = info.runs.find((r) => r.runId !== s.run).runId;
    const req = { runA: s.run, runB, history: s.history, k: 8 };
    assert.deepEqual(await nextCall(page, "compare_runs", 0), { req });
    const cmp = okFor("compare_runs", { req });
    await page.locator('[data-testid="compare-a"]').waitFor();
    assert.deepEqual(await tileIds(page, '[data-testid="compare-a"]'), ids(cmp.a));
    assert.deepEqual(await tileIds(page, '[data-testid="compare-b"]'), ids(cmp.b));
    for (const side of ["a", "b"]) {
      const marked = await page.locator(`[data-testid="compare-${side}"] [data-testid="tile"][data-overlap="true"]`)
        .evaluateAll((els) => els.map((e) => e.dataset.itemId));
      assert.deepEqual(marked.slice().sort(), ids(cmp[side]).filter((x) => cmp.overlap.includes(x)).sort());
    }
    assert.equal(await page.locator('[data-testid="jaccard"]').textContent(), cmp.jaccard.toFixed(2));
    await shot(page, "compare");
  });

  await step("control room: start, live charts, stop", async () => {
    await page.locator('[data-testid="tab-control"]').click();
    // The form's defaults, then the what-if the fixture ran (as a person would type it).
    const sp = info.scenarioPolicies;
    assert.equal(await page.locator("#policy-A").inputValue(), sp[0].id);
    assert.equal(await page.locator("#policy-B").inputValue(), sp[Math.min(1, sp.length - 1)].id);
    assert.deepEqual([await page.locator("#control-days").inputValue(), await page.locator("#control-seeds").inputValue(),
      await page.locator("#control-speed").inputValue()], ["28", "4", "14"]);
    const started = fixture.calls.find((c) => c.cmd === "control_room_start");
    assert.ok(started, "the fixture runs the control room");
    const req = started.args.req;
    await page.locator("#policy-A").selectOption(req.policyA);
    await page.locator("#policy-B").selectOption(req.policyB);
    await page.locator("#control-days").fill(String(req.days));
    await page.locator("#control-seeds").fill(String(req.seeds));
    await page.locator("#control-speed").fill(String(req.speed));
    await page.locator('[data-testid="control-start"]').click();
    assert.deepEqual(await nextCall(page, "control_room_start", 0), { req });
    const run = fixtureFor("control_room_start", { req });
    const total = run.channel ? run.channel.messages.length : 0;
    assert.ok(total > 0, "the fixture streams day points");
    const want = Math.max(1, Math.floor(total / 2));
    await page.waitForFunction((n) => {
      const c = document.querySelector('[data-testid="chart-conversion"]');
      return c && Number(c.dataset.points) >= n;
    }, want);
    assert.ok(Number(await page.locator('[data-testid="chart-revenue"]').getAttribute("data-points")) >= want);
    await page.locator('[data-testid="control-stop"]').click();
    assert.deepEqual(await nextCall(page, "control_room_stop", 0), {});
    await page.locator('[data-testid="control-done"]').waitFor();
    assert.match(await page.locator('[data-testid="control-done"]').textContent(),
      new RegExp(`^Simulation ${run.ok.simId} stored, ${run.ok.days} days`));
    await shot(page, "control-room", true);
  });

  // Always, so that a failed step's fixture misses are printed too.
  await t.test("no fixture misses, console errors or CSP violations", (st) => checkClean(st, page, problems));
  await context.close();
});

// ---- beyond the journey: run when the fixture has the calls --------------------------------

// The fixture's other pricing policy (beyond the first) and its category page, if any.
const second = info && info.pricingPolicies.slice(1).find((p) =>
  fixture.calls.some((c) => c.cmd === "price_panel" && c.args.req.policy === p.id));
const catCall = info && fixture.calls.find((c) => c.cmd === "category_page" && c.args.limit === 24 &&
  info.categories.some((k) => k.name === c.args.category));
const hasExtra = second && catCall;

test("pricing policy and category page", { skip: hasExtra ? false : "the fixture has no second-policy price_panel or category_page call" }, async (t) => {
  const { page, context, problems } = await openApp();
  const step = stepper(t);
  let item, userId;
  await step("a shopper's first recommended product", async () => {
    await page.locator('[data-testid="shopper"]').first().click();
    userId = await page.locator('[data-testid="shopper"]').first().getAttribute("data-user-id");
    const first = page.locator('[data-testid="widget-for_you"] [data-testid="tile"]').first();
    await first.waitFor();
    item = await first.getAttribute("data-item-id");
    await first.click();
    await page.locator('[data-testid="price-readout"]').waitFor();
  });
  await step("change the pricing policy: the panel is asked again", async () => {
    await page.locator('[data-testid="policy-select"]').selectOption(second.id);
    const preq = { req: { itemId: item, userId, policy: second.id } };
    assert.deepEqual(await nextCall(page, "price_panel", 1), preq);
    const panel = okFor("price_panel", preq);
    const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(panel.policyPrice);
    await page.locator(".price .fig", { hasText: `${second.label} today` }).filter({ hasText: usd }).waitFor();
  });
  await step("a category from the nav: its products, no re-score", async () => {
    const nSlates = (await callsOf(page, "storefront_slates")).length;
    const cat = catCall.args.category;
    await page.locator(`[data-testid="category"][data-category="${cat}"]`).click();
    assert.deepEqual(await nextCall(page, "category_page", 0), { category: cat, limit: 24 });
    const cards = okFor("category_page", { category: cat, limit: 24 });
    await page.locator('[data-testid="category-grid"]').waitFor();
    assert.deepEqual(await tileIds(page, '[data-testid="category-grid"]'), cards.map((c) => c.itemId));
    assert.equal((await callsOf(page, "storefront_slates")).length, nSlates);
  });
  // Always, so that a failed step's fixture misses are printed too.
  await t.test("no fixture misses, console errors or CSP violations", (st) => checkClean(st, page, problems));
  await context.close();
});

const search = fixture.calls.find((c) => c.cmd === "shoppers" && c.args.search != null);
test("shopper search", { skip: search ? false : "the fixture has no shoppers call with a search" }, async (t) => {
  const { page, context, problems } = await openApp();
  await page.locator('[data-testid="shopper"]').first().waitFor();
  await page.locator('[data-testid="shopper-search"]').fill(search.args.search);
  assert.deepEqual(await nextCall(page, "shoppers", 1), search.args);
  await page.waitForFunction((want) => JSON.stringify([...document.querySelectorAll('[data-testid="shopper"]')]
    .map((e) => e.dataset.userId)) === JSON.stringify(want), search.ok.map((sh) => sh.userId));
  await checkClean(t, page, problems);
  await context.close();
});

test("no workspace: a dismissable banner, and Open workspace… opens the chosen one", async (t) => {
  // Its own fixture (the workspace from the committed sample), whatever SHOPLAB_UI_FIXTURES is.
  const sample = JSON.parse(readFileSync(join(repoRoot, "tests/ui/fixtures/sample.json"), "utf8"));
  const opened = { ...sample.calls.find((c) => c.cmd === "open_workspace").ok, path: "/home/pm/shop.duckdb" };
  const shoppers = sample.calls.find((c) => c.cmd === "shoppers").ok;
  const { page, context, problems } = await openApp(JSON.stringify({ calls: [
    { cmd: "open_workspace", args: { path: null }, err: { code: "no_workspace", message: "No workspace is open: the bundled demo is missing." } },
    { cmd: "choose_workspace", args: {}, ok: "/home/pm/shop.duckdb" },
    { cmd: "open_workspace", args: { path: "/home/pm/shop.duckdb" }, ok: opened },
    { cmd: "shoppers", args: { search: null, limit: 40 }, ok: shoppers },
  ] }));
  const banner = page.locator("#banner");
  await banner.waitFor();
  assert.match(await banner.textContent(), /the bundled demo is missing/);
  await banner.getByRole("button", { name: "Dismiss" }).click();
  await banner.waitFor({ state: "hidden" });
  await page.locator('[data-testid="open-workspace"]').click();
  await page.locator('[data-testid="shopper"]').first().waitFor();
  assert.equal(await page.locator("#ws-path").textContent(), opened.path);
  assert.deepEqual((await calls(page)).map((c) => c.cmd), ["open_workspace", "choose_workspace", "open_workspace", "shoppers"]);
  await checkClean(t, page, problems);
  await context.close();
});
