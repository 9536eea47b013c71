package openai

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzSplitMatchesEncodingJSON checks the object and array splitters against
// encoding/json on every valid input: same members, same raw values.
func FuzzSplitMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, ` { "a" : 1 , "b":[1,{"c":"]}"}], "a": "dup" } `, `[1, "x\"y", {"k": null}, [], true]`,
		`{"\u0061": 2, "é": 3, "a\\b": 4}`, `{"a":"\ud800"}`, `[ -1.5e3 ,0]`, `"str"`, `5`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if !json.Valid(raw) {
			return
		}
		var wantObj map[string]json.RawMessage
		if json.Unmarshal(raw, &wantObj) == nil && wantObj != nil {
			got, ok := splitObject(raw)
			if !ok || len(got) != len(wantObj) {
				t.Fatalf("splitObject(%q) = %v, %v; want %v", raw, got, ok, wantObj)
			}
			for k, v := range wantObj {
				if !bytes.Equal(bytes.TrimSpace(got[k]), bytes.TrimSpace(v)) {
					t.Fatalf("member %q: got %q want %q", k, got[k], v)
				}
			}
		} else if _, ok := splitObject(raw); ok {
			t.Fatalf("splitObject accepted non-object %q", raw)
		}
		var wantArr []json.RawMessage
		if json.Unmarshal(raw, &wantArr) == nil && wantArr != nil {
			got, ok := splitArray(raw)
			if !ok || len(got) != len(wantArr) {
				t.Fatalf("splitArray(%q) = %q, %v; want %q", raw, got, ok, wantArr)
			}
			for i := range wantArr {
				if !bytes.Equal(got[i], bytes.TrimSpace(wantArr[i])) {
					t.Fatalf("element %d: got %q want %q", i, got[i], wantArr[i])
				}
			}
		} else if _, ok := splitArray(raw); ok {
			t.Fatalf("splitArray accepted non-array %q", raw)
		}
	})
}
