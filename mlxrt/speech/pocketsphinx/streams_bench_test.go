//go:build cgo && pocketsphinx && flite

package pocketsphinx_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/speech/pocketsphinx"
	"github.com/ominix/ominix-api/mlxrt/speech/speechtest"
	"github.com/ominix/ominix-api/pipeline"
)

// BenchmarkRealtimeStreams measures how many live recognition streams one
// pinned thread holds. For N = 1..8 it runs N streams of real speech at
// once through the scheduler, each fed in 20 ms frames at the pace of a
// microphone (three flite sentences, each followed by 700 ms of silence
// and committed as the VAD would; the streams start 250 ms apart), first
// with the default pool of decoders (4), then with a pool of 8 for N > 4.
// It takes about 15 s of wall time per case, so it runs only with
// OMINIX_BENCH_STREAMS=1:
//
//	OMINIX_BENCH_STREAMS=1 go test -tags "$(./.ci/tags.sh)" -run '^$' \
//	    -bench RealtimeStreams -benchtime 1x ./mlxrt/speech/pocketsphinx/
//
// Metrics, per case:
//
//	refused        streams whose recognition failed to start (a full
//	               pool of decoders: asr_streams_exhausted)
//	lag_p50_ms     time from an utterance's commit (its last audio sent)
//	lag_max_ms     to its final transcript, over every utterance
//	final_lag_ms   the same for the last utterance of each stream (after
//	               the end of its audio), the worst stream
//	thread_busy    pinned-thread CPU time / wall time: 1 is saturated
//	x_realtime_cpu audio seconds recognized per pinned-thread CPU second
//
// A stream keeps up when its lag stays flat (a few hundred ms: one step
// plus the second pass of the utterance); past the thread's capacity the
// audio queues and the lag grows with the length of the run.
func BenchmarkRealtimeStreams(b *testing.B) {
	if os.Getenv("OMINIX_BENCH_STREAMS") != "1" {
		b.Skip("set OMINIX_BENCH_STREAMS=1 to run (about 3 minutes of real-time audio)")
	}
	th := pipeline.StartThread()
	defer th.Stop()
	var audio [][]float32
	for _, s := range sentences {
		audio = append(audio, speak16k(b, th, s, "slt", 1))
	}
	for _, pool := range []int{4, 8} {
		b.Run(fmt.Sprintf("decoders=%d", pool), func(b *testing.B) {
			h := newStreamsHarness(b, th, pool)
			defer h.stop()
			for n := 1; n <= 8; n++ {
				if pool > 4 && n <= 4 {
					continue // the same as with the default pool
				}
				b.Run(fmt.Sprintf("streams=%d", n), func(b *testing.B) {
					var r streamsResult
					for b.Loop() {
						r = h.run(b, audio, n)
					}
					r.report(b, n, pool)
				})
			}
		})
	}
}

// streamsHarness is a scheduler over the pinned thread with pocketsphinx
// in its ASR slot.
type streamsHarness struct {
	th    *pipeline.Thread
	slots *pipeline.Slots
	sched *pipeline.Scheduler
	stop  func()
}

func newStreamsHarness(b *testing.B, th *pipeline.Thread, decoders int) *streamsHarness {
	loader := pocketsphinx.NewLoader(&pocketsphinx.Options{Decoders: decoders})
	slots := pipeline.NewSlots(th, map[pipeline.Category]pipeline.Loader{pipeline.ASRSlot: loader}, nil)
	_, err := slots.Load(context.Background(), pipeline.ModelRef{Category: pipeline.ASRSlot})
	require.NoError(b, err)
	sched := pipeline.NewScheduler(th, slots, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = sched.Run(ctx) }()
	return &streamsHarness{th: th, slots: slots, sched: sched, stop: func() {
		cancel()
		<-done
		slots.Close()
	}}
}

// streamsResult is what one run of N streams measured.
type streamsResult struct {
	refused     int
	lags        []time.Duration // every utterance of every accepted stream
	finalLag    time.Duration   // worst last utterance
	audio       float64         // seconds recognized
	cpu, wall   time.Duration   // pinned-thread CPU, run wall time
	failures    []string
	transcripts int
}

// timedSink records when each final transcript and the end arrived.
type timedSink struct {
	mu    sync.Mutex
	dones []time.Time
	err   error
	end   chan struct{}
	once  sync.Once
}

func (s *timedSink) Emit(ev pipeline.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := ev.(pipeline.TranscriptDone); ok {
		s.dones = append(s.dones, time.Now())
	}
	if pipeline.Terminal(ev) {
		s.err = pipeline.ErrorOf(ev)
		s.once.Do(func() { close(s.end) })
	}
}

// run feeds n streams at once and waits for all of them.
func (h *streamsHarness) run(b *testing.B, audio [][]float32, n int) streamsResult {
	cpu0 := threadCPU(b, h.th)
	start := time.Now()
	results := make([]streamResult, n)
	var wg sync.WaitGroup
	for k := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(k) * 250 * time.Millisecond)
			utts := [][]float32{audio[k%len(audio)], audio[(k+3)%len(audio)], audio[(k+6)%len(audio)]}
			results[k] = h.stream(utts)
		}()
	}
	wg.Wait()
	r := streamsResult{wall: time.Since(start), cpu: threadCPU(b, h.th) - cpu0}
	for _, sr := range results {
		if sr.err != nil {
			if errors.Is(sr.err, pipeline.ErrOverloaded) {
				r.refused++
			} else {
				r.failures = append(r.failures, sr.err.Error())
			}
			continue
		}
		r.audio += sr.audio
		r.transcripts += len(sr.lags)
		r.lags = append(r.lags, sr.lags...)
		if len(sr.lags) > 0 {
			r.finalLag = max(r.finalLag, sr.lags[len(sr.lags)-1])
		}
	}
	require.Empty(b, r.failures)
	return r
}

type streamResult struct {
	lags  []time.Duration
	audio float64
	err   error
}

// stream speaks utts into one recognition task at real-time pace, in
// 20 ms frames, each utterance followed by 700 ms of silence and a commit.
func (h *streamsHarness) stream(utts [][]float32) streamResult {
	sink := &timedSink{end: make(chan struct{})}
	tr, err := h.sched.Transcribe(context.Background(), pipeline.TranscribeOptions{}, sink)
	if err != nil {
		return streamResult{err: err}
	}
	const frame = pocketsphinx.InputRate / 50
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var commits []time.Time
	var secs float64
	for i, u := range utts {
		tr.Item(fmt.Sprint("utt_", i))
		x := append(slices.Clone(u), make([]float32, pocketsphinx.InputRate*7/10)...)
		for p := 0; p < len(x); p += frame {
			<-tick.C
			if tr.Push(x[p:min(len(x), p+frame)]) != nil {
				break // the task failed; its end says why
			}
		}
		tr.Commit()
		commits = append(commits, time.Now())
		secs += float64(len(x)) / pocketsphinx.InputRate
	}
	tr.Close()
	<-sink.end
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if sink.err != nil {
		return streamResult{err: sink.err}
	}
	res := streamResult{audio: secs}
	for i, d := range sink.dones {
		if i < len(commits) {
			res.lags = append(res.lags, d.Sub(commits[i]))
		}
	}
	return res
}

func threadCPU(b *testing.B, th *pipeline.Thread) time.Duration {
	d, err := pipeline.Call(context.Background(), th, func() (time.Duration, error) { return speechtest.ThreadCPU(), nil })
	require.NoError(b, err)
	return d
}

func (r streamsResult) report(b *testing.B, n, pool int) {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	slices.Sort(r.lags)
	var p50, worst time.Duration
	if len(r.lags) > 0 {
		p50, worst = r.lags[len(r.lags)/2], r.lags[len(r.lags)-1]
	}
	b.ReportMetric(float64(r.refused), "refused")
	b.ReportMetric(ms(p50), "lag_p50_ms")
	b.ReportMetric(ms(worst), "lag_max_ms")
	b.ReportMetric(ms(r.finalLag), "final_lag_ms")
	b.ReportMetric(r.cpu.Seconds()/r.wall.Seconds(), "thread_busy")
	if r.cpu > 0 {
		b.ReportMetric(r.audio/r.cpu.Seconds(), "x_realtime_cpu")
	}
	b.Logf("decoders=%d streams=%d: %d refused, %d transcripts, lag p50 %.0f ms max %.0f ms, final %.0f ms, thread busy %.2f, audio %.1f s in %.1f s",
		pool, n, r.refused, r.transcripts, ms(p50), ms(worst), ms(r.finalLag), r.cpu.Seconds()/r.wall.Seconds(), r.audio, r.wall.Seconds())
}
