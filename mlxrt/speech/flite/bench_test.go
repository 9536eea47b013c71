//go:build cgo && flite

package flite_test

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
)

// paragraph is a typical spoken answer: three sentences, the first with a
// clause of its own.
const paragraph = "Thanks for asking, the weather today is sunny with a light breeze from the west. " +
	"You might want to take a walk in the park before it gets dark. " +
	"Tomorrow will be cooler, so bring a jacket if you go out early."

func clauses(t testing.TB) []string {
	var cs pipeline.ClauseSplitter
	out := append(cs.Push(paragraph), cs.Flush()...)
	require.Greater(t, len(out), 2)
	return out
}

// BenchmarkSynthesize speaks the paragraph clause by clause with slt on the
// pinned thread, as the scheduler does, and reports:
//
//	ttfa_ms        wall time until the first clause's audio exists
//	               (time to first audio of a streamed answer)
//	whole_ttfa_ms  wall time of speaking the paragraph in one call, the
//	               first audio a non-streaming engine could send
//	x_realtime     audio seconds per wall second over all clauses
//	step_ms        mean wall time of one clause, the longest step TTS
//	               puts on the pinned thread
func BenchmarkSynthesize(b *testing.B) {
	th, s := engine(b, nil)
	cs := clauses(b)
	opts := pipeline.SpeechOptions{Voice: "slt"}
	var first, whole, total time.Duration
	var audio float64
	b.ResetTimer()
	for b.Loop() {
		for i, c := range cs {
			t0 := time.Now()
			a, err := speak(th, s, c, opts)
			d := time.Since(t0)
			require.NoError(b, err)
			if i == 0 {
				first += d
			}
			total += d
			audio += a.Seconds()
		}
		t0 := time.Now()
		_, err := speak(th, s, paragraph, opts)
		require.NoError(b, err)
		whole += time.Since(t0)
	}
	n := float64(b.N)
	b.ReportMetric(float64(first.Microseconds())/1000/n, "ttfa_ms")
	b.ReportMetric(float64(whole.Microseconds())/1000/n, "whole_ttfa_ms")
	b.ReportMetric(audio/total.Seconds(), "x_realtime")
	b.ReportMetric(float64(total.Microseconds())/1000/(n*float64(len(cs))), "step_ms")
}

// BenchmarkSynthesizeVsCLI speaks the paragraph in one call and with
// Debian's flite command (same voice, written to a WAV file), in the same
// run:
//
//	ours_ms      our call on the pinned thread
//	cli_ms       the CLI's wall time, process start included
//	cli_start_ms the CLI speaking one word (start-up and voice loading)
//	overhead     ours_ms / (cli_ms - cli_start_ms); 1.0 means none
func BenchmarkSynthesizeVsCLI(b *testing.B) {
	cli, err := exec.LookPath("flite")
	if err != nil {
		b.Skip("the flite command is not installed (apt-get install flite)")
	}
	th, s := engine(b, nil)
	out := filepath.Join(b.TempDir(), "out.wav")
	run := func(text string) time.Duration {
		t0 := time.Now()
		require.NoError(b, exec.Command(cli, "-voice", "slt", "-t", text, "-o", out).Run())
		return time.Since(t0)
	}
	var ours, full, start time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		_, err := speak(th, s, paragraph, pipeline.SpeechOptions{Voice: "slt"})
		require.NoError(b, err)
		ours += time.Since(t0)
		full += run(paragraph)
		start += run("Hi.")
	}
	n := float64(b.N)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / n }
	b.ReportMetric(ms(ours), "ours_ms")
	b.ReportMetric(ms(full), "cli_ms")
	b.ReportMetric(ms(start), "cli_start_ms")
	b.ReportMetric(ours.Seconds()/max(full-start, time.Millisecond).Seconds(), "overhead")
}
