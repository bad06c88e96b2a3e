package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestPercentiles(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(101-i)*time.Millisecond) // unsorted
	}
	got := percentiles(d)
	want := Percentiles{N: 100, P50: 50, P90: 90, P99: 99, Max: 100}
	if got != want {
		t.Errorf("percentiles of 1..100 ms = %+v, want %+v", got, want)
	}
	if got := percentiles(nil); got != (Percentiles{}) {
		t.Errorf("percentiles of nothing = %+v", got)
	}
	one := percentiles([]time.Duration{1500 * time.Microsecond})
	if one.P50 != 1.5 || one.P99 != 1.5 || one.Max != 1.5 {
		t.Errorf("percentiles of one sample = %+v", one)
	}
	// Nearest rank: p99 of 1000 samples is the 990th.
	d = d[:0]
	for i := 1; i <= 1000; i++ {
		d = append(d, time.Duration(i)*time.Microsecond)
	}
	if p := percentiles(d); p.P99 != 0.99 || p.P90 != 0.9 || p.P50 != 0.5 {
		t.Errorf("percentiles of 1..1000 µs = %+v", p)
	}
}

func TestAddedLatency(t *testing.T) {
	ph := map[string]*PhaseResult{
		phaseBridge:  {E2ELatency: Percentiles{N: 10, P50: 5, P90: 8, P99: 12, Max: 20}},
		phaseProsody: {E2ELatency: Percentiles{N: 10, P50: 1, P90: 2, P99: 3, Max: 4}},
	}
	if a := addedLatency(ph); a == nil || *a != (Percentiles{N: 10, P50: 4, P90: 6, P99: 9, Max: 16}) {
		t.Errorf("added = %+v", a)
	}
	delete(ph, phaseProsody)
	if a := addedLatency(ph); a != nil {
		t.Errorf("added without a Prosody phase = %+v", a)
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(c.xs); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.xs, got, c.want)
		}
	}
}

func TestRatiosAndMedians(t *testing.T) {
	round := func(bridge, prosody, webhook, bolt float64, lost int) Round {
		ph := map[string]*PhaseResult{
			phaseBridge:  {Phase: phaseBridge, Throughput: bridge, Lost: lost, HTTPErrors: map[string]int{"500": lost}},
			phaseProsody: {Phase: phaseProsody, Throughput: prosody},
			phaseWebhook: {Phase: phaseWebhook, Throughput: webhook},
			phaseBolt:    {Phase: phaseBolt, Throughput: bolt},
		}
		return Round{Phases: ph, Ratios: computeRatios(ph)}
	}
	r := round(800, 1000, 5000, 2000, 0)
	if r.Ratios.Limit != phaseProsody || r.Ratios.ToLimit != 0.8 || r.Ratios.ToWebhook != 0.16 || r.Ratios.ToBolt != 0.4 {
		t.Errorf("ratios = %+v", r.Ratios)
	}
	med := medianPhases([]Round{round(800, 1000, 5000, 2000, 0), round(600, 900, 5000, 500, 2), round(700, 1100, 4000, 3000, 1)})
	if b := med[phaseBridge]; b.Throughput != 700 || b.Lost != 3 || b.HTTPErrors["500"] != 3 {
		t.Errorf("median bridge = %+v", b)
	}
	if ratios := computeRatios(med); ratios.Limit != phaseProsody || ratios.ToLimit != round3(700.0/1000) {
		t.Errorf("median ratios = %+v", ratios)
	}
}

// TestReportJSON checks that the report is one line of JSON with the
// fields tools read.
func TestReportJSON(t *testing.T) {
	ph := map[string]*PhaseResult{phaseBridge: {Phase: phaseBridge, Throughput: 1, AckLatency: Percentiles{N: 1, P99: 2},
		HTTPErrors: map[string]int{"503": 1}, RSSPeak: 1 << 20}}
	rep := &Report{Settings: Settings{Phases: []string{phaseBridge}, Rounds: 1}, Rounds: []Round{{Phases: ph}}, Median: ph}
	var buf bytes.Buffer
	if err := writeJSON(&buf, rep); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
		t.Fatalf("not one line: %q", out)
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"machine", "settings", "rounds", "median", "median_ratios"} {
		if _, ok := m[k]; !ok {
			t.Errorf("report lacks %q", k)
		}
	}
	b := m["median"].(map[string]any)[phaseBridge].(map[string]any)
	for _, k := range []string{"throughput_per_s", "acks_per_s", "ack_events_per_s", "ack_latency_ms", "e2e_latency_ms",
		"http_errors", "lost", "duplicated", "rss_peak_bytes"} {
		if _, ok := b[k]; !ok {
			t.Errorf("phase result lacks %q", k)
		}
	}
	if p := b["ack_latency_ms"].(map[string]any); p["p99"] != 2.0 {
		t.Errorf("ack_latency_ms = %v", p)
	}
}

func TestWebhookBodyParses(t *testing.T) {
	var buf bytes.Buffer
	body := webhookBody(&buf, "abcd", 7, []string{"7000001000000001", "7000001000000002"}, time.UnixMilli(1768000000000))
	var v struct {
		Object string `json:"object"`
		Entry  []struct {
			Messaging []struct {
				Message struct{ MID, Text string } `json:"message"`
			} `json:"messaging"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	if v.Object != "page" || len(v.Entry) != 2 || v.Entry[1].Messaging[0].Message.Text != "lg abcd 8" {
		t.Errorf("body = %s", body)
	}
}

func TestPatronsOwnership(t *testing.T) {
	p := newPatrons(10, 4, 1)
	seen := map[string]int{}
	for w := range 4 {
		for _, id := range p.owned(w) {
			seen[id]++
		}
	}
	if len(seen) != 10 || !p.ordered() {
		t.Errorf("10 patrons over 4 senders: %v", seen)
	}
	for id, n := range seen {
		if n != 1 || len(id) != 16 {
			t.Errorf("patron %s owned %d times", id, n)
		}
	}
	if q := newPatrons(2, 4, 1); q.ordered() || len(q.owned(3)) != 1 {
		t.Error("fewer patrons than senders must be shared")
	}
}
