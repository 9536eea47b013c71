package tokenizer

import (
	"strings"
	"unicode/utf8"
)

// gpt2Pattern is the split regex of the ByteLevel pre-tokenizer.
const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// byteToRune is GPT-2's bytes_to_unicode: printable bytes stand for
// themselves, the others for 256+n in byte order.
var byteToRune [256]rune

// runeToByte inverts byteToRune; entries for runes outside the map are -1.
var runeToByte = map[rune]byte{}

// byteLevelStr caches the UTF-8 string of every byte's character.
var byteLevelStr [256]string

func init() {
	n := 0
	for b := 0; b < 256; b++ {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = rune(256 + n)
			n++
		}
		runeToByte[byteToRune[b]] = byte(b)
		byteLevelStr[b] = string(byteToRune[b])
	}
}

// byteLevelEncode maps every byte of s to its ByteLevel character.
func byteLevelEncode(s string) string {
	var b strings.Builder
	b.Grow(len(s) * 2)
	for i := 0; i < len(s); i++ {
		b.WriteString(byteLevelStr[s[i]])
	}
	return b.String()
}

// byteLevelDecode maps the characters of a token back to bytes. ok is false
// when a character is outside the map (HF then keeps the token's own bytes).
func byteLevelDecode(dst []byte, tok string) ([]byte, bool) {
	start := len(dst)
	for _, r := range tok {
		if r < 0x80 && r >= '!' && r <= '~' {
			dst = append(dst, byte(r))
			continue
		}
		b, ok := runeToByte[r]
		if !ok {
			return dst[:start], false
		}
		dst = append(dst, b)
	}
	return dst, true
}

// lossyUTF8 converts bytes to a string, replacing every maximal invalid
// subsequence with U+FFFD as Rust's String::from_utf8_lossy does.
func lossyUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	sb.Grow(len(b) + 8)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r != utf8.RuneError || n > 1 {
			sb.Write(b[:n])
			b = b[n:]
			continue
		}
		sb.WriteRune(utf8.RuneError)
		b = b[invalidPrefixLen(b):]
	}
	return sb.String()
}

// invalidPrefixLen returns the length of the maximal prefix of b that is the
// start of a valid UTF-8 sequence but incomplete or broken (at least 1), per
// the Unicode "maximal subpart" rule that Rust follows.
func invalidPrefixLen(b []byte) int {
	c := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c == 0xE0:
		need, lo = 2, 0xA0
	case c >= 0xE1 && c <= 0xEC, c == 0xEE, c == 0xEF:
		need = 2
	case c == 0xED:
		need, hi = 2, 0x9F
	case c == 0xF0:
		need, lo = 3, 0x90
	case c >= 0xF1 && c <= 0xF3:
		need = 3
	case c == 0xF4:
		need, hi = 3, 0x8F
	default:
		return 1
	}
	i := 1
	for ; i <= need && i < len(b); i++ {
		if i == 1 {
			if b[i] < lo || b[i] > hi {
				return i
			}
		} else if b[i] < 0x80 || b[i] > 0xBF {
			return i
		}
	}
	return i
}
