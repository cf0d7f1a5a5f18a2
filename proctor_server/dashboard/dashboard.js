// The proctor's console: the live grid of every ticket, a candidate's panel, and the actions,
// over the feed (/ws/proctor) and the console's reads (/api/..., /evidence/...). Plain ES
// modules served by the server itself; nothing is fetched from anywhere else.

import { t, applyStatic, setLang, currentLang, onLangChange } from "/console/i18n.js";
import { Feed } from "/console/feed.js";
import { Model } from "/console/model.js";
import { Grid } from "/console/grid.js";
import { Panel } from "/console/panel.js";
import { ActionDialog } from "/console/dialog.js";
import { Videos } from "/console/video.js";

const $ = (id) => document.getElementById(id);
const DETAILS_MS = 3000; // the risk and violations by kind are re-read at most this often

const model = new Model();
let detailsTimer = 0;
let pendingEvents = [];
let frame = 0;

const feed = new Feed({
  onSnapshot(snapshot) {
    performance.mark("snapshot:parsed");
    model.load(snapshot);
    performance.mark("model:loaded");
    grid.redraw(); // the first rows now, not on the next frame (before anything else is
    // written, so that reading the viewport's size lays nothing out again)
    $("title").textContent = snapshot.exam.title;
    $("console").hidden = false;
    $("console").classList.remove("waiting");
    performance.mark("grid:drawn");
    if (panel.seat) { const s = model.seats.get(panel.seat.candidate); if (s) panel.open(s); else panel.close(); }
    if (first.loaded !== null) afterPaint(loadDetails); // the risk read again, once the rows are drawn
    else {
      // The first grid: the thumbnails and the risk's re-read wait until its rows are on
      // screen (their loading and decoding would compete with the rows' rasterising).
      onceShown(() => { grid.showImages(); loadDetails(); });
      first.loaded = performance.now();
      first.seats = model.seats.size;
      if (!served) watchFirstPaint();
      requestAnimationFrame(() => { // the rows' frame laid out and painted: the task after it
        const ch = new MessageChannel();
        ch.port1.onmessage = () => { first.framed = performance.now(); };
        ch.port2.postMessage(0);
      });
      if (first.painted !== null) firstGridShown(first);
    }
    document.body.dataset.ready = "true";
  },
  onEvent(e) {
    // coalesced: every event of one animation frame is applied, then one render
    pendingEvents.push(e);
    if (!frame) frame = requestAnimationFrame(flush);
  },
  onStatus(state, n) {
    const s = $("status");
    s.className = `status ${state === "live" ? "live" : state === "reconnecting" ? "down" : ""}`;
    s.dataset.state = state;
    s.textContent = t(`status.${state}`, { n });
  },
  onFatal(reason, message) {
    // nothing of the exam stays on the page once the sign-in is refused
    model.seats.clear();
    grid.clear();
    $("console").hidden = true;
    $("console").classList.remove("waiting");
    panel.close();
    if (dialogs.dialog.open) dialogs.dialog.close();
    $("title").textContent = "";
    $("fatal").hidden = false;
    $("fatal").dataset.reason = reason;
    $("fatal-text").textContent = reason === "bad_token" ? t("fatal.bad_token") : t("fatal.refused", { message });
    const s = $("status");
    s.className = "status down";
    s.dataset.state = reason;
    s.textContent = t(reason === "bad_token" ? "status.signed_out" : "status.refused");
  },
  onMedia(m) { videos.media(m); },
});

const videos = new Videos({
  feed,
  onChange(attempt, stream, note) {
    const words = { unavailable: t("video.unavailable"), failed: t("video.failed"), connecting: t("video.connecting") };
    if (note) grid.unavailable.set(attempt, words[note]); else grid.unavailable.delete(attempt);
    if (note === "unavailable" || note === "failed") toast(() => t(`video.${note}`), "error");
    grid.schedule();
    if (panel.attempt === attempt) panel.render();
  },
});

const grid = new Grid({
  model,
  viewport: $("grid"),
  space: $("grid-space"),
  summary: $("summary"),
  shown: $("shown"),
  videos: videos.streams,
  onAction: act,
});
const panel = new Panel({ root: $("panel"), model, videos, onAction: act });
const dialogs = new ActionDialog($("action-dialog"), send);

function flush() {
  frame = 0;
  const events = pendingEvents;
  pendingEvents = [];
  let violations = false;
  for (const e of events) {
    const seat = model.apply(e);
    if (e.type === "event" || e.type === "flag" || e.type === "violation_ended" || e.type === "attempt_finished") violations = true;
    if (e.type === "warning_limit_reached" && seat) {
      const who = `${seat.candidate} ${seat.name}`;
      const action = () => t(e.action === "terminate" ? "toast.limit.terminate" : "toast.limit.alert");
      toast(() => t("toast.limit", { who, count: e.count, limit: e.limit, action: action() }), "error");
    }
    if (seat && panel.seat && panel.seat.candidate === seat.candidate) panel.touched();
    if (e.type === "attempt_finished" && videos.watching(e.attempt)) videos.unwatch(e.attempt);
  }
  if (violations) scheduleDetails();
  grid.schedule();
}

async function loadDetails() {
  if (!model.exam) return;
  try {
    const r = await fetch(`/api/exam/${encodeURIComponent(model.exam.id)}`, { credentials: "same-origin" });
    if (!r.ok) return;
    model.loadDetails(await r.json());
    grid.schedule();
  } catch { /* the feed reports the connection */ }
}

// After the next frame is painted (a task queued from the frame's callback runs after it).
function afterPaint(fn) { requestAnimationFrame(() => setTimeout(fn, 0)); }

// When the first rows reach the screen (their candidate codes carry `elementtiming`): for the
// console's own measure of its first grid (bench/console_grid.py), not only the DOM written.
// `window.__consoleFirstGrid` resolves with those times, so that a measure waits without polling.
let firstGridShown;
window.__consoleFirstGrid = new Promise((resolve) => { firstGridShown = resolve; });
const SHOWN_WAIT_MS = 1000; // at most: a grid with no row, or a browser without Element Timing

function onceShown(fn) {
  let done = false;
  const run = () => { if (!done) { done = true; fn(); } };
  window.__consoleFirstGrid.then(run);
  setTimeout(run, SHOWN_WAIT_MS);
}
// The first grid's times (`window.__console`): `painted` when its rows were on screen (the
// rows the server wrote into the page, else the first snapshot's), `loaded` when the first
// snapshot's rows were written, `framed` when the frame holding them was done. The promise
// resolves once both the rows are on screen and the snapshot is drawn.
const first = { loaded: null, seats: 0, painted: null, framed: null };
window.__console = first;
function watchFirstPaint() {
  if (!("PerformanceObserver" in window) || !PerformanceObserver.supportedEntryTypes.includes("element")) return;
  const seen = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.identifier !== "grid-row" || !e.renderTime) continue;
      first.painted = e.renderTime;
      performance.mark("grid:painted");
      seen.disconnect();
      if (first.loaded !== null) firstGridShown(first);
      return;
    }
  });
  seen.observe({ type: "element", buffered: true });
}

function scheduleDetails() {
  if (!detailsTimer) detailsTimer = setTimeout(() => { detailsTimer = 0; loadDetails(); }, DETAILS_MS);
}

// One place for every action, from a grid row or the panel.
async function act(action, seat, button) {
  if (action === "open") { panel.open(seat); return; }
  if (action === "watch") {
    if (videos.watching(seat.attempt)) videos.unwatch(seat.attempt); else videos.watch(seat.attempt);
    return;
  }
  if (action === "review") {
    let violations = panel.attempt === seat.attempt && panel.data ? panel.data.violations : null;
    if (!violations) {
      const r = await fetch(`/api/attempt/${encodeURIComponent(seat.attempt)}`, { credentials: "same-origin" });
      violations = r.ok ? (await r.json()).violations : [];
    }
    const chosen = button && button.dataset.violation ? Number(button.dataset.violation) : null;
    dialogs.open("review", seat, { violations, violation: chosen });
    return;
  }
  dialogs.open(action, seat);
}

function send(action, fields, seat) {
  const who = `${seat.candidate} ${seat.name}`;
  return feed.command(action, fields).then(
    (ack) => {
      toast(() => t("toast.done", { action: t(`action.${action}`), who }), "ok");
      if (panel.seat && panel.seat.candidate === seat.candidate) panel.touched();
      return ack;
    },
    (err) => {
      const message = () => err.message || t(`error.${err.code}`);
      toast(() => t("toast.error", { action: t(`action.${action}`), message: message() }), "error");
      throw { ...err, message: message() };
    },
  );
}

// A toast for a few seconds; `words()` gives its text in the current language (again when
// the proctor switches language while it shows).
function toast(words, kind) {
  const box = document.createElement("div");
  box.className = `toast ${kind || ""}`;
  box.words = words;
  box.textContent = words();
  $("toasts").prepend(box);
  setTimeout(() => box.remove(), 6000);
}

// the toolbar
let searchTimer = 0;
$("search").addEventListener("input", () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => grid.setOptions({ search: $("search").value }), 120);
});
for (const b of document.querySelectorAll("[data-filter]")) {
  b.addEventListener("click", () => {
    for (const o of document.querySelectorAll("[data-filter]")) o.classList.toggle("on", o === b);
    grid.setOptions({ filter: b.dataset.filter });
  });
}
$("mode").addEventListener("change", () => grid.setOptions({ mode: $("mode").value }));
$("sort").addEventListener("change", () => grid.setOptions({ sort: $("sort").value }));
$("lang").addEventListener("click", () => setLang(currentLang() === "zh" ? "en" : "zh"));
document.addEventListener("keydown", (ev) => { if (ev.key === "Escape" && !dialogs.dialog.open && panel.seat) panel.close(); });
onLangChange(() => {
  for (const box of $("toasts").children) if (box.words) box.textContent = box.words();
  grid.relabel();
  panel.render();
  const s = $("status");
  if (s.dataset.state === "live") s.textContent = t("status.live");
  if (!$("fatal").hidden) $("fatal-text").textContent = $("fatal").dataset.reason === "bad_token" ? t("fatal.bad_token") : $("fatal-text").textContent;
});

// the clocks tick from the server's time (offset taken from the snapshot)
setInterval(() => { grid.tick(); panel.tick(); }, 1000);

applyStatic();
// The server wrote the exam's first screen into the page (console/first_screen.py): those rows
// are the grid's until the snapshot fills them. Without them, while the snapshot is on its way:
// the console's first layout, and the rows the screen holds made (still empty), out of sight,
// so that the first grid only fills them.
const served = grid.adopt();
if (served) watchFirstPaint();
else if (window.__earlyFeed && !window.__earlyFeed.messages.length) {
  $("console").classList.add("waiting");
  $("console").hidden = false;
  grid.prepare();
}
feed.connect();
