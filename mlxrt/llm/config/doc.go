// Package config parses and validates the config.json and
// generation_config.json of a transformers-style causal language model
// (Qwen3, Qwen2/2.5, Llama 2/3, Mistral v0.1–v0.3, GLM-4) into a Config
// the model code can trust: every size positive and bounded, head counts
// consistent, rotary embedding parameters complete, quantization settings
// known.
//
// Use Parse to read a config.json, ParseGeneration for generation_config.json,
// and RoPE.InvFreq to get the rotary inverse frequencies exactly as
// transformers computes them (default, linear, dynamic NTK, Llama 3 and YaRN
// scaling). Errors name the field at fault; nothing here panics or allocates
// in proportion to a declared size.
package config
