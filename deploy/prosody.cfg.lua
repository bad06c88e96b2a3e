-- Prosody: attach askbridge as an external component (XEP-0114).
-- Add to /etc/prosody/prosody.cfg.lua (or a file in conf.d/), then
-- `prosodyctl reload`. Use the same domain and secret in askbridge's
-- xmpp.domain and xmpp.secret, and this port in xmpp.server.

component_ports = { 5347 }
component_interfaces = { "127.0.0.1" } -- askbridge runs on the same host

Component "fb.library.example.org"
    component_secret = "a long random secret"
