package audioapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/dsp"
)

// Transcription response formats.
const (
	FormatJSON        = "json"
	FormatText        = "text"
	FormatSRT         = "srt"
	FormatVTT         = "vtt"
	FormatVerboseJSON = "verbose_json"
)

// Limits bound the parsing of transcription requests. Zero values give the
// defaults named on each field.
type Limits struct {
	// MaxFileBytes bounds the uploaded audio (after base64 decoding for the
	// JSON body); more fails with a KindTooLarge error (HTTP 413). Zero
	// means 25 MiB, OpenAI's limit.
	MaxFileBytes int64
	// MaxFieldBytes bounds each other multipart field. Zero means 64 KiB.
	MaxFieldBytes int64
	// MaxParts bounds the number of multipart parts. Zero means 64.
	MaxParts int
}

func (l *Limits) withDefaults() Limits {
	v := Limits{}
	if l != nil {
		v = *l
	}
	if v.MaxFileBytes <= 0 {
		v.MaxFileBytes = 25 << 20
	}
	if v.MaxFieldBytes <= 0 {
		v.MaxFieldBytes = 64 << 10
	}
	if v.MaxParts <= 0 {
		v.MaxParts = 64
	}
	return v
}

// TranscriptionRequest is a validated POST /v1/audio/transcriptions.
type TranscriptionRequest struct {
	File     []byte
	Filename string
	Model    string
	Language string
	Prompt   string
	// ResponseFormat is one of the Format constants; "json" by default.
	ResponseFormat string
	Temperature    float64
	Stream         bool
	// Words and Segments are the timestamp_granularities asked for
	// (verbose_json only); with none given, Segments is set.
	Words, Segments bool
	// Split is the chunking_strategy's VAD configuration; nil means the
	// server's defaults ("auto").
	Split *dsp.VADOptions
	// Seed is set when the request came as the seed's JSON body (base64
	// "file"); its json response then also carries language and duration.
	Seed bool
}

// Options returns the recognizer options of the request.
func (r *TranscriptionRequest) Options() pipeline.TranscribeOptions {
	return pipeline.TranscribeOptions{Language: r.Language, Prompt: r.Prompt, Temperature: r.Temperature, Words: r.Words}
}

// ParseTranscriptionMultipart reads a multipart/form-data body with the
// given boundary as OpenAI's transcription endpoint defines it: file and
// model (required), language, prompt, response_format, temperature,
// timestamp_granularities[] (repeatable), stream and chunking_strategy.
// Unknown fields are ignored. Every part is read under the limits; a file
// over MaxFileBytes fails with a KindTooLarge *pipeline.Error, anything
// else malformed with KindInvalid naming the field.
func ParseTranscriptionMultipart(body io.Reader, boundary string, lim *Limits) (*TranscriptionRequest, error) {
	l := lim.withDefaults()
	if boundary == "" {
		return nil, pipeline.Invalid("", "The multipart body has no boundary.")
	}
	mr := multipart.NewReader(body, boundary)
	req := &TranscriptionRequest{}
	fields := map[string][]string{}
	gotFile := false
	for n := 0; ; n++ {
		if n >= l.MaxParts {
			return nil, pipeline.Invalid("", "The multipart body has more than %d parts.", l.MaxParts)
		}
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, readError("the multipart body", err)
		}
		name := part.FormName()
		if name == "file" {
			if gotFile {
				return nil, pipeline.Invalid("file", "More than one 'file' part was sent.")
			}
			gotFile = true
			req.Filename = clip(part.FileName(), 256)
			if req.File, err = readLimited(part, l.MaxFileBytes); err != nil {
				return nil, fieldError("file", l.MaxFileBytes, err)
			}
			continue
		}
		v, err := readLimited(part, l.MaxFieldBytes)
		if err != nil {
			return nil, fieldError(clip(name, 64), l.MaxFieldBytes, err)
		}
		if name != "" {
			fields[name] = append(fields[name], string(v))
		}
	}
	if !gotFile {
		return nil, &pipeline.Error{Kind: pipeline.KindInvalid, Param: "file", Code: "missing_required_parameter",
			Message: "Missing required parameter: 'file'."}
	}
	if err := req.applyFields(fields); err != nil {
		return nil, err
	}
	return req, req.validate()
}

// formValue returns the last value of a form field.
func formValue(fields map[string][]string, name string) (string, bool) {
	v, ok := fields[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[len(v)-1], true
}

func (req *TranscriptionRequest) applyFields(fields map[string][]string) error {
	req.Model, _ = formValue(fields, "model")
	req.Language, _ = formValue(fields, "language")
	req.Prompt, _ = formValue(fields, "prompt")
	req.ResponseFormat, _ = formValue(fields, "response_format")
	if s, ok := formValue(fields, "temperature"); ok && strings.TrimSpace(s) != "" {
		t, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return pipeline.Invalid("temperature", "Invalid 'temperature': %q is not a number.", clip(s, 32))
		}
		req.Temperature = t
	}
	if s, ok := formValue(fields, "stream"); ok && strings.TrimSpace(s) != "" {
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return pipeline.Invalid("stream", "Invalid 'stream': %q is not a boolean.", clip(s, 32))
		}
		req.Stream = b
	}
	grans := append(append([]string(nil), fields["timestamp_granularities[]"]...), fields["timestamp_granularities"]...)
	if err := req.setGranularities(grans); err != nil {
		return err
	}
	if s, ok := formValue(fields, "chunking_strategy"); ok {
		if err := req.setChunking(json.RawMessage(s)); err != nil {
			return err
		}
	}
	return nil
}

func (req *TranscriptionRequest) setGranularities(grans []string) error {
	for _, g := range grans {
		switch strings.TrimSpace(g) {
		case "word":
			req.Words = true
		case "segment":
			req.Segments = true
		default:
			return pipeline.Invalid("timestamp_granularities", "Invalid value: '%s'. Supported values are: 'word' and 'segment'.", clip(g, 32))
		}
	}
	if !req.Words && !req.Segments {
		req.Segments = true
	}
	return nil
}

// setChunking reads chunking_strategy: "auto", null, or a server_vad
// object with threshold, prefix_padding_ms and silence_duration_ms.
func (req *TranscriptionRequest) setChunking(raw json.RawMessage) error {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "auto" || s == `"auto"` || s == "null" {
		return nil
	}
	var c struct {
		Type              string   `json:"type"`
		Threshold         *float64 `json:"threshold"`
		PrefixPaddingMs   *int     `json:"prefix_padding_ms"`
		SilenceDurationMs *int     `json:"silence_duration_ms"`
	}
	if err := json.Unmarshal(raw, &c); err != nil || c.Type != "server_vad" {
		return pipeline.Invalid("chunking_strategy", "Invalid 'chunking_strategy': use \"auto\" or {\"type\": \"server_vad\", ...}.")
	}
	v := dsp.DefaultVADOptions()
	if c.Threshold != nil {
		v.Threshold = *c.Threshold
	}
	if c.PrefixPaddingMs != nil {
		v.PrefixPaddingMs = *c.PrefixPaddingMs
	}
	if c.SilenceDurationMs != nil {
		v.SilenceDurationMs = *c.SilenceDurationMs
	}
	if _, err := dsp.NewVAD(16000, &v); err != nil {
		return pipeline.Invalid("chunking_strategy", "Invalid 'chunking_strategy': %v.", strings.TrimPrefix(err.Error(), "vad: "))
	}
	req.Split = &v
	return nil
}

// seedBody is the seed's JSON transcription body, with OpenAI's optional
// members accepted too.
type seedBody struct {
	File                   *string         `json:"file"`
	Model                  string          `json:"model"`
	Language               string          `json:"language"`
	Prompt                 string          `json:"prompt"`
	ResponseFormat         string          `json:"response_format"`
	Temperature            *float64        `json:"temperature"`
	Stream                 *bool           `json:"stream"`
	TimestampGranularities []string        `json:"timestamp_granularities"`
	ChunkingStrategy       json.RawMessage `json:"chunking_strategy"`
}

// ParseTranscriptionJSON reads the seed's JSON body: {"file": base64 audio,
// "model", "language"}, plus OpenAI's optional members (prompt,
// response_format, temperature, stream, timestamp_granularities,
// chunking_strategy). The decoded file is bounded by MaxFileBytes (413).
func ParseTranscriptionJSON(body []byte, lim *Limits) (*TranscriptionRequest, error) {
	l := lim.withDefaults()
	var b seedBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, pipeline.Invalid("", "The request body is not valid JSON for this endpoint: %v.", clip(err.Error(), 200))
	}
	if b.File == nil || *b.File == "" {
		return nil, &pipeline.Error{Kind: pipeline.KindInvalid, Param: "file", Code: "missing_required_parameter",
			Message: "Missing required parameter: 'file' (base64-encoded audio)."}
	}
	if int64(base64.StdEncoding.DecodedLen(len(*b.File))) > l.MaxFileBytes+2 {
		return nil, tooLarge("file", l.MaxFileBytes)
	}
	file, err := decodeBase64(*b.File)
	if err != nil {
		return nil, pipeline.Invalid("file", "Invalid 'file': not valid base64 (%v).", err)
	}
	if int64(len(file)) > l.MaxFileBytes {
		return nil, tooLarge("file", l.MaxFileBytes)
	}
	req := &TranscriptionRequest{File: file, Model: b.Model, Language: b.Language, Prompt: b.Prompt,
		ResponseFormat: b.ResponseFormat, Seed: true}
	if b.Temperature != nil {
		req.Temperature = *b.Temperature
	}
	if b.Stream != nil {
		req.Stream = *b.Stream
	}
	if err := req.setGranularities(b.TimestampGranularities); err != nil {
		return nil, err
	}
	if b.ChunkingStrategy != nil {
		if err := req.setChunking(b.ChunkingStrategy); err != nil {
			return nil, err
		}
	}
	return req, req.validate()
}

// decodeBase64 accepts standard base64 with or without padding, and a
// data: URL prefix ("data:audio/wav;base64,").
func decodeBase64(s string) ([]byte, error) {
	if strings.HasPrefix(s, "data:") {
		if _, rest, ok := strings.Cut(s, ","); ok {
			s = rest
		}
	}
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	return base64.RawStdEncoding.DecodeString(s)
}

func (req *TranscriptionRequest) validate() error {
	switch req.ResponseFormat {
	case "":
		req.ResponseFormat = FormatJSON
	case FormatJSON, FormatText, FormatSRT, FormatVTT, FormatVerboseJSON:
	case "diarized_json":
		return pipeline.Invalid("response_format", "response_format 'diarized_json' needs a diarizing model, and none is loaded; use json, text, srt, vtt or verbose_json.")
	default:
		return pipeline.Invalid("response_format", "Invalid value: '%s'. Supported values are: 'json', 'text', 'srt', 'verbose_json' and 'vtt'.", clip(req.ResponseFormat, 32))
	}
	switch {
	case len(req.File) == 0:
		return pipeline.Invalid("file", "The audio file is empty.")
	case !(req.Temperature >= 0 && req.Temperature <= 1):
		return pipeline.Invalid("temperature", "Invalid 'temperature': %v is outside 0 to 1.", req.Temperature)
	case len(req.Model) > 256:
		return pipeline.Invalid("model", "'model' is longer than 256 characters.")
	case len(req.Language) > 64:
		return pipeline.Invalid("language", "'language' is longer than 64 characters.")
	}
	return nil
}

// readLimited reads all of r, failing with errTooBig past limit bytes.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, errTooBig
	}
	return b, nil
}

var errTooBig = errors.New("too big")

func fieldError(name string, limit int64, err error) error {
	if errors.Is(err, errTooBig) {
		if name == "file" {
			return tooLarge(name, limit)
		}
		return pipeline.Invalid(name, "The form field '%s' is longer than %d bytes.", name, limit)
	}
	return readError("the form field '"+name+"'", err)
}

// readError classifies a failure while reading the body: a body over the
// route's limit (*http.MaxBytesError) is 413, anything else a malformed or
// interrupted upload.
func readError(what string, err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &pipeline.Error{Kind: pipeline.KindTooLarge, Code: "request_too_large",
			Message: fmt.Sprintf("The request body is larger than the %d bytes this endpoint accepts.", mbe.Limit), Err: err}
	}
	return &pipeline.Error{Kind: pipeline.KindInvalid, Message: fmt.Sprintf("Could not read %s: %s.", what, clip(err.Error(), 200)), Err: err}
}

func tooLarge(param string, limit int64) error {
	return &pipeline.Error{Kind: pipeline.KindTooLarge, Param: param, Code: "file_too_large",
		Message: fmt.Sprintf("The audio file is larger than the %d MiB this server accepts.", (limit+(1<<20)-1)>>20)}
}

// clip shortens client-supplied text quoted back in messages.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
