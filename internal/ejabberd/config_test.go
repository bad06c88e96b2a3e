package ejabberd

import (
	"strings"
	"testing"
)

func TestYAMLAndShellQuoting(t *testing.T) {
	for in, want := range map[string]string{
		"plain":      `"plain"`,
		`quote"d`:    `"quote\"d"`,
		`back\slash`: `"back\\slash"`,
		"new\nline":  `"new\nline"`,
		"ünïcode":    `"ünïcode"`,
	} {
		if got := yamlString(in); got != want {
			t.Errorf("yamlString(%q) = %s, want %s", in, got, want)
		}
	}
	if got := shellQuote("/tmp/it's"); got != `'/tmp/it'\''s'` {
		t.Errorf("shellQuote = %s", got)
	}
}

func TestRenderConfig(t *testing.T) {
	cfg := renderConfig("chat.test", []Component{{Domain: "fb.test", Secret: `s"e`}}, ports{c2s: 1111, component: 2222, dist: 3333}, false)
	for _, want := range []string{
		`hosts: ["chat.test"]`,
		"loglevel: info",
		"  - port: 1111\n    ip: \"127.0.0.1\"\n    module: ejabberd_c2s",
		"  - port: 2222\n    ip: \"127.0.0.1\"\n    module: ejabberd_service",
		"      \"fb.test\":\n        password: \"s\\\"e\"",
		"auth_password_format: plain",
		"s2s_access: none",
		"  mod_ping: {}",
	} {
		if !strings.Contains(cfg, want) {
			t.Errorf("config lacks %q:\n%s", want, cfg)
		}
	}
	for _, bad := range []string{"shaper", "starttls", "  mod_offline", "certfiles"} {
		if strings.Contains(cfg, bad+":") {
			t.Errorf("config must not set %s:\n%s", bad, cfg)
		}
	}
	if cfg := renderConfig("h", nil, ports{c2s: 1}, true); strings.Contains(cfg, "ejabberd_service") || !strings.Contains(cfg, "loglevel: debug") {
		t.Errorf("without components or with Debug:\n%s", cfg)
	}

	ctl := renderCtl("/tmp/x", "askbridge-1@localhost", ports{dist: 3333})
	for _, want := range []string{"EXEC_CMD=as_current_user", "ERLANG_NODE=askbridge-1@localhost", "ERL_DIST_PORT=3333",
		"ERL='/tmp/x/erl'", "EJABBERD_PID_PATH='/tmp/x/ejabberd.pid'"} {
		if !strings.Contains(ctl, want) {
			t.Errorf("ejabberdctl.cfg lacks %q:\n%s", want, ctl)
		}
	}
	if w := renderWrapper("/usr/bin/erl", "/usr/bin/setpriv"); !strings.Contains(w, "exec '/usr/bin/setpriv' --pdeathsig KILL '/usr/bin/erl' \"$@\"") {
		t.Errorf("wrapper:\n%s", w)
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		ok   bool
	}{
		{"empty", Options{Host: "localhost"}, true},
		{"full", Options{Host: "localhost", Components: []Component{{Domain: "fb.test", Secret: "s"}}, Users: []User{{Name: "a", Password: "p"}}}, true},
		{"component without secret", Options{Components: []Component{{Domain: "fb.test", Secret: ""}}}, false},
		{"component on the host", Options{Host: "localhost", Components: []Component{{Domain: "localhost", Secret: "s"}}}, false},
		{"user without password", Options{Users: []User{{Name: "a", Password: ""}}}, false},
		{"same fixed port twice", Options{C2SPort: 5222, ComponentPort: 5222}, false},
		{"port out of range", Options{C2SPort: 70000}, false},
	}
	for _, tt := range tests {
		if err := tt.o.validate(); (err == nil) != tt.ok {
			t.Errorf("%s: validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

func TestChoosePorts(t *testing.T) {
	for range 20 {
		p, err := choosePorts(ports{})
		if err != nil {
			t.Fatal(err)
		}
		if p.c2s == 0 || p.component == 0 || p.dist == 0 || p.c2s == p.component || p.c2s == p.dist || p.component == p.dist {
			t.Fatalf("choosePorts() = %+v", p)
		}
	}
}
