package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Family names a supported model architecture.
type Family string

// The supported families.
const (
	Qwen3   Family = "qwen3"   // Qwen3ForCausalLM: per-head q/k RMSNorm, no qkv bias
	Qwen2   Family = "qwen2"   // Qwen2ForCausalLM (Qwen2 and Qwen2.5): q/k/v bias
	Llama   Family = "llama"   // LlamaForCausalLM (Llama 2, 3, 3.1, 3.2)
	Mistral Family = "mistral" // MistralForCausalLM (v0.1–v0.3), optional sliding window
	GLM4    Family = "glm4"    // Glm4ForCausalLM (GLM-4-0414): partial interleaved RoPE, extra norms, fused gate_up
)

// architectures maps each family to the transformers class config.json names.
var architectures = map[Family]string{
	Qwen3:   "Qwen3ForCausalLM",
	Qwen2:   "Qwen2ForCausalLM",
	Llama:   "LlamaForCausalLM",
	Mistral: "MistralForCausalLM",
	GLM4:    "Glm4ForCausalLM",
}

// Families lists the supported families in a fixed order.
var Families = []Family{Qwen3, Qwen2, Llama, Mistral, GLM4}

// Limits bound every size a config may declare, so a lying config cannot
// make the loader allocate without end. They are far above any model this
// runtime can serve.
const (
	MaxHidden       = 1 << 16
	MaxIntermediate = 1 << 20
	MaxLayers       = 512
	MaxHeads        = 1024
	MaxHeadDim      = 1024
	MaxVocab        = 1 << 22
	MaxPositions    = 1 << 24
	// MaxConfigBytes is the largest config.json or generation_config.json
	// Parse and ParseGeneration accept.
	MaxConfigBytes = 1 << 20
)

// ErrUnsupported is wrapped by errors for architectures, activations,
// quantization schemes or RoPE types this runtime does not implement.
var ErrUnsupported = errors.New("unsupported")

// Config is a validated model configuration. All sizes are positive and
// within the limits above; NumHeads is a multiple of NumKVHeads.
type Config struct {
	Family       Family
	Architecture string // the transformers class, e.g. "Qwen3ForCausalLM"

	HiddenSize       int
	IntermediateSize int
	NumLayers        int
	NumHeads         int // query heads
	NumKVHeads       int // key/value heads (grouped-query attention when < NumHeads)
	HeadDim          int
	VocabSize        int
	// MaxPositions is max_position_embeddings: the context length the model
	// was configured for.
	MaxPositions int
	RMSNormEps   float64

	TieWordEmbeddings bool // lm_head shares model.embed_tokens.weight
	QKNorm            bool // per-head RMSNorm of queries and keys before RoPE (Qwen3)
	QKVBias           bool // q_proj, k_proj and v_proj carry a bias
	OBias             bool // o_proj carries a bias
	MLPBias           bool // gate_proj, up_proj and down_proj carry a bias
	// PostNorms adds GLM-4's RMSNorms on the attention output
	// (post_self_attn_layernorm) and the MLP output (post_mlp_layernorm)
	// before each residual add.
	PostNorms bool
	// FusedGateUp stores gate and up projections as one mlp.gate_up_proj
	// whose output is [gate; up] (GLM-4).
	FusedGateUp bool

	// SlidingWindow is the attention window of the layers marked in
	// SlidingLayers: a query at position p sees keys at positions
	// p-SlidingWindow+1 … p. Zero means no layer uses a window.
	SlidingWindow int
	SlidingLayers []bool // len NumLayers

	RoPE RoPE

	// Quant is the MLX affine quantization of the checkpoint; nil when the
	// weights are stored as floats.
	Quant *Quantization

	BOSTokenID  int   // -1 when the config names none
	EOSTokenIDs []int // from eos_token_id (a number or a list)
}

// KVDim is the width of one token's keys (or values) in one layer.
func (c *Config) KVDim() int { return c.NumKVHeads * c.HeadDim }

// rawConfig mirrors the config.json fields the families use. Pointers tell
// "absent" from zero; RawMessage fields accept several JSON shapes.
type rawConfig struct {
	ModelType          string          `json:"model_type"`
	Architectures      []string        `json:"architectures"`
	HiddenSize         *int            `json:"hidden_size"`
	IntermediateSize   *int            `json:"intermediate_size"`
	NumLayers          *int            `json:"num_hidden_layers"`
	NumHeads           *int            `json:"num_attention_heads"`
	NumKVHeads         *int            `json:"num_key_value_heads"`
	HeadDim            *int            `json:"head_dim"`
	VocabSize          *int            `json:"vocab_size"`
	MaxPositions       *int            `json:"max_position_embeddings"`
	RMSNormEps         *float64        `json:"rms_norm_eps"`
	RopeTheta          *float64        `json:"rope_theta"`
	RopeScaling        json.RawMessage `json:"rope_scaling"`
	RopeParameters     json.RawMessage `json:"rope_parameters"`
	PartialRotary      *float64        `json:"partial_rotary_factor"`
	TieWordEmbeddings  *bool           `json:"tie_word_embeddings"`
	AttentionBias      *bool           `json:"attention_bias"`
	MLPBias            *bool           `json:"mlp_bias"`
	SlidingWindow      json.RawMessage `json:"sliding_window"`
	UseSlidingWindow   *bool           `json:"use_sliding_window"`
	MaxWindowLayers    *int            `json:"max_window_layers"`
	LayerTypes         []string        `json:"layer_types"`
	HiddenAct          string          `json:"hidden_act"`
	BOSTokenID         json.RawMessage `json:"bos_token_id"`
	EOSTokenID         json.RawMessage `json:"eos_token_id"`
	Quantization       json.RawMessage `json:"quantization"`
	QuantizationConfig json.RawMessage `json:"quantization_config"`
}

// familyDefaults are the transformers config-class defaults for fields a
// config.json may omit. Sizes that define the model (hidden size, layers,
// heads, vocabulary) have no default: a config without them is rejected.
type familyDefaults struct {
	maxPositions  int
	tie           bool
	slidingWindow int // used when the key is absent (not when it is null)
}

var defaults = map[Family]familyDefaults{
	Qwen3:   {maxPositions: 32768},
	Qwen2:   {maxPositions: 32768},
	Llama:   {maxPositions: 2048},
	Mistral: {maxPositions: 4096 * 32, slidingWindow: 4096},
	GLM4:    {maxPositions: 131072},
}

// Parse reads a config.json document. It fails, naming the field, on an
// unknown architecture, a missing or out-of-range size, fields that
// contradict each other, an unsupported activation, RoPE type or
// quantization scheme.
func Parse(data []byte) (*Config, error) {
	if len(data) > MaxConfigBytes {
		return nil, fmt.Errorf("config.json: %d bytes is more than the %d allowed", len(data), MaxConfigBytes)
	}
	var raw rawConfig
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("config.json: %w", err)
	}
	c, err := raw.build()
	if err != nil {
		return nil, fmt.Errorf("config.json: %w", err)
	}
	return c, nil
}

func (r *rawConfig) build() (*Config, error) {
	fam, arch, err := r.family()
	if err != nil {
		return nil, err
	}
	c := &Config{Family: fam, Architecture: arch, BOSTokenID: -1}
	if err := r.sizes(c); err != nil {
		return nil, err
	}
	if err := r.flags(c); err != nil {
		return nil, err
	}
	if err := r.sliding(c); err != nil {
		return nil, err
	}
	if c.RoPE, err = r.rope(c); err != nil {
		return nil, err
	}
	if c.Quant, err = parseQuantization(r.Quantization, r.QuantizationConfig); err != nil {
		return nil, err
	}
	if c.BOSTokenID, err = optionalID(r.BOSTokenID, "bos_token_id"); err != nil {
		return nil, err
	}
	if c.EOSTokenIDs, err = ParseTokenIDs(r.EOSTokenID); err != nil {
		return nil, fmt.Errorf("eos_token_id: %w", err)
	}
	for _, id := range c.EOSTokenIDs {
		if id >= c.VocabSize {
			return nil, fmt.Errorf("eos_token_id %d is outside the vocabulary of %d", id, c.VocabSize)
		}
	}
	return c, nil
}

// family resolves model_type and architectures, which must agree.
func (r *rawConfig) family() (Family, string, error) {
	var fromType, fromArch Family
	if r.ModelType != "" {
		fromType = Family(r.ModelType)
		if _, ok := architectures[fromType]; !ok {
			return "", "", fmt.Errorf("model_type %q: %w architecture (supported: %s)", r.ModelType, ErrUnsupported, supported())
		}
	}
	if len(r.Architectures) > 1 {
		return "", "", fmt.Errorf("architectures lists %d classes; exactly one is supported", len(r.Architectures))
	}
	if len(r.Architectures) == 1 {
		for f, a := range architectures {
			if a == r.Architectures[0] {
				fromArch = f
			}
		}
		if fromArch == "" {
			return "", "", fmt.Errorf("architectures %q: %w architecture (supported: %s)", r.Architectures[0], ErrUnsupported, supported())
		}
	}
	switch {
	case fromType == "" && fromArch == "":
		return "", "", errors.New("neither model_type nor architectures is set")
	case fromType != "" && fromArch != "" && fromType != fromArch:
		return "", "", fmt.Errorf("model_type %q contradicts architectures %q", r.ModelType, r.Architectures[0])
	case fromType == "":
		fromType = fromArch
	}
	return fromType, architectures[fromType], nil
}

func supported() string {
	names := make([]string, len(Families))
	for i, f := range Families {
		names[i] = string(f)
	}
	return strings.Join(names, ", ")
}

// sizes fills and bounds the dimensions.
func (r *rawConfig) sizes(c *Config) error {
	var err error
	req := func(p *int, name string, limit int) int {
		if err != nil {
			return 0
		}
		if p == nil {
			err = fmt.Errorf("%s is missing", name)
			return 0
		}
		if *p < 1 || *p > limit {
			err = fmt.Errorf("%s = %d is outside 1…%d", name, *p, limit)
		}
		return *p
	}
	c.HiddenSize = req(r.HiddenSize, "hidden_size", MaxHidden)
	c.IntermediateSize = req(r.IntermediateSize, "intermediate_size", MaxIntermediate)
	c.NumLayers = req(r.NumLayers, "num_hidden_layers", MaxLayers)
	c.NumHeads = req(r.NumHeads, "num_attention_heads", MaxHeads)
	c.VocabSize = req(r.VocabSize, "vocab_size", MaxVocab)
	if err != nil {
		return err
	}
	c.NumKVHeads = c.NumHeads
	if r.NumKVHeads != nil {
		c.NumKVHeads = req(r.NumKVHeads, "num_key_value_heads", c.NumHeads)
	}
	if err != nil {
		return err
	}
	if c.NumHeads%c.NumKVHeads != 0 {
		return fmt.Errorf("num_attention_heads %d is not a multiple of num_key_value_heads %d", c.NumHeads, c.NumKVHeads)
	}
	if r.HeadDim != nil {
		c.HeadDim = req(r.HeadDim, "head_dim", MaxHeadDim)
	} else {
		if c.HiddenSize%c.NumHeads != 0 {
			return fmt.Errorf("hidden_size %d is not a multiple of num_attention_heads %d and head_dim is not given", c.HiddenSize, c.NumHeads)
		}
		c.HeadDim = c.HiddenSize / c.NumHeads
		if c.HeadDim > MaxHeadDim {
			return fmt.Errorf("head_dim %d (hidden_size / num_attention_heads) is more than %d", c.HeadDim, MaxHeadDim)
		}
	}
	if err != nil {
		return err
	}
	if c.HeadDim%2 != 0 {
		return fmt.Errorf("head_dim %d is odd; rotary embeddings need an even head size", c.HeadDim)
	}
	c.MaxPositions = defaults[c.Family].maxPositions
	if r.MaxPositions != nil {
		c.MaxPositions = req(r.MaxPositions, "max_position_embeddings", MaxPositions)
	}
	return err
}

// flags fills norms, biases, activation and embedding tying.
func (r *rawConfig) flags(c *Config) error {
	c.RMSNormEps = 1e-6
	if r.RMSNormEps != nil {
		e := *r.RMSNormEps
		if !(e > 0 && e < 1) {
			return fmt.Errorf("rms_norm_eps = %g is outside (0, 1)", e)
		}
		c.RMSNormEps = e
	}
	switch r.HiddenAct {
	case "", "silu", "swish":
	default:
		return fmt.Errorf("hidden_act %q: %w activation (only silu)", r.HiddenAct, ErrUnsupported)
	}
	c.TieWordEmbeddings = defaults[c.Family].tie
	if r.TieWordEmbeddings != nil {
		c.TieWordEmbeddings = *r.TieWordEmbeddings
	}
	attnBias := r.AttentionBias != nil && *r.AttentionBias
	switch c.Family {
	case Qwen3:
		c.QKNorm = true
		c.QKVBias, c.OBias = attnBias, attnBias
	case Qwen2:
		// Qwen2 always has q/k/v biases and never an o_proj bias; the
		// config has no switch for them.
		c.QKVBias = true
	case Llama:
		c.QKVBias, c.OBias = attnBias, attnBias
		c.MLPBias = r.MLPBias != nil && *r.MLPBias
	case Mistral:
		if attnBias {
			return fmt.Errorf("attention_bias: %w for mistral", ErrUnsupported)
		}
	case GLM4:
		// GLM-4 defaults to q/k/v biases; o_proj never has one.
		c.QKVBias = r.AttentionBias == nil || *r.AttentionBias
		c.PostNorms, c.FusedGateUp = true, true
	}
	return nil
}

// sliding decides which layers use a sliding attention window, the way the
// transformers classes of each family do.
func (r *rawConfig) sliding(c *Config) error {
	window, present, err := nullableInt(r.SlidingWindow)
	if err != nil {
		return fmt.Errorf("sliding_window: %w", err)
	}
	if !present {
		window = defaults[c.Family].slidingWindow
	}
	if window < 0 {
		return fmt.Errorf("sliding_window = %d is negative", window)
	}
	c.SlidingLayers = make([]bool, c.NumLayers)
	switch c.Family {
	case Llama:
		return nil
	case Qwen2, Qwen3:
		if r.UseSlidingWindow == nil || !*r.UseSlidingWindow {
			window = 0
		}
	}
	if r.LayerTypes != nil {
		return c.layerTypes(r.LayerTypes, window)
	}
	if window == 0 {
		return nil
	}
	first := 0 // Mistral windows every layer
	if c.Family == Qwen2 || c.Family == Qwen3 {
		first = 28 // transformers' default max_window_layers
		if r.MaxWindowLayers != nil {
			first = *r.MaxWindowLayers
		}
		if first < 0 {
			return fmt.Errorf("max_window_layers = %d is negative", first)
		}
	}
	for i := first; i < c.NumLayers; i++ {
		c.SlidingLayers[i] = true
	}
	c.SlidingWindow = window
	if !slices.Contains(c.SlidingLayers, true) {
		c.SlidingWindow = 0
	}
	return nil
}

func (c *Config) layerTypes(types []string, window int) error {
	if len(types) != c.NumLayers {
		return fmt.Errorf("layer_types has %d entries for %d layers", len(types), c.NumLayers)
	}
	for i, t := range types {
		switch t {
		case "full_attention":
		case "sliding_attention":
			if window == 0 {
				return fmt.Errorf("layer_types[%d] is sliding_attention but no sliding window is enabled", i)
			}
			c.SlidingLayers[i] = true
			c.SlidingWindow = window
		default:
			return fmt.Errorf("layer_types[%d] = %q: %w layer type", i, t, ErrUnsupported)
		}
	}
	return nil
}

// nullableInt decodes an optional integer that may be JSON null. present
// reports whether the key was there at all (null counts as present).
func nullableInt(m json.RawMessage) (v int, present bool, err error) {
	if m == nil {
		return 0, false, nil
	}
	if bytes.Equal(bytes.TrimSpace(m), []byte("null")) {
		return 0, true, nil
	}
	if err := json.Unmarshal(m, &v); err != nil {
		return 0, true, err
	}
	return v, true, nil
}

func optionalID(m json.RawMessage, name string) (int, error) {
	ids, err := ParseTokenIDs(m)
	if err != nil {
		return -1, fmt.Errorf("%s: %w", name, err)
	}
	if len(ids) == 0 {
		return -1, nil
	}
	return ids[0], nil
}

// ParseTokenIDs decodes a token id field that may be absent, null, a number
// or a list of numbers (eos_token_id is any of these). Ids must be
// non-negative; at most 64 are accepted.
func ParseTokenIDs(m json.RawMessage) ([]int, error) {
	m = bytes.TrimSpace(m)
	if len(m) == 0 || bytes.Equal(m, []byte("null")) {
		return nil, nil
	}
	var ids []int
	if m[0] == '[' {
		if err := json.Unmarshal(m, &ids); err != nil {
			return nil, err
		}
	} else {
		var id int
		if err := json.Unmarshal(m, &id); err != nil {
			return nil, err
		}
		ids = []int{id}
	}
	if len(ids) > 64 {
		return nil, fmt.Errorf("%d token ids; at most 64", len(ids))
	}
	for _, id := range ids {
		if id < 0 {
			return nil, fmt.Errorf("token id %d is negative", id)
		}
	}
	return ids, nil
}

// checkFinite reports a non-finite or non-positive value.
func checkPositive(name string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
		return fmt.Errorf("%s = %g must be a positive number", name, v)
	}
	return nil
}
