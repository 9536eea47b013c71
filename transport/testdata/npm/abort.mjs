// Aborts a streaming chat completion mid-stream with an AbortController.
// Usage: node abort.mjs <baseURL>
// Prints {"chunks": n, "aborted": true} once the stream was cut (n >= 5);
// the Go test
// then checks that the server stopped the work.
import OpenAI from "openai";

const client = new OpenAI({ baseURL: process.argv[2], apiKey: "sk-unused", maxRetries: 0 });
const controller = new AbortController();
const stream = await client.chat.completions.create(
  { model: "qwen3", messages: [{ role: "user", content: "go on forever" }], stream: true },
  { signal: controller.signal },
);
let chunks = 0;
try {
  // The SDK ends the iteration quietly once the signal is aborted; chunks
  // already buffered may still arrive.
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta?.content) chunks++;
    if (chunks === 5) controller.abort();
  }
} catch (err) {
  if (!controller.signal.aborted) throw err;
}
console.log(JSON.stringify({ chunks, aborted: controller.signal.aborted }));
