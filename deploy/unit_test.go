package deploy

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/internal/prosody"
)

// requireSystemdAnalyzeEnv turns a missing systemd-analyze from a skipped
// test into a failed one. CI sets it to "1".
const requireSystemdAnalyzeEnv = "ASKBRIDGE_REQUIRE_SYSTEMD_ANALYZE"

const unitFile = "askbridge.service"

// directives reads the unit's Key=Value lines (comments and sections
// dropped), in order.
func directives(t *testing.T) [][2]string {
	t.Helper()
	b, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	var out [][2]string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: not a directive: %q", unitFile, line)
		}
		out = append(out, [2]string{k, v})
	}
	return out
}

// TestUnitVerifies runs `systemd-analyze verify` on the unit. verify also
// checks that ExecStart's program exists, so it checks a copy whose
// ExecStart names this test binary instead of /usr/local/bin/askbridge.
func TestUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv(requireSystemdAnalyzeEnv) == "1" {
			t.Fatalf("systemd-analyze not found (%s=1): install it: apt-get install -y systemd", requireSystemdAnalyzeEnv)
		}
		t.Skipf("systemd-analyze not found: install it with apt-get install -y systemd (set %s=1 to fail instead)", requireSystemdAnalyzeEnv)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	const bin = "/usr/local/bin/askbridge"
	if !bytes.Contains(b, []byte("ExecStart="+bin+" ")) {
		t.Fatalf("ExecStart does not run %s", bin)
	}
	copied := filepath.Join(t.TempDir(), unitFile)
	if err := os.WriteFile(copied, bytes.ReplaceAll(b, []byte("ExecStart="+bin), []byte("ExecStart="+self)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(analyze, "verify", copied)
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_LEVEL=notice")
	out, err := cmd.CombinedOutput()
	// verify may also complain about other units on the machine; only
	// lines about ours count, and its exit status.
	var ours []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, unitFile) {
			ours = append(ours, line)
		}
	}
	if err != nil || len(ours) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestUnitSettings pins what the daemon relies on and the hardening the
// operations issue asks for.
func TestUnitSettings(t *testing.T) {
	have := map[string][]string{}
	for _, d := range directives(t) {
		have[d[0]] = append(have[d[0]], d[1])
	}
	for k, want := range map[string]string{
		"Type":                    "notify",
		"NotifyAccess":            "main",
		"WatchdogSec":             "30s",
		"ExecReload":              "/bin/kill -HUP $MAINPID",
		"Restart":                 "on-failure",
		"DynamicUser":             "yes",
		"StateDirectory":          "askbridge",
		"ConfigurationDirectory":  "askbridge",
		"NoNewPrivileges":         "yes",
		"ProtectSystem":           "strict",
		"ProtectHome":             "yes",
		"PrivateTmp":              "yes",
		"PrivateDevices":          "yes",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
		"CapabilityBoundingSet":   "",
		"Environment":             "ASKBRIDGE_STATE_DIR=%S/askbridge",
		"SystemCallFilter":        "@system-service",
	} {
		found := false
		for _, v := range have[k] {
			found = found || v == want
		}
		if !found {
			t.Errorf("%s lacks %s=%s (has %q)", unitFile, k, want, have[k])
		}
	}
}

// TestUnitCredentialsReachConfig loads config.example.yaml with the
// environment the unit sets, the credential directory (%d) holding a file
// per LoadCredential=, and checks that each secret lands in its key.
func TestUnitCredentialsReachConfig(t *testing.T) {
	credDir := t.TempDir()
	env := map[string]string{}
	creds := map[string]bool{}
	for _, d := range directives(t) {
		switch d[0] {
		case "LoadCredential":
			name, path, ok := strings.Cut(d[1], ":")
			if !ok || !strings.HasPrefix(path, "/etc/askbridge/credentials/") {
				t.Errorf("LoadCredential=%s: want NAME:/etc/askbridge/credentials/…", d[1])
			}
			creds[name] = true
			if err := os.WriteFile(filepath.Join(credDir, name), []byte("secret-"+name+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		case "Environment":
			k, v, _ := strings.Cut(d[1], "=")
			if name, ok := strings.CutPrefix(v, "%d/"); ok {
				if !creds[name] {
					t.Errorf("Environment=%s names credential %q, which no LoadCredential= before it loads", d[1], name)
				}
				v = filepath.Join(credDir, name)
			}
			env[k] = strings.ReplaceAll(v, "%S", t.TempDir())
		}
	}
	cfg, err := config.LoadEnv("../config.example.yaml", func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	for key, got := range map[string]string{
		"messenger.app_secret":            cfg.Messenger.AppSecret,
		"messenger.verify_token":          cfg.Messenger.VerifyToken,
		"xmpp.secret":                     cfg.XMPP.Secret,
		"http.stats_token":                cfg.HTTP.StatsToken,
		"messenger.pages[0].access_token": cfg.Messenger.Pages[0].AccessToken,
	} {
		if !strings.HasPrefix(got, "secret-") {
			t.Errorf("%s = %q: no credential reaches it", key, got)
		}
	}
	if !strings.HasSuffix(cfg.StateDir, "/askbridge") {
		t.Errorf("state_dir = %q, want StateDirectory's", cfg.StateDir)
	}
}

// TestProsodySnippet: Prosody accepts deploy/prosody.cfg.lua included
// from a configuration like Debian's.
func TestProsodySnippet(t *testing.T) {
	prosody.Require(t)
	ctl, err := exec.LookPath("prosodyctl")
	if err != nil {
		ctl = "/usr/bin/prosodyctl"
	}
	// prosodyctl run as root checks the files as the prosody user, so they
	// must be world-readable: t.TempDir's directories are not.
	dir, err := os.MkdirTemp("", "askbridge-deploy-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("prosody.cfg.lua")
	if err != nil {
		t.Fatal(err)
	}
	snippet := filepath.Join(dir, "askbridge.cfg.lua")
	if err := os.WriteFile(snippet, b, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := `-- a minimal stand-in for Debian's prosody.cfg.lua
pidfile = "` + dir + `/prosody.pid"
data_path = "` + dir + `"
certificates = "` + dir + `"
log = { { levels = { min = "error" }, to = "console" } }
modules_enabled = { "disco", "roster", "saslauth", "tls", "dialback", "ping" }
VirtualHost "library.example.org"
Include "` + snippet + `"
`
	path := filepath.Join(dir, "prosody.cfg.lua")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ctl, "--config", path, "check", "config").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "All checks passed") {
		t.Errorf("prosodyctl check config: %v\n%s", err, out)
	}
}
