// Package llm runs transformer language models of the Qwen3, Qwen2/2.5,
// Llama 2/3, Mistral and GLM-4 families on the mx array API and implements
// pipeline.LLM: chat prompts rendered and tokenized by Prepare, then
// continuous batching by Step, where every sequence of the batch (reading a
// chunk of its prompt or decoding one token) shares one forward pass and so
// one read of every weight.
//
// Use Load to open a local model directory (config.json, safetensors
// weights in float32, float16, bfloat16 or MLX affine 4/8-bit,
// tokenizer.json, the chat template, generation_config.json); use New to
// build an engine from parts (tests). Engine.Prepare makes a Sequence from
// a chat request, Engine.NewSequence from token ids; Engine.Step advances a
// batch; Sequence.Release frees its KV cache.
//
// Threading: Load, Prepare, NewSequence and Info run on any goroutine; Step,
// Release, Logits and Close run on the pinned model thread, one call at a
// time. Each sequence's KV cache is allocated by its first Step, grows in
// chunks up to the context length, and counts against the engine's cache
// budget (Options.MaxCacheBytes).
//
// Stop tokens are the eos_token_id of config.json and generation_config.json,
// the tokenizer's EOS and the families' end-of-turn tokens (<|im_end|>,
// <|eot_id|>, …); stop strings and max_tokens are the scheduler's
// (generation_config.json's max_new_tokens is ModelInfo.DefaultMaxTokens,
// the budget of a request without max_tokens). The text of tool-call and reasoning tokens (<tool_call>,
// <think>, [TOOL_CALLS]) stays in TokenOutput.Text for the parsers above;
// other control tokens produce no text.
package llm
