package prosody

import "syscall"

// sysProcAttr makes the kernel kill Prosody when the process that started it
// dies, so a crashed or interrupted test run leaves no server behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
