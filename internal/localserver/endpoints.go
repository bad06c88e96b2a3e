package localserver

import "slices"

// Endpoints are how a running server is reached: its c2s virtual host, its
// two loopback listeners and the components it accepts. The harnesses'
// Server types embed them, so that both answer the same accessors.
type Endpoints struct {
	domain, c2s, component string
	components             []Component
}

// NewEndpoints returns the endpoints of a server for the virtual host
// domain, listening for clients on c2sPort and for components on
// componentPort.
func NewEndpoints(domain string, c2sPort, componentPort int, components []Component) Endpoints {
	return Endpoints{domain: domain, c2s: Addr(c2sPort), component: Addr(componentPort), components: slices.Clone(components)}
}

// Domain is the c2s virtual host: accounts are user@Domain.
func (e Endpoints) Domain() string { return e.domain }

// C2SAddr is the loopback host:port Jabber clients log in at.
func (e Endpoints) C2SAddr() string { return e.c2s }

// ComponentAddr is the loopback host:port of the XEP-0114 listener (open
// only when the server accepts components).
func (e Endpoints) ComponentAddr() string { return e.component }

// Components are the XEP-0114 components the server accepts.
func (e Endpoints) Components() []Component { return slices.Clone(e.components) }
