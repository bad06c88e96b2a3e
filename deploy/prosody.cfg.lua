-- Prosody (0.12, Debian's package): attach askbridge as an external
-- component (XEP-0114).
--
-- Copy to /etc/prosody/conf.d/askbridge.cfg.lua (Debian's prosody.cfg.lua
-- includes conf.d/*.cfg.lua at its end), replace the domain and the secret,
-- check with `prosodyctl check config`, then `systemctl reload prosody`.
-- Put the same domain in askbridge's xmpp.domain, the same secret in
-- /etc/askbridge/credentials/xmpp_secret, and 127.0.0.1:5347 in xmpp.server.
--
-- Listener: Prosody opens its component port as soon as a Component with a
-- component_secret exists, by default on 5347 and on loopback only
-- (component_ports = { 5347 }, component_interfaces = { "127.0.0.1", "::1" }).
-- Keep it that way: XEP-0114 has no TLS. To change them, set component_ports
-- and component_interfaces in the global section of prosody.cfg.lua, above
-- the first VirtualHost; in this file they would belong to the Component
-- and be ignored.

-- The component's domain: patrons appear as <PSID>@fb.library.example.org.
-- It must not be one of your VirtualHosts.
Component "fb.library.example.org"
    -- Generate it with: openssl rand -hex 32
    component_secret = "replace with the contents of /etc/askbridge/credentials/xmpp_secret"

    -- Federation (a hosted queue such as LibraryH3lp's ask@chat.libraryh3lp.com):
    -- the queue's server connects back to this domain over s2s, so it needs
    -- DNS (an SRV record _xmpp-server._tcp.fb.library.example.org pointing at
    -- this server's port 5269, or an A/AAAA record) and a certificate that
    -- covers it: `prosodyctl --root cert import /etc/letsencrypt/live` picks
    -- it up when the name is on the certificate, or name the files here:
    -- ssl = {
    --     certificate = "/etc/prosody/certs/fb.library.example.org.crt";
    --     key = "/etc/prosody/certs/fb.library.example.org.key";
    -- }
