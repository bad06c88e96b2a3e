package ejabberd

import (
	"path/filepath"

	"github.com/askbridge/askbridge/internal/localserver"
)

// tailLines is how much of ejabberd's logs an error carries.
const tailLines = 25

// logTail returns the end of ejabberd's log and of ejabberdctl's console
// output, for error messages.
func logTail(dir string) string {
	var out string
	for _, f := range []string{logFile, outFile} {
		if t := localserver.Tail(filepath.Join(dir, f), tailLines); t != "" {
			out += "\n--- " + f + " (tail) ---\n" + t
		}
	}
	if out == "" {
		return " (ejabberd wrote no log)"
	}
	return out
}
