package transport

import "github.com/go-chi/chi/v5"

// mountAudio registers the audio routes (/v1/audio/transcriptions,
// /v1/audio/speech, the seed's /ws/v1/tts, and the "transcription" and
// "speech" native session types) inside the authenticated route group.
// The audio engineer fills it; this file belongs to them.
func (s *Server) mountAudio(r chi.Router) {}
