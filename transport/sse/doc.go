// Package sse writes Server-Sent Events to an HTTP response the way a
// long-lived token stream needs: every frame is flushed at once, every
// write+flush has a deadline so a client that stops reading is dropped
// instead of blocking its writer forever, and comment keepalives fill long
// silences (a long prefill) so proxies and clients do not time out.
//
// Use New to open a stream on an http.ResponseWriter (it fails before
// writing anything when the writer cannot flush); use Writer.Write for
// pre-encoded frames (the OpenAI encoders produce whole "data: …\n\n"
// frames), Writer.Event for id/event/data frames of the native session API,
// Writer.Done to learn that the client is gone, and Writer.Close when the
// response ends. Use AppendEvent to format a frame without writing it.
package sse
