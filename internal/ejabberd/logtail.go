package ejabberd

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
)

// tailLines is how much of ejabberd's logs an error carries.
const tailLines = 25

// tail returns the last n lines of the file at path, or "" if it cannot be
// read.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// logTail returns the end of ejabberd's log and of ejabberdctl's console
// output, for error messages.
func logTail(dir string) string {
	var out string
	for _, f := range []string{logFile, outFile} {
		if t := tail(filepath.Join(dir, f), tailLines); t != "" {
			out += "\n--- " + f + " (tail) ---\n" + t
		}
	}
	if out == "" {
		return " (ejabberd wrote no log)"
	}
	return out
}

// readFrom returns the file's contents from offset on.
func readFrom(path string, offset int64) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return "", err
	}
	b, err := io.ReadAll(f)
	return string(b), err
}
