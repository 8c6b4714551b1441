// The review page: every evaluated sample with truth and prediction overlaid (TP/FP/FN), filters, sorting, paging.
"use strict";

const R = { offset: 0, limit: 24, total: 0 };
const $ = (id) => document.getElementById(id);
const COLORS = { tp: "#1a8a3a", fp: "#d2691e", fn: "#c2185b" };

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
  try { page = await api(`/api/review?${query()}`); } catch (e) { $("error").textContent = String(e.message); return; }
  R.total = page.total;
  const m = page.metrics, o = page.overall;
  $("summary").textContent = `${page.total} of ${page.all} samples shown · P ${m.precision} R ${m.recall} F1 ${m.f1}` +
    ` · all: F1 ${o.f1.toFixed(3)}, sample accuracy ${o.sample_accuracy.toFixed(3)}`;
  $("pageinfo").textContent = ` ${page.total ? R.offset + 1 : 0}–${Math.min(R.offset + R.limit, page.total)} of ${page.total} `;
  const fam = $("family");
  if (fam.options.length === 1) for (const f of page.families) fam.append(el("option", { value: f }, f));
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
       row.family ? el("span", {}, row.family) : "", row.error ? el("span", { class: "perr" }, `error: ${row.error}`) : ""),
    canvas, pre);
  api(`/api/review/sample/${row.n}`).then((d) => {
    pre.textContent = d.text ?? "(no model text)";
    if (d.has_image) drawImage(canvas, d); else if (d.has_cv) drawCV(canvas, d); else canvas.remove();
  }).catch((e) => { pre.textContent = String(e.message); });
  return div;
}

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
    canvas.style.height = `${h}px`;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.drawImage(img, 0, 0, w, h);
    for (const [p, role, kind] of roles(d)) {
      if (p.x === undefined || p.y === undefined) continue;
      drawMarker(ctx, p.x * w, p.y * h, { shape: "circle", size: kind === "truth" ? 7 : 3.5, color: COLORS[role],
                                          filled: kind === "pred" });
    }
    canvas.dataset.drawn = "1";
  };
  img.src = `/api/review/image/${d.n}`;
}

async function drawCV(canvas, d) {
  const cv = await api(`/api/review/cv/${d.n}`);
  const plot = new Plot(canvas, { xlabel: "E", xUnit: "V", ylabel: cv.quantity === "j" ? "j" : "I", yUnit: cv.unit });
  plot.setData(cv.sweeps.map((s) => ({ x: s.E, y: s.I, color: "#555", width: 1 })));
  const marks = [];
  for (const [p, role, kind] of roles(d)) {
    if (p.potential === undefined) continue;
    const y = p.current ?? 0;
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
$("prevpage").onclick = () => { R.offset = Math.max(0, R.offset - R.limit); load(); };
$("nextpage").onclick = () => { if (R.offset + R.limit < R.total) { R.offset += R.limit; load(); } };
load();
