// Package realtimetest helps test the Realtime protocol; use it only from
// tests. Use SchemaInstance (or SchemaName) to find the OpenAPI schema of
// a server event in each dialect and the instance to validate against it
// (beta response events are spelled there with GA names), OtherRate to
// skip events naming PCM rates the schemas do not allow, Dial for a raw
// WebSocket client that reads events in the background and waits for
// them with deadlines, and Tone, Silence, Utterances with PCM16, MuLaw,
// ALaw and Frames for synthetic input audio.
package realtimetest
