package prosody

import "github.com/askbridge/askbridge/internal/localserver"

// choosePorts returns the fixed ports (non-zero) as they are and free
// loopback ports for the others.
func choosePorts(fixed ports) (ports, error) {
	p := fixed
	err := localserver.FreePorts(&p.c2s, &p.component)
	return p, err
}
