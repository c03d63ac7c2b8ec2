// Product images are not in the data: each category gets a drawn placeholder, a tile in the
// category's hue with a simple line glyph of its last segment (or its initial) and the word.
import { s, categoryLabel } from "./dom.js";

// Glyphs on a 100×100 grid, stroked: [tag, attributes].
const R = (x, y, w, hh, rx = 4) => ["rect", { x, y, width: w, height: hh, rx }];
const P = (d) => ["path", { d }];
const C = (cx, cy, r) => ["circle", { cx, cy, r }];
const GLYPHS = {
  sofa: [R(26, 28, 48, 20), R(20, 46, 60, 16), R(13, 38, 11, 26), R(76, 38, 11, 26), P("M22 64v7M78 64v7")],
  headphone: [P("M27 58V48a23 23 0 0 1 46 0v10"), R(21, 54, 12, 20), R(67, 54, 12, 20)],
  kettle: [P("M31 72l5-31h28l5 31z"), P("M40 41q10-11 20 0"), P("M64 45q17 5 3 21"), P("M34 51l-13-8")],
  smartphone: [R(36, 18, 28, 56, 6), P("M46 67h8")],
  tablet: [R(26, 22, 48, 58, 6), P("M46 72h8")],
  tv: [R(18, 24, 64, 40, 4), P("M50 64v8M38 73h24")],
  notebook: [R(28, 26, 44, 30, 3), P("M18 64h64l-5 7H23z")],
  desktop: [R(22, 22, 56, 36, 3), P("M50 58v10M38 70h24")],
  refrigerators: [R(33, 16, 34, 62, 5), P("M33 38h34M40 25v7M40 45v10")],
  washer: [R(27, 20, 46, 58, 5), C(50, 53, 13), P("M27 32h46M36 26h6")],
  vacuum: [P("M42 22q16 0 16 16v24"), R(34, 60, 32, 12, 6), P("M42 22h-8")],
  shoes: [P("M18 64V47q11 0 17-8l12 10q15 5 29 7q7 2 5 8z"), P("M18 64h63")],
  bag: [R(25, 40, 50, 34, 6), P("M38 40v-6a12 12 0 0 1 24 0v6")],
  bicycle: [C(29, 60, 13), C(71, 60, 13), P("M29 60l12-20h20l10 20M41 40l9 20 11-20M38 34h9")],
  clocks: [C(50, 47, 25), P("M50 32v15l10 7")],
  drill: [P("M24 36h38v14H24z"), P("M62 40h16M36 50l-4 22h12l4-22")],
  player: [R(22, 32, 56, 32, 4), C(38, 48, 7), P("M54 44h16M54 52h12")],
  toys: [C(50, 36, 10), R(36, 48, 28, 22, 8), C(40, 30, 4), C(60, 30, 4)],
};
const ALIASES = {
  couch: "sofa", headphones: "headphone", earphones: "headphone", phone: "smartphone",
  television: "tv", laptop: "notebook", computer: "desktop", monitor: "desktop",
  refrigerator: "refrigerators", fridge: "refrigerators", washing_machine: "washer",
  shoe: "shoes", sneakers: "shoes", bags: "bag", bike: "bicycle", clock: "clocks",
  watch: "clocks", vacuum_cleaner: "vacuum", toy: "toys",
};

/** The placeholder image of a product of `category` (an <svg>, square, scales with its box). */
export function placeholder(category, hue = 210) {
  const word = (category || "").split(".").pop();
  const glyph = GLYPHS[word] || GLYPHS[ALIASES[word]];
  const ink = `hsl(${hue} 42% 34%)`;
  const id = `g${Math.random().toString(36).slice(2, 9)}`;
  const art = glyph
    ? s("g", { fill: "none", stroke: ink, "stroke-width": 3.6, "stroke-linecap": "round", "stroke-linejoin": "round",
        transform: "translate(10 6) scale(0.8)" },
        glyph.map(([tag, attrs]) => s(tag, attrs)))
    : s("text", { x: 50, y: 56, "text-anchor": "middle", "font-size": 34, "font-weight": 650, fill: ink },
        categoryLabel(category).charAt(0) || "?");
  // Square, drawn to fill any box (slice): what matters stays within y 14..86.
  return s("svg", { viewBox: "0 0 100 100", preserveAspectRatio: "xMidYMid slice", class: "art", role: "img", "aria-label": categoryLabel(category) },
    s("defs", {}, s("linearGradient", { id, x1: 0, y1: 0, x2: 1, y2: 1 },
      s("stop", { offset: "0", "stop-color": `hsl(${hue} 70% 95%)` }),
      s("stop", { offset: "1", "stop-color": `hsl(${hue} 58% 85%)` }))),
    s("rect", { width: 100, height: 100, fill: `url(#${id})` }),
    s("circle", { cx: 50, cy: 44, r: 27, fill: `hsl(${hue} 80% 98% / 0.55)` }),
    art,
    s("text", { x: 50, y: 83, "text-anchor": "middle", "font-size": 6.5, "letter-spacing": 0.8, fill: ink, opacity: 0.8 },
      categoryLabel(category).toUpperCase()));
}
