package daemon

import (
	"context"
	"fmt"
	"net/http"
	"time"

	sd "github.com/coreos/go-systemd/v22/daemon"
	"go.uber.org/zap"
)

// States reported to systemd (sd_notify); without NOTIFY_SOCKET they are
// not sent.
const (
	sdReady     = sd.SdNotifyReady
	sdStopping  = sd.SdNotifyStopping
	sdReloading = sd.SdNotifyReloading
	sdWatchdog  = sd.SdNotifyWatchdog
)

func (d *Daemon) notify(state string) {
	if _, err := sd.SdNotify(false, state); err != nil {
		d.log.Warn("telling systemd", zap.String("state", state), zap.Error(err))
	}
}

// watchdog pets systemd's watchdog (WatchdogSec=) only while the daemon
// really works: the store takes writes and the HTTP server answers. A
// down Jabber server does not stop it: restarting askbridge would not
// bring the server back, and readiness already says so.
func (d *Daemon) watchdog(ctx context.Context) {
	interval, err := sd.SdWatchdogEnabled(false)
	if err != nil || interval <= 0 {
		return
	}
	t := time.NewTicker(interval / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := d.working(ctx); err != nil {
			d.log.Error("not petting the systemd watchdog", zap.Error(err))
			continue
		}
		d.notify(sdWatchdog)
	}
}

// working checks that the store commits and the HTTP server answers.
func (d *Daemon) working(ctx context.Context) error {
	if err := d.store.Writable(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(cctx, http.MethodGet, "http://"+d.Addr()+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("HTTP: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP: /healthz answered %d", resp.StatusCode)
	}
	return nil
}
