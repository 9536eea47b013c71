package openai

import (
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string exactly as encoding/json does
// with HTML escaping off: quote and backslash escaped, \b \f \n \r \t by
// name, other control bytes as \u00XX, invalid UTF-8 as \ufffd, and U+2028
// and U+2029 escaped (they break JavaScript). Tests compare it with
// encoding/json byte for byte.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = appendEscapedByte(dst, c)
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		var esc string
		switch {
		case r == utf8.RuneError && size == 1:
			esc = `\ufffd`
		case r == '\u2028':
			esc = `\u2028`
		case r == '\u2029':
			esc = `\u2029`
		default:
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = append(dst, esc...)
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

func appendEscapedByte(dst []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(dst, '\\', c)
	case '\b':
		return append(dst, '\\', 'b')
	case '\f':
		return append(dst, '\\', 'f')
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
}

// textFrames holds the constant parts of the most common frames, a content
// or reasoning fragment, so they are encoded without reflection: per token
// only the fragment itself is escaped. The frames are byte-identical to the
// generic path (tests check it).
type textFrames struct {
	prefix []byte // `data: {"id":…,"choices":[{"index":0,"delta":{"`
	suffix []byte // `},"logprobs":null,"finish_reason":null}]` [`,"usage":null`] `}` + "\n\n"
}

func newTextFrames(o ChatStreamOptions) textFrames {
	p := []byte(`data: {"id":`)
	p = appendJSONString(p, o.ID)
	p = append(p, `,"object":"chat.completion.chunk","created":`...)
	p = strconv.AppendInt(p, o.Created, 10)
	p = append(p, `,"model":`...)
	p = appendJSONString(p, o.Model)
	if o.SystemFingerprint != "" {
		p = append(p, `,"system_fingerprint":`...)
		p = appendJSONString(p, o.SystemFingerprint)
	}
	p = append(p, `,"choices":[{"index":0,"delta":{"`...)
	s := []byte(`},"logprobs":null,"finish_reason":null}]`)
	if o.IncludeUsage {
		s = append(s, `,"usage":null`...)
	}
	s = append(s, "}\n\n"...)
	return textFrames{prefix: p, suffix: s}
}

// append appends the frame of a delta with the single member key (content
// or reasoning_content) set to text.
func (f *textFrames) append(dst []byte, key, text string) []byte {
	dst = append(dst, f.prefix...)
	dst = append(dst, key...)
	dst = append(dst, `":`...)
	dst = appendJSONString(dst, text)
	return append(dst, f.suffix...)
}
