package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ominix/ominix-api/pipeline"
)

// object is a decoded JSON object whose members are decoded one by one, so
// that every error names its exact JSON path and member names match exactly
// (encoding/json alone would match "Messages" to "messages").
type object map[string]json.RawMessage

// parseObject decodes raw as a JSON object; param names it in errors.
func parseObject(raw json.RawMessage, param string) (object, error) {
	if kind(raw) != "an object" {
		return nil, typeError(param, "an object", raw)
	}
	o, ok := splitObject(raw)
	if !ok {
		return nil, typeError(param, "an object", raw)
	}
	return o, nil
}

// parseArray decodes raw as a JSON array; param names it in errors.
func parseArray(raw json.RawMessage, param string) ([]json.RawMessage, error) {
	if kind(raw) != "an array" {
		return nil, typeError(param, "an array", raw)
	}
	a, ok := splitArray(raw)
	if !ok {
		return nil, typeError(param, "an array", raw)
	}
	return a, nil
}

// get returns the member key unless it is absent or null (OpenAI treats an
// explicit null like an absent optional member).
func (o object) get(key string) (json.RawMessage, bool) {
	raw, ok := o[key]
	if !ok || kind(raw) == "null" {
		return nil, false
	}
	return raw, true
}

func (o object) str(key, param string) (string, bool, error) {
	raw, ok := o.get(key)
	if !ok {
		return "", false, nil
	}
	s, err := decodeString(raw, param)
	return s, err == nil, err
}

func decodeString(raw json.RawMessage, param string) (string, error) {
	if kind(raw) != "a string" {
		return "", typeError(param, "a string", raw)
	}
	// Fast path: a string without escapes that is valid UTF-8 decodes to
	// its own bytes (raw is already known to be valid JSON).
	if body := bytes.TrimSpace(raw); len(body) >= 2 && body[len(body)-1] == '"' {
		inner := body[1 : len(body)-1]
		if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
			return string(inner), nil
		}
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", typeError(param, "a string", raw)
	}
	return s, nil
}

func (o object) boolean(key, param string) (*bool, error) {
	raw, ok := o.get(key)
	if !ok {
		return nil, nil
	}
	var b bool
	if kind(raw) != "a boolean" || json.Unmarshal(raw, &b) != nil {
		return nil, typeError(param, "a boolean", raw)
	}
	return &b, nil
}

// integer decodes an integer member; integral decimals such as 1.0 are
// accepted, as OpenAI accepts them.
func (o object) integer(key, param string) (*int64, error) {
	raw, ok := o.get(key)
	if !ok {
		return nil, nil
	}
	k := kind(raw)
	if k != "an integer" && k != "a number" {
		return nil, typeError(param, "an integer", raw)
	}
	if n, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
		return &n, nil
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return nil, &pipeline.Error{Kind: pipeline.KindInvalid, Param: param, Code: "invalid_type",
			Message: fmt.Sprintf("Invalid type for '%s': expected an integer, but got %s instead.", param, clip(string(raw)))}
	}
	n := int64(f)
	return &n, nil
}

func (o object) number(key, param string) (*float64, error) {
	raw, ok := o.get(key)
	if !ok {
		return nil, nil
	}
	k := kind(raw)
	if k != "an integer" && k != "a number" {
		return nil, typeError(param, "a number", raw)
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsInf(f, 0) {
		return nil, invalidValue(param, "Invalid '%s': %s is not a representable number.", param, clip(string(raw)))
	}
	return &f, nil
}

// kind names the JSON type of raw the way OpenAI's messages do.
func kind(raw []byte) string {
	i := 0
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\r' || raw[i] == '\n') {
		i++
	}
	if i == len(raw) {
		return "nothing"
	}
	switch c := raw[i]; {
	case c == '"':
		return "a string"
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		if bytes.ContainsAny(raw[i:], ".eE") {
			return "a number"
		}
		return "an integer"
	}
	return "an unknown value"
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}

func typeError(param, want string, raw json.RawMessage) *pipeline.Error {
	return &pipeline.Error{Kind: pipeline.KindInvalid, Param: param, Code: "invalid_type",
		Message: fmt.Sprintf("Invalid type for '%s': expected %s, but got %s instead.", param, want, kind(raw))}
}

func invalidValue(param, format string, args ...any) *pipeline.Error {
	return &pipeline.Error{Kind: pipeline.KindInvalid, Param: param, Code: "invalid_value", Message: fmt.Sprintf(format, args...)}
}

func unsupported(param, code, format string, args ...any) *pipeline.Error {
	return &pipeline.Error{Kind: pipeline.KindInvalid, Param: param, Code: code, Message: fmt.Sprintf(format, args...)}
}

func missing(param string) *pipeline.Error {
	return &pipeline.Error{Kind: pipeline.KindInvalid, Param: param, Code: "missing_required_parameter",
		Message: fmt.Sprintf("Missing required parameter: '%s'.", param)}
}

func tooLong(param string, max, got int) *pipeline.Error {
	return &pipeline.Error{Kind: pipeline.KindInvalid, Param: param, Code: "string_above_max_length",
		Message: fmt.Sprintf("Invalid '%s': string too long. Expected a string with maximum length %d, but got a string with length %d instead.", param, max, got)}
}

func tooMany(param string, max, got int) *pipeline.Error {
	return &pipeline.Error{Kind: pipeline.KindInvalid, Param: param, Code: "array_above_max_length",
		Message: fmt.Sprintf("Invalid '%s': array too long. Expected an array with maximum length %d, but got an array with length %d instead.", param, max, got)}
}

func emptyArray(param string) *pipeline.Error {
	return &pipeline.Error{Kind: pipeline.KindInvalid, Param: param, Code: "empty_array",
		Message: fmt.Sprintf("Invalid '%s': empty array. Expected an array with minimum length 1, but got an empty array instead.", param)}
}

// checkRange validates lo <= v <= hi (v > lo when openLo), with OpenAI's
// wording and codes (decimal_below_min_value and friends).
func checkRange(param string, v, lo, hi float64, openLo, integer bool) error {
	what := "decimal"
	if integer {
		what = "integer"
	}
	format := func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
	if v < lo || (openLo && v == lo) {
		op := ">="
		if openLo {
			op = ">"
		}
		return &pipeline.Error{Kind: pipeline.KindInvalid, Param: param, Code: what + "_below_min_value",
			Message: fmt.Sprintf("Invalid '%s': %s below minimum value. Expected a value %s %s, but got %s instead.", param, what, op, format(lo), format(v))}
	}
	if v > hi {
		return &pipeline.Error{Kind: pipeline.KindInvalid, Param: param, Code: what + "_above_max_value",
			Message: fmt.Sprintf("Invalid '%s': %s above maximum value. Expected a value <= %s, but got %s instead.", param, what, format(hi), format(v))}
	}
	return nil
}

// syntaxError describes a body that is not JSON, with the byte offset.
func syntaxError(body []byte, err error) *pipeline.Error {
	e := &pipeline.Error{Kind: pipeline.KindInvalid, Code: "invalid_json", Err: err}
	var se *json.SyntaxError
	switch {
	case len(strings.TrimSpace(string(body))) == 0:
		e.Message = "We could not parse the JSON body of your request: the body is empty. Send a JSON object with Content-Type: application/json."
	case errors.As(err, &se) && strings.HasPrefix(se.Error(), "unexpected end"):
		e.Message = fmt.Sprintf("We could not parse the JSON body of your request: it ends in the middle of a JSON value (at byte offset %d).", se.Offset)
	case errors.As(err, &se):
		// Offset counts the bytes read, the offending one included; report
		// the 0-based position of that byte.
		e.Message = fmt.Sprintf("We could not parse the JSON body of your request: %s (at byte offset %d).", se.Error(), max(se.Offset-1, 0))
	default:
		e.Message = "We could not parse the JSON body of your request: " + err.Error() + "."
	}
	return e
}
