package localserver

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFreePorts(t *testing.T) {
	a, b, fixed := 0, 0, 5222
	if err := FreePorts(&a, &fixed, &b); err != nil {
		t.Fatal(err)
	}
	if a == 0 || b == 0 || a == b || a == fixed || b == fixed || fixed != 5222 {
		t.Fatalf("ports %d %d %d", a, b, fixed)
	}
	l, err := net.Listen("tcp", Addr(a))
	if err != nil {
		t.Fatalf("port %d not free: %v", a, err)
	}
	defer l.Close()
	if !AllAccept(Addr(a)) || AllAccept(Addr(a), Addr(b)) {
		t.Error("AllAccept wrong")
	}
}

func TestLogHelpers(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log")
	var text string
	for i := 1; i <= 30; i++ {
		text += fmt.Sprintf("line %d\n", i)
	}
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := Tail(p, 2); got != "line 29\nline 30" {
		t.Errorf("Tail = %q", got)
	}
	rest, err := ReadFrom(p, int64(len("line 1\n")))
	if err != nil || rest[:6] != "line 2" {
		t.Errorf("ReadFrom = %q %v", rest[:6], err)
	}
	if !ContainsAll(rest, []string{"line 2", "line 30"}) || ContainsAll(rest, []string{"line 1\n"}) {
		t.Error("ContainsAll wrong")
	}
	if err := error(&PortTakenError{Port: 1}); !errors.Is(err, ErrPortTaken) {
		t.Error("PortTakenError does not match ErrPortTaken")
	}
}

func TestCheckSetup(t *testing.T) {
	tests := []struct {
		name      string
		comps     []Component
		users     []User
		c2s, comp int
		ok        bool
	}{
		{"empty", nil, nil, 0, 0, true},
		{"full", []Component{{Domain: "fb.test", Secret: "s"}}, []User{{Name: "a", Password: "p"}}, 5222, 5347, true},
		{"component without secret", []Component{{Domain: "fb.test"}}, nil, 0, 0, false},
		{"user without password", nil, []User{{Name: "a"}}, 0, 0, false},
		{"port out of range", nil, nil, 70000, 0, false},
		{"same ports", nil, nil, 5222, 5222, false},
	}
	for _, tt := range tests {
		err := CheckSetup("srv", tt.comps, tt.users, tt.c2s, tt.comp)
		if (err == nil) != tt.ok || (err != nil && !strings.HasPrefix(err.Error(), "srv: ")) {
			t.Errorf("%s: %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}
