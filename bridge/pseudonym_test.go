package bridge

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestPseudonymKeyMissing: beside a store in use a missing key is
// refused, not made anew; beside a fresh store it is made; an existing
// key is never replaced.
func TestPseudonymKeyMissing(t *testing.T) {
	dir := stateDirWith(t, seededStore(t))
	keyPath := filepath.Join(dir, pseudonymKeyFile)
	if err := os.Remove(keyPath); err != nil {
		t.Fatal(err)
	}
	st, err := OpenStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.Fresh() {
		t.Error("a store in use is fresh")
	}
	_, err = LoadPseudonymizer(dir, st)
	var km *KeyMissingError
	if !errors.As(err, &km) || km.Path != keyPath {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(keyPath); err == nil {
		t.Error("a key was made")
	}
	if _, err := NewPseudonymKey(dir); err != nil {
		t.Fatalf("NewPseudonymKey: %v", err)
	}
	if _, err := NewPseudonymKey(dir); err == nil {
		t.Error("NewPseudonymKey replaced a key")
	}
	if _, err := LoadPseudonymizer(dir, st); err != nil {
		t.Errorf("after NewPseudonymKey: %v", err)
	}

	fresh := t.TempDir()
	fst, err := OpenStore(fresh, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer fst.Close()
	if _, err := LoadPseudonymizer(fresh, fst); err != nil {
		t.Fatalf("fresh store: %v", err)
	}
	if _, err := os.Stat(filepath.Join(fresh, pseudonymKeyFile)); err != nil {
		t.Errorf("no key beside a fresh store: %v", err)
	}
}
