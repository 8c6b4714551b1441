// The review page: every evaluated sample with truth and prediction overlaid (TP/FP/FN), filters, sorting, paging.
"use strict";

const R = { offset: 0, limit: 24, total: 0 };
const $ = (id) => document.getElementById(id);
const COLORS = { tp: "#1a8a3a", fp: "#d2691e", fn: "#c2185b" };

function fromUrl() {
  // The filters of a shared or reloaded link.
  const q = new URLSearchParams(location.search);
  for (const box of document.querySelectorAll("input[name=filter]")) box.checked = q.getAll("filter").includes(box.value);
  for (const id of ["source", "peaks", "sort"]) if (q.has(id)) $(id).value = q.get(id);
  if (q.has("family")) {  // the families arrive with the first page; this one is needed now
    $("family").append(el("option", { value: q.get("family") }, q.get("family")));
    $("family").value = q.get("family");
  }
  R.offset = Number(q.get("offset")) || 0;
}

function query() {
  const q = new URLSearchParams();
  for (const box of document.querySelectorAll("input[name=filter]:checked")) q.append("filter", box.value);
  if ($("source").value) q.set("source", $("source").value);
  if ($("peaks").value !== "") q.set("peaks", $("peaks").value);
  if ($("family").value) q.set("family", $("family").value);
  q.set("sort", $("sort").value);
  q.set("offset", R.offset); q.set("limit", R.limit);
  return q;
}

async function load() {
  $("error").textContent = "";
  let page;
  const q = query();
  history.replaceState(null, "", `/review?${q}`);
  try { page = await api(`/api/review?${q}`); } catch (e) { $("error").textContent = String(e.message); return; }
  R.total = page.total;
  const m = page.metrics, o = page.overall;
  const all = ` · all: F1 ${o.f1.toFixed(3)}, sample accuracy ${o.sample_accuracy.toFixed(3)}`;
  $("summary").textContent = page.total ? `${page.total} of ${page.all} samples shown · P ${m.precision} R ${m.recall}` +
    ` F1 ${m.f1}${all}` : `no samples match these filters (of ${page.all})${all}`;
  $("pageinfo").textContent = ` ${page.total ? R.offset + 1 : 0}–${Math.min(R.offset + R.limit, page.total)} of ${page.total} `;
  const fam = $("family"), have = new Set([...fam.options].map((o) => o.value));
  for (const f of page.families) if (!have.has(f)) fam.append(el("option", { value: f }, f));
  $("slices").replaceChildren(...Object.entries(page.slices).map(([name, rows]) => el("table", {},
    el("thead", {}, el("tr", {}, el("th", {}, name), el("th", {}, "n"), el("th", {}, "P"), el("th", {}, "R"),
                       el("th", {}, "F1"))),
    el("tbody", {}, ...rows.map((r) => el("tr", {}, el("td", {}, r.slice), el("td", {}, r.samples),
                                         el("td", {}, r.precision), el("td", {}, r.recall), el("td", {}, r.f1)))))));
  const box = $("samples");
  box.replaceChildren(...page.rows.map(card));
  window.voltpeakReview = page.rows.map((r) => r.source);
}

function card(row) {
  const canvas = el("canvas", {});
  const pre = el("pre", {});
  const div = el("div", { class: "sample", "data-source": row.source },
    el("div", { class: "src" }, row.source),
    el("div", { class: "meta" }, el("span", { class: "tp" }, `TP ${row.tp}`), el("span", { class: "fp" }, `FP ${row.fp}`),
       el("span", { class: "fn" }, `FN ${row.fn}`), el("span", {}, `truth ${row.n_true} · predicted ${row.n_pred}`),
       row.family ? el("span", {}, row.family) : "", row.error ? el("span", { class: "perr" }, `error: ${row.error}`) : "",
       row.direction ? el("span", { class: "perr" }, `${row.direction} found in place, wrong direction`) : ""),
    canvas, el("div", { class: "axes" }), pre);
  api(`/api/review/sample/${row.n}`).then((d) => {
    pre.textContent = d.text ?? "(no model text)";
    div.querySelector(".axes").replaceChildren(...axesLines(d));
    if (d.has_image) drawImage(canvas, d); else if (d.has_cv) drawCV(canvas, d); else canvas.remove();
    canvas.title = "details";
    canvas.onclick = () => detail(d);
  }).catch((e) => { pre.textContent = String(e.message); });
  return div;
}

function detail(d) {
  // One sample at full width: its plot with the overlays, every peak in a table (truth and prediction, their
  // role), the axis reading and the model's raw text. Escape or the close button returns to the grid.
  const canvas = el("canvas", { class: "big" });
  const rows = roles(d).map(([p, role, kind]) => el("tr", { class: role },
    el("td", {}, kind), el("td", {}, role.toUpperCase()), el("td", {}, p.direction === "anodic" ? "▲ anodic" : "▼ cathodic"),
    el("td", {}, p.x === undefined ? "" : p.x.toFixed(4)), el("td", {}, p.y === undefined ? "" : p.y.toFixed(4)),
    el("td", {}, p.potential === undefined || p.potential === null ? "" : `${(p.potential * 1000).toFixed(1)} mV`),
    el("td", {}, p.current === undefined || p.current === null ? "" : withUnit(p.current, d.quantity === "j" ? "A/m²" : "A"))));
  const box = el("div", { id: "detail", class: "detail" },
    el("div", { class: "bar" }, el("b", {}, d.source), el("button", { id: "close", onclick: closeDetail }, "close (Esc)")),
    canvas,
    el("table", {}, el("thead", {}, el("tr", {}, ...["", "role", "direction", "x", "y", "E", "I"].map((h) => el("th", {}, h)))),
       el("tbody", {}, ...rows)),
    el("div", { class: "axes" }, ...axesLines(d)),
    el("pre", {}, d.text ?? "(no model text)"));
  closeDetail();
  document.body.append(box);
  if (d.has_image) drawImage(canvas, d); else if (d.has_cv) drawCV(canvas, d); else canvas.remove();
}

function closeDetail() { $("detail")?.remove(); }
document.addEventListener("keydown", (e) => { if (e.key === "Escape") closeDetail(); });

function roles(d) {
  // [record, role, kind] for every truth and prediction of the sample.
  const out = [], tpPred = new Set(d.match.tp.map((p) => p[0])), tpTrue = new Set(d.match.tp.map((p) => p[1]));
  d.truth.forEach((p, j) => out.push([p, tpTrue.has(j) ? "tp" : "fn", "truth"]));
  d.pred.forEach((p, i) => out.push([p, tpPred.has(i) ? "tp" : "fp", "pred"]));
  return out;
}

function drawImage(canvas, d) {
  const img = new Image();
  img.onload = () => {
    const w = canvas.clientWidth || 320, h = w * img.height / img.width;
    const ctx = sizedContext(canvas, w, h);
    ctx.drawImage(img, 0, 0, w, h);
    if (d.axes) drawAxes(ctx, d.axes, w / img.width);
    ctx.font = "11px sans-serif";
    for (const [p, role, kind] of roles(d)) {
      if (p.x === undefined || p.y === undefined) continue;
      // ▲ anodic, ▼ cathodic: a peak found in place but called the wrong way shows it.
      drawMarker(ctx, p.x * w, p.y * h, { shape: p.direction === "anodic" ? "up" : "down",
                                          size: kind === "truth" ? 8 : 4.5, color: COLORS[role], filled: kind === "pred" });
      if (kind === "pred" && p.potential !== undefined) {
        ctx.fillStyle = COLORS[role];
        ctx.fillText(`${(p.potential * 1000).toFixed(0)} mV`, p.x * w + 6, p.y * h + (p.direction === "anodic" ? -6 : 14));
      }
    }
    canvas.dataset.drawn = "1";
  };
  img.src = `/api/review/image/${d.n}`;
}

function axesLines(d) {
  // The reading in words: quantity, unit and reference of each axis, the map's residual, the convention, couples.
  if (!d.axes) return [];
  const axis = (name, a) => {
    if (!a) return `${name}: not read`;
    const unit = a.unit ? `${a.quantity ?? ""} / ${a.unit}` : "no unit";
    const ref = a.reference ? ` vs ${a.reference}` : "";
    const fit = a.map ? `${a.labels.filter((l) => l.inlier).length} labels on the map, ±${a.map.residual_px} px`
                      : (a.scale === "log" ? "log scale" : "no map");
    return `${name}: ${unit}${ref} (${fit})`;
  };
  const lines = [el("div", {}, axis("x", d.axes.x)), el("div", {}, axis("y", d.axes.y))];
  if (d.convention) lines.push(el("div", {}, `convention: ${d.convention === "us" ? "US (potential decreasing to the right)" : "IUPAC"}`));
  for (const c of d.couples) {
    if (c.E_half != null) lines.push(el("div", {}, `couple: E1/2 ${(c.E_half * 1000).toFixed(0)} mV, ΔEp ${(c.delta_Ep * 1000).toFixed(0)} mV`));
  }
  if (d.warning) lines.push(el("div", { class: "perr" }, `warning: ${d.warning}`));
  return lines;
}

function withUnit(value, unit) {
  // 1.23e-5 A → "12.3 µA": the unit always said, with the prefix that keeps the number readable.
  const [f, prefix] = siScale(Math.abs(value) || 1);
  return `${(value / f).toPrecision(3)} ${prefix}${unit}`;
}

function onCurve(cv, p) {
  // The current of the CV's nearest sample to a peak's potential on a sweep of its direction (and cycle): where a
  // label that gives no current is drawn; null where the CV has no such sweep.
  const want = p.direction === "anodic" ? 1 : -1;
  let best = null;
  for (const s of cv.sweeps) {
    if (s.direction !== want || (p.cycle !== undefined && p.cycle !== null && s.cycle !== p.cycle)) continue;
    s.E.forEach((e, i) => {
      const gap = Math.abs(e - p.potential);
      if (best === null || gap < best[0]) best = [gap, s.I[i]];
    });
  }
  return best === null ? null : best[1];
}

async function drawCV(canvas, d) {
  const cv = await api(`/api/review/cv/${d.n}`);
  const plot = new Plot(canvas, { xlabel: "E", xUnit: "V", ylabel: cv.quantity === "j" ? "j" : "I", yUnit: cv.unit });
  plot.setData(cv.sweeps.map((s) => ({ x: s.E, y: s.I, color: "#555", width: 1 })));
  const marks = [];
  for (const [p, role, kind] of roles(d)) {
    if (p.potential === undefined) continue;
    const y = p.current ?? onCurve(cv, p);  // a label given by its potential alone sits on the CV
    if (y === null) continue;
    marks.push({ x: p.potential, y, shape: p.direction === "anodic" ? "up" : "down", color: COLORS[role],
                 filled: kind === "pred", size: kind === "truth" ? 8 : 5 });
  }
  plot.setMarkers(marks);
  canvas.dataset.drawn = "1";
}

for (const input of document.querySelectorAll(".filters input, .filters select")) {
  input.addEventListener("change", () => { R.offset = 0; load(); });
}
$("source").addEventListener("input", () => { R.offset = 0; load(); });
fromUrl();
$("prevpage").onclick = () => { R.offset = Math.max(0, R.offset - R.limit); load(); };
$("nextpage").onclick = () => { if (R.offset + R.limit < R.total) { R.offset += R.limit; load(); } };
load();
