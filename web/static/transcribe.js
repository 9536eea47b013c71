// transcribe.html: the microphone, resampled to 24 kHz PCM16 by
// capture-worklet.js, streams to /v1/realtime?intent=transcription (OpenAI
// Realtime transcription session, GA dialect, server VAD). Deltas of the
// turn being spoken show in #partial; each completed turn is appended to
// #transcript with the time from the end of its speech to its final text.

import {
  Mic, AudioClock, AudioOutbox, openRealtime, realtimeCloseReason, confirmedSilenceMs, startMic, modelsOf,
  setStatus, showLevel, fmtMs, EMPTY_SLOT, PCM_RATE,
} from "./common.js";

const PATH = "/v1/realtime?intent=transcription";
const MAX_PENDING = 750; // 30 s of 40 ms chunks held while the socket opens

const $ = (id) => document.getElementById(id);
const startBtn = $("start"), stopBtn = $("stop"), meter = $("meter"), status = $("status");
const partial = $("partial"), transcript = $("transcript");
const latencyOut = $("latency"), afterTurnOut = $("after-turn"), rateOut = $("device-rate"), sentOut = $("sent");
const SILENCE_MS = 500; // the VAD's silence_duration_ms we ask for

const stats = {
  partials: 0, partialTexts: [], finals: [], latenciesMs: [], afterTurnMs: [], chunks: 0, sentMs: 0,
  maxRms: 0, errors: [], deviceRate: 0, open: false,
};
window.demoStats = { transcribe: stats };

const outbox = new AudioOutbox(MAX_PENDING);
let mic = null, ws = null, clock = null, running = false;
let items = new Map(); // item_id → {text, endAt, done}
let current = null;    // the item being spoken now (until its final text)
let speaking = false;  // between speech_started and speech_stopped
let silenceMs = SILENCE_MS; // as the server confirmed it in session.updated
let settled = null;    // resolves when no item is open (used by Stop)

const status_ = (text, tone) => setStatus(status, text, tone);

async function start() {
  startBtn.disabled = true;
  status_("Checking the server…");
  try {
    if ((await modelsOf("asr")).length === 0) {
      status_(EMPTY_SLOT.asr, "error");
      startBtn.disabled = false;
      return;
    }
  } catch (e) {
    status_(`The server cannot be reached: ${e.message}`, "error");
    startBtn.disabled = false;
    return;
  }
  clock = new AudioClock();
  outbox.clear();
  items = new Map();
  current = null;
  speaking = false;
  mic = new Mic({
    // Raw audio suits recognition best; the server does its own VAD.
    constraints: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
    onChunk,
  });
  if (!(await startMic(mic, status_))) {
    mic = null;
    startBtn.disabled = false;
    return;
  }
  stats.deviceRate = mic.deviceRate;
  rateOut.textContent = `${mic.deviceRate / 1000} kHz → ${PCM_RATE / 1000} kHz`;
  running = true;
  stopBtn.disabled = false;
  connect();
}

function onChunk(pcm, info) {
  showLevel(meter, info.rms);
  stats.maxRms = Math.max(stats.maxRms, info.rms);
  if (!running) return;
  clock.add(pcm.length, info.at);
  outbox.push(pcm, ws && ws.readyState === WebSocket.OPEN ? ws : null);
  stats.chunks++;
  stats.sentMs = (clock.samples * 1000) / PCM_RATE;
  sentOut.textContent = `${(stats.sentMs / 1000).toFixed(1)} s`;
}

function connect() {
  status_("Connecting…");
  const sock = openRealtime(PATH);
  ws = sock;
  let opened = false;
  sock.onopen = () => {
    opened = true;
    stats.open = true;
    sock.send(JSON.stringify({
      type: "session.update",
      session: {
        type: "transcription",
        audio: {
          input: {
            format: { type: "audio/pcm", rate: PCM_RATE },
            turn_detection: { type: "server_vad", silence_duration_ms: SILENCE_MS },
          },
        },
      },
    }));
    outbox.flush(sock);
    status_("Listening — speak now.", "ok");
  };
  sock.onmessage = (e) => {
    let ev;
    try { ev = JSON.parse(e.data); } catch { return; }
    handle(ev);
  };
  sock.onclose = async (e) => {
    if (ws !== sock) return;
    ws = null;
    if (!running) return; // Stop closed it
    status_(await realtimeCloseReason(e, opened, PATH, ["asr"]), "error");
    await stop(false);
  };
}

function item(id) {
  let it = items.get(id);
  if (!it) {
    it = { text: "", endAt: null, turnEndAt: null, done: false };
    items.set(id, it);
  }
  return it;
}

function handle(ev) {
  switch (ev.type) {
    case "session.updated":
      silenceMs = confirmedSilenceMs(ev, silenceMs);
      break;
    case "input_audio_buffer.speech_started":
      current = ev.item_id;
      speaking = true;
      item(ev.item_id);
      partial.dataset.state = "speaking";
      break;
    case "input_audio_buffer.speech_stopped": {
      // audio_end_ms marks the end of the turn, after the silence that
      // ended it (as OpenAI defines it); the speech itself ended
      // silence_duration_ms earlier.
      speaking = false;
      const it = item(ev.item_id);
      it.turnEndAt = clock.at(ev.audio_end_ms);
      it.endAt = clock.at(Math.max(0, ev.audio_end_ms - silenceMs));
      partial.dataset.state = "finishing";
      break;
    }
    case "conversation.item.input_audio_transcription.delta": {
      const it = item(ev.item_id);
      it.text += ev.delta || "";
      if (!current || ev.item_id === current) {
        partial.textContent = it.text;
        stats.partials++;
        if (it.text.trim()) stats.partialTexts.push(it.text);
      }
      break;
    }
    case "conversation.item.input_audio_transcription.completed": {
      const it = item(ev.item_id);
      it.done = true;
      const text = (ev.transcript || "").trim();
      if (text) {
        const li = document.createElement("li");
        li.textContent = text;
        transcript.append(li);
        li.scrollIntoView({ block: "nearest" });
        stats.finals.push(text);
      }
      if (it.endAt !== null) {
        const now = performance.now();
        stats.latenciesMs.push(now - it.endAt);
        stats.afterTurnMs.push(now - it.turnEndAt);
        latencyOut.textContent = fmtMs(now - it.endAt);
        afterTurnOut.textContent = fmtMs(now - it.turnEndAt);
      }
      if (current === ev.item_id || !current) {
        partial.textContent = "";
        partial.dataset.state = "";
        current = null;
      }
      items.delete(ev.item_id);
      checkSettled();
      break;
    }
    case "conversation.item.input_audio_transcription.failed":
      stats.errors.push(ev.error ? ev.error.message : "transcription failed");
      status_(`A line could not be transcribed: ${ev.error ? ev.error.message : "unknown error"}`, "warn");
      items.delete(ev.item_id);
      if (current === ev.item_id) current = null;
      checkSettled();
      break;
    case "error":
      stats.errors.push(ev.error ? ev.error.message : "error");
      status_(ev.error ? ev.error.message : "The server reported an error.", "error");
      break;
  }
}

function checkSettled() {
  if (settled && ![...items.values()].some((it) => !it.done)) settled();
}

async function stop(graceful = true) {
  const sock = ws;
  running = false;
  stopBtn.disabled = true;
  if (mic) await mic.stop();
  mic = null;
  showLevel(meter, 0);
  if (graceful && sock && sock.readyState === WebSocket.OPEN) {
    // End a line still being spoken and wait (briefly) for the last text.
    if (speaking) sock.send(JSON.stringify({ type: "input_audio_buffer.commit" }));
    if ([...items.values()].some((it) => !it.done)) {
      status_("Finishing the last line…");
      await Promise.race([
        new Promise((r) => { settled = r; }),
        new Promise((r) => setTimeout(r, 5000)),
      ]);
      settled = null;
    }
    sock.close(1000, "done");
    status_("Stopped.", "ok");
  }
  ws = null;
  partial.dataset.state = "";
  startBtn.disabled = false;
}

startBtn.addEventListener("click", start);
stopBtn.addEventListener("click", () => stop(true));
window.addEventListener("pagehide", () => { if (mic) mic.stop(); if (ws) ws.close(1000, "page closed"); });
