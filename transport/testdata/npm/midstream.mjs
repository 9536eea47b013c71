// A generation that fails mid-stream, seen from the official openai npm
// client. Usage: node midstream.mjs <baseURL>
// Prints one JSON object: what the for-await loop and the stream helper
// received before the failure and the error each threw. The Go test
// (transport/node_test.go) checks it.
import OpenAI from "openai";

const baseURL = process.argv[2];
const client = new OpenAI({ baseURL, apiKey: "sk-unused", maxRetries: 0 });
const messages = [{ role: "user", content: "a b c d e" }];

// describe keeps what a caller would inspect on the thrown error.
const describe = (err) => ({
  name: err?.constructor?.name, isAPIError: err instanceof OpenAI.APIError, message: err?.message,
  status: err?.status ?? null, type: err?.type ?? null, code: err?.code ?? null,
});

const out = {};

const stream = await client.chat.completions.create({ model: "qwen3", messages, stream: true });
let content = "";
try {
  for await (const chunk of stream) {
    for (const choice of chunk.choices) content += choice.delta.content ?? "";
  }
  out.loop = { content, error: null };
} catch (err) {
  out.loop = { content, error: describe(err) };
}

const runner = client.chat.completions.stream({ model: "qwen3", messages });
let helperContent = "";
runner.on("content", (delta) => { helperContent += delta; });
try {
  await runner.finalChatCompletion();
  out.helper = { content: helperContent, error: null };
} catch (err) {
  out.helper = { content: helperContent, error: describe(err) };
}

console.log(JSON.stringify(out));
