package standin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// fbJSON encodes v the way Facebook's servers write JSON: every non-ASCII
// character as a \uXXXX escape (surrogate pairs beyond the BMP) and "/" as
// "\/", so webhook signatures are computed over bytes that differ from what
// a decoder would re-encode.
func fbJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("standin: encoding JSON: %w", err)
	}
	plain := bytes.TrimRight(buf.Bytes(), "\n")
	out := make([]byte, 0, len(plain)+len(plain)/8)
	for len(plain) > 0 {
		r, size := utf8.DecodeRune(plain)
		switch {
		case r == '/': // only ever inside strings in JSON
			out = append(out, '\\', '/')
		case r < utf8.RuneSelf:
			out = append(out, byte(r))
		case r > 0xFFFF:
			hi, lo := utf16.EncodeRune(r)
			out = fmt.Appendf(out, `\u%04x\u%04x`, hi, lo)
		default:
			out = fmt.Appendf(out, `\u%04x`, r)
		}
		plain = plain[size:]
	}
	return out, nil
}
