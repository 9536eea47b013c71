package pocketsphinx

import "strings"

// cleanWord turns a decoder word into transcript text: fillers and
// sentence markers ("<s>", "</s>", "<sil>", "[NOISE]", "++UH++") give "",
// and alternative pronunciation markers are stripped ("read(2)" → "read").
func cleanWord(w string) string {
	w = strings.TrimSpace(w)
	if w == "" || strings.HasPrefix(w, "<") || strings.HasPrefix(w, "[") || strings.HasPrefix(w, "++") {
		return ""
	}
	if i := strings.IndexByte(w, '('); i > 0 && strings.HasSuffix(w, ")") {
		w = w[:i]
	}
	return w
}

// cleanHyp applies cleanWord to every word of a hypothesis string.
func cleanHyp(h string) string {
	f := strings.Fields(h)
	out := f[:0]
	for _, w := range f {
		if c := cleanWord(w); c != "" {
			out = append(out, c)
		}
	}
	return strings.Join(out, " ")
}
