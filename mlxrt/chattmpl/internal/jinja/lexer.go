package jinja

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

type tokKind uint8

const (
	tData tokKind = iota
	tVarBegin
	tVarEnd
	tBlockBegin
	tBlockEnd
	tName
	tString
	tInt
	tFloat
	tOp
	tEOF
)

type token struct {
	kind tokKind
	val  string // name, operator, string value, number text
	line int
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of template"
	case tVarEnd:
		return "'}}'"
	case tBlockEnd:
		return "'%}'"
	case tData:
		return "template data"
	}
	return strconv.Quote(t.val)
}

// lexer splits a template into data and tag tokens, applying whitespace
// control, trim_blocks and lstrip_blocks as Jinja's lexer does.
type lexer struct {
	src  string
	pos  int
	line int
	toks []token
}

const maxTokens = 1 << 20

func lex(src string) ([]token, error) {
	// keep_trailing_newline=False: one trailing newline goes.
	if strings.HasSuffix(src, "\r\n") {
		src = src[:len(src)-2]
	} else if strings.HasSuffix(src, "\n") {
		src = src[:len(src)-1]
	}
	lx := &lexer{src: src, line: 1}
	if err := lx.run(); err != nil {
		return nil, err
	}
	return lx.toks, nil
}

func (lx *lexer) emit(k tokKind, v string) error {
	if len(lx.toks) >= maxTokens {
		return fmt.Errorf("%w: template has more than %d tokens", ErrLimit, maxTokens)
	}
	lx.toks = append(lx.toks, token{kind: k, val: v, line: lx.line})
	return nil
}

// nextTag finds the next "{{", "{%" or "{#" at or after i.
func nextTag(s string, i int) int {
	for {
		j := strings.IndexByte(s[i:], '{')
		if j < 0 || i+j+1 >= len(s) {
			return -1
		}
		c := s[i+j+1]
		if c == '{' || c == '%' || c == '#' {
			return i + j
		}
		i += j + 1
	}
}

func (lx *lexer) run() error {
	stripNext := false // the previous tag ended with "-": strip leading whitespace
	trimNL := false    // the previous tag was a block/comment: trim_blocks
	for {
		start := nextTag(lx.src, lx.pos)
		end := len(lx.src)
		if start >= 0 {
			end = start
		}
		orig := lx.src[lx.pos:end]
		data := orig
		if stripNext {
			data = strings.TrimLeft(data, " \t\r\n\v\f")
		} else if trimNL {
			if strings.HasPrefix(data, "\r\n") {
				data = data[2:]
			} else if strings.HasPrefix(data, "\n") {
				data = data[1:]
			}
		}
		// As Jinja's line_starting: at the template start, or right after
		// whitespace control removed text ending in a newline.
		removed := orig[:len(orig)-len(data)]
		lineStarting := lx.pos == 0 || strings.HasSuffix(removed, "\n")
		stripNext, trimNL = false, false
		if start < 0 {
			if data != "" {
				if err := lx.emit(tData, data); err != nil {
					return err
				}
			}
			return lx.emit(tEOF, "")
		}
		kind := lx.src[start+1]
		mod := byte(0)
		if start+2 < len(lx.src) && (lx.src[start+2] == '-' || lx.src[start+2] == '+') {
			mod = lx.src[start+2]
		}
		switch {
		case mod == '-':
			data = strings.TrimRight(data, " \t\r\n\v\f")
		case mod != '+' && (kind == '%' || kind == '#'):
			data = lstripBlock(data, lineStarting)
		}
		if data != "" {
			if err := lx.emit(tData, data); err != nil {
				return err
			}
		}
		lx.line += strings.Count(orig, "\n")
		lx.pos = start + 2
		if mod != 0 {
			lx.pos++
		}
		var err error
		switch kind {
		case '#':
			stripNext, trimNL, err = lx.comment()
		case '{':
			var mod byte
			mod, err = lx.tag(tVarBegin, tVarEnd, "}}")
			stripNext = mod == '-'
		case '%':
			if lx.rawBlock() {
				stripNext, trimNL, err = lx.raw()
			} else {
				var mod byte
				mod, err = lx.tag(tBlockBegin, tBlockEnd, "%}")
				stripNext, trimNL = mod == '-', mod == 0
			}
		}
		if err != nil {
			return err
		}
	}
}

// lstripBlock removes the whitespace between the last newline of data and a
// block tag (lstrip_blocks); lineStarting says data begins a line.
func lstripBlock(data string, lineStarting bool) string {
	l := strings.LastIndexByte(data, '\n') + 1
	if l == 0 && !lineStarting || l == len(data) {
		return data
	}
	if strings.Trim(data[l:], " \t\r\v\f") == "" {
		return data[:l]
	}
	return data
}

func (lx *lexer) comment() (strip, trim bool, err error) {
	j := strings.Index(lx.src[lx.pos:], "#}")
	if j < 0 {
		return false, false, lx.errorf("unterminated comment")
	}
	body := lx.src[lx.pos : lx.pos+j]
	lx.line += strings.Count(body, "\n")
	strip = strings.HasSuffix(body, "-")
	lx.pos += j + 2
	return strip, !strip, nil
}

// rawBlock reports whether the block tag at lx.pos is {% raw %}.
func (lx *lexer) rawBlock() bool {
	rest := strings.TrimLeft(lx.src[lx.pos:], " \t\r\n")
	if !strings.HasPrefix(rest, "raw") {
		return false
	}
	rest = strings.TrimLeft(rest[3:], " \t\r\n")
	return strings.HasPrefix(rest, "%}") || strings.HasPrefix(rest, "-%}")
}

func (lx *lexer) raw() (strip, trim bool, err error) {
	j := strings.Index(lx.src[lx.pos:], "%}")
	lx.pos += j + 2
	body := lx.src[lx.pos:]
	// Find {% endraw %} (with optional whitespace control).
	for k := 0; ; {
		m := strings.Index(body[k:], "{%")
		if m < 0 {
			return false, false, lx.errorf("unterminated raw block")
		}
		m += k
		inner := body[m+2:]
		lead := byte(0)
		if inner != "" && (inner[0] == '-' || inner[0] == '+') {
			lead = inner[0]
			inner = inner[1:]
		}
		t := strings.TrimLeft(inner, " \t\r\n")
		if strings.HasPrefix(t, "endraw") {
			t2 := strings.TrimLeft(t[6:], " \t\r\n")
			endStrip := strings.HasPrefix(t2, "-%}")
			if endStrip || strings.HasPrefix(t2, "%}") {
				content := body[:m]
				if lead == '-' {
					content = strings.TrimRight(content, " \t\r\n\v\f")
				}
				if content != "" {
					if err := lx.emit(tData, content); err != nil {
						return false, false, err
					}
				}
				consumed := m + 2 + (len(body[m+2:]) - len(t2))
				if endStrip {
					consumed += 3
				} else {
					consumed += 2
				}
				lx.line += strings.Count(body[:consumed], "\n")
				lx.pos += consumed
				return endStrip, !endStrip, nil
			}
		}
		k = m + 2
	}
}

func (lx *lexer) errorf(format string, args ...any) error {
	return &Error{Line: lx.line, Msg: fmt.Sprintf(format, args...)}
}

// tag lexes the expression tokens of a {{ }} or {% %} tag and returns the
// end modifier ('-', '+' or 0).
func (lx *lexer) tag(begin, endKind tokKind, end string) (byte, error) {
	if err := lx.emit(begin, ""); err != nil {
		return 0, err
	}
	s := lx.src
	for {
		for lx.pos < len(s) && strings.IndexByte(" \t\r\n", s[lx.pos]) >= 0 {
			if s[lx.pos] == '\n' {
				lx.line++
			}
			lx.pos++
		}
		if lx.pos >= len(s) {
			return 0, lx.errorf("unexpected end of template, expected %q", end)
		}
		rest := s[lx.pos:]
		if strings.HasPrefix(rest, end) {
			lx.pos += len(end)
			return 0, lx.emit(endKind, "")
		}
		if (rest[0] == '-' || rest[0] == '+') && strings.HasPrefix(rest[1:], end) {
			lx.pos += 1 + len(end)
			return rest[0], lx.emit(endKind, "")
		}
		if err := lx.exprToken(); err != nil {
			return 0, err
		}
	}
}

var operators = []string{"**", "//", "==", "!=", ">=", "<=", "+", "-", "*", "/", "%", "~", "<", ">", "=", ".", ",", ":", "|", "(", ")", "[", "]", "{", "}"}

func (lx *lexer) exprToken() error {
	s := lx.src[lx.pos:]
	c := s[0]
	switch {
	case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		n := 1
		for n < len(s) && (s[n] == '_' || s[n] >= 'a' && s[n] <= 'z' || s[n] >= 'A' && s[n] <= 'Z' || s[n] >= '0' && s[n] <= '9') {
			n++
		}
		lx.pos += n
		return lx.emit(tName, s[:n])
	case c >= '0' && c <= '9':
		return lx.number(s)
	case c == '\'' || c == '"':
		return lx.str(s)
	}
	for _, op := range operators {
		if strings.HasPrefix(s, op) {
			lx.pos += len(op)
			return lx.emit(tOp, op)
		}
	}
	r, _ := utf8.DecodeRuneInString(s)
	return lx.errorf("unexpected character %q", r)
}

func (lx *lexer) number(s string) error {
	n := 0
	digits := func() {
		for n < len(s) && (s[n] >= '0' && s[n] <= '9' || s[n] == '_' && n+1 < len(s) && s[n+1] >= '0' && s[n+1] <= '9') {
			n++
		}
	}
	digits()
	float := false
	if n+1 < len(s) && s[n] == '.' && s[n+1] >= '0' && s[n+1] <= '9' {
		float = true
		n++
		digits()
	}
	if n < len(s) && (s[n] == 'e' || s[n] == 'E') {
		m := n + 1
		if m < len(s) && (s[m] == '+' || s[m] == '-') {
			m++
		}
		if m < len(s) && s[m] >= '0' && s[m] <= '9' {
			float = true
			n = m
			digits()
		}
	}
	lx.pos += n
	text := strings.ReplaceAll(s[:n], "_", "")
	if float {
		return lx.emit(tFloat, text)
	}
	return lx.emit(tInt, text)
}

func (lx *lexer) str(s string) error {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case c == q:
			lx.pos += i + 1
			return lx.emit(tString, b.String())
		case c == '\n':
			lx.line++
			b.WriteByte(c)
		case c == '\\' && i+1 < len(s):
			i += unescape(&b, s[i+1:])
		default:
			b.WriteByte(c)
		}
	}
	return lx.errorf("unterminated string")
}

// unescape decodes one Python escape sequence at the start of s (after the
// backslash), writes it and returns how many bytes of s it used.
func unescape(b *strings.Builder, s string) int {
	switch s[0] {
	case 'n':
		b.WriteByte('\n')
	case 't':
		b.WriteByte('\t')
	case 'r':
		b.WriteByte('\r')
	case '\\', '\'', '"':
		b.WriteByte(s[0])
	case 'a':
		b.WriteByte('\a')
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'v':
		b.WriteByte('\v')
	case '\n':
		// line continuation
	case 'x', 'u', 'U':
		n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[s[0]]
		if len(s) > n {
			if v, err := strconv.ParseUint(s[1:1+n], 16, 32); err == nil && utf8.ValidRune(rune(v)) {
				b.WriteRune(rune(v))
				return 1 + n
			}
		}
		b.WriteByte('\\')
		b.WriteByte(s[0])
	case '0', '1', '2', '3', '4', '5', '6', '7':
		n := 1
		for n < 3 && n < len(s) && s[n] >= '0' && s[n] <= '7' {
			n++
		}
		v, _ := strconv.ParseUint(s[:n], 8, 32)
		b.WriteRune(rune(v))
		return n
	default:
		b.WriteByte('\\')
		b.WriteByte(s[0])
	}
	return 1
}
