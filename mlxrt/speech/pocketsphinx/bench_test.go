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

// BenchmarkRecognize feeds each sentence through its own stream in 160 ms
// steps on the pinned thread, as the scheduler does, and reports:
//
//	x_realtime   audio seconds recognized per wall second on one thread,
//	             i.e. how many real-time streams one pinned thread holds
//	rtf          wall seconds per audio second (1/x_realtime)
//	partial_ms   audio fed before the first non-empty partial hypothesis
//	accept_ms    mean wall time of one 160 ms Accept step
//	end_ms       mean wall time of the EndUtterance step (second pass)
func BenchmarkRecognize(b *testing.B) {
	th, asr := shared(b)
	audio := benchAudio(b, th)
	chunk := 160 * time.Millisecond
	var partial, end, accept time.Duration
	var accepts int
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		for _, x := range audio {
			r := recognizeTimed(b, th, asr, x, chunk)
			partial += r.FirstPartial
			end += r.end
			accept += r.accept
			accepts += r.accepts
		}
	}
	wall := time.Since(start).Seconds()
	n := float64(b.N * len(audio))
	xrt := float64(b.N) * seconds(audio) / wall
	b.ReportMetric(xrt, "x_realtime")
	b.ReportMetric(1/xrt, "rtf")
	b.ReportMetric(float64(partial.Milliseconds())/n, "partial_ms")
	b.ReportMetric(float64(accept.Microseconds())/1000/float64(accepts), "accept_ms")
	b.ReportMetric(float64(end.Microseconds())/1000/n, "end_ms")
}

type timed struct {
	result
	accept, end time.Duration
	accepts     int
}

func recognizeTimed(b *testing.B, th *pipeline.Thread, asr pipeline.Transcriber, x []float32, chunk time.Duration) timed {
	st, err := on(b, th, func() (pipeline.TranscribeStream, error) { return asr.NewStream(pipeline.TranscribeOptions{}) })
	require.NoError(b, err)
	defer func() { _ = th.Do(context.Background(), func() error { st.Close(); return nil }) }()
	n := int(chunk.Seconds() * pocketsphinx.InputRate)
	res := timed{result: result{FirstPartial: -1}}
	for i := 0; i < len(x); i += n {
		part := x[i:min(len(x), i+n)]
		t0 := time.Now()
		hyp, err := on(b, th, func() (string, error) { return st.Accept(part) })
		res.accept += time.Since(t0)
		res.accepts++
		require.NoError(b, err)
		if hyp != "" && res.FirstPartial < 0 {
			res.FirstPartial = time.Duration(i+len(part)) * time.Second / pocketsphinx.InputRate
		}
	}
	t0 := time.Now()
	res.Transcript, err = on(b, th, st.EndUtterance)
	res.end = time.Since(t0)
	require.NoError(b, err)
	return res
}

// BenchmarkRecognizeVsCLI decodes the same 16 kHz WAV (the ten sentences
// with half a second of silence between them) with our engine and with
// Debian's pocketsphinx_continuous, in the same run:
//
//	ours_x_rt     audio/wall through our streams (160 ms steps on the
//	              pinned thread; one utterance per sentence)
//	cli_x_rt      audio/wall of the CLI's decoding, i.e. its wall time on
//	              the file minus its wall time on a 0.2 s file (process
//	              start and model load)
//	overhead      our decoding wall time / the CLI's (1.0 = none)
//	ours_load_ms  New with one decoder
//	cli_load_ms   the CLI on the 0.2 s file
func BenchmarkRecognizeVsCLI(b *testing.B) {
	cli, err := exec.LookPath("pocketsphinx_continuous")
	if err != nil {
		b.Skip("pocketsphinx_continuous is not installed (apt-get install pocketsphinx)")
	}
	th, asr := shared(b)
	audio := benchAudio(b, th)
	gap := make([]float32, pocketsphinx.InputRate/2)
	var long []float32
	for _, x := range audio {
		long = append(append(long, x...), gap...)
	}
	dir := b.TempDir()
	longWAV, tinyWAV := filepath.Join(dir, "long.wav"), filepath.Join(dir, "tiny.wav")
	writeWAV(b, longWAV, long)
	writeWAV(b, tinyWAV, make([]float32, pocketsphinx.InputRate/5))
	run := func(wav string) time.Duration {
		t0 := time.Now()
		out, err := exec.Command(cli, "-infile", wav, "-logfn", "/dev/null").Output()
		require.NoError(b, err)
		require.True(b, wav == tinyWAV || len(bytes.TrimSpace(out)) > 0, "CLI gave no transcript")
		return time.Since(t0)
	}
	var ours, cliLong, cliTiny, load time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		for _, x := range audio {
			recognize(b, th, asr, append(x, gap...), 160*time.Millisecond)
		}
		ours += time.Since(t0)
		cliLong += run(longWAV)
		cliTiny += run(tinyWAV)
		t0 = time.Now()
		m, err := pocketsphinx.New(context.Background(), pocketsphinx.DefaultPaths(), &pocketsphinx.Options{Decoders: 1})
		require.NoError(b, err)
		load += time.Since(t0)
		require.NoError(b, th.Do(context.Background(), m.Close))
	}
	n := float64(b.N)
	audioSecs := float64(len(long)) / pocketsphinx.InputRate
	cliDecode := max(cliLong-cliTiny, time.Millisecond)
	b.ReportMetric(audioSecs*n/ours.Seconds(), "ours_x_rt")
	b.ReportMetric(audioSecs*n/cliDecode.Seconds(), "cli_x_rt")
	b.ReportMetric(ours.Seconds()/cliDecode.Seconds(), "overhead")
	b.ReportMetric(float64(load.Milliseconds())/n, "ours_load_ms")
	b.ReportMetric(float64(cliTiny.Milliseconds())/n, "cli_load_ms")
}

func writeWAV(b *testing.B, path string, x []float32) {
	var buf bytes.Buffer
	require.NoError(b, speechtest.WriteWAV(&buf, pipeline.Audio{Rate: pocketsphinx.InputRate, Samples: x}))
	require.NoError(b, os.WriteFile(path, buf.Bytes(), 0o644))
}
