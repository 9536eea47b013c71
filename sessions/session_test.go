package sessions_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/sessions"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type metrics struct {
	mu     sync.Mutex
	active int
	slow   []error
}

func (m *metrics) SessionsActive(n int) { m.mu.Lock(); m.active = n; m.mu.Unlock() }
func (m *metrics) SlowConsumer(err error) {
	m.mu.Lock()
	m.slow = append(m.slow, err)
	m.mu.Unlock()
}

func (m *metrics) get() (int, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.active, len(m.slow)
}

func drain(t *testing.T, sub *sessions.Subscriber) []sessions.Entry {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out []sessions.Entry
	for {
		e, err := sub.Next(ctx)
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		out = append(out, e)
	}
}

func TestReplayAndLive(t *testing.T) {
	reg := sessions.NewRegistry(nil)
	s, err := reg.Create(context.Background(), sessions.KindChat, false)
	require.NoError(t, err)
	s.Emit(pipeline.TextDelta{Content: "a"})
	s.Emit(pipeline.TextDelta{Content: "b"})
	late, err := s.Subscribe(1)
	require.NoError(t, err)
	all, err := s.Subscribe(0)
	require.NoError(t, err)
	s.Emit(pipeline.TextDelta{Content: "c"})
	s.Emit(pipeline.Done{Finish: pipeline.FinishStop})
	seqs := func(es []sessions.Entry) (out []uint64) {
		for _, e := range es {
			out = append(out, e.Seq)
		}
		return out
	}
	assert.Equal(t, []uint64{2, 3, 4}, seqs(drain(t, late)))
	assert.Equal(t, []uint64{1, 2, 3, 4}, seqs(drain(t, all)))
	s.Emit(pipeline.TextDelta{Content: "after the end"})
	assert.Equal(t, uint64(4), s.LastSeq())
	again, err := s.Subscribe(2)
	require.NoError(t, err)
	assert.Equal(t, []uint64{3, 4}, seqs(drain(t, again)))
}

func TestReplayGap(t *testing.T) {
	reg := sessions.NewRegistry(&sessions.Options{ReplayEvents: 3})
	s, err := reg.Create(context.Background(), sessions.KindChat, false)
	require.NoError(t, err)
	for range 10 {
		s.Emit(pipeline.TextDelta{Content: "x"})
	}
	_, err = s.Subscribe(2)
	require.ErrorIs(t, err, sessions.ErrReplayGap)
	sub, err := s.Subscribe(7)
	require.NoError(t, err)
	sub.Close()
	s.Cancel(errors.New("done"))
}

func TestSlowConsumerIsDisconnectedOthersUnaffected(t *testing.T) {
	m := &metrics{}
	reg := sessions.NewRegistry(&sessions.Options{MaxPendingBytes: 4096, Metrics: m})
	s, err := reg.Create(context.Background(), sessions.KindChat, false)
	require.NoError(t, err)
	slow, err := s.Subscribe(0)
	require.NoError(t, err)
	fast, err := s.Subscribe(0)
	require.NoError(t, err)
	ctx := context.Background()
	got := 0
	for range 200 {
		s.Emit(pipeline.TextDelta{Content: strings.Repeat("t", 10)})
		_, err := fast.Next(ctx)
		require.NoError(t, err)
		got++
	}
	assert.Equal(t, 200, got)
	_, err = slow.Next(ctx)
	assert.ErrorIs(t, err, sessions.ErrSlowConsumer)
	_, slowCount := m.get()
	assert.Equal(t, 1, slowCount)
	s.Emit(pipeline.Done{})
	fast.Close()
}

func TestRequestScopedSessionCancelsWhenClientLeaves(t *testing.T) {
	m := &metrics{}
	reg := sessions.NewRegistry(&sessions.Options{Metrics: m})
	s, err := reg.Create(context.Background(), sessions.KindChat, true)
	require.NoError(t, err)
	s.Started()
	sub, err := s.Subscribe(0)
	require.NoError(t, err)
	active, _ := m.get()
	assert.Equal(t, 1, active)
	sub.Close()
	<-s.Context().Done()
	assert.ErrorIs(t, context.Cause(s.Context()), sessions.ErrClientGone)
	// The work delivers the terminal event at its next step.
	s.Emit(pipeline.Failed{Err: context.Cause(s.Context())})
	active, _ = m.get()
	assert.Equal(t, 0, active)
}

func TestLatestWinsForPartials(t *testing.T) {
	reg := sessions.NewRegistry(nil)
	s, err := reg.Create(context.Background(), sessions.KindTranscription, false)
	require.NoError(t, err)
	sub, err := s.Subscribe(0)
	require.NoError(t, err)
	for _, p := range []string{"he", "hell", "hello"} {
		s.Emit(pipeline.TranscriptDelta{ItemID: "i1", Text: p})
	}
	s.Emit(pipeline.TranscriptDone{ItemID: "i1", Transcript: pipeline.Transcript{Text: "hello"}})
	s.Emit(pipeline.TranscriptDelta{ItemID: "i2", Text: "wor"})
	s.Emit(pipeline.TranscriptDelta{ItemID: "i2", Text: "world"})
	s.Emit(pipeline.Done{})
	var texts []string
	for _, e := range drain(t, sub) {
		switch ev := e.Event.(type) {
		case pipeline.TranscriptDelta:
			texts = append(texts, ev.Text)
		case pipeline.TranscriptDone:
			texts = append(texts, "final:"+ev.Text)
		}
	}
	assert.Equal(t, []string{"hello", "final:hello", "world"}, texts)
}

func TestAudioBacklogCloses(t *testing.T) {
	reg := sessions.NewRegistry(&sessions.Options{MaxPendingAudio: 100 << 10})
	s, err := reg.Create(context.Background(), sessions.KindSpeech, false)
	require.NoError(t, err)
	sub, err := s.Subscribe(0)
	require.NoError(t, err)
	chunk := pipeline.AudioChunk{Audio: pipeline.Audio{Rate: 16000, Samples: make([]float32, 16000)}}
	for range 10 {
		s.Emit(chunk)
	}
	_, err = sub.Next(context.Background())
	assert.ErrorIs(t, err, sessions.ErrAudioBacklog)
	s.Cancel(errors.New("stop"))
}

func TestCancelWithoutWorkEmitsTerminal(t *testing.T) {
	m := &metrics{}
	reg := sessions.NewRegistry(&sessions.Options{Metrics: m})
	s, err := reg.Create(context.Background(), sessions.KindChat, false)
	require.NoError(t, err)
	sub, err := s.Subscribe(0)
	require.NoError(t, err)
	require.True(t, reg.Delete(s.ID))
	es := drain(t, sub)
	require.Len(t, es, 1)
	assert.ErrorIs(t, pipeline.ErrorOf(es[0].Event), sessions.ErrDeleted)
	active, _ := m.get()
	assert.Equal(t, 0, active)
	_, ok := reg.Get(s.ID)
	assert.False(t, ok)
}

func TestIdleExpiry(t *testing.T) {
	reg := sessions.NewRegistry(&sessions.Options{IdleTimeout: time.Minute, Retain: time.Hour})
	idle, err := reg.Create(context.Background(), sessions.KindChat, false)
	require.NoError(t, err)
	done, err := reg.Create(context.Background(), sessions.KindChat, false)
	require.NoError(t, err)
	done.Emit(pipeline.Done{})
	reg.Expire(time.Now().Add(2 * time.Minute))
	_, ok := reg.Get(idle.ID)
	assert.False(t, ok)
	assert.ErrorIs(t, context.Cause(idle.Context()), sessions.ErrIdle)
	_, ok = reg.Get(done.ID)
	assert.True(t, ok, "finished sessions stay for replay until Retain")
	reg.Expire(time.Now().Add(2 * time.Hour))
	assert.Equal(t, 0, reg.Len())
}

func TestMaxSessions(t *testing.T) {
	reg := sessions.NewRegistry(&sessions.Options{MaxSessions: 2})
	for range 2 {
		_, err := reg.Create(context.Background(), sessions.KindChat, false)
		require.NoError(t, err)
	}
	_, err := reg.Create(context.Background(), sessions.KindChat, false)
	require.ErrorIs(t, err, pipeline.ErrOverloaded)
}

func TestConcurrentEmitAndSubscribe(t *testing.T) {
	reg := sessions.NewRegistry(nil)
	s, err := reg.Create(context.Background(), sessions.KindChat, false)
	require.NoError(t, err)
	var wg sync.WaitGroup
	results := make([][]uint64, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sub, err := s.Subscribe(0)
			if !assert.NoError(t, err) {
				return
			}
			for _, e := range drain(t, sub) {
				results[i] = append(results[i], e.Seq)
			}
		}()
	}
	for range 500 {
		s.Emit(pipeline.TextDelta{Content: "x"})
	}
	s.Emit(pipeline.Done{})
	wg.Wait()
	for _, r := range results {
		require.Len(t, r, 501)
		for j, seq := range r {
			require.Equal(t, uint64(j+1), seq)
		}
	}
}
