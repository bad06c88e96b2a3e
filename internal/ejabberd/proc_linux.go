package ejabberd

import "syscall"

// sysProcAttr makes the kernel kill ejabberdctl when the process that
// started it dies; the VM follows (see renderWrapper).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
