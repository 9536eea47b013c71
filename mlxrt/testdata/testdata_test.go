// Package testdata_test checks that the golden files written by gen_golden.py
// are present and self-consistent, so a broken regeneration is caught before
// the runtime tests that use them fail in confusing ways. The go tool skips
// directories named testdata in ./..., so run it by name:
//
//	go test ./mlxrt/testdata
package testdata_test

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type manifest struct {
	FormatVersion int               `json:"format_version"`
	Versions      map[string]string `json:"versions"`
	Tokenizers    []string          `json:"tokenizers"`
	Models        []struct {
		Name                 string `json:"name"`
		Family               string `json:"family"`
		Tokenizer            string `json:"tokenizer"`
		Weights              string `json:"weights"`
		ChatTemplateLocation string `json:"chat_template_location"`
		Sharded              bool   `json:"sharded"`
	} `json:"models"`
	TemplateCases int      `json:"template_cases"`
	Errors        []string `json:"errors"`
}

type tokenizerCases struct {
	Tokenizer string `json:"tokenizer"`
	VocabSize int    `json:"vocab_size"`
	Count     int    `json:"count"`
	Cases     []struct {
		Text           *string  `json:"text"`
		IDs            []int    `json:"ids"`
		Tokens         []string `json:"tokens"`
		IDsWithSpecial []int    `json:"ids_with_special"`
		Decoded        *string  `json:"decoded"`
		DecodedSkip    *string  `json:"decoded_skip"`
	} `json:"cases"`
}

type golden struct {
	Name         string `json:"name"`
	Weights      string `json:"weights"`
	Quantization *struct {
		Bits      int `json:"bits"`
		GroupSize int `json:"group_size"`
	} `json:"quantization"`
	Config struct {
		VocabSize int `json:"vocab_size"`
	} `json:"config"`
	PromptIDs []int `json:"prompt_ids"`
	Logits    struct {
		File      string `json:"file"`
		DType     string `json:"dtype"`
		ByteOrder string `json:"byte_order"`
		Shape     []int  `json:"shape"`
	} `json:"logits"`
	GreedyIDs        []int `json:"greedy_ids"`
	GreedyIDsNoCache []int `json:"greedy_ids_nocache"`
	Batch            []struct {
		PromptIDs []int `json:"prompt_ids"`
		GreedyIDs []int `json:"greedy_ids"`
	} `json:"batch"`
	Tolerance struct {
		LogitsAtol float64 `json:"logits_atol"`
	} `json:"tolerance"`
}

type templateCases struct {
	Count int `json:"count"`
	Cases []struct {
		Name                string          `json:"name"`
		Model               string          `json:"model"`
		TemplateSource      string          `json:"template_source"`
		Messages            json.RawMessage `json:"messages"`
		AddGenerationPrompt *bool           `json:"add_generation_prompt"`
		Rendered            *string         `json:"rendered"`
		IDs                 []int           `json:"ids"`
		Error               *string         `json:"error"`
	} `json:"cases"`
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, v), path)
}

func loadManifest(t *testing.T) manifest {
	t.Helper()
	var m manifest
	readJSON(t, "manifest.json", &m)
	return m
}

func TestManifest(t *testing.T) {
	m := loadManifest(t)
	assert.Equal(t, 1, m.FormatVersion)
	assert.Empty(t, m.Errors, "the last generation reported errors")
	assert.ElementsMatch(t, []string{"bytelevel", "bytelevel-llama3", "spm", "metaspace"}, m.Tokenizers)
	assert.GreaterOrEqual(t, len(m.Models), 11)
	assert.NotEmpty(t, m.Versions["transformers"])
}

func TestTokenizerCases(t *testing.T) {
	for _, name := range loadManifest(t).Tokenizers {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("tokenizers", name)
			var tj, tc map[string]any
			readJSON(t, filepath.Join(dir, "tokenizer.json"), &tj)
			readJSON(t, filepath.Join(dir, "tokenizer_config.json"), &tc)
			require.Contains(t, tj, "model")
			require.Contains(t, tc, "added_tokens_decoder")

			var c tokenizerCases
			readJSON(t, filepath.Join(dir, "cases.json"), &c)
			require.Equal(t, name, c.Tokenizer)
			require.GreaterOrEqual(t, c.Count, 200)
			require.Len(t, c.Cases, c.Count)
			for i, cs := range c.Cases {
				require.NotNil(t, cs.Text, "case %d", i)
				require.NotNil(t, cs.Decoded, "case %d", i)
				require.NotNil(t, cs.DecodedSkip, "case %d", i)
				require.Len(t, cs.Tokens, len(cs.IDs), "case %d", i)
				for _, id := range append(append([]int{}, cs.IDs...), cs.IDsWithSpecial...) {
					require.True(t, id >= 0 && id < c.VocabSize, "case %d: id %d out of range", i, id)
				}
			}
		})
	}
}

func TestModels(t *testing.T) {
	for _, mm := range loadManifest(t).Models {
		t.Run(mm.Name, func(t *testing.T) {
			dir := filepath.Join("models", mm.Name)
			for _, f := range []string{"config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json"} {
				var v map[string]any
				readJSON(t, filepath.Join(dir, f), &v)
			}
			checkChatTemplate(t, dir, mm.ChatTemplateLocation)
			checkWeights(t, dir, mm.Sharded)

			var g golden
			readJSON(t, filepath.Join(dir, "golden.json"), &g)
			require.Equal(t, mm.Name, g.Name)
			require.Equal(t, "float32", g.Logits.DType)
			require.Equal(t, "little", g.Logits.ByteOrder)
			require.Len(t, g.Logits.Shape, 2)
			require.Equal(t, len(g.PromptIDs), g.Logits.Shape[0])
			require.Equal(t, g.Config.VocabSize, g.Logits.Shape[1])
			require.Len(t, g.GreedyIDs, 32)
			require.Len(t, g.GreedyIDsNoCache, 32)
			require.Len(t, g.Batch, 3)
			for _, b := range g.Batch {
				require.NotEmpty(t, b.PromptIDs)
				require.Len(t, b.GreedyIDs, 16)
			}
			require.Positive(t, g.Tolerance.LogitsAtol)
			if mm.Weights == "mlx-affine" {
				require.NotNil(t, g.Quantization)
			}

			raw, err := os.ReadFile(filepath.Join(dir, g.Logits.File))
			require.NoError(t, err)
			require.Len(t, raw, g.Logits.Shape[0]*g.Logits.Shape[1]*4)
			for i := 0; i < len(raw); i += 4 {
				v := math.Float32frombits(binary.LittleEndian.Uint32(raw[i:]))
				require.False(t, math.IsNaN(float64(v)) || math.IsInf(float64(v), 0), "logit %d", i/4)
			}
		})
	}
}

func checkChatTemplate(t *testing.T, dir, location string) {
	t.Helper()
	var tc map[string]any
	readJSON(t, filepath.Join(dir, "tokenizer_config.json"), &tc)
	_, errJinja := os.Stat(filepath.Join(dir, "chat_template.jinja"))
	switch location {
	case "chat_template.jinja":
		require.NoError(t, errJinja)
		require.NotContains(t, tc, "chat_template")
	case "tokenizer_config.json":
		require.True(t, os.IsNotExist(errJinja))
		s, ok := tc["chat_template"].(string)
		require.True(t, ok)
		require.NotEmpty(t, s)
	default:
		t.Fatalf("unknown chat template location %q", location)
	}
}

func checkWeights(t *testing.T, dir string, sharded bool) {
	t.Helper()
	if !sharded {
		checkSafetensors(t, filepath.Join(dir, "model.safetensors"))
		return
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	readJSON(t, filepath.Join(dir, "model.safetensors.index.json"), &idx)
	require.NotEmpty(t, idx.WeightMap)
	files := map[string]bool{}
	for _, f := range idx.WeightMap {
		files[f] = true
	}
	require.Greater(t, len(files), 1)
	for f := range files {
		require.True(t, strings.HasPrefix(f, "model-"), f)
		checkSafetensors(t, filepath.Join(dir, f))
	}
}

// checkSafetensors parses the header and checks every tensor's byte range.
func checkSafetensors(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Greater(t, len(b), 8)
	n := binary.LittleEndian.Uint64(b[:8])
	require.LessOrEqual(t, n, uint64(len(b)-8))
	var header map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(b[8:8+n], &header))
	data := uint64(len(b)) - 8 - n
	for name, raw := range header {
		if name == "__metadata__" {
			continue
		}
		var ti struct {
			DType   string   `json:"dtype"`
			Shape   []uint64 `json:"shape"`
			Offsets []uint64 `json:"data_offsets"`
		}
		require.NoError(t, json.Unmarshal(raw, &ti), name)
		require.Len(t, ti.Offsets, 2, name)
		require.LessOrEqual(t, ti.Offsets[0], ti.Offsets[1], name)
		require.LessOrEqual(t, ti.Offsets[1], data, name)
		size := map[string]uint64{"F32": 4, "BF16": 2, "F16": 2, "U32": 4}[ti.DType]
		require.NotZero(t, size, "%s: dtype %s", name, ti.DType)
		elems := uint64(1)
		for _, d := range ti.Shape {
			elems *= d
		}
		require.Equal(t, elems*size, ti.Offsets[1]-ti.Offsets[0], name)
	}
}

func TestTemplateCases(t *testing.T) {
	m := loadManifest(t)
	models := map[string]bool{}
	for _, mm := range m.Models {
		models[mm.Name] = true
	}
	var c templateCases
	readJSON(t, filepath.Join("templates", "cases.json"), &c)
	require.GreaterOrEqual(t, c.Count, 25)
	require.Len(t, c.Cases, c.Count)
	require.Equal(t, m.TemplateCases, c.Count)
	for _, cs := range c.Cases {
		require.True(t, models[cs.Model], "%s: unknown model %s", cs.Name, cs.Model)
		require.NotNil(t, cs.AddGenerationPrompt, cs.Name)
		require.NotEmpty(t, cs.Messages, cs.Name)
		if cs.Error != nil {
			require.Nil(t, cs.Rendered, cs.Name)
			continue
		}
		require.NotNil(t, cs.Rendered, cs.Name)
		require.NotEmpty(t, cs.IDs, cs.Name)
	}
}
