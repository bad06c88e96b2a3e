package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of /proc/<pid>/stat's CPU times (USER_HZ, 100 on
// Linux).
const clockTick = 10 * time.Millisecond

// procCPU returns the CPU time (user + system) pid has used.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("loadgen: reading CPU time: %w", err)
	}
	// The command name may hold spaces; fields after its ')' are fixed.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("loadgen: malformed /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("loadgen: malformed /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("loadgen: malformed /proc/%d/stat", pid)
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// cpuMeter measures the CPU time some processes use during a phase.
type cpuMeter struct {
	pids  map[string]int
	start map[string]time.Duration
}

// meterCPU starts measuring the named processes (pid 0 is skipped).
func meterCPU(pids map[string]int) *cpuMeter {
	m := &cpuMeter{pids: map[string]int{}, start: map[string]time.Duration{}}
	for name, pid := range pids {
		if pid == 0 {
			continue
		}
		if t, err := procCPU(pid); err == nil {
			m.pids[name], m.start[name] = pid, t
		}
	}
	return m
}

// finish fills p.CPUPerMsg with each process's CPU microseconds per
// message (per event acknowledged, or received where nothing is
// acknowledged), and the load average.
func (m *cpuMeter) finish(p *PhaseResult, msgs int) {
	p.LoadAvg = loadAvg()
	if msgs <= 0 {
		return
	}
	p.CPUPerMsg = map[string]float64{}
	for name, pid := range m.pids {
		t, err := procCPU(pid)
		if err != nil {
			continue
		}
		p.CPUPerMsg[name] = round3(float64((t - m.start[name]).Microseconds()) / float64(msgs))
	}
}

// loadAvg is the one-minute load average, a hint of how busy the shared
// machine was.
func loadAvg() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	x, _ := strconv.ParseFloat(f[0], 64)
	return x
}
