package daemon

import (
	"go.uber.org/zap"

	"github.com/askbridge/askbridge/config"
)

// Reload applies a new, already validated configuration: operators,
// queues, Pages and their tokens, sessions and auto-reply settings, and
// privacy settings take effect at once. Keys that need a restart are
// returned and logged; until then the running values stay.
func (d *Daemon) Reload(next *config.Config) []string {
	d.notify(sdReloading)
	defer d.notify(sdReady)
	cur := d.currentConfig()
	var restart []string
	keep := func(key string, changed bool) {
		if changed {
			restart = append(restart, key)
		}
	}
	keep("state_dir", next.StateDir != cur.StateDir)
	keep("log.format", next.Log.Format != cur.Log.Format)
	keep("http.listen", next.HTTP.Listen != cur.HTTP.Listen)
	keep("messenger.app_secret", next.Messenger.AppSecret != cur.Messenger.AppSecret)
	keep("messenger.verify_token", next.Messenger.VerifyToken != cur.Messenger.VerifyToken)
	keep("messenger.graph_url", next.Messenger.GraphURL != cur.Messenger.GraphURL)
	keep("messenger.api_version", next.Messenger.APIVersion != cur.Messenger.APIVersion)
	keep("xmpp.server", next.XMPP.Server != cur.XMPP.Server)
	keep("xmpp.domain", next.XMPP.Domain != cur.XMPP.Domain)
	keep("xmpp.secret", next.XMPP.Secret != cur.XMPP.Secret)
	keep("xmpp.max_stanza_bytes", next.XMPP.MaxStanzaBytes != cur.XMPP.MaxStanzaBytes)

	// What needs a restart keeps its running value.
	applied := *next
	applied.StateDir, applied.Log.Format, applied.HTTP.Listen = cur.StateDir, cur.Log.Format, cur.HTTP.Listen
	applied.Messenger.AppSecret, applied.Messenger.VerifyToken = cur.Messenger.AppSecret, cur.Messenger.VerifyToken
	applied.Messenger.GraphURL, applied.Messenger.APIVersion = cur.Messenger.GraphURL, cur.Messenger.APIVersion
	applied.XMPP.Server, applied.XMPP.Domain, applied.XMPP.Secret = cur.XMPP.Server, cur.XMPP.Domain, cur.XMPP.Secret
	// The component's cap and the bridge's splitting must agree.
	applied.XMPP.MaxStanzaBytes = cur.XMPP.MaxStanzaBytes
	d.cfg.Store(&applied)
	d.bridge.SetConfig(&applied)
	if len(restart) > 0 {
		d.log.Warn("configuration reloaded; some changes need a restart", zap.Strings("restart_needed", restart))
	} else {
		d.log.Info("configuration reloaded")
	}
	return restart
}
