/**
 * The live stream `/api/v1/stream`, read with fetch + ReadableStream (EventSource cannot send
 * the Authorization header), parsed as Server-Sent Events, reconnected with backoff.
 */

import { authHeaders, raiseFor, ApiError } from "./api";

export type StreamState =
  | { kind: "connecting" }
  | { kind: "live" }
  | { kind: "retrying"; inSeconds: number; reason: string };

export interface StreamOptions {
  url: () => string;
  onEvent: (name: string, data: string) => void;
  onState: (state: StreamState) => void;
  /** A 401 or 403: retrying will not help. */
  onFatal: (error: ApiError) => void;
}

/** No byte for this long (the server pings every 15 s) means the connection is dead. */
const SILENCE_MS = 45_000;
const BACKOFF_MS = [1_000, 2_000, 4_000, 8_000, 15_000, 30_000];

/** Incremental SSE parser (https://html.spec.whatwg.org/multipage/server-sent-events.html). */
export class SseParser {
  private buffer = "";
  private event = "";
  private data: string[] = [];

  constructor(private readonly dispatch: (name: string, data: string) => void) {}

  push(chunk: string): void {
    this.buffer += chunk;
    let start = 0;
    for (;;) {
      const cr = this.buffer.indexOf("\r", start);
      const lf = this.buffer.indexOf("\n", start);
      if (cr < 0 && lf < 0) break;
      let end: number;
      let next: number;
      if (cr >= 0 && (lf < 0 || cr < lf)) {
        // A CR at the very end may be the first half of CRLF: wait for more.
        if (cr === this.buffer.length - 1) break;
        end = cr;
        next = this.buffer[cr + 1] === "\n" ? cr + 2 : cr + 1;
      } else {
        end = lf;
        next = lf + 1;
      }
      this.line(this.buffer.slice(start, end));
      start = next;
    }
    this.buffer = this.buffer.slice(start);
  }

  private line(line: string): void {
    if (line === "") {
      if (this.data.length) this.dispatch(this.event || "message", this.data.join("\n"));
      this.event = "";
      this.data = [];
      return;
    }
    if (line.startsWith(":")) return; // a comment: `: ping`
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.event = value;
    else if (field === "data") this.data.push(value);
    // `id` and `retry` are not used: every event carries a full state.
  }
}

export class LiveStream {
  private controller: AbortController | null = null;
  private running = false;
  private attempt = 0;
  private timer: number | undefined;
  private generation = 0;

  constructor(private readonly options: StreamOptions) {}

  start(): void {
    this.running = true;
    this.connect();
  }

  stop(): void {
    this.running = false;
    this.generation += 1;
    window.clearTimeout(this.timer);
    this.controller?.abort();
    this.controller = null;
  }

  /** Reconnect at once (e.g. with another area). */
  restart(): void {
    this.stop();
    this.attempt = 0;
    this.start();
  }

  private connect(): void {
    const generation = ++this.generation;
    const controller = new AbortController();
    this.controller = controller;
    this.options.onState({ kind: "connecting" });
    this.read(controller, generation).then(
      () => this.retry(generation, "closed"),
      (error: unknown) => {
        if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
          this.running = false;
          this.options.onFatal(error);
          return;
        }
        const reason = error instanceof Error ? error.message : String(error);
        const wait = error instanceof ApiError && error.retryAfter ? error.retryAfter * 1000 : 0;
        this.retry(generation, reason, wait);
      },
    );
  }

  private async read(controller: AbortController, generation: number): Promise<void> {
    const response = await fetch(this.options.url(), {
      headers: { Accept: "text/event-stream", ...authHeaders() },
      signal: controller.signal,
      cache: "no-store",
      credentials: "omit",
    });
    await raiseFor(response);
    if (!response.body) throw new Error("no response body");
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new SseParser((name, data) => {
      if (generation === this.generation) this.options.onEvent(name, data);
    });
    let watchdog = window.setTimeout(() => controller.abort(), SILENCE_MS);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        window.clearTimeout(watchdog);
        watchdog = window.setTimeout(() => controller.abort(), SILENCE_MS);
        this.attempt = 0;
        this.options.onState({ kind: "live" });
        parser.push(value);
      }
    } finally {
      window.clearTimeout(watchdog);
      reader.cancel().catch(() => undefined);
    }
  }

  private retry(generation: number, reason: string, minimumMs = 0): void {
    if (!this.running || generation !== this.generation) return;
    const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    const delay = Math.max(minimumMs, base * (0.8 + Math.random() * 0.4));
    this.options.onState({ kind: "retrying", inSeconds: Math.ceil(delay / 1000), reason });
    this.timer = window.setTimeout(() => this.connect(), delay);
  }
}
