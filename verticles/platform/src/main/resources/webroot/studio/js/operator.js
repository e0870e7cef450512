// The operator view: polls GET /v1/admin/overview, draws the queue, workers and failures, keeps a
// short history for the charts, and sends the admin actions (drain, cancel, re-queue).
import { ApiError, credential, describe, request, signInWithApiKey, signInWithPassword, signOut } from "./api.js";
import { drawChart } from "./charts.js";
import { setupSignIn } from "./signin.js";

const $ = (id) => document.getElementById(id);
const POLL_MS = 2000;
const HISTORY = 150; // samples: five minutes at one every two seconds

const state = { timer: null, paused: false, history: [], selected: new Set(), busy: false };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "dataset") {
      Object.assign(node.dataset, value);
    } else if (key.startsWith("on")) {
      node.addEventListener(key.slice(2), value);
    } else if (value !== undefined && value !== null && value !== false) {
      node.setAttribute(key, value === true ? "" : value);
    }
  }
  node.append(...children.filter((c) => c !== null && c !== undefined));
  return node;
}

function say(text) {
  $("action-status").textContent = text;
}

function formatDuration(seconds) {
  if (seconds === null || seconds === undefined) {
    return "–";
  }
  if (seconds < 60) {
    return `${Math.round(seconds)} s`;
  }
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  }
  return `${(seconds / 3600).toFixed(1)} h`;
}

function formatMs(ms) {
  return ms === null || ms === undefined ? "–" : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

// ---------------------------------------------------------------- access

function showSignIn(message) {
  stopPolling();
  $("operator").hidden = true;
  $("account").hidden = true;
  $("denied").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message || "";
  $("api-key").focus();
}

function deny(text) {
  stopPolling();
  $("operator").hidden = true;
  $("signin").hidden = true;
  $("account").hidden = false;
  const denied = $("denied");
  denied.textContent = text;
  denied.hidden = false;
}

async function enter() {
  $("signin").hidden = true;
  $("denied").hidden = true;
  $("account").hidden = false;
  await poll();
  if (!$("operator").hidden) {
    $("queue-title").focus();
  }
}

// ---------------------------------------------------------------- polling

function stopPolling() {
  clearTimeout(state.timer);
  state.timer = null;
}

function schedule() {
  stopPolling();
  state.timer = setTimeout(poll, POLL_MS);
}

async function poll() {
  if (state.paused || document.hidden) {
    schedule();
    return;
  }
  const badge = $("refresh-state");
  try {
    const overview = await request("/v1/admin/overview");
    $("operator").hidden = false;
    badge.dataset.state = "open";
    badge.textContent = "Live";
    render(overview);
    schedule();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      credential.clear();
      showSignIn("Please sign in with an admin account.");
    } else if (err instanceof ApiError && err.status === 403) {
      deny("This view is for operators: your account does not have the admin role.");
    } else if (err instanceof ApiError && err.status === 404) {
      deny("This server has no admin API (GET /v1/admin/overview answered 404).");
    } else {
      badge.dataset.state = "reconnecting";
      badge.textContent = "Retrying…";
      $("updated").textContent = `Last update failed: ${describe(err)}`;
      schedule();
    }
  }
}

// ---------------------------------------------------------------- rendering

function render(o) {
  const queue = o.queue || {};
  $("updated").textContent = `Updated ${new Date().toLocaleTimeString()}`;
  $("stat-queued").textContent = queue.queued ?? "–";
  $("stat-running").textContent = queue.running ?? "–";
  $("stat-oldest").textContent = queue.queued ? formatDuration(queue.oldest_seconds) : "–";
  $("stat-throughput").textContent = typeof o.throughput_per_s === "number" ? `${o.throughput_per_s.toFixed(2)}/s` : "–";
  const latency = o.dispatch_latency_ms || {};
  $("stat-latency").textContent = `${formatMs(latency.p50)} / ${formatMs(latency.p99)}`;

  const rows = (queue.by_tier_model || []).slice().sort((a, b) => b.queued - a.queued);
  $("by-tier").replaceChildren(...(rows.length ? rows.map((r) => el("tr", {},
    el("td", {}, r.tier), el("td", {}, r.model), el("td", { class: "num" }, String(r.queued))))
    : [el("tr", {}, el("td", { colspan: 3, class: "empty" }, "Nothing is waiting."))]));

  state.history.push({ t: Date.now(), throughput: o.throughput_per_s ?? 0, p50: latency.p50 ?? 0, p99: latency.p99 ?? 0 });
  if (state.history.length > HISTORY) {
    state.history.shift();
  }
  drawChart($("chart-throughput"), [state.history.map((h) => h.throughput)],
    (v) => `${v.toFixed(2)}/s`, "throughput, jobs per second");
  drawChart($("chart-latency"), [state.history.map((h) => h.p50), state.history.map((h) => h.p99)],
    (v) => formatMs(v), "dispatch latency p50 and p99");

  renderWorkers(o.workers || []);
  renderFailures(o.recent_failures || []);
  $("replicas").replaceChildren(...(o.replicas || []).map((r) => el("li", {},
    el("code", {}, r.id), ` ${r.url || ""} `,
    el("span", { class: "badge", "data-state": r.reachable ? "ok" : "bad" }, r.reachable ? "reachable" : "unreachable"))));
}

/**
 * Updates a table body row by row: a row whose data did not change stays the same DOM node (so
 * focus, screen-reader position and a half-done click survive the poll), and `touch` refreshes its
 * live cells (the heartbeat age) in place.
 */
function syncRows(body, items, key, signature, build, touch = () => {}) {
  const existing = new Map([...body.children].map((tr) => [tr.dataset.key, tr]));
  const rows = items.map((item) => {
    const sig = signature(item);
    let tr = existing.get(key(item));
    if (!tr || tr.dataset.signature !== sig) {
      const fresh = build(item);
      fresh.dataset.key = key(item);
      fresh.dataset.signature = sig;
      if (tr) {
        const focused = tr.contains(document.activeElement) ? document.activeElement.dataset.focusKey : null;
        tr.replaceWith(fresh);
        if (focused) {
          fresh.querySelector(`[data-focus-key="${CSS.escape(focused)}"]`)?.focus();
        }
      }
      tr = fresh;
    }
    touch(tr, item);
    return tr;
  });
  const same = rows.length === body.children.length && rows.every((tr, i) => body.children[i] === tr);
  if (!same) {
    body.replaceChildren(...rows);
  }
}

function renderWorkers(workers) {
  $("no-workers").hidden = workers.length > 0;
  syncRows($("workers"), workers, (w) => w.id,
    (w) => JSON.stringify({ ...w, heartbeat_age_ms: undefined }), workerRow,
    (tr, w) => { tr.querySelector(".heartbeat").textContent = formatMs(w.heartbeat_age_ms); });
}

function workerRow(w) {
  const jobs = (w.jobs || []).map((j) => el("span", { class: "job-chip" },
    el("code", { title: `user ${j.user_id}` }, j.job_id.slice(0, 8)),
    j.attempt > 1 ? `#${j.attempt}` : null,
    el("button", {
      type: "button", "aria-label": `Cancel job ${j.job_id}`, dataset: { focusKey: `cancel-${j.job_id}` },
      onclick: () => cancelJob(j.job_id),
    }, "Cancel")));
  return el("tr", { dataset: { workerId: w.id } },
    el("th", { scope: "row" }, el("code", {}, w.id)),
    el("td", {}, w.router_id || "–"),
    el("td", {}, w.gpu || "–"),
    el("td", { class: "num" }, w.vram_mb ? `${(w.vram_mb / 1024).toFixed(1)} GiB` : "–"),
    el("td", { class: "num" }, `${w.busy ?? 0} / ${w.slots ?? 0}`),
    el("td", {}, (w.models || []).join(", ") || "–"),
    el("td", {}, ...(jobs.length ? jobs : ["idle"])),
    el("td", { class: "num heartbeat" }, formatMs(w.heartbeat_age_ms)),
    el("td", {}, el("span", { class: "badge worker-state", "data-state": w.draining ? "draining" : "ok" },
      w.draining ? "draining" : "serving")),
    el("td", {}, el("button", {
      type: "button", class: "drain", disabled: w.draining, "aria-label": `Drain worker ${w.id}`,
      dataset: { focusKey: `drain-${w.id}` }, onclick: () => drain(w.id),
    }, "Drain")));
}

function renderFailures(failures) {
  $("no-failures").hidden = failures.length > 0;
  const ids = new Set(failures.map((f) => f.job_id));
  [...state.selected].filter((id) => !ids.has(id)).forEach((id) => state.selected.delete(id));
  syncRows($("failures"), failures, (f) => f.job_id, (f) => JSON.stringify(f), failureRow,
    (tr, f) => { tr.querySelector("input").checked = state.selected.has(f.job_id); });
  $("requeue").disabled = state.selected.size === 0;
}

function failureRow(f) {
  return el("tr", {},
    el("td", {}, el("input", {
      type: "checkbox", "aria-label": `Select failed job ${f.job_id}`,
      dataset: { focusKey: `select-${f.job_id}` },
      onchange: (e) => {
        if (e.target.checked) {
          state.selected.add(f.job_id);
        } else {
          state.selected.delete(f.job_id);
        }
        $("requeue").disabled = state.selected.size === 0;
      },
    })),
    el("td", {}, el("code", {}, f.job_id)),
    el("td", {}, el("code", {}, f.user_id || "–")),
    el("td", {}, el("code", {}, f.code || "–")),
    el("td", {}, f.message || ""),
    el("td", {}, f.finished_at ? new Date(f.finished_at).toLocaleTimeString() : "–"));
}

// ---------------------------------------------------------------- actions

async function act(description, action) {
  if (state.busy) {
    return;
  }
  state.busy = true;
  say(`${description}…`);
  try {
    const result = await action();
    say(`${description}: done.`);
    await poll();
    return result;
  } catch (err) {
    say(`${description} failed: ${describe(err)}`);
    return null;
  } finally {
    state.busy = false;
  }
}

function drain(workerId) {
  if (!window.confirm(`Drain ${workerId}? It finishes its current jobs and takes no new ones.`)) {
    return;
  }
  act(`Draining ${workerId}`, () => request(`/v1/admin/workers/${encodeURIComponent(workerId)}/drain`, { method: "POST" }));
}

function cancelJob(jobId) {
  if (!window.confirm(`Cancel job ${jobId}?`)) {
    return;
  }
  act(`Canceling ${jobId}`, () => request(`/v1/admin/jobs/${encodeURIComponent(jobId)}/cancel`, { method: "POST" }));
}

async function requeue(event) {
  event.preventDefault();
  const jobIds = [...state.selected];
  if (jobIds.length === 0) {
    return;
  }
  const result = await act(`Re-queuing ${jobIds.length} job(s)`,
    () => request("/v1/admin/jobs/requeue", { method: "POST", body: { job_ids: jobIds } }));
  if (result) {
    state.selected.clear();
    say(`Re-queued ${result.requeued} of ${jobIds.length} job(s) (only failed jobs are re-queued).`);
  }
}

function wire() {
  setupSignIn({ onPassword: signInWithPassword, onApiKey: signInWithApiKey, onSignedIn: enter });
  $("requeue-form").addEventListener("submit", requeue);
  $("cancel-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const id = $("cancel-id").value.trim();
    if (id) {
      cancelJob(id);
    }
  });
  $("pause").addEventListener("click", () => {
    state.paused = !state.paused;
    $("pause").setAttribute("aria-pressed", String(state.paused));
    $("pause").textContent = state.paused ? "Resume updates" : "Pause updates";
    $("refresh-state").textContent = state.paused ? "Paused" : "Live";
    $("refresh-state").dataset.state = state.paused ? "reconnecting" : "open";
  });
  $("sign-out").addEventListener("click", async () => {
    await signOut();
    showSignIn("Signed out.");
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && credential.load()) {
      poll();
    }
  });
  $("queue-title").tabIndex = -1;
}

wire();
if (credential.load()) {
  enter();
} else {
  showSignIn();
}
