// Small DOM helpers and number formats shared by the storefront's modules.

/** An HTML element: h("div", {class: "x", "data-testid": "y", onclick: fn}, child, "text", ...). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  el.append(...children.flat().filter((c) => c != null && c !== false));
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element, same calling convention as h(). */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  el.append(...children.flat().filter((c) => c != null && c !== false));
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs)) {
    if (v == null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else if (k === "style" && typeof v === "object") Object.assign(el.style, v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
}

export function $(sel, root = document) {
  return root.querySelector(sel);
}

const money2 = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
const int = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

export const money = (x) => (x == null ? "–" : money2.format(x));
export const count = (x) => (x == null ? "–" : int.format(x));
export const pct = (x, digits = 1) => (x == null ? "–" : `${(x * 100).toFixed(digits)} %`);
export const fixed = (x, digits = 3) => (x == null ? "–" : x.toFixed(digits));

/** A score of any scale: counts as integers, model scores with 3 digits. */
export function score(x) {
  if (x == null) return "–";
  const a = Math.abs(x);
  if (Number.isInteger(x) || a >= 100) return int.format(x);
  return a >= 10 ? x.toFixed(1) : x.toFixed(3);
}

/** "furniture.living_room.sofa" → "Sofa". */
export function categoryLabel(name) {
  const last = (name || "").split(".").pop().replace(/_/g, " ");
  return last.charAt(0).toUpperCase() + last.slice(1);
}

/** "furniture.living_room.sofa" → "furniture › living room › sofa". */
export function categoryPath(name) {
  return (name || "").split(".").map((p) => p.replace(/_/g, " ")).join(" › ");
}

/** "2019-11-20T19:02:11Z" → "20 Nov 2019". */
export function shortDate(t) {
  if (!t) return "";
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? t : d.toLocaleDateString("en-GB", { day: "numeric", month: "short", year: "numeric" });
}
