package config

import "time"

// defaults lists every scalar key with its default. Registering each key is
// also what lets viper see an environment override for it.
var defaults = map[string]any{
	"state_dir":                    "/var/lib/askbridge",
	"log.level":                    "info",
	"log.format":                   "json",
	"http.listen":                  "127.0.0.1:8080",
	"http.stats_token":             "",
	"messenger.app_id":             "",
	"messenger.app_secret":         "",
	"messenger.verify_token":       "",
	"messenger.graph_url":          "https://graph.facebook.com",
	"messenger.api_version":        "v25.0",
	"messenger.human_agent":        false,
	"xmpp.server":                  "127.0.0.1:5347",
	"xmpp.domain":                  "",
	"xmpp.secret":                  "",
	"xmpp.queue":                   "",
	"xmpp.operators":               []string{},
	"xmpp.routing":                 "queue",
	"xmpp.max_stanza_bytes":        DefaultStanzaBytes,
	"sessions.timezone":            "Local",
	"sessions.idle_timeout":        30 * time.Minute,
	"sessions.greeting":            "",
	"sessions.after_hours_reply":   "",
	"sessions.unanswered_after":    90 * time.Second,
	"sessions.unanswered_reply":    "",
	"sessions.followup_grace":      15 * time.Minute,
	"sessions.disclose_automatic":  true,
	"stats.fiscal_year_start":      7,
	"privacy.transcripts":          false,
	"privacy.transcript_retention": 720 * time.Hour,
}

// secretKeys are the keys that may also be read from a file named by the
// environment variable ASKBRIDGE_<KEY>_FILE.
var secretKeys = []string{
	"messenger.app_secret",
	"messenger.verify_token",
	"xmpp.secret",
	"http.stats_token",
}
