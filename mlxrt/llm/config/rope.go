package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
)

// RoPE types, named as transformers' rope_type.
const (
	RoPEDefault = "default"
	RoPELinear  = "linear"
	RoPEDynamic = "dynamic" // dynamic NTK: the base grows with the sequence beyond MaxPositions
	RoPELlama3  = "llama3"
	RoPEYarn    = "yarn"
)

// RoPE holds the rotary position embedding parameters of a model.
type RoPE struct {
	Type  string
	Theta float64 // base
	// Dim is how many leading dimensions of each head rotate: the head
	// size times partial_rotary_factor (all of it except for GLM-4).
	Dim int
	// Interleaved rotates pairs (2i, 2i+1) (GLM-4) instead of the halves
	// (i, i+Dim/2) (every other family).
	Interleaved bool
	// Factor is the scaling factor of linear, dynamic, llama3 and yarn.
	Factor float64
	// Llama 3 parameters.
	LowFreqFactor, HighFreqFactor float64
	// OriginalMaxPositions is the pre-training context of llama3 and yarn.
	OriginalMaxPositions int
	// MaxPositions is the model's max_position_embeddings (dynamic and
	// yarn use it).
	MaxPositions int
	// YaRN parameters.
	BetaFast, BetaSlow   float64
	Mscale, MscaleAllDim float64
	Truncate             bool
	// AttentionFactor multiplies cos and sin (1 except for YaRN).
	AttentionFactor float64

	base []float32 // InvFreq for sequences within MaxPositions
}

// Dynamic reports whether the inverse frequencies depend on the sequence
// length (dynamic NTK scaling), so callers must ask InvFreq per length.
func (r *RoPE) Dynamic() bool { return r.Type == RoPEDynamic }

// AttentionFactorF32 is AttentionFactor as the float32 that multiplies cos
// and sin.
func (r *RoPE) AttentionFactorF32() float32 { return float32(r.AttentionFactor) }

// InvFreq returns the Dim/2 inverse frequencies for a forward pass whose
// largest position is seqLen-1. Only dynamic NTK scaling depends on seqLen:
// beyond MaxPositions it raises the base the way transformers'
// dynamic_rope_update does at every forward. The values are computed in
// float32 step by step as transformers computes them, so angles match its
// to the last bit in most positions. The returned slice must not be
// modified.
func (r *RoPE) InvFreq(seqLen int) []float32 {
	if r.Type == RoPEDynamic && seqLen > r.MaxPositions {
		return r.dynamic(seqLen)
	}
	return r.base
}

// powf is float32 exponentiation, correctly rounded from float64.
func powf(b, e float32) float32 { return float32(math.Pow(float64(b), float64(e))) }

// plainInvFreq is 1 / base^(2i/dim) in float32, as torch computes
// 1.0 / (base ** (arange(0, dim, 2).float() / dim)).
func plainInvFreq(base float32, dim int) []float32 {
	inv := make([]float32, dim/2)
	for i := range inv {
		e := float32(2*i) / float32(dim)
		inv[i] = 1 / powf(base, e)
	}
	return inv
}

func (r *RoPE) init() {
	inv := plainInvFreq(float32(r.Theta), r.Dim)
	switch r.Type {
	case RoPELinear:
		for i := range inv {
			inv[i] /= float32(r.Factor)
		}
	case RoPELlama3:
		r.llama3(inv)
	case RoPEYarn:
		inv = r.yarn()
	}
	r.base = inv
}

func (r *RoPE) dynamic(seqLen int) []float32 {
	f := float32(r.Factor)
	s := f*float32(seqLen)/float32(r.MaxPositions) - float32(r.Factor-1)
	base := float32(r.Theta) * powf(s, float32(float64(r.Dim)/float64(r.Dim-2)))
	return plainInvFreq(base, r.Dim)
}

// llama3 applies Llama 3.1's smooth interpolation between the original and
// the scaled frequencies in place.
func (r *RoPE) llama3(inv []float32) {
	factor := float32(r.Factor)
	low, high := float32(r.LowFreqFactor), float32(r.HighFreqFactor)
	old := float32(r.OriginalMaxPositions)
	lowWavelen := float32(float64(r.OriginalMaxPositions) / r.LowFreqFactor)
	highWavelen := float32(float64(r.OriginalMaxPositions) / r.HighFreqFactor)
	for i, f := range inv {
		wavelen := float32(2*math.Pi) / f
		scaled := f
		if wavelen > lowWavelen {
			scaled = f / factor
		}
		if !(wavelen < highWavelen) && !(wavelen > lowWavelen) {
			smooth := (old/wavelen - low) / (high - low)
			scaled = (1-smooth)*scaled/factor + smooth*scaled
		}
		inv[i] = scaled
	}
}

// yarn blends interpolated and extrapolated frequencies with YaRN's linear
// ramp over the dimensions.
func (r *RoPE) yarn() []float32 {
	dim := float64(r.Dim)
	corr := func(rot float64) float64 {
		return dim * math.Log(float64(r.OriginalMaxPositions)/(rot*2*math.Pi)) / (2 * math.Log(r.Theta))
	}
	low, high := corr(r.BetaFast), corr(r.BetaSlow)
	if r.Truncate {
		low, high = math.Floor(low), math.Ceil(high)
	}
	low, high = math.Max(low, 0), math.Min(high, dim-1)
	if low == high {
		high += 0.001
	}
	inv := make([]float32, r.Dim/2)
	for i := range inv {
		pos := powf(float32(r.Theta), float32(2*i)/float32(r.Dim))
		extra := 1 / pos
		inter := 1 / (float32(r.Factor) * pos)
		ramp := (float32(i) - float32(low)) / float32(high-low)
		ramp = min(max(ramp, 0), 1)
		ef := 1 - ramp
		inv[i] = inter*(1-ef) + extra*ef
	}
	return inv
}

// rawRoPE is a rope_scaling or rope_parameters object.
type rawRoPE struct {
	RopeType        string   `json:"rope_type"`
	Type            string   `json:"type"`
	RopeTheta       *float64 `json:"rope_theta"`
	PartialRotary   *float64 `json:"partial_rotary_factor"`
	Factor          *float64 `json:"factor"`
	LowFreqFactor   *float64 `json:"low_freq_factor"`
	HighFreqFactor  *float64 `json:"high_freq_factor"`
	OriginalMax     *int     `json:"original_max_position_embeddings"`
	AttentionFactor *float64 `json:"attention_factor"`
	BetaFast        *float64 `json:"beta_fast"`
	BetaSlow        *float64 `json:"beta_slow"`
	Mscale          *float64 `json:"mscale"`
	MscaleAllDim    *float64 `json:"mscale_all_dim"`
	Truncate        *bool    `json:"truncate"`
}

func isNull(m json.RawMessage) bool {
	m = bytes.TrimSpace(m)
	return len(m) == 0 || bytes.Equal(m, []byte("null"))
}

// rope reads rope_theta with rope_scaling (transformers 4.x) or
// rope_parameters (transformers 5), which must not disagree.
func (r *rawConfig) rope(c *Config) (RoPE, error) {
	rp := RoPE{Type: RoPEDefault, Theta: 10000, Dim: c.HeadDim, MaxPositions: c.MaxPositions, AttentionFactor: 1}
	if r.RopeTheta != nil {
		rp.Theta = *r.RopeTheta
	}
	var raw rawRoPE
	src := "rope_scaling"
	switch {
	case !isNull(r.RopeScaling) && !isNull(r.RopeParameters):
		return rp, fmt.Errorf("both rope_scaling and rope_parameters are set")
	case !isNull(r.RopeParameters):
		src = "rope_parameters"
		if err := json.Unmarshal(r.RopeParameters, &raw); err != nil {
			return rp, fmt.Errorf("rope_parameters: %w", err)
		}
	case !isNull(r.RopeScaling):
		if err := json.Unmarshal(r.RopeScaling, &raw); err != nil {
			return rp, fmt.Errorf("rope_scaling: %w", err)
		}
	}
	if raw.RopeTheta != nil {
		if r.RopeTheta != nil && *r.RopeTheta != *raw.RopeTheta {
			return rp, fmt.Errorf("rope_theta %g contradicts %s.rope_theta %g", *r.RopeTheta, src, *raw.RopeTheta)
		}
		rp.Theta = *raw.RopeTheta
	}
	if err := checkPositive("rope_theta", rp.Theta); err != nil {
		return rp, err
	}
	if err := rp.partial(c, r.PartialRotary, raw.PartialRotary); err != nil {
		return rp, err
	}
	if err := raw.fill(&rp); err != nil {
		return rp, fmt.Errorf("%s: %w", src, err)
	}
	rp.init()
	return rp, nil
}

func (raw *rawRoPE) fill(rp *RoPE) error {
	t := raw.RopeType
	if t == "" {
		t = raw.Type
	}
	if t == "" {
		t = RoPEDefault
	}
	rp.Type = t
	switch t {
	case RoPEDefault:
		return nil
	case RoPELinear:
		return raw.factor(rp)
	case RoPEDynamic:
		if rp.Dim <= 2 {
			return fmt.Errorf("dynamic rope needs a head size above 2, not %d", rp.Dim)
		}
		return raw.factor(rp)
	case RoPELlama3:
		return raw.fillLlama3(rp)
	case RoPEYarn:
		return raw.fillYarn(rp)
	}
	return fmt.Errorf("rope type %q: %w (supported: default, linear, dynamic, llama3, yarn)", t, ErrUnsupported)
}

func (raw *rawRoPE) factor(rp *RoPE) error {
	if raw.Factor == nil {
		return fmt.Errorf("rope type %s needs factor", rp.Type)
	}
	rp.Factor = *raw.Factor
	if math.IsNaN(rp.Factor) || math.IsInf(rp.Factor, 0) || rp.Factor < 1 {
		return fmt.Errorf("factor = %g must be a number ≥ 1", rp.Factor)
	}
	return nil
}

func (raw *rawRoPE) fillLlama3(rp *RoPE) error {
	if err := raw.factor(rp); err != nil {
		return err
	}
	if raw.LowFreqFactor == nil || raw.HighFreqFactor == nil || raw.OriginalMax == nil {
		return fmt.Errorf("rope type llama3 needs low_freq_factor, high_freq_factor and original_max_position_embeddings")
	}
	rp.LowFreqFactor, rp.HighFreqFactor = *raw.LowFreqFactor, *raw.HighFreqFactor
	if err := checkPositive("low_freq_factor", rp.LowFreqFactor); err != nil {
		return err
	}
	if err := checkPositive("high_freq_factor", rp.HighFreqFactor); err != nil {
		return err
	}
	if rp.HighFreqFactor <= rp.LowFreqFactor {
		return fmt.Errorf("high_freq_factor %g must be more than low_freq_factor %g", rp.HighFreqFactor, rp.LowFreqFactor)
	}
	rp.OriginalMaxPositions = *raw.OriginalMax
	if rp.OriginalMaxPositions < 1 || rp.OriginalMaxPositions > MaxPositions {
		return fmt.Errorf("original_max_position_embeddings = %d is outside 1…%d", rp.OriginalMaxPositions, MaxPositions)
	}
	return nil
}

func (raw *rawRoPE) fillYarn(rp *RoPE) error {
	if err := raw.factor(rp); err != nil {
		return err
	}
	rp.OriginalMaxPositions = rp.MaxPositions
	if raw.OriginalMax != nil {
		// transformers then derives the factor from the two lengths.
		rp.OriginalMaxPositions = *raw.OriginalMax
		if rp.OriginalMaxPositions < 1 || rp.OriginalMaxPositions > MaxPositions {
			return fmt.Errorf("original_max_position_embeddings = %d is outside 1…%d", rp.OriginalMaxPositions, MaxPositions)
		}
		rp.Factor = float64(rp.MaxPositions) / float64(rp.OriginalMaxPositions)
	}
	rp.BetaFast, rp.BetaSlow = 32, 1
	if raw.BetaFast != nil && *raw.BetaFast != 0 {
		rp.BetaFast = *raw.BetaFast
	}
	if raw.BetaSlow != nil && *raw.BetaSlow != 0 {
		rp.BetaSlow = *raw.BetaSlow
	}
	if err := checkPositive("beta_fast", rp.BetaFast); err != nil {
		return err
	}
	if err := checkPositive("beta_slow", rp.BetaSlow); err != nil {
		return err
	}
	rp.Truncate = raw.Truncate == nil || *raw.Truncate
	if raw.Mscale != nil {
		rp.Mscale = *raw.Mscale
	}
	if raw.MscaleAllDim != nil {
		rp.MscaleAllDim = *raw.MscaleAllDim
	}
	rp.AttentionFactor = yarnAttentionFactor(rp, raw.AttentionFactor)
	return checkPositive("attention_factor", rp.AttentionFactor)
}

func yarnAttentionFactor(rp *RoPE, given *float64) float64 {
	if given != nil {
		return *given
	}
	mscale := func(scale, m float64) float64 {
		if scale <= 1 {
			return 1
		}
		return 0.1*m*math.Log(scale) + 1
	}
	if rp.Mscale != 0 && rp.MscaleAllDim != 0 {
		return mscale(rp.Factor, rp.Mscale) / mscale(rp.Factor, rp.MscaleAllDim)
	}
	return mscale(rp.Factor, 1)
}

// partial applies partial_rotary_factor (top level or inside the rope
// object; they must agree), which only GLM-4 uses, with interleaved pairs.
func (rp *RoPE) partial(c *Config, top, inner *float64) error {
	f := 1.0
	switch {
	case top != nil && inner != nil && *top != *inner:
		return fmt.Errorf("partial_rotary_factor %g contradicts the rope object's %g", *top, *inner)
	case top != nil:
		f = *top
	case inner != nil:
		f = *inner
	}
	if c.Family == GLM4 {
		rp.Interleaved = true
		if top == nil && inner == nil {
			f = 0.5 // Glm4Config's default
		}
	} else if f != 1 {
		return fmt.Errorf("partial_rotary_factor = %g: %w for %s (only 1)", f, ErrUnsupported, c.Family)
	}
	if !(f > 0 && f <= 1) {
		return fmt.Errorf("partial_rotary_factor = %g is outside (0, 1]", f)
	}
	rp.Dim = int(float64(c.HeadDim) * f)
	if rp.Dim < 2 || rp.Dim%2 != 0 {
		return fmt.Errorf("partial_rotary_factor %g gives %d rotary dimensions; need an even number ≥ 2", f, rp.Dim)
	}
	return nil
}
