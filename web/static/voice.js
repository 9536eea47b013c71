// voice.html: a hands-free conversation over /v1/realtime?model=… in the
// OpenAI Realtime GA dialect. The microphone streams continuously as 24 kHz
// PCM16; the server's VAD ends each turn and (create_response) answers with
// response.output_audio.delta chunks, played as they arrive, and their
// transcript. Barge-in: when speech starts while an answer is playing, the
// page stops playback at once and tells the server how much was heard with
// conversation.item.truncate (the server cancels the response itself,
// interrupt_response). The beta dialect's event names are accepted too.

import {
  Mic, Player, AudioClock, AudioOutbox, openRealtime, realtimeCloseReason, confirmedSilenceMs, startMic, listModels,
  pcm16FromBase64, setStatus, showLevel, fmtMs, EMPTY_SLOT, PCM_RATE, VOICES,
} from "./common.js";

const MAX_PENDING = 750; // 30 s of 40 ms chunks held while the socket opens
const SILENCE_MS = 500; // the VAD's silence_duration_ms we ask for
const INSTRUCTIONS = "You are a friendly voice assistant. Answer in one or two short spoken sentences.";

const $ = (id) => document.getElementById(id);
const startBtn = $("start"), stopBtn = $("stop"), voiceSel = $("voice"), meter = $("meter");
const status = $("status"), log = $("log"), latencyOut = $("latency"), turnsOut = $("turns"), modelOut = $("model");

const stats = {
  turns: 0, userTexts: [], assistantTexts: [], firstAudioMs: [], audioChunks: 0, responses: 0,
  done: [], truncates: [], errors: [], unsupported: null, open: false, configured: false,
};
const player = new Player();
window.demoStats = { voice: stats, player };

for (const v of VOICES) voiceSel.append(new Option(v, v));
voiceSel.value = localStorage.getItem("ominix-voice-voice") || "alloy";
voiceSel.addEventListener("change", () => localStorage.setItem("ominix-voice-voice", voiceSel.value));

const outbox = new AudioOutbox(MAX_PENDING);
let mic = null, ws = null, clock = null, running = false;
let userTurns = new Map();     // item_id → log line
let responses = new Map();     // response id → {line, transcript, text, firstAudio, speechEnd}
let playing = null;            // {itemId, line}: the answer whose audio is queued
let cut = new Set();           // item ids whose audio was interrupted: late deltas are dropped
let lastSpeechEnd = null;      // capture time of the end of the last user turn's speech
let silenceMs = SILENCE_MS;    // as the server confirmed it in session.updated

const say = (text, tone) => setStatus(status, text, tone);

function line(role, text = "") {
  const el = document.createElement("div");
  el.className = `turn ${role}`;
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = role === "user" ? "You" : role === "assistant" ? "Assistant" : "Note";
  const body = document.createElement("span");
  body.className = "text";
  body.textContent = text;
  const note = document.createElement("span");
  note.className = "note";
  el.append(who, body, note);
  log.append(el);
  el.scrollIntoView({ block: "nearest" });
  return { el, body, note };
}

async function start() {
  startBtn.disabled = true;
  say("Checking the server…");
  let models;
  try {
    models = await listModels();
  } catch (e) {
    say(`The server cannot be reached: ${e.message}`, "error");
    startBtn.disabled = false;
    return;
  }
  const of = (t) => models.filter((m) => (m.type || "llm") === t);
  for (const slot of ["llm", "asr", "tts"]) {
    if (of(slot).length === 0) {
      say(EMPTY_SLOT[slot], "error");
      startBtn.disabled = false;
      return;
    }
  }
  const model = of("llm")[0].id, asr = of("asr")[0].id;
  modelOut.textContent = model;
  await player.unlock(); // inside the click, so autoplay rules allow it
  player.reset();
  clock = new AudioClock();
  outbox.clear();
  userTurns = new Map();
  responses = new Map();
  cut = new Set();
  playing = null;
  stats.configured = false;
  stats.unsupported = null;
  mic = new Mic({
    // Echo cancellation keeps the answer coming out of the speakers from
    // sounding like the person speaking (which would interrupt it).
    constraints: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    onChunk,
  });
  if (!(await startMic(mic, say))) {
    mic = null;
    startBtn.disabled = false;
    return;
  }
  running = true;
  stopBtn.disabled = false;
  connect(`/v1/realtime?model=${encodeURIComponent(model)}`, model, asr);
}

function onChunk(pcm, info) {
  showLevel(meter, info.rms);
  if (!running) return;
  clock.add(pcm.length, info.at);
  // Audio waits until the server has accepted the conversation session.
  outbox.push(pcm, ws && ws.readyState === WebSocket.OPEN && stats.configured ? ws : null);
}

function connect(path, model, asr) {
  say("Connecting…");
  const sock = openRealtime(path);
  ws = sock;
  let opened = false;
  sock.onopen = () => {
    opened = true;
    stats.open = true;
    sock.send(JSON.stringify({
      type: "session.update",
      session: {
        type: "realtime",
        model,
        instructions: INSTRUCTIONS,
        output_modalities: ["audio"],
        audio: {
          input: {
            format: { type: "audio/pcm", rate: PCM_RATE },
            transcription: { model: asr },
            turn_detection: {
              type: "server_vad", silence_duration_ms: SILENCE_MS, create_response: true, interrupt_response: true,
            },
          },
          output: { format: { type: "audio/pcm", rate: PCM_RATE }, voice: voiceSel.value },
        },
      },
    }));
  };
  sock.onmessage = (e) => {
    if (ws !== sock) return;
    let ev;
    try { ev = JSON.parse(e.data); } catch { return; }
    handle(ev);
  };
  sock.onclose = async (e) => {
    if (ws !== sock) return;
    ws = null;
    if (!running) return;
    say(await realtimeCloseReason(e, opened, path, ["llm", "asr", "tts"]), "error");
    await stop();
  };
}

function send(ev) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(ev));
}

function response(id) {
  let r = responses.get(id);
  if (!r) {
    r = { line: line("assistant"), transcript: "", text: "", firstAudio: null, speechEnd: lastSpeechEnd, itemId: null };
    r.line.el.classList.add("pending");
    responses.set(id, r);
  }
  return r;
}

function showAnswer(r) {
  r.line.body.textContent = r.transcript || r.text;
  r.line.el.classList.remove("pending");
}

// bargeIn stops the answer being played and tells the server how much of
// it was heard, so the conversation history holds only that part.
function bargeIn() {
  const p = playing;
  const ms = p ? player.playedMs(p.itemId) : 0;
  player.stop();
  playing = null;
  if (!p) return;
  cut.add(p.itemId);
  send({ type: "conversation.item.truncate", item_id: p.itemId, content_index: 0, audio_end_ms: ms });
  stats.truncates.push({ item_id: p.itemId, audio_end_ms: ms });
  p.line.note.textContent = `(interrupted after ${(ms / 1000).toFixed(1)} s)`;
}

function handle(ev) {
  switch (ev.type) {
    case "session.created":
      break;
    case "session.updated": {
      silenceMs = confirmedSilenceMs(ev, silenceMs);
      if (!stats.configured) {
        stats.configured = true;
        outbox.flush(ws);
      }
      say("Listening — speak now.", "ok");
      break;
    }
    case "input_audio_buffer.speech_started": {
      if (player.playing()) bargeIn();
      const l = line("user");
      l.el.classList.add("pending");
      l.body.textContent = "…";
      userTurns.set(ev.item_id, l);
      break;
    }
    case "input_audio_buffer.speech_stopped":
      // audio_end_ms is the end of the turn, after the silence that ended it.
      lastSpeechEnd = clock.at(Math.max(0, ev.audio_end_ms - silenceMs));
      break;
    case "conversation.item.input_audio_transcription.delta": {
      const l = userTurns.get(ev.item_id);
      if (l) {
        if (l.el.classList.contains("pending")) { l.body.textContent = ""; l.el.classList.remove("pending"); }
        l.body.textContent += ev.delta || "";
      }
      break;
    }
    case "conversation.item.input_audio_transcription.completed": {
      let l = userTurns.get(ev.item_id);
      if (!l) { l = line("user"); userTurns.set(ev.item_id, l); }
      const text = (ev.transcript || "").trim();
      l.body.textContent = text || "(nothing recognized)";
      l.el.classList.remove("pending");
      if (text) stats.userTexts.push(text);
      stats.turns++;
      turnsOut.textContent = String(stats.turns);
      break;
    }
    case "response.created":
      stats.responses++;
      response(ev.response.id);
      break;
    case "response.output_item.added":
      if (ev.item && ev.item.role === "assistant") response(ev.response_id).itemId = ev.item.id;
      break;
    case "response.output_audio_transcript.delta":
    case "response.audio_transcript.delta": {
      const r = response(ev.response_id);
      r.transcript += ev.delta || "";
      showAnswer(r);
      break;
    }
    case "response.output_text.delta":
    case "response.text.delta": {
      const r = response(ev.response_id);
      r.text += ev.delta || "";
      showAnswer(r);
      break;
    }
    case "response.output_audio.delta":
    case "response.audio.delta": {
      if (cut.has(ev.item_id)) break;
      const r = response(ev.response_id);
      r.itemId = r.itemId || ev.item_id;
      player.enqueue(pcm16FromBase64(ev.delta), PCM_RATE, ev.item_id);
      playing = { itemId: ev.item_id, line: r.line };
      stats.audioChunks++;
      if (r.firstAudio === null) {
        r.firstAudio = performance.now();
        if (r.speechEnd !== null) {
          const ms = r.firstAudio - r.speechEnd;
          stats.firstAudioMs.push(ms);
          latencyOut.textContent = fmtMs(ms);
        }
      }
      break;
    }
    case "response.done": {
      const res = ev.response || {};
      stats.done.push(res.status);
      const r = responses.get(res.id);
      if (!r) break;
      const final = r.transcript || r.text;
      if (final) stats.assistantTexts.push(final);
      r.line.el.classList.remove("pending");
      if (!final && res.status !== "completed") r.line.body.textContent = "";
      if (res.status === "cancelled" && !r.line.note.textContent) r.line.note.textContent = "(cancelled)";
      if (res.status === "failed" || res.status === "incomplete") {
        const d = res.status_details || {};
        const why = (d.error && d.error.message) || d.reason || res.status;
        r.line.note.textContent = `(${res.status}: ${why})`;
      }
      responses.delete(res.id);
      break;
    }
    case "error": {
      const err = ev.error || {};
      const msg = err.message || "The server reported an error.";
      stats.errors.push(msg);
      if (err.code === "unsupported_session_type" && !stats.configured) {
        // The server has no conversation sessions (yet): say so and stop.
        stats.unsupported = msg;
        line("system", msg);
        say(`This server does not hold voice conversations: ${msg}`, "error");
        stop();
        break;
      }
      line("system", msg);
      say(msg, "error");
      break;
    }
  }
}

async function stop() {
  const sock = ws;
  running = false;
  ws = null;
  stopBtn.disabled = true;
  if (mic) await mic.stop();
  mic = null;
  player.stop();
  playing = null;
  showLevel(meter, 0);
  if (sock && sock.readyState <= WebSocket.OPEN) sock.close(1000, "done");
  if (status.dataset.tone !== "error") say("Stopped.", "ok");
  startBtn.disabled = false;
}

startBtn.addEventListener("click", start);
stopBtn.addEventListener("click", stop);
window.addEventListener("pagehide", () => { if (mic) mic.stop(); if (ws) ws.close(1000, "page closed"); });
