package messenger

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// flexID is an ID that Facebook sends as a JSON string or a JSON number.
// Numbers keep their exact digits (app and page IDs exceed float64
// precision); null is the empty ID.
type flexID string

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return fmt.Errorf("empty ID")
	case string(b) == "null":
		*f = ""
	case b[0] == '"':
		s, err := unquote(b)
		if err != nil {
			return err
		}
		*f = flexID(strings.TrimSpace(s))
	case b[0] == '-' || (b[0] >= '0' && b[0] <= '9'):
		// encoding/json has validated the literal; keep its digits.
		*f = flexID(b)
	default:
		return fmt.Errorf("ID must be a string or number, not %.20s", b)
	}
	return nil
}

// flexInt is an integer (a timestamp, a sequence number) that Facebook sends
// as a JSON number or a JSON string of digits. null and "" are 0.
type flexInt int64

// UnmarshalJSON implements json.Unmarshaler.
func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*f = 0
		return nil
	}
	if n, ok := parseDigits(b); ok {
		*f = flexInt(n)
		return nil
	}
	lit := string(b)
	if len(b) > 0 && b[0] == '"' {
		var err error
		if lit, err = unquote(b); err != nil {
			return err
		}
		lit = strings.TrimSpace(lit)
		if lit == "" {
			*f = 0
			return nil
		}
	}
	n, err := parseInt(lit)
	if err != nil {
		return err
	}
	*f = flexInt(n)
	return nil
}

// parseInt parses a decimal integer, accepting float notation ("1.46e12")
// for integral values in range.
func parseInt(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || x != math.Trunc(x) || math.Abs(x) > 1<<62 {
		return 0, fmt.Errorf("%.30q is not an integer", s)
	}
	return int64(x), nil
}

// unquote decodes the JSON string literal b as json.Unmarshal would. A
// literal without escapes is copied as it is, without a decoder.
func unquote(b []byte) (string, error) {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		inner := b[1 : len(b)-1]
		plain := true
		for _, c := range inner {
			if c == '\\' || c == '"' || c < ' ' {
				plain = false
				break
			}
		}
		if plain && utf8.Valid(inner) {
			return string(inner), nil
		}
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return "", err
	}
	return s, nil
}

// parseDigits parses b, an integer of at most 18 decimal digits with an
// optional minus sign, quoted or not, as parseInt would; ok is false for
// anything else (left to parseInt).
func parseDigits(b []byte) (n int64, ok bool) {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = b[1 : len(b)-1]
	}
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}
