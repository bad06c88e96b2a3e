package stats_test

import (
	"testing"
	"time"

	"github.com/askbridge/askbridge/stats"
)

func TestWaitDuration(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 14, 5, 9, 0, time.UTC)
	tests := []struct {
		name           string
		s              stats.Session
		wait, duration time.Duration
	}{
		{"open, unanswered", stats.Session{Started: t0}, 0, 0},
		{"open, answered", stats.Session{Started: t0, Accepted: t0.Add(time.Minute)}, time.Minute, 0},
		{"ended", stats.Session{Started: t0, Accepted: t0.Add(1500 * time.Millisecond), Ended: t0.Add(time.Hour)}, 1500 * time.Millisecond, time.Hour},
		{"clock went backwards", stats.Session{Started: t0, Accepted: t0.Add(-time.Second), Ended: t0.Add(-time.Minute)}, 0, 0},
	}
	for _, tt := range tests {
		if got := tt.s.Wait(); got != tt.wait {
			t.Errorf("%s: Wait() = %v, want %v", tt.name, got, tt.wait)
		}
		if got := tt.s.Duration(); got != tt.duration {
			t.Errorf("%s: Duration() = %v, want %v", tt.name, got, tt.duration)
		}
	}
}
