// Every string the console shows, in English and Chinese. The choice is remembered in
// localStorage ("proctor.lang"); elements carrying data-i18n (text), data-i18n-placeholder or
// data-i18n-title are filled from here, and code asks t(key, params).

const EN = {
  "app.title": "Proctor console",
  "status.connecting": "connecting…",
  "status.live": "live",
  "status.reconnecting": "connection lost — reconnecting ({n})",
  "status.signed_out": "signed out",
  "status.refused": "refused",
  "fatal.bad_token": "Your sign-in is not valid: the token is wrong, the session ended, or your access was revoked. Nothing of the exam is shown.",
  "fatal.refused": "The server refused this console: {message}",
  "fatal.again": "Sign in again",
  "signout": "Sign out",
  "lang.switch": "中文",
  "search.placeholder": "Search code or name",
  "filter.all": "All", "filter.flagged": "Flagged", "filter.offline": "Offline",
  "filter.absent": "Not entered", "filter.identity": "Identity pending", "filter.finished": "Finished",
  "mode.all": "Exam and trial", "mode.exam": "Exam only", "mode.trial": "Trial only",
  "sort.label": "Sort", "sort.risk": "Risk (highest first)", "sort.code": "Candidate code",
  "sort.name": "Name", "sort.time": "Time left", "sort.state": "State",
  "count.total": "{n} tickets", "count.in_exam": "{n} in exam", "count.offline": "{n} offline",
  "count.absent": "{n} not entered", "count.flagged": "{n} flagged", "count.finished": "{n} finished",
  "count.shown": "{n} shown",
  "col.photo": "Photo", "col.candidate": "Candidate", "col.state": "State", "col.time": "Time left",
  "col.connection": "Connection", "col.warnings": "Warnings", "col.violations": "Violations",
  "col.risk": "Risk", "col.snapshot": "Latest snapshot", "col.actions": "Actions",
  "state.not_entered": "not entered", "state.admitted": "admitted late, not entered",
  "state.waiting": "waiting for the start", "state.identity_pending": "identity pending",
  "state.identity_refused": "identity refused", "state.in_exam": "in exam", "state.offline": "offline",
  "state.submitted": "submitted", "state.timed_out": "timed out", "state.terminated": "terminated",
  "conn.connected": "connected", "conn.offline": "offline", "conn.never": "—",
  "conn.rtt": "{ms} ms", "conn.rtt_none": "round trip not measured yet",
  "conn.reconnects": "{n} reconnects", "conn.reconnects1": "1 reconnect",
  "conn.media.live": "live video", "conn.media.no_live_video": "no live video",
  "conn.media.none": "no video offered", "conn.media.why": "no live video: {reason}",
  // why there is no live video, in the server's own words (mediaReason below)
  "media.reason.connection_closed": "the candidate's connection closed",
  "media.reason.moved": "the candidate reconnected through another server",
  "media.reason.attempt_over": "the attempt is over",
  "media.reason.shutting_down": "the server is shutting down",
  "media.reason.ice": "the connection failed (ICE)",
  "media.reason.ice_failed": "the connection failed (ICE failed)",
  "media.reason.dtls_alert": "the connection failed (DTLS alert)",
  "media.reason.closed": "closed",
  "media.reason.timed_out": "live media did not answer in time",
  "media.reason.restarting": "live media is restarting",
  "media.reason.not_enabled": "live media is not enabled on this server",
  "media.reason.process_stopped": "the media process stopped; the candidate's app offers again",
  "media.reason.no_answer": "the media server gave no answer to the offer",
  "mode.badge.trial": "trial", "mode.badge.exam": "exam",
  "warnings.of": "{n} of {limit}", "warnings.none": "{n}", "warnings.limit": "limit reached",
  "risk.none": "no violations",
  "time.over": "over", "time.none": "—",
  "verdict.clean": "clean", "verdict.suspicious": "suspicious", "verdict.invalidated": "invalidated",
  "action.watch": "Watch", "action.unwatch": "Stop", "action.warn": "Warn", "action.message": "Message",
  "action.terminate": "Terminate", "action.extend": "Extra time", "action.review": "Review",
  "action.admit": "Admit", "action.accept_identity": "Accept identity", "action.verdict": "Verdict",
  "action.open": "Open", "action.close": "Close",
  "video.unavailable": "live video not available", "video.connecting": "connecting video…",
  "video.failed": "live video failed",
  "dialog.warn.title": "Warn {who}", "dialog.warn.help": "The candidate sees this text; it counts toward the warning limit.",
  "dialog.message.title": "Message {who}", "dialog.message.help": "The candidate sees this text; it counts toward nothing.",
  "dialog.terminate.title": "Terminate {who}'s exam", "dialog.terminate.help": "The attempt ends now and is scored as it stands. This cannot be undone.",
  "dialog.extend.title": "Extra time for {who}", "dialog.extend.help": "Moves only this attempt's deadline.",
  "dialog.admit.title": "Admit {who} late", "dialog.admit.help": "Lets this candidate make a first entry after the entry window closed, until the exam ends. This cannot be undone.",
  "dialog.accept_identity.title": "Accept {who}'s identity photo", "dialog.accept_identity.help": "Overrides the automatic check: the candidate gets the paper. This cannot be undone.",
  "dialog.review.title": "Review a violation of {who}", "dialog.review.help": "Confirm or dismiss, with a note; the latest review stands.",
  "dialog.verdict.title": "Verdict on {who}'s attempt", "dialog.verdict.help": "Result publishing respects it: an invalidated attempt does not pass.",
  "field.text": "Text the candidate sees", "field.reason": "Reason (kept in the audit log)",
  "field.minutes": "Minutes", "field.verdict": "Verdict", "field.note": "Note",
  "field.violation": "Violation", "field.confirm": "I understand this cannot be undone",
  "preset.face": "Please face the camera.", "preset.window": "Please stay in the exam window.",
  "preset.alone": "No one else may be in the room.", "preset.quiet": "Please do not talk during the exam.",
  "review.confirmed": "confirmed", "review.dismissed": "dismissed", "review.none": "not reviewed",
  "dialog.send": "Send", "dialog.cancel": "Cancel", "dialog.sending": "Sending…",
  "dialog.no_violation": "This attempt has no violation to review.",
  "toast.done": "{action}: done for {who}", "toast.error": "{action} failed: {message}",
  "toast.limit": "{who} reached the warning limit ({count} of {limit}): {action}",
  "toast.limit.alert": "the exam goes on", "toast.limit.terminate": "the attempt ends",
  "error.disconnected": "the connection was lost before the server answered",
  "error.timeout": "no answer from the server",
  "panel.identity": "Identity", "panel.identity_photo": "Identity photo", "panel.reference": "Reference photo",
  "panel.no_photo": "no photo", "panel.id.accepted": "accepted", "panel.id.refused": "refused",
  "panel.id.none": "no identity photo yet", "panel.id.overridden": "accepted by a proctor",
  "panel.address": "Address given", "panel.no_address": "no address given yet",
  "panel.progress": "Progress", "panel.answered": "answered {n} of {m}",
  "panel.snapshots": "Snapshot timeline", "panel.no_snapshots": "no snapshots yet",
  "panel.violations": "Violations", "panel.no_violations": "no violations",
  "panel.events": "Events", "panel.no_events": "no events",
  "panel.audit": "Audit entries", "panel.no_audit": "no entries",
  "panel.live": "Live video", "panel.details": "Attempt",
  "panel.deadline": "deadline {t}", "panel.score": "score {s} of {m}",
  "panel.loading": "loading…", "panel.absent": "This candidate has not entered yet.",
  "panel.duration": "{s} s", "panel.open_violation": "still open", "panel.confidence": "confidence {p}%",
  "panel.source.client": "reported by the app", "panel.source.server": "seen by the server",
  "panel.source.proctor": "by a proctor", "panel.by": "by {who}", "panel.email": "e-mail", "panel.phone": "phone",
  "addr.name": "name", "addr.phone": "phone", "addr.address": "address", "addr.postcode": "postcode",
  "reason.count": "{n} times", "reason.count1": "once", "reason.lasting": "{span} in all",
  "reason.confidence": "confidence up to {p}%",
  "span.s": "{s} s", "span.min": "{m} min", "span.min_s": "{m} min {s} s",
};

const ZH = {
  "app.title": "监考台",
  "status.connecting": "正在连接…",
  "status.live": "实时",
  "status.reconnecting": "连接中断，正在重连（第 {n} 次）",
  "status.signed_out": "已退出",
  "status.refused": "被拒绝",
  "fatal.bad_token": "登录无效：令牌错误、会话已结束或权限已被吊销。不显示任何考试信息。",
  "fatal.refused": "服务器拒绝了本监考台：{message}",
  "fatal.again": "重新登录",
  "signout": "退出登录",
  "lang.switch": "English",
  "search.placeholder": "搜索考生号或姓名",
  "filter.all": "全部", "filter.flagged": "有标记", "filter.offline": "离线",
  "filter.absent": "未进入", "filter.identity": "待核验身份", "filter.finished": "已结束",
  "mode.all": "正式与模拟", "mode.exam": "仅正式考试", "mode.trial": "仅模拟考试",
  "sort.label": "排序", "sort.risk": "风险（高到低）", "sort.code": "考生号",
  "sort.name": "姓名", "sort.time": "剩余时间", "sort.state": "状态",
  "count.total": "共 {n} 张准考证", "count.in_exam": "{n} 人考试中", "count.offline": "{n} 人离线",
  "count.absent": "{n} 人未进入", "count.flagged": "{n} 人有标记", "count.finished": "{n} 人已结束",
  "count.shown": "显示 {n} 人",
  "col.photo": "照片", "col.candidate": "考生", "col.state": "状态", "col.time": "剩余时间",
  "col.connection": "连接", "col.warnings": "警告", "col.violations": "违规",
  "col.risk": "风险", "col.snapshot": "最新抓拍", "col.actions": "操作",
  "state.not_entered": "未进入", "state.admitted": "已准许迟到，未进入",
  "state.waiting": "等待开考", "state.identity_pending": "待核验身份",
  "state.identity_refused": "身份照未通过", "state.in_exam": "考试中", "state.offline": "离线",
  "state.submitted": "已交卷", "state.timed_out": "超时结束", "state.terminated": "已终止",
  "conn.connected": "在线", "conn.offline": "离线", "conn.never": "—",
  "conn.rtt": "{ms} 毫秒", "conn.rtt_none": "尚未测得往返时延",
  "conn.reconnects": "重连 {n} 次", "conn.reconnects1": "重连 1 次",
  "conn.media.live": "实时视频正常", "conn.media.no_live_video": "无实时视频",
  "conn.media.none": "未提供视频", "conn.media.why": "无实时视频：{reason}",
  "media.reason.connection_closed": "考生的连接已断开",
  "media.reason.moved": "考生已通过另一台服务器重新连接",
  "media.reason.attempt_over": "考试已结束",
  "media.reason.shutting_down": "服务器正在关闭",
  "media.reason.ice": "连接失败（ICE）",
  "media.reason.ice_failed": "连接失败（ICE 失败）",
  "media.reason.dtls_alert": "连接失败（DTLS 告警）",
  "media.reason.closed": "已关闭",
  "media.reason.timed_out": "音视频服务未及时响应",
  "media.reason.restarting": "音视频服务正在重启",
  "media.reason.not_enabled": "本服务器未启用实时音视频",
  "media.reason.process_stopped": "音视频进程已停止，考生端将重新发起",
  "media.reason.no_answer": "媒体服务器未应答",
  "mode.badge.trial": "模拟", "mode.badge.exam": "正式",
  "warnings.of": "{n} / {limit}", "warnings.none": "{n}", "warnings.limit": "已达上限",
  "risk.none": "无违规",
  "time.over": "已到时", "time.none": "—",
  "verdict.clean": "无问题", "verdict.suspicious": "可疑", "verdict.invalidated": "成绩作废",
  "action.watch": "查看", "action.unwatch": "停止", "action.warn": "警告", "action.message": "留言",
  "action.terminate": "终止", "action.extend": "延时", "action.review": "审核",
  "action.admit": "准许进入", "action.accept_identity": "认可身份", "action.verdict": "裁定",
  "action.open": "详情", "action.close": "关闭",
  "video.unavailable": "实时视频暂不可用", "video.connecting": "正在连接视频…",
  "video.failed": "实时视频连接失败",
  "dialog.warn.title": "警告 {who}", "dialog.warn.help": "考生会看到这段文字；计入警告次数上限。",
  "dialog.message.title": "给 {who} 留言", "dialog.message.help": "考生会看到这段文字；不计入任何次数。",
  "dialog.terminate.title": "终止 {who} 的考试", "dialog.terminate.help": "考试立即结束并按当前作答计分。此操作无法撤销。",
  "dialog.extend.title": "给 {who} 延时", "dialog.extend.help": "只延后这位考生的截止时间。",
  "dialog.admit.title": "准许 {who} 迟到进入", "dialog.admit.help": "允许该考生在入场时间结束后首次进入，直到考试结束。此操作无法撤销。",
  "dialog.accept_identity.title": "认可 {who} 的身份照", "dialog.accept_identity.help": "推翻自动核验结果：考生将收到试卷。此操作无法撤销。",
  "dialog.review.title": "审核 {who} 的违规", "dialog.review.help": "确认或驳回，并写明备注；以最后一次审核为准。",
  "dialog.verdict.title": "裁定 {who} 的考试", "dialog.verdict.help": "发布成绩时遵从此裁定：作废的考试不算通过。",
  "field.text": "考生看到的文字", "field.reason": "原因（记入审计日志）",
  "field.minutes": "分钟", "field.verdict": "结论", "field.note": "备注",
  "field.violation": "违规", "field.confirm": "我知道此操作无法撤销",
  "preset.face": "请正对摄像头。", "preset.window": "请不要离开考试窗口。",
  "preset.alone": "考试期间房间内不得有他人。", "preset.quiet": "考试期间请不要说话。",
  "review.confirmed": "已确认", "review.dismissed": "已驳回", "review.none": "未审核",
  "dialog.send": "发送", "dialog.cancel": "取消", "dialog.sending": "正在发送…",
  "dialog.no_violation": "这次考试没有可审核的违规。",
  "toast.done": "{action}：已对 {who} 完成", "toast.error": "{action}失败：{message}",
  "toast.limit": "{who} 的警告已达上限（{count} / {limit}）：{action}",
  "toast.limit.alert": "考试继续", "toast.limit.terminate": "考试结束",
  "error.disconnected": "服务器应答前连接已中断",
  "error.timeout": "服务器没有应答",
  "panel.identity": "身份核验", "panel.identity_photo": "身份照", "panel.reference": "报名照片",
  "panel.no_photo": "无照片", "panel.id.accepted": "已通过", "panel.id.refused": "未通过",
  "panel.id.none": "尚未提交身份照", "panel.id.overridden": "监考员已认可",
  "panel.address": "邮寄地址", "panel.no_address": "尚未填写地址",
  "panel.progress": "进度", "panel.answered": "已答 {n} / {m} 题",
  "panel.snapshots": "抓拍时间线", "panel.no_snapshots": "暂无抓拍",
  "panel.violations": "违规", "panel.no_violations": "无违规",
  "panel.events": "事件", "panel.no_events": "无事件",
  "panel.audit": "审计记录", "panel.no_audit": "无记录",
  "panel.live": "实时视频", "panel.details": "考试",
  "panel.deadline": "截止 {t}", "panel.score": "得分 {s} / {m}",
  "panel.loading": "正在加载…", "panel.absent": "该考生尚未进入考试。",
  "panel.duration": "{s} 秒", "panel.open_violation": "仍在持续", "panel.confidence": "置信度 {p}%",
  "panel.source.client": "客户端上报", "panel.source.server": "服务器识别",
  "panel.source.proctor": "监考员", "panel.by": "由 {who}", "panel.email": "邮箱", "panel.phone": "电话",
  "addr.name": "收件人", "addr.phone": "电话", "addr.address": "地址", "addr.postcode": "邮编",
  "reason.count": "{n} 次", "reason.count1": "1 次", "reason.lasting": "共 {span}",
  "reason.confidence": "置信度最高 {p}%",
  "span.s": "{s} 秒", "span.min": "{m} 分钟", "span.min_s": "{m} 分 {s} 秒",
};

// Violation kinds, event kinds and finish reasons (shared/vocabulary.py).
const KINDS = {
  left_exam_window: ["left the exam screen", "离开考试界面"],
  extra_screen: ["a second screen connected", "连接了第二块屏幕"],
  identity_mismatch: ["not the registered person", "与报名者不符"],
  multiple_faces: ["another person in view", "画面中有他人"],
  face_absent: ["candidate not in view", "考生不在画面中"],
  looking_away: ["looking away", "视线离开屏幕"],
  camera_blocked: ["camera covered or black", "摄像头被遮挡或黑屏"],
  camera_frozen: ["camera picture frozen", "摄像头画面静止"],
  virtual_camera: ["virtual camera", "虚拟摄像头"],
  virtual_machine: ["virtual machine", "虚拟机"],
  speaking: ["talking", "说话"],
  low_evidence_quality: ["poor camera picture (not counted)", "画面质量差（不计分）"],
  focus_lost: ["left the exam window", "离开考试窗口"],
  focus_back: ["back in the exam window", "回到考试窗口"],
  window_minimized: ["window minimised", "窗口最小化"],
  window_restored: ["window restored", "窗口恢复"],
  app_inactive: ["app in the background", "应用转入后台"],
  app_active: ["app active again", "应用恢复前台"],
  screen_added: ["screen connected", "连接了屏幕"],
  screen_removed: ["screen disconnected", "断开了屏幕"],
  device_signal: ["device figures", "设备信息"],
  time_up: ["time up", "时间到"],
};
for (const [k, [en, zh]] of Object.entries(KINDS)) { EN["kind." + k] = en; ZH["kind." + k] = zh; }

// Audit actions, shown in the panel.
const ACTIONS = {
  entry: ["entered", "进入考试"], entry_refused: ["entry refused", "拒绝进入"],
  identity: ["identity verdict", "身份核验"], transition: ["state change", "状态变化"],
  warning: ["warning", "警告"], violation: ["violation", "违规"], message: ["message", "留言"],
  terminate: ["terminated", "终止"], extend: ["extra time", "延时"], admit: ["admitted late", "准许迟到"],
  review: ["violation reviewed", "审核违规"], accept_identity: ["identity accepted", "认可身份"],
  verdict: ["verdict", "裁定"], warning_limit: ["warning limit reached", "警告达上限"],
  finalize: ["finished", "结束"], profile: ["address given", "填写地址"],
};
for (const [k, [en, zh]] of Object.entries(ACTIONS)) { EN["audit." + k] = en; ZH["audit." + k] = zh; }

const TABLES = { en: EN, zh: ZH };
const STORAGE = "proctor.lang";

function initial() {
  let saved = null;
  try { saved = localStorage.getItem(STORAGE); } catch { /* storage refused: follow the browser */ }
  if (saved === "en" || saved === "zh") return saved;
  return (navigator.language || "").toLowerCase().startsWith("zh") ? "zh" : "en";
}

// The server writes the page's first words in the language of this cookie (first_screen.py).
function remember(chosen) {
  const cookie = `proctor_lang=${chosen}`;
  if (!document.cookie.split("; ").includes(cookie)) document.cookie = `${cookie}; path=/; max-age=31536000; samesite=strict`;
}

let lang = initial();
remember(lang);
const listeners = [];

export function currentLang() { return lang; }

export function t(key, params) {
  let text = TABLES[lang][key] ?? EN[key] ?? key;
  if (params) text = text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
  return text;
}

// A label from the vocabulary (a violation or event kind, an audit action); unknown ones as is.
export function term(prefix, value) {
  const key = `${prefix}.${value}`;
  return key in EN ? t(key) : String(value).replaceAll("_", " ");
}

// Why a candidate has no live video, in the page's language: the server's fixed reasons are
// the English texts of the "media.reason." keys; any other (a media server's own message)
// is shown as it came.
const MEDIA_REASONS = new Map(
  Object.entries(EN).filter(([key]) => key.startsWith("media.reason.")).map(([key, text]) => [text, key]),
);
export function mediaReason(text) {
  const key = MEDIA_REASONS.get(text);
  return key ? t(key) : text;
}

export function applyStatic(root = document) {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const el of root.querySelectorAll("[data-i18n]")) { const text = t(el.dataset.i18n); if (el.textContent !== text) el.textContent = text; }
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
}

export function setLang(next) {
  lang = next === "zh" ? "zh" : "en";
  try { localStorage.setItem(STORAGE, lang); } catch { /* not remembered, still switched */ }
  remember(lang);
  applyStatic();
  for (const fn of listeners) fn(lang);
}

export function onLangChange(fn) { listeners.push(fn); }

export function span(seconds) {
  const total = Math.round(seconds);
  if (total < 60) return t("span.s", { s: total });
  const m = Math.floor(total / 60), s = total % 60;
  return s ? t("span.min_s", { m, s }) : t("span.min", { m });
}
