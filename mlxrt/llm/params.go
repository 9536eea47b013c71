package llm

import (
	"math/rand/v2"

	"github.com/ominix/ominix-api/mlxrt/llm/config"
	"github.com/ominix/ominix-api/mlxrt/llm/sample"
	"github.com/ominix/ominix-api/pipeline"
)

// samplingParams resolves a request's sampling fields against the model's
// generation_config.json. Unset fields take the file's values; the default
// temperature is the file's when it sets do_sample true (1 when it names
// none) and 0 (greedy) otherwise, as transformers' generate decides. top_k
// has no default beyond the file (no hidden top_k 50). Out-of-range values
// are KindInvalid errors naming the field.
func samplingParams(req *pipeline.ChatRequest, gen *config.Generation) (sample.Params, error) {
	if gen == nil {
		gen = &config.Generation{}
	}
	s := &req.Sampling
	p := sample.Params{
		PresencePenalty:   s.PresencePenalty,
		FrequencyPenalty:  s.FrequencyPenalty,
		RepetitionPenalty: s.RepetitionPenalty,
		Logprobs:          req.Logprobs,
		TopLogprobs:       req.TopLogprobs,
	}
	doSample := gen.DoSample != nil && *gen.DoSample
	switch {
	case s.Temperature != nil:
		p.Temperature = *s.Temperature
	case doSample && gen.Temperature != nil:
		p.Temperature = *gen.Temperature
	case doSample:
		p.Temperature = 1
	}
	p.TopP = pick(s.TopP, gen.TopP, 1)
	p.MinP = pick(s.MinP, gen.MinP, 0)
	p.TopK = pick(s.TopK, gen.TopK, 0)
	if p.RepetitionPenalty == 0 && gen.RepetitionPenalty != nil {
		p.RepetitionPenalty = *gen.RepetitionPenalty
	}
	if s.Seed != nil {
		p.Seed = uint64(*s.Seed)
	} else {
		p.Seed = rand.Uint64()
	}
	if err := p.Validate(); err != nil {
		return p, &pipeline.Error{Kind: pipeline.KindInvalid, Message: err.Error(), Param: paramOf(&p)}
	}
	return p, nil
}

func pick[T any](req, file *T, def T) T {
	switch {
	case req != nil:
		return *req
	case file != nil:
		return *file
	}
	return def
}

// paramOf names the request field Validate objected to.
func paramOf(p *sample.Params) string {
	checks := []struct {
		name string
		p    sample.Params
	}{
		{"temperature", sample.Params{Temperature: p.Temperature}},
		{"top_k", sample.Params{TopK: p.TopK}},
		{"top_p", sample.Params{TopP: p.TopP}},
		{"min_p", sample.Params{MinP: p.MinP}},
		{"presence_penalty", sample.Params{PresencePenalty: p.PresencePenalty}},
		{"frequency_penalty", sample.Params{FrequencyPenalty: p.FrequencyPenalty}},
		{"repetition_penalty", sample.Params{RepetitionPenalty: p.RepetitionPenalty}},
		{"top_logprobs", sample.Params{TopLogprobs: p.TopLogprobs}},
	}
	for _, c := range checks {
		if c.p.Validate() != nil {
			return c.name
		}
	}
	return ""
}
