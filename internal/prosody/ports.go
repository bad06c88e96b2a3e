package prosody

import (
	"fmt"
	"net"
)

// choosePorts returns the fixed ports (non-zero) as they are and asks the
// kernel for free loopback ports for the others, distinct from the fixed
// ones. Free ports are free when this returns; another process may still
// take one before Prosody binds it, which Start notices and answers by
// trying again.
func choosePorts(fixed ports) (ports, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	free := func() (int, error) {
		for {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return 0, fmt.Errorf("find a free loopback port: %w", err)
			}
			ls = append(ls, l) // held open so that the next pick differs
			if p := l.Addr().(*net.TCPAddr).Port; p != fixed.c2s && p != fixed.component {
				return p, nil
			}
		}
	}
	p := fixed
	var err error
	if p.c2s == 0 {
		if p.c2s, err = free(); err != nil {
			return ports{}, err
		}
	}
	if p.component == 0 {
		if p.component, err = free(); err != nil {
			return ports{}, err
		}
	}
	return p, nil
}

// addr is the loopback address of port.
func addr(port int) string {
	return net.JoinHostPort("127.0.0.1", fmt.Sprint(port))
}
