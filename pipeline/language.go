package pipeline

import (
	"fmt"
	"strings"
)

// LanguageLister is implemented by speech engines that handle only some
// languages. Languages returns their ISO-639-1 codes ("en"); an engine
// that does not implement it (or returns none) takes any language hint.
type LanguageLister interface {
	Languages() []string
}

// ModelLanguages returns m's languages when it implements LanguageLister,
// else nil (any language).
func ModelLanguages(m Model) []string {
	if l, ok := m.(LanguageLister); ok {
		return l.Languages()
	}
	return nil
}

// CodeUnsupportedLanguage is the error code of a request naming a language
// the loaded engine does not handle.
const CodeUnsupportedLanguage = "unsupported_language"

// CheckLanguage accepts lang when langs is empty (any language), when lang
// is empty (no hint), or when its primary subtag — the code before "-" or
// "_", ignoring case, so "en", "EN" and "en-US" are all English — is one
// of langs. Otherwise it returns a KindInvalid *Error with Param param and
// Code CodeUnsupportedLanguage whose message names the supported
// languages: recognizing French speech with an English-only model would
// answer with a confident English transcript, which is worse than a 400.
func CheckLanguage(langs []string, param, lang string) error {
	lang = strings.TrimSpace(lang)
	if len(langs) == 0 || lang == "" {
		return nil
	}
	primary, _, _ := strings.Cut(strings.ReplaceAll(lang, "_", "-"), "-")
	for _, l := range langs {
		if strings.EqualFold(l, primary) {
			return nil
		}
	}
	quoted := make([]string, len(langs))
	for i, l := range langs {
		quoted[i] = "'" + l + "'"
	}
	shown := lang
	if len(shown) > 32 {
		shown = strings.ToValidUTF8(shown[:32], "") + "…"
	}
	return &Error{Kind: KindInvalid, Param: param, Code: CodeUnsupportedLanguage, Message: fmt.Sprintf(
		"Unsupported language '%s': the loaded speech recognizer understands only %s. Send %s (a regional variant such as '%s-US' also works) or leave the language out.",
		shown, strings.Join(quoted, ", "), quoted[0], langs[0])}
}
