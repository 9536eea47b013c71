//go:build linux

package pipeline_test

import (
	"context"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/pipelinetest"
)

func TestThreadKeepsOneOSThread(t *testing.T) {
	th := pipeline.StartThread()
	defer th.Stop()
	ctx := context.Background()
	first, err := pipeline.Call(ctx, th, func() (int, error) { return syscall.Gettid(), nil })
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				tid, err := pipeline.Call(ctx, th, func() (int, error) { return syscall.Gettid(), nil })
				require.NoError(t, err)
				require.Equal(t, first, tid)
			}
		}()
	}
	wg.Wait()
}

// TestLoadReadsOffThePinnedThread: a loader (which reads weights from
// disk) never runs on the model thread, so steps of other sessions keep
// running while a model loads.
func TestLoadReadsOffThePinnedThread(t *testing.T) {
	th := pipeline.StartThread()
	defer th.Stop()
	threadTID, err := pipeline.Call(context.Background(), th, func() (int, error) { return syscall.Gettid(), nil })
	require.NoError(t, err)
	release := make(chan struct{})
	var loaderTID atomic.Int64
	loader := pipeline.LoaderFunc(func(ctx context.Context, ref pipeline.ModelRef) (pipeline.Model, error) {
		loaderTID.Store(int64(syscall.Gettid()))
		<-release // a slow disk
		return &pipelinetest.LLM{}, nil
	})
	slots := pipeline.NewSlots(th, map[pipeline.Category]pipeline.Loader{pipeline.LLMSlot: loader}, nil)
	defer slots.Close()
	loaded := make(chan error, 1)
	go func() {
		_, err := slots.Load(context.Background(), pipeline.ModelRef{Category: pipeline.LLMSlot, Name: "x"})
		loaded <- err
	}()
	require.Eventually(t, func() bool { return loaderTID.Load() != 0 }, wait, time.Millisecond)
	// The thread still serves work while the loader blocks.
	done := make(chan error, 1)
	go func() { done <- th.Do(context.Background(), func() error { return nil }) }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(wait):
		t.Fatal("the model thread is blocked by a load")
	}
	assert.NotEqual(t, int64(threadTID), loaderTID.Load(), "the loader ran on the model thread")
	close(release)
	require.NoError(t, <-loaded)
}
