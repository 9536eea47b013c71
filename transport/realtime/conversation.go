package realtime

import (
	"math"
	"strings"

	"github.com/ominix/ominix-api/pipeline"
)

// convItem is one item of the conversation: a message (user, assistant or
// system), a function call or a function call's output.
type convItem struct {
	id, typ, role, status string
	parts                 []convPart
	// Function call members.
	callID, name, arguments, output string
	// pending is set on a user audio item whose transcript is not known
	// yet; responses wait for it.
	pending bool
	// spoken lists the clauses of an assistant audio item as their audio
	// was sent, with their place on the item's audio clock; audioMs is
	// the item's audio length. Truncation uses both.
	spoken  []spokenClause
	audioMs float64
}

// convPart is one content part: text parts carry text, audio parts the
// transcript (hasTranscript is false until a user turn is recognized).
type convPart struct {
	typ           string
	text          string
	transcript    string
	hasTranscript bool
}

// spokenClause is a clause whose audio was sent, [start, end) in ms of the
// item's audio.
type spokenClause struct {
	text       string
	start, end float64
}

// isAudio reports whether the part holds audio.
func (p *convPart) isAudio() bool { return p.typ == contentInputAudio || p.typ == contentOutputAudio }

// words is the part's text as the LLM reads it.
func (p *convPart) words() string {
	if p.isAudio() {
		return p.transcript
	}
	return p.text
}

// wire renders the item as the schemas describe it.
func (it *convItem) wire() any {
	switch it.typ {
	case itemFunctionCall:
		return &FunctionCallItem{ID: it.id, Object: objectItem, Type: it.typ, Status: it.status,
			CallID: it.callID, Name: it.name, Arguments: it.arguments}
	case itemFunctionCallOutput:
		return &FunctionCallOutputItem{ID: it.id, Object: objectItem, Type: it.typ, Status: it.status,
			CallID: it.callID, Output: it.output}
	}
	content := make([]ItemContent, 0, len(it.parts))
	for _, p := range it.parts {
		c := ItemContent{Type: p.typ}
		switch {
		case p.isAudio() && p.hasTranscript:
			c.Transcript = ptr(p.transcript)
		case !p.isAudio():
			c.Text = ptr(p.text)
		}
		content = append(content, c)
	}
	return &MessageItem{ID: it.id, Object: objectItem, Type: it.typ, Status: it.status, Role: it.role, Content: content}
}

func ptr[T any](v T) *T { return &v }

// itemFrom builds a conversation item from a client's item.
func itemFrom(p *ItemParams, id string) *convItem {
	it := &convItem{id: id, typ: p.Type, role: p.Role, status: statusCompleted,
		callID: p.CallID, name: p.Name, arguments: p.Arguments, output: p.Output}
	if it.typ == itemFunctionCall && it.callID == "" {
		it.callID = pipeline.NewID("call_")
	}
	for _, c := range p.Content {
		part := convPart{typ: c.Type, text: c.Text}
		if part.isAudio() {
			part.transcript, part.hasTranscript = c.Transcript, true
		}
		it.parts = append(it.parts, part)
	}
	return it
}

// conversation is the ordered list of items of a connection's single
// conversation.
type conversation struct {
	items []*convItem
	byID  map[string]*convItem
}

func (c *conversation) get(id string) *convItem { return c.byID[id] }

func (c *conversation) last() string {
	if len(c.items) == 0 {
		return ""
	}
	return c.items[len(c.items)-1].id
}

// insert places it after the item after ("" appends, "root" puts it
// first) and returns the id of the item now before it ("" when first).
// An unknown after reports false.
func (c *conversation) insert(it *convItem, after string) (string, bool) {
	if c.byID == nil {
		c.byID = map[string]*convItem{}
	}
	at := len(c.items)
	switch after {
	case "":
	case "root":
		at = 0
	default:
		i := c.index(after)
		if i < 0 {
			return "", false
		}
		at = i + 1
	}
	c.items = append(c.items, nil)
	copy(c.items[at+1:], c.items[at:])
	c.items[at] = it
	c.byID[it.id] = it
	if at == 0 {
		return "", true
	}
	return c.items[at-1].id, true
}

func (c *conversation) index(id string) int {
	for i, it := range c.items {
		if it.id == id {
			return i
		}
	}
	return -1
}

// remove deletes the item id and reports whether it was there.
func (c *conversation) remove(id string) bool {
	i := c.index(id)
	if i < 0 {
		return false
	}
	c.items = append(c.items[:i], c.items[i+1:]...)
	delete(c.byID, id)
	return true
}

// pending reports whether a user turn of items still waits for its
// transcript.
func pendingTranscript(items []*convItem) bool {
	for _, it := range items {
		if it.pending {
			return true
		}
	}
	return false
}

// messagesOf turns conversation items into chat messages: each message
// item's text (typed text, or the transcript of audio: for an assistant
// item that is what was spoken, or heard after a truncation) becomes one
// message; a function call joins the assistant message before it (or
// starts one) as a tool call; a function call's output becomes a tool
// message. Items with no words are left out.
func messagesOf(items []*convItem) []pipeline.Message {
	var msgs []pipeline.Message
	for _, it := range items {
		switch it.typ {
		case itemFunctionCall:
			call := pipeline.ToolCall{ID: it.callID, Name: it.name, Arguments: it.arguments}
			if n := len(msgs); n > 0 && msgs[n-1].Role == roleAssistant {
				msgs[n-1].ToolCalls = append(msgs[n-1].ToolCalls, call)
				continue
			}
			msgs = append(msgs, pipeline.Message{Role: roleAssistant, ToolCalls: []pipeline.ToolCall{call}})
		case itemFunctionCallOutput:
			msgs = append(msgs, pipeline.Message{Role: "tool", ToolCallID: it.callID, Content: it.output})
		default:
			var words []string
			for i := range it.parts {
				if w := strings.TrimSpace(it.parts[i].words()); w != "" {
					words = append(words, w)
				}
			}
			if len(words) > 0 {
				msgs = append(msgs, pipeline.Message{Role: it.role, Content: strings.Join(words, " ")})
			}
		}
	}
	return msgs
}

// heard returns the part of an assistant audio item's transcript that
// audio up to cutMs carries: every clause that ended by then, and of the
// clause playing at cutMs the share of its words proportional to the
// share of its audio heard (clause audio is taken as evenly paced).
func heard(spoken []spokenClause, cutMs float64) (string, []spokenClause) {
	var words []string
	var kept []spokenClause
	for _, c := range spoken {
		switch {
		case c.end <= cutMs:
			words = append(words, c.text)
			kept = append(kept, c)
		case c.start < cutMs:
			w := strings.Fields(c.text)
			n := int(math.Floor(float64(len(w)) * (cutMs - c.start) / (c.end - c.start)))
			if n > 0 {
				part := strings.Join(w[:n], " ")
				words = append(words, part)
				kept = append(kept, spokenClause{text: part, start: c.start, end: cutMs})
			}
		}
	}
	return strings.Join(words, " "), kept
}
