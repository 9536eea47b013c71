package transport_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/pipelinetest"
	"github.com/ominix/ominix-api/sessions"
	"github.com/ominix/ominix-api/transport"
)

// Benchmarks of the HTTP path against the raw scheduler, measured in the
// same run so that the ratios hold on a busy machine:
//
//	go test -run '^$' -bench . -benchtime 20x ./transport/
//
// BenchmarkServingOverhead  tokens/s through HTTP+SSE vs the scheduler alone
// BenchmarkTTFTOverhead     time to first token through HTTP vs the scheduler alone
// BenchmarkDelivery1000     token delivery latency with 1000 concurrent streams
// BenchmarkLongJobIsolation a chat stream's inter-token gaps beside a long TTS job

const benchTokens = 256

// benchEnv is an env for benchmarks: a scripted LLM answering with n
// pieces, no HTTP keepalive comments.
func benchEnv(b *testing.B, n int, sched *pipeline.SchedulerOptions) *env {
	pieces := make([]string, n)
	for i := range pieces {
		pieces[i] = " tok"
	}
	llm := &pipelinetest.LLM{Script: pipelinetest.Fixed(pieces...), Context: 1 << 20}
	return newEnv(b, envOptions{llm: llm, sched: sched, opts: &transport.Options{KeepAlive: -1}})
}

// rawChat runs one generation on the scheduler with a recorder sink and
// returns its tokens.
func rawChat(b *testing.B, e *env) int {
	rec := pipelinetest.NewRecorder()
	_, err := e.sched.Chat(context.Background(), userMsg("go"), rec)
	require.NoError(b, err)
	if _, ok := rec.Wait(wait).(pipeline.Done); !ok {
		b.Fatal("raw generation did not finish")
	}
	return len(rec.Events()) - 1
}

func userMsg(s string) *pipeline.ChatRequest {
	return &pipeline.ChatRequest{Messages: []pipeline.Message{{Role: "user", Content: s}}}
}

// httpChat streams one completion and returns its content chunks.
func httpChat(b *testing.B, client *http.Client, url string) int {
	resp, err := client.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(chatBody("go", map[string]any{"stream": true})))
	require.NoError(b, err)
	defer resp.Body.Close()
	n := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if bytes.Contains(sc.Bytes(), []byte(`"content":" tok"`)) {
			n++
		}
	}
	require.NoError(b, sc.Err())
	return n
}

// engineLoop generates one answer by calling the engine directly, step
// after step on the benchmark goroutine: no thread, scheduler, session or
// HTTP. It returns the tokens generated.
func engineLoop(b *testing.B, llm pipeline.LLM) int {
	seq, err := llm.Prepare(userMsg("go"))
	require.NoError(b, err)
	defer seq.Release()
	batch, out := []pipeline.Sequence{seq}, make([]pipeline.TokenOutput, 1)
	n := 0
	for {
		out[0] = pipeline.TokenOutput{}
		require.NoError(b, llm.Step(batch, out))
		if out[0].Sampled && out[0].Text != "" {
			n++
		}
		if out[0].EOS {
			return n
		}
	}
}

// BenchmarkServingOverhead compares tokens per second of one stream at
// three depths, measured in the same run: the engine's own loop (Step
// after Step), the scheduler (pinned thread, output parser, recorder
// sink), and the full path (session, SSE encoding, HTTP on loopback, a
// client reading every chunk). The scripted engine does no work, so the
// differences are the serving cost per token.
func BenchmarkServingOverhead(b *testing.B) {
	e := benchEnv(b, benchTokens, nil)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer client.CloseIdleConnections()
	var engDur, rawDur, httpDur time.Duration
	var engTok, rawTok, httpTok int
	for b.Loop() {
		start := time.Now()
		engTok += engineLoop(b, e.llm)
		engDur += time.Since(start)
		start = time.Now()
		rawTok += rawChat(b, e)
		rawDur += time.Since(start)
		start = time.Now()
		httpTok += httpChat(b, client, e.url)
		httpDur += time.Since(start)
	}
	perTok := func(d time.Duration, n int) float64 { return float64(d) / float64(n) / 1e3 }
	b.ReportMetric(float64(engTok)/engDur.Seconds(), "engine-tok/s")
	b.ReportMetric(float64(rawTok)/rawDur.Seconds(), "sched-tok/s")
	b.ReportMetric(float64(httpTok)/httpDur.Seconds(), "http-tok/s")
	b.ReportMetric(perTok(rawDur, rawTok)-perTok(engDur, engTok), "sched-us/tok")
	b.ReportMetric(perTok(httpDur, httpTok)-perTok(engDur, engTok), "http-us/tok")
	b.ReportMetric(perTok(httpDur, httpTok)/perTok(rawDur, rawTok), "http/sched")
}

// firstSink records when the first text arrived.
type firstSink struct {
	once  sync.Once
	first chan time.Time
	done  chan struct{}
	end   sync.Once
}

func (s *firstSink) Emit(ev pipeline.Event) {
	if _, ok := ev.(pipeline.TextDelta); ok {
		s.once.Do(func() { s.first <- time.Now() })
	}
	if pipeline.Terminal(ev) {
		s.end.Do(func() { close(s.done) })
	}
}

// BenchmarkTTFTOverhead compares the time from request to first token
// through HTTP (POST to the first content chunk read by the client) with
// the scheduler alone (Chat to the first TextDelta at the sink).
func BenchmarkTTFTOverhead(b *testing.B) {
	e := benchEnv(b, 4, nil)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer client.CloseIdleConnections()
	var raw, viaHTTP []time.Duration
	for b.Loop() {
		s := &firstSink{first: make(chan time.Time, 1), done: make(chan struct{})}
		start := time.Now()
		_, err := e.sched.Chat(context.Background(), userMsg("go"), s)
		require.NoError(b, err)
		raw = append(raw, (<-s.first).Sub(start))
		<-s.done

		start = time.Now()
		resp, err := client.Post(e.url+"/v1/chat/completions", "application/json", strings.NewReader(chatBody("go", map[string]any{"stream": true})))
		require.NoError(b, err)
		br := bufio.NewReader(resp.Body)
		for {
			line, err := br.ReadString('\n')
			require.NoError(b, err)
			if strings.Contains(line, `"content":" tok"`) {
				viaHTTP = append(viaHTTP, time.Since(start))
				break
			}
		}
		_, _ = io.Copy(io.Discard, br)
		resp.Body.Close()
	}
	rawP50, httpP50 := pct(raw, 50), pct(viaHTTP, 50)
	b.ReportMetric(float64(rawP50.Microseconds()), "raw-ttft-p50-us")
	b.ReportMetric(float64(httpP50.Microseconds()), "http-ttft-p50-us")
	b.ReportMetric(float64(pct(viaHTTP, 99).Microseconds()), "http-ttft-p99-us")
	b.ReportMetric(float64((httpP50 - rawP50).Microseconds()), "overhead-p50-us")
	b.ReportMetric(float64(httpP50)/float64(rawP50), "http/raw")
}

// pct returns the p-th percentile of ds (nearest rank).
func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[min(max(i-1, 0), len(s)-1)]
}

// stampLLM is a benchmark engine whose every token is the time it was
// generated (" <unix nanoseconds>"), so clients can measure delivery
// latency. Each sequence makes Tokens tokens; every Step sleeps StepDelay,
// standing in for a model's decode time.
type stampLLM struct {
	Tokens    int
	StepDelay time.Duration
	live      atomic.Int64
}

var _ pipeline.LLM = (*stampLLM)(nil)

func (m *stampLLM) Info() pipeline.ModelInfo {
	return pipeline.ModelInfo{ID: "stamp", Category: pipeline.LLMSlot, ContextLength: 1 << 20}
}
func (m *stampLLM) Close() error { return nil }

type stampSeq struct {
	m        *stampLLM
	made     int
	released bool
}

func (s *stampSeq) PromptTokens() int { return 8 }
func (s *stampSeq) InReasoning() bool { return false }
func (s *stampSeq) Release() {
	if !s.released {
		s.released = true
		s.m.live.Add(-1)
	}
}

func (m *stampLLM) Prepare(*pipeline.ChatRequest) (pipeline.Sequence, error) {
	m.live.Add(1)
	return &stampSeq{m: m}, nil
}

func (m *stampLLM) Step(batch []pipeline.Sequence, out []pipeline.TokenOutput) error {
	time.Sleep(m.StepDelay)
	now := strconv.FormatInt(time.Now().UnixNano(), 10)
	for i, b := range batch {
		s := b.(*stampSeq)
		s.made++
		out[i] = pipeline.TokenOutput{Sampled: true, Prefilled: 8, Text: " " + now, EOS: s.made > m.Tokens}
	}
	return nil
}

// raiseFileLimit lifts the soft open-file limit to the hard one: 1000
// clients and their server ends need over 2000 descriptors.
func raiseFileLimit(b *testing.B, need uint64) {
	var lim syscall.Rlimit
	require.NoError(b, syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim))
	if lim.Cur < need && lim.Max > lim.Cur {
		lim.Cur = min(lim.Max, max(need, lim.Cur))
		require.NoError(b, syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim))
	}
	if lim.Cur < need {
		b.Skipf("open-file limit %d is below the %d this benchmark needs", lim.Cur, need)
	}
}

// streamStamps streams one completion from the stamp engine and appends
// the delivery latency of each token (arrival minus generation time).
func streamStamps(client *http.Client, url string, lat *[]time.Duration) error {
	resp, err := client.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(chatBody("go", map[string]any{"stream": true})))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		now := time.Now()
		line := sc.Bytes()
		i := bytes.Index(line, []byte(`"content":" `))
		if i < 0 {
			continue
		}
		rest := line[i+len(`"content":" `):]
		j := bytes.IndexByte(rest, '"')
		ns, err := strconv.ParseInt(string(rest[:j]), 10, 64)
		if err != nil {
			return err
		}
		*lat = append(*lat, now.Sub(time.Unix(0, ns)))
	}
	return sc.Err()
}

// BenchmarkDelivery1000 streams from 1000 concurrent clients on loopback;
// the engine decodes all sequences together, one step every 25ms (40
// tokens/s per stream, 40k tokens/s in all). It reports the delivery
// latency (token generated to token read by its client) p50 and p99, and
// as the baseline of the same run the latency of one client alone on the
// same server (1-p50-ms, 1-p99-ms).
func BenchmarkDelivery1000(b *testing.B) {
	const clients, tokens = 1000, 40
	raiseFileLimit(b, 3*clients)
	llm := &stampLLM{Tokens: tokens, StepDelay: 25 * time.Millisecond}
	e := newEnv(b, envOptions{models: map[string]pipeline.Model{"stamp": llm}, load: map[pipeline.Category]string{pipeline.LLMSlot: "stamp"},
		sched: &pipeline.SchedulerOptions{MaxInFlight: 2 * clients, MaxBatch: 2 * clients, MaxBacklog: 2 * clients},
		sess:  &sessions.Options{MaxSessions: 4 * clients}, opts: &transport.Options{KeepAlive: -1}})
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: 0}
	client := &http.Client{Transport: tr}
	defer tr.CloseIdleConnections()
	var all, alone []time.Duration
	var mu sync.Mutex
	var failures atomic.Int64
	for b.Loop() {
		if err := streamStamps(client, e.url, &alone); err != nil {
			failures.Add(1)
		}
		var wg sync.WaitGroup
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var lat []time.Duration
				if err := streamStamps(client, e.url, &lat); err != nil {
					failures.Add(1)
				}
				mu.Lock()
				all = append(all, lat...)
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	require.Zero(b, failures.Load(), "every stream completes")
	b.ReportMetric(float64(pct(all, 50).Microseconds())/1e3, "p50-ms")
	b.ReportMetric(float64(pct(all, 99).Microseconds())/1e3, "p99-ms")
	b.ReportMetric(float64(pct(alone, 50).Microseconds())/1e3, "1-p50-ms")
	b.ReportMetric(float64(pct(alone, 99).Microseconds())/1e3, "1-p99-ms")
	b.ReportMetric(float64(len(all))/float64(b.N), "tokens/op")
}

// slowSynth is a synthesizer whose every clause takes Delay on the thread.
type slowSynth struct {
	pipelinetest.Synthesizer
	Delay time.Duration
}

func (s slowSynth) Synthesize(text string, opts pipeline.SpeechOptions) (pipeline.Audio, error) {
	time.Sleep(s.Delay)
	return s.Synthesizer.Synthesize(text, opts)
}

// gaps streams one completion and returns the gaps between its content
// chunks as the client reads them.
func gaps(b *testing.B, client *http.Client, url string) []time.Duration {
	resp, err := client.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(chatBody("go", map[string]any{"stream": true})))
	require.NoError(b, err)
	defer resp.Body.Close()
	var out []time.Duration
	var last time.Time
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if !bytes.Contains(sc.Bytes(), []byte(`"content":`)) {
			continue
		}
		now := time.Now()
		if !last.IsZero() {
			out = append(out, now.Sub(last))
		}
		last = now
	}
	require.NoError(b, sc.Err())
	return out
}

// BenchmarkLongJobIsolation streams a chat (100 tokens, 2ms per decode
// step) alone, then beside a long TTS job in the TTS slot (200 clauses of
// 10ms each: 2s of thread time). The scheduler interleaves one clause per
// round, so the chat's worst gap is one decode step plus one clause, not
// the job: it reports the chat's inter-token p50, p99 and max alone and
// beside the job, and the job's length.
func BenchmarkLongJobIsolation(b *testing.B) {
	const clauseDelay = 10 * time.Millisecond
	pieces := make([]string, 100)
	for i := range pieces {
		pieces[i] = " tok"
	}
	llm := &pipelinetest.LLM{Script: pipelinetest.Fixed(pieces...), StepDelay: 2 * time.Millisecond}
	e := newEnv(b, envOptions{llm: llm, models: map[string]pipeline.Model{"slow-tts": slowSynth{Delay: clauseDelay}},
		load: map[pipeline.Category]string{pipeline.LLMSlot: "scripted", pipeline.TTSSlot: "slow-tts"},
		opts: &transport.Options{KeepAlive: -1}})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	defer client.CloseIdleConnections()
	text := strings.Repeat("A clause to speak. ", 200)
	var alone, beside []time.Duration
	var jobDur time.Duration
	for b.Loop() {
		alone = append(alone, gaps(b, client, e.url)...)

		rec := pipelinetest.NewRecorder()
		start := time.Now()
		job, err := e.sched.Speak(context.Background(), pipeline.SpeechOptions{}, rec)
		require.NoError(b, err)
		require.NoError(b, job.Push(text))
		job.Close()
		beside = append(beside, gaps(b, client, e.url)...)
		if _, ok := rec.Wait(time.Minute).(pipeline.Done); !ok {
			b.Fatal("the TTS job did not finish")
		}
		jobDur += time.Since(start)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1e3 }
	b.ReportMetric(ms(pct(alone, 50)), "alone-p50-ms")
	b.ReportMetric(ms(pct(alone, 99)), "alone-p99-ms")
	b.ReportMetric(ms(slices.Max(alone)), "alone-max-ms")
	b.ReportMetric(ms(pct(beside, 50)), "job-p50-ms")
	b.ReportMetric(ms(pct(beside, 99)), "job-p99-ms")
	b.ReportMetric(ms(slices.Max(beside)), "job-max-ms")
	b.ReportMetric(ms(jobDur/time.Duration(b.N)), "job-length-ms")
}
