package xmpp

import (
	"strings"
	"testing"
	"time"
)

func TestConfigDefaults(t *testing.T) {
	c := Config{}.withDefaults()
	want := Config{Name: "askbridge", Version: "unknown", PingInterval: 30 * time.Second, PingTimeout: 10 * time.Second,
		BackoffMin: time.Second, BackoffMax: 30 * time.Second, WriteTimeout: 10 * time.Second, MaxStanzaBytes: 64 << 10}
	if c != want {
		t.Errorf("defaults %+v, want %+v", c, want)
	}
	set := Config{Name: "n", PingInterval: time.Minute}.withDefaults()
	if set.Name != "n" || set.PingInterval != time.Minute {
		t.Errorf("defaults overrode set fields: %+v", set)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{Server: "127.0.0.1:5347", Domain: "fb.library.example.org", Secret: "Sekr1t-xyz"}
	tests := []struct {
		name string
		mod  func(*Config)
		err  string // "" = valid
	}{
		{"valid", func(*Config) {}, ""},
		{"no server", func(c *Config) { c.Server = "" }, "server"},
		{"server without port", func(c *Config) { c.Server = "localhost" }, "host:port"},
		{"no domain", func(c *Config) { c.Domain = "" }, "domain"},
		{"domain with localpart", func(c *Config) { c.Domain = "a@fb.test" }, "bare domain"},
		{"no secret", func(c *Config) { c.Secret = "" }, "secret"},
		{"negative timeout", func(c *Config) { c.PingTimeout = -time.Second }, "negative"},
		{"min above max", func(c *Config) { c.BackoffMin = time.Minute }, "exceeds"},
	}
	for _, tt := range tests {
		c := ok
		tt.mod(&c)
		_, err := c.withDefaults().validate()
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: err = %v, want one mentioning %q", tt.name, err, tt.err)
		}
		if err != nil && strings.Contains(err.Error(), c.Secret) && c.Secret != "" {
			t.Errorf("%s: error shows the secret: %v", tt.name, err)
		}
	}
	if _, err := New(ok, nil, nil); err == nil {
		t.Error("New accepted a nil handler")
	}
}
