// The storefront journey against the real app binary: real IPC, real engine, the real demo
// workspace, in the app's own WebKitGTK webview, driven over W3C WebDriver through tauri-driver
// (which starts WebKitWebDriver, which starts the app). Plain Node 20, no npm packages.
//
//   TAURI_DRIVER_URL  tauri-driver's address (default http://127.0.0.1:4444)
//   SHOPLAB_APP       the app binary (default ~/.cache/shoplab/target/debug/shoplab-demo)
//   SHOPLAB_UI_SHOTS  a folder for real-storefront.png, real-product.png, real-compare.png,
//                     real-control-room.png (optional; real-failure.png when a step fails)
//   SHOPLAB_UI_FIRST_LOAD_S  how long the first load may take (default 120 s; a missing demo
//                     workspace is built then, a minute or more)
//
// The app opens $SHOPLAB_CACHE/demo.duckdb: set SHOPLAB_CACHE in tauri-driver's environment.
// Each step is printed; a failed one throws, the session is deleted and the exit code is 1.
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

const DRIVER = (process.env.TAURI_DRIVER_URL || "http://127.0.0.1:4444").replace(/\/$/, "");
const APP = resolve(process.env.SHOPLAB_APP || join(homedir(), ".cache/shoplab/target/debug/shoplab-demo"));
const SHOTS = process.env.SHOPLAB_UI_SHOTS ? resolve(process.env.SHOPLAB_UI_SHOTS) : null;
const FIRST_LOAD_MS = 1000 * (Number(process.env.SHOPLAB_UI_FIRST_LOAD_S) || 120);
if (SHOTS) mkdirSync(SHOTS, { recursive: true });

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf"; // the W3C web element key
const t0 = Date.now();
const secs = () => ((Date.now() - t0) / 1000).toFixed(1);
const log = (msg) => console.log(`[real-app ${secs().padStart(6)} s] ${msg}`);

// ---- W3C WebDriver over HTTP ---------------------------------------------------------------

let session = null;

async function wd(method, path, body, timeoutMs = 60_000) {
  const url = `${DRIVER}${path}`;
  let res;
  try {
    res = await fetch(url, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json; charset=utf-8" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    throw new Error(`WebDriver ${method} ${path}: ${e.cause ? e.cause.message || e.cause.code : e.message} (is tauri-driver listening on ${DRIVER}?)`);
  }
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`WebDriver ${method} ${path}: HTTP ${res.status}, not JSON: ${text.slice(0, 300)}`);
  }
  const v = json.value;
  if (!res.ok || (v && typeof v === "object" && v.error)) {
    const err = new Error(`WebDriver ${method} ${path}: ${v && v.error ? `${v.error}: ${v.message}` : `HTTP ${res.status} ${text.slice(0, 300)}`}`);
    err.wdError = v && v.error;
    throw err;
  }
  return v;
}

const s = (path) => `/session/${session}${path}`;
const find = async (css) => (await wd("POST", s("/elements"), { using: "css selector", value: css })).map((e) => e[ELEMENT]);
async function one(css) {
  const els = await find(css);
  if (!els.length) throw new Error(`no element matches ${css}`);
  return els[0];
}
const clickEl = (id) => wd("POST", s(`/element/${id}/click`), {});
const click = async (css) => clickEl(await one(css));
/** Runs `fn` (a function's source, its body returning a JSON-able value) in the page. */
const js = (fn, ...args) => wd("POST", s("/execute/sync"), { script: `return (${fn})(...arguments);`, args });

async function screenshot(name) {
  if (!SHOTS) return;
  // Let the page paint what the DOM has now (two animation frames, then a moment): WebKit's
  // screenshot can show an older frame otherwise.
  await wd("POST", s("/execute/async"), {
    script: "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
    args: [],
  });
  await sleep(300);
  const b64 = await wd("GET", s("/screenshot"));
  const file = join(SHOTS, name);
  writeFileSync(file, Buffer.from(b64, "base64"));
  log(`  screenshot ${file}`);
}

// ---- waiting and asserting -----------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns something truthy (returned); throws after `timeoutMs`. */
async function waitFor(what, probe, timeoutMs = 30_000, everyMs = 250) {
  const until = Date.now() + timeoutMs;
  let last = null;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
      last = null;
    } catch (e) {
      last = e;
    }
    const banner = session ? await bannerError().catch(() => null) : null;
    if (banner) throw new Error(`the app shows an error while waiting for ${what}: ${banner}`);
    if (Date.now() > until) {
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last: ${last.message})` : ""}`);
    }
    await sleep(everyMs);
  }
}

function check(ok, msg) {
  if (!ok) throw new Error(`assertion failed: ${msg}`);
}

/** The error banner's text when it shows one, else null. */
const bannerError = () => js(() => {
  const b = document.querySelector("#banner");
  return b && !b.hidden && b.classList.contains("banner-error") ? b.textContent : null;
});

/** What the storefront's widgets show now. */
const widgets = () => js(() => {
  const box = document.querySelector("#widgets");
  const fy = document.querySelector('[data-testid="widget-for_you"]');
  const millis = document.querySelector("#millis");
  return {
    generation: box ? box.dataset.generation ?? null : null,
    tiles: fy ? [...fy.querySelectorAll('[data-testid="tile"]')].map((e) => e.dataset.itemId) : [],
    badge: fy && fy.querySelector(".run-badge") ? fy.querySelector(".run-badge").textContent : null,
    badgeLine: fy && fy.querySelector(".badge-line") ? [...fy.querySelector(".badge-line").children].map((e) => e.textContent).join(" · ") : null,
    millis: millis ? millis.textContent : null,
  };
});

/**
 * Waits until the for_you widget shows 8 tiles and a badge with the answer rendered ("re-scored in
 * … ms", not "re-scoring…"), and (when `changed` is given) until `changed(widgets)` holds.
 */
async function waitForYou(what, changed = null, timeoutMs = 120_000) {
  return waitFor(what, async () => {
    const w = await widgets();
    if (w.generation == null || w.tiles.length !== 8 || !w.badge || !/^re-scored in/.test(w.millis || "")) return null;
    return !changed || changed(w) ? w : null;
  }, timeoutMs);
}

// ---- the journey ---------------------------------------------------------------------------

const steps = [];
function step(name, fn) {
  steps.push({ name, fn });
}
const st = {}; // what the steps learn

step("start the app through tauri-driver", async () => {
  log(`  driver ${DRIVER}, app ${APP}`);
  check(existsSync(APP), `the app binary exists: ${APP} (set SHOPLAB_APP)`);
  // tauri-driver may just have been started: wait (30 s at most) until it answers.
  await waitFor(`tauri-driver at ${DRIVER}/status`, () => wd("GET", "/status", undefined, 5_000).then((v) => v && v.ready !== false), 30_000, 500);
  const v = await wd("POST", "/session", { capabilities: { alwaysMatch: { "tauri:options": { application: APP } } } }, 180_000);
  session = v.sessionId;
  check(session, `a session id from POST /session: ${JSON.stringify(v)}`);
  log(`  session ${session} (${v.capabilities ? v.capabilities.browserName + " " + v.capabilities.browserVersion : "?"})`);
  await wd("POST", s("/timeouts"), { implicit: 0, script: 30_000, pageLoad: 120_000 });
  // A roomier window for the screenshots (the config's 1000×720 otherwise); not every setup can.
  await wd("POST", s("/window/rect"), { width: 1280, height: 900 }).catch((e) => log(`  (window not resized: ${e.message})`));
  await js(() => {
    window.__realAppErrors = [];
    window.addEventListener("error", (e) => window.__realAppErrors.push(`error: ${e.message}`));
    window.addEventListener("unhandledrejection", (e) => window.__realAppErrors.push(`unhandled rejection: ${JSON.stringify(e.reason)}`));
  });
});

step("the demo workspace opens and the shopper list appears", async () => {
  const n = await waitFor("the shopper list (first load of the demo workspace)",
    async () => (await find('[data-testid="shopper"]')).length, FIRST_LOAD_MS, 500);
  // Not the element text: WebKitWebDriver's displayedness check calls this overflow-hidden,
  // ellipsised chip hidden (so its text is ""), though it shows.
  const ws = await js(() => document.querySelector("#ws-path").textContent);
  check(ws.endsWith("demo.duckdb"), `the demo workspace is open: ${ws}`);
  log(`  ${n} shoppers, workspace ${ws}`);
});

step("pick the first shopper: their storefront, 8 recommendations with an NDCG@10 badge", async () => {
  const first = await one('[data-testid="shopper"]');
  st.userId = await wd("GET", s(`/element/${first}/attribute/data-user-id`));
  await clickEl(first);
  st.w = await waitForYou("the for_you widget after picking a shopper (the first re-score loads the models)");
  check(st.w.badgeLine.includes("NDCG@10"), `the for_you badge line shows NDCG@10: ${st.w.badgeLine}`);
  const logged = (await find('[data-testid="log-step"]')).length;
  check(logged > 0, "the shopper's history from the log is listed");
  log(`  ${st.userId}: ${logged} history steps; ${st.w.badgeLine}`);
  await screenshot("real-storefront.png");
});

step("open the first recommended product: product page and price panel", async () => {
  st.item = st.w.tiles[0];
  const gen = st.w.generation;
  await click('[data-testid="widget-for_you"] [data-testid="tile"]');
  await waitFor(`the product page of ${st.item}`, async () => (await find(`[data-testid="product"][data-item-id="${st.item}"]`)).length);
  const readout = await waitFor("the price panel's readout", async () => {
    const els = await find('[data-testid="price-readout"]');
    return els.length ? wd("GET", s(`/element/${els[0]}/text`)) : null;
  }, 60_000);
  check(/\$\d/.test(readout), `the readout shows a price: ${readout}`);
  // Opening was a view: the widgets below re-score for the longer history.
  st.w = await waitForYou("the widgets re-scored after the view", (w) => gen == null || Number(w.generation) > Number(gen));
  log(`  ${st.item}: ${readout.replace(/\s+/g, " ")}; widgets generation ${st.w.generation}, ${st.w.millis}`);
});

step("add to cart: the for_you widget re-scores", async () => {
  const before = st.w;
  await click('[data-testid="add-to-cart"]');
  // Every storefront_slates answer has a newer generation.
  st.w = await waitForYou("a new for_you render after add to cart", (w) => Number(w.generation) > Number(before.generation));
  const mine = await js(() => [...document.querySelectorAll('[data-testid="session-step"] .type')].map((e) => e.textContent));
  check(mine.length === 2 && mine[0] === "cart" && mine[1] === "view", `this session: cart then view, newest first: ${JSON.stringify(mine)}`);
  log(`  generation ${before.generation} → ${st.w.generation}, ${st.w.millis}; tiles ${JSON.stringify(before.tiles) === JSON.stringify(st.w.tiles) ? "same" : "changed"}`);
});

step("switch the model: another run, another badge", async () => {
  const opts = await js(() => {
    const sel = document.querySelector('[data-testid="run-select"]');
    return { value: sel.value, options: [...sel.options].map((o) => ({ value: o.value, label: o.textContent })) };
  });
  const other = opts.options.find((o) => o.value !== opts.value && o.label !== st.w.badge);
  check(other, `the run select offers another run: ${JSON.stringify(opts)}`);
  const before = st.w;
  await click(`[data-testid="run-select"] option[value="${other.value}"]`);
  const now = await js(() => document.querySelector('[data-testid="run-select"]').value);
  check(now === other.value, `the select took the clicked option ${other.value} (it shows ${now})`);
  st.w = await waitForYou(`the for_you badge of ${other.label}`, (w) => w.badge !== before.badge && Number(w.generation) > Number(before.generation));
  check(st.w.badge === other.label, `the badge names the chosen run: ${st.w.badge} vs ${other.label}`);
  log(`  ${before.badge} → ${st.w.badgeLine}`);
});

step("why? lists the reasons behind a tile", async () => {
  const links = await find('[data-testid="widget-for_you"] [data-testid="why-link"], [data-testid="widget-similar"] [data-testid="why-link"], [data-testid="widget-also_bought"] [data-testid="why-link"]');
  check(links.length > 0, "the widgets have why? links");
  let found = null;
  for (const link of links.slice(0, 24)) {
    await clickEl(link);
    const why = await waitFor("the why popover", () => js(() => {
      const p = document.querySelector('[data-testid="why"]');
      return p ? { kind: p.querySelector(".why-kind").textContent, reasons: [...p.querySelectorAll('[data-testid="why-reason"] .why-title')].map((e) => e.textContent) } : null;
    }), 10_000);
    if (why.reasons.length) {
      found = why;
      break;
    }
  }
  check(found, "some tile's why? lists reasons");
  log(`  ${found.kind}: ${found.reasons.slice(0, 3).join(" · ")}${found.reasons.length > 3 ? " …" : ""} (${found.reasons.length})`);
  // The popover hangs below the tile that WebDriver scrolled to the viewport's bottom edge.
  await js(() => document.querySelector('[data-testid="why"]').scrollIntoView({ block: "end" }));
  await screenshot("real-product.png");
});

step("compare two runs: both columns", async () => {
  await click('[data-testid="tab-compare"]');
  const cols = await waitFor("both compare columns", () => js(() => {
    const a = document.querySelectorAll('[data-testid="compare-a"] [data-testid="tile"]').length;
    const b = document.querySelectorAll('[data-testid="compare-b"] [data-testid="tile"]').length;
    const j = document.querySelector('[data-testid="jaccard"]');
    return a && b ? { a, b, jaccard: j ? j.textContent : null } : null;
  }), 120_000);
  log(`  A ${cols.a} tiles, B ${cols.b} tiles, Jaccard ${cols.jaccard}`);
  await screenshot("real-compare.png");
});

step("control room: start, live charts, stop", async () => {
  await click('[data-testid="tab-control"]');
  // 2 simulated days a second (of the form's 28 days): Stop lands while it still runs.
  const speed = await one("#control-speed");
  await wd("POST", s(`/element/${speed}/clear`), {});
  await wd("POST", s(`/element/${speed}/value`), { text: "2" });
  await click('[data-testid="control-start"]');
  // Two series (A, B) a chart: 36 points are 18 days.
  const pts = await waitFor("day points on both charts", () => js(() => {
    const n = (id) => Number((document.querySelector(`[data-testid="${id}"]`) || { dataset: {} }).dataset.points || 0);
    const c = n("chart-conversion"), r = n("chart-revenue");
    return c >= 36 && r >= 36 ? { c, r } : null;
  }), 120_000);
  log(`  ${pts.c} conversion points, ${pts.r} revenue points`);
  await screenshot("real-control-room.png");
  const running = await js(() => !document.querySelector('[data-testid="control-stop"]').disabled);
  check(running, "the simulation still runs when Stop is clicked (Stop is enabled)");
  await click('[data-testid="control-stop"]');
  const done = await waitFor("the simulation's end", async () => {
    const els = await find('[data-testid="control-done"]');
    return els.length ? wd("GET", s(`/element/${els[0]}/text`)) : null;
  }, 60_000);
  check(/^Simulation \S+ stored, \d+ days \(stopped\)/.test(done), `the control room reports the stopped simulation: ${done}`);
  log(`  ${done}`);
});

step("no script error in the page", async () => {
  const errors = await js(() => window.__realAppErrors || []);
  check(errors.length === 0, `no uncaught error or rejection: ${JSON.stringify(errors)}`);
});

// ---- run -----------------------------------------------------------------------------------

let failed = null;
try {
  for (const [i, { name, fn }] of steps.entries()) {
    log(`${i + 1}/${steps.length} ${name}`);
    try {
      await fn();
    } catch (e) {
      failed = `step ${i + 1} "${name}": ${e.message}`;
      break;
    }
  }
} finally {
  if (session) {
    if (failed && SHOTS) await screenshot("real-failure.png").catch(() => {});
    await wd("DELETE", `/session/${session}`, undefined, 30_000).then(
      () => log("session deleted"),
      (e) => log(`deleting the session failed: ${e.message}`),
    );
  }
}
if (failed) {
  console.error(`[real-app] FAILED ${failed}`);
  process.exitCode = 1;
} else {
  log(`passed: ${steps.length} steps`);
}
