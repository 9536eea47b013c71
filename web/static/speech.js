// speech.html: POST /v1/audio/speech with response_format "pcm", read the
// body as it streams and schedule each chunk on an AudioContext right away,
// so the first sentence plays while the rest is still being synthesized.

import { api, errorFrom, modelsOf, PCMJoiner, Player, setStatus, fmtMs, EMPTY_SLOT, PCM_RATE, VOICES } from "./common.js";
const MIN_CHUNK = PCM_RATE / 50; // schedule at least 20 ms at a time after the first chunk

const $ = (id) => document.getElementById(id);
const text = $("text"), voiceSel = $("voice"), speakBtn = $("speak"), stopBtn = $("stop"), status = $("status");
const ttfaOut = $("ttfa"), receivedOut = $("received"), totalOut = $("total");

const player = new Player();
const stats = { requests: 0, chunks: 0, samples: 0, firstAudioMs: null, totalMs: null, played: false, error: null };
window.demoStats = { speech: stats, player };

let controller = null;

for (const v of VOICES) voiceSel.append(new Option(v, v));
voiceSel.value = localStorage.getItem("ominix-speech-voice") || "alloy";
if (!voiceSel.value) voiceSel.value = "alloy";
voiceSel.addEventListener("change", () => localStorage.setItem("ominix-speech-voice", voiceSel.value));

player.onIdle = () => {
  if (!controller && stats.chunks > 0) {
    stats.played = true;
    stopBtn.disabled = true;
    setStatus(status, "Done playing.", "ok");
  }
};

// Say at once when there is nothing to speak with.
modelsOf("tts").then((tts) => {
  if (tts.length === 0) setStatus(status, EMPTY_SLOT.tts, "error");
}, (e) => setStatus(status, `Could not list models: ${e.message}`, "error"));

async function speak() {
  const input = text.value.trim();
  if (!input || controller) return;
  await player.unlock(); // inside the click, so autoplay rules allow it
  player.reset();
  controller = new AbortController();
  speakBtn.disabled = true;
  stopBtn.disabled = false;
  Object.assign(stats, { chunks: 0, samples: 0, firstAudioMs: null, totalMs: null, played: false, error: null });
  stats.requests++;
  ttfaOut.textContent = receivedOut.textContent = totalOut.textContent = "–";
  setStatus(status, "Synthesizing…");
  const t0 = performance.now();
  try {
    let model = "tts-1";
    const tts = await modelsOf("tts").catch(() => []);
    if (tts.length) model = tts[0].id;
    const body = { model, input, voice: voiceSel.value, response_format: "pcm", speed: Number($("speed").value) || 1 };
    const resp = await api("/v1/audio/speech", { method: "POST", json: body, signal: controller.signal });
    if (!resp.ok) throw await errorFrom(resp);
    const reader = resp.body.getReader();
    const joiner = new PCMJoiner();
    let held = [];
    let heldLen = 0;
    const schedule = () => {
      if (heldLen === 0) return;
      const all = new Int16Array(heldLen);
      let o = 0;
      for (const h of held) { all.set(h, o); o += h.length; }
      held = []; heldLen = 0;
      player.enqueue(all, PCM_RATE);
      stats.chunks++;
      stats.samples += all.length;
      if (stats.firstAudioMs === null) {
        stats.firstAudioMs = performance.now() - t0;
        ttfaOut.textContent = fmtMs(stats.firstAudioMs);
        setStatus(status, "Playing while the rest streams in…");
      }
      receivedOut.textContent = `${(stats.samples / PCM_RATE).toFixed(2)} s of audio`;
    };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const pcm = joiner.push(value);
      if (pcm.length === 0) continue;
      held.push(pcm);
      heldLen += pcm.length;
      // The first audio goes out at once; later bits are grouped a little
      // so playback is not made of thousands of tiny buffers.
      if (stats.chunks === 0 || heldLen >= MIN_CHUNK) schedule();
    }
    schedule();
    stats.totalMs = performance.now() - t0;
    totalOut.textContent = fmtMs(stats.totalMs);
    if (stats.chunks === 0) throw new Error("The server sent no audio.");
    setStatus(status, player.playing() ? "All audio received; playing…" : "Done playing.", player.playing() ? "" : "ok");
  } catch (e) {
    if (e.name === "AbortError") {
      setStatus(status, "Stopped.", "warn");
    } else {
      stats.error = e.message;
      const msg = e.status === 503 && e.code === "model_not_loaded" ? `${e.message}. ${EMPTY_SLOT.tts}` : e.message;
      setStatus(status, msg, "error");
    }
  } finally {
    controller = null;
    speakBtn.disabled = false;
    stopBtn.disabled = !player.playing();
  }
}

$("form").addEventListener("submit", (e) => { e.preventDefault(); speak(); });
stopBtn.addEventListener("click", () => {
  if (controller) controller.abort();
  player.stop();
  stopBtn.disabled = true;
  setStatus(status, "Stopped.", "warn");
});
