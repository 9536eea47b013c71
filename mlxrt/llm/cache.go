package llm

import (
	"fmt"

	"github.com/ominix/ominix-api/mlxrt/mx"
	"github.com/ominix/ominix-api/pipeline"
)

// kvCache holds one sequence's keys and values: per layer an array
// [KVHeads, capacity, HeadDim] of which the first length positions are
// valid. It grows in chunks and never beyond the context length.
type kvCache struct {
	k, v   []*mx.Array
	cap    int
	length int
	bytes  int64
}

// cacheBudget accounts the KV cache memory of every sequence of an engine.
// It is used only on the pinned thread.
type cacheBudget struct {
	used, max int64
	growth    int
	ctx       int
	layers    int
	heads     int
	headDim   int
	dtype     mx.DType
}

// bytesFor is the memory a cache of capacity positions takes.
func (b *cacheBudget) bytesFor(capacity int) int64 {
	return int64(b.layers) * 2 * int64(b.heads) * int64(capacity) * int64(b.headDim) * int64(b.dtype.Size())
}

// ensure makes room for need positions in c (allocating c when nil) and
// returns the cache. It fails when need exceeds the context length or the
// engine's cache budget; c is then unchanged.
func (b *cacheBudget) ensure(c *kvCache, need int) (*kvCache, error) {
	if c != nil && need <= c.cap {
		return c, nil
	}
	if need > b.ctx {
		return c, &pipeline.Error{Kind: pipeline.KindInvalid, Code: "context_length_exceeded", Param: "messages",
			Message: fmt.Sprintf("the sequence needs %d tokens; the model's context is %d", need, b.ctx)}
	}
	old := 0
	var oldBytes int64
	if c != nil {
		old, oldBytes = c.cap, c.bytes
	}
	// Grow by at least half again (amortized copying), in whole chunks.
	want := max(need, old+old/2)
	want = min((want+b.growth-1)/b.growth*b.growth, b.ctx)
	size := b.bytesFor(want)
	if b.used-oldBytes+size > b.max {
		return c, &pipeline.Error{Kind: pipeline.KindOverloaded, Code: "kv_cache_full",
			Message: fmt.Sprintf("not enough KV cache memory for %d tokens (%d of %d bytes in use)", want, b.used, b.max)}
	}
	n := &kvCache{k: make([]*mx.Array, b.layers), v: make([]*mx.Array, b.layers), cap: want, bytes: size}
	for l := range n.k {
		n.k[l] = mx.Zeros(b.dtype, b.heads, want, b.headDim)
		n.v[l] = mx.Zeros(b.dtype, b.heads, want, b.headDim)
		if c != nil {
			b.copyPrefix(n.k[l], c.k[l], old, want, c.length)
			b.copyPrefix(n.v[l], c.v[l], old, want, c.length)
		}
	}
	if c != nil {
		n.length = c.length
	}
	b.used += size - oldBytes
	return n, nil
}

// copyPrefix copies the first length positions of every head from src
// (capacity oldCap) into dst (capacity newCap).
func (b *cacheBudget) copyPrefix(dst, src *mx.Array, oldCap, newCap, length int) {
	row := b.headDim * b.dtype.Size()
	d, s := dst.Bytes(), src.Bytes()
	for h := range b.heads {
		copy(d[h*newCap*row:h*newCap*row+length*row], s[h*oldCap*row:h*oldCap*row+length*row])
	}
}

// release returns c's memory to the budget.
func (b *cacheBudget) release(c *kvCache) {
	if c != nil {
		b.used -= c.bytes
	}
}
