package realtime

import (
	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/sessions"
)

// errNoResponder answers responses on a server configured without one.
var errNoResponder = &pipeline.Error{Kind: pipeline.KindUnavailable, Code: "service_unavailable",
	Message: "This server runs no language model or speech synthesis for conversations."}

// respTasks are the tasks of one response: the LLM generation and, for
// audio output, the synthesis its text feeds.
type respTasks struct {
	chat, speech *respTask
	syn          *pipeline.Synthesis
}

// respTask is one task of a response on its own request-scoped session,
// so the work is counted, observable, and cancelled when the subscriber
// closes. Its fields are the loop's, except sub, which its pump reads.
type respTask struct {
	taskSession
	respID  string
	src     Source
	stopped bool // the response ended: later events are dropped
}

func (d *driver) actResponse(a Action) (Output, bool) {
	switch a := a.(type) {
	case StartResponse:
		if err := d.startResponse(a); err != nil {
			d.cfg.Logger.Info("realtime: response could not start", "response", a.ResponseID, "err", err)
			return d.m.ResponseFailed(a.ResponseID, err), true
		}
	case SpeakText:
		if rt := d.resps[a.ResponseID]; rt != nil && rt.syn != nil {
			if err := rt.syn.Push(a.Text); err != nil {
				return d.m.ResponseFailed(a.ResponseID, err), true
			}
		}
	case EndSpeech:
		if rt := d.resps[a.ResponseID]; rt != nil && rt.syn != nil {
			rt.syn.Close()
		}
	case StopResponse:
		d.stopResponse(a.ResponseID)
	}
	return Output{}, false
}

// startResponse starts the synthesis (audio output) and then the LLM. On
// failure the tasks already started stay registered, so the StopResponse
// of the Machine's answer ends them.
func (d *driver) startResponse(a StartResponse) error {
	if d.cfg.Responder == nil {
		return errNoResponder
	}
	rt := &respTasks{}
	d.resps[a.ResponseID] = rt
	req := a.Chat
	if err := d.fit(&req); err != nil {
		return err
	}
	if a.Audio {
		t, err := d.newRespTask(a.ResponseID, SourceSpeech, sessions.KindSpeech)
		if err != nil {
			return err
		}
		syn, err := d.cfg.Responder.Speak(t.sess.Context(), a.Speech, t.sess)
		if err != nil {
			d.endRespTask(t)
			return err
		}
		t.sess.Attach(syn)
		rt.speech, rt.syn = t, syn
		d.runRespTask(t)
	}
	t, err := d.newRespTask(a.ResponseID, SourceChat, sessions.KindChat)
	if err != nil {
		return err
	}
	start, err := d.cfg.Responder.Chat(t.sess.Context(), &req, t.sess)
	if err != nil {
		d.endRespTask(t)
		return err
	}
	d.m.ChatStarted(a.ResponseID, start.PromptTokens)
	rt.chat = t
	d.runRespTask(t)
	return nil
}

func (d *driver) newRespTask(id string, src Source, kind sessions.Kind) (*respTask, error) {
	ts, err := d.openSession(kind)
	if err != nil {
		return nil, err
	}
	return &respTask{taskSession: ts, respID: id, src: src}, nil
}

func (d *driver) runRespTask(t *respTask) {
	t.sess.Started()
	d.wg.Add(1)
	go d.pump(t.sub, taskEvent{rt: t})
}

// endRespTask forgets a task: closing its (only) subscriber cancels the
// work of its request-scoped session if it still runs.
func (d *driver) endRespTask(t *respTask) { t.close(d.cfg.Sessions) }

func (d *driver) responseEvent(t *respTask, ev pipeline.Event) error {
	if t.stopped {
		return nil
	}
	if pipeline.Terminal(ev) {
		d.endRespTask(t)
	}
	return d.apply(d.m.ResponseEvent(t.respID, t.src, ev), "")
}

// stopResponse ends a response's tasks; work still running is cancelled
// at its next step.
func (d *driver) stopResponse(id string) {
	rt := d.resps[id]
	if rt == nil {
		return
	}
	delete(d.resps, id)
	for _, t := range []*respTask{rt.chat, rt.speech} {
		if t != nil {
			t.stopped = true
			d.endRespTask(t)
		}
	}
}

func (d *driver) stopResponses() {
	for id := range d.resps {
		d.stopResponse(id)
	}
}

// fit trims req's history so the prompt leaves room for the answer: the
// oldest messages after the leading system messages go first, until
// prompt + min(MaxTokens, a quarter of the context) tokens fit the
// context (a binary search over how many to drop, measuring each
// candidate with the LLM's Prepare). The newest message always stays;
// when it alone does not fit, Chat reports context_length_exceeded.
func (d *driver) fit(req *pipeline.ChatRequest) error {
	slots := d.cfg.Responder.Slots()
	if slots == nil {
		return nil
	}
	lease, err := slots.Acquire(pipeline.LLMSlot)
	if err != nil {
		return err
	}
	defer lease.Release()
	llm, ok := lease.Model().(pipeline.LLM)
	if !ok || llm.Info().ContextLength <= 0 {
		return nil
	}
	sys := 0
	for sys < len(req.Messages) && req.Messages[sys].Role == roleSystem {
		sys++
	}
	f := fitter{llm: llm, req: req, head: req.Messages[:sys], body: req.Messages[sys:]}
	if ok, err := f.fits(0); ok || err != nil || len(f.body) < 2 {
		return err
	}
	lo, hi := 1, len(f.body)-1
	for lo < hi {
		mid := (lo + hi) / 2
		ok, err := f.fits(mid)
		if err != nil {
			return err
		}
		if ok {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	// A tool result without the call it answers confuses chat templates.
	for lo < len(f.body)-1 && f.body[lo].Role == "tool" {
		lo++
	}
	req.Messages = f.with(lo)
	return nil
}

// fitter measures a request with some of its oldest messages left out.
type fitter struct {
	llm        pipeline.LLM
	req        *pipeline.ChatRequest
	head, body []pipeline.Message
}

func (f *fitter) with(drop int) []pipeline.Message {
	return append(append([]pipeline.Message(nil), f.head...), f.body[drop:]...)
}

// fits reports whether the request without its drop oldest messages
// leaves room for the answer.
func (f *fitter) fits(drop int) (bool, error) {
	ctxLen := f.llm.Info().ContextLength
	reserve := ctxLen / 4
	if f.req.MaxTokens > 0 && f.req.MaxTokens < reserve {
		reserve = f.req.MaxTokens
	}
	r := *f.req
	r.Messages = f.with(drop)
	seq, err := f.llm.Prepare(&r)
	if err != nil {
		if e := pipeline.AsError(err); e.Kind == pipeline.KindInvalid && e.Code == "context_length_exceeded" {
			return false, nil
		}
		return false, err
	}
	n := seq.PromptTokens()
	seq.Release() // never stepped: no thread state to free
	return n+reserve <= ctxLen, nil
}
