package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
)

// Phase names: the bridge and the three baselines, and the librarians'
// replies.
const (
	phaseProsody = "prosody" // (a) a bare component → Prosody → the receiver
	phaseWebhook = "webhook" // (b) HTTP + signature + parse, nothing stored
	phaseBolt    = "bolt"    // (c) the same records in BoltDB, fsynced, grouped
	phaseBridge  = "bridge"  // webhook → askbridge → Prosody → the receiver
	phaseReplies = "replies" // the receiver → Prosody → askbridge → the Send API stand-in
)

// allPhases is the order phases run in within a round.
var allPhases = []string{phaseProsody, phaseWebhook, phaseBolt, phaseBridge, phaseReplies}

// defaultPhases are the phases run without -phases: the bridge and its
// baselines, as fast as possible. The replies phase is left out: it is
// paced by default and measures the other direction, so it would change
// what a default run takes and says without adding to its comparison.
var defaultPhases = []string{phaseProsody, phaseWebhook, phaseBolt, phaseBridge}

// PhaseResult is what one phase of one round measured.
type PhaseResult struct {
	Phase string `json:"phase"`
	// Seconds is how long sending lasted (first send to last
	// acknowledgement).
	Seconds float64 `json:"seconds"`
	// EventsSent counts events offered; Posts the requests (or BoltDB
	// transactions, or stanzas) carrying them.
	EventsSent int `json:"events_sent"`
	Posts      int `json:"posts"`
	// AckedEvents counts events in acknowledged (200) POSTs.
	AckedEvents int `json:"acked_events"`
	// AcksPerSec is acknowledged POSTs per second; AckEventsPerSec the
	// events in them per second.
	AcksPerSec      float64 `json:"acks_per_s"`
	AckEventsPerSec float64 `json:"ack_events_per_s"`
	// E2EPerSec is distinct messages received by the Jabber client per
	// second, from the first send to the last arrival.
	E2EPerSec float64 `json:"e2e_per_s,omitempty"`
	// AckLatency is POST start (or scheduled start) to response.
	AckLatency Percentiles `json:"ack_latency_ms"`
	// E2ELatency is POST start (or scheduled start) to arrival at the
	// Jabber client; for the replies phase, the librarians' send (or
	// scheduled send) to the Send API stand-in's receiving the call.
	E2ELatency Percentiles `json:"e2e_latency_ms"`
	// HTTPErrors counts failed requests by status ("transport" for
	// connection failures).
	HTTPErrors map[string]int `json:"http_errors"`
	// Received counts distinct messages received; Lost acknowledged ones
	// that never arrived; Duplicated extra copies; Reordered messages that
	// overtook an earlier one of the same patron. For the replies phase:
	// replies received by the Send API stand-in; lost, replies written to
	// the librarians' stream that never reached it; HTTPErrors then counts
	// failed writes ("xmpp send"), error stanzas ("stanza <condition>")
	// and the bridge's notices to the librarians ("bridge notice"), and
	// there are no acknowledgements.
	Received   int `json:"received"`
	Lost       int `json:"lost"`
	Duplicated int `json:"duplicated"`
	Reordered  int `json:"reordered"`
	// Conversations is how many patrons the replies phase opened a
	// conversation for (one webhook event each) before replying.
	Conversations int `json:"conversations,omitempty"`
	// RSS of the process under test (the daemon, or the webhook-only
	// server), in bytes: the peak (VmHWM), after warm-up, and at the end.
	RSSPeak   int64   `json:"rss_peak_bytes,omitempty"`
	RSSWarm   int64   `json:"rss_warm_bytes,omitempty"`
	RSSEnd    int64   `json:"rss_end_bytes,omitempty"`
	RSSGrowth float64 `json:"rss_growth_pct,omitempty"`
	// AnonWarm, AnonEnd and AnonGrowth are the same for anonymous memory
	// (RssAnon: the Go heap and stacks), leaving out the BoltDB file pages
	// mapped into the process, which grow with the store by design.
	AnonWarm   int64   `json:"rss_anon_warm_bytes,omitempty"`
	AnonEnd    int64   `json:"rss_anon_end_bytes,omitempty"`
	AnonGrowth float64 `json:"rss_anon_growth_pct,omitempty"`
	// RSSByMinute is [RSS, anonymous RSS] in MiB at the start of each
	// minute of the phase.
	RSSByMinute [][2]float64 `json:"rss_by_minute_mib,omitempty"`
	// CPUPerMsg is the CPU time, in microseconds per message, used by the
	// process under test ("daemon", "webhook"), by Prosody and by the load
	// generator itself (sender, receiver, BoltDB baseline). Less noisy than
	// rates on a shared machine.
	CPUPerMsg map[string]float64 `json:"cpu_us_per_msg,omitempty"`
	// LoadAvg is the machine's one-minute load average at the end.
	LoadAvg float64 `json:"loadavg_1m"`
	// Throughput is the phase's headline figure in messages per second:
	// e2e for Prosody and the bridge, acknowledged events for the webhook
	// and BoltDB.
	Throughput float64 `json:"throughput_per_s"`
}

// Ratios compare the bridge with the baselines of the same round.
type Ratios struct {
	// ToProsody, ToWebhook, ToBolt are the bridge's end-to-end throughput
	// divided by each baseline's.
	ToProsody float64 `json:"bridge_to_prosody,omitempty"`
	ToWebhook float64 `json:"bridge_to_webhook,omitempty"`
	ToBolt    float64 `json:"bridge_to_bolt,omitempty"`
	// Limit names the smallest baseline; ToLimit is the ratio to it.
	Limit   string  `json:"limit,omitempty"`
	ToLimit float64 `json:"bridge_to_limit,omitempty"`
	// Added is the latency the bridge adds to Prosody's: each percentile
	// of the bridge's end-to-end latency minus the same percentile of the
	// bare component's, at the same target rate (set only with -rate).
	Added *Percentiles `json:"bridge_added_latency_ms,omitempty"`
}

// addedLatency subtracts Prosody's end-to-end percentiles from the
// bridge's.
func addedLatency(ph map[string]*PhaseResult) *Percentiles {
	br, ok1 := ph[phaseBridge]
	pr, ok2 := ph[phaseProsody]
	if !ok1 || !ok2 || br.E2ELatency.N == 0 || pr.E2ELatency.N == 0 {
		return nil
	}
	b, p := br.E2ELatency, pr.E2ELatency
	return &Percentiles{N: b.N, P50: round3(b.P50 - p.P50), P90: round3(b.P90 - p.P90), P99: round3(b.P99 - p.P99), Max: round3(b.Max - p.Max)}
}

// Round is one pass through the phases.
type Round struct {
	Phases map[string]*PhaseResult `json:"phases"`
	Ratios Ratios                  `json:"ratios"`
}

// Report is the whole run: the settings, each round, and the medians.
type Report struct {
	Machine  Machine                 `json:"machine"`
	Settings Settings                `json:"settings"`
	Rounds   []Round                 `json:"rounds"`
	Median   map[string]*PhaseResult `json:"median"`
	Ratios   Ratios                  `json:"median_ratios"`
}

// computeRatios fills the ratios of a set of phase results.
func computeRatios(ph map[string]*PhaseResult) Ratios {
	var r Ratios
	br, ok := ph[phaseBridge]
	if !ok || br.Throughput == 0 {
		return r
	}
	ratio := func(base string) float64 {
		b, ok := ph[base]
		if !ok || b.Throughput == 0 {
			return 0
		}
		return round3(br.Throughput / b.Throughput)
	}
	r.ToProsody, r.ToWebhook, r.ToBolt = ratio(phaseProsody), ratio(phaseWebhook), ratio(phaseBolt)
	smallest := math.Inf(1)
	for _, base := range []string{phaseProsody, phaseWebhook, phaseBolt} {
		if b, ok := ph[base]; ok && b.Throughput > 0 && b.Throughput < smallest {
			smallest, r.Limit = b.Throughput, base
		}
	}
	if r.Limit != "" {
		r.ToLimit = round3(br.Throughput / smallest)
	}
	return r
}

// medianPhases returns, per phase, the median of each figure over the
// rounds; error, loss and duplicate counts are summed instead, so that one
// bad round shows.
func medianPhases(rounds []Round) map[string]*PhaseResult {
	out := map[string]*PhaseResult{}
	for _, name := range allPhases {
		var rs []*PhaseResult
		for _, r := range rounds {
			if p, ok := r.Phases[name]; ok {
				rs = append(rs, p)
			}
		}
		if len(rs) == 0 {
			continue
		}
		med := func(f func(*PhaseResult) float64) float64 {
			xs := make([]float64, len(rs))
			for i, p := range rs {
				xs[i] = f(p)
			}
			return round3(median(xs))
		}
		medP := func(f func(*PhaseResult) Percentiles) Percentiles {
			return Percentiles{
				N:   int(med(func(p *PhaseResult) float64 { return float64(f(p).N) })),
				P50: med(func(p *PhaseResult) float64 { return f(p).P50 }),
				P90: med(func(p *PhaseResult) float64 { return f(p).P90 }),
				P99: med(func(p *PhaseResult) float64 { return f(p).P99 }),
				Max: med(func(p *PhaseResult) float64 { return f(p).Max }),
			}
		}
		m := &PhaseResult{Phase: name, HTTPErrors: map[string]int{}}
		m.Seconds = med(func(p *PhaseResult) float64 { return p.Seconds })
		m.EventsSent = int(med(func(p *PhaseResult) float64 { return float64(p.EventsSent) }))
		m.Posts = int(med(func(p *PhaseResult) float64 { return float64(p.Posts) }))
		m.AckedEvents = int(med(func(p *PhaseResult) float64 { return float64(p.AckedEvents) }))
		m.AcksPerSec = med(func(p *PhaseResult) float64 { return p.AcksPerSec })
		m.AckEventsPerSec = med(func(p *PhaseResult) float64 { return p.AckEventsPerSec })
		m.E2EPerSec = med(func(p *PhaseResult) float64 { return p.E2EPerSec })
		m.Throughput = med(func(p *PhaseResult) float64 { return p.Throughput })
		m.AckLatency = medP(func(p *PhaseResult) Percentiles { return p.AckLatency })
		m.E2ELatency = medP(func(p *PhaseResult) Percentiles { return p.E2ELatency })
		m.Received = int(med(func(p *PhaseResult) float64 { return float64(p.Received) }))
		m.Conversations = int(med(func(p *PhaseResult) float64 { return float64(p.Conversations) }))
		m.RSSPeak = int64(med(func(p *PhaseResult) float64 { return float64(p.RSSPeak) }))
		m.RSSWarm = int64(med(func(p *PhaseResult) float64 { return float64(p.RSSWarm) }))
		m.RSSEnd = int64(med(func(p *PhaseResult) float64 { return float64(p.RSSEnd) }))
		m.RSSGrowth = med(func(p *PhaseResult) float64 { return p.RSSGrowth })
		m.AnonWarm = int64(med(func(p *PhaseResult) float64 { return float64(p.AnonWarm) }))
		m.AnonEnd = int64(med(func(p *PhaseResult) float64 { return float64(p.AnonEnd) }))
		m.AnonGrowth = med(func(p *PhaseResult) float64 { return p.AnonGrowth })
		m.LoadAvg = med(func(p *PhaseResult) float64 { return p.LoadAvg })
		for _, p := range rs {
			for k := range p.CPUPerMsg {
				if m.CPUPerMsg == nil {
					m.CPUPerMsg = map[string]float64{}
				}
				m.CPUPerMsg[k] = med(func(p *PhaseResult) float64 { return p.CPUPerMsg[k] })
			}
		}
		for _, p := range rs {
			m.Lost += p.Lost
			m.Duplicated += p.Duplicated
			m.Reordered += p.Reordered
			for k, v := range p.HTTPErrors {
				m.HTTPErrors[k] += v
			}
		}
		out[name] = m
	}
	return out
}

// round3 rounds to three decimals, to keep the JSON readable.
func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// phaseTitle describes a phase for the human-readable lines.
var phaseTitle = map[string]string{
	phaseProsody: "(a) Prosody alone: bare component → Prosody → Jabber client",
	phaseWebhook: "(b) webhook without storage: HTTP + signature + parse",
	phaseBolt:    "(c) BoltDB alone: the same records, fsynced, grouped commits",
	phaseBridge:  "askbridge: signed webhook → BoltDB → component → Prosody → Jabber client",
	phaseReplies: "askbridge replies: librarian's Jabber client → Prosody → component → BoltDB → Send API stand-in",
}

// writeHuman prints one phase result as a few readable lines.
func writeHuman(w io.Writer, label string, p *PhaseResult) {
	fmt.Fprintf(w, "%s %s\n", label, phaseTitle[p.Phase])
	if p.Phase == phaseReplies {
		writeReplies(w, p)
		return
	}
	fmt.Fprintf(w, "    throughput %8.0f msg/s   (acks %.0f/s, acked events %.0f/s, e2e %.0f msg/s) over %.2fs\n",
		p.Throughput, p.AcksPerSec, p.AckEventsPerSec, p.E2EPerSec, p.Seconds)
	if p.AckLatency.N > 0 {
		fmt.Fprintf(w, "    ack latency ms  p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  (n=%d)\n",
			p.AckLatency.P50, p.AckLatency.P90, p.AckLatency.P99, p.AckLatency.Max, p.AckLatency.N)
	}
	if p.E2ELatency.N > 0 {
		fmt.Fprintf(w, "    e2e latency ms  p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  (n=%d)\n",
			p.E2ELatency.P50, p.E2ELatency.P90, p.E2ELatency.P99, p.E2ELatency.Max, p.E2ELatency.N)
	}
	fmt.Fprintf(w, "    sent %d events in %d requests, acked %d, received %d, lost %d, duplicated %d, reordered %d, errors %s\n",
		p.EventsSent, p.Posts, p.AckedEvents, p.Received, p.Lost, p.Duplicated, p.Reordered, formatErrors(p.HTTPErrors))
	writeCosts(w, p, "msg")
}

// writeReplies prints the figures of the replies phase.
func writeReplies(w io.Writer, p *PhaseResult) {
	fmt.Fprintf(w, "    throughput %8.0f replies/s at the Send API over %.2fs, after opening %d conversations\n",
		p.Throughput, p.Seconds, p.Conversations)
	if l := p.E2ELatency; l.N > 0 {
		fmt.Fprintf(w, "    reply latency ms (Jabber client send → Send API call)  p50 %.2f  p90 %.2f  p99 %.2f  max %.2f  (n=%d)\n",
			l.P50, l.P90, l.P99, l.Max, l.N)
	}
	fmt.Fprintf(w, "    sent %d replies, received %d at the Send API, lost %d, duplicated %d, reordered %d, errors %s\n",
		p.EventsSent, p.Received, p.Lost, p.Duplicated, p.Reordered, formatErrors(p.HTTPErrors))
	writeCosts(w, p, "reply")
}

// writeCosts prints the memory and CPU lines of a phase; unit names what
// the CPU time is per.
func writeCosts(w io.Writer, p *PhaseResult, unit string) {
	if len(p.RSSByMinute) > 2 {
		var parts []string
		for _, x := range p.RSSByMinute {
			parts = append(parts, fmt.Sprintf("%.0f/%.0f", x[0], x[1]))
		}
		fmt.Fprintf(w, "    RSS/anonymous MiB by minute: %s\n", strings.Join(parts, " "))
	}
	if len(p.CPUPerMsg) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(p.CPUPerMsg)) {
			parts = append(parts, fmt.Sprintf("%s %.0f", k, p.CPUPerMsg[k]))
		}
		fmt.Fprintf(w, "    CPU µs/%s: %s   (load average %.1f)\n", unit, strings.Join(parts, ", "), p.LoadAvg)
	}
	if p.RSSPeak > 0 {
		fmt.Fprintf(w, "    RSS peak %.1f MiB, after warm-up %.1f MiB, at end %.1f MiB (growth %+.1f%%); anonymous %.1f → %.1f MiB (%+.1f%%)\n",
			mib(p.RSSPeak), mib(p.RSSWarm), mib(p.RSSEnd), p.RSSGrowth, mib(p.AnonWarm), mib(p.AnonEnd), p.AnonGrowth)
	}
}

// writeRatios prints the ratios line, naming only the baselines that ran.
func writeRatios(w io.Writer, label string, r Ratios) {
	if r.Limit == "" {
		return
	}
	var parts []string
	for _, x := range []struct {
		name  string
		ratio float64
	}{{phaseProsody, r.ToProsody}, {phaseWebhook, r.ToWebhook}, {phaseBolt, r.ToBolt}} {
		if x.ratio > 0 {
			parts = append(parts, fmt.Sprintf("/ %s %.3f", x.name, x.ratio))
		}
	}
	fmt.Fprintf(w, "%s bridge e2e %s; smallest limit %s: ratio %.3f\n", label, strings.Join(parts, ", "), r.Limit, r.ToLimit)
	if a := r.Added; a != nil {
		fmt.Fprintf(w, "%s latency added by the bridge (bridge e2e − Prosody e2e at the same rate) ms  p50 %.2f  p90 %.2f  p99 %.2f\n",
			label, a.P50, a.P90, a.P99)
	}
}

func formatErrors(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s×%d", k, m[k]))
	}
	return strings.Join(parts, " ")
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// writeJSON writes the report as one line of JSON.
func writeJSON(w io.Writer, r *Report) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("loadgen: encoding report: %w", err)
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
