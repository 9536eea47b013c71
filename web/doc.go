// Package web holds the browser demos of ominix-api as static files embedded
// in the binary (no build step). Use FS to serve them: index.html links
// every demo; chat.html streams chat completions; transcribe.html streams
// the microphone to /v1/realtime and shows partial transcripts;
// speech.html plays synthesized speech while it arrives; voice.html holds a
// hands-free voice conversation.
package web
