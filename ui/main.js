// The demo page: one engine command, `workspace_summary`, rendered as cards, bars and a table.
const fmt = new Intl.NumberFormat("en-US");

function show(summary) {
  document.getElementById("path").textContent = summary.path;
  document.getElementById("events").textContent = fmt.format(summary.events);
  document.getElementById("users").textContent = fmt.format(summary.users);
  document.getElementById("items").textContent = fmt.format(summary.items);
  document.getElementById("conversion").textContent =
    summary.viewToPurchase == null ? "–" : (summary.viewToPurchase * 100).toFixed(2) + " %";
  document.getElementById("range").textContent =
    summary.firstEvent ? `from ${summary.firstEvent} to ${summary.lastEvent}` : "";
  const max = Math.max(1, ...summary.byType.map((t) => t.events));
  const bars = document.getElementById("bytype");
  bars.replaceChildren(
    ...summary.byType.map((t) => {
      const row = document.createElement("div");
      row.className = "bar";
      const name = document.createElement("span");
      name.textContent = t.eventType;
      const fill = document.createElement("i");
      fill.style.width = `${(100 * t.events) / max}%`;
      const n = document.createElement("b");
      n.textContent = fmt.format(t.events);
      row.append(name, fill, n);
      return row;
    }),
  );
  const body = document.querySelector("#tables tbody");
  body.replaceChildren(
    ...summary.tables.map((t) => {
      const tr = document.createElement("tr");
      tr.innerHTML = "<td></td><td></td>";
      tr.children[0].textContent = t.table;
      tr.children[1].textContent = fmt.format(t.rows);
      return tr;
    }),
  );
}

function fail(err) {
  const el = document.getElementById("error");
  el.hidden = false;
  // Errors arrive as { code, message }.
  el.textContent = err && err.code === "not_found" ? `No workspace: ${err.message}` : `Error: ${err.message || err}`;
}

window.addEventListener("DOMContentLoaded", () => {
  if (!window.__TAURI__) {
    fail({ message: "this page runs inside the ShopLab demo app" });
    return;
  }
  window.__TAURI__.core.invoke("workspace_summary", {}).then(show, fail);
});
