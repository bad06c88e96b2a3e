package messenger

import (
	"encoding/json"
	"strings"
	"testing"
)

// flexSeeds are JSON values of the shapes flexID and flexInt meet.
var flexSeeds = []string{
	`0`, `-0`, `7`, `-7`, `1468152707422`, `"1468152707422"`, `" 5 "`, `""`, `"-"`, `"+5"`, `-`,
	`999999999999999999`, `9999999999999999999`, `-9223372036854775808`, `1.468152707422e12`, `1e400`,
	`"\u0031\u0032"`, `"1\"2"`, `"a\\"`, `"\ud800"`, "\"\xff\"", "\"a\x01\"", `"x"`, `"`, `"a""b"`,
	`null`, `true`, `{}`, `[]`, ``, ` `, `"510249619162304"`, `"  510249619162304\t"`,
}

// flexIDReference and flexIntReference are the two UnmarshalJSON methods
// as they were before their fast paths: json.Unmarshal for every string.
func flexIDReference(b []byte) (flexID, error) {
	var s string
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return "", err
		}
		return flexID(strings.TrimSpace(s)), nil
	}
	var f flexID
	err := f.UnmarshalJSON(b) // the same code for everything but strings
	return f, err
}

func flexIntReference(b []byte) (flexInt, error) {
	if string(b) == "null" {
		return 0, nil
	}
	lit := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &lit); err != nil {
			return 0, err
		}
		lit = strings.TrimSpace(lit)
		if lit == "" {
			return 0, nil
		}
	}
	n, err := parseInt(lit)
	return flexInt(n), err
}

// FuzzFlex checks that flexID and flexInt read every input as they did
// with json.Unmarshal for each string, and unquote as json.Unmarshal does.
func FuzzFlex(f *testing.F) {
	for _, s := range flexSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		b = []byte(strings.TrimSpace(string(b))) // as the decoder hands values over
		var id flexID
		idErr := id.UnmarshalJSON(b)
		wantID, wantIDErr := flexIDReference(b)
		if id != wantID || (idErr == nil) != (wantIDErr == nil) {
			t.Fatalf("flexID(%q) = %q, %v; want %q, %v", b, id, idErr, wantID, wantIDErr)
		}
		var n flexInt
		nErr := n.UnmarshalJSON(b)
		wantN, wantNErr := flexIntReference(b)
		if (nErr == nil) != (wantNErr == nil) || (nErr == nil && n != wantN) {
			t.Fatalf("flexInt(%q) = %d, %v; want %d, %v", b, n, nErr, wantN, wantNErr)
		}
		s, err := unquote(b)
		var want string
		wantErr := json.Unmarshal(b, &want)
		if (err == nil) != (wantErr == nil) || (err == nil && s != want) {
			t.Fatalf("unquote(%q) = %q, %v; want %q, %v", b, s, err, want, wantErr)
		}
	})
}

// depthReference is checkDepth as it was: one byte at a time.
func depthReference(b []byte, limit int) bool {
	depth := 0
	inString, escaped := false, false
	for _, c := range b {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > limit {
				return false
			}
		case '}', ']':
			depth--
		}
	}
	return true
}

// FuzzCheckDepth checks checkDepth against the byte-at-a-time scan, with
// a small limit so that the fuzzer reaches it.
func FuzzCheckDepth(f *testing.F) {
	for _, s := range []string{``, `"`, `\"`, `"\"[[[`, `"\\"[[[`, `"\\\"[[[`, `[[["]]]"[`, `{"a":"[\\\\"}[[[`,
		`["\`, `[[[[`, `]]]][[[[`, `"abc\"def[[[[`, `{"x":"` + strings.Repeat(`\\`, 9) + `"}[[[[`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		const limit = 3
		got, want := checkDepth(b, limit) == nil, depthReference(b, limit)
		if got != want {
			t.Fatalf("checkDepth(%q) ok=%v, want %v", b, got, want)
		}
	})
}
