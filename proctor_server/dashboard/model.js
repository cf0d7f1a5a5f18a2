// The exam as the page knows it: one seat per ticket (keyed by candidate code), filled from the
// feed's snapshot and /api/exam, then moved by each feed event. Pure data: no DOM here.

export const FINISHED = new Set(["submitted", "timed_out", "terminated"]);

// The snapshot travels by columns: `columns[i]` holds `fields[i]` for every row, in row order;
// a column shorter than the rows (an all-default one is []) ends with these defaults
// (docs/protocol.md).
const ROW_DEFAULTS = {
  attempt: "", mode: "exam", connected: false, ends_at: null, warnings: 0, violations: 0, risk: 0,
  risk_reasons: [], rtt_ms: null, reconnects: 0, media: null, media_reason: null, admitted: false,
  verdict: null, score: null, max_score: null, passed: null,
};

// The snapshot's rows as objects keyed by field name.
export function snapshotRows(snapshot) {
  const fields = snapshot.fields || [];
  const columns = snapshot.columns || [];
  const count = columns.length ? columns[0].length : 0;
  const rows = new Array(count);
  for (let r = 0; r < count; r++) rows[r] = {};
  for (let i = 0; i < fields.length; i++) {
    const name = fields[i];
    const column = columns[i] || [];
    const d = ROW_DEFAULTS[name];
    const n = column.length;
    for (let r = 0; r < count; r++) rows[r][name] = r < n ? column[r] : Array.isArray(d) ? [] : d;
  }
  return rows;
}

export class Model {
  constructor() {
    this.exam = null;
    this.seats = new Map(); // candidate code -> seat
    this.byAttempt = new Map(); // attempt id -> candidate code
    this.offsetMs = 0; // server time minus this browser's time
    this.warningLimit = null;
    this.limitAction = null;
    this.version = 0; // bumped on every change that can move a seat in the order or filters
  }

  serverNow() { return Date.now() + this.offsetMs; }

  load(snapshot) {
    this.exam = snapshot.exam;
    this.offsetMs = Date.parse(snapshot.server_time) - Date.now();
    const previous = this.seats;
    this.seats = new Map();
    this.byAttempt = new Map();
    for (const seat of snapshotRows(snapshot)) {
      // the row's object becomes the seat (one object per ticket, no copy)
      const a = seat;
      const old = previous.get(a.candidate);
      seat.kinds = old && old.attempt === a.attempt ? old.kinds : {};
      seat.reasons = old && old.attempt === a.attempt ? old.reasons : null;
      seat.identityRefused = old ? old.identityRefused : false;
      seat.limitReached = old ? old.limitReached : false;
      seat.snapSeq = old ? old.snapSeq : 0;
      seat.touched = 0;
      this.seats.set(a.candidate, seat);
      if (a.attempt) this.byAttempt.set(a.attempt, a.candidate);
    }
    this.version++;
  }

  // /api/exam: risk and violations by kind per attempt.
  loadDetails(details) {
    this.warningLimit = details.warning_limit;
    this.limitAction = details.on_warning_limit;
    for (const [attempt, d] of Object.entries(details.attempts)) {
      const seat = this.seatOf(attempt);
      if (!seat) continue;
      seat.kinds = d.kinds;
      seat.risk = d.risk;
      seat.violations = Object.values(d.kinds).reduce((n, k) => n + k.n, 0);
    }
    this.version++;
  }

  seatOf(attempt) {
    const code = this.byAttempt.get(attempt);
    return code ? this.seats.get(code) : undefined;
  }

  // Apply one feed event; returns the seat it moved (or undefined).
  apply(e) {
    let seat = e.attempt ? this.seatOf(e.attempt) : undefined;
    if (!seat && e.candidate) {
      seat = this.seats.get(e.candidate);
      if (!seat) return undefined;
      if (e.type === "joined" && (seat.attempt === "" || e.mode === "exam" || seat.mode !== "exam")) {
        if (seat.attempt !== e.attempt) { seat.kinds = {}; seat.violations = 0; seat.warnings = 0; seat.risk = 0; seat.reasons = null; }
        if (seat.attempt) this.byAttempt.delete(seat.attempt);
        seat.attempt = e.attempt;
        this.byAttempt.set(e.attempt, e.candidate);
      } else if (e.type !== "admitted") {
        return undefined; // an event of an attempt this seat does not show (an earlier trial)
      }
    }
    if (!seat) return undefined;
    seat.touched = Date.now();
    switch (e.type) {
      case "joined":
        Object.assign(seat, { connected: true, mode: e.mode, state: e.state, rtt_ms: null });
        if (e.reconnects !== undefined) seat.reconnects = e.reconnects;
        break;
      case "left": seat.connected = false; seat.rtt_ms = null; break;
      case "connection": seat.rtt_ms = e.rtt_ms; seat.reconnects = e.reconnects; break;
      case "media": seat.media = e.status; seat.media_reason = e.reason || null; break;
      case "started": seat.state = "in_progress"; break;
      case "identity":
        seat.identityRefused = !e.accepted;
        if (e.accepted && seat.state === "waiting") seat.state = "verified";
        break;
      case "identity_overridden":
        seat.identityRefused = false;
        if (seat.state === "waiting") seat.state = "verified";
        break;
      case "event":
        if (e.violation) this.count(seat, e.violation);
        break;
      case "flag":
        this.count(seat, e.kind, e.confidence);
        if (e.snapshot) seat.snapSeq++;
        break;
      case "attempt_finished":
        Object.assign(seat, { state: e.state, score: e.score, max_score: e.max_score, passed: e.passed });
        break;
      case "warned": seat.warnings = e.count; break;
      case "warning_limit_reached": seat.limitReached = true; break;
      case "extended": seat.ends_at = e.ends_at; break;
      case "admitted": seat.admitted = true; break;
      case "judged": seat.verdict = e.verdict; break;
      default: break;
    }
    this.version++;
    return seat;
  }

  count(seat, kind, confidence = 1) {
    const k = seat.kinds[kind] || (seat.kinds[kind] = { n: 0, seconds: 0, confidence: 0 });
    k.n++;
    k.confidence = Math.max(k.confidence, confidence);
    seat.violations = (seat.violations || 0) + 1;
  }

  // Seconds left on this seat's own deadline (null without one).
  secondsLeft(seat) {
    if (!seat.ends_at || FINISHED.has(seat.state)) return null;
    return Math.max(0, (Date.parse(seat.ends_at) - this.serverNow()) / 1000);
  }
}

// The state a proctor reads: an absentee, identity pending, offline, in exam...
export function status(seat) {
  if (seat.state === "not_entered") return seat.admitted ? "admitted" : "not_entered";
  if (FINISHED.has(seat.state)) return seat.state;
  if (!seat.connected) return "offline";
  if (seat.state === "waiting") return seat.identityRefused ? "identity_refused" : "identity_pending";
  if (seat.state === "verified") return "waiting";
  return "in_exam";
}

export function flagged(seat) {
  return (seat.violations || 0) > 0 || (seat.warnings || 0) > 0 || seat.identityRefused;
}

const FILTERS = {
  all: () => true,
  flagged,
  offline: (s) => status(s) === "offline",
  absent: (s) => s.state === "not_entered",
  identity: (s) => s.state === "waiting",
  finished: (s) => FINISHED.has(s.state),
};

const STATE_ORDER = ["identity_refused", "identity_pending", "offline", "in_exam", "waiting", "admitted", "not_entered", "terminated", "timed_out", "submitted"];

function comparator(sort, model) {
  const byCode = (a, b) => (a.candidate < b.candidate ? -1 : a.candidate > b.candidate ? 1 : 0);
  switch (sort) {
    case "code": return byCode;
    case "name": return (a, b) => a.name.localeCompare(b.name) || byCode(a, b);
    case "time": {
      const left = (s) => { const v = model.secondsLeft(s); return v === null ? Infinity : v; };
      return (a, b) => left(a) - left(b) || byCode(a, b);
    }
    case "state": return (a, b) => STATE_ORDER.indexOf(status(a)) - STATE_ORDER.indexOf(status(b)) || byCode(a, b);
    default:
      return (a, b) => (b.risk || 0) - (a.risk || 0) || (b.violations || 0) - (a.violations || 0) ||
        (b.warnings || 0) - (a.warnings || 0) || byCode(a, b);
  }
}

// The seats a view shows, in its order.
export function view(model, { filter = "all", mode = "all", search = "", sort = "risk" }) {
  const wanted = FILTERS[filter] || FILTERS.all;
  const needle = search.trim().toLowerCase();
  const out = [];
  for (const seat of model.seats.values()) {
    if (!wanted(seat)) continue;
    if (mode !== "all" && seat.mode !== mode) continue;
    if (needle && !seat.candidate.toLowerCase().includes(needle) && !seat.name.toLowerCase().includes(needle)) continue;
    out.push(seat);
  }
  return out.sort(comparator(sort, model));
}

export function counts(model) {
  const c = { total: 0, in_exam: 0, offline: 0, absent: 0, flagged: 0, finished: 0 };
  for (const seat of model.seats.values()) {
    c.total++;
    const s = status(seat);
    if (s === "in_exam") c.in_exam++;
    else if (s === "offline") c.offline++;
    else if (seat.state === "not_entered") c.absent++;
    else if (FINISHED.has(seat.state)) c.finished++;
    if (flagged(seat)) c.flagged++;
  }
  return c;
}
