// Shared helpers of the ominix-api demo pages: API access with an API key
// kept in localStorage, Server-Sent Events over fetch, PCM16 conversion,
// microphone capture at 24 kHz through an AudioWorklet, Realtime socket
// helpers (audio held while it opens, close reasons), scheduled playback
// of streamed PCM, and small UI helpers. Plain ES module, no dependencies.

const KEY_STORAGE = "ominix-api-key";

/** The sample rate of every PCM stream the server speaks (OpenAI's pcm16). */
export const PCM_RATE = 24000;

/** OpenAI's built-in voice names; the server maps them onto its engine's voices. */
export const VOICES = ["alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse", "marin", "cedar"];

/** The API key the pages send, or "" when none is stored. */
export function apiKey() {
  try { return localStorage.getItem(KEY_STORAGE) || ""; } catch { return ""; }
}

function storeKey(k) {
  try {
    if (k) localStorage.setItem(KEY_STORAGE, k); else localStorage.removeItem(KEY_STORAGE);
  } catch { /* storage disabled: the key lives for this page only */ }
}

/** An error the server answered, in OpenAI's shape. */
export class ApiError extends Error {
  constructor(status, message, code = null, type = null, param = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.type = type;
    this.param = param;
  }
}

/** Builds an ApiError from a non-2xx response, reading its OpenAI error body. */
export async function errorFrom(resp) {
  let message = `${resp.status} ${resp.statusText}`.trim();
  let code = null, type = null, param = null;
  try {
    const text = await resp.text();
    try {
      const body = JSON.parse(text);
      const e = body && body.error;
      if (e && typeof e === "object") {
        message = e.message || message;
        code = e.code ?? null; type = e.type ?? null; param = e.param ?? null;
      } else if (typeof e === "string") {
        message = e;
      }
    } catch {
      if (text.trim()) message = `${message}: ${text.trim().slice(0, 300)}`;
    }
  } catch { /* the body could not be read; keep the status line */ }
  return new ApiError(resp.status, message, code, type, param);
}

let keyDialog = null;

/**
 * Asks the person for the server's API key with a small dialog and stores
 * it. Resolves to the key, or "" when the dialog is cancelled.
 */
export function askForKey(reason) {
  if (!keyDialog) {
    keyDialog = document.createElement("dialog");
    keyDialog.className = "key";
    keyDialog.id = "api-key-dialog";
    keyDialog.innerHTML = `
      <form method="dialog">
        <strong>API key needed</strong>
        <span class="small muted" id="api-key-reason"></span>
        <input id="api-key-input" type="password" autocomplete="off" placeholder="OMINIX_API_KEY" aria-label="API key">
        <div class="row">
          <button id="api-key-save" value="save">Save</button>
          <button class="secondary" value="cancel" formnovalidate>Cancel</button>
        </div>
        <span class="small muted">Stored in this browser (localStorage) and sent as <code>Authorization: Bearer</code>.</span>
      </form>`;
    document.body.append(keyDialog);
  }
  keyDialog.querySelector("#api-key-reason").textContent = reason || "";
  const input = keyDialog.querySelector("#api-key-input");
  input.value = "";
  return new Promise((resolve) => {
    keyDialog.addEventListener("close", () => {
      const k = keyDialog.returnValue === "save" ? input.value.trim() : "";
      if (k) storeKey(k);
      resolve(k);
    }, { once: true });
    keyDialog.showModal();
    input.focus();
  });
}

/**
 * fetch against the page's own origin with the stored API key. A 401 asks
 * for a key and retries (at most twice); other statuses are returned as
 * they are. init.json, when given, is sent as a JSON body.
 */
export async function api(path, init = {}) {
  const url = new URL(path, location.origin);
  const { json, ...rest } = init;
  for (let attempt = 0; ; attempt++) {
    const headers = new Headers(rest.headers || {});
    const key = apiKey();
    if (key) headers.set("Authorization", `Bearer ${key}`);
    let body = rest.body;
    if (json !== undefined) {
      headers.set("Content-Type", "application/json");
      body = JSON.stringify(json);
    }
    const resp = await fetch(url, { ...rest, headers, body });
    if (resp.status !== 401 || attempt >= 2) return resp;
    const err = await errorFrom(resp);
    const k = await askForKey(key ? `The stored key was refused: ${err.message}` : `The server asks for an API key: ${err.message}`);
    if (!k) throw new ApiError(401, "No API key given: " + err.message, err.code, err.type);
  }
}

/** GET /v1/models: the model list's data array (each has id and type). */
export async function listModels() {
  const resp = await api("/v1/models");
  if (!resp.ok) throw await errorFrom(resp);
  const body = await resp.json();
  return Array.isArray(body.data) ? body.data : [];
}

/** The loaded models of one slot ("llm", "asr", "tts"). */
export async function modelsOf(type) {
  return (await listModels()).filter((m) => (m.type || "llm") === type);
}

/** Messages for an empty model slot, by slot. */
export const EMPTY_SLOT = {
  llm: "No language model is loaded, so chat cannot answer. Start the server with LLM_MODEL=<hub id or directory>, or load one with POST /v1/models/load {\"model\": …}.",
  asr: "No speech recognition model is loaded, so there is nothing to transcribe with. Install pocketsphinx (make deps) and restart the server, or load one with POST /v1/models/load {\"model_type\": \"asr\"}.",
  tts: "No speech synthesis model is loaded, so there is nothing to speak with. Install flite (make deps) and restart the server, or load one with POST /v1/models/load {\"model_type\": \"tts\"}.",
};

/** The longest event-stream line sseEvents accepts. */
const MAX_SSE_LINE = 8 << 20;

/**
 * Reads a text/event-stream response body and yields {event, data, id}
 * for each event (the data field's lines joined with "\n"; id carries over
 * to later events). Handles CR, LF and CRLF line ends split anywhere
 * between reads, multi-line data and comments; a line longer than 8 MiB
 * fails the stream.
 */
export async function* sseEvents(resp) {
  const reader = resp.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  let ev = { event: "message", data: [], id: null };
  // field handles one line; it returns the event to dispatch, if any.
  const field = (line) => {
    if (line === "") {
      const out = ev.data.length ? { event: ev.event, data: ev.data.join("\n"), id: ev.id } : null;
      ev = { event: "message", data: [], id: ev.id };
      return out;
    }
    if (line.startsWith(":")) return null;
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    let val = colon < 0 ? "" : line.slice(colon + 1);
    if (val.startsWith(" ")) val = val.slice(1);
    if (name === "data") ev.data.push(val);
    else if (name === "event") ev.event = val;
    else if (name === "id") ev.id = val;
    return null;
  };
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      for (;;) {
        const nl = buf.search(/[\r\n]/);
        if (nl < 0) break;
        // A CR at the end of what has arrived may be the first half of a
        // CRLF split across reads: wait for the next read to decide.
        if (buf[nl] === "\r" && nl === buf.length - 1) break;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + (buf[nl] === "\r" && buf[nl + 1] === "\n" ? 2 : 1));
        const out = field(line);
        if (out) yield out;
      }
      if (buf.length > MAX_SSE_LINE) throw new Error(`event stream line longer than ${MAX_SSE_LINE} characters`);
    }
    // The stream ended. A CR held back above ends its line; an event
    // without its closing blank line is dropped, as the SSE spec says.
    if (buf.endsWith("\r")) {
      const out = field(buf.slice(0, -1));
      if (out) yield out;
    }
  } finally {
    reader.releaseLock();
  }
}

/** Float samples in [-1, 1] to 16-bit PCM. */
export function floatToPCM16(f32) {
  const out = new Int16Array(f32.length);
  for (let i = 0; i < f32.length; i++) {
    const s = Math.max(-1, Math.min(1, f32[i]));
    out[i] = s < 0 ? Math.round(s * 0x8000) : Math.round(s * 0x7fff);
  }
  return out;
}

/** 16-bit PCM to float samples in [-1, 1). */
export function pcm16ToFloat(i16) {
  const out = new Float32Array(i16.length);
  for (let i = 0; i < i16.length; i++) out[i] = i16[i] / 0x8000;
  return out;
}

/** Base64 of bytes (an ArrayBuffer or a typed array). */
export function toBase64(data) {
  const bytes = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Little-endian PCM16 samples from base64 (a trailing odd byte is dropped). */
export function pcm16FromBase64(b64) {
  const s = atob(b64);
  const n = s.length >> 1;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const v = s.charCodeAt(2 * i) | (s.charCodeAt(2 * i + 1) << 8);
    out[i] = v >= 0x8000 ? v - 0x10000 : v;
  }
  return out;
}

/** Splits a byte stream into whole little-endian PCM16 samples, carrying an odd byte over. */
export class PCMJoiner {
  constructor() { this.carry = null; }
  push(u8) {
    let bytes = u8;
    if (this.carry !== null) {
      bytes = new Uint8Array(u8.length + 1);
      bytes[0] = this.carry;
      bytes.set(u8, 1);
      this.carry = null;
    }
    const n = bytes.length >> 1;
    if (bytes.length & 1) this.carry = bytes[bytes.length - 1];
    const out = new Int16Array(n);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, n * 2);
    for (let i = 0; i < n; i++) out[i] = dv.getInt16(2 * i, true);
    return out;
  }
}

/** The WebSocket URL of a server path on the page's own origin. */
export function wsURL(path) {
  const u = new URL(path, location.origin);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  return u.toString();
}

/**
 * Opens a Realtime WebSocket: sub-protocol "realtime", plus
 * "openai-insecure-api-key.<key>" when a key is stored (browsers cannot
 * set an Authorization header on a WebSocket).
 */
export function openRealtime(path) {
  const protocols = ["realtime"];
  const key = apiKey();
  if (key) protocols.push(`openai-insecure-api-key.${key}`);
  return new WebSocket(wsURL(path), protocols);
}

/**
 * Explains why a Realtime WebSocket closed before it opened. Browsers hide
 * the HTTP answer of a refused upgrade, so this asks the server directly:
 * a missing key (401) or an empty slot (503) gets its own message.
 */
export async function diagnoseRealtime(path, slots) {
  try {
    const resp = await api("/v1/models");
    if (!resp.ok) return (await errorFrom(resp)).message;
    const body = await resp.json();
    const types = new Set((body.data || []).map((m) => m.type || "llm"));
    for (const s of slots) if (!types.has(s)) return EMPTY_SLOT[s];
    // A plain GET runs the same checks as the upgrade; 400/426 mean only
    // "this is not a WebSocket request", so the upgrade itself was fine.
    const probe = await api(path);
    if (!probe.ok && probe.status !== 426 && probe.status !== 400) return (await errorFrom(probe)).message;
  } catch (e) {
    return `The server cannot be reached: ${e.message}`;
  }
  return "The server closed the connection before it opened.";
}

/**
 * Explains why a Realtime WebSocket closed: its close code and reason when
 * it had opened, else what diagnoseRealtime finds for path and slots.
 */
export async function realtimeCloseReason(e, opened, path, slots) {
  return opened
    ? `The server closed the connection (code ${e.code}${e.reason ? ": " + e.reason : ""}).`
    : await diagnoseRealtime(path, slots);
}

/**
 * The silence_duration_ms a Realtime session.updated event confirms for
 * server VAD, or fallback when it carries none.
 */
export function confirmedSilenceMs(ev, fallback) {
  const td = ev.session && ev.session.audio && ev.session.audio.input && ev.session.audio.input.turn_detection;
  return td && Number.isFinite(td.silence_duration_ms) ? td.silence_duration_ms : fallback;
}

/**
 * Sends microphone chunks to a Realtime socket as input_audio_buffer.append
 * events. Chunks pushed while the page has no ready socket wait, at most
 * max of them (the oldest are dropped first), until flush sends them in
 * order.
 */
export class AudioOutbox {
  constructor(max) {
    this.max = max;
    this.held = [];
  }
  /** Sends pcm on sock, or holds it when sock is null (not ready). */
  push(pcm, sock) {
    const msg = JSON.stringify({ type: "input_audio_buffer.append", audio: toBase64(pcm) });
    if (sock) {
      sock.send(msg);
      return;
    }
    this.held.push(msg);
    if (this.held.length > this.max) this.held.shift();
  }
  /** Sends the held chunks on sock. */
  flush(sock) {
    for (const m of this.held) sock.send(m);
    this.held = [];
  }
  /** Forgets the held chunks. */
  clear() {
    this.held = [];
  }
}

/**
 * Starts mic, saying so through say(text, tone). On failure it says why,
 * releases the microphone and returns false.
 */
export async function startMic(mic, say) {
  say("Asking for the microphone…");
  try {
    await mic.start();
    return true;
  } catch (e) {
    say(e.message, "error");
    await mic.stop();
    return false;
  }
}

/** A person-readable message for a getUserMedia failure. */
export function micError(err) {
  switch (err && err.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "Microphone access was refused. Allow the microphone for this site (the icon next to the address bar) and press Start again.";
    case "NotFoundError":
    case "OverconstrainedError":
      return "No microphone was found. Connect one and press Start again.";
    case "NotReadableError":
    case "AbortError":
      return "The microphone is in use by another application or could not be opened.";
    default:
      return `The microphone could not be started: ${err && err.message ? err.message : err}`;
  }
}

/**
 * Microphone capture: mono PCM16 at 24 kHz whatever rate the device runs
 * at (capture-worklet.js resamples with a windowed-sinc filter), delivered
 * in chunks of chunkMs with the chunk's RMS level.
 */
export class Mic {
  /**
   * @param {object} opts
   * @param {(pcm: Int16Array, info: {rms: number, peak: number, at: number}) => void} opts.onChunk
   * @param {MediaTrackConstraints} [opts.constraints]
   * @param {number} [opts.chunkMs] chunk length, default 40 ms
   */
  constructor(opts) {
    this.opts = opts;
    this.ctx = null;
    this.stream = null;
    this.node = null;
    this.deviceRate = 0;
  }

  /** Asks for the microphone and starts capturing. Throws with micError's message on refusal. */
  async start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      throw new Error("The microphone is only available on https:// pages or http://localhost (a secure context).");
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, ...(this.opts.constraints || {}) },
      });
    } catch (e) {
      throw new Error(micError(e));
    }
    this.ctx = new AudioContext({ latencyHint: "interactive" });
    this.deviceRate = this.ctx.sampleRate;
    await this.ctx.audioWorklet.addModule(new URL("capture-worklet.js", import.meta.url));
    const src = this.ctx.createMediaStreamSource(this.stream);
    this.node = new AudioWorkletNode(this.ctx, "pcm16-capture", {
      numberOfInputs: 1,
      numberOfOutputs: 1,
      outputChannelCount: [1],
      processorOptions: { targetRate: PCM_RATE, chunkMs: this.opts.chunkMs || 40 },
    });
    this.node.port.onmessage = (e) => {
      const { pcm, rms, peak } = e.data;
      this.opts.onChunk(new Int16Array(pcm), { rms, peak, at: performance.now() });
    };
    // The node writes silence; connecting it keeps the graph pulling it in
    // every browser.
    const mute = this.ctx.createGain();
    mute.gain.value = 0;
    src.connect(this.node).connect(mute).connect(this.ctx.destination);
    await this.ctx.resume();
  }

  /** Stops capturing and releases the microphone. Safe to call twice. */
  async stop() {
    if (this.stream) this.stream.getTracks().forEach((t) => t.stop());
    this.stream = null;
    if (this.node) this.node.port.onmessage = null;
    this.node = null;
    const ctx = this.ctx;
    this.ctx = null;
    if (ctx && ctx.state !== "closed") await ctx.close();
  }
}

/**
 * Plays PCM chunks as they arrive, scheduled back to back on an
 * AudioContext (the browser resamples 24 kHz to the device rate). It
 * remembers what it scheduled so the played position of a response can
 * be reported when playback is cut (barge-in).
 */
export class Player {
  constructor() {
    this.ctx = null;
    this.gain = null;
    this.sources = new Set();
    this.segments = []; // {start, dur, tag}: what was scheduled, in context time
    this.next = 0;
    this.stats = { chunks: 0, samples: 0, firstAt: null };
    this.onIdle = null;
  }

  /** Creates (or resumes) the audio context; call it from a click. */
  async unlock() {
    if (!this.ctx) {
      this.ctx = new AudioContext({ latencyHint: "interactive" });
      this.gain = this.ctx.createGain();
      this.gain.connect(this.ctx.destination);
    }
    if (this.ctx.state !== "running") await this.ctx.resume();
  }

  /** Schedules samples (Int16Array or Float32Array at rate) after what is queued; tag names the response. */
  enqueue(samples, rate = PCM_RATE, tag = "") {
    if (!this.ctx || samples.length === 0) return;
    const f32 = samples instanceof Float32Array ? samples : pcm16ToFloat(samples);
    const buf = this.ctx.createBuffer(1, f32.length, rate);
    buf.copyToChannel(f32, 0);
    const src = this.ctx.createBufferSource();
    src.buffer = buf;
    src.connect(this.gain);
    const now = this.ctx.currentTime;
    const lead = 0.03; // room for the main thread to hand the buffer over
    if (this.next < now + lead) this.next = now + lead;
    src.start(this.next);
    this.segments.push({ start: this.next, dur: buf.duration, tag });
    this.next += buf.duration;
    this.sources.add(src);
    src.onended = () => {
      this.sources.delete(src);
      if (this.sources.size === 0 && this.onIdle) this.onIdle();
    };
    this.stats.chunks++;
    this.stats.samples += f32.length;
    if (this.stats.firstAt === null) this.stats.firstAt = performance.now();
  }

  /** Whether scheduled audio is still playing or waiting to play. */
  playing() { return this.sources.size > 0; }

  /** Milliseconds of the tagged audio heard so far (all audio when tag is undefined). */
  playedMs(tag) {
    if (!this.ctx) return 0;
    const now = this.ctx.currentTime;
    let s = 0;
    for (const seg of this.segments) {
      if (tag !== undefined && seg.tag !== tag) continue;
      s += Math.max(0, Math.min(seg.dur, now - seg.start));
    }
    return Math.round(s * 1000);
  }

  /** Seconds until the queued audio has played. */
  remaining() { return this.ctx ? Math.max(0, this.next - this.ctx.currentTime) : 0; }

  /** Stops all scheduled audio at once. */
  stop() {
    for (const src of this.sources) {
      src.onended = null;
      try { src.stop(); } catch { /* never started */ }
    }
    this.sources.clear();
    this.next = 0;
    // Keep segments cut at the present so playedMs stays right after a stop.
    if (this.ctx) {
      const now = this.ctx.currentTime;
      this.segments = this.segments
        .map((seg) => ({ ...seg, dur: Math.max(0, Math.min(seg.dur, now - seg.start)) }))
        .filter((seg) => seg.dur > 0);
    }
    if (this.onIdle) this.onIdle();
  }

  /** Forgets the scheduled history (a new session). */
  reset() {
    this.stop();
    this.segments = [];
    this.stats = { chunks: 0, samples: 0, firstAt: null };
  }

  async close() {
    this.stop();
    if (this.ctx && this.ctx.state !== "closed") await this.ctx.close();
    this.ctx = null;
  }
}

/** Shows an RMS level (0..1) on a .meter element, on a -60..0 dBFS scale. */
export function showLevel(meter, rms) {
  const db = rms > 0 ? 20 * Math.log10(rms) : -100;
  const frac = Math.max(0, Math.min(1, (db + 60) / 60));
  const bar = meter.firstElementChild;
  bar.style.width = `${(frac * 100).toFixed(1)}%`;
  meter.setAttribute("aria-valuenow", String(Math.round(db)));
  meter.dataset.db = db.toFixed(1);
}

/** Sets a .status element's text and tone ("", "ok", "warn", "error"). */
export function setStatus(el, text, tone = "") {
  el.textContent = text;
  el.className = `status${tone ? " " + tone : ""}`;
  el.dataset.tone = tone;
}

/** Formats milliseconds for a readout. */
export function fmtMs(ms) {
  if (ms === null || ms === undefined || !isFinite(ms)) return "–";
  return ms >= 10000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

/** Maps captured audio time to the wall-clock time it was captured, for latency readouts. */
export class AudioClock {
  constructor(rate = PCM_RATE) {
    this.rate = rate;
    this.samples = 0;
    this.marks = []; // [endMs, at]: chunk end in stream milliseconds, capture time
  }
  add(n, at) {
    this.samples += n;
    this.marks.push([(this.samples * 1000) / this.rate, at]);
    if (this.marks.length > 6000) this.marks.splice(0, 1000); // ~4 minutes of 40 ms chunks kept
  }
  /** The capture time of stream position ms (performance.now() units), or null when unknown. */
  at(ms) {
    const m = this.marks;
    let lo = 0, hi = m.length - 1, hit = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (m[mid][0] >= ms) { hit = mid; hi = mid - 1; } else lo = mid + 1;
    }
    if (hit < 0) return m.length ? m[m.length - 1][1] : null;
    // Interpolate inside the chunk: its samples were captured over its span.
    const [end, at] = m[hit];
    return at - (end - ms);
  }
}
