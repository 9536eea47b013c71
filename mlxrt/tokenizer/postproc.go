package tokenizer

import (
	"encoding/json"
	"fmt"
)

// postProcessor adds special tokens around an encoded single sequence.
type postProcessor interface {
	process(ids []int32) []int32
}

// maxTemplateItems bounds TemplateProcessing templates.
const maxTemplateItems = 64

func parsePostProcessor(raw json.RawMessage, depth int) (postProcessor, error) {
	if isNull(raw) {
		return nil, nil
	}
	if depth > maxDepth {
		return nil, fmt.Errorf("post-processor nesting deeper than %d", maxDepth)
	}
	typ, err := componentType(raw)
	if err != nil {
		return nil, fmt.Errorf("post-processor: %w", err)
	}
	switch typ {
	case "ByteLevel":
		return nil, nil
	case "TemplateProcessing":
		return parseTemplate(raw)
	case "RobertaProcessing", "BertProcessing":
		var c struct {
			Sep [2]json.RawMessage `json:"sep"`
			Cls [2]json.RawMessage `json:"cls"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("%s: %w", typ, err)
		}
		var cls, sep int32
		if err := json.Unmarshal(c.Cls[1], &cls); err != nil {
			return nil, fmt.Errorf("%s cls: %w", typ, err)
		}
		if err := json.Unmarshal(c.Sep[1], &sep); err != nil {
			return nil, fmt.Errorf("%s sep: %w", typ, err)
		}
		return templateProc{cls, -1, sep}, nil
	case "Sequence":
		var c struct {
			Processors []json.RawMessage `json:"processors"`
		}
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("Sequence post-processor: %w", err)
		}
		var seq procSequence
		for _, sub := range c.Processors {
			p, err := parsePostProcessor(sub, depth+1)
			if err != nil {
				return nil, err
			}
			if p != nil {
				seq = append(seq, p)
			}
		}
		return seq, nil
	}
	return nil, fmt.Errorf("unsupported post-processor %q", typ)
}

// templateProc is a single-sequence template: ids to put before and after
// the sequence; -1 stands for the sequence itself.
type templateProc []int32

func (t templateProc) process(ids []int32) []int32 {
	out := make([]int32, 0, len(ids)+len(t))
	for _, id := range t {
		if id == -1 {
			out = append(out, ids...)
		} else {
			out = append(out, id)
		}
	}
	return out
}

func parseTemplate(raw json.RawMessage) (templateProc, error) {
	var c struct {
		Single []struct {
			SpecialToken *struct {
				ID string `json:"id"`
			} `json:"SpecialToken"`
			Sequence *struct {
				ID string `json:"id"`
			} `json:"Sequence"`
		} `json:"single"`
		SpecialTokens map[string]struct {
			IDs []int32 `json:"ids"`
		} `json:"special_tokens"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, fmt.Errorf("TemplateProcessing: %w", err)
	}
	if len(c.Single) > maxTemplateItems {
		return nil, fmt.Errorf("TemplateProcessing: template of %d items exceeds %d", len(c.Single), maxTemplateItems)
	}
	var t templateProc
	for _, item := range c.Single {
		switch {
		case item.Sequence != nil:
			if item.Sequence.ID != "A" {
				return nil, fmt.Errorf("TemplateProcessing: single template uses sequence %q", item.Sequence.ID)
			}
			t = append(t, -1)
		case item.SpecialToken != nil:
			st, ok := c.SpecialTokens[item.SpecialToken.ID]
			if !ok {
				return nil, fmt.Errorf("TemplateProcessing: special token %q is not defined", item.SpecialToken.ID)
			}
			if len(st.IDs) > maxTemplateItems {
				return nil, fmt.Errorf("TemplateProcessing: special token %q has too many ids", item.SpecialToken.ID)
			}
			t = append(t, st.IDs...)
		default:
			return nil, fmt.Errorf("TemplateProcessing: unknown template item")
		}
	}
	return t, nil
}

type procSequence []postProcessor

func (seq procSequence) process(ids []int32) []int32 {
	for _, p := range seq {
		ids = p.process(ids)
	}
	return ids
}

// bosEOSTemplate is the template transformers builds from add_bos_token and
// add_eos_token ("<bos>:0 $A:0 <eos>:0").
func bosEOSTemplate(bos, eos int32, addBOS, addEOS bool) templateProc {
	t := templateProc{}
	if addBOS && bos >= 0 {
		t = append(t, bos)
	}
	t = append(t, -1)
	if addEOS && eos >= 0 {
		t = append(t, eos)
	}
	return t
}
