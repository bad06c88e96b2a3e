package ejabberd

import (
	"fmt"
	"net"
	"time"
)

// choosePorts returns the fixed ports (non-zero) as they are and asks the
// kernel for free loopback ports for the others, all distinct. A free port
// may still be taken by another process before ejabberd binds it, which
// Start notices and answers by trying again.
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
	for _, port := range []*int{&p.c2s, &p.component, &p.dist} {
		if *port != 0 {
			continue
		}
		var err error
		if *port, err = free(); err != nil {
			return ports{}, err
		}
	}
	return p, nil
}

// addr is the loopback address of port.
func addr(port int) string {
	return net.JoinHostPort("127.0.0.1", fmt.Sprint(port))
}

// accepts reports whether something accepts TCP connections at addr.
func accepts(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
