// Drives ominix-api's chat completions with the official openai npm client.
// Usage: node chat.mjs <baseURL>   (baseURL like http://127.0.0.1:1234/v1)
// Prints one JSON object summarizing what the client saw; the Go test
// (transport/node_test.go) checks it. Exits non-zero on any client error.
import OpenAI from "openai";

const baseURL = process.argv[2];
const client = new OpenAI({ baseURL, apiKey: "sk-unused", maxRetries: 0 });
const user = (content) => [{ role: "user", content }];
const out = {};

// Non-streaming.
const res = await client.chat.completions.create({ model: "qwen3", messages: user("hello from node") });
out.plain = { content: res.choices[0].message.content, model: res.model, finish: res.choices[0].finish_reason,
  completionTokens: res.usage.completion_tokens };

// Streaming with for await, usage trailer.
const stream = await client.chat.completions.create({
  model: "qwen3", messages: user("streamed to node"), stream: true, stream_options: { include_usage: true },
});
const ids = new Set();
let content = "", role = "", finish = null, usage = null, chunks = 0;
for await (const chunk of stream) {
  chunks++;
  ids.add(chunk.id);
  if (chunk.usage) usage = chunk.usage;
  for (const choice of chunk.choices) {
    if (choice.delta.role) role ||= choice.delta.role;
    if (choice.delta.content) content += choice.delta.content;
    if (choice.finish_reason) finish = choice.finish_reason;
  }
}
out.stream = { content, role, finish, ids: ids.size, chunks, completionTokens: usage && usage.completion_tokens };

// Tools, streamed: fragments assembled per index, as the SDK's helpers do.
const tools = [{ type: "function", function: { name: "get_weather",
  parameters: { type: "object", properties: { city: { type: "string" } } } } }];
const toolStream = await client.chat.completions.create({
  model: "qwen3", messages: user("use the tool"), tools, stream: true,
});
const calls = [];
let toolFinish = null;
for await (const chunk of toolStream) {
  for (const choice of chunk.choices) {
    for (const tc of choice.delta.tool_calls ?? []) {
      calls[tc.index] ??= { id: "", name: "", arguments: "" };
      if (tc.id) calls[tc.index].id = tc.id;
      if (tc.function?.name) calls[tc.index].name = tc.function.name;
      if (tc.function?.arguments) calls[tc.index].arguments += tc.function.arguments;
    }
    if (choice.finish_reason) toolFinish = choice.finish_reason;
  }
}
out.tools = { calls, finish: toolFinish };

// The stream helper's final message.
const runner = client.chat.completions.stream({ model: "qwen3", messages: user("helper works") });
const final = await runner.finalChatCompletion();
out.helper = { content: final.choices[0].message.content };

// Errors keep their status and param.
try {
  await client.chat.completions.create({ model: "qwen3", messages: user("x"), temperature: 9 });
  out.error = { status: 0 };
} catch (err) {
  out.error = { status: err.status, param: err.param ?? err.error?.param, type: err.type ?? err.error?.type };
}

console.log(JSON.stringify(out));
