package config

import (
	"encoding/json"
	"fmt"
	"math"
)

// Generation holds the generation_config.json defaults a request falls back
// to. Nil fields were not set by the model.
type Generation struct {
	DoSample          *bool
	Temperature       *float64
	TopP              *float64
	TopK              *int
	MinP              *float64
	RepetitionPenalty *float64
	// MaxNewTokens is the completion budget of a request that sets none
	// (max_new_tokens; at least 1).
	MaxNewTokens *int
	EOSTokenIDs  []int
	BOSTokenID   int // -1 when unset
}

type rawGeneration struct {
	DoSample          *bool           `json:"do_sample"`
	Temperature       *float64        `json:"temperature"`
	TopP              *float64        `json:"top_p"`
	TopK              *int            `json:"top_k"`
	MinP              *float64        `json:"min_p"`
	RepetitionPenalty *float64        `json:"repetition_penalty"`
	MaxNewTokens      *int            `json:"max_new_tokens"`
	EOSTokenID        json.RawMessage `json:"eos_token_id"`
	BOSTokenID        json.RawMessage `json:"bos_token_id"`
}

// ParseGeneration reads a generation_config.json document. Values outside
// their meaningful ranges (negative temperature, top_p outside (0, 1], …)
// are errors.
func ParseGeneration(data []byte) (*Generation, error) {
	if len(data) > MaxConfigBytes {
		return nil, fmt.Errorf("generation_config.json: %d bytes is more than the %d allowed", len(data), MaxConfigBytes)
	}
	var raw rawGeneration
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("generation_config.json: %w", err)
	}
	g, err := raw.build()
	if err != nil {
		return nil, fmt.Errorf("generation_config.json: %w", err)
	}
	return g, nil
}

func (r *rawGeneration) build() (*Generation, error) {
	g := &Generation{
		DoSample: r.DoSample, Temperature: r.Temperature, TopP: r.TopP, TopK: r.TopK,
		MinP: r.MinP, RepetitionPenalty: r.RepetitionPenalty, MaxNewTokens: r.MaxNewTokens,
	}
	check := func(name string, p *float64, lo, hi float64) error {
		if p != nil && (math.IsNaN(*p) || *p < lo || *p > hi) {
			return fmt.Errorf("%s = %g is outside %g…%g", name, *p, lo, hi)
		}
		return nil
	}
	for _, c := range []struct {
		name   string
		p      *float64
		lo, hi float64
	}{
		{"temperature", r.Temperature, 0, 100},
		{"top_p", r.TopP, 0, 1},
		{"min_p", r.MinP, 0, 1},
		{"repetition_penalty", r.RepetitionPenalty, 0, 100},
	} {
		if err := check(c.name, c.p, c.lo, c.hi); err != nil {
			return nil, err
		}
	}
	if r.RepetitionPenalty != nil && *r.RepetitionPenalty == 0 {
		return nil, fmt.Errorf("repetition_penalty = 0 must be positive")
	}
	if r.TopK != nil && *r.TopK < 0 {
		return nil, fmt.Errorf("top_k = %d is negative", *r.TopK)
	}
	if r.MaxNewTokens != nil && *r.MaxNewTokens < 1 {
		return nil, fmt.Errorf("max_new_tokens = %d must be positive", *r.MaxNewTokens)
	}
	var err error
	if g.EOSTokenIDs, err = ParseTokenIDs(r.EOSTokenID); err != nil {
		return nil, fmt.Errorf("eos_token_id: %w", err)
	}
	if g.BOSTokenID, err = optionalID(r.BOSTokenID, "bos_token_id"); err != nil {
		return nil, err
	}
	return g, nil
}
