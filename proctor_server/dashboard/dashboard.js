// The proctor's live view: the exam's attempts as they stand, then every event as it happens.
"use strict";
const token = new URLSearchParams(location.search).get("token") || "";
const statusEl = document.getElementById("status");
const rows = new Map();

function cell(text) { const td = document.createElement("td"); td.textContent = text ?? ""; return td; }

function render(a) {
  let tr = rows.get(a.attempt);
  if (!tr) { tr = document.createElement("tr"); rows.set(a.attempt, tr); document.querySelector("#attempts tbody").append(tr); }
  tr.replaceChildren(cell(a.candidate), cell(a.name), cell(a.mode), cell(a.state), cell(a.connected ? "yes" : "no"),
    cell(a.warnings), cell(a.violations), cell(a.risk == null ? "" : Math.round(a.risk)),
    cell(a.score == null ? "" : `${a.score} / ${a.max_score}`));
  tr.title = (a.risk_reasons || []).join("\n");
  tr.classList.toggle("flagged", (a.violations || 0) > 0);
}

const attempts = new Map();
function update(id, patch) {
  const a = Object.assign(attempts.get(id) || { attempt: id, warnings: 0, violations: 0 }, patch);
  attempts.set(id, a); render(a);
}

function log(event) {
  const li = document.createElement("li");
  const who = event.candidate ? `${event.candidate} ` : "";
  li.textContent = `${new Date(event.at).toLocaleTimeString()} ${who}${event.type}` +
    (event.kind ? ` ${event.kind}` : "") +
    (event.type === "event" && event.violation ? ` → ${event.violation}` : "") +
    (event.type === "violation_ended" ? ` (${Math.round(event.duration_s)} s)` : "") +
    (event.reasons && event.reasons.length ? ` (${event.reasons.join("; ")})` : "");
  if ((event.type === "event" && event.violation) || event.type === "flag") li.classList.add("violation");
  document.getElementById("events").prepend(li);
}

function connect() {
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/proctor?token=${encodeURIComponent(token)}`);
  ws.onopen = () => { statusEl.textContent = "live"; statusEl.className = "status live"; };
  ws.onclose = () => { statusEl.textContent = "disconnected — retrying"; statusEl.className = "status down"; setTimeout(connect, 2000); };
  ws.onmessage = (msg) => {
    const e = JSON.parse(msg.data);
    if (e.type === "error") { statusEl.textContent = e.message; return; }
    if (e.type === "snapshot") {
      document.getElementById("title").textContent = e.exam.title;
      e.attempts.forEach((a) => update(a.attempt, a));
      return;
    }
    log(e);
    if (e.type === "joined") update(e.attempt, { candidate: e.candidate, name: e.name, mode: e.mode, state: e.state, connected: true });
    else if (e.type === "left") update(e.attempt, { connected: false });
    else if (e.type === "started") update(e.attempt, { state: "in_progress" });
    else if (e.type === "attempt_finished") update(e.attempt, { state: e.state, score: e.score, max_score: e.max_score });
    else if (e.type === "event" && e.violation) update(e.attempt, { violations: (attempts.get(e.attempt)?.violations || 0) + 1 });
    else if (e.type === "flag") update(e.attempt, { violations: (attempts.get(e.attempt)?.violations || 0) + 1 });
  };
}
connect();
