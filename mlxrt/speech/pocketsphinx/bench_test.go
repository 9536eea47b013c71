//go:build cgo && pocketsphinx && flite

package pocketsphinx_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/speech/pocketsphinx"
	"github.com/ominix/ominix-api/mlxrt/speech/speechtest"
	"github.com/ominix/ominix-api/pipeline"
)

// The benchmarks report CPU time of the pinned thread next to wall time:
// on a shared machine wall time includes waiting for a core, CPU time does
// not, so *_cpu metrics are the ones to compare across runs.

// benchAudio is the ten test sentences spoken by flite's rms voice at
// 16 kHz, one slice per sentence.
func benchAudio(b *testing.B, th *pipeline.Thread) [][]float32 {
	b.Helper()
	var out [][]float32
	for _, s := range sentences {
		out = append(out, speak16k(b, th, s, "rms", 1))
	}
	return out
}

func seconds(xs [][]float32) float64 {
	n := 0
	for _, x := range xs {
		n += len(x)
	}
	return float64(n) / pocketsphinx.InputRate
}

// stepStats accumulates wall and pinned-thread CPU time of engine steps.
type stepStats struct {
	wall, cpu       time.Duration
	acceptWall      time.Duration
	endWall, endCPU time.Duration
	accepts, ends   int
	partial         time.Duration // audio fed before the first partial, summed
}

// recognizeTimed runs one utterance like recognize, timing every step.
func recognizeTimed(b *testing.B, th *pipeline.Thread, asr pipeline.Transcriber, x []float32, chunk time.Duration, st *stepStats) string {
	step := func(fn func() error) (wall, cpu time.Duration) {
		t0 := time.Now()
		require.NoError(b, th.Do(context.Background(), func() error {
			c0 := speechtest.ThreadCPU()
			defer func() { cpu = speechtest.ThreadCPU() - c0 }()
			return fn()
		}))
		wall = time.Since(t0)
		st.wall += wall
		st.cpu += cpu
		return wall, cpu
	}
	var s pipeline.TranscribeStream
	step(func() (err error) { s, err = asr.NewStream(pipeline.TranscribeOptions{}); return err })
	defer step(func() error { s.Close(); return nil })
	n := int(chunk.Seconds() * pocketsphinx.InputRate)
	first := time.Duration(-1)
	for i := 0; i < len(x); i += n {
		part := x[i:min(len(x), i+n)]
		var hyp string
		w, _ := step(func() (err error) { hyp, err = s.Accept(part); return err })
		st.acceptWall += w
		st.accepts++
		if hyp != "" && first < 0 {
			first = time.Duration(i+len(part)) * time.Second / pocketsphinx.InputRate
		}
	}
	st.partial += max(first, 0)
	var tr pipeline.Transcript
	w, c := step(func() (err error) { tr, err = s.EndUtterance(); return err })
	st.endWall += w
	st.endCPU += c
	st.ends++
	return tr.Text
}

// BenchmarkRecognize feeds each sentence through its own stream in 160 ms
// steps on the pinned thread, as the scheduler does, and reports:
//
//	x_realtime     audio seconds per wall second of engine steps
//	x_realtime_cpu audio seconds per CPU second of the pinned thread: how
//	               many real-time streams one pinned thread (one core)
//	               holds
//	rtf_cpu        CPU seconds per audio second (1/x_realtime_cpu)
//	partial_ms     audio fed before the first non-empty partial hypothesis
//	accept_ms      mean wall time of one 160 ms Accept step
//	end_ms         mean wall time of the EndUtterance step (second pass)
//	end_cpu_ms     its CPU time
func BenchmarkRecognize(b *testing.B) {
	th, asr := shared(b)
	audio := benchAudio(b, th)
	var st stepStats
	b.ResetTimer()
	for b.Loop() {
		for _, x := range audio {
			recognizeTimed(b, th, asr, x, 160*time.Millisecond, &st)
		}
	}
	secs := float64(b.N) * seconds(audio)
	ms := func(d time.Duration, n int) float64 { return float64(d.Microseconds()) / 1000 / float64(n) }
	b.ReportMetric(secs/st.wall.Seconds(), "x_realtime")
	b.ReportMetric(secs/st.cpu.Seconds(), "x_realtime_cpu")
	b.ReportMetric(st.cpu.Seconds()/secs, "rtf_cpu")
	b.ReportMetric(ms(st.partial, st.ends), "partial_ms")
	b.ReportMetric(ms(st.acceptWall, st.accepts), "accept_ms")
	b.ReportMetric(ms(st.endWall, st.ends), "end_ms")
	b.ReportMetric(ms(st.endCPU, st.ends), "end_cpu_ms")
}

// BenchmarkRecognizeVsCLI decodes the same 16 kHz audio (the ten sentences,
// each followed by half a second of silence) with our engine and with
// Debian's pocketsphinx_continuous on a WAV file of it, in the same run.
// The CLI's figures have its start-up (process, model load: measured on a
// 0.2 s file) subtracted:
//
//	ours_x_rt_cpu  audio seconds per CPU second, ours (pinned thread)
//	cli_x_rt_cpu   the same for the CLI's decoding (process CPU time)
//	overhead_cpu   our CPU time / the CLI's (1.0 = none)
//	overhead       the same ratio of wall times
//	ours_load_ms   wall time of New with one decoder
//	cli_load_ms    wall time of the CLI on the 0.2 s file
func BenchmarkRecognizeVsCLI(b *testing.B) {
	cli, err := exec.LookPath("pocketsphinx_continuous")
	if err != nil {
		b.Skip("pocketsphinx_continuous is not installed (apt-get install pocketsphinx)")
	}
	th, asr := shared(b)
	audio := benchAudio(b, th)
	gap := make([]float32, pocketsphinx.InputRate/2)
	var long []float32
	for i, x := range audio {
		audio[i] = append(x, gap...)
		long = append(long, audio[i]...)
	}
	dir := b.TempDir()
	longWAV, tinyWAV := filepath.Join(dir, "long.wav"), filepath.Join(dir, "tiny.wav")
	writeWAV(b, longWAV, long)
	writeWAV(b, tinyWAV, make([]float32, pocketsphinx.InputRate/5))
	p := pocketsphinx.DefaultPaths()
	run := func(wav string) (wall, cpu time.Duration) {
		cmd := exec.Command(cli, "-infile", wav, "-logfn", "/dev/null", "-hmm", p.HMM, "-lm", p.LM, "-dict", p.Dict)
		t0 := time.Now()
		out, err := cmd.Output()
		require.NoError(b, err)
		require.True(b, wav == tinyWAV || len(bytes.TrimSpace(out)) > 0, "CLI gave no transcript")
		return time.Since(t0), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	var st stepStats
	var cliWall, cliCPU, load, cliLoad time.Duration
	b.ResetTimer()
	for b.Loop() {
		for _, x := range audio {
			recognizeTimed(b, th, asr, x, 160*time.Millisecond, &st)
		}
		w, c := run(longWAV)
		w0, c0 := run(tinyWAV)
		cliWall, cliCPU, cliLoad = cliWall+w-w0, cliCPU+c-c0, cliLoad+w0
		t0 := time.Now()
		m, err := pocketsphinx.New(context.Background(), p, &pocketsphinx.Options{Decoders: 1})
		require.NoError(b, err)
		load += time.Since(t0)
		require.NoError(b, th.Do(context.Background(), m.Close))
	}
	n := float64(b.N)
	secs := n * float64(len(long)) / pocketsphinx.InputRate
	cliWall, cliCPU = max(cliWall, time.Millisecond), max(cliCPU, time.Millisecond)
	b.ReportMetric(secs/st.cpu.Seconds(), "ours_x_rt_cpu")
	b.ReportMetric(secs/cliCPU.Seconds(), "cli_x_rt_cpu")
	b.ReportMetric(st.cpu.Seconds()/cliCPU.Seconds(), "overhead_cpu")
	b.ReportMetric(st.wall.Seconds()/cliWall.Seconds(), "overhead")
	b.ReportMetric(float64(load.Milliseconds())/n, "ours_load_ms")
	b.ReportMetric(float64(cliLoad.Milliseconds())/n, "cli_load_ms")
}

func writeWAV(b *testing.B, path string, x []float32) {
	var buf bytes.Buffer
	require.NoError(b, speechtest.WriteWAV(&buf, pipeline.Audio{Rate: pocketsphinx.InputRate, Samples: x}))
	require.NoError(b, os.WriteFile(path, buf.Bytes(), 0o644))
}
