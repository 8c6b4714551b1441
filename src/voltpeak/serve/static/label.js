// The label page: a CV per view, labels saved at once (each change is one request the server commits), undo/redo.
"use strict";

const S = { files: [], pos: -1, cv: null, labels: [], suggestions: [], cycle: 0, undo: [], redo: [], selected: null,
            busy: Promise.resolve() };
const plot = new Plot(document.getElementById("plot"), { xlabel: "E", xUnit: "V", ylabel: "I", yUnit: "A" });
const $ = (id) => document.getElementById(id);

function showError(e) { $("error").textContent = e ? String(e.message || e) : ""; }
function say(text) { $("state").textContent = text; }

// Requests run one after another, so an undo never overtakes the change it undoes.
function queue(fn) {
  S.busy = S.busy.then(fn).catch(showError);
  return S.busy;
}

async function loadFiles() {
  const data = await api("/api/files");
  S.files = data.files;
  const p = data.progress, n = S.files.length;
  $("progress").textContent = `${p.done} done · ${p.skipped} skipped · ${p.todo} to do (${n} CVs)`;
  renderFiles();
}

function renderFiles() {
  const ul = $("files"), q = $("filter").value.toLowerCase();
  ul.replaceChildren();
  let group = null;
  S.files.forEach((f, i) => {
    if (q && !f.path.toLowerCase().includes(q)) return;
    // Files grouped under their folder (the data folder, then the subfolder); names in full, wrapped.
    const slash = f.path.lastIndexOf("/"), here = f.folder + (slash > 0 ? `/${f.path.slice(0, slash)}` : "");
    if (here !== group) { group = here; ul.append(el("li", { class: "group" }, `${here}/`)); }
    // A file that could not be read keeps its place in the list, marked, with the reason on hover.
    const li = el("li", { class: `${f.error ? "unreadable" : f.status}${i === S.pos ? " current" : ""}`,
                          title: f.error || f.path, onclick: () => open(i) },
                  el("span", { class: "badge" }, f.error ? "unreadable" : f.status), " ", f.path.slice(slash + 1),
                  f.labels ? ` (${f.labels})` : "");
    ul.append(li);
    if (i === S.pos) li.scrollIntoView({ block: "nearest" });  // the open file stays in sight
  });
}

async function open(i) {
  if (i < 0 || i >= S.files.length) return;
  S.pos = i; S.undo = []; S.redo = []; S.selected = null;
  const f = S.files[i];
  $("name").textContent = f.path;
  history.replaceState(null, "", `/label?file=${encodeURIComponent(f.id)}`);
  renderFiles();
  showError(null);
  const t0 = performance.now();
  try {
    const [cv, labs] = await Promise.all([api(`/api/cv/${encodeURI(f.id)}`), api(`/api/labels/${encodeURI(f.id)}`)]);
    S.cv = cv; S.labels = labs.labels; S.suggestions = [];
    plot.yUnit = cv.unit; plot.ylabel = cv.quantity === "j" ? "j" : "I";
    const sel = $("cycle");
    sel.replaceChildren(el("option", { value: "0" }, "all"));
    for (let c = 1; c <= cv.cycles; c++) sel.append(el("option", { value: String(c) }, String(c)));
    S.cycle = 0; sel.value = "0";
    drawCV(false);
    window.voltpeakOpened = { id: f.id, ms: performance.now() - t0, points: cv.points };
    api(`/api/analysis/${encodeURI(f.id)}`).then((a) => {
      if (S.cv && S.cv.id === f.id) { showAnalysis(a); window.voltpeakAnalysis = a; }
    }).catch(showError);
    api(`/api/suggestions/${encodeURI(f.id)}`).then((s) => {
      if (S.cv && S.cv.id === f.id) { S.suggestions = s.suggestions; drawMarkers(); window.voltpeakSuggested = f.id; }
      $("suggester").textContent = `suggestions: ${s.source === "detector" ? "the classical detector" : s.source}`;
    }).catch(showError);
  } catch (e) {
    S.cv = null; plot.setData([]); showError(e);
    if (e.status === 422) { f.error = e.message; renderFiles(); }
  }
}

function drawCV(keepView) {
  const cv = S.cv;
  plot.setData(cv.sweeps.map((s) => ({ x: s.E, y: s.I, color: PALETTE[(s.cycle - 1) % PALETTE.length],
                                       hidden: S.cycle && s.cycle !== S.cycle, sweep: s.index })), keepView);
  drawMarkers();
}

function drawMarkers() {
  const taken = new Set(S.labels.map((l) => `${l.sweep}:${l.idx}`));
  const marks = S.suggestions.filter((s) => !taken.has(`${s.sweep}:${s.idx}`) && (!S.cycle || s.cycle === S.cycle))
    .map((s) => ({ x: s.potential, y: s.current, shape: "diamond", color: "#888", size: 8 }));
  for (const l of S.labels) {
    if (S.cycle && l.cycle !== S.cycle) continue;
    marks.push({ id: l.id, x: l.potential, y: l.current, shape: l.direction === "anodic" ? "up" : "down",
                 color: l.direction === "anodic" ? "#c0392b" : "#1f5fbf", filled: true, draggable: true,
                 selected: l.id === S.selected });
  }
  plot.setMarkers(marks);
  const body = $("table").tBodies[0];
  body.replaceChildren(...S.labels.map((l, k) => el("tr", { class: l.id === S.selected ? "sel" : "",
      onclick: () => { S.selected = l.id; drawMarkers(); } },
    el("td", {}, k + 1), el("td", {}, l.direction), el("td", {}, l.potential.toFixed(4)),
    el("td", {}, current(l.current)), el("td", {}, l.cycle ?? ""), el("td", {}, l.origin))));
  window.voltpeakLabels = S.labels;
}

function fixed(value, digits, factor = 1) {
  return value === null || value === undefined ? "" : (value * factor).toFixed(digits);
}

function showAnalysis(a) {
  // The same analysis as `voltpeak detect` (every text set as text, never as HTML).
  const row = (cells) => el("tr", {}, ...cells.map((c) => el("td", {}, c)));
  $("couples").tBodies[0].replaceChildren(...a.couples.map((c) => row([
    String(c.cycle), fixed(c.E_half, 4), fixed(c.delta_Ep, 1, 1000), c.ipa === null ? "" : current(c.ipa),
    c.ipc === null ? "" : current(c.ipc), fixed(c.ipa_ipc, 3), c.class, c.reverse_baseline])));
  const charge = (q) => (q === undefined ? "" : `${(q / siScale(Math.abs(q) || 1)[0]).toPrecision(4)} ${
    siScale(Math.abs(q) || 1)[1]}C${S.cv && S.cv.quantity === "j" ? "/m²" : ""}`);
  $("measures").tBodies[0].replaceChildren(...a.peaks.map((p) => row([
    String(p.cycle), p.direction, fixed(p.potential, 4), p.height === undefined ? "" : current(p.height),
    fixed(p.E_p2, 4), fixed(p.half_width, 1, 1000), fixed(p.onset, 4), charge(p.charge)])));
}

function current(value) {
  const [f, p] = siScale(Math.abs(value) || 1);
  return `${(value / f).toPrecision(4)} ${p}${S.cv ? S.cv.unit : "A"}`;
}

function setLabels(reply) {
  S.labels = reply.labels;
  const f = S.files[S.pos];
  if (f) { f.labels = S.labels.length; }
  drawMarkers();
  say(`saved · ${S.labels.length} label${S.labels.length === 1 ? "" : "s"}`);
  return reply;
}

// The sample under a screen point: its sweep (the series) and index within it.
function pick(px, py) {
  const hit = plot.nearest(px, py);
  if (!hit || hit.dist > 40) return null;
  return { sweep: plot.series[hit.series].sweep, index: hit.index };
}

const fileId = () => encodeURI(S.files[S.pos].id);
const add = (items) => api(`/api/labels/${fileId()}`, { method: "POST", body: { labels: items } }).then(setLabels);
const del = (id) => api(`/api/labels/${fileId()}/${id}`, { method: "DELETE" }).then(setLabels);
const move = (id, to) => api(`/api/labels/${fileId()}/${id}`, { method: "PUT", body: to }).then(setLabels);
const point = (l) => ({ sweep: l.sweep, index: l.idx, origin: l.origin, snap: false });

// Each action: do it, remember how to undo it (ids change when a label is re-added, hence the records).
function perform(action) {
  return queue(async () => { await action.redo(); S.undo.push(action); S.redo = []; });
}

function addAction(items) {
  const act = { ids: [] };
  act.redo = async () => { act.ids = (await add(items)).ids; };
  act.undo = async () => { for (const id of act.ids) await del(id); };
  return act;
}

plot.on("click", (px, py, hit) => {
  if (!S.cv) return;
  if (hit && hit.id !== undefined) { S.selected = hit.id; drawMarkers(); return; }
  const at = pick(px, py);
  if (at) perform(addAction([{ ...at, origin: "hand" }]));
});

plot.on("drop", (marker, px, py) => {
  const lab = S.labels.find((l) => l.id === marker.id), at = pick(px, py);
  if (!lab || !at) { drawMarkers(); return; }
  const from = point(lab), act = {};
  act.redo = () => move(lab.id, at);
  act.undo = () => move(lab.id, from);
  perform(act);
});

function deleteAction(id) {
  const lab = S.labels.find((l) => l.id === id);
  if (!lab) return;
  const act = { id };
  act.redo = () => del(act.id);
  act.undo = async () => { act.id = (await add([point(lab)])).ids[0]; };
  perform(act);
}

plot.on("context", (m) => deleteAction(m.id));

function acceptAll() {
  const taken = new Set(S.labels.map((l) => `${l.sweep}:${l.idx}`));
  const todo = S.suggestions.filter((s) => !taken.has(`${s.sweep}:${s.idx}`))
    .map((s) => ({ sweep: s.sweep, index: s.idx, origin: "detector", snap: false }));
  if (todo.length) perform(addAction(todo));
}

function setStatus(status) {
  const f = S.files[S.pos];
  if (!f) return;
  return queue(async () => {
    await api(`/api/status/${encodeURI(f.id)}`, { method: "POST", body: { status } });
    f.status = status;
    await loadFiles();
    if (S.pos + 1 < S.files.length) await open(S.pos + 1);
  });
}

function undo() { queue(async () => { const a = S.undo.pop(); if (a) { await a.undo(); S.redo.push(a); } }); }
function redo() { queue(async () => { const a = S.redo.pop(); if (a) { await a.redo(); S.undo.push(a); } }); }

$("prev").onclick = () => open(S.pos - 1);
$("next").onclick = () => open(S.pos + 1);
$("accept").onclick = acceptAll;
$("done").onclick = () => setStatus("done");
$("skip").onclick = () => setStatus("skipped");
$("undo").onclick = undo;
$("redo").onclick = redo;
$("filter").oninput = renderFiles;
$("cycle").onchange = (e) => { S.cycle = Number(e.target.value); drawCV(false); };

document.addEventListener("keydown", (e) => {
  if (e.target.tagName === "INPUT" || e.target.tagName === "SELECT") return;
  const k = e.key.toLowerCase(), ctrl = e.ctrlKey || e.metaKey;
  if (ctrl && k === "z") { e.preventDefault(); e.shiftKey ? redo() : undo(); return; }
  if (ctrl && k === "y") { e.preventDefault(); redo(); return; }
  if (ctrl || e.altKey) return;
  const act = { n: () => open(S.pos + 1), arrowright: () => open(S.pos + 1), p: () => open(S.pos - 1),
                arrowleft: () => open(S.pos - 1), a: acceptAll, d: () => setStatus("done"),
                s: () => setStatus("skipped"), z: undo, y: redo,
                delete: () => S.selected !== null && deleteAction(S.selected),
                backspace: () => S.selected !== null && deleteAction(S.selected),
                c: () => { if (!S.cv) return; S.cycle = (S.cycle + 1) % (S.cv.cycles + 1); $("cycle").value = String(S.cycle); drawCV(false); } }[k];
  if (act) { e.preventDefault(); act(); }
});

// Another tab may change this CV's labels: refresh them every few seconds while this tab is visible.
setInterval(() => {
  if (document.hidden || !S.cv || S.pos < 0) return;
  queue(async () => {
    const reply = await api(`/api/labels/${fileId()}`);
    if (JSON.stringify(reply.labels) !== JSON.stringify(S.labels)) setLabels(reply);
  });
}, 3000);

window.voltpeakPlot = plot;
(async () => {
  try {
    await loadFiles();
    const want = new URLSearchParams(location.search).get("file");
    const i = want ? S.files.findIndex((f) => f.id === want) : S.files.findIndex((f) => f.status === "todo");
    await open(i >= 0 ? i : 0);
  } catch (e) { showError(e); }
})();
