package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := rootCommand()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestCheckConfig(t *testing.T) {
	// The example as it is runs nowhere: its secrets are placeholders.
	if _, err := run(t, "check-config", "--config", "../../config.example.yaml"); err == nil ||
		!strings.Contains(err.Error(), `xmpp.secret: "change-me" is the example's placeholder`) {
		t.Errorf("the example with its placeholders: %v", err)
	}
	for k, v := range map[string]string{
		"ASKBRIDGE_MESSENGER_APP_SECRET":           "e6af24be1d683c8c911949f897eea1f6",
		"ASKBRIDGE_MESSENGER_VERIFY_TOKEN":         "verify-token-for-tests",
		"ASKBRIDGE_MESSENGER_PAGES_0_ACCESS_TOKEN": "EAAtest-page-token-0",
		"ASKBRIDGE_XMPP_SECRET":                    "component-secret-for-tests",
	} {
		t.Setenv(k, v)
	}
	out, err := run(t, "check-config", "--config", "../../config.example.yaml")
	if err != nil || !strings.Contains(out, "OK") {
		t.Fatalf("example config: %v %q", err, out)
	}

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	example, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(example), "routing: queue", "routing: roundrobin", 1)
	broken = strings.Replace(broken, "server: 127.0.0.1:5347", "server: 127.0.0.1", 1)
	if err := os.WriteFile(bad, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = run(t, "check-config", "--config", bad)
	if err == nil {
		t.Fatal("a bad config passed")
	}
	for _, key := range []string{"xmpp.routing:", "xmpp.server:"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error %q does not name %s", err, key)
		}
	}

	if _, err := run(t, "check-config", "--config", filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Error("a missing file passed")
	}
}
