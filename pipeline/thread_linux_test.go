//go:build linux

package pipeline_test

import (
	"context"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
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
