package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testSecrets stand in for the real secrets config.example.yaml leaves as
// placeholders.
var testSecrets = map[string]string{
	"ASKBRIDGE_MESSENGER_APP_SECRET":           "e6af24be1d683c8c911949f897eea1f6",
	"ASKBRIDGE_MESSENGER_VERIFY_TOKEN":         "verify-token-for-tests",
	"ASKBRIDGE_MESSENGER_PAGES_0_ACCESS_TOKEN": "EAAtest-page-token-0",
	"ASKBRIDGE_XMPP_SECRET":                    "component-secret-for-tests",
}

// env is an environment of m, with testSecrets for what m does not set.
func env(m map[string]string) LookupEnv {
	return func(k string) (string, bool) {
		if v, ok := m[k]; ok {
			return v, true
		}
		if _, ok := m[k+"_FILE"]; ok {
			return "", false
		}
		v, ok := testSecrets[k]
		return v, ok
	}
}

// TestExamplePlaceholdersRefused checks that config.example.yaml as it
// is cannot run: its placeholder secrets are named, each once.
func TestExamplePlaceholdersRefused(t *testing.T) {
	_, err := LoadEnv("../config.example.yaml", func(string) (string, bool) { return "", false })
	for _, key := range []string{"messenger.app_secret", "messenger.verify_token", "messenger.pages[0].access_token", "xmpp.secret"} {
		if err == nil || !strings.Contains(err.Error(), key+`: "change-me" is the example's placeholder`) {
			t.Errorf("%s: %v", key, err)
		}
	}
}

func TestExampleIsValid(t *testing.T) {
	cfg, err := LoadEnv("../config.example.yaml", env(nil))
	if err != nil {
		t.Fatalf("config.example.yaml: %v", err)
	}
	if cfg.XMPP.Domain != "fb.library.example.org" || cfg.Sessions.IdleTimeout != 30*time.Minute {
		t.Errorf("unexpected values: domain %q idle %v", cfg.XMPP.Domain, cfg.Sessions.IdleTimeout)
	}
	if len(cfg.Messenger.Pages) != 1 || cfg.Messenger.Pages[0].ID != "510249619162304" {
		t.Errorf("pages = %+v", cfg.Messenger.Pages)
	}
	if cfg.XMPP.MaxStanzaBytes != 65536 || cfg.XMPP.StanzaLimit() != 65536 || (XMPP{}).StanzaLimit() != DefaultStanzaBytes {
		t.Errorf("max_stanza_bytes = %d", cfg.XMPP.MaxStanzaBytes)
	}
	if cfg.Sessions.OfficeHours["sat"] != "10:00-17:00" {
		t.Errorf("office hours = %v", cfg.Sessions.OfficeHours)
	}
}

func TestEnvironmentOverrides(t *testing.T) {
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "secret")
	if err := os.WriteFile(secretFile, []byte("secret-from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("page-token-from-file"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadEnv("../config.example.yaml", env(map[string]string{
		"ASKBRIDGE_XMPP_SECRET_FILE":                    secretFile,
		"ASKBRIDGE_LOG_LEVEL":                           "debug",
		"ASKBRIDGE_SESSIONS_IDLE_TIMEOUT":               "5m",
		"ASKBRIDGE_MESSENGER_HUMAN_AGENT":               "true",
		"ASKBRIDGE_XMPP_OPERATORS":                      "a@x.org,b@x.org",
		"ASKBRIDGE_MESSENGER_PAGES_0_ACCESS_TOKEN_FILE": tokenFile,
		"ASKBRIDGE_MESSENGER_APP_SECRET":                "direct-app-secret-value",
		"ASKBRIDGE_MESSENGER_APP_SECRET_FILE":           secretFile, // the variable itself wins
	}))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"xmpp.secret", cfg.XMPP.Secret, "secret-from-a-file"},
		{"log.level", cfg.Log.Level, "debug"},
		{"sessions.idle_timeout", cfg.Sessions.IdleTimeout, 5 * time.Minute},
		{"messenger.human_agent", cfg.Messenger.HumanAgent, true},
		{"xmpp.operators", strings.Join(cfg.XMPP.Operators, " "), "a@x.org b@x.org"},
		{"page token", cfg.Messenger.Pages[0].AccessToken, "page-token-from-file"},
		{"page id kept", cfg.Messenger.Pages[0].ID, "510249619162304"},
		{"messenger.app_secret", cfg.Messenger.AppSecret, "direct-app-secret-value"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestPagesFromEnvironmentOnly(t *testing.T) {
	e := map[string]string{
		"ASKBRIDGE_STATE_DIR":                      "/tmp/x",
		"ASKBRIDGE_MESSENGER_APP_ID":               "1",
		"ASKBRIDGE_MESSENGER_APP_SECRET":           "app-secret-of-32-characters-xx",
		"ASKBRIDGE_MESSENGER_VERIFY_TOKEN":         "a-verify-token-long-enough",
		"ASKBRIDGE_MESSENGER_PAGES_0_ID":           "42",
		"ASKBRIDGE_MESSENGER_PAGES_0_ACCESS_TOKEN": "t",
		"ASKBRIDGE_MESSENGER_PAGES_1_ID":           "43",
		"ASKBRIDGE_MESSENGER_PAGES_1_ACCESS_TOKEN": "t2",
		"ASKBRIDGE_MESSENGER_PAGES_1_QUEUE":        "teen@chat.example.org",
		"ASKBRIDGE_XMPP_DOMAIN":                    "fb.example.org",
		"ASKBRIDGE_XMPP_SECRET":                    "a-component-secret-long",
		"ASKBRIDGE_XMPP_QUEUE":                     "ask@chat.example.org",
	}
	cfg, err := LoadEnv("", env(e))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Messenger.Pages) != 2 || cfg.QueueFor("43") != "teen@chat.example.org" || cfg.QueueFor("42") != "ask@chat.example.org" {
		t.Errorf("pages = %+v", cfg.Messenger.Pages)
	}
}

// TestBadKeys checks that each kind of mistake fails with a line naming
// the key.
func TestBadKeys(t *testing.T) {
	cases := []struct {
		env     map[string]string
		wantKey string
	}{
		{map[string]string{"ASKBRIDGE_MESSENGER_APP_SECRET": ""}, "messenger.app_secret: required"},
		{map[string]string{"ASKBRIDGE_XMPP_SECRET": " "}, "xmpp.secret: required"},
		{map[string]string{"ASKBRIDGE_MESSENGER_VERIFY_TOKEN": ""}, "messenger.verify_token: required"},
		{map[string]string{"ASKBRIDGE_MESSENGER_PAGES_0_ACCESS_TOKEN": ""}, "messenger.pages[0].access_token: required"},
		{map[string]string{"ASKBRIDGE_XMPP_SERVER": "localhost"}, "xmpp.server:"},
		{map[string]string{"ASKBRIDGE_XMPP_SERVER": "localhost:http"}, "xmpp.server:"},
		{map[string]string{"ASKBRIDGE_HTTP_LISTEN": "127.0.0.1:99999"}, "http.listen:"},
		{map[string]string{"ASKBRIDGE_XMPP_QUEUE": "not a jid@@"}, "xmpp.queue:"},
		{map[string]string{"ASKBRIDGE_XMPP_QUEUE": "ask@chat.example.org/desk"}, "xmpp.queue:"},
		{map[string]string{"ASKBRIDGE_XMPP_DOMAIN": "user@fb.example.org"}, "xmpp.domain:"},
		{map[string]string{"ASKBRIDGE_XMPP_OPERATORS": "*@"}, "xmpp.operators[0]:"},
		{map[string]string{"ASKBRIDGE_XMPP_ROUTING": "roundrobin"}, "xmpp.routing:"},
		{map[string]string{"ASKBRIDGE_XMPP_ROUTING": "broadcast"}, "xmpp.operators[0]:"}, // wildcard not allowed
		{map[string]string{"ASKBRIDGE_SESSIONS_TIMEZONE": "Mars/Olympus"}, "sessions.timezone:"},
		{map[string]string{"ASKBRIDGE_SESSIONS_IDLE_TIMEOUT": "0s"}, "sessions.idle_timeout:"},
		{map[string]string{"ASKBRIDGE_LOG_FORMAT": "xml"}, "log.format:"},
		{map[string]string{"ASKBRIDGE_MESSENGER_APP_ID": "abc"}, "messenger.app_id:"},
		{map[string]string{"ASKBRIDGE_MESSENGER_GRAPH_URL": "graph.facebook.com"}, "messenger.graph_url:"},
		{map[string]string{"ASKBRIDGE_MESSENGER_API_VERSION": "21"}, "messenger.api_version:"},
		{map[string]string{"ASKBRIDGE_XMPP_SECRET": "short"}, "xmpp.secret: is 5 characters long; use at least 16"},
		{map[string]string{"ASKBRIDGE_HTTP_STATS_TOKEN": "change-me"}, "http.stats_token: \"change-me\" is the example's placeholder"},
		{map[string]string{"ASKBRIDGE_SESSIONS_IDLE_TIMEOUT": "30 minutes"}, "sessions.idle_timeout: \"30 minutes\" is not a duration (write it like 90s, 15m or 720h)"},
		{map[string]string{"ASKBRIDGE_SESSIONS_FOLLOWUP_GRACE": "-1m"}, "sessions.followup_grace: must not be negative"},
		{map[string]string{"ASKBRIDGE_SESSIONS_FOLLOWUP_GRACE": "48h"}, "sessions.followup_grace: 48h0m0s is longer than a day"},
		{map[string]string{"ASKBRIDGE_STATS_FISCAL_YEAR_START": "13"}, "stats.fiscal_year_start: 13 is not a month"},
		{map[string]string{"ASKBRIDGE_STATS_FISCAL_YEAR_START": "0"}, "stats.fiscal_year_start: 0 is not a month"},
		{map[string]string{"ASKBRIDGE_XMPP_MAX_STANZA_BYTES": "1000"}, "xmpp.max_stanza_bytes: 1000 is not from 4096 to 524288 bytes"},
		{map[string]string{"ASKBRIDGE_XMPP_MAX_STANZA_BYTES": "600000"}, "xmpp.max_stanza_bytes: 600000 is not from 4096 to 524288 bytes"},
		{map[string]string{"ASKBRIDGE_MESSENGER_PAGES_0_INSTAGRAM_ID": "@library"}, "messenger.pages[0].instagram_id: \"@library\" is not a numeric"},
		{map[string]string{"ASKBRIDGE_MESSENGER_PAGES_0_INSTAGRAM_ID": "510249619162304"}, "messenger.pages[0].instagram_id: 510249619162304 is also a Page ID"},
		{map[string]string{"ASKBRIDGE_MESSENGER_PAGES_0_INSTAGRAM_ID": "17841400000000000",
			"ASKBRIDGE_MESSENGER_PAGES_1_ID": "620384751029384", "ASKBRIDGE_MESSENGER_PAGES_1_ACCESS_TOKEN": "t",
			"ASKBRIDGE_MESSENGER_PAGES_1_INSTAGRAM_ID": "17841400000000000"}, "messenger.pages[1].instagram_id: Instagram account 17841400000000000 is linked to two Pages"},
	}
	for _, c := range cases {
		_, err := LoadEnv("../config.example.yaml", env(c.env))
		if err == nil {
			t.Errorf("%v: no error", c.env)
			continue
		}
		found := false
		for _, line := range strings.Split(err.Error(), "\n") {
			if strings.HasPrefix(line, c.wantKey) {
				found = true
			}
		}
		if !found {
			t.Errorf("%v: error %q has no line starting %q", c.env, err, c.wantKey)
		}
	}
}

// TestCountingDefaults checks the defaults of the counting keys and that
// the machine's zone is named, never "Local".
func TestCountingDefaults(t *testing.T) {
	cfg, err := LoadEnv("../config.example.yaml", env(map[string]string{"ASKBRIDGE_SESSIONS_TIMEZONE": "Local"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Sessions.FollowupGrace != 15*time.Minute || cfg.Stats.FiscalYearStart != 7 {
		t.Errorf("followup_grace %v, fiscal_year_start %d; want 15m and 7", cfg.Sessions.FollowupGrace, cfg.Stats.FiscalYearStart)
	}
	if cfg.Sessions.Timezone == "Local" || cfg.Sessions.Timezone == "" {
		t.Errorf("sessions.timezone Local kept as %q", cfg.Sessions.Timezone)
	}
	if _, err := time.LoadLocation(cfg.Sessions.Timezone); err != nil {
		t.Errorf("sessions.timezone resolved to %q: %v", cfg.Sessions.Timezone, err)
	}
	cfg.Sessions.Timezone = "Local" // a configuration built in code
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate with Local: %v", err)
	}
}

// TestInstagramAccount checks that a Page's linked Instagram account is
// read and found by its ID.
func TestInstagramAccount(t *testing.T) {
	cfg, err := LoadEnv("../config.example.yaml", env(map[string]string{"ASKBRIDGE_MESSENGER_PAGES_0_INSTAGRAM_ID": "17841400000000000"}))
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := cfg.PageForInstagram("17841400000000000"); !ok || p.ID != "510249619162304" {
		t.Errorf("PageForInstagram = %+v, %v", p, ok)
	}
	if _, ok := cfg.PageForInstagram("510249619162304"); ok {
		t.Error("a Page ID was taken for an Instagram account")
	}
	if _, ok := cfg.PageForInstagram(""); ok {
		t.Error("the empty ID found a Page")
	}
}

// TestEveryProblemAtOnce checks that one run names every bad key: a bad
// duration does not hide the others, nor a bad routing the queue check.
func TestEveryProblemAtOnce(t *testing.T) {
	_, err := LoadEnv("../config.example.yaml", env(map[string]string{
		"ASKBRIDGE_SESSIONS_IDLE_TIMEOUT":        "soon",
		"ASKBRIDGE_PRIVACY_TRANSCRIPT_RETENTION": "a month",
		"ASKBRIDGE_XMPP_ROUTING":                 "roundrobin",
		"ASKBRIDGE_XMPP_QUEUE":                   "",
		"ASKBRIDGE_LOG_LEVEL":                    "loud",
	}))
	for _, key := range []string{"sessions.idle_timeout:", "privacy.transcript_retention:", "xmpp.routing:", "xmpp.queue: required", "log.level:"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s not named in %v", key, err)
		}
	}
}

// TestRelativeStateDir checks that a relative state_dir in a file is a
// folder beside the file, wherever the command runs.
func TestRelativeStateDir(t *testing.T) {
	dir := t.TempDir()
	example, err := os.ReadFile("../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(strings.Replace(string(example), "state_dir: /var/lib/askbridge", "state_dir: ./state", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadEnv(path, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "state"); cfg.StateDir != want {
		t.Errorf("state_dir = %q, want %q", cfg.StateDir, want)
	}
	// An environment override is taken as given.
	cfg, err = LoadEnv(path, env(map[string]string{"ASKBRIDGE_STATE_DIR": "rel"}))
	if err != nil || cfg.StateDir != "rel" {
		t.Errorf("state_dir from the environment = %q, %v", cfg.StateDir, err)
	}
}

func TestUnknownKeyIsNamed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte("xmpp:\n  secert: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadEnv(path, env(nil))
	if err == nil || !strings.Contains(err.Error(), "xmpp.secert") {
		t.Fatalf("err = %v, want it to name the unknown key", err)
	}
}

func TestMissingFileSecret(t *testing.T) {
	_, err := LoadEnv("../config.example.yaml", env(map[string]string{"ASKBRIDGE_XMPP_SECRET_FILE": "/nonexistent/secret"}))
	if err == nil || !strings.Contains(err.Error(), "ASKBRIDGE_XMPP_SECRET_FILE") {
		t.Fatalf("err = %v, want it to name the variable", err)
	}
}
