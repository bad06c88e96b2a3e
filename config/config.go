// Package config loads and validates askbridge's configuration: a YAML file
// whose every key can be overridden by an environment variable
// ASKBRIDGE_<SECTION>_<KEY>, with secrets also readable from a file named by
// ASKBRIDGE_<SECTION>_<KEY>_FILE (for systemd credentials).
package config

import (
	"time"
)

// Config is the whole configuration of the daemon.
type Config struct {
	// StateDir holds the BoltDB store and the pseudonym key.
	StateDir  string    `mapstructure:"state_dir"`
	Log       Log       `mapstructure:"log"`
	HTTP      HTTP      `mapstructure:"http"`
	Messenger Messenger `mapstructure:"messenger"`
	XMPP      XMPP      `mapstructure:"xmpp"`
	Sessions  Sessions  `mapstructure:"sessions"`
	Stats     Stats     `mapstructure:"stats"`
	Privacy   Privacy   `mapstructure:"privacy"`

	// readProblems are values Read could not decode (a bad duration);
	// Validate reports them with the others.
	readProblems Problems
}

// Log configures logging.
type Log struct {
	// Level is debug, info, warn or error.
	Level string `mapstructure:"level"`
	// Format is json (for journald and log shippers) or console (for humans).
	Format string `mapstructure:"format"`
}

// HTTP configures the HTTP listener (webhook, health, metrics, stats).
type HTTP struct {
	Listen     string `mapstructure:"listen"`
	StatsToken string `mapstructure:"stats_token"`
}

// Messenger configures the Facebook side.
type Messenger struct {
	AppID       string `mapstructure:"app_id"`
	AppSecret   string `mapstructure:"app_secret"`
	VerifyToken string `mapstructure:"verify_token"`
	GraphURL    string `mapstructure:"graph_url"`
	APIVersion  string `mapstructure:"api_version"`
	// HumanAgent is true when the app is approved for the HUMAN_AGENT tag,
	// which allows human replies up to 7 days after the patron's last
	// message.
	HumanAgent bool   `mapstructure:"human_agent"`
	Pages      []Page `mapstructure:"pages"`
}

// Page is one Facebook Page the bridge answers for.
type Page struct {
	ID          string `mapstructure:"id"`
	Name        string `mapstructure:"name"`
	AccessToken string `mapstructure:"access_token"`
	// Queue overrides xmpp.queue for this Page's conversations.
	Queue string `mapstructure:"queue"`
	// InstagramID is the ID of the Instagram professional account linked
	// to the Page, whose Direct conversations the bridge carries too
	// (with the Page's token); empty for none.
	InstagramID string `mapstructure:"instagram_id"`
}

// XMPP configures the component connection and routing.
type XMPP struct {
	Server    string   `mapstructure:"server"`
	Domain    string   `mapstructure:"domain"`
	Secret    string   `mapstructure:"secret"`
	Queue     string   `mapstructure:"queue"`
	Operators []string `mapstructure:"operators"`
	Routing   string   `mapstructure:"routing"`
	// MaxStanzaBytes caps the size of a stanza the bridge writes to the
	// Jabber server: a longer patron text is split into several messages
	// that each fit. Keep it below the server's own limit for components
	// (Prosody: component_stanza_size_limit, 512 KiB by default), which
	// closes the stream on a larger stanza. 0 means DefaultStanzaBytes.
	MaxStanzaBytes int `mapstructure:"max_stanza_bytes"`
}

// StanzaLimit is MaxStanzaBytes, or DefaultStanzaBytes when it is 0.
func (x XMPP) StanzaLimit() int {
	if x.MaxStanzaBytes == 0 {
		return DefaultStanzaBytes
	}
	return x.MaxStanzaBytes
}

// Sessions configures conversation sessions and automatic replies.
type Sessions struct {
	Timezone        string            `mapstructure:"timezone"`
	IdleTimeout     time.Duration     `mapstructure:"idle_timeout"`
	OfficeHours     map[string]string `mapstructure:"office_hours"`
	Greeting        string            `mapstructure:"greeting"`
	AfterHoursReply string            `mapstructure:"after_hours_reply"`
	UnansweredAfter time.Duration     `mapstructure:"unanswered_after"`
	UnansweredReply string            `mapstructure:"unanswered_reply"`
	// DiscloseAutomatic starts each automatic reply the patron reads with
	// "(Automatic reply)"; on by default.
	DiscloseAutomatic bool `mapstructure:"disclose_automatic"`
	// FollowupGrace is how soon after a session ended a patron message
	// reopens it instead of starting a new one.
	FollowupGrace time.Duration `mapstructure:"followup_grace"`
}

// Stats configures the statistics views.
type Stats struct {
	// FiscalYearStart is the month (1–12) the library's statistics year
	// starts in, for the dashboard's "this fiscal year".
	FiscalYearStart int `mapstructure:"fiscal_year_start"`
}

// Privacy configures what the bridge keeps about patrons.
type Privacy struct {
	Transcripts         bool          `mapstructure:"transcripts"`
	TranscriptRetention time.Duration `mapstructure:"transcript_retention"`
}

// QueueFor returns the queue JID for conversations of the given Page.
func (c *Config) QueueFor(pageID string) string {
	for _, p := range c.Messenger.Pages {
		if p.ID == pageID && p.Queue != "" {
			return p.Queue
		}
	}
	return c.XMPP.Queue
}

// PageForInstagram returns the configured Page whose linked Instagram
// professional account has the given ID.
func (c *Config) PageForInstagram(accountID string) (Page, bool) {
	for _, p := range c.Messenger.Pages {
		if p.InstagramID != "" && p.InstagramID == accountID {
			return p, true
		}
	}
	return Page{}, false
}

// Page returns the configured Page with the given ID.
func (c *Config) Page(id string) (Page, bool) {
	for _, p := range c.Messenger.Pages {
		if p.ID == id {
			return p, true
		}
	}
	return Page{}, false
}
