// A tiny static server for ui/ on 127.0.0.1 and a random port, with the app's CSP (tauri.conf.json's
// app.security.csp) as the Content-Security-Policy header.
//   import { serve } from "./serve.mjs"; const s = await serve(); ... s.url ... await s.close();
// By hand, for working on the UI offline with the fixture answering the commands:
//   node tests/ui/serve.mjs --mock tests/ui/fixtures/sample.json
// (with --mock, index.html also loads /__mock.js: the fixture and mock-tauri.js).
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL(".", import.meta.url));
export const repoRoot = resolve(here, "..", "..");
export const uiRoot = join(repoRoot, "ui");

export function appCsp() {
  const conf = JSON.parse(readFileSync(join(repoRoot, "tauri.conf.json"), "utf8"));
  return conf.app.security.csp;
}

/** The init script of a page: the fixture, then the mock of the Tauri IPC. */
export function mockScript(fixtureText) {
  JSON.parse(fixtureText); // fail early on a broken fixture
  const mock = readFileSync(join(here, "mock-tauri.js"), "utf8");
  return `window.__SHOPLAB_FIXTURES__ = ${fixtureText};\n${mock}`;
}

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".json": "application/json",
  ".png": "image/png",
};

export function serve({ root = uiRoot, csp = appCsp(), mock = null } = {}) {
  const server = createServer(async (req, res) => {
    const headers = { "Content-Security-Policy": csp, "Cache-Control": "no-store" };
    try {
      let path = decodeURIComponent(new URL(req.url, "http://localhost").pathname);
      if (mock && path === "/__mock.js") {
        res.writeHead(200, { ...headers, "Content-Type": TYPES[".js"] });
        res.end(mock);
        return;
      }
      if (path.endsWith("/")) path += "index.html";
      const file = normalize(join(root, path));
      if (file !== root && !file.startsWith(root + sep)) throw Object.assign(new Error("outside"), { code: "ENOENT" });
      let body = await readFile(file);
      if (mock && file === join(root, "index.html")) {
        body = body.toString().replace("<head>", '<head>\n  <script src="__mock.js"></script>');
      }
      res.writeHead(200, { ...headers, "Content-Type": TYPES[extname(file)] || "application/octet-stream" });
      res.end(body);
    } catch (e) {
      res.writeHead(e.code === "ENOENT" || e.code === "EISDIR" ? 404 : 500, headers);
      res.end();
    }
  });
  return new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      ok({ url: `http://127.0.0.1:${port}/`, close: () => new Promise((done) => server.close(done)) });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf("--mock");
  const mock = i > 0 ? mockScript(readFileSync(process.argv[i + 1], "utf8")) : null;
  const s = await serve({ mock });
  console.log(`serving ui/ at ${s.url}${mock ? " (with the fixture's mock IPC)" : ""}; Ctrl-C stops`);
}
