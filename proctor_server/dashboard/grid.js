// The live grid, windowed: only the rows on screen (plus a few) exist in the DOM, recycled as
// the proctor scrolls, so a thousand candidates cost what twenty do. Changes are coalesced:
// `schedule()` asks for one render on the next animation frame, however many events came in.
//
// Each row is the candidate's element of the page contract: `data-candidate="CODE"` always,
// `data-attempt="ID"` once the candidate has an attempt; its buttons carry `data-action`.

import { t, term, span, mediaReason } from "/console/i18n.js";
import { status, view, counts, FINISHED } from "/console/model.js";

export const ROW_HEIGHT = 76;
const OVERSCAN = 6;
const CONNECTION = ["status", "rtt", "reconnects", "media"];
const ACTIONS = ["watch", "warn", "message", "extend", "terminate", "review", "accept_identity", "verdict", "admit"];

function el(tag, cls, attrs) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (attrs) for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

// A row's parts, found in its markup (made by makeRow, or written by the server).
function wire(row) {
  const q = (sel) => row.querySelector(sel);
  row.photo = q("img.photo");
  row.photo.onerror = () => { row.photo.hidden = true; };
  row.open = q("button.who"); row.code = q(".code"); row.name = q(".name"); row.badges = q(".badges");
  row.state = q(".state-badge"); row.time = q(".time");
  row.conn = q(".conn");
  row.cx = {};
  for (const part of CONNECTION) row.cx[part] = q(`.conn-${part}`);
  row.warn = q(".warnings"); row.kinds = q(".kinds");
  row.risk = q(".risk-badge"); row.why = q(".why");
  row.snap = q("img.snap");
  row.snap.onerror = () => { row.snap.hidden = true; };
  row.video = q("video.live");
  row.video.muted = true;
  row.note = q(".video-note");
  row.buttons = {};
  for (const b of q(".c-actions").children) row.buttons[b.dataset.action] = b;
  return row;
}

function setText(node, text) { if (node.textContent !== text) node.textContent = text; }

export function clock(seconds) {
  if (seconds === null) return t("time.none");
  if (seconds <= 0) return t("time.over");
  const s = Math.floor(seconds), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const two = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${two(m)}:${two(r)}` : `${two(m)}:${two(r)}`;
}

// The live video's status, and why there is none, in the page's language ("" before any word
// on it): the grid's connection cell and the panel's live video section.
export function mediaText(seat) {
  if (seat.media === "live") return t("conn.media.live");
  if (seat.media !== "no_live_video") return "";
  return seat.media_reason ? t("conn.media.why", { reason: mediaReason(seat.media_reason) }) : t("conn.media.no_live_video");
}

// The risk's reasons in the page's language, most weighty first.
export function reasons(seat) {
  const kinds = Object.entries(seat.kinds || {});
  kinds.sort((a, b) => (b[1].points || 0) - (a[1].points || 0) || b[1].n - a[1].n);
  return kinds.map(([kind, k]) => {
    const parts = [k.n === 1 ? t("reason.count1") : t("reason.count", { n: k.n })];
    if (k.seconds > 0) parts.push(t("reason.lasting", { span: span(k.seconds) }));
    if (k.confidence) parts.push(t("reason.confidence", { p: Math.round(k.confidence * 100) }));
    return `${term("kind", kind)}: ${parts.join(", ")}`;
  });
}

export class Grid {
  constructor({ model, viewport, space, summary, shown, videos, onAction }) {
    Object.assign(this, { model, viewport, space, summary, shown, videos, onAction });
    this.options = { filter: "all", mode: "all", search: "", sort: "risk" };
    this.rows = []; // the pool of row elements
    this.list = [];
    this.listVersion = -1;
    this.frame = 0;
    this.unavailable = new Map(); // attempt -> message shown where its video would be
    this.moved = []; // rows that took another seat in this render
    // Thumbnails wait until the first grid is on screen (`showImages`): their requests and
    // decoding would otherwise hold up that frame.
    this.imagesShown = false;
    viewport.addEventListener("scroll", () => this.schedule(), { passive: true });
    window.addEventListener("resize", () => this.schedule());
    viewport.addEventListener("click", (ev) => {
      const button = ev.target.closest("[data-action]");
      const row = ev.target.closest(".row");
      if (!row || !row.seat) return;
      if (button) this.onAction(button.dataset.action, row.seat, button);
    });
  }

  setOptions(patch) {
    Object.assign(this.options, patch);
    this.listVersion = -1;
    this.viewport.scrollTop = 0;
    this.schedule();
  }

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.render(); });
  }

  // The whole list again, drawn now (a new snapshot): no second render on the next frame.
  redraw() {
    if (this.frame) { cancelAnimationFrame(this.frame); this.frame = 0; }
    this.listVersion = -1;
    this.render();
  }

  // The rows the viewport holds, made before there is anything to show (hidden); reading the
  // viewport's height lays the page out once, now rather than with the first grid.
  prepare() {
    const height = this.viewport.clientHeight || window.innerHeight;
    const needed = Math.ceil(height / ROW_HEIGHT) + OVERSCAN;
    while (this.rows.length < needed) {
      const r = this.makeRow();
      r.hidden = true;
      this.rows.push(r);
      this.space.append(r);
    }
  }

  render() {
    const model = this.model;
    // the viewport read before anything is written: reading it after a write lays the page out
    const top = this.viewport.scrollTop;
    const height = this.viewport.clientHeight || window.innerHeight;
    // how many rows fill the grid: the server writes that many into the page next time
    // (console/first_screen.py)
    const fits = Math.ceil(height / ROW_HEIGHT);
    if (fits !== this.fits) { this.fits = fits; document.cookie = `proctor_rows=${fits}; path=/; max-age=31536000; samesite=strict`; }
    if (this.listVersion !== model.version) {
      this.list = view(model, this.options);
      this.listVersion = model.version;
      this.space.style.height = `${this.list.length * ROW_HEIGHT}px`;
      this.renderSummary();
    }
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.list.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    const needed = last - first;
    while (this.rows.length < needed) { const r = this.makeRow(); this.rows.push(r); this.space.append(r); }
    for (let i = 0; i < this.rows.length; i++) {
      const row = this.rows[i];
      const seat = this.list[first + i];
      if (i >= needed || !seat) { row.hidden = true; row.seat = null; continue; }
      row.hidden = false;
      row.style.transform = `translateY(${(first + i) * ROW_HEIGHT}px)`;
      this.fill(row, seat);
    }
    // a recycled row starts unscrolled; done after every write, so the layout runs once
    for (const row of this.moved.splice(0)) if (row.scrollLeft) row.scrollLeft = 0;
  }

  renderSummary() {
    const c = counts(this.model);
    const parts = ["total", "in_exam", "offline", "absent", "flagged", "finished"];
    this.summary.replaceChildren(...parts.map((k) => {
      const s = el("span", `count count-${k}`);
      s.textContent = t(`count.${k}`, { n: c[k] });
      return s;
    }));
    setText(this.shown, t("count.shown", { n: this.list.length }));
  }

  makeRow() {
    const row = el("div", "row", { role: "row" });
    const cell = (name) => { const c = el("div", `cell c-${name}`, { role: "cell" }); row.append(c); return c; };
    cell("photo").append(el("img", "photo", { alt: "", loading: "lazy", decoding: "async" }));
    const open = el("button", "who", { "data-action": "open", type: "button" });
    open.append(el("b", "code", { elementtiming: "grid-row" }), el("span", "name"));
    cell("who").append(open, el("span", "badges"));
    cell("state").append(el("span", "state-badge"));
    cell("time").append(el("span", "time"));
    const conn = el("span", "conn");
    for (const part of CONNECTION) conn.append(el("span", `conn-${part}`));
    cell("conn").append(conn);
    cell("warnings").append(el("span", "warnings"));
    cell("violations").append(el("span", "kinds"));
    cell("risk").append(el("span", "risk-badge"), el("span", "why"));
    cell("snapshot").append(
      el("img", "snap", { alt: "", loading: "lazy", decoding: "async" }),
      el("video", "live", { muted: "", playsinline: "", autoplay: "" }),
      el("span", "video-note"),
    );
    const actions = cell("actions");
    for (const a of ACTIONS) actions.append(el("button", `act act-${a}`, { "data-action": a, type: "button" }));
    return wire(row);
  }

  // The rows the server wrote into the page (its first screen: console/first_screen.py, the
  // same markup as makeRow's, filled as fill() fills it) join the pool as they are, so that
  // the first snapshot fills them instead of making new ones. Returns how many there are.
  adopt() {
    for (const row of this.space.querySelectorAll(":scope > .row")) this.rows.push(wire(row));
    return this.rows.length;
  }

  fill(row, seat) {
    const changed = row.seat !== seat;
    if (changed && row.seat) this.moved.push(row); // recycled from another seat
    row.seat = seat;
    const attempt = seat.attempt;
    if (row.dataset.candidate !== seat.candidate) row.dataset.candidate = seat.candidate;
    if (attempt) { if (row.dataset.attempt !== attempt) row.dataset.attempt = attempt; } else if ("attempt" in row.dataset) delete row.dataset.attempt;
    const st = status(seat);
    row.className = `row st-${st}${seat.limitReached ? " limit" : ""}${(seat.risk || 0) >= 50 ? " high" : ""}`;
    // photos: identity photo (or the reference) and the latest snapshot, each only when in view
    const photoUrl = attempt ? `/evidence/${attempt}/identity?v=${seat.identityRefused ? 1 : 0}${seat.state}` : "";
    this.setImage(row.photo, photoUrl);
    const bucket = Math.floor(Date.now() / 30000);
    const snapUrl = attempt && seat.state !== "not_entered" ? `/evidence/${attempt}/snapshot/latest?v=${bucket}.${seat.snapSeq}` : "";
    this.setImage(row.snap, snapUrl);
    const stream = attempt ? this.videos.get(attempt) : null;
    if (row.video.srcObject !== (stream || null)) row.video.srcObject = stream || null;
    row.video.hidden = !stream;
    setText(row.note, (attempt && this.unavailable.get(attempt)) || "");
    setText(row.code, seat.candidate);
    setText(row.name, seat.name);
    const badges = [];
    if (seat.mode === "trial") badges.push(t("mode.badge.trial"));
    if (seat.verdict) badges.push(t(`verdict.${seat.verdict}`));
    if (seat.score !== null && seat.score !== undefined) badges.push(`${seat.score}/${seat.max_score}`);
    setText(row.badges, badges.join(" · "));
    setText(row.state, t(`state.${st}`));
    const left = this.model.secondsLeft(seat);
    setText(row.time, clock(left));
    row.time.classList.toggle("low", left !== null && left < 300);
    this.fillConnection(row, seat);
    const limit = this.model.warningLimit;
    setText(row.warn, !attempt ? t("conn.never") : (limit ? t("warnings.of", { n: seat.warnings || 0, limit }) : t("warnings.none", { n: seat.warnings || 0 })) +
      (seat.limitReached ? ` · ${t("warnings.limit")}` : ""));
    const kinds = Object.entries(seat.kinds || {}).map(([k, v]) => `${term("kind", k)} ×${v.n}`);
    setText(row.kinds, kinds.length ? kinds.join(" · ") : (seat.violations ? String(seat.violations) : "—"));
    setText(row.risk, String(Math.round(seat.risk || 0)));
    const why = reasons(seat);
    const whyText = why.length ? why.join("; ") : (seat.risk_reasons && seat.risk_reasons.length ? seat.risk_reasons.join("; ") : t("risk.none"));
    setText(row.why, whyText);
    if (row.why.title !== whyText) row.why.title = whyText;
    // actions by state: an absentee can be admitted; a live attempt watched, warned...; a
    // finished one reviewed and judged
    const live = attempt && !FINISHED.has(seat.state);
    const show = {
      admit: !attempt,
      watch: live, warn: live && seat.state !== "waiting", message: live,
      extend: live && seat.state !== "waiting", terminate: live,
      accept_identity: live && seat.state === "waiting",
      review: !!attempt && (seat.violations || 0) > 0,
      verdict: !!attempt && FINISHED.has(seat.state) && seat.mode === "exam",
    };
    for (const [a, b] of Object.entries(row.buttons)) {
      b.hidden = !show[a];
      const label = a === "watch" && stream ? t("action.unwatch") : t(`action.${a}`);
      setText(b, label);
    }
  }

  // Connection quality: connected or not with the round trip, reconnects, live media.
  fillConnection(row, seat) {
    const never = seat.state === "not_entered" || FINISHED.has(seat.state);
    const c = row.cx;
    const rtt = seat.connected && seat.rtt_ms !== null && seat.rtt_ms !== undefined ? seat.rtt_ms : null;
    setText(c.status, never ? t("conn.never") : t(seat.connected ? "conn.connected" : "conn.offline"));
    setText(c.rtt, never || !seat.connected ? "" : rtt === null ? "…" : t("conn.rtt", { ms: rtt }));
    c.rtt.title = rtt === null ? t("conn.rtt_none") : "";
    c.rtt.classList.toggle("slow", rtt !== null && rtt >= 300);
    const n = seat.reconnects || 0;
    setText(c.reconnects, never || !n ? "" : n === 1 ? t("conn.reconnects1") : t("conn.reconnects", { n }));
    const media = never ? "" : mediaText(seat);
    setText(c.media, media);
    if (c.media.title !== media) c.media.title = media;
    c.media.classList.toggle("bad", seat.media === "no_live_video");
    const data = row.conn.dataset;
    const want = { rtt: rtt === null ? "" : String(rtt), reconnects: String(n), media: seat.media || "" };
    for (const [k, v] of Object.entries(want)) if (data[k] !== v) data[k] = v;
  }

  // A thumbnail's address ("" for none): loaded now, or once the first grid is on screen.
  setImage(img, url) {
    if (img.dataset.src === url) return;
    img.dataset.src = url;
    img.hidden = !url;
    if (!url) img.removeAttribute("src"); else if (this.imagesShown) img.src = url;
  }

  // The thumbnails of the rows drawn so far, and of every row from now on.
  showImages() {
    if (this.imagesShown) return;
    this.imagesShown = true;
    for (const r of this.rows) for (const img of [r.photo, r.snap]) if (img.dataset.src) img.src = img.dataset.src;
  }

  // Nothing of the exam stays in the page (a refused sign-in).
  clear() {
    for (const r of this.rows) r.remove();
    this.rows = [];
    this.list = [];
    this.summary.replaceChildren();
  }

  // The clocks tick (and snapshot thumbnails refresh) on the rows in view only.
  tick() { for (const r of this.rows) if (r.seat && !r.hidden) this.fill(r, r.seat); }

  // Re-word every row and the counts (the language changed).
  relabel() { this.tick(); this.renderSummary(); }
}
