package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// SlotState is the state of one model slot.
type SlotState string

// Slot states.
const (
	SlotEmpty   SlotState = "empty"
	SlotLoading SlotState = "loading"
	SlotReady   SlotState = "ready"
)

// SlotStatus describes one slot for status endpoints.
type SlotStatus struct {
	Category Category
	State    SlotState
	Model    string    // the model serving now ("" when empty)
	Loading  string    // the model being loaded, if any
	LoadedAt time.Time // when Model finished loading
	LastErr  string    // why the last load failed, if it did
}

// Lease keeps a model alive while work uses it. Release it when the work is
// done; a model that was switched out is closed after its last lease ends.
type Lease struct {
	m        *loadedModel
	released bool
}

// Model returns the leased model.
func (l *Lease) Model() Model { return l.m.model }

// Release ends the lease; it may be called more than once.
func (l *Lease) Release() {
	if l == nil || l.released {
		return
	}
	l.released = true
	l.m.release()
}

type loadedModel struct {
	model   Model
	name    string
	slots   *Slots
	mu      sync.Mutex
	refs    int  // leases plus one for the slot while it serves
	retired bool // no longer in its slot
}

func (m *loadedModel) release() {
	m.mu.Lock()
	m.refs--
	closeNow := m.refs == 0
	m.mu.Unlock()
	if closeNow {
		m.slots.closeModel(m)
	}
}

// SlotsOptions configure Slots.
type SlotsOptions struct {
	// Metrics receives model load/unload notices. Nil means none.
	Metrics Metrics
	// OnError is called with errors of closing retired models, which have
	// no caller to return to. Nil means they are dropped.
	OnError func(error)
}

// Slots holds at most one model per category. Loading reads weights off the
// pinned thread, activates the model on it, then swaps it in; a failed load
// leaves the previous model serving. Slots is safe for concurrent use.
type Slots struct {
	thread  *Thread
	loaders map[Category]Loader
	opts    SlotsOptions

	mu      sync.Mutex
	cur     map[Category]*loadedModel
	loading map[Category]string
	loadMu  map[Category]chan struct{} // serializes loads of one slot (a one-token semaphore, so waiting respects ctx)
	lastErr map[Category]string
	at      map[Category]time.Time
	closers sync.WaitGroup
}

// NewSlots returns empty slots whose models are loaded by loaders (one per
// category; a category without a loader cannot be loaded).
func NewSlots(thread *Thread, loaders map[Category]Loader, opts *SlotsOptions) *Slots {
	s := &Slots{
		thread:  thread,
		loaders: loaders,
		cur:     map[Category]*loadedModel{},
		loading: map[Category]string{},
		loadMu:  map[Category]chan struct{}{},
		lastErr: map[Category]string{},
		at:      map[Category]time.Time{},
	}
	if opts != nil {
		s.opts = *opts
	}
	if s.opts.Metrics == nil {
		s.opts.Metrics = NopMetrics{}
	}
	for _, c := range Categories {
		s.loadMu[c] = make(chan struct{}, 1)
	}
	return s
}

func validCategory(c Category) error {
	for _, k := range Categories {
		if k == c {
			return nil
		}
	}
	return Invalid("model_type", "unknown model_type %q: use llm, asr, tts or image", c)
}

// Load loads ref into its slot and returns the loaded model's info. Loads
// of one slot are serialized; the previous model keeps serving until the
// new one is ready, and keeps serving if the load fails. A load whose ctx
// ends while it waits for another load of the slot returns at once; a
// model whose loader returns after ctx ended (a loader that ignores
// cancellation) is closed, not installed.
func (s *Slots) Load(ctx context.Context, ref ModelRef) (ModelInfo, error) {
	if err := validCategory(ref.Category); err != nil {
		return ModelInfo{}, err
	}
	loader := s.loaders[ref.Category]
	if loader == nil {
		return ModelInfo{}, &Error{Kind: KindInvalid, Param: "model_type",
			Message: fmt.Sprintf("this server has no engine for %s models", ref.Category)}
	}
	lm := s.loadMu[ref.Category]
	select {
	case lm <- struct{}{}:
	case <-ctx.Done():
		return ModelInfo{}, fmt.Errorf("waiting for another %s load: %w", ref.Category, context.Cause(ctx))
	}
	defer func() { <-lm }()

	s.mu.Lock()
	s.loading[ref.Category] = ref.Name
	s.mu.Unlock()
	m, err := s.open(ctx, loader, ref)
	s.mu.Lock()
	delete(s.loading, ref.Category)
	if err != nil {
		s.lastErr[ref.Category] = err.Error()
		s.mu.Unlock()
		return ModelInfo{}, err
	}
	delete(s.lastErr, ref.Category)
	old := s.cur[ref.Category]
	s.cur[ref.Category] = &loadedModel{model: m, name: ref.Name, slots: s, refs: 1}
	s.at[ref.Category] = time.Now()
	s.mu.Unlock()

	if old != nil {
		s.opts.Metrics.ModelLoaded(ref.Category, old.name, false)
		old.retire()
	}
	s.opts.Metrics.ModelLoaded(ref.Category, ref.Name, true)
	return m.Info(), nil
}

// open loads off the thread and activates on it; a failed activation closes
// the half-made model.
func (s *Slots) open(ctx context.Context, loader Loader, ref ModelRef) (Model, error) {
	m, err := loader.Load(ctx, ref)
	if err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		// The caller gave up while the loader ran: the model arrives too
		// late to be installed behind the caller's back.
		_ = s.thread.Do(context.Background(), m.Close)
		return nil, fmt.Errorf("load %s abandoned: %w", ref.Name, context.Cause(ctx))
	}
	if a, ok := m.(Activator); ok {
		if err := s.thread.Do(ctx, a.Activate); err != nil {
			_ = s.thread.Do(context.Background(), m.Close)
			return nil, fmt.Errorf("activate %s: %w", ref.Name, err)
		}
	}
	return m, nil
}

func (m *loadedModel) retire() {
	m.mu.Lock()
	m.retired = true
	m.mu.Unlock()
	m.release() // the slot's own reference
}

func (s *Slots) closeModel(m *loadedModel) {
	s.closers.Add(1)
	go func() {
		defer s.closers.Done()
		err := s.thread.Do(context.Background(), m.model.Close)
		if err != nil && !errors.Is(err, ErrThreadStopped) && s.opts.OnError != nil {
			s.opts.OnError(fmt.Errorf("close %s: %w", m.name, err))
		}
	}()
}

// Unload empties the slot of category c (or every slot for "all"). Work in
// progress keeps its model until it finishes.
func (s *Slots) Unload(c Category) ([]Category, error) {
	cats := []Category{c}
	if c == "all" {
		cats = Categories
	} else if err := validCategory(c); err != nil {
		return nil, err
	}
	var done []Category
	for _, k := range cats {
		s.mu.Lock()
		m := s.cur[k]
		delete(s.cur, k)
		s.mu.Unlock()
		if m != nil {
			s.opts.Metrics.ModelLoaded(k, m.name, false)
			m.retire()
			done = append(done, k)
		}
	}
	return done, nil
}

// Acquire leases the model in slot c. An empty slot fails with a
// KindUnavailable *Error.
func (s *Slots) Acquire(c Category) (*Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.cur[c]
	if m == nil {
		msg := fmt.Sprintf("no %s model is loaded", c)
		if name := s.loading[c]; name != "" {
			msg = fmt.Sprintf("the %s model %s is still loading", c, name)
		}
		return nil, &Error{Kind: KindUnavailable, Code: "model_not_loaded", Message: msg, RetryAfter: 5 * time.Second}
	}
	m.mu.Lock()
	m.refs++
	m.mu.Unlock()
	return &Lease{m: m}, nil
}

// acquireAs leases the model in slot c as an M. An empty slot fails as
// Acquire does; a model that is not an M fails with a KindUnavailable
// *Error saying the slot holds no what ("speech synthesizer").
func acquireAs[M any](s *Slots, c Category, what string) (*Lease, M, error) {
	var zero M
	lease, err := s.Acquire(c)
	if err != nil {
		return nil, zero, err
	}
	m, ok := lease.Model().(M)
	if !ok {
		lease.Release()
		return nil, zero, &Error{Kind: KindUnavailable, Message: fmt.Sprintf("the %s slot holds no %s", c, what)}
	}
	return lease, m, nil
}

// Status reports every slot.
func (s *Slots) Status() []SlotStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SlotStatus, 0, len(Categories))
	for _, c := range Categories {
		st := SlotStatus{Category: c, State: SlotEmpty, Loading: s.loading[c], LastErr: s.lastErr[c]}
		if m := s.cur[c]; m != nil {
			st.State, st.Model, st.LoadedAt = SlotReady, m.name, s.at[c]
		}
		if st.Loading != "" {
			st.State = SlotLoading
		}
		out = append(out, st)
	}
	return out
}

// Loaded returns the info of every model serving now.
func (s *Slots) Loaded() []ModelInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ModelInfo
	for _, c := range Categories {
		if m := s.cur[c]; m != nil {
			info := m.model.Info()
			info.Category = c
			if info.Created == 0 {
				info.Created = s.at[c].Unix()
			}
			out = append(out, info)
		}
	}
	return out
}

// Close unloads every slot and waits until every model whose leases have
// ended is closed on the thread. Call it before stopping the thread.
func (s *Slots) Close() {
	_, _ = s.Unload("all")
	s.closers.Wait()
}
