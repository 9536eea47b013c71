package llm_test

import (
	"os"
	"strconv"
	"testing"

	"go.uber.org/goleak"

	"github.com/ominix/ominix-api/mlxrt/llm"
	"github.com/ominix/ominix-api/mlxrt/mx"
)

func TestMain(m *testing.M) {
	code := m.Run()
	mx.Shutdown()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			println("goleak:", err.Error())
			code = 1
		}
	}
	os.Exit(code)
}

// idTokenizer is a tokenizer without a vocabulary for tests that drive the
// engine with token ids: every id decodes to "<id>".
type idTokenizer struct {
	vocab   int
	eos     int32 // -1 for none
	special map[string]int32
}

func (t idTokenizer) Encode(string) []int32 { return nil }
func (t idTokenizer) TokenBytes(id int32) []byte {
	return []byte("<" + strconv.Itoa(int(id)) + ">")
}
func (t idTokenizer) TokenID(s string) (int32, bool) { id, ok := t.special[s]; return id, ok }
func (t idTokenizer) IsSpecial(id int32) bool {
	for _, v := range t.special {
		if v == id {
			return true
		}
	}
	return false
}
func (t idTokenizer) EOS() (int32, bool)             { return t.eos, t.eos >= 0 }
func (t idTokenizer) VocabSize() int                 { return t.vocab }
func (t idTokenizer) NewDecoder([]int32) llm.Decoder { return &idDecoder{t} }

type idDecoder struct{ t idTokenizer }

func (d *idDecoder) Add(id int32) string { return string(d.t.TokenBytes(id)) }
func (d *idDecoder) Flush() string       { return "" }
