package transport

import (
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/transport/realtime"
)

// mountRealtime registers /v1/realtime (the OpenAI Realtime WebSocket
// protocol) inside the authenticated route group.
func (s *Server) mountRealtime(r chi.Router) {
	r.Get("/v1/realtime", s.realtime)
}

// realtime answers GET /v1/realtime: ?intent=transcription opens a
// transcription session, ?model=… a conversation session (VAD,
// recognition, the loaded LLM and synthesis as one stream), which
// session.update {"session": {"type": "transcription"}} turns into a
// transcription session while its conversation is empty. The model named
// is reported back; the loaded LLM answers whatever it is. Bad query
// parameters and an empty ASR slot are answered with an HTTP error before
// the upgrade; everything after it is the realtime package's protocol
// (an empty LLM or TTS slot fails each response with an error event).
func (s *Server) realtime(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	intent, model := q.Get("intent"), q.Get("model")
	switch {
	case intent != "" && intent != realtime.SessionTranscription:
		WriteError(w, r, &pipeline.Error{Kind: pipeline.KindInvalid, Param: "intent", Code: "invalid_value",
			Message: fmt.Sprintf("Invalid value: '%s'. Supported values are: 'transcription'.", clip(intent, 64))})
		return
	case intent == "" && model == "":
		WriteError(w, r, &pipeline.Error{Kind: pipeline.KindInvalid, Param: "model", Code: "missing_required_parameter",
			Message: "Missing required query parameter: 'model' (or 'intent=transcription' for a transcription session)."})
		return
	case len(model) > 256:
		WriteError(w, r, pipeline.Invalid("model", "'model' is longer than 256 characters."))
		return
	}
	asr, err := s.loadedModel(pipeline.ASRSlot)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	c, err := s.AcceptWebSocket(w, r, realtime.DefaultReadLimit, realtime.Subprotocol)
	if err != nil {
		return
	}
	// The request's context must not be used after the upgrade; the
	// connection lives until the client leaves or the server shuts down.
	err = realtime.Serve(s.base, c, realtime.Config{
		Machine: realtime.Options{
			Intent: intent, Model: model, Beta: realtime.BetaRequested(r), TranscriptionModel: asr.ID,
			Voices: s.voices(), Languages: s.asrLanguages(), RefAudio: s.ttsRefAudio() != "",
		},
		Transcriber:  s.deps.Scheduler,
		Responder:    s.deps.Scheduler,
		Sessions:     s.deps.Sessions,
		WriteTimeout: s.opts.WriteTimeout,
		Logger:       LoggerFrom(r.Context()),
	})
	if err != nil {
		LoggerFrom(r.Context()).Debug("realtime connection ended", "err", err)
	}
}

// loadedModel describes the model serving slot c, or fails with the
// slot's KindUnavailable error (503) when it is empty.
func (s *Server) loadedModel(c pipeline.Category) (pipeline.ModelInfo, error) {
	lease, err := s.slots.Acquire(c)
	if err != nil {
		return pipeline.ModelInfo{}, err
	}
	defer lease.Release()
	return lease.Model().Info(), nil
}

// voices lists the voices of the loaded synthesizer (nil when the TTS slot
// is empty: responses then fail when they start).
func (s *Server) voices() []string {
	lease, err := s.slots.Acquire(pipeline.TTSSlot)
	if err != nil {
		return nil
	}
	defer lease.Release()
	if syn, ok := lease.Model().(pipeline.Synthesizer); ok {
		return syn.Voices()
	}
	return nil
}
