// The Tauri IPC as the storefront sees it (window.__TAURI__.core.invoke and Channel), answered
// from a fixture file. Injected before the page loads (page.addInitScript), after the line
// `window.__SHOPLAB_FIXTURES__ = {calls: [...]}`. Every call is recorded in window.__fixtureCalls;
// a call with no exact fixture (cmd + deep-equal args, Channel args left out) is answered with the
// last fixture of its cmd and recorded in window.__fixtureMisses.
(() => {
  const fixtures = (window.__SHOPLAB_FIXTURES__ && window.__SHOPLAB_FIXTURES__.calls) || [];
  const used = new Set();
  window.__fixtureCalls = [];
  window.__fixtureMisses = [];
  const ANSWER_MS = 5;
  // Channel messages every 20 ms, slower for short streams: a stream lasts about 1.5 s.
  const channelMs = (n) => Math.max(20, Math.round(1500 / Math.max(1, n)));

  let nextChannel = 1;
  class Channel {
    constructor() {
      this.id = nextChannel++;
      this.onmessage = () => {};
    }
    toJSON() {
      return `__CHANNEL__:${this.id}`;
    }
  }

  function equal(a, b) {
    if (a === b) return true;
    if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    if (Array.isArray(a)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && equal(a[k], b[k]));
  }
  const clone = (x) => (x === undefined ? undefined : JSON.parse(JSON.stringify(x)));

  let running = null; // the control room's run in flight: { stop() }

  function invoke(cmd, args = {}) {
    const channels = {};
    const plain = {};
    for (const [k, v] of Object.entries(args || {})) {
      if (v instanceof Channel) channels[k] = v;
      else plain[k] = clone(v);
    }
    window.__fixtureCalls.push({ cmd, args: plain });
    const same = fixtures.map((f, i) => [f, i]).filter(([f]) => f.cmd === cmd);
    let hit = same.find(([f, i]) => !used.has(i) && equal(f.args, plain)) || same.find(([f]) => equal(f.args, plain));
    if (!hit) {
      window.__fixtureMisses.push({ cmd, args: plain });
      hit = same[same.length - 1];
    }
    if (!hit) {
      return new Promise((_, reject) =>
        setTimeout(() => reject({ code: "internal", message: `no fixture for ${cmd}` }), ANSWER_MS),
      );
    }
    const [f, i] = hit;
    used.add(i);
    if (cmd === "control_room_stop" && running) running.stop();
    return new Promise((resolve, reject) => {
      const answer = () => (f.err ? reject(clone(f.err)) : resolve(clone(f.ok)));
      const channel = f.channel && channels[f.channel.arg];
      if (!channel) {
        setTimeout(answer, ANSWER_MS);
        return;
      }
      // Stream the channel's messages on a timer, then answer; control_room_stop ends the
      // stream early (the answer is the fixture's all the same).
      const messages = f.channel.messages || [];
      let next = 0;
      const timer = setInterval(() => {
        if (next < messages.length) {
          channel.onmessage(clone(messages[next++]));
          return;
        }
        finish();
      }, channelMs(messages.length));
      const finish = () => {
        clearInterval(timer);
        if (running === run) running = null;
        setTimeout(answer, ANSWER_MS);
      };
      const run = { stop: finish };
      running = run;
    });
  }

  window.__TAURI__ = { core: { invoke, Channel } };
})();
