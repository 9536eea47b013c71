package transport

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/sessions"
	"github.com/ominix/ominix-api/transport/audioapi"
	"github.com/ominix/ominix-api/transport/openai"
	"github.com/ominix/ominix-api/transport/sse"
)

// speech answers POST /v1/audio/speech. The body is validated (input,
// voice, response_format, speed, stream_format) before any work starts,
// so bad requests get a 400; then the input is synthesized clause by
// clause on a request-scoped session and streamed as it is made: raw audio
// in the response_format (chunked, flushed per clause, first bytes after
// the first clause), or, with stream_format "sse", speech.audio.delta
// events (base64 of the same encoded bytes) and speech.audio.done with
// usage. A failure before the first audio is an ordinary error response;
// after it, the connection is aborted (raw audio) or an error event is
// sent (SSE), so a client never mistakes a truncated stream for a
// complete one.
func (s *Server) speech(w http.ResponseWriter, r *http.Request) {
	body, err := ReadBody(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	req, err := audioapi.ParseSpeechRequest(body)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	job, err := s.startSpeech(r, req)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	defer job.end()
	if req.StreamFormat == audioapi.StreamSSE {
		s.speechSSE(w, r, req, job)
		return
	}
	s.speechAudio(w, r, req, job)
}

// checkVoice validates the requested voice against the loaded
// synthesizer's voices (see audioapi.CheckVoice).
func (s *Server) checkVoice(req *audioapi.SpeechRequest) error {
	lease, err := s.slots.Acquire(pipeline.TTSSlot)
	if err != nil {
		return err
	}
	defer lease.Release()
	synth, ok := lease.Model().(pipeline.Synthesizer)
	if !ok {
		return &pipeline.Error{Kind: pipeline.KindUnavailable, Message: "the tts slot holds no speech synthesizer"}
	}
	return audioapi.CheckVoice(req, synth.Voices(), s.ttsRefAudio())
}

// ttsRefAudio is the configured voice-cloning reference audio
// (TTS_REF_AUDIO, Options.TTSRefAudio).
func (s *Server) ttsRefAudio() string { return s.opts.TTSRefAudio }

// speechJob is one synthesis on a request-scoped session.
type speechJob struct {
	s    *Server
	sess *sessions.Session
	sub  *sessions.Subscriber
}

func (s *Server) startSpeech(r *http.Request, req *audioapi.SpeechRequest) (*speechJob, error) {
	if s.Codecs() == nil {
		return nil, &pipeline.Error{Kind: pipeline.KindUnavailable, Code: "audio_unavailable",
			Message: "This server was started without audio codecs, so it cannot encode speech."}
	}
	if err := s.checkVoice(req); err != nil {
		return nil, err
	}
	// Fail unsupported encoders (mp3 or opus built without their library)
	// before any work starts.
	if _, err := s.Codecs().NewEncoder(io.Discard, req.ResponseFormat, 0); err != nil {
		return nil, err
	}
	var syn *pipeline.Synthesis
	sess, sub, err := s.startRequestWork(r.Context(), sessions.KindSpeech, func(sess *sessions.Session) (err error) {
		syn, err = s.deps.Scheduler.Speak(sess.Context(), pipeline.SpeechOptions{Voice: req.Voice, Speed: req.Speed,
			Instructions: req.Instructions}, sess)
		return err
	})
	if err != nil {
		return nil, err
	}
	sess.Attach(syn)
	job := &speechJob{s: s, sess: sess, sub: sub}
	if err := syn.Push(req.Input); err != nil {
		sess.Cancel(err)
		job.end()
		return nil, err
	}
	syn.Close()
	return job, nil
}

func (j *speechJob) end() {
	j.sub.Close()
	j.s.EndSession(j.sess, nil)
}

// next returns the job's next audio chunk or its end: done is set with
// the usage when synthesis finished.
func (j *speechJob) next(ctx context.Context) (chunk *pipeline.AudioChunk, done *pipeline.Done, err error) {
	for {
		e, err := j.sub.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil, &pipeline.Done{Finish: pipeline.FinishStop}, nil
		}
		if err != nil {
			return nil, nil, err
		}
		switch ev := e.Event.(type) {
		case pipeline.AudioChunk:
			return &ev, nil, nil
		case pipeline.Done:
			return nil, &ev, nil
		case pipeline.Failed:
			return nil, nil, pipeline.ErrorOf(ev)
		}
	}
}

// speechAudio streams the encoded audio as the response body.
func (s *Server) speechAudio(w http.ResponseWriter, r *http.Request, req *audioapi.SpeechRequest, j *speechJob) {
	cw := &chunkWriter{w: w, rc: http.NewResponseController(w), timeout: s.opts.WriteTimeout}
	enc, err := s.Codecs().NewEncoder(cw, req.ResponseFormat, 0)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	started := false
	start := func() {
		if started {
			return
		}
		started = true
		h := w.Header()
		h.Set("Content-Type", enc.ContentType())
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Accel-Buffering", "no")
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
	}
	for {
		chunk, done, err := j.next(r.Context())
		switch {
		case err != nil && !started:
			WriteError(w, r, err)
			return
		case err != nil:
			LoggerFrom(r.Context()).Warn("speech failed mid-stream", "err", err)
			panic(http.ErrAbortHandler)
		case done != nil:
			start()
			if enc.Close() == nil {
				_ = cw.flush()
			}
			return
		}
		start()
		if enc.Write(chunk.Audio) != nil || cw.flush() != nil {
			return // the client is gone; deferred cleanup cancels the work
		}
	}
}

// speechSSE streams speech.audio.delta events and speech.audio.done.
func (s *Server) speechSSE(w http.ResponseWriter, r *http.Request, req *audioapi.SpeechRequest, j *speechJob) {
	var buf bytes.Buffer
	enc, err := s.Codecs().NewEncoder(&buf, req.ResponseFormat, 0)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	var sw *sse.Writer
	flushAudio := func() bool {
		if buf.Len() == 0 {
			return true
		}
		ok := sendJSON(sw, openai.NewSpeechAudioDelta(buf.Bytes()))
		buf.Reset()
		return ok
	}
	for {
		chunk, done, err := j.next(r.Context())
		if err != nil && sw == nil {
			WriteError(w, r, err)
			return
		}
		if sw == nil {
			if sw, err = sse.New(r.Context(), w, s.SSEOptions()); err != nil {
				WriteError(w, r, err)
				return
			}
			defer sw.Close()
		}
		switch {
		case err != nil:
			sendJSON(sw, openai.NewErrorResponse(err))
			return
		case done != nil:
			if enc.Close() == nil && flushAudio() {
				sendJSON(sw, openai.NewSpeechAudioDone(done.Usage))
			}
			return
		}
		if enc.Write(chunk.Audio) != nil || !flushAudio() {
			return
		}
	}
}

// chunkWriter writes the encoder's output to the response, each write
// within the write timeout; flush pushes it to the client.
type chunkWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	if err := c.deadline(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

func (c *chunkWriter) flush() error {
	if err := c.deadline(); err != nil {
		return err
	}
	err := c.rc.Flush()
	if errors.Is(err, http.ErrNotSupported) {
		return nil
	}
	return err
}

func (c *chunkWriter) deadline() error { return sse.ExtendWriteDeadline(c.rc, c.timeout) }
