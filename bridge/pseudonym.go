package bridge

import (
	"github.com/askbridge/askbridge/bridge/store"

	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// pseudonymKeyFile holds the per-install secret that keys guest
// pseudonyms.
const pseudonymKeyFile = "pseudonym.key"

// PseudonymKeyPath is where the pseudonym key lives inside the state
// directory.
func PseudonymKeyPath(stateDir string) string {
	return filepath.Join(stateDir, pseudonymKeyFile)
}

// Pseudonymizer turns a Page and PSID into a stable guest pseudonym that
// cannot be turned back into the PSID without the install's key.
type Pseudonymizer struct {
	key []byte
}

// KeyMissingError means pseudonym.key is missing beside a store that
// holds records: a new key would give every returning patron a new
// pseudonym.
type KeyMissingError struct {
	// Path is where the key belongs.
	Path string
}

// Error implements error.
func (e *KeyMissingError) Error() string {
	return "pseudonym key " + e.Path + " is missing beside a store that holds records: with a new key every returning patron would get a new pseudonym"
}

// LoadPseudonymizer reads the key from stateDir. It makes the key (mode
// 0600) only beside a fresh store (see Store.Fresh); beside a store in use
// a missing key is a *KeyMissingError (see NewPseudonymKey).
func LoadPseudonymizer(stateDir string, st *Store) (*Pseudonymizer, error) {
	path := filepath.Join(stateDir, pseudonymKeyFile)
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if !st.Fresh() {
			return nil, &KeyMissingError{Path: path}
		}
		return NewPseudonymKey(stateDir)
	}
	if err != nil {
		return nil, fmt.Errorf("bridge: reading pseudonym key: %w", err)
	}
	if len(key) < 16 {
		return nil, fmt.Errorf("bridge: pseudonym key %s is too short", path)
	}
	return &Pseudonymizer{key: key}, nil
}

// NewPseudonymKey makes a new key in stateDir (mode 0600), refusing to
// replace one. Beside a store in use it gives every patron a new
// pseudonym, so askbridge does it only when told (askbridge
// new-pseudonym-key).
func NewPseudonymKey(stateDir string) (*Pseudonymizer, error) {
	path := filepath.Join(stateDir, pseudonymKeyFile)
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("bridge: making pseudonym key: %w", err)
	}
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("bridge: creating state dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("bridge: creating pseudonym key: %w", err)
	}
	_, werr := f.Write(key)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return nil, fmt.Errorf("bridge: writing pseudonym key: %w", err)
	}
	if err := store.SyncDir(stateDir); err != nil {
		return nil, fmt.Errorf("bridge: writing pseudonym key: %w", err)
	}
	return &Pseudonymizer{key: key}, nil
}

// Guest returns the 16-hex-digit pseudonym of a patron of a Page.
func (p *Pseudonymizer) Guest(page, psid string) string {
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(page))
	m.Write([]byte{0})
	m.Write([]byte(psid))
	return hex.EncodeToString(m.Sum(nil))[:16]
}
