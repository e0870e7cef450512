// The /v1/stream WebSocket with reconnection and resume by seq: after every (re)connect the client
// sends {"type":"resume","after":{job_id: last seq seen}} and the server replays what was missed (or
// sends a job.snapshot). Events already seen are dropped here, so each reaches the page once.

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15_000;
const PING_EVERY_MS = 20_000;
const SILENCE_LIMIT_MS = 50_000;

/**
 * Live job events. `onEvent(event)` gets each job event once, in seq order per job;
 * `onState(state, detail)` gets "connecting" | "open" | "reconnecting" | "stopped".
 */
export class JobStream {
  constructor({ token, onEvent, onState, beforeReconnect }) {
    this.token = token;
    this.onEvent = onEvent;
    this.onState = onState || (() => {});
    this.beforeReconnect = beforeReconnect || (async () => {});
    this.lastSeq = new Map();
    this.tracked = new Set();
    this.socket = null;
    this.stopped = true;
    this.failures = 0;
    this.connections = 0;
    this.timer = null;
    this.lastMessageAt = 0;
    this.onOnline = () => this.reconnectNow();
  }

  start() {
    this.stopped = false;
    window.addEventListener("online", this.onOnline);
    this.connect();
    this.pinger = setInterval(() => this.keepAlive(), PING_EVERY_MS);
  }

  stop() {
    this.stopped = true;
    window.removeEventListener("online", this.onOnline);
    clearInterval(this.pinger);
    clearTimeout(this.timer);
    if (this.socket) {
      this.socket.close(1000, "bye");
      this.socket = null;
    }
    this.onState("stopped");
  }

  /** Follows a job from `seq` on (resume asks for what came after it). */
  track(jobId, seq = 0) {
    this.tracked.add(jobId);
    if (!this.lastSeq.has(jobId) || this.lastSeq.get(jobId) < seq) {
      this.lastSeq.set(jobId, seq);
    }
  }

  /**
   * Asks, on the open socket, for what happened to jobs the page learnt of from a GET (their
   * earlier events, or a snapshot); a socket that opens later asks for every tracked job anyway.
   */
  resume(jobIds) {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN || jobIds.length === 0) {
      return;
    }
    const after = {};
    jobIds.forEach((jobId) => { after[jobId] = this.lastSeq.get(jobId) ?? 0; });
    socket.send(JSON.stringify({ type: "resume", after }));
  }

  untrack(jobId) {
    this.tracked.delete(jobId);
  }

  async connect() {
    if (this.stopped) {
      return;
    }
    this.onState(this.connections === 0 ? "connecting" : "reconnecting");
    let token;
    try {
      await this.beforeReconnect();
      token = await this.token();
    } catch (err) {
      this.scheduleReconnect();
      return;
    }
    if (this.stopped) {
      return;
    }
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    let socket;
    try {
      socket = new WebSocket(`${scheme}//${location.host}/v1/stream?access_token=${encodeURIComponent(token || "")}`);
    } catch (err) {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.addEventListener("open", () => {
      if (this.socket !== socket) {
        return;
      }
      this.failures = 0;
      this.connections += 1;
      this.lastMessageAt = Date.now();
      this.sendResume();
      this.onState("open", { reconnected: this.connections > 1 });
    });
    socket.addEventListener("message", (message) => {
      if (this.socket === socket) {
        this.lastMessageAt = Date.now();
        this.receive(message.data);
      }
    });
    socket.addEventListener("close", () => {
      if (this.socket === socket) {
        this.socket = null;
        this.scheduleReconnect();
      }
    });
  }

  sendResume() {
    const after = {};
    for (const jobId of this.tracked) {
      after[jobId] = this.lastSeq.get(jobId) ?? 0;
    }
    if (Object.keys(after).length > 0) {
      this.socket.send(JSON.stringify({ type: "resume", after }));
    }
  }

  receive(text) {
    let event;
    try {
      event = JSON.parse(text);
    } catch {
      return;
    }
    if (!event || typeof event.type !== "string" || !event.job_id) {
      return;
    }
    const seen = this.lastSeq.get(event.job_id) ?? 0;
    // A queue-position refresh repeats its seq; a snapshot may restate the seq already seen.
    const restates = (event.type === "job.queued" && event.refresh === true) || event.type === "job.snapshot";
    if (typeof event.seq === "number") {
      if (event.seq < seen || (event.seq === seen && seen > 0 && !restates)) {
        return;
      }
      this.lastSeq.set(event.job_id, event.seq);
    }
    this.onEvent(event);
  }

  scheduleReconnect() {
    if (this.stopped) {
      return;
    }
    clearTimeout(this.timer);
    this.failures += 1;
    // Exponential backoff with full jitter, so many clients do not come back in one wave.
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.min(this.failures - 1, 10));
    const delay = BACKOFF_MIN_MS / 2 + Math.random() * (ceiling - BACKOFF_MIN_MS / 2);
    this.onState("reconnecting", { delayMs: Math.round(delay), failures: this.failures });
    this.timer = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    if (this.stopped || (this.socket && this.socket.readyState === WebSocket.OPEN)) {
      return;
    }
    clearTimeout(this.timer);
    this.connect();
  }

  keepAlive() {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      return;
    }
    if (Date.now() - this.lastMessageAt > SILENCE_LIMIT_MS) {
      // A half-open connection: the pongs stopped. Drop it and resume on a new one.
      this.socket = null;
      socket.close(4000, "silent");
      this.scheduleReconnect();
      return;
    }
    socket.send(JSON.stringify({ type: "ping" }));
  }
}
