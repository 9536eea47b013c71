// Package sessions is the unit of streaming in ominix-api. A Session owns a
// typed, sequence-numbered event log with bounded replay, fans events out to
// subscribers under a named slow-consumer policy per kind of event, and
// carries a cancellation cause for its work. A Registry holds sessions by
// id and expires idle ones.
//
// Use Registry.Create to start a session and pass the Session as the
// pipeline.Sink of scheduled work (with Session.Context as its context);
// use Session.Subscribe to read events, from the start or after a sequence
// number (SSE Last-Event-ID). Emit never blocks: a subscriber that cannot
// keep up is handled by its policy, never by slowing the pipeline.
package sessions
