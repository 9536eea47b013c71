package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/dsp"
	"github.com/ominix/ominix-api/sessions"
	"github.com/ominix/ominix-api/transport/audioapi"
	"github.com/ominix/ominix-api/transport/openai"
	"github.com/ominix/ominix-api/transport/sse"
)

// MaxTranscriptionSeconds bounds the decoded length of an uploaded file:
// longer audio is refused with 413 while it is being decoded.
const MaxTranscriptionSeconds = 15 * 60

// transcriptionBodyLimit bounds the transcription route's body: the upload
// limit, base64-inflated for the seed's JSON body, plus room for fields.
func transcriptionBodyLimit(upload int64) int64 { return upload/3*4 + 4 + 1<<20 }

// transcriptions answers POST /v1/audio/transcriptions: OpenAI's multipart
// form or the seed's JSON body (base64 file). The file is decoded, split
// into utterances at its silences and recognized utterance by utterance
// on a request-scoped session; stream=true answers SSE
// transcript.text.delta events (append-only, see audioapi.Deltas) and a
// final transcript.text.done, otherwise the response_format is answered
// once recognition has finished.
func (s *Server) transcriptions(w http.ResponseWriter, r *http.Request) {
	req, err := s.parseTranscription(r)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	job, err := s.startFileTranscription(r, req)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	defer job.end()
	if req.Stream {
		s.streamTranscription(w, r, job)
		return
	}
	t, err := job.wait(r.Context())
	if err != nil {
		WriteError(w, r, err)
		return
	}
	writeTranscription(w, req, t)
}

// parseTranscription decodes the request by its Content-Type.
func (s *Server) parseTranscription(r *http.Request) (*audioapi.TranscriptionRequest, error) {
	lim := &audioapi.Limits{MaxFileBytes: s.opts.MaxUploadBytes}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "multipart/form-data":
		return audioapi.ParseTranscriptionMultipart(r.Body, params["boundary"], lim)
	case "application/json":
		body, err := ReadBody(r)
		if err != nil {
			return nil, err
		}
		return audioapi.ParseTranscriptionJSON(body, lim)
	}
	return nil, &pipeline.Error{Kind: pipeline.KindInvalid, Code: "unsupported_content_type",
		Message: "Send the audio as multipart/form-data (OpenAI's form: file, model, …) or as application/json with a base64 'file'."}
}

// asrLanguages lists the languages of the loaded recognizer: nil when it
// takes any, or when the ASR slot is empty (starting the work then says
// so).
func (s *Server) asrLanguages() []string {
	lease, err := s.slots.Acquire(pipeline.ASRSlot)
	if err != nil {
		return nil
	}
	defer lease.Release()
	return pipeline.ModelLanguages(lease.Model())
}

// fileJob is one uploaded file being recognized.
type fileJob struct {
	s        *Server
	sess     *sessions.Session
	sub      *sessions.Subscriber
	utts     []audioapi.Utterance
	index    map[string]int // item id → utterance
	rate     int
	duration float64
	language string
}

// startFileTranscription decodes the upload and queues its utterances on
// a new recognition task. A language the recognizer lacks and decoding
// errors (400, 413) come before any work starts.
func (s *Server) startFileTranscription(r *http.Request, req *audioapi.TranscriptionRequest) (*fileJob, error) {
	codecs := s.Codecs()
	if codecs == nil {
		return nil, &pipeline.Error{Kind: pipeline.KindUnavailable, Code: "audio_unavailable",
			Message: "This server was started without audio codecs, so it cannot decode uploads."}
	}
	if err := pipeline.CheckLanguage(s.asrLanguages(), "language", req.Language); err != nil {
		return nil, err
	}
	audio, err := codecs.Decode(req.File, pipeline.DecodeOptions{MaxSeconds: MaxTranscriptionSeconds})
	if err != nil {
		return nil, err
	}
	if len(audio.Samples) == 0 {
		return nil, pipeline.Invalid("file", "The audio file holds no samples.")
	}
	var tr *pipeline.Transcription
	sess, sub, err := s.startRequestWork(r.Context(), sessions.KindTranscription, func(sess *sessions.Session) (err error) {
		tr, err = s.deps.Scheduler.Transcribe(sess.Context(), req.Options(), sess)
		return err
	})
	if err != nil {
		return nil, err
	}
	sess.Attach(tr)
	job := &fileJob{s: s, sess: sess, sub: sub, index: map[string]int{}, rate: tr.Rate(),
		duration: audio.Seconds(), language: req.Language}
	if err := job.feed(tr, audio, req.Split); err != nil {
		sess.Cancel(err)
		job.end()
		return nil, err
	}
	return job, nil
}

// feed resamples the audio to the recognizer's rate, splits it into
// utterances and queues each as one item, then closes the task.
func (j *fileJob) feed(tr *pipeline.Transcription, audio pipeline.Audio, split *dsp.VADOptions) error {
	defer tr.Close()
	pcm, err := dsp.Resample(audio.Samples, audio.Rate, tr.Rate())
	if err != nil {
		return pipeline.Invalid("file", "The audio's sample rate cannot be used: %v.", err)
	}
	opts := &audioapi.SplitOptions{}
	if split != nil {
		opts.VAD = *split
	}
	j.utts, err = audioapi.SplitUtterances(pipeline.Audio{Rate: tr.Rate(), Samples: pcm}, opts)
	if err != nil {
		return err
	}
	for i, u := range j.utts {
		id := fmt.Sprintf("utt_%d", i)
		j.index[id] = i
		tr.Item(id)
		if err := tr.Push(u.Audio); err != nil {
			return err
		}
		tr.Commit()
	}
	return nil
}

// end releases the subscription and forgets the session; an unfinished
// task is cancelled by the subscriber leaving.
func (j *fileJob) end() {
	j.sub.Close()
	j.s.EndSession(j.sess, nil)
}

// wait collects the utterances' transcripts into one.
func (j *fileJob) wait(ctx context.Context) (pipeline.Transcript, error) {
	done := make([]pipeline.Transcript, len(j.utts))
	for {
		e, err := j.sub.Next(ctx)
		if errors.Is(err, io.EOF) {
			return j.merge(done), nil
		}
		if err != nil {
			return pipeline.Transcript{}, err
		}
		if err := pipeline.ErrorOf(e.Event); err != nil {
			return pipeline.Transcript{}, err
		}
		if d, ok := e.Event.(pipeline.TranscriptDone); ok {
			if i, ok := j.index[d.ItemID]; ok {
				done[i] = d.Transcript
			}
		}
	}
}

func (j *fileJob) merge(done []pipeline.Transcript) pipeline.Transcript {
	t := audioapi.Merge(j.utts, done, j.rate, j.duration)
	if t.Language == "" {
		t.Language = j.language
	}
	return t
}

// streamTranscription answers stream=true: a transcript.text.delta event
// per stable extension of the text (utterances joined by spaces), then
// transcript.text.done with the whole text and the tokens the engine
// counted (none for engines that count no tokens: see
// openai.NewTranscriptTextDone). A failure after the stream
// started is sent as an error event ({"error": {...}}).
func (s *Server) streamTranscription(w http.ResponseWriter, r *http.Request, j *fileJob) {
	sw, err := sse.New(r.Context(), w, s.SSEOptions())
	if err != nil {
		WriteError(w, r, err)
		return
	}
	defer sw.Close()
	done := make([]pipeline.Transcript, len(j.utts))
	deltas := make([]audioapi.Deltas, len(j.utts))
	var usage pipeline.Usage
	sent := false
	for {
		e, err := j.sub.Next(r.Context())
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil {
			err = pipeline.ErrorOf(e.Event)
		}
		if err != nil {
			sendJSON(sw, openai.NewErrorResponse(err))
			return
		}
		var d string
		switch ev := e.Event.(type) {
		case pipeline.TranscriptDelta:
			i, ok := j.index[ev.ItemID]
			if !ok {
				continue
			}
			deltas[i].Space = sent && deltas[i].Sent() == ""
			d = deltas[i].Hypothesis(ev.Text)
		case pipeline.TranscriptDone:
			i, ok := j.index[ev.ItemID]
			if !ok {
				continue
			}
			done[i] = ev.Transcript
			usage = addUsage(usage, ev.Usage)
			deltas[i].Space = sent && deltas[i].Sent() == ""
			d = deltas[i].Final(ev.Text)
		}
		if d != "" {
			sent = true
			if !sendJSON(sw, openai.NewTranscriptTextDelta(d)) {
				return
			}
		}
	}
	t := j.merge(done)
	sendJSON(sw, openai.NewTranscriptTextDone(t.Text, usage))
}

// addUsage sums what the utterances of one file consumed.
func addUsage(a, b pipeline.Usage) pipeline.Usage {
	a.PromptTokens += b.PromptTokens
	a.CompletionTokens += b.CompletionTokens
	a.InputAudioSeconds += b.InputAudioSeconds
	return a
}

// seedTranscription is the seed's JSON answer, with OpenAI's usage added.
type seedTranscription struct {
	Text     string                `json:"text"`
	Language string                `json:"language"`
	Duration float64               `json:"duration"`
	Usage    *openai.DurationUsage `json:"usage,omitempty"`
}

// writeTranscription answers in the requested response_format.
func writeTranscription(w http.ResponseWriter, req *audioapi.TranscriptionRequest, t pipeline.Transcript) {
	switch req.ResponseFormat {
	case audioapi.FormatText:
		writeText(w, "text/plain; charset=utf-8", t.Text+"\n")
	case audioapi.FormatSRT:
		writeText(w, "text/plain; charset=utf-8", openai.FormatSRT(t))
	case audioapi.FormatVTT:
		writeText(w, "text/vtt; charset=utf-8", openai.FormatVTT(t))
	case audioapi.FormatVerboseJSON:
		v := openai.NewVerboseTranscription(t)
		if !req.Words {
			v.Words = nil
		}
		if !req.Segments {
			v.Segments = nil
		}
		WriteJSON(w, http.StatusOK, v)
	default:
		if req.Seed {
			lang := t.Language
			if lang == "" {
				lang = "en"
			}
			WriteJSON(w, http.StatusOK, seedTranscription{Text: t.Text, Language: lang, Duration: t.Duration,
				Usage: &openai.DurationUsage{Type: "duration", Seconds: t.Duration}})
			return
		}
		WriteJSON(w, http.StatusOK, openai.NewTranscription(t))
	}
}

func writeText(w http.ResponseWriter, contentType, body string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, body)
}
