package pipeline

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
)

// ErrThreadStopped is returned by Thread.Do after Stop.
var ErrThreadStopped = errors.New("pipeline: model thread stopped")

// PanicError is returned by Thread.Do when the function panicked. Stack is
// the stack of the panicking goroutine (the pinned thread), for logs.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic on model thread: %v", e.Value) }

// Thread runs functions one at a time on a single goroutine locked to its OS
// thread, so that thread-bound libraries (MLX, C speech engines) always see
// the same thread. It is the only place model code runs.
//
// The functions it runs must be short steps: the thread never waits on a
// client and never blocks on I/O.
type Thread struct {
	work     chan func()
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// StartThread starts the pinned goroutine. Stop must be called to end it.
func StartThread() *Thread {
	t := &Thread{
		work: make(chan func()),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	go t.loop()
	return t
}

func (t *Thread) loop() {
	runtime.LockOSThread()
	// The thread is never unlocked: when loop returns, the goroutine exits
	// and the runtime retires the OS thread with whatever state C code left.
	defer close(t.done)
	for {
		select {
		case fn := <-t.work:
			fn()
		case <-t.stop:
			return
		}
	}
}

// Do runs fn on the pinned thread and returns its error. If ctx ends before
// the thread picks fn up, fn is not run and Do returns ctx's error; once fn
// runs, Do waits for it (a step cannot be abandoned half way). A panic in fn
// is recovered and returned as *PanicError.
func (t *Thread) Do(ctx context.Context, fn func() error) error {
	res := make(chan error, 1)
	wrapped := func() {
		defer func() {
			if v := recover(); v != nil {
				res <- &PanicError{Value: v, Stack: debug.Stack()}
			}
		}()
		res <- fn()
	}
	select {
	case t.work <- wrapped:
	case <-t.stop:
		return ErrThreadStopped
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	return <-res
}

// Call runs fn on t's pinned thread and returns its result; see Thread.Do.
func Call[T any](ctx context.Context, t *Thread, fn func() (T, error)) (T, error) {
	var v T
	err := t.Do(ctx, func() error {
		var err error
		v, err = fn()
		return err
	})
	return v, err
}

// Stop ends the thread after the function it is running, if any, returns.
// Later calls to Do fail with ErrThreadStopped. Stop waits for the goroutine
// to exit and is safe to call more than once.
func (t *Thread) Stop() {
	t.stopOnce.Do(func() { close(t.stop) })
	<-t.done
}
