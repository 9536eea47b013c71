// Drives ominix-api's /v1/realtime transcription sessions with the official
// openai npm client: OpenAIRealtimeWebSocket (the browser-style client on
// Node's global WebSocket: API key in the "openai-insecure-api-key."
// sub-protocol) and OpenAIRealtimeWS (the `ws` package: API key in the
// Authorization header), in the GA dialect and, with the ws client, beta.
// Usage: node realtime.mjs <baseURL> <pcm16 24 kHz file> <utterances>
// (baseURL like https://127.0.0.1:1234/v1; the certificate must be trusted
// through NODE_EXTRA_CA_CERTS). Prints one JSON object per client run,
// keyed by run name; exits non-zero on any client error.
import { readFileSync } from "node:fs";
import OpenAI from "openai";
import { OpenAIRealtimeWebSocket } from "openai/realtime/websocket";
import { OpenAIRealtimeWS } from "openai/realtime/ws";

const [baseURL, audioFile, want] = process.argv.slice(2);
const utterances = Number(want);
const pcm = readFileSync(audioFile);
const client = new OpenAI({ baseURL, apiKey: "sk-node-test", maxRetries: 0 });
const frame = 24000 * 2 * 20 / 1000; // 20 ms of 16-bit 24 kHz audio

// run opens one connection, turns it into a transcription session, sends
// the audio in 20 ms frames and resolves with a summary once every
// utterance is transcribed.
function run(rt, beta) {
  return new Promise((resolve, reject) => {
    const out = { types: [], committed: [], completed: {}, deltas: {}, errors: [] };
    const timer = setTimeout(() => reject(new Error("timed out; saw " + out.types.join(","))), 60000);
    rt.on("error", (err) => { out.errors.push(String(err.message ?? err)); });
    rt.on("event", (ev) => {
      out.types.push(ev.type);
      switch (ev.type) {
        case "session.created":
        case "transcription_session.created":
          out.created = ev.type;
          if (beta) {
            rt.send({ type: "transcription_session.update", session: {
              input_audio_format: "pcm16", input_audio_transcription: { model: "gpt-4o-transcribe" },
              turn_detection: { type: "server_vad", silence_duration_ms: 500 } } });
          } else {
            rt.send({ type: "session.update", session: { type: "transcription", audio: { input: {
              format: { type: "audio/pcm", rate: 24000 }, transcription: { model: "gpt-4o-transcribe", language: "en" },
              turn_detection: { type: "server_vad", threshold: 0.5, prefix_padding_ms: 300, silence_duration_ms: 500 } } } } });
          }
          break;
        case "session.updated":
        case "transcription_session.updated":
          out.updated = ev.type;
          for (let i = 0; i < pcm.length; i += frame) {
            rt.send({ type: "input_audio_buffer.append", audio: pcm.subarray(i, i + frame).toString("base64") });
          }
          break;
        case "input_audio_buffer.committed":
          out.committed.push(ev.item_id);
          break;
        case "conversation.item.input_audio_transcription.delta":
          out.deltas[ev.item_id] = (out.deltas[ev.item_id] ?? "") + ev.delta;
          break;
        case "conversation.item.input_audio_transcription.completed":
          out.completed[ev.item_id] = ev.transcript;
          if (Object.keys(out.completed).length === utterances) {
            clearTimeout(timer);
            rt.close();
            resolve(out);
          }
          break;
      }
    });
  });
}

const result = {};
result.websocket_ga = await run(new OpenAIRealtimeWebSocket({ model: "gpt-realtime" }, client), false);
result.ws_ga = await run(new OpenAIRealtimeWS({ model: "gpt-realtime" }, client), false);
result.ws_beta = await run(new OpenAIRealtimeWS({ model: "gpt-realtime", options: { headers: { "OpenAI-Beta": "realtime=v1" } } }, client), true);
process.stdout.write(JSON.stringify(result));
