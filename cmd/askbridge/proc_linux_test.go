package main

import "syscall"

// childAttr makes the kernel send sig to a process the tests started when
// the test process dies (a panic, a timeout) before its clean-up could
// stop it.
func childAttr(sig syscall.Signal) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: sig}
}
