package config

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"mellium.im/xmpp/jid"

	"github.com/askbridge/askbridge/stats"
)

// Problems lists what is wrong with a configuration, one problem per key.
type Problems []string

// Error joins the problems, one per line.
func (p Problems) Error() string {
	return strings.Join(p, "\n")
}

var (
	numericID  = regexp.MustCompile(`^[0-9]{1,32}$`)
	apiVersion = regexp.MustCompile(`^v[0-9]+\.[0-9]+$`)
)

// Validate checks every key and returns Problems naming each bad key, or
// nil.
func (c *Config) Validate() error {
	var p Problems
	bad := func(key, format string, args ...any) {
		p = append(p, key+": "+fmt.Sprintf(format, args...))
	}
	required := func(key, val string) bool {
		if strings.TrimSpace(val) == "" {
			bad(key, "required (set it in the file, in %s or in %s_FILE)", envName(key), envName(key))
			return false
		}
		return true
	}

	required("state_dir", c.StateDir)
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "json", "console":
	default:
		bad("log.format", "%q is not one of json, console", c.Log.Format)
	}
	if err := checkHostPort(c.HTTP.Listen); err != nil {
		bad("http.listen", "%v", err)
	}

	m := c.Messenger
	if required("messenger.app_id", m.AppID) && !numericID.MatchString(m.AppID) {
		bad("messenger.app_id", "%q is not a numeric Facebook app ID", m.AppID)
	}
	if required("messenger.app_secret", m.AppSecret) {
		checkSecret(bad, "messenger.app_secret", m.AppSecret)
	}
	if required("messenger.verify_token", m.VerifyToken) {
		checkSecret(bad, "messenger.verify_token", m.VerifyToken)
	}
	if u, err := url.Parse(m.GraphURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("messenger.graph_url", "%q is not an http(s) URL", m.GraphURL)
	}
	if !apiVersion.MatchString(m.APIVersion) {
		bad("messenger.api_version", "%q is not a Graph API version like v25.0", m.APIVersion)
	}
	if len(m.Pages) == 0 {
		bad("messenger.pages", "at least one Page is required")
	}
	seen := map[string]bool{}
	for i, pg := range m.Pages {
		key := fmt.Sprintf("messenger.pages[%d]", i)
		if pg.ID == "" {
			bad(key+".id", "required")
		} else if !numericID.MatchString(pg.ID) {
			bad(key+".id", "%q is not a numeric Page ID", pg.ID)
		} else if seen[pg.ID] {
			bad(key+".id", "Page %s is listed twice", pg.ID)
		}
		seen[pg.ID] = true
		if strings.TrimSpace(pg.AccessToken) == "" {
			bad(key+".access_token", "required (set it in the file, in %sMESSENGER_PAGES_%d_ACCESS_TOKEN or in …_FILE)", EnvPrefix, i)
		} else if placeholders[strings.ToLower(strings.TrimSpace(pg.AccessToken))] {
			bad(key+".access_token", "%q is the example's placeholder: give the Page access token from the App Dashboard", pg.AccessToken)
		}
		if pg.Queue != "" {
			if err := checkBareJID(pg.Queue); err != nil {
				bad(key+".queue", "%v", err)
			}
		}
		switch {
		case pg.InstagramID == "":
		case !numericID.MatchString(pg.InstagramID):
			bad(key+".instagram_id", "%q is not a numeric Instagram professional account ID (such as 17841400000000000)", pg.InstagramID)
		case seen["ig:"+pg.InstagramID]:
			bad(key+".instagram_id", "Instagram account %s is linked to two Pages", pg.InstagramID)
		case seen[pg.InstagramID]:
			bad(key+".instagram_id", "%s is also a Page ID; give the Instagram professional account's own ID", pg.InstagramID)
		}
		seen["ig:"+pg.InstagramID] = pg.InstagramID != ""
	}

	x := c.XMPP
	if err := checkHostPort(x.Server); err != nil {
		bad("xmpp.server", "%v", err)
	}
	if required("xmpp.domain", x.Domain) {
		if j, err := jid.Parse(x.Domain); err != nil || j.Localpart() != "" || j.Resourcepart() != "" {
			bad("xmpp.domain", "%q is not a bare domain such as fb.library.example.org", x.Domain)
		}
	}
	if required("xmpp.secret", x.Secret) {
		checkSecret(bad, "xmpp.secret", x.Secret)
	}
	if c.HTTP.StatsToken != "" {
		checkSecret(bad, "http.stats_token", c.HTTP.StatsToken)
	}
	switch x.Routing {
	case "queue", "broadcast":
	default:
		bad("xmpp.routing", "%q is not one of queue, broadcast", x.Routing)
	}
	if x.Routing != "broadcast" { // queue routing, or a routing value to be fixed
		if required("xmpp.queue", x.Queue) {
			if err := checkBareJID(x.Queue); err != nil {
				bad("xmpp.queue", "%v", err)
			}
		}
	} else if len(x.Operators) == 0 {
		bad("xmpp.operators", "broadcast routing needs at least one operator JID")
	}
	if x.MaxStanzaBytes != 0 && (x.MaxStanzaBytes < MinStanzaBytes || x.MaxStanzaBytes > MaxStanzaBytes) {
		bad("xmpp.max_stanza_bytes", "%d is not from %d to %d bytes (the default, 65536, suits every Jabber server; stay below the server's limit for components)",
			x.MaxStanzaBytes, MinStanzaBytes, MaxStanzaBytes)
	}
	for i, op := range x.Operators {
		if err := checkOperator(op, x.Routing == "broadcast"); err != nil {
			bad(fmt.Sprintf("xmpp.operators[%d]", i), "%v", err)
		}
	}

	s := c.Sessions
	if s.Timezone == "Local" || s.Timezone == "" {
		if _, err := stats.ResolveZone(s.Timezone); err != nil {
			bad("sessions.timezone", "%v", err)
		}
	} else if _, err := time.LoadLocation(s.Timezone); err != nil {
		bad("sessions.timezone", "%q is not a known time zone (use a name like America/Toronto)", s.Timezone)
	}
	if _, err := ParseOfficeHours(s.OfficeHours); err != nil {
		bad("sessions.office_hours", "%v", err)
	}
	if s.IdleTimeout <= 0 {
		bad("sessions.idle_timeout", "must be a positive duration such as 30m")
	}
	if s.UnansweredAfter < 0 {
		bad("sessions.unanswered_after", "must not be negative")
	}
	if s.FollowupGrace < 0 {
		bad("sessions.followup_grace", "must not be negative (0 turns follow-ups off; the default is 15m)")
	} else if s.FollowupGrace > 24*time.Hour {
		bad("sessions.followup_grace", "%s is longer than a day; a message that late starts a new session (the default is 15m)", s.FollowupGrace)
	}
	if c.Stats.FiscalYearStart < 1 || c.Stats.FiscalYearStart > 12 {
		bad("stats.fiscal_year_start", "%d is not a month number from 1 (January) to 12", c.Stats.FiscalYearStart)
	}
	if c.Privacy.TranscriptRetention <= 0 {
		bad("privacy.transcript_retention", "must be a positive duration such as 720h")
	}
	p = append(c.readProblems, p...)
	if len(p) == 0 {
		return nil
	}
	return p
}

// The range of xmpp.max_stanza_bytes: room for a message's addresses and
// extensions beside some text, and no more than Prosody's default limit
// for components (512 KiB), since the server closes the stream on a
// stanza over its limit.
const (
	MinStanzaBytes     = 4 << 10
	MaxStanzaBytes     = 512 << 10
	DefaultStanzaBytes = 64 << 10
)

// minSecretLength is the shortest secret Validate accepts.
const minSecretLength = 16

// placeholders are values of config.example.yaml and documentation that
// must never run.
var placeholders = map[string]bool{"change-me": true, "changeme": true, "…": true, "...": true, "secret": true, "password": true}

// checkSecret refuses placeholder and short secrets: a webhook verify
// token or component secret anyone can guess lets them in.
func checkSecret(bad func(key, format string, args ...any), key, val string) {
	switch v := strings.TrimSpace(val); {
	case placeholders[strings.ToLower(v)]:
		bad(key, "%q is the example's placeholder: set a real secret (for example `openssl rand -hex 16`)", v)
	case len(v) < minSecretLength:
		bad(key, "is %d characters long; use at least %d (for example `openssl rand -hex 16`)", len(v), minSecretLength)
	}
}

func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("%q is not host:port", s)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q has no valid port", s)
	}
	_ = host // an empty host means all interfaces
	return nil
}

func checkBareJID(s string) error {
	j, err := jid.Parse(s)
	if err != nil || j.Resourcepart() != "" || j.Domainpart() == "" {
		return fmt.Errorf("%q is not a bare JID such as ask@chat.example.org", s)
	}
	return nil
}

// checkOperator accepts a bare JID or, unless exact is set, *@domain.
func checkOperator(s string, exact bool) error {
	if rest, ok := strings.CutPrefix(s, "*@"); ok {
		if exact {
			return fmt.Errorf("%q: broadcast routing needs exact operator JIDs, not a wildcard", s)
		}
		if j, err := jid.Parse(rest); err != nil || j.Localpart() != "" || j.Resourcepart() != "" {
			return fmt.Errorf("%q is not *@domain", s)
		}
		return nil
	}
	return checkBareJID(s)
}
