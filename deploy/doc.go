// Package deploy holds askbridge's deployment recipes: the systemd unit
// (askbridge.service) and its companion for commands run by hand
// (askbridge-admin), Jabber server snippets (prosody.cfg.lua, ejabberd.yml,
// openfire.md), reverse proxies (nginx.conf, Caddyfile), the Facebook app
// settings (facebook.md) and federation with a hosted queue
// (libraryh3lp.md). docs/deploy.md walks through an installation.
//
// The package has no code; its tests check the recipes: the unit passes
// `systemd-analyze verify` (skipped without systemd-analyze unless
// ASKBRIDGE_REQUIRE_SYSTEMD_ANALYZE=1) and its credentials reach the keys
// they are meant for; askbridge-admin sets the same variables; the Prosody
// snippet passes `prosodyctl check config`; nginx.conf passes `nginx -t`
// and the Caddyfile `caddy validate` where those are installed.
package deploy
