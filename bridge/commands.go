package bridge

import (
	"strings"
)

// helpText lists the in-chat commands librarians can type to the bridge.
const helpText = `askbridge commands (typed into the chat with the patron; never sent to Facebook):
!help — this list`

// command runs an in-chat command and returns the answer for the
// librarian.
func (b *Bridge) command(body string) string {
	fields := strings.Fields(body)
	name := strings.ToLower(strings.TrimPrefix(fields[0], "!"))
	switch name {
	case "help":
		return helpText
	default:
		return "Unknown command !" + name + ".\n" + helpText
	}
}
