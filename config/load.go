package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/cast"
	"github.com/spf13/viper"

	"github.com/askbridge/askbridge/stats"
)

// EnvPrefix starts every environment variable that overrides a key.
const EnvPrefix = "ASKBRIDGE_"

// LookupEnv looks up an environment variable; os.LookupEnv in production.
type LookupEnv func(name string) (string, bool)

// Load reads the YAML file at path (if path is not empty), applies
// environment overrides from the process environment and validates the
// result.
func Load(path string) (*Config, error) {
	return LoadEnv(path, os.LookupEnv)
}

// LoadEnv is Load with an explicit environment, for tests and tools.
func LoadEnv(path string, env LookupEnv) (*Config, error) {
	cfg, err := Read(path, env)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Read reads the file and environment like LoadEnv but does not validate.
func Read(path string, env LookupEnv) (*Config, error) {
	v := viper.New()
	keys := make([]string, 0, len(defaults))
	for k, d := range defaults {
		v.SetDefault(k, d)
		keys = append(keys, k)
	}
	sort.Strings(keys)
	v.SetDefault("sessions.office_hours", map[string]string{})
	v.SetDefault("messenger.pages", []map[string]any{})
	if path != "" {
		v.SetConfigFile(path)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			return nil, fmt.Errorf("config: reading %s: %w", path, err)
		}
	}
	for _, k := range keys {
		val, ok, err := lookup(env, envName(k), isSecret(k))
		if err != nil {
			return nil, err
		}
		if ok {
			v.Set(k, val)
		}
	}
	var cfg Config
	// A bad duration would stop the decoding and hide every other
	// problem: report it with an example, decode the default instead.
	for _, k := range keys {
		d, ok := defaults[k].(time.Duration)
		if !ok {
			continue
		}
		if _, err := cast.ToDurationE(v.Get(k)); err != nil {
			cfg.readProblems = append(cfg.readProblems, fmt.Sprintf("%s: %q is not a duration (write it like 90s, 15m or 720h)", k, fmt.Sprint(v.Get(k))))
			v.Set(k, d)
		}
	}
	err := v.Unmarshal(&cfg, func(dc *mapstructure.DecoderConfig) {
		dc.ErrorUnused = true
	})
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", displayPath(path), unusedKeyError(err))
	}
	if err := pageOverrides(&cfg, env); err != nil {
		return nil, err
	}
	// A relative state_dir in the file means a folder beside the file,
	// whatever folder the command runs in.
	if path != "" && cfg.StateDir != "" && !filepath.IsAbs(cfg.StateDir) {
		if _, fromEnv := env(envName("state_dir")); !fromEnv {
			if dir, err := filepath.Abs(filepath.Dir(path)); err == nil {
				cfg.StateDir = filepath.Join(dir, cfg.StateDir)
			}
		}
	}
	// "Local" becomes the machine's zone name; if it cannot be named,
	// Validate reports it.
	if zone, err := stats.ResolveZone(cfg.Sessions.Timezone); err == nil {
		cfg.Sessions.Timezone = zone
	}
	return &cfg, nil
}

// envName is the environment variable that overrides key.
func envName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

func isSecret(key string) bool {
	for _, s := range secretKeys {
		if s == key {
			return true
		}
	}
	return false
}

// lookup returns the value of the variable name, or for secrets the
// contents of the file named by name_FILE.
func lookup(env LookupEnv, name string, secret bool) (string, bool, error) {
	if v, ok := env(name); ok {
		return v, true, nil
	}
	if !secret {
		return "", false, nil
	}
	file, ok := env(name + "_FILE")
	if !ok || file == "" {
		return "", false, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", false, fmt.Errorf("config: %s_FILE: %w", name, err)
	}
	return strings.TrimRight(string(b), "\r\n"), true, nil
}

// pageOverrides applies ASKBRIDGE_MESSENGER_PAGES_<N>_<KEY>[_FILE] to the
// pages list, so a Page token can come from a systemd credential.
func pageOverrides(cfg *Config, env LookupEnv) error {
	for i := 0; ; i++ {
		prefix := fmt.Sprintf("%sMESSENGER_PAGES_%d_", EnvPrefix, i)
		fields := map[string]bool{"ID": false, "NAME": false, "QUEUE": false, "INSTAGRAM_ID": false, "ACCESS_TOKEN": true}
		found := false
		vals := map[string]string{}
		for f, secret := range fields {
			v, ok, err := lookup(env, prefix+f, secret)
			if err != nil {
				return err
			}
			if ok {
				found = true
				vals[f] = v
			}
		}
		if !found {
			if i >= len(cfg.Messenger.Pages) {
				return nil
			}
			continue
		}
		for len(cfg.Messenger.Pages) <= i {
			cfg.Messenger.Pages = append(cfg.Messenger.Pages, Page{})
		}
		p := &cfg.Messenger.Pages[i]
		for f, v := range vals {
			switch f {
			case "ID":
				p.ID = v
			case "NAME":
				p.Name = v
			case "QUEUE":
				p.Queue = v
			case "INSTAGRAM_ID":
				p.InstagramID = v
			case "ACCESS_TOKEN":
				p.AccessToken = v
			}
		}
	}
}

var invalidKeys = regexp.MustCompile(`'([^']*)' has invalid keys: ([^\n]+)`)

// unusedKeyError turns mapstructure's report of keys it did not use into
// "unknown key(s): section.key, …", so a typo is named in full.
func unusedKeyError(err error) error {
	var keys []string
	for _, m := range invalidKeys.FindAllStringSubmatch(err.Error(), -1) {
		for _, k := range strings.Split(m[2], ", ") {
			if m[1] != "" {
				k = m[1] + "." + k
			}
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return err
	}
	return errors.New("unknown key(s): " + strings.Join(keys, ", "))
}

func displayPath(path string) string {
	if path == "" {
		return "environment"
	}
	return path
}
