// Package sample picks the next token of a sequence from the model's logits:
// greedy or seeded random sampling with temperature, top-k, top-p and min-p,
// OpenAI presence and frequency penalties, the transformers repetition
// penalty, and the log probabilities OpenAI's logprobs option reports.
//
// Use New to make a Sampler for one sequence (it keeps the penalty counts and
// its own random generator) and Sampler.Sample once per generated token.
//
// Processing order, as transformers applies it: repetition penalty (over
// prompt and generated tokens), presence and frequency penalties (over
// generated tokens only, as OpenAI and vLLM count them), then temperature,
// top-k, top-p and min-p, then the draw. Temperature 0 is greedy (argmax of
// the penalized logits; ties go to the lowest id).
//
// Log probabilities describe the model's own distribution: the log-softmax
// of the raw logits, before penalties and temperature (vLLM's default,
// and what OpenAI documents as the model's likelihood of each token). So a
// penalized or temperature-scaled choice is reported with the probability
// the model gave it.
package sample
