// imggan serve: the page. Plain JavaScript, no build step, no network beyond this server's /api/v1.
//
// The image is shown scaled to the window; the mask canvas has the image's full resolution, so the mask
// sent to the server is exact at full size. Strokes are kept as vectors (tool, size in image pixels,
// points) and redrawn for undo/redo, so even a very large photo costs no pixel copies per stroke.
"use strict";

const $ = (id) => document.getElementById(id);
const API = "/api/v1";
const MASK_COLOUR = "#ff2d78";
const FORMATS = { "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/tiff": "tif", "image/bmp": "bmp" };

const state = {
  tasks: [],
  task: null,
  steps: [], // [{label, blob, url, width, height}]; steps[0] is the opened image
  original: null, // {name, stem, format}
  strokes: [],
  redo: [],
  drawing: null,
  busy: false,
  lastMask: null, // the mask Blob of the last run (white = hole), kept for inspection and tests
  lastRun: null, // {task, seconds, width, height}
};
window.imggan = state;

// ------------------------------------------------------------------------------------------ messages

function say(text, isError = false) {
  const el = $("message");
  el.textContent = text;
  el.className = isError ? "error" : "";
}

function setBusy(busy, label = "") {
  state.busy = busy;
  $("busy").hidden = !busy;
  document.body.dataset.busy = busy ? "1" : "0";
  for (const id of ["run-btn", "history-undo", "download-btn", "file-input"]) $(id).disabled = busy;
  if (!busy) {
    clearInterval(setBusy.timer);
    updateButtons();
    return;
  }
  const started = performance.now();
  const tick = () => { $("busy-text").textContent = `${label} ${((performance.now() - started) / 1000).toFixed(1)} s`; };
  tick();
  setBusy.timer = setInterval(tick, 100);
}

async function errorText(response) {
  try {
    const body = await response.json();
    if (typeof body.detail === "string") return body.detail;
    return JSON.stringify(body.detail);
  } catch (_) {
    return `${response.status} ${response.statusText}`;
  }
}

// ------------------------------------------------------------------------------------------ tasks

function labelOf(name) {
  return name.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

function optionField(opt) {
  const wrap = document.createElement("label");
  wrap.className = "field";
  wrap.title = opt.help || "";
  let input;
  if (opt.type === "boolean") {
    wrap.classList.add("check");
    input = document.createElement("input");
    input.type = "checkbox";
    input.checked = opt.default === true;
    wrap.append(input, document.createTextNode(" " + labelOf(opt.name)));
  } else {
    const caption = document.createElement("span");
    caption.textContent = labelOf(opt.name) + (opt.required ? " *" : "");
    if (opt.type === "choice") {
      input = document.createElement("select");
      for (const choice of opt.choices) input.add(new Option(choice, choice, false, String(opt.default) === choice));
    } else {
      input = document.createElement("input");
      if (opt.type === "integer" || opt.type === "number") {
        input.type = "number";
        input.step = opt.type === "integer" ? "1" : "any";
        if (opt.minimum !== undefined) input.min = opt.minimum;
        if (opt.maximum !== undefined) input.max = opt.maximum;
      } else {
        input.type = "text";
      }
      if (opt.default !== null && opt.default !== undefined) input.value = opt.default;
      else input.placeholder = opt.required ? "required" : "auto";
    }
    wrap.append(caption, input);
  }
  input.name = opt.name;
  input.dataset.type = opt.type;
  input.id = `opt-${opt.name}`;
  return wrap;
}

function sideField(side) {
  const wrap = document.createElement("label");
  wrap.className = "field";
  wrap.title = side.help || "";
  const caption = document.createElement("span");
  caption.textContent = labelOf(side.name) + " (file)";
  const input = document.createElement("input");
  input.type = "file";
  input.accept = "image/*";
  input.dataset.side = side.name;
  input.id = `side-${side.name}`;
  wrap.append(caption, input);
  return wrap;
}

function showTask(name) {
  state.task = state.tasks.find((t) => t.name === name) || null;
  const form = $("task-options");
  form.replaceChildren();
  if (!state.task) return;
  $("task-summary").textContent = state.task.summary;
  // side inputs other than the painted mask (a style reference, ...) are files picked here
  for (const side of state.task.side_inputs) if (side.name !== "mask") form.append(sideField(side));
  for (const opt of state.task.options) form.append(optionField(opt));
  const models = $("model-select");
  models.replaceChildren(new Option(state.task.default_model ? `default (${state.task.default_model})` : "default", ""));
  for (const m of state.task.models) if (m.available) models.add(new Option(m.name, m.name));
  $("model-row").hidden = state.task.models.length === 0;
  $("mask-tools").classList.toggle("unused", !needsMask());
  $("run-btn").textContent = makesImage() ? "Generate" : "Run";
  $("drop-hint").textContent = makesImage() ? `Press Generate, or open or drop an image to start` : "Open or drop an image to start";
  updateButtons();
}

// A task listed with no inputs (a generator) makes its image from the options alone: its run needs no
// image and starts a new history from the result, to which other tasks can then be applied.
function makesImage() {
  return !!state.task && state.task.inputs.length === 0;
}

function needsMask() {
  return !!state.task && state.task.side_inputs.some((s) => s.name === "mask");
}

async function loadTasks() {
  const [health, tasks] = await Promise.all([fetch(`${API}/health`), fetch(`${API}/tasks`)]);
  if (!health.ok || !tasks.ok) throw new Error("the server did not answer");
  const h = await health.json();
  $("server-status").textContent = `imggan ${h.version} · ${h.device}`;
  state.tasks = await tasks.json();
  const select = $("task-select");
  select.replaceChildren(...state.tasks.map((t) => new Option(t.name, t.name)));
  const first = state.tasks.find((t) => t.name === "inpaint") || state.tasks[0];
  if (first) select.value = first.name;
  showTask(select.value);
}

function formOptions() {
  const values = {};
  for (const input of $("task-options").elements) {
    if (!input.name || input.dataset.side) continue;
    if (input.dataset.type === "boolean") values[input.name] = input.checked ? "true" : "false";
    else if (input.value !== "") values[input.name] = input.value;
  }
  return values;
}

// ------------------------------------------------------------------------------------------ images

function current() {
  return state.steps[state.steps.length - 1] || null;
}

function formatOf(file) {
  if (FORMATS[file.type]) return FORMATS[file.type];
  const ext = (file.name.split(".").pop() || "").toLowerCase();
  return { jpeg: "jpg", tiff: "tif" }[ext] || (["png", "jpg", "webp", "tif", "bmp"].includes(ext) ? ext : "png");
}

function loadImage(url) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error("the browser cannot show this image"));
    img.src = url;
  });
}

async function convert(blob, name, format) {
  const body = new FormData();
  body.append("image", blob, name);
  body.append("format", format);
  const response = await fetch(`${API}/convert`, { method: "POST", body });
  if (!response.ok) throw new Error(await errorText(response));
  return response.blob();
}

// A step's image as the browser shows it; formats a browser cannot show (TIFF, 16-bit PPM, ...) are shown
// through a PNG made by the server, while the original bytes are what the next task receives.
async function makeStep(blob, label, name) {
  let url = URL.createObjectURL(blob);
  let img;
  try {
    img = await loadImage(url);
  } catch (_) {
    URL.revokeObjectURL(url);
    url = URL.createObjectURL(await convert(blob, name, "png"));
    img = await loadImage(url);
  }
  return { label, blob, url, width: img.naturalWidth, height: img.naturalHeight };
}

async function openFile(file) {
  if (!file || state.busy) return;
  say("");
  try {
    setBusy(true, "Opening");
    const step = await makeStep(file, `opened ${file.name}`, file.name);
    for (const old of state.steps) URL.revokeObjectURL(old.url);
    const stem = file.name.replace(/\.[^.]+$/, "") || "image";
    state.original = { name: file.name, stem, format: formatOf(file) };
    state.steps = [step];
    resetMask();
    render();
    say(`Opened ${file.name} (${step.width}×${step.height}).`);
  } catch (err) {
    say(`${file.name}: ${err.message}`, true);
  } finally {
    setBusy(false);
  }
}

// ------------------------------------------------------------------------------------------ view

function render() {
  const step = current();
  $("panes").hidden = !step;
  $("drop-hint").hidden = !!step;
  if (!step) return;
  const previous = state.steps.length > 1 ? state.steps[state.steps.length - 2] : null;
  const side = $("view-side").checked;
  $("stage").classList.toggle("side", side && !!previous);
  $("img-current").src = step.url;
  $("caption-current").textContent = `${step.label} · ${step.width}×${step.height}`;
  const canvas = $("mask-canvas");
  if (canvas.width !== step.width || canvas.height !== step.height) {
    canvas.width = step.width;
    canvas.height = step.height;
    redrawMask();
  }
  $("pane-before").hidden = !(side && previous);
  if (previous) $("img-side-before").src = previous.url;
  $("img-before").hidden = !previous || side;
  $("split").hidden = !previous || side;
  $("compare-row").hidden = !previous || side;
  if (previous && !side) $("img-before").src = previous.url;
  fitView();
  applySplit();
  $("image-info").textContent = `${state.original.name} · now ${step.width}×${step.height}`;
  renderHistory();
  updateButtons();
}

// Fit the image to the free space (small images up to 2x, large ones down); the pixels stay full size.
function fitView() {
  const step = current();
  if (!step) return;
  const stage = $("stage");
  const panes = $("stage").classList.contains("side") ? 2 : 1;
  const freeW = (stage.clientWidth - 32 - 16 * (panes - 1)) / panes;
  const freeH = stage.clientHeight - 56;
  const zoom = Math.max(0.01, Math.min(2, freeW / step.width, freeH / step.height));
  const w = `${Math.round(step.width * zoom)}px`;
  const h = `${Math.round(step.height * zoom)}px`;
  for (const id of ["img-current", "img-side-before"]) Object.assign($(id).style, { width: w, height: h });
}

function applySplit() {
  const x = Number($("compare").value);
  $("img-before").style.clipPath = `inset(0 ${100 - x}% 0 0)`;
  $("split").style.left = `${x}%`;
}

function renderHistory() {
  const list = $("history");
  list.replaceChildren(
    ...state.steps.map((s, i) => {
      const li = document.createElement("li");
      li.textContent = s.label;
      if (i === state.steps.length - 1) li.className = "current";
      return li;
    }),
  );
}

function updateButtons() {
  const has = !!current();
  $("run-btn").disabled = state.busy || !state.task || (!has && !makesImage());
  $("history-undo").disabled = state.busy || state.steps.length < 2;
  $("download-btn").disabled = state.busy || state.steps.length < 1;
  $("mask-undo").disabled = state.strokes.length === 0;
  $("mask-redo").disabled = state.redo.length === 0;
  $("mask-clear").disabled = state.strokes.length === 0;
}

// ------------------------------------------------------------------------------------------ mask

function resetMask() {
  state.strokes = [];
  state.redo = [];
  redrawMask();
}

function drawStroke(ctx, stroke) {
  ctx.save();
  ctx.globalCompositeOperation = stroke.tool === "eraser" ? "destination-out" : "source-over";
  ctx.strokeStyle = ctx.fillStyle = MASK_COLOUR;
  ctx.lineWidth = stroke.size;
  ctx.lineCap = ctx.lineJoin = "round";
  const [x0, y0] = stroke.points[0];
  if (stroke.points.length === 1) {
    ctx.beginPath();
    ctx.arc(x0, y0, stroke.size / 2, 0, 2 * Math.PI);
    ctx.fill();
  } else {
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    for (const [x, y] of stroke.points.slice(1)) ctx.lineTo(x, y);
    ctx.stroke();
  }
  ctx.restore();
}

function redrawMask() {
  const canvas = $("mask-canvas");
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  for (const stroke of state.strokes) drawStroke(ctx, stroke);
  if (state.drawing) drawStroke(ctx, state.drawing);
  updateButtons();
}

function toImage(event) {
  const canvas = $("mask-canvas");
  const rect = canvas.getBoundingClientRect();
  const scale = canvas.width / rect.width;
  return { x: (event.clientX - rect.left) * scale, y: (event.clientY - rect.top) * (canvas.height / rect.height), scale };
}

function moveCursor(event) {
  const cursor = $("cursor");
  const rect = $("mask-canvas").getBoundingClientRect();
  const size = Number($("brush-size").value);
  cursor.hidden = false;
  cursor.style.width = cursor.style.height = `${size}px`;
  cursor.style.left = `${event.clientX - rect.left}px`;
  cursor.style.top = `${event.clientY - rect.top}px`;
}

function setupPainting() {
  const canvas = $("mask-canvas");
  canvas.addEventListener("pointerdown", (event) => {
    if (!current() || event.button !== 0) return;
    canvas.setPointerCapture(event.pointerId);
    const p = toImage(event);
    const tool = $("tool-eraser").checked ? "eraser" : "brush";
    // the brush size is in screen pixels: the same stroke looks the same at any zoom
    state.drawing = { tool, size: Number($("brush-size").value) * p.scale, points: [[p.x, p.y]] };
    redrawMask();
    event.preventDefault();
  });
  canvas.addEventListener("pointermove", (event) => {
    moveCursor(event);
    if (!state.drawing) return;
    const p = toImage(event);
    state.drawing.points.push([p.x, p.y]);
    redrawMask();
  });
  const finish = () => {
    if (!state.drawing) return;
    state.strokes.push(state.drawing);
    state.drawing = null;
    state.redo = [];
    redrawMask();
  };
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);
  canvas.addEventListener("pointerleave", () => { $("cursor").hidden = true; });
}

function maskUndo() {
  if (state.strokes.length) state.redo.push(state.strokes.pop());
  redrawMask();
}

function maskRedo() {
  if (state.redo.length) state.strokes.push(state.redo.pop());
  redrawMask();
}

// The painted area as an opaque white-on-black PNG at the image's full size (white = hole): a pixel is a
// hole when the brush covered at least half of it, the rule the server's mask threshold uses too.
function exportMask() {
  const src = $("mask-canvas");
  const out = document.createElement("canvas");
  out.width = src.width;
  out.height = src.height;
  const ctx = out.getContext("2d");
  const data = src.getContext("2d").getImageData(0, 0, src.width, src.height);
  const px = data.data;
  let holes = 0;
  for (let i = 0; i < px.length; i += 4) {
    const v = px[i + 3] >= 128 ? 255 : 0;
    holes += v ? 1 : 0;
    px[i] = px[i + 1] = px[i + 2] = v;
    px[i + 3] = 255;
  }
  ctx.putImageData(data, 0, 0);
  return new Promise((resolve) => out.toBlob((blob) => resolve({ blob, holes }), "image/png"));
}

// ------------------------------------------------------------------------------------------ run

// POST a run's form; the result image and the model's seconds, or an Error with the server's message.
async function postRun(task, body) {
  const response = await fetch(`${API}/run/${encodeURIComponent(task.name)}`, { method: "POST", body });
  if (!response.ok) {
    const detail = await errorText(response);
    const retry = response.headers.get("Retry-After");
    throw new Error(retry ? `${detail} (Retry-After ${retry} s)` : detail);
  }
  return { blob: await response.blob(), seconds: Number(response.headers.get("X-Imggan-Seconds") || 0) };
}

// A history entry: the task and the options that differ from their defaults.
function stepLabel(task, options) {
  const shown = Object.entries(options)
    .filter(([name, value]) => String(task.options.find((o) => o.name === name)?.default) !== value)
    .map(([name, value]) => `${name}=${value}`);
  return [task.name, ...shown].join(" ");
}

async function run() {
  const step = current();
  if (!state.task || state.busy || (!step && !makesImage())) return;
  if (makesImage()) return generate();
  const task = state.task;
  say("");
  setBusy(true, `Running ${task.name}…`);
  try {
    const body = new FormData();
    body.append("image", step.blob, `${state.original.stem}.${state.steps.length === 1 ? state.original.format : "png"}`);
    if (needsMask() && state.strokes.length) {
      const { blob, holes } = await exportMask();
      if (holes === 0) throw new Error("the painted strokes cover no whole pixel; paint a larger area");
      state.lastMask = blob;
      body.append("mask", blob, "mask.png");
    }
    for (const input of $("task-options").querySelectorAll("input[data-side]")) {
      if (input.files[0]) body.append(input.dataset.side, input.files[0], input.files[0].name);
    }
    const options = formOptions();
    for (const [name, value] of Object.entries(options)) body.append(name, value);
    if ($("model-select").value) body.append("model", $("model-select").value);
    body.append("format", "png"); // lossless between steps; Download gives the input's format
    const { blob, seconds } = await postRun(task, body);
    const next = await makeStep(blob, stepLabel(task, options), `${state.original.stem}.png`);
    state.steps.push(next);
    state.lastRun = { task: task.name, seconds, width: next.width, height: next.height };
    resetMask();
    render();
    document.body.dataset.runs = String((Number(document.body.dataset.runs) || 0) + 1);
    say(`${task.name} done in ${seconds.toFixed(1)} s (${next.width}×${next.height}).`);
  } catch (err) {
    say(`${task.name}: ${err.message}`, true);
  } finally {
    setBusy(false);
  }
}

async function generate() {
  const task = state.task;
  say("");
  setBusy(true, `Running ${task.name}…`);
  try {
    const body = new FormData();
    const options = formOptions();
    for (const [name, value] of Object.entries(options)) body.append(name, value);
    if ($("model-select").value) body.append("model", $("model-select").value);
    body.append("format", "png");
    const { blob, seconds } = await postRun(task, body);
    const model = $("model-select").value || task.default_model || task.name;
    const seed = options.seed !== undefined ? `-seed${options.seed}` : "";
    const stem = `${task.name}-${model}${seed}`.replace(/[^A-Za-z0-9._-]+/g, "_");
    const next = await makeStep(blob, stepLabel(task, options), `${stem}.png`);
    for (const old of state.steps) URL.revokeObjectURL(old.url);
    state.original = { name: `${stem}.png`, stem, format: "png" };
    state.steps = [next]; // a new picture: its history starts here, as for an opened file
    state.lastRun = { task: task.name, seconds, width: next.width, height: next.height };
    resetMask();
    render();
    document.body.dataset.runs = String((Number(document.body.dataset.runs) || 0) + 1);
    say(`${task.name} done in ${seconds.toFixed(1)} s (${next.width}×${next.height}); choose another task to apply to it.`);
  } catch (err) {
    say(`${task.name}: ${err.message}`, true);
  } finally {
    setBusy(false);
  }
}

function historyUndo() {
  if (state.steps.length < 2 || state.busy) return;
  URL.revokeObjectURL(state.steps.pop().url);
  resetMask();
  render();
  say("Step undone.");
}

async function download() {
  const step = current();
  if (!step || state.busy) return;
  const format = state.original.format;
  const names = state.steps.slice(1).map((s) => s.label.split(" ")[0]);
  const name = `${state.original.stem}${names.length ? "_" + names.join("_") : ""}.${format}`;
  try {
    setBusy(true, "Preparing download");
    // every step's result is a PNG; the first step is the file as opened
    const blob = state.steps.length === 1 || format === "png" ? step.blob : await convert(step.blob, `${state.original.stem}.png`, format);
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    say(`Saved ${name} (${step.width}×${step.height}).`);
  } catch (err) {
    say(`download: ${err.message}`, true);
  } finally {
    setBusy(false);
  }
}

// ------------------------------------------------------------------------------------------ wiring

function setup() {
  $("file-input").addEventListener("change", (e) => openFile(e.target.files[0]));
  const stage = document.body;
  stage.addEventListener("dragover", (e) => { e.preventDefault(); $("stage").classList.add("dragging"); });
  stage.addEventListener("dragleave", () => $("stage").classList.remove("dragging"));
  stage.addEventListener("drop", (e) => {
    e.preventDefault();
    $("stage").classList.remove("dragging");
    openFile(e.dataTransfer.files[0]);
  });
  $("task-select").addEventListener("change", (e) => showTask(e.target.value));
  $("run-btn").addEventListener("click", run);
  $("mask-undo").addEventListener("click", maskUndo);
  $("mask-redo").addEventListener("click", maskRedo);
  $("mask-clear").addEventListener("click", () => {
    if (!state.strokes.length) return;
    state.redo = [...state.strokes].reverse(); // Redo brings the cleared strokes back one by one
    state.strokes = [];
    redrawMask();
  });
  $("history-undo").addEventListener("click", historyUndo);
  $("download-btn").addEventListener("click", download);
  $("compare").addEventListener("input", applySplit);
  for (const id of ["view-slider", "view-side"]) $(id).addEventListener("change", render);
  $("brush-size").addEventListener("input", (e) => { $("brush-size-value").textContent = e.target.value; });
  $("mask-opacity").addEventListener("input", (e) => {
    $("mask-opacity-value").textContent = `${e.target.value}%`;
    $("mask-canvas").style.opacity = String(Number(e.target.value) / 100);
  });
  document.addEventListener("keydown", (e) => {
    if (e.target.matches("input[type=text], input[type=number]")) return;
    const key = e.key.toLowerCase();
    if ((e.ctrlKey || e.metaKey) && key === "z") { e.preventDefault(); e.shiftKey ? maskRedo() : maskUndo(); }
    else if ((e.ctrlKey || e.metaKey) && key === "y") { e.preventDefault(); maskRedo(); }
    else if (key === "[" || key === "]") {
      const size = $("brush-size");
      size.value = String(Number(size.value) + (key === "]" ? 5 : -5));
      size.dispatchEvent(new Event("input"));
    }
  });
  setupPainting();
  window.addEventListener("resize", fitView);
  updateButtons();
  loadTasks()
    .then(() => { document.body.dataset.ready = "1"; })
    .catch((err) => say(`Could not load the tasks: ${err.message}`, true));
}

setup();
