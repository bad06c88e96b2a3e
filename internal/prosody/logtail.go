package prosody

import (
	"bytes"
	"os"
	"path/filepath"
)

// tailLines is how much of Prosody's logs an error carries.
const tailLines = 25

// tail returns the last n lines of the file at path, or "" if it cannot be
// read.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	b = bytes.TrimRight(b, "\n")
	lines := bytes.Split(b, []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// logTail returns the end of Prosody's log and of its console output, for
// error messages.
func logTail(dir string) string {
	var out string
	if t := tail(filepath.Join(dir, logFile), tailLines); t != "" {
		out += "\n--- " + logFile + " (tail) ---\n" + t
	}
	if t := tail(filepath.Join(dir, outFile), tailLines); t != "" {
		out += "\n--- " + outFile + " (tail) ---\n" + t
	}
	if out == "" {
		return " (prosody wrote no log)"
	}
	return out
}
