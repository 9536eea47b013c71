package chattmpl_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/chattmpl"
	"github.com/ominix/ominix-api/mlxrt/tokenizer"
)

// TestGoldenTemplates renders every case of
// mlxrt/testdata/templates/cases.json (made with transformers'
// apply_chat_template) from the model directory's own template files and
// compares byte for byte, then checks the prompt's token ids.
func TestGoldenTemplates(t *testing.T) {
	raw, err := os.ReadFile("../testdata/templates/cases.json")
	if os.IsNotExist(err) {
		t.Skip("golden templates not generated")
	}
	require.NoError(t, err)
	var doc struct {
		Cases []struct {
			Name                string          `json:"name"`
			Model               string          `json:"model"`
			Source              string          `json:"template_source"`
			Messages            json.RawMessage `json:"messages"`
			Tools               json.RawMessage `json:"tools"`
			AddGenerationPrompt bool            `json:"add_generation_prompt"`
			Kwargs              map[string]any  `json:"kwargs"`
			Rendered            *string         `json:"rendered"`
			IDs                 []int32         `json:"ids"`
			Error               *string         `json:"error"`
		} `json:"cases"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	require.NotEmpty(t, doc.Cases)
	templates := map[string]*chattmpl.Template{}
	toks := map[string]*tokenizer.Tokenizer{}
	for _, c := range doc.Cases {
		t.Run(c.Name, func(t *testing.T) {
			dir := filepath.Join("../testdata/models", c.Model)
			tpl, ok := templates[c.Model]
			if !ok {
				var err error
				tpl, err = chattmpl.Load(dir, nil)
				require.NoError(t, err)
				templates[c.Model] = tpl
				if toks[c.Model], err = tokenizer.Load(dir, nil); err != nil {
					t.Fatal(err)
				}
			}
			if c.Source == "chat_template.jinja" {
				assert.FileExists(t, filepath.Join(dir, "chat_template.jinja"))
			}
			out, err := tpl.RenderJSON(c.Messages, c.Tools, c.AddGenerationPrompt, c.Kwargs)
			if c.Error != nil {
				require.ErrorIs(t, err, chattmpl.ErrRejected)
				assert.Contains(t, err.Error(), *c.Error)
				return
			}
			require.NoError(t, err)
			require.NotNil(t, c.Rendered)
			assert.Equal(t, *c.Rendered, out)
			if c.IDs != nil {
				assert.Equal(t, c.IDs, toks[c.Model].Encode(out, false))
			}
		})
	}
}
