package transport

import (
	"github.com/go-chi/chi/v5"

	"github.com/ominix/ominix-api/sessions"
)

// mountAudio registers the audio routes inside the authenticated route
// group: POST /v1/audio/transcriptions (bounded by the upload limit),
// POST /v1/audio/speech, the seed's WebSocket TTS at /ws/v1/tts, and the
// "transcription" and "speech" native session types.
func (s *Server) mountAudio(r chi.Router) {
	r.With(s.BodyLimit(transcriptionBodyLimit(s.opts.MaxUploadBytes))).Post("/v1/audio/transcriptions", s.transcriptions)
	r.With(s.BodyLimit(0)).Post("/v1/audio/speech", s.speech)
	r.Get("/ws/v1/tts", s.ttsWS)
	s.HandleSessionType(string(sessions.KindTranscription), SessionType{
		Start: s.startTranscriptionSession, Input: s.transcriptionInput, MaxMessageBytes: nativeTranscriptionMaxMessage,
	})
	s.HandleSessionType(string(sessions.KindSpeech), SessionType{Start: s.startSpeechSession, Input: s.speechInput})
}
