// Package realtime implements OpenAI's Realtime protocol over WebSocket,
// in both dialects: transcription sessions (/v1/realtime?intent=
// transcription) and conversation sessions (/v1/realtime?model=…), in
// which voice activity detection, recognition, the LLM and speech
// synthesis run as one streaming session. GA names items
// conversation.item.added and .done and response output
// response.output_text.* / response.output_audio.* /
// response.output_audio_transcript.*; beta names them
// conversation.item.created, response.text.*, response.audio.* and
// response.audio_transcript.*, and configures transcription with
// transcription_session.update and flat members.
//
// Use ParseClientEvent to decode a client event; use Machine, the
// per-connection state machine (client event bytes and engine events in,
// server events and engine actions out, no I/O), to test the protocol
// without a socket; use Serve to run it on an accepted WebSocket against
// the scheduler (a Transcriber for recognition, a Responder for the LLM
// and synthesis of responses).
//
// Protocol decisions:
//   - Dialect: the beta dialect when the client sends "OpenAI-Beta:
//     realtime=v1" (or the "openai-beta.realtime-v1" sub-protocol), GA
//     otherwise; the first client event that exists in only one dialect
//     (transcription_session.update or a session.update without
//     session.type: beta; session.update with session.type: GA) fixes it
//     for the rest of the connection.
//   - Under server_vad, only the audio of each detected turn (with its
//     prefix padding) reaches the recognizer; the turn's item id is given
//     in speech_started, partial transcripts (delta events) follow while
//     the person speaks, and speech_stopped, committed, the item events and
//     finally completed end it. With turn_detection null, appended audio is
//     recognized as it arrives under the open item, and commit ends it
//     (input_audio_buffer_commit_empty below 100 ms).
//   - Deltas are append-only (see audioapi.Deltas): a word is sent once
//     three consecutive hypotheses agree on it and three words follow it;
//     the completed event always carries the whole final transcript.
//   - Conversations: a committed turn joins the conversation as a user
//     audio item and, under server_vad with create_response (the default),
//     gets a response at once (response.created); the LLM starts when
//     every user turn before it has its transcript. The LLM reads the
//     instructions as a system message and the items as chat messages:
//     typed text, transcripts of audio, what the assistant said (or, after
//     conversation.item.truncate, what was heard), function calls and
//     their outputs. Thinking is off (enable_thinking false); reasoning
//     text is never spoken.
//   - Audio output: the LLM's text is pushed to the synthesizer as it
//     streams, and the synthesizer speaks it clause by clause, so the
//     first audio follows the first clause, not the whole answer. Each
//     clause's audio is resampled (band-limited, streaming) from the
//     engine's rate to the session's output format (24 kHz PCM16 by
//     default, any declared PCM rate, or 8 kHz G.711) and sent in deltas
//     of at most 200 ms. The audio transcript deltas are the text of each
//     clause, sent just before its audio, so they track the spoken audio
//     (the item's transcript is what was spoken).
//   - Barge-in: speech_started while a response runs cancels it at once
//     when interrupt_response is on (the default): its LLM and synthesis
//     tasks stop at their next step, no more of its audio is sent, and
//     response.done reports status "cancelled", reason "turn_detected".
//     conversation.item.truncate then cuts the assistant item at
//     audio_end_ms: whole clauses that ended by then are kept, and of the
//     clause playing then the share of its words proportional to the
//     share of its audio heard.
//   - One response at a time: response.create while one runs fails with
//     conversation_already_has_active_response; response.cancel with none
//     running fails with response_cancel_not_active. A response whose
//     tasks cannot start (no model loaded, an overloaded scheduler) or
//     fail sends an error event with the code, then response.done with
//     status "failed"; the connection goes on.
//   - Languages and voices the engines lack are refused, not ignored: a
//     transcription language outside Options.Languages (English only for
//     pocketsphinx; "en-US" style variants pass) fails session.update
//     with an error event, code unsupported_language and the member as
//     param, and changes nothing. A cloned voice (a voice object, or a
//     name such as "voice_…", "ref:…" or a path to audio) fails with
//     voice_cloning_unavailable, and so does an audio response of a
//     session that names no voice while TTS_REF_AUDIO is configured
//     (Options.RefAudio), as POST /v1/audio/speech does.
//   - Usage in response.done counts the LLM's tokens (all text tokens);
//     the schemas have no field for seconds of synthesized audio.
//   - Bounds: 15 MiB per message (larger closes the connection with status
//     1009 and a reason naming the limit), Options.MaxBufferSeconds of
//     uncommitted audio in manual mode, Options.MaxTurnSeconds per VAD
//     turn, the scheduler's MaxQueuedAudio of unrecognized audio,
//     Options.MaxItems conversation items (the oldest are deleted beyond
//     it), 256 KiB of text per item, 64 KiB of instructions, 128 tools.
//     A history longer than the LLM's context leaves out its oldest
//     messages (after the system message) until the prompt leaves room for
//     min(max_output_tokens, a quarter of the context) tokens of answer;
//     the conversation itself keeps them. Each event written has a
//     deadline (Config.WriteTimeout): a client that stops reading is
//     disconnected, and its responses' work is cancelled. Malformed and
//     unknown events get an error event naming the problem and the
//     client's event_id; the connection stays open.
package realtime
