// The Studio page: sign in, submit generations, follow them live, browse and manage the gallery.
import { ApiError, bearer, credential, describe, me, request, signInWithApiKey, signInWithPassword, signOut }
  from "./api.js";
import { JobStream } from "./stream.js";
import { setupSignIn } from "./signin.js";

const $ = (id) => document.getElementById(id);
const TERMINAL = new Set(["succeeded", "failed", "canceled"]);
const STATUS_TEXT = {
  queued: "Queued", dispatched: "Starting", running: "Running", succeeded: "Done", failed: "Failed",
  canceled: "Canceled",
};
const CREDIT_PACKS = ["starter", "creator", "studio"];
const IMAGE_PAGE = 24;

const state = {
  jobs: new Map(), // job id -> {job, el}
  events: new Map(), // job id -> [{type, seq, refresh}] as received (diagnostics and tests)
  pending: new Map(), // job id -> events that arrived before the job itself
  fetching: new Set(),
  images: new Map(), // image id -> {image, el}
  imageCursor: null,
  stream: null,
  viewerOpener: null,
  viewerImageId: null,
};

// For diagnostics from the browser console (and the end-to-end tests).
window.pingvasStudio = {
  get stream() { return state.stream; },
  events: (jobId) => [...(state.events.get(jobId) || [])],
  job: (jobId) => state.jobs.get(jobId)?.job ?? null,
};

function announce(text) {
  const region = $("announcer");
  region.textContent = "";
  // A fresh text node in a later task makes screen readers announce repeated messages too.
  setTimeout(() => { region.textContent = text; }, 50);
}

function shortPrompt(prompt, length = 60) {
  return prompt.length > length ? `${prompt.slice(0, length - 1)}…` : prompt;
}

// ---------------------------------------------------------------- sign-in

function showSignIn(message) {
  if (state.stream) {
    state.stream.stop();
    state.stream = null;
  }
  $("studio").hidden = true;
  $("account").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message || "";
  $("api-key").focus();
}

async function enterStudio() {
  $("signin").hidden = true;
  $("studio").hidden = false;
  $("account").hidden = false;
  $("prompt").focus();
  startStream();
  await Promise.allSettled([loadModels(), loadAccount(), loadBalance(), loadJobs(), loadImages(true)]);
}

function onAuthFailure(err) {
  if (err instanceof ApiError && err.status === 401) {
    credential.clear();
    showSignIn("Your session has ended: please sign in again.");
    return true;
  }
  return false;
}

// ---------------------------------------------------------------- account, credits, models

async function loadAccount() {
  try {
    const account = await me();
    // Set both ways: the previous user of this page may have been an admin.
    // No user-service here (bare dev stack): offer the operator view; it checks the role itself.
    $("operator-link").hidden = !!account && !(Array.isArray(account.roles) && account.roles.includes("admin"));
  } catch (err) {
    onAuthFailure(err);
  }
}

async function loadBalance() {
  try {
    const balance = await request("/v1/billing/balance");
    const held = balance.reserved ? ` (${balance.reserved} held)` : "";
    $("credits").textContent = `Credits: ${balance.available}${held}`;
    $("credits").hidden = false;
    $("buy-credits").hidden = balance.mode !== "stripe";
    return balance;
  } catch (err) {
    // Billing is optional: without it there is no balance to show.
    $("credits").hidden = true;
    $("buy-credits").hidden = true;
    return null;
  }
}

/**
 * Reloads the balance after a job ends. payment-service captures or releases the job's reservation
 * from its Kafka event a moment after the page hears of it, so look again until nothing is held for
 * it (at most a few times).
 */
function followBalance(attempt = 0) {
  loadBalance().then((balance) => {
    if (balance && balance.reserved > 0 && attempt < 5) {
      setTimeout(() => followBalance(attempt + 1), 1000 * (attempt + 1));
    }
  });
}

async function buyCredits() {
  const pack = CREDIT_PACKS[0];
  try {
    const session = await request("/v1/billing/checkout", { method: "POST", body: { pack } });
    location.assign(session.url);
  } catch (err) {
    announce(`Could not start the checkout: ${describe(err)}`);
    $("form-error").textContent = `Could not start the checkout: ${describe(err)}`;
  }
}

async function loadModels() {
  const select = $("model");
  try {
    const { items } = await request("/v1/models?kind=checkpoint");
    if (!items || items.length === 0) {
      throw new Error("no models");
    }
    select.replaceChildren(...items.map((model) => {
      const option = document.createElement("option");
      option.value = model.name;
      option.textContent = model.base && model.base !== model.name ? `${model.name} (${model.base})` : model.name;
      return option;
    }));
    const preferred = items.find((m) => m.name === "sd-1.5") || items[0];
    select.value = preferred.name;
  } catch (err) {
    if (onAuthFailure(err)) {
      return;
    }
    // Without model-service the user types the name.
    select.hidden = true;
    select.disabled = true;
    const input = $("model-name");
    input.hidden = false;
    input.id = "model";
    select.id = "model-select";
    input.value = input.value || "sd-1.5";
    $("model-hint").hidden = false;
  }
}

// ---------------------------------------------------------------- submitting

async function submit(event) {
  event.preventDefault();
  const error = $("form-error");
  error.textContent = "";
  const prompt = $("prompt").value.trim();
  if (!prompt) {
    error.textContent = "Type a prompt first.";
    $("prompt").focus();
    return;
  }
  const [width, height] = $("size").value.split("x").map(Number);
  const body = {
    model: $("model").value.trim(), prompt, width, height,
    steps: Number($("steps").value), count: Number($("count").value),
  };
  const negative = $("negative-prompt").value.trim();
  if (negative) {
    body.negative_prompt = negative;
  }
  if ($("seed").value !== "") {
    body.seed = Number($("seed").value);
  }
  const button = $("generate");
  button.disabled = true;
  try {
    const job = await request("/v1/generations", { method: "POST", body });
    addJob(job, true);
    announce(`Generation submitted: ${shortPrompt(prompt)}.`);
    loadBalance();
  } catch (err) {
    if (!onAuthFailure(err)) {
      error.textContent = describe(err);
      announce(`Not submitted: ${describe(err)}`);
    }
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- jobs

function addJob(job, fresh = false) {
  let entry = state.jobs.get(job.id);
  if (!entry) {
    const el = $("job-template").content.firstElementChild.cloneNode(true);
    el.dataset.jobId = job.id;
    el.querySelector(".job-cancel").addEventListener("click", () => cancelJob(job.id));
    entry = { job, el };
    state.jobs.set(job.id, entry);
    const list = $("jobs");
    if (fresh) {
      list.prepend(el);
    } else {
      list.append(el);
    }
    $("no-jobs").hidden = true;
  } else if (!TERMINAL.has(entry.job.status) || TERMINAL.has(job.status)) {
    entry.job = { ...entry.job, ...job };
  }
  renderJob(entry);
  if (!TERMINAL.has(entry.job.status)) {
    state.stream?.track(job.id, 0);
  }
  const waiting = state.pending.get(job.id);
  if (waiting) {
    state.pending.delete(job.id);
    waiting.forEach((ev) => applyEvent(entry, ev));
  }
  return entry;
}

function renderJob({ job, el }) {
  el.dataset.status = job.status;
  el.setAttribute("aria-label", `${STATUS_TEXT[job.status] || job.status}: ${shortPrompt(job.prompt || "")}`);
  const status = el.querySelector(".job-status");
  status.textContent = STATUS_TEXT[job.status] || job.status;
  status.dataset.state = job.status;
  el.querySelector(".job-prompt").textContent = job.prompt || "";
  const detail = [];
  if (job.status === "queued") {
    if (job.queue_position !== null && job.queue_position !== undefined) {
      detail.push(job.queue_position === 0 ? "Next in line" : `Position ${job.queue_position + 1} in the queue`);
    }
    if (job.eta_seconds !== null && job.eta_seconds !== undefined) {
      detail.push(`about ${formatSeconds(job.eta_seconds)} left`);
    }
  } else if (job.status === "running" && job.progress?.total) {
    detail.push(`Step ${job.progress.step} of ${job.progress.total}`);
  }
  if (job.model) {
    detail.push(job.model);
  }
  el.querySelector(".job-detail").textContent = detail.join(" · ");
  const percent = job.status === "succeeded" ? 100 : Math.max(0, Math.min(100, job.progress?.percent ?? 0));
  const bar = el.querySelector("progress");
  bar.value = percent;
  bar.setAttribute("aria-label", `Progress of “${shortPrompt(job.prompt || "", 40)}”`);
  el.querySelector(".job-percent").textContent = `${Math.round(percent)}%`;
  const preview = el.querySelector(".job-preview");
  if (job.preview && !TERMINAL.has(job.status)) {
    preview.src = job.preview;
    preview.alt = `Preview at ${Math.round(percent)}%`;
    preview.hidden = false;
  } else if (TERMINAL.has(job.status)) {
    preview.hidden = true;
  }
  el.querySelector(".job-error").textContent = job.status === "failed" && job.error
    ? `${job.error.message || "Failed"} (${job.error.code})` : "";
  el.querySelector(".job-cancel").hidden = TERMINAL.has(job.status);
}

function formatSeconds(seconds) {
  const s = Math.max(1, Math.round(seconds));
  return s < 90 ? `${s} s` : `${Math.round(s / 60)} min`;
}

async function cancelJob(jobId) {
  try {
    const job = await request(`/v1/generations/${jobId}/cancel`, { method: "POST" });
    addJob(job);
    announce("Generation canceled.");
  } catch (err) {
    if (!onAuthFailure(err)) {
      announce(`Could not cancel: ${describe(err)}`);
    }
  }
}

async function loadJobs() {
  try {
    const { items } = await request("/v1/generations?limit=10");
    items.forEach((job) => addJob(job));
    // Events of these jobs may have gone by between the GET and the socket: ask for them.
    state.stream?.resume(items.filter((job) => !TERMINAL.has(job.status)).map((job) => job.id));
  } catch (err) {
    onAuthFailure(err);
  }
}

/** Fetches a job the stream mentioned but the page does not know (submitted elsewhere). */
async function fetchJob(jobId) {
  if (state.fetching.has(jobId)) {
    return;
  }
  state.fetching.add(jobId);
  try {
    const job = await request(`/v1/generations/${jobId}`);
    if (!state.jobs.has(jobId)) {
      addJob(job, true); // else its own submission came back first, with the waiting events
    }
  } catch (err) {
    state.pending.delete(jobId);
  } finally {
    state.fetching.delete(jobId);
  }
}

function onStreamEvent(event) {
  const log = state.events.get(event.job_id) || [];
  log.push({ type: event.type, seq: event.seq, refresh: event.refresh === true });
  state.events.set(event.job_id, log);
  const entry = state.jobs.get(event.job_id);
  if (!entry) {
    const waiting = state.pending.get(event.job_id) || [];
    waiting.push(event);
    state.pending.set(event.job_id, waiting);
    fetchJob(event.job_id);
    return;
  }
  applyEvent(entry, event);
}

function applyEvent(entry, event) {
  const job = entry.job;
  const before = job.status;
  switch (event.type) {
    case "job.snapshot":
      entry.job = { ...event.job };
      break;
    case "job.queued":
      job.status = "queued";
      job.queue_position = event.queue_position ?? job.queue_position ?? null;
      job.eta_seconds = event.eta_seconds ?? job.eta_seconds ?? null;
      if (event.retry) {
        job.progress = { step: 0, total: job.progress?.total ?? 0, percent: 0 };
      }
      break;
    case "job.dispatched":
      job.status = "dispatched";
      job.queue_position = null;
      break;
    case "job.started":
      job.status = "running";
      break;
    case "job.progress":
      job.status = "running";
      if (event.progress) {
        job.progress = event.progress;
      }
      if (event.preview) {
        job.preview = event.preview;
      }
      break;
    case "job.succeeded":
      job.status = "succeeded";
      job.images = event.images || job.images;
      break;
    case "job.failed":
      job.status = "failed";
      job.error = event.error || job.error;
      break;
    case "job.canceled":
      job.status = "canceled";
      break;
    default:
      return;
  }
  renderJob(entry);
  const now = entry.job.status;
  if (now !== before) {
    announceStatus(entry.job);
  }
  if (TERMINAL.has(now)) {
    state.stream?.untrack(entry.job.id);
    if (now === "succeeded" && before !== "succeeded") {
      (entry.job.images || []).forEach((image) => addImageById(image.id));
    }
    if (!TERMINAL.has(before)) {
      followBalance();
    }
  }
}

function announceStatus(job) {
  const what = `“${shortPrompt(job.prompt || "", 40)}”`;
  const text = {
    queued: `${what} is queued.`, dispatched: `${what} is starting.`, running: `${what} is running.`,
    succeeded: `${what} is done.`, failed: `${what} failed: ${job.error?.message || ""}`,
    canceled: `${what} was canceled.`,
  }[job.status];
  if (text) {
    announce(text);
  }
}

/** Reconciles the jobs still in flight after a reconnect (a server without resume still ends right). */
async function reconcileActiveJobs() {
  const active = [...state.jobs.values()].filter((e) => !TERMINAL.has(e.job.status)).map((e) => e.job.id);
  await Promise.allSettled(active.map(async (id) => {
    const job = await request(`/v1/generations/${id}`);
    const entry = state.jobs.get(id);
    if (entry && TERMINAL.has(job.status) && !TERMINAL.has(entry.job.status)) {
      const before = entry.job.status;
      entry.job = { ...entry.job, ...job };
      renderJob(entry);
      announceStatus(entry.job);
      state.stream?.untrack(id);
      if (job.status === "succeeded" && before !== "succeeded") {
        job.images.forEach((image) => addImageById(image.id));
      }
      followBalance();
    }
  }));
}

// ---------------------------------------------------------------- stream

function startStream() {
  if (state.stream) {
    state.stream.stop();
  }
  const stream = new JobStream({
    token: bearer,
    onEvent: onStreamEvent,
    onState: onStreamState,
    beforeReconnect: async () => {
      // A socket refused at the handshake looks like any drop: check the credential every few tries.
      if (stream.failures >= 3 && stream.failures % 3 === 0) {
        try {
          await request("/v1/generations?limit=1");
        } catch (err) {
          if (onAuthFailure(err)) {
            throw err;
          }
        }
      }
    },
  });
  state.stream = stream;
  for (const { job } of state.jobs.values()) {
    if (!TERMINAL.has(job.status)) {
      stream.track(job.id, 0);
    }
  }
  stream.start();
}

function onStreamState(streamState, detail) {
  const badge = $("connection");
  badge.dataset.state = streamState;
  badge.textContent = {
    connecting: "Connecting…", open: "Live", reconnecting: "Reconnecting…", stopped: "Offline",
  }[streamState];
  if (streamState === "open" && detail?.reconnected) {
    reconcileActiveJobs();
  }
}

// ---------------------------------------------------------------- gallery

async function loadImages(reset) {
  try {
    const cursor = reset ? "" : `&cursor=${encodeURIComponent(state.imageCursor)}`;
    const page = await request(`/v1/images?limit=${IMAGE_PAGE}${cursor}`);
    page.items.forEach((image) => addImage(image, false));
    state.imageCursor = page.next_cursor || null;
    $("more-images").hidden = !state.imageCursor;
  } catch (err) {
    onAuthFailure(err);
  }
}

/** Adds a new image once gallery-service has recorded it (it follows job.succeeded within a moment). */
async function addImageById(imageId, attempt = 0) {
  try {
    const image = await request(`/v1/images/${imageId}`);
    addImage(image, true);
    if (!image.thumbnail_url && attempt < 8) {
      setTimeout(() => refreshImage(imageId), 1000);
    }
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && attempt < 10) {
      setTimeout(() => addImageById(imageId, attempt + 1), 300 * (attempt + 1));
    }
  }
}

async function refreshImage(imageId, attempt = 0) {
  try {
    const image = await request(`/v1/images/${imageId}`);
    const entry = state.images.get(imageId);
    if (entry) {
      entry.image = image;
      renderImage(entry);
    }
    if (!image.thumbnail_url && attempt < 5) {
      setTimeout(() => refreshImage(imageId, attempt + 1), 1500);
    }
  } catch {
    // The image keeps its current look.
  }
}

function addImage(image, fresh) {
  if (state.images.has(image.id)) {
    const entry = state.images.get(image.id);
    entry.image = image;
    renderImage(entry);
    return;
  }
  const el = $("image-template").content.firstElementChild.cloneNode(true);
  el.dataset.imageId = image.id;
  const entry = { image, el };
  state.images.set(image.id, entry);
  el.querySelector(".thumb").addEventListener("click", (e) => openViewer(image.id, e.currentTarget));
  el.querySelector(".delete").addEventListener("click", () => deleteImage(image.id));
  renderImage(entry);
  if (fresh) {
    $("gallery").prepend(el);
  } else {
    $("gallery").append(el);
  }
  $("no-images").hidden = true;
}

function renderImage({ image, el }) {
  const label = image.prompt || "Generated image";
  const img = el.querySelector(".thumb img");
  img.src = image.thumbnail_url || image.url;
  img.alt = label;
  img.width = image.width > image.height ? 256 : Math.round((256 * image.width) / image.height);
  img.height = image.height > image.width ? 256 : Math.round((256 * image.height) / image.width);
  el.querySelector(".thumb").setAttribute("aria-label", `View full size: ${shortPrompt(label)}`);
  el.querySelector(".image-meta").textContent = [image.model, `${image.width}×${image.height}`,
    image.seed !== undefined ? `seed ${image.seed}` : null].filter(Boolean).join(" · ");
  const download = el.querySelector(".download");
  download.href = image.url;
  download.download = `pingvas-${image.id}.png`;
  download.setAttribute("aria-label", `Download: ${shortPrompt(label)}`);
  el.querySelector(".delete").setAttribute("aria-label", `Delete: ${shortPrompt(label)}`);
}

async function openViewer(imageId, opener) {
  const entry = state.images.get(imageId);
  if (!entry) {
    return;
  }
  state.viewerOpener = opener;
  state.viewerImageId = imageId;
  let image = entry.image;
  try {
    // Presigned URLs are short-lived: ask for a fresh one.
    image = await request(`/v1/images/${imageId}`);
    entry.image = image;
  } catch (err) {
    if (onAuthFailure(err)) {
      return;
    }
  }
  const viewer = $("viewer");
  const img = $("viewer-image");
  img.src = image.url;
  img.alt = image.prompt || "Generated image";
  img.width = image.width;
  img.height = image.height;
  $("viewer-caption").textContent = `${image.prompt || ""} — ${image.model}, ${image.width}×${image.height}, seed ${image.seed}`;
  const download = $("viewer-download");
  download.href = image.url;
  download.download = `pingvas-${image.id}.png`;
  viewer.showModal();
  $("viewer-close").focus();
}

function closeViewer() {
  const viewer = $("viewer");
  if (viewer.open) {
    viewer.close();
  }
}

async function deleteImage(imageId) {
  const entry = state.images.get(imageId);
  if (!entry || !window.confirm(`Delete this image? “${shortPrompt(entry.image.prompt || "", 60)}”`)) {
    return;
  }
  try {
    await request(`/v1/images/${imageId}`, { method: "DELETE" });
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) {
      if (!onAuthFailure(err)) {
        announce(`Could not delete: ${describe(err)}`);
      }
      return;
    }
  }
  const items = [...$("gallery").children];
  const index = items.indexOf(entry.el);
  entry.el.remove();
  state.images.delete(imageId);
  if (state.viewerImageId === imageId) {
    state.viewerOpener = null;
    closeViewer();
  }
  $("no-images").hidden = state.images.size > 0;
  announce("Image deleted.");
  // Keep keyboard focus in the gallery: on the next image, else the previous, else the heading.
  const next = items[index + 1] || items[index - 1];
  (next?.querySelector(".thumb") || $("gallery-title")).focus();
}

// ---------------------------------------------------------------- wiring

function wire() {
  setupSignIn({
    onPassword: signInWithPassword,
    onApiKey: signInWithApiKey,
    onSignedIn: enterStudio,
  });
  $("generate-form").addEventListener("submit", submit);
  $("prompt").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      $("generate-form").requestSubmit();
    }
  });
  $("sign-out").addEventListener("click", async () => {
    await signOut();
    state.jobs.clear();
    state.images.clear();
    $("jobs").replaceChildren();
    $("gallery").replaceChildren();
    showSignIn("Signed out.");
  });
  $("buy-credits").addEventListener("click", buyCredits);
  $("more-images").addEventListener("click", () => loadImages(false));
  $("viewer-close").addEventListener("click", closeViewer);
  $("viewer-delete").addEventListener("click", () => deleteImage(state.viewerImageId));
  $("viewer").addEventListener("close", () => {
    const opener = state.viewerOpener;
    state.viewerOpener = null;
    state.viewerImageId = null;
    if (opener && opener.isConnected) {
      opener.focus();
    }
  });
  $("viewer").addEventListener("click", (e) => {
    if (e.target === $("viewer")) {
      closeViewer(); // a click on the backdrop
    }
  });
  $("gallery-title").tabIndex = -1;
}

wire();
if (credential.load()) {
  enterStudio();
} else {
  showSignIn();
}
