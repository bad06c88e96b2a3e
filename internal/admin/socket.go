package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"
)

// Listen opens the admin socket at path (replacing a stale one), readable
// and writable by the daemon's user only.
func Listen(path string) (net.Listener, error) {
	if c, err := net.DialTimeout("unix", path, 200*time.Millisecond); err == nil {
		c.Close()
		return nil, fmt.Errorf("admin: %s: another askbridge is running", path)
	}
	_ = os.Remove(path)
	old := syscall.Umask(0o177)
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	if err != nil {
		return nil, fmt.Errorf("admin: listening on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("admin: %w", err)
	}
	return ln, nil
}

// ErrNoDaemon means nothing answers on the admin socket.
var ErrNoDaemon = errors.New("admin: no running daemon answers")

// Fetch asks the daemon on the admin socket for path?query and copies the
// answer to w. It returns ErrNoDaemon when no daemon listens there.
func Fetch(ctx context.Context, socket, path string, p ExportParams, w io.Writer) error {
	return call(ctx, socket, http.MethodGet, path+"?"+p.Values().Encode(), w)
}

// ForgetVia asks the daemon on the admin socket to forget a patron.
func ForgetVia(ctx context.Context, socket, psid string, w io.Writer) error {
	return call(ctx, socket, http.MethodPost, "/admin/forget?psid="+psid, w)
}

// BackupVia asks the daemon on the admin socket for a consistent copy of
// the store.
func BackupVia(ctx context.Context, socket string, w io.Writer) error {
	return call(ctx, socket, http.MethodGet, "/admin/backup", w)
}

func call(ctx context.Context, socket, method, target string, w io.Writer) error {
	if _, err := os.Stat(socket); err != nil {
		return ErrNoDaemon
	}
	client := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
	}}
	req, err := http.NewRequestWithContext(ctx, method, "http://askbridge"+target, nil)
	if err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) && (errno == syscall.ECONNREFUSED || errno == syscall.ENOENT) {
			return ErrNoDaemon
		}
		return fmt.Errorf("admin: asking the daemon: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("daemon: %s", strings.TrimSpace(string(msg)))
	}
	if _, err := io.Copy(w, resp.Body); err != nil {
		return fmt.Errorf("admin: reading the daemon's answer: %w", err)
	}
	return nil
}
