package config

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// QuantSpec is the MLX affine quantization of one weight: Bits-bit codes
// packed little-end-first into uint32 words along the input dimension, with
// a scale and a bias per GroupSize consecutive inputs (w = scale·q + bias).
type QuantSpec struct {
	GroupSize int
	Bits      int
}

// Quantization is the "quantization" object mlx-lm writes into config.json:
// a default spec and optional per-module overrides.
type Quantization struct {
	QuantSpec
	// Layers overrides the default for the named modules (paths such as
	// "model.layers.0.mlp.down_proj", without ".weight"). A nil entry means
	// the module is stored unquantized.
	Layers map[string]*QuantSpec
}

// For returns the quantization of module and whether it is quantized at all.
// Safe for concurrent use.
func (q *Quantization) For(module string) (QuantSpec, bool) {
	if q == nil {
		return QuantSpec{}, false
	}
	if s, ok := q.Layers[module]; ok {
		if s == nil {
			return QuantSpec{}, false
		}
		return *s, true
	}
	return q.QuantSpec, true
}

// Supported quantization parameters.
var (
	QuantBits   = []int{4, 8}
	QuantGroups = []int{32, 64, 128}
)

const maxQuantOverrides = 1 << 16

func (s QuantSpec) validate() error {
	if !slices.Contains(QuantBits, s.Bits) {
		return fmt.Errorf("bits = %d: %w (supported: 4, 8)", s.Bits, ErrUnsupported)
	}
	if !slices.Contains(QuantGroups, s.GroupSize) {
		return fmt.Errorf("group_size = %d: %w (supported: 32, 64, 128)", s.GroupSize, ErrUnsupported)
	}
	return nil
}

// parseQuantization reads mlx-lm's "quantization" object, falling back to
// "quantization_config" (mlx-lm writes both). Other schemes that use
// quantization_config (GPTQ, AWQ, bitsandbytes, fp8) are rejected.
func parseQuantization(q, qc json.RawMessage) (*Quantization, error) {
	name := "quantization"
	if isNull(q) {
		if isNull(qc) {
			return nil, nil
		}
		q, name = qc, "quantization_config"
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(q, &fields); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	out, err := quantFromFields(fields)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return out, nil
}

func quantFromFields(fields map[string]json.RawMessage) (*Quantization, error) {
	if m, ok := fields["quant_method"]; ok {
		var method string
		_ = json.Unmarshal(m, &method)
		return nil, fmt.Errorf("quant_method %q: %w (only MLX affine quantization with group_size and bits)", method, ErrUnsupported)
	}
	if m, ok := fields["mode"]; ok {
		var mode string
		if err := json.Unmarshal(m, &mode); err != nil || mode != "affine" {
			return nil, fmt.Errorf("mode %s: %w (only affine)", strings.TrimSpace(string(m)), ErrUnsupported)
		}
	}
	if len(fields) > maxQuantOverrides {
		return nil, fmt.Errorf("%d entries; at most %d", len(fields), maxQuantOverrides)
	}
	out := &Quantization{}
	if err := unmarshalSpec(fields, &out.QuantSpec); err != nil {
		return nil, err
	}
	for k, v := range fields {
		switch k {
		case "group_size", "bits", "mode":
			continue
		}
		spec, err := overrideSpec(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		if out.Layers == nil {
			out.Layers = make(map[string]*QuantSpec)
		}
		out.Layers[k] = spec
	}
	return out, nil
}

func unmarshalSpec(fields map[string]json.RawMessage, s *QuantSpec) error {
	gs, okG := fields["group_size"]
	b, okB := fields["bits"]
	if !okG || !okB {
		return fmt.Errorf("group_size and bits are both required")
	}
	if err := json.Unmarshal(gs, &s.GroupSize); err != nil {
		return fmt.Errorf("group_size: %w", err)
	}
	if err := json.Unmarshal(b, &s.Bits); err != nil {
		return fmt.Errorf("bits: %w", err)
	}
	return s.validate()
}

// overrideSpec reads a per-module entry: false (not quantized) or an object
// with group_size and bits.
func overrideSpec(v json.RawMessage) (*QuantSpec, error) {
	var b bool
	if json.Unmarshal(v, &b) == nil {
		if b {
			return nil, fmt.Errorf("true is not a quantization; use an object with group_size and bits")
		}
		return nil, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(v, &fields); err != nil {
		return nil, err
	}
	s := &QuantSpec{}
	if err := unmarshalSpec(fields, s); err != nil {
		return nil, err
	}
	return s, nil
}
