// Package realtime implements OpenAI's Realtime protocol for transcription
// sessions over WebSocket (/v1/realtime?intent=transcription, or a
// ?model= connection turned into one by session.update), in both dialects:
// GA (session.update with session.type and nested audio.input; items
// announced with conversation.item.added and .done) and beta
// (transcription_session.update with flat members; items announced with
// conversation.item.created).
//
// Use ParseClientEvent to decode a client event; use Machine, the
// per-connection state machine (client event bytes and recognizer events
// in, server events and recognizer actions out, no I/O), to test the
// protocol without a socket; use Accept and Serve to run it on a
// WebSocket against a pipeline Transcriber.
//
// Protocol decisions:
//   - Dialect: the beta dialect when the client sends "OpenAI-Beta:
//     realtime=v1" (or the "openai-beta.realtime-v1" sub-protocol), GA
//     otherwise; the first client event that exists in only one dialect
//     (transcription_session.update: beta; session.update with
//     session.type: GA) fixes it for the rest of the connection.
//   - Under server_vad, only the audio of each detected turn (with its
//     prefix padding) reaches the recognizer; the turn's item id is given
//     in speech_started, partial transcripts (delta events) follow while
//     the person speaks, and speech_stopped, committed, the item events and
//     finally completed end it. With turn_detection null, appended audio is
//     recognized as it arrives under the open item, and commit ends it
//     (input_audio_buffer_commit_empty below 100 ms).
//   - Deltas are append-only (see audioapi.Deltas): a word is sent once two
//     consecutive hypotheses agree on it; the completed event always
//     carries the whole final transcript.
//   - Bounds: 15 MiB per message (larger closes the connection with status
//     1009 and a reason naming the limit), Options.MaxBufferSeconds of
//     uncommitted audio in manual mode, Options.MaxTurnSeconds per VAD
//     turn, the scheduler's MaxQueuedAudio of unrecognized audio.
//     Malformed and unknown events get an error event naming the problem
//     and the client's event_id; the connection stays open.
//
// Conversation sessions (session.type "realtime": responses, audio out)
// are the next step: their events already parse and are answered with an
// unsupported_session_type error, and the Machine is where they go.
package realtime
