// Package audioapi holds the protocol logic of ominix-api's audio endpoints
// that is not HTTP plumbing: decoding and validating transcription
// requests (OpenAI's multipart form and the seed's JSON body with a base64
// file) and speech requests, splitting a recording into utterances at its
// silences, and turning a recognizer's revisable hypotheses into OpenAI's
// append-only text deltas.
//
// Use ParseTranscriptionMultipart or ParseTranscriptionJSON, then
// SplitUtterances and Merge to run a long file through a streaming
// recognizer utterance by utterance; use Deltas for every streamed
// transcript (the delta rule is documented there); use ParseSpeechRequest
// and CheckVoice before starting synthesis, so bad voices and formats fail
// with a 400 before any audio is sent.
//
// Everything here is pure and safe for concurrent use, except Deltas
// values, which belong to one utterance each.
package audioapi
