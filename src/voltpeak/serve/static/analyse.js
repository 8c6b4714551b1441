// The analysis page: drop a CV file or a plot image; a CV gets voltpeak detect's analysis (corrections as form
// fields, downloads, send to label), a figure the model's peaks with the axes read or set by hand.
"use strict";

const A = { uploads: [], open: null, limit: 25 * 2 ** 20, seq: 0, models: null, image: null, fig: null,
            hand: { points: [null, null, null, null], active: 0 } };
const $ = (id) => document.getElementById(id);
const COUPLE = "#2ca02c";
const PEAK = { anodic: "#d62728", cathodic: "#1f77b4" };
const POINTS = ["x₁", "x₂", "y₁", "y₂"];
const EXPORTS = ["csv", "xlsx", "png", "svg", "jsonl"];  // the download links, dl-<format>
// One colour per cycle, none of them the peaks' red and blue.
const CYCLES = ["#555555", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#bcbd22", "#e377c2", "#2f4f4f"];

function showError(e) { $("error").textContent = e ? String(e.message || e).split("\n")[0] : ""; }

function megabytes(n) { return `${(n / 2 ** 20).toFixed(n < 10 * 2 ** 20 ? 1 : 0)} MB`; }

// Uploads ---------------------------------------------------------------------------------------------------------

function groups(files) {
  // One upload per CV or image; an echemdb package's .json goes with the .csv of its name (or the only .csv).
  const list = [...files], json = list.filter((f) => /\.json$/i.test(f.name));
  const csv = list.filter((f) => /\.csv$/i.test(f.name)), out = [], used = new Set();
  for (const j of json) {
    const stem = j.name.replace(/\.json$/i, "");
    const mate = csv.find((c) => c.name.replace(/\.csv$/i, "") === stem) || (json.length === 1 && csv.length === 1 ? csv[0] : null);
    out.push(mate ? [j, mate] : [j]);
    used.add(j); if (mate) used.add(mate);
  }
  for (const f of list) if (!used.has(f)) out.push([f]);
  return out;
}

async function send(files) {
  showError(null);
  let last = null;
  for (const group of groups(files)) {
    const big = group.find((f) => f.size > A.limit);
    if (big) { showError(`${big.name} is ${megabytes(big.size)}: over the ${megabytes(A.limit)} limit a file`); continue; }
    const form = new FormData();
    for (const f of group) form.append("file", f, f.name);
    $("drop").classList.add("busy");
    try {
      const r = await fetch("/api/analyse/upload", { method: "POST", body: form });
      const reply = await r.json().catch(() => ({ detail: `${r.status} ${r.statusText}` }));
      if (!r.ok) { showError(reply.detail || `${r.status}`); continue; }
      A.uploads.push(reply);
      last = reply;
    } catch (e) { showError(e); } finally { $("drop").classList.remove("busy"); }
  }
  renderUploads();
  if (last) openUpload(last.id);
}

function renderUploads() {
  $("uploads").replaceChildren(...A.uploads.map((u) => el("span", { class: `chip${A.open && A.open.id === u.id ? " here" : ""}` },
    el("button", { class: "open", title: `open ${u.name}`, onclick: () => openUpload(u.id) },
       `${u.kind === "image" ? "figure" : "CV"}: ${u.name}`),
    el("button", { class: "remove", title: `remove ${u.name} from the server`, onclick: () => remove(u.id) }, "×"))));
  const blank = document.querySelector("[name=blank]"), keep = blank.value;
  blank.replaceChildren(el("option", { value: "" }, "none"), ...A.uploads
    .filter((u) => u.kind === "cv" && (!A.open || u.id !== A.open.id)).map((u) => el("option", { value: u.id }, u.name)));
  blank.value = [...blank.options].some((o) => o.value === keep) ? keep : "";
}

async function remove(id) {
  try { await api(`/api/analyse/uploads/${id}`, { method: "DELETE" }); } catch (e) { if (e.status !== 404) showError(e); }
  A.uploads = A.uploads.filter((u) => u.id !== id);
  if (A.open && A.open.id === id) { A.open = null; $("cv").hidden = true; $("figure").hidden = true; history.replaceState(null, "", "/analyse"); }
  renderUploads();
}

function openUpload(id) {
  const u = A.uploads.find((x) => x.id === id);
  if (!u) return;
  A.open = u;
  clearTimeout(typing);
  history.replaceState(null, "", `/analyse?upload=${encodeURIComponent(id)}`);
  $("cv").hidden = u.kind !== "cv";
  $("figure").hidden = u.kind !== "image";
  if (u.kind === "cv") {
    $("corrections").reset();
    $("cycle").replaceChildren(el("option", { value: "" }, "all"));
    $("sent").hidden = true; $("send").disabled = false;
    if (u.sent) showSent(u.sent);
    $("cv-name").textContent = u.name;
    renderUploads();
    analyse();
  } else {
    $("fig-name").textContent = u.name;
    A.hand = { points: [null, null, null, null], active: 0 };
    $("hand-panel").hidden = true; $("auto").hidden = true;
    renderUploads();
    figure(null);
  }
}

// A CV file ---------------------------------------------------------------------------------------------------------

const cvPlot = new Plot($("cvplot"), { xlabel: "E", xUnit: "V", ylabel: "I", yUnit: "A" });

function query() {
  const q = new URLSearchParams();
  for (const [k, v] of new FormData($("corrections"))) if (String(v).trim() !== "") q.set(k, String(v).trim());
  if ($("cycle").value) q.set("cycle", $("cycle").value);
  return q;
}

async function analyse() {
  // A field left after another upload was opened still sends its change: only a CV is analysed.
  if (!A.open || A.open.kind !== "cv") return;
  const u = A.open, q = query(), seq = ++A.seq, t0 = performance.now();
  $("cv-state").textContent = "analysing…";
  try {
    const r = await api(`/api/analyse/${u.id}/cv?${q}`);
    if (seq !== A.seq || A.open !== u) return;  // a newer request (or another file) has taken over
    showError(null);
    stale(false);
    drawAnalysis(r, q);
    $("cv-state").textContent = `${r.cv.points.toLocaleString("en")} points · analysed in ${Math.round(r.ms)} ms`;
    window.voltpeakAnalyse = { id: u.id, query: q.toString(), line: r.line, table: r.table, ms: performance.now() - t0,
                               server_ms: r.ms };
  } catch (e) {
    if (seq !== A.seq) return;
    showError(e);
    stale(true);
    $("cv-state").textContent = "not updated: the fields above do not give these results";
    window.voltpeakAnalyseError = { id: u.id, query: q.toString(), message: String(e.message) };
  }
}

// Results that no longer answer the fields shown are greyed out and cannot be downloaded (they would not be what the
// fields say) until an analysis succeeds again.
function stale(on) {
  for (const id of ["cvplot", "cv-key", "cv-head", "cv-table", "cv-notes"]) $(id).classList.toggle("stale", on);
  for (const fmt of EXPORTS) if (on) $(`dl-${fmt}`).removeAttribute("href");
}

function drawAnalysis(r, q) {
  const line = r.line, cv = r.cv;
  const cycle = $("cycle");
  if (cycle.options.length !== line.cycles + 1) {
    const keep = cycle.value;
    cycle.replaceChildren(el("option", { value: "" }, "all"));
    for (let c = 1; c <= line.cycles; c++) cycle.append(el("option", { value: String(c) }, `${c} of ${line.cycles}`));
    cycle.value = keep;
  }
  cvPlot.yUnit = cv.unit; cvPlot.ylabel = cv.quantity === "j" ? "j" : "I";
  cvPlot.xlabel = line.reference ? `E vs ${line.reference}` : "E";
  const want = Number($("cycle").value) || 0, many = cv.cycles > 1;
  const series = cv.sweeps.map((s) => ({ x: s.E, y: s.I, width: 1.1, pickable: false,
    color: want && s.cycle !== want ? "#d0d0d0" : many ? CYCLES[(s.cycle - 1) % CYCLES.length] : "#444" }));
  const span = Math.max(...cv.sweeps.map((s) => Math.max(...s.E))) - Math.min(...cv.sweeps.map((s) => Math.min(...s.E)));
  const half = 0.01 * span, markers = [];
  for (const p of line.peaks) {
    markers.push({ x: p.potential, y: p.current, shape: p.direction === "anodic" ? "up" : "down", color: PEAK[p.direction], filled: true });
    if (p.height === undefined || p.height === null) continue;
    const base = p.current - p.height;  // the baseline under the peak, as detect --plot draws it
    series.push({ x: [p.potential, p.potential], y: [base, p.current], color: PEAK[p.direction], width: 1, pickable: false });
    series.push({ x: [p.potential - half, p.potential + half], y: [base, base], color: PEAK[p.direction], width: 1, dash: [2, 2], pickable: false });
  }
  const ys = cv.sweeps.flatMap((s) => [Math.min(...s.I), Math.max(...s.I)]);
  const halves = [];
  for (const c of line.couples) {
    if (halves.some((e) => Math.abs(e - c.E_half) < 0.01)) continue;  // the same couple in another cycle
    halves.push(c.E_half);
    series.push({ x: [c.E_half, c.E_half], y: [Math.min(...ys), Math.max(...ys)], color: COUPLE, width: 1, dash: [5, 4], pickable: false });
  }
  cvPlot.couples = line.couples.filter((c, k) => halves.includes(c.E_half) && line.couples.findIndex((d) => d.E_half === c.E_half) === k);
  // The zoom stays while the numbers change, not when the potentials move (another reference, iR) or the file does.
  const shown = `${A.open.id} ${line.window}`;
  cvPlot.setData(series, A.shown === shown);
  cvPlot.setMarkers(markers);
  A.shown = shown;
  $("cv-key").replaceChildren(...(many ? cv.sweeps.filter((s, k) => cv.sweeps.findIndex((t) => t.cycle === s.cycle) === k)
    .map((s) => el("span", {}, el("span", { class: "swatch", style: `background: ${CYCLES[(s.cycle - 1) % CYCLES.length]}` }),
                   ` cycle ${s.cycle} `)) : []));
  $("cv-head").textContent = r.table.head;
  $("cv-table").tHead.replaceChildren(el("tr", {}, ...r.table.header.map((h) => el("th", {}, h))));
  $("cv-table").tBodies[0].replaceChildren(...r.table.rows.map((row) => el("tr", {}, ...row.map((c) => el("td", {}, c)))));
  $("cv-notes").replaceChildren(...r.table.notes.map((n) => el("li", {}, n)));
  for (const fmt of EXPORTS) $(`dl-${fmt}`).href = `/api/analyse/${A.open.id}/export/${fmt}?${q}`;
}

cvPlot.on("drawn", () => {
  // Each couple's E1/2 and ΔEp above its dashed line (text: the plot class draws none).
  const ctx = cvPlot.ctx;
  ctx.save(); ctx.font = "11px sans-serif"; ctx.fillStyle = COUPLE; ctx.textAlign = "center"; ctx.textBaseline = "top";
  for (const c of cvPlot.couples || []) {
    const [sx] = cvPlot.toScreen(c.E_half, 0);
    ctx.fillText(`${c.E_half.toFixed(3)} V, ΔEp ${(c.delta_Ep * 1000).toFixed(0)} mV`, sx, cvPlot.pad.top + 2);
  }
  ctx.restore();
});

let typing = null;
$("corrections").addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(analyse, 300); });
$("corrections").addEventListener("change", () => { clearTimeout(typing); analyse(); });
$("corrections").addEventListener("submit", (e) => { e.preventDefault(); analyse(); });
$("cycle").addEventListener("change", analyse);

function showSent(file) {
  const a = $("sent");
  a.href = `/label?file=${encodeURIComponent(file)}`;
  a.hidden = false;
  $("send").disabled = true;
  $("send").textContent = "sent to label";
}

$("send").addEventListener("click", async () => {
  const u = A.open;
  try {
    const r = await api(`/api/analyse/${u.id}/label`, { method: "POST" });
    u.sent = r.file;
    if (A.open === u) showSent(r.file);
  } catch (e) { showError(e); }
});

// A figure ----------------------------------------------------------------------------------------------------------

async function loadModels() {
  if (A.models) return;
  const r = await api("/api/analyse/models");
  A.models = r.models;
  $("model").replaceChildren(...r.models.map((m) => el("option", { value: m.name }, m.label)));
}

function handAxes() {
  const p = A.hand.points, v = [...document.querySelectorAll("#hand-points input")].map((i) => i.value.trim().replace(",", "."));
  return { x: [[p[0] && p[0].fx, v[0]], [p[1] && p[1].fx, v[1]]], x_unit: $("x-unit").value,
           y: [[p[2] && p[2].fy, v[2]], [p[3] && p[3].fy, v[3]]], y_unit: $("y-unit").value };
}

async function figure(axes) {
  const u = A.open, seq = ++A.seq, t0 = performance.now();
  $("fig-state").textContent = axes ? "mapping the peaks…" : "reading the figure…";
  try {
    await loadModels();
    if (!A.image || A.image.id !== u.id) A.image = await loadImage(u.id);
    const r = await api(`/api/analyse/${u.id}/figure`, { method: "POST", body: { model: $("model").value, axes } });
    if (seq !== A.seq || A.open !== u) return;
    showError(null);
    A.fig = r;
    drawFigure();
    describeFigure(r);
    $("auto").hidden = !r.hand;
    $("fig-state").textContent = `${r.peaks.length} peak${r.peaks.length === 1 ? "" : "s"} · ${Math.round(r.ms)} ms`;
    window.voltpeakFigure = { id: u.id, result: r, ms: performance.now() - t0, server_ms: r.ms };
  } catch (e) {
    if (seq !== A.seq) return;
    showError(e);
    $("fig-state").textContent = "";
    window.voltpeakFigureError = { id: u.id, message: String(e.message) };
  }
}

function loadImage(id) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve({ id, img });
    img.onerror = () => reject(new Error("the image could not be shown"));
    img.src = `/api/analyse/${id}/image`;
  });
}

function drawFigure() {
  const canvas = $("figplot"), r = A.fig, img = A.image && A.image.img;
  if (!r || !img) return;
  // Up to 1.5 times its own size (a small figure is not blown up to the page's width), within the page.
  const room = canvas.parentElement.clientWidth || 800, w = Math.min(room, 1.5 * img.width), h = w * img.height / img.width;
  canvas.style.width = `${w}px`;
  const ctx = sizedContext(canvas, w, h);
  ctx.drawImage(img, 0, 0, w, h);
  if (r.axes) drawAxes(ctx, r.axes, w / r.width);
  ctx.font = "12px sans-serif";
  r.peaks.forEach((p, k) => {
    drawMarker(ctx, p.x * w, p.y * h, { shape: p.direction === "anodic" ? "up" : "down", size: 7, color: PEAK[p.direction], filled: true });
    ctx.fillStyle = PEAK[p.direction];
    const text = `${k + 1}` + (p.potential === undefined ? "" : `: ${p.potential.toFixed(3)} V`);
    ctx.fillText(text, p.x * w + 8, p.y * h + (p.direction === "anodic" ? -8 : 16));
  });
  if (!$("hand-panel").hidden) {
    // The points given by hand: a line across the image through each (vertical for x, horizontal for y).
    ctx.strokeStyle = "#8e24aa"; ctx.fillStyle = "#8e24aa"; ctx.lineWidth = 1; ctx.setLineDash([3, 3]);
    A.hand.points.forEach((p, k) => {
      if (!p) return;
      ctx.beginPath();
      if (k < 2) { ctx.moveTo(p.fx * w, 0); ctx.lineTo(p.fx * w, h); } else { ctx.moveTo(0, p.fy * h); ctx.lineTo(w, p.fy * h); }
      ctx.stroke();
      ctx.fillText(POINTS[k], p.fx * w + 4, p.fy * h - 4);
    });
    ctx.setLineDash([]);
  }
  canvas.dataset.drawn = String((Number(canvas.dataset.drawn) || 0) + 1);
}

function withUnit(value, unit) {
  const [f, prefix] = siScale(Math.abs(value) || 1);
  return `${(value / f).toPrecision(4)} ${prefix}${unit}`;
}

function describeFigure(r) {
  const unit = r.peaks.some((p) => p.quantity === "j") ? "A/m²" : "A";
  $("fig-peaks").tBodies[0].replaceChildren(...r.peaks.map((p, k) => el("tr", {},
    el("td", {}, k + 1), el("td", {}, p.direction === "anodic" ? "▲ anodic" : "▼ cathodic"),
    el("td", {}, p.x.toFixed(3)), el("td", {}, p.y.toFixed(3)),
    el("td", {}, p.potential === undefined ? "—" : p.potential.toFixed(4)),
    el("td", {}, p.current === undefined ? "—" : withUnit(p.current, unit)),
    el("td", {}, p.score === undefined ? "" : p.score.toFixed(2)))));
  const axis = (name, a) => {
    if (!a) return `${name}: not read`;
    const what = a.unit ? `${a.quantity ?? ""} / ${a.unit}${a.reference ? ` vs ${a.reference}` : ""}` : "no unit read";
    const used = a.labels.filter((l) => l.inlier).map((l) => l.text);
    const how = r.hand ? "set by hand" : a.map ? `tick labels used: ${used.join(", ")} (±${a.map.residual_px} px)` : "not read";
    return `${name} axis: ${what}; ${how}`;
  };
  const lines = r.axes ? [axis("potential (x)", r.axes.x), axis("current (y)", r.axes.y)] : ["axes: not read"];
  if (r.convention) lines.push(`convention: ${r.convention === "us" ? "US (potential decreasing to the right)" : "IUPAC"}`);
  for (const c of r.couples) if (c.E_half != null) lines.push(`couple: E1/2 ${c.E_half.toFixed(3)} V, ΔEp ${(c.delta_Ep * 1000).toFixed(0)} mV`);
  lines.push(`model: ${r.model}`);
  $("fig-axes").replaceChildren(...lines.map((t) => el("div", {}, t)));
  $("fig-warnings").replaceChildren(...r.warnings.map((w) => el("li", {}, w)));
  if (r.warnings.some((w) => /not read|no potential|no plot frame/.test(w)) && $("hand-panel").hidden) {
    $("fig-warnings").append(el("li", { class: "hint" }, "set the axes by hand to give the peaks their potentials and currents"));
  }
}

function renderHand() {
  const rows = POINTS.map((name, k) => {
    const p = A.hand.points[k], input = el("input", { inputmode: "decimal", size: "8", "aria-label": `value at ${name}` });
    const old = document.querySelectorAll("#hand-points input")[k];
    if (old) input.value = old.value;
    const at = p ? (k < 2 ? `${(p.fx * 100).toFixed(1)} % across` : `${(p.fy * 100).toFixed(1)} % down`) : "not set";
    return el("tr", { class: A.hand.active === k ? "sel" : "" }, el("td", {}, name), el("td", {}, at),
      el("td", {}, "value ", input), el("td", {}, el("button", { onclick: () => { A.hand.active = k; renderHand(); } }, "pick")));
  });
  $("hand-points").replaceChildren(...rows);
}

$("hand").addEventListener("click", () => {
  $("hand-panel").hidden = !$("hand-panel").hidden;
  if (!$("hand-panel").hidden) renderHand();
  drawFigure();
});
$("figplot").addEventListener("click", (e) => {
  if ($("hand-panel").hidden || !A.fig) return;
  const box = $("figplot").getBoundingClientRect();
  A.hand.points[A.hand.active] = { fx: (e.clientX - box.left) / box.width, fy: (e.clientY - box.top) / box.height };
  const next = A.hand.points.findIndex((p) => !p);
  A.hand.active = next >= 0 ? next : (A.hand.active + 1) % 4;
  renderHand();
  drawFigure();
});
$("map").addEventListener("click", () => figure(handAxes()));
$("auto").addEventListener("click", () => figure(null));
$("model").addEventListener("change", () => figure(A.fig && A.fig.hand ? handAxes() : null));
new ResizeObserver(() => drawFigure()).observe($("figure"));  // the section: the canvas sizes itself

// Dropping and picking files ----------------------------------------------------------------------------------------

for (const type of ["dragenter", "dragover"]) {
  document.addEventListener(type, (e) => { e.preventDefault(); $("drop").classList.add("over"); });
}
document.addEventListener("dragleave", (e) => { if (!e.relatedTarget) $("drop").classList.remove("over"); });
document.addEventListener("drop", (e) => {
  e.preventDefault();
  $("drop").classList.remove("over");
  if (e.dataTransfer && e.dataTransfer.files.length) send(e.dataTransfer.files);
});
$("pick").addEventListener("change", (e) => { const files = [...e.target.files]; e.target.value = ""; send(files); });

(async () => {
  try {
    const r = await api("/api/analyse/uploads");
    A.uploads = r.uploads; A.limit = r.max_bytes;
    $("limit").textContent = megabytes(r.max_bytes);
    for (const name of ["reference", "from_reference"]) {
      document.querySelector(`[name=${name}]`).append(...r.references.map((s) => el("option", { value: s }, s)));
    }
    $("x-unit").replaceChildren(...r.x_units.map((u) => el("option", { value: u }, u)));
    $("y-unit").replaceChildren(...r.y_units.map((u) => el("option", { value: u }, u)));
    $("y-unit").value = "µA";
    renderUploads();
    const want = new URLSearchParams(location.search).get("upload");
    if (want && A.uploads.some((u) => u.id === want)) openUpload(want);
    window.voltpeakReady = true;
  } catch (e) { showError(e); }
})();
