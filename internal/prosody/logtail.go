package prosody

import (
	"path/filepath"

	"github.com/askbridge/askbridge/internal/localserver"
)

// tailLines is how much of Prosody's logs an error carries.
const tailLines = 25

// logTail returns the end of Prosody's log and of its console output, for
// error messages.
func logTail(dir string) string {
	var out string
	for _, f := range []string{logFile, outFile} {
		if t := localserver.Tail(filepath.Join(dir, f), tailLines); t != "" {
			out += "\n--- " + f + " (tail) ---\n" + t
		}
	}
	if out == "" {
		return " (prosody wrote no log)"
	}
	return out
}
