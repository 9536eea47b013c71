package sample

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// MaxTopLogprobs is the most alternatives Sample reports per token (OpenAI's
// limit).
const MaxTopLogprobs = 20

// Params are the decoding parameters of one sequence, already resolved
// against the model's defaults.
type Params struct {
	// Temperature divides the logits; 0 means greedy.
	Temperature float64
	// TopK keeps the K most likely tokens; 0 means no limit.
	TopK int
	// TopP keeps the smallest set of most likely tokens whose probability
	// reaches TopP; 0 and 1 mean no limit.
	TopP float64
	// MinP drops tokens less likely than MinP times the most likely one;
	// 0 means off.
	MinP float64
	// PresencePenalty and FrequencyPenalty (OpenAI, -2…2) lower the logit
	// of each generated token by presence + count·frequency.
	PresencePenalty, FrequencyPenalty float64
	// RepetitionPenalty (transformers, > 0) divides positive and multiplies
	// negative logits of every prompt or generated token; 0 and 1 mean off.
	RepetitionPenalty float64
	// Seed seeds the sequence's random generator; equal seeds, parameters
	// and logits give equal tokens.
	Seed uint64
	// Logprobs asks for the sampled token's log probability and
	// TopLogprobs (0…20) alternatives.
	Logprobs    bool
	TopLogprobs int
}

// Validate reports parameters outside their ranges.
func (p *Params) Validate() error {
	switch {
	case !(p.Temperature >= 0 && p.Temperature <= 100):
		return fmt.Errorf("temperature %g is outside 0…100", p.Temperature)
	case p.TopK < 0:
		return fmt.Errorf("top_k %d is negative", p.TopK)
	case !(p.TopP >= 0 && p.TopP <= 1):
		return fmt.Errorf("top_p %g is outside 0…1", p.TopP)
	case !(p.MinP >= 0 && p.MinP <= 1):
		return fmt.Errorf("min_p %g is outside 0…1", p.MinP)
	case !(p.PresencePenalty >= -2 && p.PresencePenalty <= 2):
		return fmt.Errorf("presence_penalty %g is outside -2…2", p.PresencePenalty)
	case !(p.FrequencyPenalty >= -2 && p.FrequencyPenalty <= 2):
		return fmt.Errorf("frequency_penalty %g is outside -2…2", p.FrequencyPenalty)
	case !(p.RepetitionPenalty >= 0 && p.RepetitionPenalty <= 100):
		return fmt.Errorf("repetition_penalty %g is outside 0…100", p.RepetitionPenalty)
	case p.TopLogprobs < 0 || p.TopLogprobs > MaxTopLogprobs:
		return fmt.Errorf("top_logprobs %d is outside 0…%d", p.TopLogprobs, MaxTopLogprobs)
	}
	return nil
}

// Candidate is a token with its log probability under the model.
type Candidate struct {
	Token   int32
	Logprob float32
}

// Result is one sampled token; Logprob and Top are set when Params.Logprobs
// is (Top sorted from most to least likely).
type Result struct {
	Token   int32
	Logprob float32
	Top     []Candidate
}

// ErrNoFinite is returned when the logits hold no finite value to choose.
var ErrNoFinite = errors.New("sample: no finite logit")

// Sampler samples the tokens of one sequence. It is not safe for concurrent
// use; each sequence owns one.
type Sampler struct {
	p       Params
	rng     *rand.Rand
	vocab   int
	seen    []uint64 // bitset of prompt and generated tokens (repetition penalty)
	seenIDs []int32
	counts  map[int32]int // generated tokens (presence/frequency)
	scratch []float32
	w       []float32 // unnormalized probabilities of the current draw
	idx     []int32
	edge    []int32
}

// New returns a sampler for a sequence over a vocabulary of vocab logits
// whose prompt is prompt (used by the repetition penalty). p must be valid.
func New(p Params, vocab int, prompt []int32) *Sampler {
	s := &Sampler{
		p:     p,
		rng:   rand.New(rand.NewPCG(p.Seed, p.Seed^0x9e3779b97f4a7c15)),
		vocab: vocab,
	}
	if s.repetition() {
		s.seen = make([]uint64, (vocab+63)/64)
		for _, t := range prompt {
			s.markSeen(t)
		}
	}
	if p.PresencePenalty != 0 || p.FrequencyPenalty != 0 {
		s.counts = make(map[int32]int)
	}
	return s
}

func (s *Sampler) repetition() bool {
	return s.p.RepetitionPenalty != 0 && s.p.RepetitionPenalty != 1
}

func (s *Sampler) markSeen(t int32) {
	if t < 0 || int(t) >= s.vocab {
		return
	}
	w, b := t/64, uint64(1)<<(t%64)
	if s.seen[w]&b == 0 {
		s.seen[w] |= b
		s.seenIDs = append(s.seenIDs, t)
	}
}

// Accept records a token appended to the sequence without sampling it (for
// example a forced token); Sample records its own choices.
func (s *Sampler) Accept(t int32) {
	if s.repetition() {
		s.markSeen(t)
	}
	if s.counts != nil {
		s.counts[t]++
	}
}

// Sample picks the next token from logits, the model's output for the last
// position (len vocab). It modifies logits in place.
func (s *Sampler) Sample(logits []float32) (Result, error) {
	if len(logits) != s.vocab {
		return Result{}, fmt.Errorf("sample: %d logits for a vocabulary of %d", len(logits), s.vocab)
	}
	var res Result
	var raw []float32
	if s.p.Logprobs {
		raw = logits
		s.scratch = append(s.scratch[:0], logits...)
		logits = s.scratch
	}
	s.penalize(logits)
	tok, err := s.choose(logits)
	if err != nil {
		return Result{}, err
	}
	res.Token = tok
	if raw != nil {
		res.Logprob, res.Top = logprobs(raw, tok, s.p.TopLogprobs)
	}
	s.Accept(tok)
	return res, nil
}

// penalize applies the repetition, presence and frequency penalties.
func (s *Sampler) penalize(l []float32) {
	if s.repetition() {
		pen := float32(s.p.RepetitionPenalty)
		for _, t := range s.seenIDs {
			if l[t] < 0 {
				l[t] *= pen
			} else {
				l[t] /= pen
			}
		}
	}
	for t, c := range s.counts {
		l[t] -= float32(s.p.PresencePenalty + float64(c)*s.p.FrequencyPenalty)
	}
}

func (s *Sampler) choose(l []float32) (int32, error) {
	best := Argmax(l)
	if best < 0 {
		return 0, ErrNoFinite
	}
	if s.p.Temperature == 0 {
		return best, nil
	}
	if s.w == nil {
		s.w = make([]float32, len(l))
	}
	t := s.p.Temperature
	c := cut{m: l[best], inv: float32(1 / t), floor: float32(math.Inf(-1)), topP: s.p.TopP}
	if s.p.MinP > 0 {
		// min-p keeps tokens whose probability is at least MinP of the
		// best one's: (l-m)/T ≥ ln(MinP).
		c.floor = c.m + float32(math.Log(s.p.MinP)*t)
	}
	if c.topP <= 0 || c.topP >= 1 {
		c.topP = 1
	}
	k := s.p.TopK
	switch {
	case k > 0 && k < len(l):
		s.idx = TopN(l, k, s.idx)
		var total float64
		for _, i := range s.idx {
			s.w[i] = exp32((l[i] - c.m) * c.inv)
			total += float64(s.w[i])
		}
		return s.draw(l, c, total), nil
	case c.topP < 1:
		return s.chooseTopP(l, c), nil
	}
	return s.chooseAll(l, c), nil
}

// cut holds the scaled-logit reference and the filters of one draw.
type cut struct {
	m, inv float32 // best logit, 1/temperature
	floor  float32 // min-p: logits below are dropped
	topP   float64 // 1 when off
}

// chooseAll draws from every token at or above the floor.
func (s *Sampler) chooseAll(l []float32, c cut) int32 {
	var total float64
	for i, v := range l {
		w := float32(0)
		if v >= c.floor {
			w = exp32((v - c.m) * c.inv)
		}
		s.w[i] = w
		total += float64(w)
	}
	u := s.rng.Float64() * total
	last := int32(-1)
	for i, w := range s.w[:len(l)] {
		if w == 0 {
			continue
		}
		last = int32(i)
		u -= float64(w)
		if u < 0 {
			return int32(i)
		}
	}
	return last // rounding left u ≥ 0 after the last candidate
}

// histBins buckets tokens by how far below the best their scaled logit is,
// histWidth logit units per bin; the last bin takes everything further.
const (
	histBins  = 1024
	histScale = 16 // bins per logit unit
)

func histBin(d float32) int {
	if !(d < histBins/histScale) { // also NaN and +Inf
		return histBins - 1
	}
	return int(d * histScale)
}

// chooseTopP finds the top-p nucleus without sorting the vocabulary: a
// histogram of the mass by distance from the best logit locates the bin
// where the mass reaches top-p; only tokens up to that bin are sorted.
func (s *Sampler) chooseTopP(l []float32, c cut) int32 {
	var mass [histBins]float64
	var total float64
	for i, v := range l {
		d := (c.m - v) * c.inv
		w := float32(0)
		if v == v {
			w = exp32(-d)
		}
		s.w[i] = w
		total += float64(w)
		mass[histBin(d)] += float64(w)
	}
	target := c.topP * total
	last, below := histBins-1, 0.0
	for b := range mass {
		if below+mass[b] >= target {
			last = b
			break
		}
		below += mass[b]
	}
	// Tokens in bins before the last are all inside the nucleus whatever
	// their order; only the last bin's tokens are sorted to cut it exactly.
	s.idx, s.edge = s.idx[:0], s.edge[:0]
	for i, v := range l {
		if v != v || v < c.floor {
			continue
		}
		switch b := histBin((c.m - v) * c.inv); {
		case b < last:
			s.idx = append(s.idx, int32(i))
		case b == last:
			s.edge = append(s.edge, int32(i))
		}
	}
	less := func(a, b int32) bool { return l[a] < l[b] || (l[a] == l[b] && a > b) }
	sortDesc(s.edge, less)
	cum := below
	for j, i := range s.edge {
		if cum >= target && (j > 0 || len(s.idx) > 0) {
			break
		}
		s.idx = append(s.idx, i)
		cum += float64(s.w[i])
	}
	if len(s.idx) == 0 {
		return int32(Argmax(l))
	}
	c.topP = 1 // the nucleus is cut; draw applies no further top-p
	return s.draw(l, c, total)
}

// draw applies top-p (normalized by total) and min-p to the sorted
// candidates s.idx, whose weights are in s.w, and draws one.
func (s *Sampler) draw(l []float32, c cut, total float64) int32 {
	n := len(s.idx)
	var cum float64
	for j, i := range s.idx {
		if l[i] < c.floor || (c.topP < 1 && cum >= c.topP*total) {
			n = max(j, 1)
			break
		}
		cum += float64(s.w[i])
	}
	var kept float64
	for _, i := range s.idx[:n] {
		kept += float64(s.w[i])
	}
	u := s.rng.Float64() * kept
	for _, i := range s.idx[:n] {
		u -= float64(s.w[i])
		if u < 0 {
			return i
		}
	}
	return s.idx[n-1]
}

// Argmax returns the index of the largest value above -Inf (the lowest
// index among equals; NaNs never win), or -1 when there is none.
func Argmax(v []float32) int32 {
	best := int32(-1)
	bv := float32(math.Inf(-1))
	for i, x := range v {
		if x > bv {
			best, bv = int32(i), x
		}
	}
	return best
}

// TopN returns the indices of the n largest values of v, largest first
// (ties by lower index), reusing buf. NaNs are never chosen.
func TopN(v []float32, n int, buf []int32) []int32 {
	n = min(n, len(v))
	h := buf[:0]
	// less orders by value, then prefers the lower index as "larger".
	less := func(a, b int32) bool { return v[a] < v[b] || (v[a] == v[b] && a > b) }
	if n*8 >= len(v) {
		// Most of v is wanted: sorting everything beats a big heap.
		for i, x := range v {
			if x == x {
				h = append(h, int32(i))
			}
		}
		sortDesc(h, less)
		return h[:min(n, len(h))]
	}
	if n == 0 {
		return h
	}
	for i, x := range v {
		if x != x {
			continue
		}
		t := int32(i)
		if len(h) < n {
			h = append(h, t)
			siftUp(h, len(h)-1, less)
			continue
		}
		// A later index never beats an equal value already held.
		if x > v[h[0]] {
			h[0] = t
			siftDown(h, 0, less)
		}
	}
	sortDesc(h, less)
	return h
}

func sortDesc(h []int32, less func(a, b int32) bool) {
	slices.SortFunc(h, func(a, b int32) int {
		switch {
		case less(b, a):
			return -1
		case less(a, b):
			return 1
		}
		return 0
	})
}

func siftUp(h []int32, i int, less func(a, b int32) bool) {
	for i > 0 {
		p := (i - 1) / 2
		if !less(h[i], h[p]) {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func siftDown(h []int32, i int, less func(a, b int32) bool) {
	for {
		c := 2*i + 1
		if c >= len(h) {
			return
		}
		if c+1 < len(h) && less(h[c+1], h[c]) {
			c++
		}
		if !less(h[c], h[i]) {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}

// LogSumExp returns log Σ exp(v) over the values of v (NaNs skipped),
// accurate to about 1e-7 relative.
func LogSumExp(v []float32) float64 {
	m := math.Inf(-1)
	for _, x := range v {
		if float64(x) > m {
			m = float64(x)
		}
	}
	if math.IsInf(m, -1) {
		return m
	}
	var s float64
	mf := float32(m)
	for _, x := range v {
		s += float64(exp32(x - mf))
	}
	return m + math.Log(s)
}

// logprobs returns the log-softmax of raw at tok and the n most likely
// alternatives.
func logprobs(raw []float32, tok int32, n int) (float32, []Candidate) {
	lse := LogSumExp(raw)
	lp := float32(float64(raw[tok]) - lse)
	if n == 0 {
		return lp, nil
	}
	ids := TopN(raw, n, nil)
	top := make([]Candidate, len(ids))
	for i, t := range ids {
		top[i] = Candidate{Token: t, Logprob: float32(float64(raw[t]) - lse)}
	}
	return lp, top
}
