// The live feed (/ws/proctor, signed in by the HttpOnly session cookie): the exam's snapshot,
// then its events; commands go out with a client id and resolve on `ack`, reject on `error`.
//
// A refused sign-in (error bad_token, close 4401) or a refused exam (close 4403) is final: the
// page says so and does not retry. Any other loss of the socket is retried with a growing
// pause, and the page shows "reconnecting" until the next snapshot arrives.

const FINAL_CLOSES = new Set([4401, 4403, 1008]);
const COMMAND_TIMEOUT_MS = 15000;

export class Feed {
  constructor({ onSnapshot, onEvent, onStatus, onFatal, onMedia }) {
    this.handlers = { onSnapshot, onEvent, onStatus, onFatal, onMedia };
    this.pending = new Map(); // client id -> {resolve, reject, timer}
    this.retries = 0;
    this.lastError = null;
    this.ws = null;
    this.stopped = false;
  }

  connect() {
    if (this.stopped) return;
    const early = window.__earlyFeed;
    window.__earlyFeed = null;
    if (early && !this.retries) { this.adopt(early); return; }
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${location.host}/ws/proctor${location.search}`);
    this.ws = ws;
    this.handlers.onStatus(this.retries ? "reconnecting" : "connecting", this.retries);
    ws.onopen = () => performance.mark("feed:open");
    ws.onmessage = (msg) => this.receive(msg.data);
    ws.onclose = (ev) => this.closed(ev);
  }

  // The socket index.html opened before the modules loaded: take it over, with what it got.
  adopt(early) {
    const ws = early.ws;
    this.ws = ws;
    this.handlers.onStatus("connecting", 0);
    ws.onmessage = (msg) => this.receive(msg.data);
    ws.onclose = (ev) => this.closed(ev);
    for (const m of early.messages) this.receive(m.data);
    if (early.closed) this.closed(early.closed);
  }

  receive(data) {
    if (!this.bytes) performance.mark("feed:first-frame");
    let m;
    try { m = JSON.parse(data); } catch { return; }
    this.bytes = (this.bytes || 0) + data.length;
    const ref = m.type === "ack" ? m.id : m.type === "error" ? m.ref : null;
    if (ref && this.pending.has(ref)) {
      const p = this.pending.get(ref);
      this.pending.delete(ref);
      clearTimeout(p.timer);
      if (m.type === "ack") p.resolve(m); else p.reject(m);
      return;
    }
    if (m.type === "error") {
      this.lastError = m;
      if (m.code === "bad_token") this.fatal("bad_token", m.message);
      return;
    }
    if (m.type === "snapshot") {
      this.retries = 0;
      this.handlers.onSnapshot(m);
      this.handlers.onStatus("live", 0);
      return;
    }
    if (m.type === "rtc_offer" || m.type === "rtc_ice") { this.handlers.onMedia(m); return; }
    if (m.type === "ack") return;
    this.handlers.onEvent(m);
  }

  closed(ev) {
    this.failPending({ code: "disconnected" });
    if (this.stopped) return;
    if (FINAL_CLOSES.has(ev.code)) {
      const reason = ev.code === 4401 ? "bad_token" : "refused";
      this.fatal(reason, this.lastError ? this.lastError.message : ev.reason);
      return;
    }
    this.retries += 1;
    this.handlers.onStatus("reconnecting", this.retries);
    const pause = Math.min(15000, 500 * 2 ** Math.min(this.retries, 5));
    setTimeout(() => this.connect(), pause);
  }

  fatal(reason, message) {
    if (this.stopped) return;
    this.stopped = true;
    this.failPending({ code: "disconnected" });
    try { this.ws.close(); } catch { /* already closed */ }
    this.handlers.onFatal(reason, message || "");
  }

  failPending(error) {
    for (const [, p] of this.pending) { clearTimeout(p.timer); p.reject(error); }
    this.pending.clear();
  }

  // Send a command; resolves with the ack, rejects with the error ({code, message}).
  command(type, fields) {
    const id = (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`).replaceAll("-", "");
    return new Promise((resolve, reject) => {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) { reject({ code: "disconnected" }); return; }
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject({ code: "timeout" });
      }, COMMAND_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ type, id, ...fields }));
    });
  }

  // A message without an id (rtc_answer, rtc_ice).
  post(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }
}
