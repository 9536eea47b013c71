// Drives ominix-api's /v1/realtime conversation sessions with the official
// openai npm client: OpenAIRealtimeWebSocket (Node's global WebSocket, API
// key in the sub-protocol) and OpenAIRealtimeWS (the `ws` package, key in
// the Authorization header) in the GA dialect, and OpenAIRealtimeWS in
// the beta dialect. Each run configures a conversation session, adds a
// typed user message, asks for a response and collects the audio and
// transcript deltas until response.done. Given an audio file, a fourth run
// (GA, OpenAIRealtimeWS) speaks instead of typing: server_vad finds the
// turn, the automatic response answers what was recognized.
// Usage: node conversation.mjs <baseURL> <user text> [<pcm16 24 kHz file>]
// (baseURL like https://127.0.0.1:1234/v1; the certificate must be trusted
// through NODE_EXTRA_CA_CERTS). Prints one JSON object per run, keyed by
// run name; exits non-zero on any client error.
import { readFileSync } from "node:fs";
import OpenAI from "openai";
import { OpenAIRealtimeWebSocket } from "openai/realtime/websocket";
import { OpenAIRealtimeWS } from "openai/realtime/ws";

const [baseURL, text, audioFile] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "sk-node-test", maxRetries: 0 });

// converse runs one connection: configure(rt) answers session.created,
// begin(rt) answers session.updated with the user's turn; the answer's
// audio and transcript deltas are collected until response.done.
function converse(rt, configure, begin) {
  return new Promise((resolve, reject) => {
    const out = { types: [], audioBytes: 0, transcript: "", heard: "", errors: [] };
    const timer = setTimeout(() => reject(new Error("timed out; saw " + out.types.join(","))), 60000);
    rt.on("error", (err) => { out.errors.push(String(err.message ?? err)); });
    rt.on("event", (ev) => {
      out.types.push(ev.type);
      switch (ev.type) {
        case "session.created":
          configure(rt);
          break;
        case "session.updated":
          begin(rt);
          break;
        case "conversation.item.input_audio_transcription.completed":
          out.heard = ev.transcript;
          break;
        case "response.output_audio.delta":
        case "response.audio.delta":
          out.audioBytes += Buffer.from(ev.delta, "base64").length;
          break;
        case "response.output_audio_transcript.delta":
        case "response.audio_transcript.delta":
          out.transcript += ev.delta;
          break;
        case "response.done":
          out.status = ev.response.status;
          out.usage = ev.response.usage;
          out.final = ev.response.output?.[0]?.content?.[0]?.transcript;
          clearTimeout(timer);
          rt.close();
          resolve(out);
          break;
      }
    });
  });
}

// run types the user's message (turn detection off) and asks for a response.
function run(rt, beta) {
  return converse(rt,
    () => rt.send(beta
      ? { type: "session.update", session: { modalities: ["text", "audio"], voice: "alloy", instructions: "Be brief.",
          output_audio_format: "pcm16", turn_detection: null } }
      : { type: "session.update", session: { type: "realtime", output_modalities: ["audio"], instructions: "Be brief.",
          audio: { output: { format: { type: "audio/pcm", rate: 24000 }, voice: "alloy" }, input: { turn_detection: null } } } }),
    () => {
      rt.send({ type: "conversation.item.create", item: { type: "message", role: "user",
        content: [{ type: "input_text", text }] } });
      rt.send({ type: "response.create" });
    });
}

// runVoice holds one spoken turn: the audio goes in as 20 ms frames with
// server_vad on, and the run ends with the automatic response's
// response.done.
function runVoice(rt, pcm) {
  const frame = 24000 * 2 * 20 / 1000;
  return converse(rt,
    () => rt.send({ type: "session.update", session: { type: "realtime", output_modalities: ["audio"],
      audio: { output: { format: { type: "audio/pcm", rate: 24000 }, voice: "alloy" },
        input: { format: { type: "audio/pcm", rate: 24000 }, transcription: { model: "gpt-4o-transcribe" },
          turn_detection: { type: "server_vad", silence_duration_ms: 500, create_response: true } } } } }),
    () => {
      for (let i = 0; i < pcm.length; i += frame) {
        rt.send({ type: "input_audio_buffer.append", audio: pcm.subarray(i, i + frame).toString("base64") });
      }
    });
}

const result = {};
result.websocket_ga = await run(new OpenAIRealtimeWebSocket({ model: "gpt-realtime" }, client), false);
result.ws_ga = await run(new OpenAIRealtimeWS({ model: "gpt-realtime" }, client), false);
result.ws_beta = await run(new OpenAIRealtimeWS({ model: "gpt-realtime", options: { headers: { "OpenAI-Beta": "realtime=v1" } } }, client), true);
if (audioFile) {
  result.ws_ga_voice = await runVoice(new OpenAIRealtimeWS({ model: "gpt-realtime" }, client), readFileSync(audioFile));
}
process.stdout.write(JSON.stringify(result));
