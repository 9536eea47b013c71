package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/web"
)

// TestPageHelpers runs the shared page code in Chromium against the
// embedded files alone (no API server): the SSE parser on awkwardly split
// streams, and the capture worklet's resampler on pure tones at the rates
// devices give.
func TestPageHelpers(t *testing.T) {
	setup(t)
	srv := httptest.NewServer(http.FileServerFS(web.FS()))
	t.Cleanup(srv.Close)
	p := newBrowser(t, browserOpts{})
	p.open(srv.URL+"/speech.html", "#speak") // any page: the helpers are imported from it

	t.Run("sse", func(t *testing.T) {
		type event struct {
			Event string  `json:"event"`
			Data  string  `json:"data"`
			ID    *string `json:"id"`
		}
		// Chunks split lines, CRLF pairs and a UTF-8 character anywhere.
		parts := []string{
			"data: {\"a\":1}\r\n\r\n: keepalive\n\n",
			"event: ping\nid: 7\ndata: li", "ne1\ndata: line2\n\n",
			"data: a\r", "\ndata: b\r\n\r", "\n",
			"data:nospace\n\ndata: caf\xc3", "\xa9\n\n",
			"data: [DONE]\n\ndata: unterminated",
		}
		raw := eval[[]byte](p, fmt.Sprintf(`(async () => {
			const { sseEvents } = await import("/common.js");
			const parts = %s.map(s => Uint8Array.from(s, c => c.charCodeAt(0)));
			const body = new ReadableStream({ start(c) { for (const p of parts) c.enqueue(p); c.close(); } });
			const out = [];
			for await (const ev of sseEvents(new Response(body))) out.push(ev);
			return out;
		})()`, jsBytes(parts)))
		var got []event
		require.NoError(t, json.Unmarshal(raw, &got))
		id := "7"
		assert.Equal(t, []event{
			{"message", `{"a":1}`, nil},
			{"ping", "line1\nline2", &id},
			{"message", "a\nb", &id},
			{"message", "nospace", &id},
			{"message", "café", &id},
			{"message", "[DONE]", &id},
		}, got)
	})

	t.Run("resampler", func(t *testing.T) {
		for _, c := range []struct {
			rate, freq int
			minSNR     float64 // dB: how far the residual is below the tone
			stopband   bool    // the tone is above the output's band: it must be removed
		}{
			{48000, 1000, 60, false},
			{44100, 1000, 60, false},
			{44100, 7000, 60, false},
			{16000, 1000, 60, false},
			{24000, 1000, 60, false},
			{48000, 15000, 60, true},
			{44100, 17000, 60, true},
		} {
			name := fmt.Sprintf("%d Hz tone at %d Hz", c.freq, c.rate)
			got := resample(t, p, c.rate, c.freq)
			t.Logf("%s: %d samples out, tone amplitude %.4f, residual %.1f dB below the input tone", name, got.N, got.Amp, got.ResidualDB)
			require.InDelta(t, 24000, got.N, 1200, "%s: samples out for one second in", name)
			if c.stopband {
				assert.GreaterOrEqual(t, got.ResidualDB, c.minSNR, "%s: attenuated", name)
				continue
			}
			assert.InDelta(t, 0.5, got.Amp, 0.5*0.01, "%s: passband gain within 0.1 dB", name)
			assert.GreaterOrEqual(t, got.ResidualDB, c.minSNR, "%s: signal to noise and distortion", name)
		}
	})
}

type toneResult struct {
	N          int     `json:"n"`
	Amp        float64 `json:"amp"`
	ResidualDB float64 `json:"residualDB"`
}

// resample renders one second of a sine (amplitude 0.5) at rate through
// capture-worklet.js in an OfflineAudioContext and fits a sine at freq to
// the 24 kHz output: Amp is the fitted amplitude, ResidualDB how far the
// rest lies below the input tone's power.
func resample(t *testing.T, p *page, rate, freq int) toneResult {
	t.Helper()
	raw := eval[[]byte](p, fmt.Sprintf(`(async (rate, freq) => {
		const ctx = new OfflineAudioContext(1, rate, rate);
		await ctx.audioWorklet.addModule("/capture-worklet.js");
		const osc = new OscillatorNode(ctx, { frequency: freq });
		const node = new AudioWorkletNode(ctx, "pcm16-capture", { numberOfInputs: 1, numberOfOutputs: 1,
			outputChannelCount: [1], processorOptions: { targetRate: 24000, chunkMs: 40 } });
		const chunks = [];
		node.port.onmessage = (e) => chunks.push(new Int16Array(e.data.pcm));
		osc.connect(new GainNode(ctx, { gain: 0.5 })).connect(node).connect(ctx.destination);
		osc.start();
		await ctx.startRendering();
		// Messages posted during rendering arrive as tasks: wait (bounded)
		// for all 24 full chunks a second gives after the filter's delay.
		for (let i = 0; i < 200 && chunks.length < 24; i++) await new Promise((r) => setTimeout(r, 10));
		const y = new Float64Array(chunks.reduce((n, c) => n + c.length, 0));
		let o = 0;
		for (const c of chunks) for (const v of c) y[o++] = v / 32768;
		// Least-squares fit of a sin + b cos at freq, away from the edges.
		const w = 2 * Math.PI * freq / 24000, lo = 200, hi = y.length - 200;
		let ss = 0, cc = 0, sc = 0, ys = 0, yc = 0;
		for (let k = lo; k < hi; k++) {
			const s = Math.sin(w * k), c = Math.cos(w * k);
			ss += s * s; cc += c * c; sc += s * c; ys += y[k] * s; yc += y[k] * c;
		}
		const det = ss * cc - sc * sc, a = (ys * cc - yc * sc) / det, b = (yc * ss - ys * sc) / det;
		let res = 0;
		for (let k = lo; k < hi; k++) { const e = y[k] - a * Math.sin(w * k) - b * Math.cos(w * k); res += e * e; }
		const amp = Math.hypot(a, b);
		const tonePower = 0.125; // (0.5)^2 / 2
		const stop = freq > 12000; // above the output band: everything left counts as alias
		const resid = (stop ? (res + amp * amp * (hi - lo) / 2) : res) / (hi - lo);
		return { n: y.length, amp, residualDB: 10 * Math.log10(tonePower / Math.max(resid, 1e-30)) };
	})(%d, %d)`, rate, freq))
	var r toneResult
	require.NoError(t, json.Unmarshal(raw, &r))
	return r
}

// jsBytes writes Go strings as a JavaScript array of byte strings (each
// char one byte), so split UTF-8 sequences reach the page intact.
func jsBytes(parts []string) string {
	out := "["
	for i, s := range parts {
		if i > 0 {
			out += ","
		}
		out += `"`
		for _, b := range []byte(s) {
			out += fmt.Sprintf(`\x%02x`, b)
		}
		out += `"`
	}
	return out + "]"
}
