// Package web holds the browser demos of ominix-api as static files embedded
// in the binary: plain HTML, CSS and JavaScript modules, no build step and
// nothing fetched from elsewhere. Use FS to serve them (cmd mounts it at /,
// outside authentication).
//
// The pages: index.html links every demo; chat.html streams chat
// completions over SSE with a stop button and time to first token;
// transcribe.html streams the microphone to /v1/realtime?intent=transcription
// and shows partial and final transcripts; speech.html plays synthesized
// speech while it arrives; voice.html holds a hands-free Realtime voice
// conversation with barge-in. Shared code lives in common.js (API key
// prompt kept in localStorage, SSE over fetch, PCM16 helpers, WebSocket
// sub-protocol authentication, microphone audio held while a Realtime
// socket opens, scheduled playback) and capture-worklet.js
// (microphone capture resampled to 24 kHz PCM16 with a windowed-sinc
// filter, whatever rate the device runs at).
//
// The tests drive the pages in headless Chromium (chromedp) against the
// real server binary, with a WAV spoken by flite as the microphone; see
// browser_test.go. web/screenshots holds their screenshots for the README.
package web
