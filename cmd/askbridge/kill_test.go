package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"
)

// TestKilledRepeatedlyUnderLoad posts patron messages from several
// goroutines (each retrying until it gets a 200, as Facebook does) while
// the daemon is killed with SIGKILL at random moments and restarted. No
// acknowledged message may be lost; each patron's messages must arrive in
// order. A kill between writing a stanza and committing its removal can
// relay it twice: such duplicates must carry the same stanza id, so that
// clients can recognise them; their number is reported.
func TestKilledRepeatedlyUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	r := newRig(t)
	r.start("")
	const patrons, perPatron, kills = 6, 40, 3
	psids := make([]string, patrons)
	for i := range psids {
		psids[i] = newPSID()
	}
	var wg sync.WaitGroup
	var retries sync.Map
	for i, psid := range psids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < perPatron; k++ {
				body := patronBody(psid, fmt.Sprintf("mid.load.%d.%d", i, k), fmt.Sprintf("p%d m%02d", i, k), time.Now().UnixMilli())
				for attempt := 0; ; attempt++ {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					status, err := r.Facebook.PostSigned(ctx, body)
					cancel()
					if err == nil && status == 200 {
						break
					}
					if attempt > 400 {
						t.Errorf("p%d m%02d never acknowledged", i, k)
						return
					}
					retries.Store(fmt.Sprint(i, k, attempt), true)
					// Facebook's retry pause, pacing traffic while the
					// daemon restarts; no result is waited for.
					time.Sleep(50 * time.Millisecond)
				}
				// Pacing: patrons type at uneven speeds.
				time.Sleep(time.Duration(rand.IntN(15)) * time.Millisecond)
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	killed := 0
	for killed < kills {
		select {
		case <-done:
		case <-time.After(time.Duration(150+rand.IntN(450)) * time.Millisecond):
		}
		if err := r.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-r.exited
		killed++
		r.start("")
	}
	<-done
	got := r.collectAll(patrons * perPatron)
	ids := map[string]string{}
	dups := 0
	last := map[string]string{}
	for _, m := range got {
		if id, seen := ids[m.Body]; seen {
			dups++
			if id != m.ID {
				t.Errorf("duplicate of %q with another stanza id (%s, %s)", m.Body, id, m.ID)
			}
			continue
		}
		ids[m.Body] = m.ID
		var p, k int
		fmt.Sscanf(m.Body, "p%d m%d", &p, &k)
		key := fmt.Sprint(p)
		if prev, ok := last[key]; ok && prev > m.Body {
			t.Errorf("patron %d out of order: %q after %q", p, m.Body, prev)
		}
		last[key] = m.Body
	}
	if len(ids) != patrons*perPatron {
		t.Errorf("delivered %d distinct messages of %d acknowledged", len(ids), patrons*perPatron)
	}
	n := 0
	retries.Range(func(_, _ any) bool { n++; return true })
	t.Logf("%d kills; %d webhooks acknowledged after %d refused or failed deliveries; %d delivered, %d lost, %d duplicates",
		kills, patrons*perPatron, n, len(got), patrons*perPatron-len(ids), dups)
}
