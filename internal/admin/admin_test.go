package admin

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap/zaptest"

	"github.com/askbridge/askbridge/bridge"
	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/stats"
)

var errDisk = errors.New("disk full")

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errDisk }

func TestExportErrors(t *testing.T) {
	st, err := bridge.OpenStore(t.TempDir(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	q, err := stats.ParseQuery("2026-01-01", "2026-01-31", "", "", "UTC", false, false, 0, "")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Export(&b, st, q); err != nil || !strings.HasPrefix(b.String(), "id,guest,") {
		t.Errorf("empty store: %q, %v", b.String(), err)
	}
	err = Export(failingWriter{}, st, q)
	if !errors.Is(err, errDisk) || IsInvalid(err) || !strings.HasPrefix(err.Error(), "admin: writing export: stats: writing sessions csv: ") {
		t.Errorf("write error: %v", err)
	}
	q.Report = "nope"
	b.Reset()
	if err := Export(&b, st, q); !IsInvalid(err) || b.Len() != 0 {
		t.Errorf("invalid query: %v, wrote %q", err, b.String())
	}
}

// A store error in the middle of a streamed export must not look like a
// complete export: the client's read fails.
func TestHTTPExportCutOffOnStoreError(t *testing.T) {
	dir := t.TempDir()
	st, err := bridge.OpenStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	db, err := bolt.Open(bridge.StorePath(dir), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	const n = 5000
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("sessions"))
		for i := range n {
			at := start.Add(time.Duration(i) * time.Minute)
			k := make([]byte, 16)
			binary.BigEndian.PutUint64(k, uint64(at.UnixNano()))
			binary.BigEndian.PutUint64(k[8:], uint64(i+1))
			v := fmt.Appendf(nil, `{"id":"%x","guest":"g%04d","page":"1","queue":"ask@library.test","started":%q,"accepted":%q,"ended":%q,"operator":"alice@library.test","status":"answered","messages_in":1,"messages_out":1,"questions":1}`,
				k, i, at.Format(time.RFC3339Nano), at.Add(time.Minute).Format(time.RFC3339Nano), at.Add(5*time.Minute).Format(time.RFC3339Nano))
			if i == n-10 {
				v = []byte("{broken")
			}
			if err := b.Put(k, v); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	st, err = bridge.OpenStore(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := &config.Config{}
	cfg.HTTP.StatsToken = "tok"
	srv := httptest.NewServer(&Handler{Store: st, Config: func() *config.Config { return cfg }, Log: zaptest.NewLogger(t)})
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/stats/export?from=2026-03-01&to=2026-03-31&include_unanswered=1&timezone=UTC", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Fatalf("status %d, %d bytes read without error: a short export looks whole", resp.StatusCode, len(body))
	}
	if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(body, []byte("id,guest,")) {
		t.Errorf("status %d, body starts %.40q", resp.StatusCode, body)
	}
	t.Logf("read %d bytes, then %v", len(body), err)
}
