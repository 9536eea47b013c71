// chat.html: streams POST /v1/chat/completions (stream: true) over fetch
// and renders each delta as it arrives; reasoning_content is shown apart
// from the answer; Stop aborts the request (the server cancels the work).

import { api, ApiError, errorFrom, listModels, sseEvents, setStatus, fmtMs, EMPTY_SLOT } from "./common.js";

const $ = (id) => document.getElementById(id);
const modelSel = $("model"), messages = $("messages"), prompt = $("prompt");
const sendBtn = $("send"), stopBtn = $("stop"), status = $("status");
const ttftOut = $("ttft"), rateOut = $("rate"), tokensOut = $("tokens");

/** The conversation sent with each request. */
const history = [];
let controller = null;

// Readouts for people and for the browser tests.
const stats = { requests: 0, ttftMs: null, deltas: 0, finish: null, aborted: false, error: null };
window.demoStats = { chat: stats };

async function loadModels() {
  try {
    const llms = (await listModels()).filter((m) => (m.type || "llm") === "llm");
    modelSel.textContent = "";
    if (llms.length === 0) {
      modelSel.append(new Option("(no language model loaded)", ""));
      setStatus(status, EMPTY_SLOT.llm, "error");
      return;
    }
    for (const m of llms) modelSel.append(new Option(m.id, m.id));
    const last = localStorage.getItem("ominix-chat-model");
    if (last && llms.some((m) => m.id === last)) modelSel.value = last;
    setStatus(status, "");
  } catch (e) {
    modelSel.textContent = "";
    modelSel.append(new Option("(unavailable)", ""));
    setStatus(status, `Could not list models: ${e.message}`, "error");
  }
}

function addMessage(role, text = "") {
  const el = document.createElement("div");
  el.className = `msg ${role}`;
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = role === "user" ? "You" : "Assistant";
  el.append(who);
  let reasoning = null, reasoningText = null;
  if (role === "assistant") {
    reasoning = document.createElement("details");
    reasoning.className = "reasoning";
    reasoning.hidden = true;
    reasoning.open = true;
    const sum = document.createElement("summary");
    sum.textContent = "Reasoning";
    reasoningText = document.createTextNode("");
    reasoning.append(sum, reasoningText);
    el.append(reasoning);
  }
  const content = document.createTextNode(text);
  el.append(content);
  const note = document.createElement("span");
  note.className = "note";
  el.append(note);
  messages.append(el);
  el.scrollIntoView({ block: "end" });
  return { el, content, reasoning, reasoningText, note };
}

function readNumber(id, fallback) {
  const v = Number($(id).value);
  return Number.isFinite(v) && $(id).value !== "" ? v : fallback;
}

function busy(on) {
  sendBtn.disabled = on;
  stopBtn.disabled = !on;
}

async function send(text) {
  if (controller) return;
  history.push({ role: "user", content: text });
  addMessage("user", text);
  const a = addMessage("assistant");
  controller = new AbortController();
  busy(true);
  setStatus(status, "Waiting for the first token…");
  ttftOut.textContent = rateOut.textContent = tokensOut.textContent = "–";
  Object.assign(stats, { ttftMs: null, deltas: 0, finish: null, aborted: false, error: null });
  stats.requests++;

  const t0 = performance.now();
  let firstAt = null, answer = "", usage = null;
  try {
    const body = {
      messages: history.slice(),
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: readNumber("max-tokens", 512),
      temperature: readNumber("temperature", 0.7),
    };
    if (modelSel.value) body.model = modelSel.value;
    const resp = await api("/v1/chat/completions", { method: "POST", json: body, signal: controller.signal });
    if (!resp.ok) throw await errorFrom(resp);
    for await (const ev of sseEvents(resp)) {
      if (ev.data === "[DONE]") break;
      let chunk;
      try { chunk = JSON.parse(ev.data); } catch { continue; }
      if (chunk.error) throw new ApiError(0, chunk.error.message || "stream error", chunk.error.code, chunk.error.type);
      if (chunk.usage) usage = chunk.usage;
      for (const c of chunk.choices || []) {
        const d = c.delta || {};
        const thought = d.reasoning_content ?? d.reasoning;
        if (thought) {
          a.reasoning.hidden = false;
          a.reasoningText.appendData(thought);
        }
        if (d.content) {
          a.content.appendData(d.content);
          answer += d.content;
        }
        if (thought || d.content) {
          stats.deltas++;
          if (firstAt === null) {
            firstAt = performance.now();
            stats.ttftMs = firstAt - t0;
            ttftOut.textContent = fmtMs(stats.ttftMs);
            setStatus(status, "Streaming…");
          }
          tokensOut.textContent = String(stats.deltas);
          const secs = (performance.now() - firstAt) / 1000;
          if (secs > 0.05 && stats.deltas > 1) rateOut.textContent = `${((stats.deltas - 1) / secs).toFixed(1)} tok/s`;
        }
        if (c.finish_reason) stats.finish = c.finish_reason;
      }
    }
    history.push({ role: "assistant", content: answer });
    if (usage && usage.completion_tokens) tokensOut.textContent = String(usage.completion_tokens);
    a.note.textContent = stats.finish === "length" ? "stopped at the token limit" : stats.finish ? `finished (${stats.finish})` : "";
    setStatus(status, "Done.", "ok");
  } catch (e) {
    if (e.name === "AbortError") {
      stats.aborted = true;
      a.note.textContent = "stopped";
      if (answer) history.push({ role: "assistant", content: answer });
      else history.pop(); // nothing answered: forget the question too
      setStatus(status, "Stopped: the request was aborted.", "warn");
    } else {
      stats.error = e.message;
      const msg = e.status === 503 && e.code === "model_not_loaded" ? `${e.message}. ${EMPTY_SLOT.llm}` : e.message;
      if (!answer) {
        a.el.classList.add("error");
        a.content.appendData(msg);
        history.pop();
      } else {
        history.push({ role: "assistant", content: answer });
      }
      setStatus(status, msg, "error");
    }
  } finally {
    controller = null;
    busy(false);
  }
}

$("composer").addEventListener("submit", (e) => {
  e.preventDefault();
  const text = prompt.value.trim();
  if (!text || controller) return;
  prompt.value = "";
  send(text);
});
prompt.addEventListener("keydown", (e) => {
  if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
    e.preventDefault();
    $("composer").requestSubmit();
  }
});
stopBtn.addEventListener("click", () => controller && controller.abort());
$("clear").addEventListener("click", () => {
  if (controller) controller.abort();
  history.length = 0;
  messages.textContent = "";
  setStatus(status, "");
});
modelSel.addEventListener("change", () => localStorage.setItem("ominix-chat-model", modelSel.value));

loadModels();
