package prosody

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLuaQuoting(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{`quote"d`, `"quote\"d"`},
		{`back\slash`, `"back\\slash"`},
		{"new\nline", `"new\010line"`},
		{"nul\x00then1", `"nul\000then1"`},
		{"del\x7f", `"del\127"`},
		{"ünïcode", `"ünïcode"`},
	}
	for _, tt := range tests {
		if got := lua(tt.in); got != tt.want {
			t.Errorf("lua(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestRenderConfig(t *testing.T) {
	cfg := renderConfig("/tmp/x", "chat.test", []Component{{Domain: "fb.test", Secret: `s"e`}}, ports{c2s: 1111, component: 2222}, false, false, 0)
	for _, want := range []string{
		"run_as_root = true",
		`pidfile = "/tmp/x/prosody.pid"`,
		`data_path = "/tmp/x/data"`,
		"c2s_ports = { 1111 }",
		"component_ports = { 2222 }",
		`component_interfaces = { "127.0.0.1" }`,
		"c2s_require_encryption = false",
		"allow_unencrypted_plain_auth = true",
		`authentication = "internal_plain"`,
		`modules_disabled = { "s2s", "s2s_auth_certs" }`,
		`VirtualHost "chat.test"`,
		`Component "fb.test"`,
		`component_secret = "s\"e"`,
		`min = "info"`,
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %q:\n%s", want, cfg)
		}
	}
	for _, bad := range []string{`"limits"`, `"tls"`} {
		if strings.Contains(cfg, bad) {
			t.Errorf("config must not load %s:\n%s", bad, cfg)
		}
	}
	if !strings.Contains(renderConfig("/d", "h", nil, ports{}, true, false, 0), `min = "debug"`) {
		t.Error("Debug does not raise the log level")
	}
}

func TestLogTail(t *testing.T) {
	dir := t.TempDir()
	if got := logTail(dir); !strings.Contains(got, "no log") {
		t.Errorf("logTail of empty dir = %q", got)
	}
	var lines []string
	for i := range 40 {
		lines = append(lines, "line "+string(rune('A'+i%26))+strings.Repeat("x", i))
	}
	if err := os.WriteFile(filepath.Join(dir, logFile), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	got := logTail(dir)
	if !strings.Contains(got, lines[39]) || !strings.Contains(got, lines[40-tailLines]) {
		t.Errorf("tail lacks the last %d lines:\n%s", tailLines, got)
	}
	if strings.Contains(got, lines[40-tailLines-1]+"\n") {
		t.Errorf("tail has more than %d lines:\n%s", tailLines, got)
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		ok   bool
	}{
		{"empty", Options{}, true},
		{"full", Options{Components: []Component{{Domain: "fb.test", Secret: "s"}}, Users: []User{{Name: "a", Password: "p"}}}, true},
		{"component without secret", Options{Components: []Component{{Domain: "fb.test", Secret: ""}}}, false},
		{"user without password", Options{Users: []User{{Name: "a", Password: ""}}}, false},
		{"fixed ports", Options{C2SPort: 5222, ComponentPort: 5347}, true},
		{"same fixed port twice", Options{C2SPort: 5222, ComponentPort: 5222}, false},
		{"port out of range", Options{C2SPort: 70000}, false},
	}
	for _, tt := range tests {
		if err := tt.o.validate(); (err == nil) != tt.ok {
			t.Errorf("%s: validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestRenderConfigTLS(t *testing.T) {
	cfg := renderConfig("/d", "h", nil, ports{}, false, true, 0)
	if !strings.Contains(cfg, `"tls"`) || !strings.Contains(cfg, "c2s_require_encryption = false") {
		t.Errorf("TLS config:\n%s", cfg)
	}
}

func TestRenderConfigComponentStanzaLimit(t *testing.T) {
	if cfg := renderConfig("/d", "h", nil, ports{}, false, false, 16384); !strings.Contains(cfg, "\ncomponent_stanza_size_limit = 16384\n") ||
		strings.Index(cfg, "component_stanza_size_limit") > strings.Index(cfg, "VirtualHost") {
		t.Errorf("no global component_stanza_size_limit:\n%s", cfg)
	}
	if cfg := renderConfig("/d", "h", nil, ports{}, false, false, 0); strings.Contains(cfg, "component_stanza_size_limit") {
		t.Errorf("a limit without one asked for:\n%s", cfg)
	}
}
