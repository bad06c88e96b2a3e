package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rssSampler samples a process's resident set size from /proc.
type rssSampler struct {
	pid  int
	stop chan struct{}
	done chan struct{}

	mu      sync.Mutex
	start   time.Time
	samples []rssSample
	peak    int64 // VmHWM at the last sample
}

type rssSample struct {
	at        time.Duration
	rss, anon int64
}

// sampleRSS starts sampling pid every interval; 0 means no process to
// watch (nothing is sampled).
func sampleRSS(pid int, interval time.Duration) *rssSampler {
	s := &rssSampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{}), start: time.Now()}
	if pid == 0 {
		close(s.done)
		return s
	}
	go func() {
		defer close(s.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.stop:
				s.sample()
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *rssSampler) sample() {
	m, err := procMem(s.pid)
	if err != nil {
		return
	}
	rss, anon, hwm := m["VmRSS"], m["RssAnon"], m["VmHWM"]
	s.mu.Lock()
	s.samples = append(s.samples, rssSample{time.Since(s.start), rss, anon})
	s.peak = max(s.peak, hwm)
	s.mu.Unlock()
}

// finish stops sampling and fills p: the peak, the RSS once warmed up
// (after a tenth of the run, at most a minute in), the RSS at the end, and
// the growth between the two.
func (s *rssSampler) finish(p *PhaseResult) {
	select {
	case <-s.done:
	default:
		close(s.stop)
		<-s.done
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.samples) == 0 {
		return
	}
	p.RSSPeak = s.peak
	last := s.samples[len(s.samples)-1]
	warmAt := min(last.at/10, time.Minute)
	warm := s.samples[0]
	for _, x := range s.samples {
		if x.at <= warmAt {
			warm = x
		}
	}
	next := time.Duration(0)
	for _, x := range s.samples {
		if x.at >= next {
			p.RSSByMinute = append(p.RSSByMinute, [2]float64{round3(mib(x.rss)), round3(mib(x.anon))})
			next += time.Minute
		}
	}
	p.RSSWarm, p.RSSEnd = warm.rss, last.rss
	p.AnonWarm, p.AnonEnd = warm.anon, last.anon
	if warm.rss > 0 {
		p.RSSGrowth = round3(100 * float64(last.rss-warm.rss) / float64(warm.rss))
	}
	if warm.anon > 0 {
		p.AnonGrowth = round3(100 * float64(last.anon-warm.anon) / float64(warm.anon))
	}
}

// procMem reads the memory lines of /proc/<pid>/status (VmRSS, VmHWM,
// RssAnon, RssFile…), in bytes.
func procMem(pid int) (map[string]int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, fmt.Errorf("loadgen: reading RSS: %w", err)
	}
	defer f.Close()
	m := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		fields := strings.Fields(v)
		if !ok || len(fields) != 2 || fields[1] != "kB" {
			continue
		}
		if n, err := strconv.ParseInt(fields[0], 10, 64); err == nil {
			m[k] = n << 10
		}
	}
	return m, sc.Err()
}
