// Package realtimetest helps test the Realtime protocol; use it only from
// tests. Use SchemaName to find the OpenAPI schema of a server event in
// each dialect, Dial for a raw WebSocket client that reads events in the
// background and waits for them with deadlines, and Tone, Silence,
// Utterances with PCM16, MuLaw, ALaw and Frames for synthetic input audio.
package realtimetest
