package prosody

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Contact puts JID in the roster of the local user User with a mutual
// subscription, as if both had approved it: the user's server then sends
// the user's presence to JID and answers its probes, without a
// subscription request to approve first.
type Contact struct {
	User, JID string
	// Name is the roster item's name, shown by clients; may be empty.
	Name string
}

// writeContacts writes each user's roster in Prosody's internal storage
// before anyone logs in. A roster that is already there (a kept data
// directory, where the user may have added contacts) is left alone.
func (s *Server) writeContacts(contacts []Contact) error {
	byUser := map[string][]Contact{}
	var order []string
	for _, c := range contacts {
		if c.User == "" || c.JID == "" || strings.ContainsAny(c.User, "@/ ") {
			return fmt.Errorf("prosody: contact %q for %q: want a local user and a JID", c.JID, c.User)
		}
		if _, ok := byUser[c.User]; !ok {
			order = append(order, c.User)
		}
		byUser[c.User] = append(byUser[c.User], c)
	}
	dir := filepath.Join(s.Dir, dataDir, storeName(s.Domain()), "roster")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("prosody: contacts: %w", err)
	}
	for _, user := range order {
		path := filepath.Join(dir, storeName(user)+".dat")
		if _, err := os.Stat(path); err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("prosody: contacts of %s: %w", user, err)
		}
		if err := os.WriteFile(path, []byte(rosterFile(byUser[user])), 0o640); err != nil {
			return fmt.Errorf("prosody: contacts of %s: %w", user, err)
		}
	}
	return nil
}

// rosterFile is a roster in the Lua form of Prosody's internal storage.
func rosterFile(contacts []Contact) string {
	var b strings.Builder
	b.WriteString("return {\n\t[false] = { [\"version\"] = 1; [\"pending\"] = {}; };\n")
	for _, c := range contacts {
		fmt.Fprintf(&b, "\t[%s] = { [\"subscription\"] = \"both\"; [\"groups\"] = {}; ", lua(strings.ToLower(c.JID)))
		if c.Name != "" {
			fmt.Fprintf(&b, "[\"name\"] = %s; ", lua(c.Name))
		}
		b.WriteString("};\n")
	}
	b.WriteString("};\n")
	return b.String()
}

// storeName is how Prosody's internal storage names a host's or user's
// folder and file: every byte but letters and digits percent-encoded.
func storeName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02x", c)
		}
	}
	return b.String()
}
