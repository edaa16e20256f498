// Calls to the public HTTP routes and the /events/stream WebSocket, with the caller's identity.
// Every reply is {ok, status, body}; a refusal keeps the server's error envelope as body.

import { authHeaders, authQuery } from "./settings.js";

export class Api {
  constructor(settings) {
    this.settings = settings;
  }

  async request(method, path, { body, params, raw, contentType } = {}) {
    const url = new URL(path, location.origin);
    for (const [name, value] of Object.entries(params || {})) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
    }
    const headers = { Accept: "application/json", ...authHeaders(this.settings) };
    const init = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (raw !== undefined) {
      headers["Content-Type"] = contentType || "application/octet-stream";
      init.body = raw;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch (exc) {
      return { ok: false, status: 0, body: { code: "unreachable", message: String(exc) } };
    }
    const text = await response.text();
    let parsed = text;
    if ((response.headers.get("Content-Type") || "").includes("json")) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { code: "invalid_response", message: "the server sent malformed JSON" };
      }
    } else if (!response.ok) {
      parsed = { code: `http_${response.status}`, message: text.slice(0, 500) };
    }
    return { ok: response.ok, status: response.status, body: parsed };
  }

  get(path, params) {
    return this.request("GET", path, { params });
  }

  post(path, body, params) {
    return this.request("POST", path, { body, params });
  }

  delete(path, params) {
    return this.request("DELETE", path, { params });
  }

  /** A live subscription; see LiveStream. */
  stream(subscription, handlers) {
    return new LiveStream(this.settings, subscription, handlers);
  }
}

const RECONNECT_DELAYS_MS = [500, 1000, 2000, 5000, 10000];

/**
 * One /events/stream subscription that reconnects after a drop or a `lagged` error.
 * `subscription()` is called for every (re)connect, so a per_workflow caller can resume
 * from its last seq. Handlers: onEvent(frame), onState("live"|"connecting"|"ended"|"error"),
 * onError(envelope) for terminal errors other than lagged.
 */
export class LiveStream {
  constructor(settings, subscription, handlers) {
    this.settings = settings;
    this.subscription = subscription;
    this.handlers = handlers;
    this.closed = false;
    this.attempt = 0;
    this.timer = null;
    this.connect();
  }

  connect() {
    if (this.closed) return;
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = authQuery(this.settings).toString();
    const url = `${scheme}//${location.host}/events/stream${query ? `?${query}` : ""}`;
    this.handlers.onState?.("connecting");
    const ws = new WebSocket(url);
    this.ws = ws;
    let terminal = null;
    ws.addEventListener("open", () => {
      if (this.closed) return;
      ws.send(JSON.stringify(this.subscription()));
      this.handlers.onState?.("live");
    });
    ws.addEventListener("message", (message) => {
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      if (frame.error) {
        terminal = frame.error;
        return;
      }
      this.attempt = 0;
      this.handlers.onEvent?.(frame);
    });
    ws.addEventListener("close", (event) => {
      if (this.closed) return;
      if (terminal && terminal.code !== "lagged" && terminal.code !== "unavailable") {
        this.handlers.onState?.("error");
        this.handlers.onError?.(terminal);
        return;
      }
      if (!terminal && event.code === 1000) {
        this.handlers.onState?.("ended");
        this.handlers.onEnd?.();
        return;
      }
      this.retry();
    });
  }

  retry() {
    const delay = RECONNECT_DELAYS_MS[Math.min(this.attempt, RECONNECT_DELAYS_MS.length - 1)];
    this.attempt += 1;
    this.handlers.onState?.("connecting");
    this.timer = setTimeout(() => {
      this.handlers.onReconnect?.();
      this.connect();
    }, delay);
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    const ws = this.ws;
    if (!ws) return;
    // Closing a socket that is still connecting makes the browser log an error: wait for it.
    if (ws.readyState === WebSocket.CONNECTING) ws.addEventListener("open", () => ws.close(1000));
    else if (ws.readyState === WebSocket.OPEN) ws.close(1000);
  }
}
