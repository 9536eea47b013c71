// Drives ominix-api's audio endpoints with the official openai npm client,
// as the README shows: speech as WAV, then transcriptions of it (json,
// verbose_json with word timestamps, streamed).
// Usage: node audio.mjs <baseURL> <sentence>
// Prints one JSON object summarizing what the client saw; the Go test
// (transport/node_audio_test.go) checks it. Exits non-zero on any client
// error other than the expected 400.
import OpenAI, { toFile } from "openai";

const [baseURL, input] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: "sk-unused", maxRetries: 0 });
const out = {};

const speech = await client.audio.speech.create({ model: "tts-1", voice: "alloy", input, response_format: "wav" });
const wav = Buffer.from(await speech.arrayBuffer());
out.speech = { contentType: speech.headers.get("content-type"), bytes: wav.length };

const file = () => toFile(wav, "speech.wav", { type: "audio/wav" });
const json = await client.audio.transcriptions.create({ file: await file(), model: "whisper-1", language: "en" });
out.json = { text: json.text, usage: json.usage };

const verbose = await client.audio.transcriptions.create({
  file: await file(), model: "whisper-1", response_format: "verbose_json", timestamp_granularities: ["word", "segment"],
});
out.verbose = { text: verbose.text, language: verbose.language, duration: verbose.duration,
  words: verbose.words ?? [], segments: (verbose.segments ?? []).length };

const stream = await client.audio.transcriptions.create({ file: await file(), model: "gpt-4o-mini-transcribe", stream: true });
let deltas = "", done = null, events = 0;
for await (const event of stream) {
  events++;
  if (event.type === "transcript.text.delta") deltas += event.delta;
  if (event.type === "transcript.text.done") done = event;
}
out.stream = { deltas, text: done?.text, usage: done?.usage ?? null, events };

try {
  await client.audio.transcriptions.create({ file: await file(), model: "whisper-1", language: "fr" });
  out.french = { status: 200 };
} catch (err) {
  if (!(err instanceof OpenAI.APIError)) throw err;
  out.french = { status: err.status, code: err.code, param: err.param };
}
console.log(JSON.stringify(out));
