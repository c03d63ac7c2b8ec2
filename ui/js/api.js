// The app's commands (Tauri IPC) and the error banner. Errors are { code, message }: the UI
// branches on code only and shows message.
import { h, $ } from "./dom.js";

export function invoke(cmd, args = {}) {
  const tauri = window.__TAURI__;
  if (!tauri || !tauri.core) {
    return Promise.reject({ code: "internal", message: "This page runs inside the ShopLab demo app: no app to ask here." });
  }
  return tauri.core.invoke(cmd, args).catch((e) => {
    throw e && typeof e === "object" && e.code ? e : { code: "internal", message: String((e && e.message) || e) };
  });
}

export function channel(onmessage) {
  const ch = new window.__TAURI__.core.Channel();
  ch.onmessage = onmessage;
  return ch;
}

let openWorkspace = () => {};
export function onOpenWorkspace(fn) {
  openWorkspace = fn;
}

/** Shows an error in the dismissable banner (ignores `superseded`: a newer request is on its way). */
export function showError(err) {
  if (!err || err.code === "superseded") return;
  const banner = $("#banner");
  const hint =
    err.code === "no_workspace"
      ? h("button", { class: "btn btn-small", onclick: () => { hideBanner(); openWorkspace(); } }, "Open workspace…")
      : null;
  banner.className = "banner banner-error";
  banner.replaceChildren(
    h("span", { class: "banner-icon", "aria-hidden": "true" }, "!"),
    h("span", { class: "banner-text" }, err.message || "Something went wrong."),
    hint,
    h("button", { class: "banner-close", "aria-label": "Dismiss", onclick: hideBanner }, "×"),
  );
  banner.hidden = false;
}

/** A note that is not an error (a workspace migrated on opening, a finished simulation). */
export function showNote(text) {
  const banner = $("#banner");
  banner.className = "banner banner-note";
  banner.replaceChildren(
    h("span", { class: "banner-icon", "aria-hidden": "true" }, "i"),
    h("span", { class: "banner-text" }, text),
    h("button", { class: "banner-close", "aria-label": "Dismiss", onclick: hideBanner }, "×"),
  );
  banner.hidden = false;
}

export function hideBanner() {
  $("#banner").hidden = true;
}
