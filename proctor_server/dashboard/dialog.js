// The action dialog: one <dialog id="action-dialog"> for every command, with the fields that
// command needs (text, reason, minutes, verdict, note), a confirmation for what cannot be
// undone, and the server's answer: closed on `ack`, the error shown in place on `error`.
//
// Fields: [name=text|reason|minutes|verdict|note|violation|confirm]; buttons
// [data-dialog=submit|cancel]; the outcome in [data-dialog=error].

import { t, term } from "/console/i18n.js";

const SPECS = {
  warn: { fields: ["text"], presets: ["preset.face", "preset.window", "preset.alone", "preset.quiet"] },
  message: { fields: ["text"] },
  terminate: { fields: ["reason"], confirm: true, danger: true },
  extend: { fields: ["minutes", "reason"] },
  admit: { fields: ["reason"], confirm: true },
  accept_identity: { fields: ["reason"], confirm: true },
  review: { fields: ["violation", "verdict", "note"], verdicts: ["confirmed", "dismissed"] },
  verdict: { fields: ["verdict", "note"], verdicts: ["clean", "suspicious", "invalidated"] },
};
const REQUIRED = new Set(["text", "reason", "minutes", "verdict", "violation"]);

function el(tag, attrs, text) {
  const e = document.createElement(tag);
  if (attrs) for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

export class ActionDialog {
  constructor(dialog, send) {
    this.dialog = dialog;
    this.send = send; // (type, fields) -> Promise
    dialog.addEventListener("close", () => { this.dialog.replaceChildren(); });
  }

  // Opens the dialog for `action` on `seat`; `violations` for a review ([{id, kind, at, review}]).
  open(action, seat, { violations = [], violation = null } = {}) {
    const spec = SPECS[action];
    const who = `${seat.candidate} ${seat.name}`;
    const form = el("form", { method: "dialog", "data-dialog-action": action });
    form.append(el("h2", null, t(`dialog.${action}.title`, { who })));
    form.append(el("p", { class: "help" }, t(`dialog.${action}.help`)));
    if (action === "review" && !violations.length) {
      form.append(el("p", { class: "error" }, t("dialog.no_violation")));
    }
    for (const name of spec.fields) {
      const label = el("label");
      label.append(el("span", null, t(`field.${name}`)));
      let input;
      if (name === "text") {
        input = el("textarea", { name, rows: "3", maxlength: "2000" });
        if (spec.presets) {
          const presets = el("div", { class: "presets" });
          for (const key of spec.presets) {
            const b = el("button", { type: "button", class: "preset" }, t(key));
            b.onclick = () => { input.value = t(key); input.focus(); };
            presets.append(b);
          }
          label.append(presets);
        }
      } else if (name === "reason" || name === "note") {
        input = el("textarea", { name, rows: "2", maxlength: "2000" });
      } else if (name === "minutes") {
        input = el("input", { name, type: "number", min: "1", max: "1440", step: "1", value: "10" });
      } else if (name === "verdict") {
        input = el("select", { name });
        for (const v of spec.verdicts) input.append(el("option", { value: v }, t(action === "review" ? `review.${v}` : `verdict.${v}`)));
      } else if (name === "violation") {
        input = el("select", { name });
        for (const v of violations) {
          const when = new Date(v.at).toLocaleTimeString();
          const state = v.review ? t(`review.${v.review.verdict}`) : t("review.none");
          input.append(el("option", { value: String(v.id) }, `#${v.id} ${term("kind", v.kind)} · ${when} · ${state}`));
        }
        const chosen = violation ?? (violations.find((v) => !v.review) || violations[violations.length - 1] || {}).id;
        if (chosen !== undefined) input.value = String(chosen);
      }
      if (REQUIRED.has(name)) input.required = true;
      label.append(input);
      form.append(label);
    }
    if (spec.confirm) {
      const label = el("label", { class: "confirm" });
      const box = el("input", { type: "checkbox", name: "confirm", required: "" });
      label.append(box, el("span", null, t("field.confirm")));
      form.append(label);
    }
    const error = el("p", { class: "error", "data-dialog": "error", role: "alert" });
    const buttons = el("div", { class: "buttons" });
    const cancel = el("button", { type: "button", "data-dialog": "cancel" }, t("dialog.cancel"));
    const submit = el("button", { type: "submit", "data-dialog": "submit", class: spec.danger ? "danger" : "primary" }, t(`action.${action}`));
    cancel.onclick = () => this.dialog.close();
    buttons.append(cancel, submit);
    form.append(error, buttons);
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (action === "review" && !violations.length) return;
      const data = new FormData(form);
      const fields = this.fields(action, seat, data);
      submit.disabled = true;
      submit.textContent = t("dialog.sending");
      error.textContent = "";
      this.send(action, fields, seat).then(
        () => this.dialog.close(),
        (err) => {
          submit.disabled = false;
          submit.textContent = t(`action.${action}`);
          error.textContent = err.message || t(`error.${err.code}`) || err.code;
        },
      );
    });
    this.dialog.replaceChildren(form);
    this.dialog.dataset.action = action;
    if (!this.dialog.open) this.dialog.showModal();
    const first = form.querySelector("textarea, input:not([type=checkbox]), select");
    if (first) first.focus();
  }

  fields(action, seat, data) {
    const s = (k) => String(data.get(k) || "").trim();
    switch (action) {
      case "warn": case "message": return { attempt: seat.attempt, text: s("text") };
      case "terminate": case "accept_identity": return { attempt: seat.attempt, reason: s("reason") };
      case "extend": return { attempt: seat.attempt, minutes: Number(s("minutes")), reason: s("reason") };
      case "admit": return { candidate: seat.candidate, reason: s("reason") };
      case "review": return { violation: Number(s("violation")), verdict: s("verdict"), note: s("note") };
      case "verdict": return { attempt: seat.attempt, verdict: s("verdict"), note: s("note") };
      default: return {};
    }
  }
}
