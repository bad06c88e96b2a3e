package admin

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The dashboard in a real browser: headless Chromium (Debian's chromium
// package) loads the page from a loopback listener, takes a screenshot
// and dumps the DOM it rendered.
//
// With no token configured, a request made directly from this machine is
// let in, so Chromium needs no credentials. The second test configures a
// token and opens an old-style bookmark with ?token=…: the browser follows
// the redirect that drops it, keeps the login cookie it was given and is
// let in with the cookie alone.

// chromium returns the browser's path, or skips the test (fails it with
// ASKBRIDGE_REQUIRE_CHROMIUM=1) when it is not installed.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "/usr/bin/chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("ASKBRIDGE_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("chromium is not installed and ASKBRIDGE_REQUIRE_CHROMIUM=1: apt-get install -y chromium")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); the browser test is skipped")
	return ""
}

// runChromium runs headless Chromium on url with the given extra flags
// and returns what it wrote to stdout. The browser gets a profile of its
// own, and its whole process tree is killed when it ends or times out.
func runChromium(t *testing.T, url string, flags ...string) []byte {
	t.Helper()
	bin := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir()}, flags...)
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Start()
	if err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	pgid := cmd.Process.Pid
	// Whatever happens, nothing of the browser outlives the test.
	defer func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) }()
	if err := cmd.Wait(); err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("chromium did not finish within the timeout; stderr:\n%s", stderr.String())
		}
		t.Fatalf("chromium: %v; stderr:\n%s", err, stderr.String())
	}
	return stdout.Bytes()
}

// TestDashboardInChromium renders a realistic month and checks the
// screenshot and the figures in the rendered DOM against the summary
// export.
func TestDashboardInChromium(t *testing.T) {
	chromium(t)
	st := seededStore(t, testMonths())
	h := testHandler(t, st, "")
	srv := httptest.NewServer(h)
	defer srv.Close()
	url := srv.URL + "/stats/"

	dir := os.Getenv("ASKBRIDGE_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "dashboard.png")
	_ = os.Remove(shot)
	runChromium(t, url, "--screenshot="+shot, "--window-size=1280,2400")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 2400 {
		t.Errorf("screenshot is %v, want 1280×2400", b)
	}
	t.Logf("screenshot of %s: %s", url, shot)

	dom := string(runChromium(t, url, "--dump-dom", "--window-size=1280,2400"))
	if !strings.Contains(dom, "<svg") || !strings.Contains(dom, `id="chart-heatmap"`) {
		t.Fatalf("the rendered page has no charts:\n%.2000s", dom)
	}
	checkFiguresMatchSummary(t, st, dom, "2027-03-01", "2027-03-31", testTimezone)
	if want := "1 March 2027 – 31 March 2027, America/Toronto time"; !strings.Contains(dom, want) {
		t.Errorf("the page does not say %q", want)
	}
}

// TestDashboardInChromiumWithToken opens /stats/?token=… with a token
// configured: Chromium must end on the dashboard (not the login form),
// with the token gone from the address it shows.
func TestDashboardInChromiumWithToken(t *testing.T) {
	chromium(t)
	st := seededStore(t, testMonths())
	h := testHandler(t, st, testToken)
	var tokenless atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/stats/" && !r.URL.Query().Has("token") {
			if _, err := r.Cookie(loginCookie); err == nil {
				tokenless.Add(1)
			}
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	dom := string(runChromium(t, srv.URL+"/stats/?period=last-month&token="+testToken, "--dump-dom"))
	if strings.Contains(dom, `action="/stats/login"`) || !strings.Contains(dom, `data-metric="sessions"`) {
		t.Fatalf("Chromium did not get the dashboard with the cookie:\n%.3000s", dom)
	}
	if strings.Contains(dom, testToken) {
		t.Error("the rendered page contains the token")
	}
	if tokenless.Load() == 0 {
		t.Error("Chromium never asked for /stats/ without the token, with the cookie")
	}
	checkFiguresMatchSummary(t, st, dom, "2027-02-01", "2027-02-28", testTimezone)
}
