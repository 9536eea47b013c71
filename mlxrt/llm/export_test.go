package llm

// DecodeLogits feeds ids through the model one token per forward pass,
// with a KV cache, exactly as Step decodes a token: each pass is a span of
// one row at the cache's length, its cache grown by the engine's budget
// and its dynamic-RoPE length max(pos+1, promptLen) (the prompt is rotated
// for its whole length, later tokens for the length so far). It returns
// the logits after every token, row-major [len(ids), vocab]. Call it on
// the pinned thread; the cache is released before it returns.
func (e *Engine) DecodeLogits(ids []int32, promptLen int) ([]float32, error) {
	if err := e.checkPrompt(ids); err != nil {
		return nil, err
	}
	var c *kvCache
	defer func() { e.budget.release(c) }()
	v := e.cfg.VocabSize
	out := make([]float32, 0, len(ids)*v)
	for pos, id := range ids {
		nc, err := e.budget.ensure(c, pos+1)
		if err != nil {
			return nil, err
		}
		c = nc
		sp := []span{{cache: c, n: 1, pos: pos, ropeLen: max(pos+1, promptLen), logits: true}}
		logits := e.model.forward([]int{int(id)}, sp, false)
		out = append(out, logits.Float32View()[:v]...)
	}
	return out, nil
}
