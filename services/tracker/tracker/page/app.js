// The tracker's live page: the token stays in sessionStorage and travels only in the
// Authorization header (fetch for the API and for the event stream, never in a URL).
"use strict";

const TOKEN_KEY = "pagesmith-tracker-token";
const ACTIVE = new Set(["unknown", "submitted", "checked-out", "generated", "published"]);
const MAX_ROWS = 200;

const $ = (id) => document.getElementById(id);
const tasks = new Map();
let token = sessionStorage.getItem(TOKEN_KEY);
let lastSeq = null;
let skewMs = 0; // server clock minus ours, so times agree with the server's
let openTaskId = null;
let openTimeline = [];
let streamAbort = null;

function now() { return Date.now() + skewMs; }

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

function safeUrl(value) {
  // Untrusted strings become links only when they are plain http(s) URLs.
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch { return null; }
}

function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  if (h) return `${h}h ${String(m).padStart(2, "0")}m`;
  if (m) return `${m}m ${String(sec).padStart(2, "0")}s`;
  return `${sec}s`;
}

function timeSoFar(t) {
  if (!t.received_at) return "—";
  const end = t.finished_at ? Date.parse(t.finished_at) : now();
  return duration(end - Date.parse(t.received_at));
}

function headroom(t) {
  if (!t.deadline) return { text: "—", late: false };
  const at = t.finished_at ? Date.parse(t.finished_at) : now();
  const left = Date.parse(t.deadline) - at;
  if (left < 0) return { text: `${duration(-left)} past the deadline`, late: true };
  return { text: t.finished_at ? `finished ${duration(left)} early` : `${duration(left)} left`, late: false };
}

function badge(t) {
  const kind = t.state === "failed" ? "failed"
    : t.state === "notified" ? (t.degraded ? "degraded" : "notified") : "active";
  const label = t.state === "notified" && t.degraded ? "notified (degraded)" : t.state;
  return el("span", { class: `badge ${kind}`, text: label });
}

function setLive(state, text) {
  const live = $("live");
  live.dataset.state = state;
  live.textContent = text;
}

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { ...(options.headers || {}), Authorization: `Bearer ${token}` },
    cache: "no-store",
  });
  if (response.status === 401) {
    signOut("The tracker refused that token.");
    throw new Error("unauthorized");
  }
  return response;
}

// ---- the task list
function visible() {
  const show = $("show").value;
  return [...tasks.values()]
    .filter((t) => show === "all" || (show === "active" ? ACTIVE.has(t.state) : t.state === show))
    .sort((a, b) => (b.received_at || b.first_seen_at).localeCompare(a.received_at || a.first_seen_at))
    .slice(0, MAX_ROWS);
}

function row(t) {
  const name = t.task ? `${t.task}` : t.task_id;
  const open = el("button", {
    type: "button", class: "task-name", "data-task-id": t.task_id,
    "aria-label": `${name}, round ${t.round ?? "?"}: show the timeline`,
  });
  open.textContent = t.round ? `${name} · round ${t.round}` : name;
  open.addEventListener("click", () => openDetail(t.task_id));
  const first = el("td", { "data-label": "Task" }, open, el("span", { class: "who", text: t.email || t.task_id }));
  const state = el("td", { "data-label": "State", class: "state" }, badge(t));
  if (t.state === "failed" && t.failure_reason) {
    state.append(el("span", { class: "reason", text: t.failure_reason }));
  }
  const head = headroom(t);
  const links = el("td", { "data-label": "Links", class: "links" });
  for (const [label, url] of [["Repo", t.repo_url], ["Site", t.pages_url], ["Trace", t.trace_url]]) {
    const href = url && safeUrl(url);
    if (href) links.append(el("a", { href, text: label, rel: "noopener noreferrer", target: "_blank" }));
  }
  return el("tr", { "data-task-id": t.task_id, "data-state": t.state },
    first,
    state,
    el("td", { "data-label": "Stage", class: "stage", text: t.stage || "—" }),
    el("td", { "data-label": "Time so far", class: "elapsed", text: timeSoFar(t) }),
    el("td", { "data-label": "Deadline", class: head.late ? "headroom late" : "headroom", text: head.text }),
    links);
}

function render() {
  const focused = document.activeElement?.dataset?.taskId;
  const rows = visible().map(row);
  $("rows").replaceChildren(...rows);
  $("empty").hidden = rows.length > 0;
  if (focused) document.querySelector(`#rows button[data-task-id="${CSS.escape(focused)}"]`)?.focus();
}

function tick() {
  // Time so far and headroom move every second; only those cells change.
  for (const tr of $("rows").children) {
    const t = tasks.get(tr.dataset.taskId);
    if (!t || t.finished_at) continue;
    tr.querySelector(".elapsed").textContent = timeSoFar(t);
    const head = headroom(t);
    const cell = tr.querySelector(".headroom");
    cell.textContent = head.text;
    cell.className = head.late ? "headroom late" : "headroom";
  }
}

async function loadList() {
  const response = await api("/api/tasks?limit=100");
  const body = await response.json();
  skewMs = Date.parse(body.now) - Date.now();
  tasks.clear();
  for (const t of body.tasks) tasks.set(t.task_id, t);
  render();
}

// ---- one task's timeline
function describe(e) {
  const d = e.detail || {};
  const parts = [];
  if (d.reason) parts.push(d.reason);
  if (d.pages_url) parts.push(d.pages_url);
  if (d.commit_sha) parts.push(`commit ${d.commit_sha.slice(0, 12)}`);
  if (d.files !== undefined) parts.push(`${d.files} files`);
  if (d.degraded) parts.push(`degraded${d.degraded_reason ? `: ${d.degraded_reason}` : ""}`);
  if (d.selfcheck) parts.push(`self-check ${d.selfcheck.outcome} (${d.selfcheck.passed ?? 0} passed)`);
  if (d.attempts !== undefined) parts.push(`${d.attempts} callback attempt(s)`);
  return parts.join(" · ");
}

function renderDetail() {
  const t = tasks.get(openTaskId);
  if (!t) return;
  $("detail-title").textContent = `${t.task || t.task_id}${t.round ? ` · round ${t.round}` : ""}`;
  const facts = [
    ["Task id", t.task_id], ["Email", t.email], ["State", t.state], ["Stage", t.stage],
    ["Outcome", t.outcome], ["Received", t.received_at], ["Deadline", t.deadline],
    ["Finished", t.finished_at], ["Failure", t.failure_reason && `${t.failure_stage}: ${t.failure_reason}`],
    ["Degraded", t.degraded ? t.degraded_reason || "yes" : null],
    ["Self-check", t.selfcheck && `${t.selfcheck.outcome}: ${t.selfcheck.passed ?? 0} passed, ${(t.selfcheck.failed || []).length} failed`],
    ["Commit", t.commit_sha], ["Trace id", t.trace_id],
  ];
  $("facts").replaceChildren(...facts.filter(([, v]) => v !== null && v !== undefined && v !== "")
    .flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: String(v) })]));
  const items = [...openTimeline].sort((a, b) => a.time.localeCompare(b.time) || a.seq - b.seq)
    .map((e) => el("li", { "data-type": e.type },
      el("span", { class: "when", text: `${new Date(e.time).toLocaleTimeString()} ` }),
      el("span", { class: "what", text: e.type }),
      el("span", { text: e.stage ? ` from ${e.stage}` : "" }),
      el("span", { class: "more", text: describe(e) })));
  $("timeline").replaceChildren(...items);
}

async function openDetail(taskId) {
  const response = await api(`/api/tasks/${encodeURIComponent(taskId)}`);
  if (!response.ok) return;
  const body = await response.json();
  tasks.set(taskId, body.task);
  openTaskId = taskId;
  openTimeline = body.timeline;
  $("detail").hidden = false;
  renderDetail();
  $("detail").focus();
}

function closeDetail() {
  const id = openTaskId;
  openTaskId = null;
  $("detail").hidden = true;
  if (id) document.querySelector(`#rows button[data-task-id="${CSS.escape(id)}"]`)?.focus();
}

// ---- the live stream (Server-Sent Events read through fetch, so the token stays in a header)
function onFrame(kind, data) {
  if (kind === "ready") {
    skewMs = Date.parse(data.now) - Date.now();
    setLive("live", "Live");
  } else if (kind === "change") {
    tasks.set(data.task.task_id, data.task);
    if (data.task.task_id === openTaskId && !openTimeline.some((e) => e.seq === data.event.seq)) {
      openTimeline.push(data.event);
      renderDetail();
    }
    render();
  } else if (kind === "reset") {
    loadList();
  }
}

async function follow(signal) {
  while (!signal.aborted) {
    try {
      const headers = { Authorization: `Bearer ${token}`, Accept: "text/event-stream" };
      if (lastSeq !== null) headers["Last-Event-ID"] = String(lastSeq);
      const response = await fetch("/api/tasks/events", { headers, signal, cache: "no-store" });
      if (response.status === 401) { signOut("The tracker refused that token."); return; }
      if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let kind = "message", data = "", id = null;
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) continue;
            const [field, ...rest] = line.split(":");
            const text = rest.join(":").replace(/^ /, "");
            if (field === "event") kind = text;
            else if (field === "data") data += (data ? "\n" : "") + text;
            else if (field === "id") id = text;
          }
          if (id !== null && id !== "") lastSeq = Number(id);
          if (data) onFrame(kind, JSON.parse(data));
        }
      }
    } catch (err) {
      if (signal.aborted) return;
    }
    setLive("down", "Reconnecting…");
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

// ---- token handling
function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  token = null;
  streamAbort?.abort();
  tasks.clear();
  $("tasks").hidden = true;
  $("detail").hidden = true;
  $("sign-out").hidden = true;
  $("token-form").hidden = false;
  $("token-error").textContent = message || "";
  setLive("", "Not connected");
  $("token").focus();
}

async function start() {
  $("token-form").hidden = true;
  $("tasks").hidden = false;
  $("sign-out").hidden = false;
  setLive("", "Connecting…");
  try {
    await loadList();
  } catch (err) {
    if (!token) return;
    setLive("down", "The tracker is not answering; retrying…");
  }
  streamAbort = new AbortController();
  follow(streamAbort.signal);
}

document.addEventListener("DOMContentLoaded", () => {
  $("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    token = $("token").value.trim();
    if (!token) return;
    sessionStorage.setItem(TOKEN_KEY, token);
    $("token").value = "";
    $("token-error").textContent = "";
    start();
  });
  $("sign-out").addEventListener("click", () => signOut(""));
  $("show").addEventListener("change", render);
  $("close-detail").addEventListener("click", closeDetail);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && openTaskId) closeDetail();
  });
  setInterval(tick, 1000);
  if (token) start(); else signOut("");
});
