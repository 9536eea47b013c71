package sample_test

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/llm/sample"
)

// logitsOf returns log(p) for a distribution.
func logitsOf(p ...float64) []float32 {
	out := make([]float32, len(p))
	for i, v := range p {
		out[i] = float32(math.Log(v))
	}
	return out
}

// support draws n tokens and returns how often each appeared.
func support(t *testing.T, p sample.Params, logits []float32, n int) map[int32]int {
	t.Helper()
	s := sample.New(p, len(logits), nil)
	seen := map[int32]int{}
	buf := make([]float32, len(logits))
	for range n {
		copy(buf, logits)
		r, err := s.Sample(buf)
		require.NoError(t, err)
		seen[r.Token]++
	}
	return seen
}

func keys(m map[int32]int) []int32 {
	var out []int32
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestGreedy(t *testing.T) {
	s := sample.New(sample.Params{}, 5, nil)
	r, err := s.Sample([]float32{1, 3, 2, 3, -1})
	require.NoError(t, err)
	assert.Equal(t, int32(1), r.Token, "ties go to the lowest id")
	_, err = s.Sample([]float32{float32(math.NaN()), float32(math.Inf(-1)), float32(math.NaN()), float32(math.Inf(-1)), float32(math.NaN())})
	assert.ErrorIs(t, err, sample.ErrNoFinite)
	_, err = s.Sample([]float32{1})
	assert.Error(t, err)
}

func TestSeededDeterminism(t *testing.T) {
	logits := make([]float32, 1000)
	for i := range logits {
		logits[i] = float32(math.Sin(float64(i)))
	}
	run := func(seed uint64) []int32 {
		s := sample.New(sample.Params{Temperature: 1, TopP: 0.9, Seed: seed}, len(logits), nil)
		var out []int32
		buf := make([]float32, len(logits))
		for range 50 {
			copy(buf, logits)
			r, err := s.Sample(buf)
			require.NoError(t, err)
			out = append(out, r.Token)
		}
		return out
	}
	assert.Equal(t, run(42), run(42))
	assert.NotEqual(t, run(42), run(43))
}

func TestDistribution(t *testing.T) {
	p := []float64{0.5, 0.3, 0.2}
	const n = 20000
	seen := support(t, sample.Params{Temperature: 1, Seed: 1}, logitsOf(p...), n)
	for i, want := range p {
		assert.InDelta(t, want, float64(seen[int32(i)])/n, 0.015, "token %d", i)
	}
	// Temperature 0.5 squares the odds: 25:9:4.
	seen = support(t, sample.Params{Temperature: 0.5, Seed: 2}, logitsOf(p...), n)
	for i, w := range []float64{25, 9, 4} {
		assert.InDelta(t, w/38, float64(seen[int32(i)])/n, 0.015, "token %d", i)
	}
}

func TestTopK(t *testing.T) {
	logits := []float32{1, 5, 2, 4, 3, 0}
	seen := support(t, sample.Params{Temperature: 5, TopK: 3, Seed: 3}, logits, 3000)
	assert.ElementsMatch(t, []int32{1, 3, 4}, keys(seen))
}

func TestTopP(t *testing.T) {
	logits := logitsOf(0.05, 0.5, 0.15, 0.3)
	cases := []struct {
		topP float64
		want []int32
	}{
		{0.4, []int32{1}},
		{0.7, []int32{1, 3}},
		{0.79, []int32{1, 3}},
		{0.81, []int32{1, 3, 2}},
		{0.99, []int32{1, 3, 2, 0}},
	}
	for _, tc := range cases {
		seen := support(t, sample.Params{Temperature: 1, TopP: tc.topP, Seed: 4}, logits, 3000)
		assert.ElementsMatch(t, tc.want, keys(seen), "top_p %g", tc.topP)
	}
}

func TestTopPLargeVocabulary(t *testing.T) {
	// A flat distribution over 5000 tokens: top_p 0.5 needs ~2500 of them,
	// more than the first batch of candidates.
	logits := make([]float32, 5000)
	for i := range logits {
		logits[i] = -float32(i) * 1e-5
	}
	seen := support(t, sample.Params{Temperature: 1, TopP: 0.5, Seed: 5}, logits, 3000)
	maxTok := int32(0)
	for k := range seen {
		maxTok = max(maxTok, k)
	}
	assert.Less(t, maxTok, int32(2600))
	assert.Greater(t, maxTok, int32(2300))
}

func TestMinP(t *testing.T) {
	logits := logitsOf(0.5, 0.3, 0.15, 0.05)
	seen := support(t, sample.Params{Temperature: 1, MinP: 0.2, Seed: 6}, logits, 3000)
	assert.ElementsMatch(t, []int32{0, 1, 2}, keys(seen), "0.05 < 0.2·0.5")
	seen = support(t, sample.Params{Temperature: 1, MinP: 0.2, TopK: 2, Seed: 6}, logits, 3000)
	assert.ElementsMatch(t, []int32{0, 1}, keys(seen))
}

func TestRepetitionPenalty(t *testing.T) {
	s := sample.New(sample.Params{RepetitionPenalty: 2}, 4, []int32{0, 1, 1})
	l := []float32{4, -1, 3, 1}
	r, err := s.Sample(l)
	require.NoError(t, err)
	assert.Equal(t, []float32{2, -2, 3, 1}, l, "positive logits halved, negative doubled, once per token")
	assert.Equal(t, int32(2), r.Token)
	// The generated token is now penalized too.
	l = []float32{4, -1, 3, 1}
	_, err = s.Sample(l)
	require.NoError(t, err)
	assert.Equal(t, []float32{2, -2, 1.5, 1}, l)
}

func TestPresenceFrequencyPenalty(t *testing.T) {
	s := sample.New(sample.Params{PresencePenalty: 0.5, FrequencyPenalty: 0.25}, 3, []int32{2})
	s.Accept(1)
	s.Accept(1)
	s.Accept(0)
	l := []float32{1, 1, 1}
	_, err := s.Sample(l)
	require.NoError(t, err)
	// Prompt tokens do not count; token 1 twice, token 0 once.
	assert.Equal(t, []float32{1 - 0.75, 1 - 1, 1}, l)
}

func TestLogprobs(t *testing.T) {
	raw := logitsOf(0.1, 0.6, 0.3)
	s := sample.New(sample.Params{Logprobs: true, TopLogprobs: 3, RepetitionPenalty: 5, Temperature: 0}, 3, []int32{1})
	l := append([]float32(nil), raw...)
	r, err := s.Sample(l)
	require.NoError(t, err)
	assert.Equal(t, raw, l, "with logprobs the caller's logits are left alone")
	assert.Equal(t, int32(2), r.Token, "the penalty moved the choice")
	assert.InDelta(t, math.Log(0.3), float64(r.Logprob), 1e-6, "logprob is the model's, before penalties")
	require.Len(t, r.Top, 3)
	var sum float64
	for i, c := range r.Top {
		sum += math.Exp(float64(c.Logprob))
		if i > 0 {
			assert.GreaterOrEqual(t, r.Top[i-1].Logprob, c.Logprob)
		}
	}
	assert.InDelta(t, 1, sum, 1e-6)
	assert.Equal(t, []int32{1, 2, 0}, []int32{r.Top[0].Token, r.Top[1].Token, r.Top[2].Token})

	s = sample.New(sample.Params{Logprobs: true}, 3, nil)
	r, err = s.Sample(append([]float32(nil), raw...))
	require.NoError(t, err)
	assert.Nil(t, r.Top)
	assert.InDelta(t, math.Log(0.6), float64(r.Logprob), 1e-6)
}

func TestValidate(t *testing.T) {
	for _, p := range []sample.Params{
		{Temperature: -1}, {TopK: -1}, {TopP: 1.1}, {MinP: -0.1}, {PresencePenalty: 3},
		{FrequencyPenalty: -3}, {RepetitionPenalty: -1}, {TopLogprobs: 21}, {Temperature: math.NaN()},
	} {
		assert.Error(t, p.Validate(), "%+v", p)
	}
	assert.NoError(t, (&sample.Params{Temperature: 0.7, TopK: 20, TopP: 0.8, MinP: 0.05, TopLogprobs: 20}).Validate())
}

func TestTopN(t *testing.T) {
	v := []float32{3, 1, float32(math.NaN()), 3, 7, -2}
	assert.Equal(t, []int32{4, 0, 3}, sample.TopN(v, 3, nil))
	assert.Equal(t, []int32{4, 0, 3, 1, 5}, sample.TopN(v, 10, nil))
	assert.Empty(t, sample.TopN(v, 0, nil))
}

func FuzzSample(f *testing.F) {
	f.Add([]byte{0, 0, 128, 63, 0, 0, 0, 64}, uint8(1), uint8(2), uint8(50), uint8(0), uint64(1))
	f.Fuzz(func(t *testing.T, raw []byte, temp, topK, topP, minP uint8, seed uint64) {
		n := len(raw) / 4
		if n == 0 || n > 4096 {
			return
		}
		logits := make([]float32, n)
		finite := false
		for i := range logits {
			logits[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			finite = finite || (!math.IsNaN(float64(logits[i])) && !math.IsInf(float64(logits[i]), 0))
		}
		p := sample.Params{
			Temperature: float64(temp) / 50, TopK: int(topK), TopP: float64(topP) / 255,
			MinP: float64(minP) / 255, Seed: seed, Logprobs: true, TopLogprobs: int(topK % 21),
			RepetitionPenalty: 1.3, PresencePenalty: 0.5,
		}
		s := sample.New(p, n, []int32{0})
		r, err := s.Sample(logits)
		if err != nil {
			return
		}
		require.GreaterOrEqual(t, r.Token, int32(0))
		require.Less(t, int(r.Token), n)
		_ = finite
	})
}

func BenchmarkSample(b *testing.B) {
	const vocab = 151936
	logits := make([]float32, vocab)
	x := uint64(88172645463325252)
	for i := range logits {
		// A peaked distribution like a language model's: a few dozen
		// plausible tokens above a long flat tail.
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		logits[i] = float32(x%1000)/100 - 5
		if x%4999 == 0 {
			logits[i] += 10 + float32(x%700)/100
		}
	}
	for _, bc := range []struct {
		name string
		p    sample.Params
	}{
		{"greedy", sample.Params{}},
		{"temperature", sample.Params{Temperature: 0.7}},
		{"top_k20_top_p0.95", sample.Params{Temperature: 0.6, TopK: 20, TopP: 0.95}},
		{"top_p0.9", sample.Params{Temperature: 1, TopP: 0.9}},
		{"top_p0.9_flat", sample.Params{Temperature: 3, TopP: 0.9}},
		{"logprobs5", sample.Params{Logprobs: true, TopLogprobs: 5}},
		{"penalties", sample.Params{Temperature: 0.7, RepetitionPenalty: 1.1, PresencePenalty: 0.5}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			prompt := make([]int32, 512)
			for i := range prompt {
				prompt[i] = int32(i * 97 % vocab)
			}
			s := sample.New(bc.p, vocab, prompt)
			buf := make([]float32, vocab)
			for b.Loop() {
				copy(buf, logits)
				if _, err := s.Sample(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
