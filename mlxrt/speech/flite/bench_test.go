//go:build cgo && flite

package flite_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/speech/speechtest"
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

// timedSpeak synthesizes on the pinned thread and returns the audio, the
// wall time of the step and the CPU time the thread spent in it.
func timedSpeak(b *testing.B, th *pipeline.Thread, s pipeline.Synthesizer, text string) (a pipeline.Audio, wall, cpu time.Duration) {
	t0 := time.Now()
	err := th.Do(context.Background(), func() (err error) {
		c0 := speechtest.ThreadCPU()
		a, err = s.Synthesize(text, pipeline.SpeechOptions{Voice: "slt"})
		cpu = speechtest.ThreadCPU() - c0
		return err
	})
	require.NoError(b, err)
	return a, time.Since(t0), cpu
}

// BenchmarkSynthesize speaks the paragraph clause by clause with slt on the
// pinned thread, as the scheduler does, and reports:
//
//	ttfa_ms         wall time until the first clause's audio exists (time
//	                to first audio of a streamed answer)
//	whole_ttfa_ms   wall time of the paragraph in one call: the first audio
//	                an engine that speaks whole inputs could send
//	x_realtime      audio seconds per wall second over all clauses
//	x_realtime_cpu  audio seconds per CPU second of the pinned thread
//	step_ms         mean wall time of one clause, the step TTS puts on the
//	                pinned thread
func BenchmarkSynthesize(b *testing.B) {
	th, s := engine(b, nil)
	cs := clauses(b)
	var first, whole, wall, cpu time.Duration
	var audio float64
	b.ResetTimer()
	for b.Loop() {
		for i, c := range cs {
			a, w, u := timedSpeak(b, th, s, c)
			if i == 0 {
				first += w
			}
			wall, cpu, audio = wall+w, cpu+u, audio+a.Seconds()
		}
		_, w, _ := timedSpeak(b, th, s, paragraph)
		whole += w
	}
	n := float64(b.N)
	ms := func(d time.Duration, k float64) float64 { return float64(d.Microseconds()) / 1000 / k }
	b.ReportMetric(ms(first, n), "ttfa_ms")
	b.ReportMetric(ms(whole, n), "whole_ttfa_ms")
	b.ReportMetric(audio/wall.Seconds(), "x_realtime")
	b.ReportMetric(audio/cpu.Seconds(), "x_realtime_cpu")
	b.ReportMetric(ms(wall, n*float64(len(cs))), "step_ms")
}

// BenchmarkSynthesizeVsCLI speaks the paragraph in one call and with
// Debian's flite command (same voice, written to a WAV file) in the same
// run. The CLI's start-up (process and voice set-up, measured by speaking
// "Hi.") is subtracted from its figures:
//
//	ours_ms       our call on the pinned thread (wall)
//	cli_ms        the CLI's wall time minus its start-up
//	cli_start_ms  the CLI's start-up
//	overhead      ours_ms / cli_ms (1.0 = none)
//	overhead_cpu  the same ratio of CPU times (pinned thread vs process)
func BenchmarkSynthesizeVsCLI(b *testing.B) {
	cli, err := exec.LookPath("flite")
	if err != nil {
		b.Skip("the flite command is not installed (apt-get install flite)")
	}
	th, s := engine(b, nil)
	out := filepath.Join(b.TempDir(), "out.wav")
	run := func(text string) (wall, cpu time.Duration) {
		cmd := exec.Command(cli, "-voice", "slt", "-t", text, "-o", out)
		t0 := time.Now()
		require.NoError(b, cmd.Run())
		return time.Since(t0), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	var ours, oursCPU, cliWall, cliCPU, start time.Duration
	b.ResetTimer()
	for b.Loop() {
		_, w, c := timedSpeak(b, th, s, paragraph)
		ours, oursCPU = ours+w, oursCPU+c
		fw, fc := run(paragraph)
		sw, sc := run("Hi.")
		cliWall, cliCPU, start = cliWall+fw-sw, cliCPU+fc-sc, start+sw
	}
	n := float64(b.N)
	cliWall, cliCPU = max(cliWall, time.Millisecond), max(cliCPU, time.Millisecond)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / n }
	b.ReportMetric(ms(ours), "ours_ms")
	b.ReportMetric(ms(cliWall), "cli_ms")
	b.ReportMetric(ms(start), "cli_start_ms")
	b.ReportMetric(ours.Seconds()/cliWall.Seconds(), "overhead")
	b.ReportMetric(oursCPU.Seconds()/cliCPU.Seconds(), "overhead_cpu")
}
