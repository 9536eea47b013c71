package pipeline

import (
	"crypto/rand"
	"encoding/json"
	"strings"
	"unicode"
)

// OutputParser turns the text an LLM generates, piece by piece, into typed
// deltas: answer text, reasoning (inside the model's thinking block) and
// streamed tool calls; it applies stop strings, which are never emitted.
//
// Text that might be the start of a stop string or of a marker (a thinking
// or tool-call tag) is held back until the next piece decides it, so the
// client never sees half a marker. An OutputParser is not safe for
// concurrent use; the scheduler keeps one per sequence.
type OutputParser struct {
	stops      []string
	thinkOpen  string
	thinkClose string
	toolFmt    ToolFormat
	marks      []string // stops, then toolFmt's opening marker: what content is scanned for

	mode      parseMode
	buf       string // text not yet classified
	atStart   bool   // nothing but whitespace has been emitted as content yet
	trimLead  bool   // drop leading whitespace of the next content (after a thinking block)
	stopped   bool
	toolMark  string // the marker that opened the current tool section
	toolRaw   string // raw text of the current tool section, for fallback
	calls     int    // tool calls started so far
	scanner   *callScanner
	mistralIn bool // inside the JSON array of a Mistral tool section
}

type parseMode int

const (
	modeContent parseMode = iota
	modeReasoning
	modeTool
)

// Tool-call markers.
const (
	hermesOpen   = "<tool_call>"
	hermesClose  = "</tool_call>"
	mistralOpen  = "[TOOL_CALLS]"
	mistralArgs  = "[ARGS]"
	llamaPyTag   = "<|python_tag|>"
	maxToolBytes = 1 << 20 // a single tool section larger than this is treated as text
)

// NewOutputParser returns a parser for one generation of the model described
// by info, answering req. inReasoning says the prompt left the model inside
// its thinking block (see Sequence.InReasoning).
func NewOutputParser(info ModelInfo, req *ChatRequest, inReasoning bool) *OutputParser {
	p := &OutputParser{
		stops:      nonEmpty(req.Stop),
		thinkOpen:  info.ThinkOpen,
		thinkClose: info.ThinkClose,
		atStart:    true,
	}
	if len(req.Tools) > 0 && req.ToolChoice.Mode != "none" {
		p.toolFmt = info.ToolFormat
	}
	p.marks = p.markers()
	if inReasoning && p.thinkClose != "" {
		p.mode = modeReasoning
		p.trimLead = true
	}
	return p
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Stopped reports whether a stop string was reached; the caller must end
// the generation with finish reason "stop".
func (p *OutputParser) Stopped() bool { return p.stopped }

// InReasoning reports whether the parser is inside the thinking block, so
// the next token counts as a reasoning token.
func (p *OutputParser) InReasoning() bool { return p.mode == modeReasoning }

// ToolCalls reports how many tool calls the output contained.
func (p *OutputParser) ToolCalls() int { return p.calls }

// Push feeds the next generated text and returns what can be emitted now.
func (p *OutputParser) Push(text string) TextDelta {
	var d TextDelta
	if p.stopped {
		return d
	}
	p.buf += text
	for p.step(&d, false) {
	}
	return d
}

// Flush ends the generation and returns everything still held back. Text
// held because it might have begun a stop string or marker is emitted as
// what it turned out to be; an unfinished tool call is closed as it stands.
func (p *OutputParser) Flush() TextDelta {
	var d TextDelta
	if p.stopped {
		return d
	}
	for p.step(&d, true) {
	}
	if p.mode == modeTool {
		p.endTool(&d, true)
	}
	if p.buf != "" {
		p.emit(&d, p.buf)
		p.buf = ""
	}
	return d
}

// step makes one unit of progress on p.buf; it reports whether to call again.
func (p *OutputParser) step(d *TextDelta, final bool) bool {
	switch p.mode {
	case modeReasoning:
		return p.stepReasoning(d, final)
	case modeTool:
		return p.stepTool(d, final)
	default:
		return p.stepContent(d, final)
	}
}

func (p *OutputParser) stepReasoning(d *TextDelta, final bool) bool {
	if p.trimLead {
		p.buf = strings.TrimLeftFunc(p.buf, unicode.IsSpace)
		if p.buf == "" {
			return false
		}
		p.trimLead = false
	}
	if i := strings.Index(p.buf, p.thinkClose); i >= 0 {
		d.Reasoning += p.buf[:i]
		p.buf = p.buf[i+len(p.thinkClose):]
		p.mode = modeContent
		p.trimLead = true
		return true
	}
	keep := 0
	if !final {
		keep = heldPrefix(p.buf, p.thinkClose)
	}
	d.Reasoning += p.buf[:len(p.buf)-keep]
	p.buf = p.buf[len(p.buf)-keep:]
	return false
}

func (p *OutputParser) stepContent(d *TextDelta, final bool) bool {
	if p.trimLead || p.atStart {
		trimmed := strings.TrimLeftFunc(p.buf, unicode.IsSpace)
		if trimmed == "" && !final {
			if p.trimLead {
				p.buf = ""
			}
			return false // wait: leading whitespace may precede a marker
		}
		if p.trimLead {
			p.buf = trimmed
			p.trimLead = false
		}
		if p.atStart {
			if p.startMarker(trimmed, final) {
				return true
			}
			if !final && p.couldStartMarker(trimmed) {
				return false
			}
		}
	}
	marks := p.marks
	at, which := -1, ""
	for _, m := range marks {
		if i := strings.Index(p.buf, m); i >= 0 && (at < 0 || i < at) {
			at, which = i, m
		}
	}
	if at >= 0 {
		p.emit(d, p.buf[:at])
		rest := p.buf[at+len(which):]
		p.buf = ""
		if p.isStop(which) {
			p.stopped = true
			return false
		}
		p.beginTool(which)
		p.buf = rest
		return true
	}
	keep := 0
	if !final {
		for _, m := range marks {
			keep = max(keep, heldPrefix(p.buf, m))
		}
	}
	p.emit(d, p.buf[:len(p.buf)-keep])
	p.buf = p.buf[len(p.buf)-keep:]
	return false
}

// startMarker handles markers recognised only at the very start of the
// output: the opening of a thinking block, and Llama 3's bare JSON call.
func (p *OutputParser) startMarker(trimmed string, final bool) bool {
	if p.thinkOpen != "" && strings.HasPrefix(trimmed, p.thinkOpen) {
		p.buf = trimmed[len(p.thinkOpen):]
		p.mode = modeReasoning
		p.trimLead = true
		p.atStart = false
		return true
	}
	if p.toolFmt == ToolsLlama3 {
		if strings.HasPrefix(trimmed, llamaPyTag) {
			p.buf = trimmed[len(llamaPyTag):]
			p.beginTool(llamaPyTag)
			p.atStart = false
			return true
		}
		if strings.HasPrefix(trimmed, "{") {
			p.buf = trimmed
			p.beginTool("")
			p.atStart = false
			return true
		}
	}
	return false
}

func (p *OutputParser) couldStartMarker(trimmed string) bool {
	if p.thinkOpen != "" && strings.HasPrefix(p.thinkOpen, trimmed) {
		return true
	}
	return p.toolFmt == ToolsLlama3 && strings.HasPrefix(llamaPyTag, trimmed)
}

// markers lists what content is scanned for; NewOutputParser keeps it in
// p.marks, so the per-token path does not build it again.
func (p *OutputParser) markers() []string {
	ms := append([]string(nil), p.stops...)
	switch p.toolFmt {
	case ToolsHermes:
		ms = append(ms, hermesOpen)
	case ToolsMistral:
		ms = append(ms, mistralOpen)
	}
	return ms
}

func (p *OutputParser) isStop(m string) bool {
	for _, s := range p.stops {
		if s == m {
			return true
		}
	}
	return false
}

func (p *OutputParser) emit(d *TextDelta, s string) {
	if s == "" {
		return
	}
	if p.atStart && strings.TrimSpace(s) != "" {
		p.atStart = false
	}
	if p.calls > 0 && strings.TrimSpace(s) == "" {
		return // whitespace between tool calls is not content
	}
	d.Content += s
}

func (p *OutputParser) beginTool(marker string) {
	p.mode = modeTool
	p.toolMark = marker
	p.toolRaw = ""
	p.scanner = nil
	p.mistralIn = false
}

// stepTool feeds the tool section's text to the call scanner.
func (p *OutputParser) stepTool(d *TextDelta, final bool) bool {
	if p.toolFmt == ToolsHermes {
		if i := strings.Index(p.buf, hermesClose); i >= 0 {
			body := p.buf[:i]
			p.buf = p.buf[i+len(hermesClose):]
			p.feedTool(d, body)
			p.endTool(d, false)
			return true
		}
		keep := 0
		if !final {
			keep = heldPrefix(p.buf, hermesClose)
		}
		body := p.buf[:len(p.buf)-keep]
		p.buf = p.buf[len(p.buf)-keep:]
		p.feedTool(d, body)
		return p.mode != modeTool
	}
	body := p.buf
	p.buf = ""
	p.feedTool(d, body)
	return p.mode != modeTool && p.buf != ""
}

// feedTool scans tool-section text character by character. Text after the
// end of the section is put back into p.buf as content.
func (p *OutputParser) feedTool(d *TextDelta, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		p.toolRaw += string(c)
		if len(p.toolRaw) > maxToolBytes {
			p.fallback(d, s[i+1:])
			return
		}
		if p.scanner == nil {
			if isSpace(c) {
				continue
			}
			switch {
			case c == '[' && p.toolFmt == ToolsMistral && !p.mistralIn:
				p.mistralIn = true
				continue
			case c == ',' && p.mistralIn:
				continue
			case c == ']' && p.mistralIn:
				p.mistralIn = false
				p.buf = s[i+1:] + p.buf
				p.endTool(d, false)
				return
			case c == '{':
				p.scanner = &callScanner{index: p.calls}
				p.calls++
			case p.toolFmt == ToolsMistral && !p.mistralIn:
				// Mistral's newer form: [TOOL_CALLS]name[ARGS]{...}
				p.scanner = &callScanner{index: p.calls, named: true, readName: true}
				p.calls++
			default:
				p.fallback(d, s[i+1:])
				return
			}
		}
		p.scanner.feed(c, d)
		if p.scanner.done {
			p.scanner = nil
			if !p.mistralIn && p.toolFmt != ToolsHermes {
				if p.toolFmt == ToolsLlama3 {
					// Llama 3 may chain calls with ";".
					rest := strings.TrimLeft(s[i+1:], " \t\r\n;")
					if strings.HasPrefix(rest, "{") {
						continue
					}
				}
				p.buf = s[i+1:] + p.buf
				p.endTool(d, false)
				return
			}
		}
	}
}

// fallback gives up on a malformed tool section that has not emitted any
// call yet, and shows it as plain text.
func (p *OutputParser) fallback(d *TextDelta, rest string) {
	if p.scanner != nil && p.scanner.headerSent {
		// Part of a call is already out: close it and carry on as text.
		p.scanner.finish(d)
		p.scanner = nil
		p.mode = modeContent
		p.buf = rest + p.buf
		return
	}
	if p.scanner != nil {
		p.calls--
	}
	raw := p.toolMark + p.toolRaw
	p.mode = modeContent
	p.scanner = nil
	p.emit(d, raw)
	p.buf = rest + p.buf
}

// endTool closes the tool section. At the end of the generation (final), a
// call whose header was never sent is shown as text instead.
func (p *OutputParser) endTool(d *TextDelta, final bool) {
	if p.scanner != nil {
		if p.scanner.headerSent {
			p.scanner.finish(d)
		} else if final {
			p.calls--
			p.mode = modeContent
			p.emit(d, p.toolMark+p.toolRaw)
			p.scanner = nil
			return
		}
		p.scanner = nil
	}
	p.mode = modeContent
	p.toolRaw = ""
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// heldPrefix returns the length of the longest suffix of s that is a proper
// prefix of marker: text that must wait for the next piece.
func heldPrefix(s, marker string) int {
	n := min(len(s), len(marker)-1)
	for k := n; k > 0; k-- {
		if strings.HasSuffix(s, marker[:k]) {
			return k
		}
	}
	return 0
}

// callScanner reads one JSON object {"name": …, "arguments": …} (or
// "parameters", Llama 3's key) as it streams, and emits the call's header
// as soon as the name is known and the arguments text as it arrives.
type callScanner struct {
	index      int
	named      bool // Mistral's name[ARGS]{…} form: the object is the arguments
	nameBuf    strings.Builder
	readName   bool
	depth      int
	inStr, esc bool
	key        strings.Builder
	inKey      bool
	curKey     string
	valStarted bool
	valIsStr   bool
	capture    bool // streaming the arguments value
	argsBuf    strings.Builder
	name       string
	headerSent bool
	argsDone   bool
	done       bool
}

func (s *callScanner) feed(c byte, d *TextDelta) {
	if s.named {
		s.feedNamed(c, d)
		return
	}
	if s.inStr {
		s.feedString(c, d)
		return
	}
	switch c {
	case '{', '[':
		if s.depth == 1 {
			s.startValue(d, false)
		}
		s.depth++
		s.value(c, d)
		return
	case '}', ']':
		if s.depth <= 1 {
			s.endValue(d)
			s.depth = 0
			s.done = true
			s.finish(d)
			return
		}
		s.value(c, d)
		s.depth--
		if s.depth == 1 {
			s.endValue(d)
		}
		return
	case '"':
		s.inStr = true
		if s.depth == 1 && !s.valStarted && s.curKey == "" {
			s.inKey = true
			s.key.Reset()
			return
		}
		if s.depth == 1 {
			s.startValue(d, true)
		}
		s.value(c, d)
		return
	case ':':
		if s.depth == 1 {
			return
		}
	case ',':
		if s.depth == 1 {
			s.endValue(d)
			return
		}
	}
	if s.depth == 1 && s.curKey != "" && !isSpace(c) && !s.valStarted {
		s.startValue(d, false) // a bare number, true, false or null
	}
	s.value(c, d)
}

func (s *callScanner) feedString(c byte, d *TextDelta) {
	if s.inKey {
		switch {
		case s.esc:
			s.esc = false
			s.key.WriteByte(c)
		case c == '\\':
			s.esc = true
			s.key.WriteByte(c)
		case c == '"':
			s.inStr, s.inKey = false, false
			var k string
			if json.Unmarshal([]byte(`"`+s.key.String()+`"`), &k) == nil {
				s.curKey = k
			}
		default:
			s.key.WriteByte(c)
		}
		return
	}
	s.value(c, d)
	switch {
	case s.esc:
		s.esc = false
	case c == '\\':
		s.esc = true
	case c == '"':
		s.inStr = false
		if s.depth == 1 {
			s.endValue(d)
		}
	}
}

func (s *callScanner) startValue(d *TextDelta, isStr bool) {
	s.valStarted = true
	s.valIsStr = isStr
	s.capture = s.curKey == "arguments" || s.curKey == "parameters"
	if s.curKey == "name" {
		s.nameBuf.Reset()
	}
}

// value records one character of the current value.
func (s *callScanner) value(c byte, d *TextDelta) {
	if !s.valStarted {
		return
	}
	switch {
	case s.curKey == "name":
		s.nameBuf.WriteByte(c)
	case s.capture:
		s.argsBuf.WriteByte(c)
		if !s.valIsStr {
			s.flushArgs(d)
		}
	}
}

func (s *callScanner) endValue(d *TextDelta) {
	if !s.valStarted {
		s.curKey = ""
		return
	}
	switch {
	case s.curKey == "name":
		var name string
		if json.Unmarshal([]byte(strings.TrimSpace(s.nameBuf.String())), &name) == nil {
			s.name = name
			s.sendHeader(d)
		}
	case s.capture:
		s.argsDone = true
		if s.valIsStr {
			// Arguments given as a JSON string: send the string's content.
			var str string
			if json.Unmarshal([]byte(s.argsBuf.String()), &str) == nil {
				s.argsBuf.Reset()
				s.argsBuf.WriteString(str)
			}
		}
		s.flushArgs(d)
	}
	s.valStarted, s.capture, s.curKey = false, false, ""
}

func (s *callScanner) sendHeader(d *TextDelta) {
	if s.headerSent || s.name == "" {
		return
	}
	s.headerSent = true
	d.ToolCalls = append(d.ToolCalls, ToolCallDelta{Index: s.index, ID: newCallID(), Name: s.name})
	s.flushArgs(d)
}

// flushArgs emits buffered argument text once the header is out. String-
// valued arguments wait until they are complete.
func (s *callScanner) flushArgs(d *TextDelta) {
	if !s.headerSent || s.argsBuf.Len() == 0 || (s.valIsStr && !s.argsDone) {
		return
	}
	frag := s.argsBuf.String()
	s.argsBuf.Reset()
	if n := len(d.ToolCalls); n > 0 && d.ToolCalls[n-1].Index == s.index {
		d.ToolCalls[n-1].Arguments += frag
		return
	}
	d.ToolCalls = append(d.ToolCalls, ToolCallDelta{Index: s.index, Arguments: frag})
}

// finish makes sure a started call ends with its header sent.
func (s *callScanner) finish(d *TextDelta) {
	s.sendHeader(d)
	s.flushArgs(d)
}

// feedNamed handles name[ARGS]{…}: the name up to [ARGS], then the JSON
// object that is the arguments.
func (s *callScanner) feedNamed(c byte, d *TextDelta) {
	if s.readName {
		s.nameBuf.WriteByte(c)
		if n := s.nameBuf.String(); strings.HasSuffix(n, mistralArgs) {
			s.name = strings.TrimSpace(strings.TrimSuffix(n, mistralArgs))
			s.readName = false
			s.sendHeader(d)
			s.valStarted, s.capture = true, true
		}
		return
	}
	s.argsBuf.WriteByte(c)
	switch {
	case s.inStr && s.esc:
		s.esc = false
	case s.inStr && c == '\\':
		s.esc = true
	case c == '"':
		s.inStr = !s.inStr
	case !s.inStr && (c == '{' || c == '['):
		s.depth++
	case !s.inStr && (c == '}' || c == ']'):
		s.depth--
		if s.depth == 0 {
			s.argsDone = true
			s.flushArgs(d)
			s.done = true
			return
		}
	}
	s.flushArgs(d)
}

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// NewID returns prefix followed by 24 random alphanumeric characters, the
// shape of OpenAI's ids ("chatcmpl-…", "call_…", "item_…").
func NewID(prefix string) string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return prefix + string(b[:])
}

func newCallID() string { return NewID("call_") }
