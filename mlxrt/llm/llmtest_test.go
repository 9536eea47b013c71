package llm_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/llm"
	"github.com/ominix/ominix-api/mlxrt/llm/llmtest"
	"github.com/ominix/ominix-api/pipeline"
)

// TestRandomModels builds the small random models of every variant with
// llmtest (as the benchmarks build the Qwen3-0.6B-shaped ones), decodes
// with them, and checks the weight bytes a decode step reads.
func TestRandomModels(t *testing.T) {
	s := llmtest.Small
	layer := s.Hidden*(s.Heads*s.HeadDim+2*s.KVHeads*s.HeadDim) + s.Heads*s.HeadDim*s.Hidden + 3*s.Hidden*s.Intermediate
	for _, v := range []llmtest.Variant{llmtest.BF16, llmtest.Q8, llmtest.Q4} {
		t.Run(string(v), func(t *testing.T) {
			dir, err := llmtest.Dir(s, v, 7)
			require.NoError(t, err)
			again, err := llmtest.Dir(s, v, 7)
			require.NoError(t, err)
			assert.Equal(t, dir, again, "cached")
			e, closeFn, err := llmtest.Open(dir, nil)
			require.NoError(t, err)
			defer closeFn()

			// Weights per parameter: bf16 2 bytes; b-bit codes plus a bf16
			// scale and bias per 64 weights.
			perParam := map[llmtest.Variant]float64{llmtest.BF16: 2, llmtest.Q8: 1 + 4.0/64, llmtest.Q4: 0.5 + 4.0/64}[v]
			norms := 2 * (s.Layers*(2*s.Hidden+2*s.HeadDim) + s.Hidden)
			params := s.Layers*layer + s.Vocab*s.Hidden // layers + tied lm_head
			want := perParam*float64(params) + perParam*float64(s.Hidden) + float64(norms)
			if v == llmtest.BF16 {
				want = 2*float64(params) + 2*float64(s.Hidden) + float64(norms)
			}
			assert.InDelta(t, want, float64(e.WeightBytesPerToken()), 1)

			seq, err := e.NewSequence([]int32{3, 1, 4, 1, 5}, llm.SequenceOptions{IgnoreEOS: true})
			require.NoError(t, err)
			defer seq.Release()
			toks, _, errs := stepAll(t, e, []pipeline.Sequence{seq}, 8)
			require.NoError(t, errs[0])
			assert.Len(t, toks[0], 8)
		})
	}
}
