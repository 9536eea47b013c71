package transport

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/coder/websocket"
	"github.com/go-chi/chi/v5"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/sessions"
	"github.com/ominix/ominix-api/transport/openai"
)

// The native sessions API.
//
// POST /v1/sessions starts a session. Body:
//
//	{"type": "chat", "request": {…a chat completion request…}}
//
// "type" picks a registered SessionType ("chat" here; the audio routes add
// "transcription" and "speech"); "request" is that type's request (for
// "chat", the body of POST /v1/chat/completions, whose stream members are
// ignored). The answer (200) is the session object:
//
//	{"id": "sess_…", "object": "session", "type": "chat", "created": 1767225600,
//	 "status": "running", "events_url": "/v1/sessions/sess_…/events",
//	 "ws_url": "/v1/sessions/sess_…/ws"}
//
// The URLs are paths on this server. A session lives until DELETE, until it
// has been idle (no subscriber, no event) for the registry's idle timeout,
// or, once finished, for the registry's retention time; closing a
// subscription does not cancel it.
//
// GET /v1/sessions/{id} returns the session object with "status"
// ("running" or "finished") and "last_event_id" (the newest event's
// sequence number). DELETE /v1/sessions/{id} cancels its work and forgets
// it: {"id", "object": "session.deleted", "deleted": true}.
//
// GET /v1/sessions/{id}/events streams the events as SSE (see native.go
// for their JSON): "id:" is the event's sequence number, "event:" its type,
// "data:" its JSON. The stream starts after the sequence number given by
// the Last-Event-ID header or, without it, the "after" query parameter (0,
// the default, replays from the first event kept), and ends after the
// session's final event ("done" or "error"). A resume point older than the
// bounded replay log is answered 404 (code "replay_unavailable"), one
// beyond the newest event 400.
//
// GET /v1/sessions/{id}/ws sends the same JSON objects, one per text
// message, from the "after" query parameter on, and closes with status 1000
// after the final event. The client may send {"type": "cancel"} to cancel
// the session's work; other messages go to the session type's Input
// function, or are answered with an "error" message.

// SessionType is one kind of native session.
type SessionType struct {
	// Start starts the session's work: it decodes request (the "request"
	// member of POST /v1/sessions, possibly nil), submits work with
	// sess.Context() as context and sess as sink, calls sess.Started() and
	// returns nil. When it returns an error (a *pipeline.Error is shown to
	// the client) nothing may have been started; the session is then ended
	// with that error and the client gets it with its status. r is the
	// creating request; the work must not depend on its context.
	Start func(r *http.Request, sess *sessions.Session, request json.RawMessage) error
	// Input handles a client message on the session's WebSocket other
	// than {"type":"cancel"} (for example audio for a transcription, via
	// sess.Attached()). Nil answers such messages with an error message.
	// An error it returns is sent to the client as an "error" message; the
	// connection stays open.
	Input func(ctx context.Context, sess *sessions.Session, typ websocket.MessageType, data []byte) error
	// MaxMessageBytes bounds one client WebSocket message. Zero means
	// 64 KiB.
	MaxMessageBytes int64
}

// HandleSessionType registers (or replaces) the native session type name;
// sessions of it have sessions.Kind(name). Call it while mounting routes,
// before the server serves requests.
func (s *Server) HandleSessionType(name string, t SessionType) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sessionTypes[name] = t
}

func (s *Server) sessionType(name string) (SessionType, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.sessionTypes[name]
	return t, ok
}

func (s *Server) sessionTypeNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.sessionTypes))
	for n := range s.sessionTypes {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

type createSessionRequest struct {
	Type    string          `json:"type"`
	Request json.RawMessage `json:"request"`
}

// sessionObject is the native API's session object.
type sessionObject struct {
	ID          string  `json:"id"`
	Object      string  `json:"object"`
	Type        string  `json:"type"`
	Created     int64   `json:"created"`
	Status      string  `json:"status"`
	LastEventID *uint64 `json:"last_event_id,omitempty"`
	EventsURL   string  `json:"events_url"`
	WSURL       string  `json:"ws_url"`
}

type deletedObject struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Deleted bool   `json:"deleted"`
}

func (s *Server) mountSessions(r chi.Router) {
	r.With(BodyLimit(s.opts.MaxBodyBytes)).Post("/v1/sessions", s.createSession)
	r.Get("/v1/sessions/{id}", s.getSession)
	r.Delete("/v1/sessions/{id}", s.deleteSession)
	r.Get("/v1/sessions/{id}/events", s.sessionEvents)
	r.Get("/v1/sessions/{id}/ws", s.sessionWS)
}

func newSessionObject(sess *sessions.Session) sessionObject {
	status := "running"
	if sess.Finished() {
		status = "finished"
	}
	base := "/v1/sessions/" + sess.ID
	return sessionObject{
		ID: sess.ID, Object: "session", Type: string(sess.Kind), Created: sess.Created.Unix(), Status: status,
		EventsURL: base + "/events", WSURL: base + "/ws",
	}
}

// createSession answers POST /v1/sessions.
func (s *Server) createSession(w http.ResponseWriter, r *http.Request) {
	var req createSessionRequest
	if err := decodeJSONBody(r, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	t, ok := s.sessionType(req.Type)
	if !ok {
		WriteError(w, r, &pipeline.Error{Kind: pipeline.KindInvalid, Param: "type", Code: "invalid_value",
			Message: fmt.Sprintf("Unknown session type %q; use one of: %s.", clip(req.Type, 64), strings.Join(s.sessionTypeNames(), ", "))})
		return
	}
	sess, err := s.deps.Sessions.Create(s.base, sessions.Kind(req.Type), false)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	if err := t.Start(r, sess, req.Request); err != nil {
		s.EndSession(sess, err)
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, newSessionObject(sess))
}

// startChatSession starts a "chat" session from a chat completion request.
func (s *Server) startChatSession(r *http.Request, sess *sessions.Session, request json.RawMessage) error {
	if len(request) == 0 || string(request) == "null" {
		return &pipeline.Error{Kind: pipeline.KindInvalid, Param: "request", Code: "missing_required_parameter",
			Message: "Missing required parameter: 'request' (a chat completion request)."}
	}
	params, err := openai.DecodeChatRequest(request, &s.opts.Decode)
	if err != nil {
		return underRequest(err)
	}
	if _, err := s.deps.Scheduler.Chat(sess.Context(), &params.Request, sess); err != nil {
		return err
	}
	sess.Started()
	return nil
}

// underRequest prefixes the Param of a request decoding error with
// "request.", the member it came from.
func underRequest(err error) error {
	e := pipeline.AsError(err)
	out := *e
	if out.Param == "" {
		out.Param = "request"
	} else {
		out.Param = "request." + out.Param
	}
	return &out
}

// lookup finds the {id} session or answers 404.
func (s *Server) lookup(w http.ResponseWriter, r *http.Request) (*sessions.Session, bool) {
	id := chi.URLParam(r, "id")
	sess, ok := s.deps.Sessions.Get(id)
	if !ok {
		WriteError(w, r, &pipeline.Error{Kind: pipeline.KindNotFound, Param: "id", Code: "session_not_found",
			Message: fmt.Sprintf("No session with id %q.", clip(id, 64))})
		return nil, false
	}
	return sess, true
}

func (s *Server) getSession(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.lookup(w, r)
	if !ok {
		return
	}
	obj := newSessionObject(sess)
	last := sess.LastSeq()
	obj.LastEventID = &last
	WriteJSON(w, http.StatusOK, obj)
}

func (s *Server) deleteSession(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.lookup(w, r)
	if !ok {
		return
	}
	s.deps.Sessions.Delete(sess.ID)
	WriteJSON(w, http.StatusOK, deletedObject{ID: sess.ID, Object: "session.deleted", Deleted: true})
}

func (s *Server) sessionEvents(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.lookup(w, r)
	if !ok {
		return
	}
	after, err := resumePoint(r, sess, true)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	s.ServeSessionEvents(w, r, sess, after)
}

func (s *Server) sessionWS(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.lookup(w, r)
	if !ok {
		return
	}
	after, err := resumePoint(r, sess, false)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	s.ServeSessionWS(w, r, sess, after)
}

// resumePoint reads where a subscription starts: the Last-Event-ID header
// (SSE only; it wins, as browsers send it on reconnect) or the "after"
// query parameter; absent means 0. It must be a decimal sequence number no
// greater than the session's newest.
func resumePoint(r *http.Request, sess *sessions.Session, header bool) (uint64, error) {
	raw, param := r.URL.Query().Get("after"), "after"
	if v := r.Header.Get("Last-Event-ID"); header && v != "" {
		raw, param = v, "Last-Event-ID"
	}
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(raw, 10, 64)
	if err != nil || len(raw) > 20 || strings.HasPrefix(raw, "+") {
		return 0, &pipeline.Error{Kind: pipeline.KindInvalid, Param: param, Code: "invalid_value",
			Message: fmt.Sprintf("%s must be an event sequence number (a non-negative integer), got %q.", param, clip(raw, 32))}
	}
	if last := sess.LastSeq(); n > last {
		return 0, &pipeline.Error{Kind: pipeline.KindInvalid, Param: param, Code: "invalid_value",
			Message: fmt.Sprintf("%s %d is beyond the session's newest event %d.", param, n, last)}
	}
	return n, nil
}
