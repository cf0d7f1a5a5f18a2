// A candidate's panel (<aside id="panel" data-panel-candidate data-panel-attempt>): live video,
// the identity photo beside the reference photo with the verdict, the address given (R14),
// progress (answered n of m, never the answers), the snapshot timeline, violations with their
// evidence, durations and reviews, the client's events and the attempt's audit entries.
// Everything comes from the server (/api/attempt/ID): a reload shows the same history. Feed
// events for this attempt re-read it, at most every REFRESH_MS.

import { t, term, span } from "/console/i18n.js";
import { status, FINISHED } from "/console/model.js";
import { clock, mediaText } from "/console/grid.js";

const REFRESH_MS = 400;

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

function time(wire) { return wire ? new Date(wire).toLocaleTimeString() : ""; }

function img(src, alt) {
  const i = el("img");
  i.loading = "lazy"; i.decoding = "async"; i.alt = alt || ""; i.src = src;
  i.onerror = () => { i.replaceWith(el("span", "no-photo", t("panel.no_photo"))); };
  return i;
}

function section(title) {
  const s = el("section", "panel-section");
  s.append(el("h3", null, title));
  return s;
}

export class Panel {
  constructor({ root, model, videos, onAction }) {
    Object.assign(this, { root, model, videos, onAction });
    this.seat = null;
    this.data = null;
    this.timer = 0;
    root.addEventListener("click", (ev) => {
      const b = ev.target.closest("[data-panel-action]");
      if (!b || !this.seat) return;
      const action = b.dataset.panelAction;
      if (action === "close") { this.close(); return; }
      this.onAction(action, this.seat, b);
    });
  }

  get attempt() { return this.seat ? this.seat.attempt : null; }

  open(seat) {
    this.seat = seat;
    this.data = null;
    this.root.hidden = false;
    this.root.dataset.panelCandidate = seat.candidate;
    this.root.dataset.panelAttempt = seat.attempt || "";
    this.render();
    this.reload();
  }

  close() {
    this.seat = null;
    this.data = null;
    this.root.hidden = true;
    this.root.replaceChildren();
  }

  // A feed event about this seat: re-read the history soon (coalesced).
  touched() {
    if (!this.seat || this.timer) return;
    this.timer = setTimeout(() => { this.timer = 0; this.reload(); }, REFRESH_MS);
  }

  async reload() {
    const seat = this.seat;
    if (!seat) return;
    if (seat.attempt !== (this.root.dataset.panelAttempt || "")) this.root.dataset.panelAttempt = seat.attempt || "";
    if (!seat.attempt) { this.render(); return; }
    try {
      const r = await fetch(`/api/attempt/${encodeURIComponent(seat.attempt)}`, { credentials: "same-origin" });
      if (!r.ok) return;
      const data = await r.json();
      if (this.seat === seat && data.attempt === seat.attempt) { this.data = data; this.render(); }
    } catch { /* the feed reports the connection */ }
  }

  tick() {
    if (!this.seat) return;
    const node = this.root.querySelector(".panel-time");
    if (node) node.textContent = clock(this.model.secondsLeft(this.seat));
  }

  render() {
    const seat = this.seat;
    if (!seat) return;
    const d = this.data;
    const scroll = this.root.querySelector(".panel-body")?.scrollTop || 0;
    const head = el("header", "panel-head");
    const title = el("h2");
    title.append(el("b", null, seat.candidate), " ", el("span", null, seat.name));
    const close = el("button", "close", "×");
    close.dataset.panelAction = "close";
    close.title = t("action.close");
    const sub = el("div", "panel-sub");
    sub.append(el("span", `state-badge st-${status(seat)}`, t(`state.${status(seat)}`)));
    if (seat.mode === "trial") sub.append(el("span", "badge", t("mode.badge.trial")));
    sub.append(el("span", "panel-time", clock(this.model.secondsLeft(seat))));
    if (seat.verdict) sub.append(el("span", "badge", t(`verdict.${seat.verdict}`)));
    head.append(title, close, sub, this.actions(seat));
    const body = el("div", "panel-body");
    if (!seat.attempt) {
      body.append(el("p", "muted", t("panel.absent")));
    } else if (!d) {
      body.append(el("p", "muted", t("panel.loading")));
    } else {
      body.append(this.live(seat), this.identity(d), this.details(d), this.snapshots(d), this.violations(d), this.events(d), this.audit(d));
    }
    this.root.replaceChildren(head, body);
    body.scrollTop = scroll;
  }

  actions(seat) {
    const bar = el("div", "panel-actions");
    const live = seat.attempt && !FINISHED.has(seat.state);
    const list = !seat.attempt ? ["admit"] : [
      ...(live ? ["warn", "message", "extend", "terminate"] : []),
      ...(live && seat.state === "waiting" ? ["accept_identity"] : []),
      ...(FINISHED.has(seat.state) && seat.mode === "exam" ? ["verdict"] : []),
    ];
    for (const a of list) {
      const b = el("button", `act act-${a}`, t(`action.${a}`));
      b.dataset.panelAction = a;
      bar.append(b);
    }
    return bar;
  }

  live(seat) {
    const s = section(t("panel.live"));
    const video = el("video", "panel-video");
    video.muted = false; video.autoplay = true; video.playsInline = true; video.controls = true;
    const stream = this.videos.get(seat.attempt);
    video.srcObject = stream;
    video.hidden = !stream;
    const b = el("button", "act", t(stream ? "action.unwatch" : "action.watch"));
    b.dataset.panelAction = "watch";
    const said = mediaText(seat); // in full here: the grid's cell has room for its start only
    if (said) s.append(el("p", seat.media === "no_live_video" ? "panel-media bad" : "panel-media", said));
    s.append(b, video);
    return s;
  }

  identity(d) {
    const s = section(t("panel.identity"));
    const pair = el("div", "id-pair");
    const ids = d.photos.filter((p) => p.kind === "identity_photo");
    const latest = ids[ids.length - 1];
    const fig = (src, caption) => { const f = el("figure"); f.append(src ? img(src) : el("span", "no-photo", t("panel.no_photo")), el("figcaption", null, caption)); return f; };
    pair.append(fig(latest ? `/evidence/${d.attempt}/identity?v=${latest.id}` : null, t("panel.identity_photo")));
    pair.append(fig(d.has_reference ? `/evidence/${d.attempt}/reference` : null, t("panel.reference")));
    s.append(pair);
    const overridden = d.audit.some((e) => e.action === "accept_identity");
    let verdict;
    if (overridden) verdict = el("p", "verdict ok", t("panel.id.overridden"));
    else if (!latest) verdict = el("p", "verdict muted", t("panel.id.none"));
    else if (latest.accepted) verdict = el("p", "verdict ok", t("panel.id.accepted"));
    else verdict = el("p", "verdict bad", `${t("panel.id.refused")}: ${(latest.reasons || []).join("; ")}`);
    s.append(verdict);
    return s;
  }

  details(d) {
    const s = section(t("panel.details"));
    const dl = el("dl", "facts");
    const row = (k, v) => { dl.append(el("dt", null, k), el("dd", null, v)); };
    row(t("panel.progress"), t("panel.answered", { n: d.progress.answered, m: d.progress.questions }));
    row(t("col.time"), `${clock(this.model.secondsLeft(this.seat))} · ${t("panel.deadline", { t: time(d.ends_at) })}`);
    row(t("col.warnings"), String(d.warnings));
    if (d.score !== null) row(t("panel.details"), t("panel.score", { s: d.score, m: d.max_score }));
    if (d.email) row(t("panel.email"), d.email);
    if (d.phone) row(t("panel.phone"), d.phone);
    s.append(dl);
    const a = section(t("panel.address"));
    if (d.mail_to) {
      const addr = el("dl", "facts address");
      for (const k of ["name", "phone", "address", "postcode"]) if (d.mail_to[k]) addr.append(el("dt", null, t(`addr.${k}`)), el("dd", null, d.mail_to[k]));
      a.append(addr);
    } else a.append(el("p", "muted", t("panel.no_address")));
    const both = el("div", "two");
    both.append(s, a);
    return both;
  }

  snapshots(d) {
    const s = section(t("panel.snapshots"));
    const snaps = d.photos.filter((p) => p.kind === "snapshot");
    if (!snaps.length) { s.append(el("p", "muted", t("panel.no_snapshots"))); return s; }
    const strip = el("div", "timeline");
    for (const p of snaps.slice().reverse()) {
      const f = el("figure", "shot");
      f.dataset.photo = p.id;
      f.append(img(`/evidence/${d.attempt}/snapshot/${p.id}`), el("figcaption", null, time(p.at)));
      strip.append(f);
    }
    s.append(strip);
    return s;
  }

  // The snapshot nearest a moment: the evidence beside a violation.
  nearest(d, at) {
    const when = Date.parse(at);
    let best = null, gap = Infinity;
    for (const p of d.photos) {
      if (p.kind !== "snapshot") continue;
      const g = Math.abs(Date.parse(p.at) - when);
      if (g < gap) { gap = g; best = p; }
    }
    return gap <= 60000 ? best : null;
  }

  violations(d) {
    const s = section(t("panel.violations"));
    if (!d.violations.length) { s.append(el("p", "muted", t("panel.no_violations"))); return s; }
    const list = el("ol", "violations");
    for (const v of d.violations) {
      const li = el("li", `violation${v.review ? ` rev-${v.review.verdict}` : ""}`);
      li.dataset.violation = String(v.id);
      const shot = (v.evidence && (v.evidence.snapshot || v.evidence.photo)) ? { id: v.evidence.snapshot || v.evidence.photo } : this.nearest(d, v.at);
      if (shot) li.append(img(`/evidence/${d.attempt}/snapshot/${shot.id}`));
      if (v.clip) {  // the live audio and video around it
        const clip = el("video", "clip");
        Object.assign(clip, { controls: true, preload: "none", src: `/evidence/${d.attempt}/clip/${v.clip}` });
        li.append(clip);
      }
      const text = el("div", "v-text");
      text.append(el("b", null, `#${v.id} ${term("kind", v.kind)}`));
      const facts = [time(v.at), t(`panel.source.${v.source}`)];
      facts.push(v.duration_s !== null ? span(v.duration_s) : t("panel.open_violation"));
      if (v.confidence < 1) facts.push(t("panel.confidence", { p: Math.round(v.confidence * 100) }));
      text.append(el("div", "muted", facts.join(" · ")));
      const ev = Object.entries(v.evidence || {}).filter(([k]) => !["snapshot", "photo", "event"].includes(k));
      if (ev.length) text.append(el("div", "evidence", ev.map(([k, x]) => `${k}: ${typeof x === "object" ? JSON.stringify(x) : x}`).join(" · ")));
      const review = v.review ? `${t(`review.${v.review.verdict}`)} — ${v.review.note || ""} (${v.review.by})` : t("review.none");
      text.append(el("div", "review", review));
      const b = el("button", "act act-review", t("action.review"));
      b.dataset.panelAction = "review";
      b.dataset.violation = String(v.id);
      li.append(text, b);
      list.append(li);
    }
    s.append(list);
    return s;
  }

  events(d) {
    const s = section(t("panel.events"));
    if (!d.events.length) { s.append(el("p", "muted", t("panel.no_events"))); return s; }
    const list = el("ol", "events");
    for (const e of d.events.slice().reverse()) list.append(el("li", null, `${time(e.at)} ${term("kind", e.kind)}`));
    s.append(list);
    return s;
  }

  audit(d) {
    const s = section(t("panel.audit"));
    if (!d.audit.length) { s.append(el("p", "muted", t("panel.no_audit"))); return s; }
    const list = el("ol", "audit");
    for (const e of d.audit.slice().reverse()) {
      const li = el("li");
      li.dataset.audit = e.action;
      const why = ["text", "reason", "note", "verdict", "minutes", "count", "state", "to"]
        .filter((k) => e.detail[k] !== undefined && e.detail[k] !== null && e.detail[k] !== "")
        .map((k) => `${k}: ${e.detail[k]}`).join(" · ");
      li.append(el("span", "muted", `#${e.seq} ${time(e.at)} `), el("b", null, term("audit", e.action)), ` ${e.actor}${why ? " — " + why : ""}`);
      list.append(li);
    }
    s.append(list);
    return s;
  }
}
