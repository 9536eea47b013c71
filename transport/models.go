package transport

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/transport/openai"
)

// endpointsOf lists the endpoints that use each slot's model, as the seed
// reports them in GET /v1/models.
var endpointsOf = map[pipeline.Category][]string{
	pipeline.LLMSlot:   {"/v1/chat/completions"},
	pipeline.ASRSlot:   {"/v1/audio/transcriptions"},
	pipeline.TTSSlot:   {"/v1/audio/speech"},
	pipeline.ImageSlot: {"/v1/images/generations"},
}

// modelEntry is one model of GET /v1/models: OpenAI's Model object plus the
// seed's "type" (the slot) and "endpoints" members.
type modelEntry struct {
	ID        string   `json:"id"`
	Object    string   `json:"object"`
	Created   int64    `json:"created"`
	OwnedBy   string   `json:"owned_by"`
	Type      string   `json:"type"`
	Endpoints []string `json:"endpoints"`
}

type modelList struct {
	Object string       `json:"object"`
	Data   []modelEntry `json:"data"`
}

// modelsStatus is the seed's GET /v1/models/status body; a slot without a
// model is null.
type modelsStatus struct {
	Status string             `json:"status"`
	Models map[string]*string `json:"models"`
}

type loadRequest struct {
	Model     string `json:"model"`
	ModelID   string `json:"model_id"`
	ModelType string `json:"model_type"`
}

type loadResponse struct {
	Status    string `json:"status"`
	Model     string `json:"model"`
	ModelType string `json:"model_type"`
}

type unloadRequest struct {
	ModelType string `json:"model_type"`
}

type unloadResponse struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

func (s *Server) mountModels(r chi.Router) {
	r.Get("/v1/models", s.listModels)
	r.Get("/v1/models/status", s.modelsStatus)
	small := BodyLimit(maxSmallBody)
	r.With(small).Post("/v1/models/load", s.loadModel)
	r.With(small).Post("/v1/models/unload", s.unloadModel)
}

// listModels answers GET /v1/models with every model serving now.
func (s *Server) listModels(w http.ResponseWriter, r *http.Request) {
	infos := s.slots.Loaded()
	out := modelList{Object: openai.ObjectList, Data: make([]modelEntry, 0, len(infos))}
	for _, info := range infos {
		owner := info.OwnedBy
		if owner == "" {
			owner = "local"
		}
		out.Data = append(out.Data, modelEntry{
			ID: info.ID, Object: openai.ObjectModel, Created: info.Created, OwnedBy: owner,
			Type: string(info.Category), Endpoints: endpointsOf[info.Category],
		})
	}
	WriteJSON(w, http.StatusOK, out)
}

// modelsStatus answers GET /v1/models/status: the model of each slot, by
// the id clients see in responses, or null.
func (s *Server) modelsStatus(w http.ResponseWriter, r *http.Request) {
	models := make(map[string]*string, len(pipeline.Categories))
	for _, c := range pipeline.Categories {
		models[string(c)] = nil
	}
	for _, info := range s.slots.Loaded() {
		id := info.ID
		models[string(info.Category)] = &id
	}
	WriteJSON(w, http.StatusOK, modelsStatus{Status: "success", Models: models})
}

// loadModel answers POST /v1/models/load: {"model" (or "model_id"),
// "model_type" (default "llm")}. The name passes the model path policy
// (ResolveModelName), then the slot loads it within Options.LoadTimeout
// (504 past it, even when the loader hangs; see load); a failed load
// leaves the previous model serving. A second load of a slot while one is
// running is refused with 429. If the client goes away, the load is
// cancelled.
func (s *Server) loadModel(w http.ResponseWriter, r *http.Request) {
	var req loadRequest
	if err := decodeJSONBody(r, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	cat, err := parseModelType(req.ModelType, false)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	name := req.Model
	if name == "" {
		name = req.ModelID
	}
	if name == "" {
		WriteError(w, r, &pipeline.Error{Kind: pipeline.KindInvalid, Param: "model", Code: "missing_required_parameter",
			Message: "Missing required parameter: 'model' (or 'model_id')."})
		return
	}
	resolved, err := ResolveModelName(name, s.opts.ModelRoots)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	info, err := s.load(r.Context(), pipeline.ModelRef{Category: cat, Name: resolved})
	if err != nil {
		WriteError(w, r, err)
		return
	}
	WriteJSON(w, http.StatusOK, loadResponse{Status: "success", Model: info.ID, ModelType: string(cat)})
}

// loadStopGrace is how long load waits, once its deadline passed or its
// client went away, for the loader to notice the cancellation.
const loadStopGrace = time.Second

// loadResult is what a slot load returned.
type loadResult struct {
	info pipeline.ModelInfo
	err  error
}

// load runs one slot load within Options.LoadTimeout, refusing a
// concurrent load of the same slot with 429 load_in_progress.
//
// The slot load runs in its own goroutine, so load returns even when a
// loader ignores its context and never returns (a read that blocks for
// good): once the deadline passes or ctx ends, the loader is cancelled and
// given loadStopGrace to stop; if it has not, load answers 504
// load_timeout (or the client's cancellation) without it. The slot stays
// marked as loading until that goroutine ends: pipeline.Slots holds the
// slot's load lock for as long as its loader runs, so a new load could
// only queue behind it, and refusing with 429 keeps such loads from piling
// up. A model whose loader finishes after being abandoned is closed by
// the slot, not installed (see pipeline.Slots.Load): the previous model
// keeps serving.
func (s *Server) load(ctx context.Context, ref pipeline.ModelRef) (pipeline.ModelInfo, error) {
	if err := s.beginLoad(ref.Category); err != nil {
		return pipeline.ModelInfo{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.LoadTimeout)
	defer cancel()
	done := make(chan loadResult, 1) // never blocks the loader goroutine
	go func() {
		res := s.runLoad(ctx, ref)
		s.endLoad(ref.Category) // before the answer, so a client's next load finds the slot free
		done <- res
	}()
	var res loadResult
	select {
	case res = <-done:
	case <-ctx.Done():
		grace := time.NewTimer(loadStopGrace)
		defer grace.Stop()
		select {
		case res = <-done:
		case <-grace.C:
			return pipeline.ModelInfo{}, abandonedLoadError(ref, ctx.Err())
		}
	}
	if res.err != nil {
		return res.info, loadError(ref, res.err)
	}
	return res.info, nil
}

// beginLoad marks c as loading, or refuses when it already is.
func (s *Server) beginLoad(c pipeline.Category) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loading[c] {
		return &pipeline.Error{Kind: pipeline.KindOverloaded, Code: "load_in_progress",
			RetryAfter: 5 * time.Second, Message: fmt.Sprintf("A %s model is already being loaded; retry when it is done.", c)}
	}
	s.loading[c] = true
	return nil
}

func (s *Server) endLoad(c pipeline.Category) {
	s.mu.Lock()
	delete(s.loading, c)
	s.mu.Unlock()
}

// runLoad loads ref into its slot, turning a loader's panic into an error:
// it runs outside the handler, beyond the reach of the Recover middleware.
func (s *Server) runLoad(ctx context.Context, ref pipeline.ModelRef) (res loadResult) {
	defer func() {
		if v := recover(); v != nil {
			res = loadResult{err: fmt.Errorf("load %s: panic: %v\n%s", ref.Name, v, debug.Stack())}
		}
	}()
	info, err := s.slots.Load(ctx, ref)
	return loadResult{info: info, err: err}
}

// abandonedLoadError answers a load whose loader did not stop when its
// context ended (cause is ctx.Err()).
func abandonedLoadError(ref pipeline.ModelRef, cause error) error {
	e := pipeline.AsError(loadError(ref, cause))
	if e.Kind == pipeline.KindTimeout {
		e.Message = fmt.Sprintf("Loading %s model %s did not finish in time, and its loader has not stopped yet; "+
			"new %s loads are refused until it does.", ref.Category, ref.Name, ref.Category)
	}
	return e
}

// loadError makes a failed load's error say what failed. Errors the
// loaders classified keep their kind and gain the model name; anything
// else is internal (the cause is logged, not sent).
func loadError(ref pipeline.ModelRef, err error) error {
	e := pipeline.AsError(err)
	if e.Kind == pipeline.KindInternal || e.Message == "" {
		return &pipeline.Error{Kind: pipeline.KindInternal, Message: fmt.Sprintf("Loading %s model %s failed.", ref.Category, ref.Name), Err: err}
	}
	if e.Kind == pipeline.KindTimeout {
		return &pipeline.Error{Kind: pipeline.KindTimeout, Code: "load_timeout", Err: err,
			Message: fmt.Sprintf("Loading %s model %s did not finish in time.", ref.Category, ref.Name)}
	}
	out := *e
	if !strings.Contains(out.Message, ref.Name) {
		out.Message = fmt.Sprintf("Loading %s model %s failed: %s", ref.Category, ref.Name, out.Message)
	}
	if out.Param == "" {
		out.Param = "model"
	}
	return &out
}

// unloadModel answers POST /v1/models/unload: {"model_type": llm, asr,
// tts, image or "all"}. Work in progress keeps its model until it ends.
func (s *Server) unloadModel(w http.ResponseWriter, r *http.Request) {
	var req unloadRequest
	if err := decodeJSONBody(r, &req); err != nil {
		WriteError(w, r, err)
		return
	}
	if req.ModelType == "" {
		WriteError(w, r, &pipeline.Error{Kind: pipeline.KindInvalid, Param: "model_type", Code: "missing_required_parameter",
			Message: "Missing required parameter: 'model_type' (llm, asr, tts, image or all)."})
		return
	}
	cat, err := parseModelType(req.ModelType, true)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	done, err := s.slots.Unload(cat)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	msg := fmt.Sprintf("No %s model was loaded.", req.ModelType)
	if cat == "all" {
		msg = "No model was loaded."
	}
	if len(done) > 0 {
		names := make([]string, len(done))
		for i, c := range done {
			names[i] = string(c)
		}
		msg = "Unloaded the " + strings.Join(names, ", ") + " model"
		if len(done) > 1 {
			msg += "s"
		}
		msg += "."
	}
	WriteJSON(w, http.StatusOK, unloadResponse{Status: "success", Message: msg})
}

// parseModelType checks model_type with the seed's message; empty means
// "llm" for loads. allowAll accepts "all" (unload).
func parseModelType(t string, allowAll bool) (pipeline.Category, error) {
	if t == "" && !allowAll {
		return pipeline.LLMSlot, nil
	}
	if allowAll && t == "all" {
		return "all", nil
	}
	for _, c := range pipeline.Categories {
		if string(c) == t {
			return c, nil
		}
	}
	use := "llm, asr, tts, or image"
	if allowAll {
		use = "llm, asr, tts, image, or all"
	}
	return "", &pipeline.Error{Kind: pipeline.KindInvalid, Param: "model_type", Code: "invalid_value",
		Message: fmt.Sprintf("Unknown model_type: %s. Use: %s", clip(t, 64), use)}
}

// decodeJSONBody reads r's body (bounded by the route's BodyLimit) and
// decodes it into v, refusing unknown shapes with a 400 that names the
// problem.
func decodeJSONBody(r *http.Request, v any) error {
	body, err := ReadBody(r)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return &pipeline.Error{Kind: pipeline.KindInvalid, Code: "invalid_json",
			Message: "The request body is empty: send a JSON object."}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &pipeline.Error{Kind: pipeline.KindInvalid, Code: "invalid_json",
			Message: fmt.Sprintf("The request body is not valid JSON for this endpoint: %s.", clip(err.Error(), 200))}
	}
	return nil
}

// clip shortens s for messages that echo client input.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && cut < len(s) && s[cut]&0xc0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
