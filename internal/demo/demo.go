// Package demo runs askbridge end to end on one machine: a private Prosody
// on loopback with two librarian accounts, the daemon, and a local
// stand-in for Facebook whose web page lets a person type as a Messenger
// patron. A librarian answers from any Jabber client; a conversation is
// offered to both librarians, and the first to reply owns it.
package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/config"
	"github.com/askbridge/askbridge/internal/daemon"
	"github.com/askbridge/askbridge/internal/prosody"
	"github.com/askbridge/askbridge/messenger"
	"github.com/askbridge/askbridge/messenger/standin"
)

//go:embed demo.yaml
var demoYAML string

// demoConfig is the demo's configuration file, filled in with demoValues.
var demoConfig = template.Must(template.New("demo.yaml").Parse(demoYAML))

// demoValues are the addresses and secrets of one demo run.
type demoValues struct {
	HTTPListen, AppSecret, VerifyToken, GraphURL, PageToken string
	ComponentAddr, ComponentSecret, Greeting, Unanswered    string
	Librarian, Colleague                                    string
}

// The demo's two librarian accounts, on the demo Prosody's host.
const (
	demoLibrarian = "librarian@localhost"
	demoColleague = "colleague@localhost"
	demoDomain    = "fb.localhost"
)

// The demo's automatic replies.
const (
	demoGreeting   = "Hi! A librarian will be with you shortly."
	demoUnanswered = "Sorry for the wait: all our librarians are busy. We will answer here as soon as we can."
)

// quoteYAML writes s as a YAML string (JSON strings are YAML).
func quoteYAML(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Options tune the demo.
type Options struct {
	// Dir keeps the demo's Prosody, store and config; "" makes a
	// temporary directory that is removed at the end.
	Dir string
	// C2SPort is where Jabber clients connect (5222 if 0 and free, else
	// any; negative: any).
	C2SPort int
	// PatronPort serves the patron page (8090 if 0 and free, else any;
	// negative: any).
	PatronPort int
	// Install lets the demo install Prosody with apt-get when missing.
	Install bool
	Log     *zap.Logger
	Out     io.Writer
	// Started, if set, is called once everything runs.
	Started func(Info)
}

// Info is what a person needs to use a running demo.
type Info struct {
	// ConfigPath is the demo's configuration file; StatsURL its
	// statistics page.
	ConfigPath string
	StatsURL   string
	PatronURL  string
	C2SAddr    string
	// Librarian and Colleague are the two librarian accounts, both with
	// Password.
	Librarian   string
	Colleague   string
	Password    string
	WebhookURL  string
	Standin     *standin.Server
	PageID      messenger.PageID
	PatronJIDAt string
}

// Run starts everything and blocks until ctx is done.
func Run(ctx context.Context, o Options) error {
	log := o.Log
	if log == nil {
		log = zap.NewNop()
	}
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	if err := ensureProsody(ctx, o.Install, out); err != nil {
		return err
	}
	dir := o.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "askbridge-demo-")
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		defer os.RemoveAll(d)
		dir = d
	}
	compSecret, appSecret, pageToken, verify := secret(), secret(), "EAAdemo"+secret(), secret()
	password, err := librarianPassword(o.Dir)
	if err != nil {
		return err
	}

	srv, err := prosody.Start(ctx, prosody.Options{
		Dir:        filepath.Join(dir, "prosody"),
		Host:       "localhost",
		C2SPort:    freeOr(o.C2SPort, 5222),
		Components: []prosody.Component{{Domain: demoDomain, Secret: compSecret}},
		Users:      []prosody.User{{Name: localOf(demoLibrarian), Password: password}, {Name: localOf(demoColleague), Password: password}},
		// The bridge is in both librarians' contacts already, so it sees
		// who is available without a subscription request to approve.
		Contacts: []prosody.Contact{
			{User: localOf(demoLibrarian), JID: demoDomain, Name: "askbridge"},
			{User: localOf(demoColleague), JID: demoDomain, Name: "askbridge"},
		},
		TLS: true,
		Log: log.Named("prosody"),
	})
	if err != nil {
		return fmt.Errorf("demo: starting Prosody: %w", err)
	}
	defer srv.Stop()

	// The daemon's HTTP listener first, so the stand-in knows where the
	// webhook is.
	httpLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	webhookURL := "http://" + httpLn.Addr().String() + "/webhook"
	patronLn, err := listen(freeOr(o.PatronPort, 8090))
	if err != nil {
		httpLn.Close()
		return fmt.Errorf("demo: %w", err)
	}
	const pageID, instagramID = "510249619162304", "17841400000000000"
	fb := standin.New(standin.Config{
		AppID:      "1708188056130407",
		AppSecret:  appSecret,
		WebhookURL: webhookURL,
		Pages:      []standin.Page{{ID: pageID, Name: "Demo Public Library", AccessToken: pageToken, InstagramID: instagramID}},
		Echoes:     true,
		Log:        log.Named("facebook"),
	})
	fbServer := &http.Server{Handler: fb.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go fbServer.Serve(patronLn)
	defer fbServer.Close()
	defer fb.Close()
	graphURL := "http://" + patronLn.Addr().String()

	cfgPath := filepath.Join(dir, "config.yaml")
	var cfgText bytes.Buffer
	err = demoConfig.Execute(&cfgText, demoValues{
		HTTPListen: httpLn.Addr().String(), AppSecret: appSecret, VerifyToken: verify, GraphURL: graphURL,
		PageToken: pageToken, ComponentAddr: srv.ComponentAddr(), ComponentSecret: compSecret,
		Greeting: quoteYAML(demoGreeting), Unanswered: quoteYAML(demoUnanswered),
		Librarian: demoLibrarian, Colleague: demoColleague,
	})
	if err == nil {
		err = os.WriteFile(cfgPath, cfgText.Bytes(), 0o600)
	}
	if err != nil {
		httpLn.Close()
		return fmt.Errorf("demo: writing %s: %w", cfgPath, err)
	}
	// The file alone, as `askbridge serve --config` would read it.
	cfg, err := config.LoadEnv(cfgPath, func(string) (string, bool) { return "", false })
	if err != nil {
		httpLn.Close()
		return fmt.Errorf("demo: %w", err)
	}
	d, err := daemon.New(cfg, log.Named("askbridge"), daemon.Options{Listener: httpLn})
	if err != nil {
		httpLn.Close()
		return err
	}
	info := Info{
		ConfigPath:  cfgPath,
		StatsURL:    "http://" + httpLn.Addr().String() + "/stats/",
		PatronURL:   "http://" + patronLn.Addr().String() + "/",
		C2SAddr:     srv.C2SAddr(),
		Librarian:   demoLibrarian,
		Colleague:   demoColleague,
		Password:    password,
		WebhookURL:  webhookURL,
		Standin:     fb,
		PageID:      pageID,
		PatronJIDAt: demoDomain,
	}
	printBanner(out, info)
	if o.Started != nil {
		o.Started(info)
	}
	return d.Run(ctx)
}

func printBanner(w io.Writer, i Info) {
	host, port, _ := net.SplitHostPort(i.C2SAddr)
	fmt.Fprintf(w, `
askbridge demo is running. Press Ctrl-C to stop.

  1. Be the patron: open %s
     and type a question, as if in Facebook Messenger (or choose the
     Instagram channel: the Page's linked Instagram account).

  2. Be the librarian: log in with any Jabber client (Gajim, Pidgin, …)
        JID:       %s   (a colleague: %s)
        password:  %s   (the same for both)
        server:    %s  port %s
     The server offers STARTTLS with a certificate made for this demo:
     accept it when the client asks (or allow a plain connection).
     The question arrives from a contact like <number>@%s
     (ig-<number>@… for Instagram), nicknamed "Facebook patron …" or
     "Instagram patron …". Reply there; the patron page shows it.
     Log in as both (two clients, or two accounts in one) to see who owns
     a conversation: it is offered to each librarian who is online, the
     first to reply answers it, and the other is told "answered by …".
     Type !help in that chat for the librarian's commands.

  3. Be the reference coordinator: the statistics page is
        %s
     and the same as CSV: askbridge stats export --config %s --from … --to …

  Automatic replies: a new conversation is greeted with
     %q
  and, if nobody answers within 2 minutes,
     %q

  Webhook: %s   Health: %s
`, i.PatronURL, i.Librarian, i.Colleague, i.Password, host, port, i.PatronJIDAt, i.StatsURL, i.ConfigPath,
		demoGreeting, demoUnanswered, i.WebhookURL, "http://"+hostOf(i.WebhookURL)+"/readyz")
}

// localOf is the local part of a bare JID.
func localOf(j string) string {
	local, _, _ := strings.Cut(j, "@")
	return local
}

func hostOf(u string) string {
	u = u[len("http://"):]
	for i := range u {
		if u[i] == '/' {
			return u[:i]
		}
	}
	return u
}

// ensureProsody installs Prosody with apt-get when it is missing and the
// demo may do so.
func ensureProsody(ctx context.Context, install bool, out io.Writer) error {
	if _, err := prosody.Binary(); err == nil {
		return nil
	}
	if !install {
		return errors.New("demo: Prosody is not installed; install it with: apt-get install -y prosody")
	}
	if os.Geteuid() != 0 {
		return errors.New("demo: Prosody is not installed; run as root to let the demo install it, or: sudo apt-get install -y prosody")
	}
	fmt.Fprintln(out, "Installing Prosody with apt-get (once)…")
	for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "prosody"}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("demo: apt-get %v: %w", args, err)
		}
	}
	if _, err := prosody.Binary(); err != nil {
		return fmt.Errorf("demo: Prosody still not found after installing: %w", err)
	}
	return nil
}

// freeOr returns want (fallback if 0) if that loopback port is free, else
// 0 (any port). A negative want asks for any port.
func freeOr(want, fallback int) int {
	if want < 0 {
		return 0
	}
	if want == 0 {
		want = fallback
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(want)))
	if err != nil {
		return 0
	}
	ln.Close()
	return want
}

func listen(port int) (net.Listener, error) {
	return net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
}

// librarianPassword makes the librarian's password; with a demo folder
// kept (--dir), the one of the first run, so a Jabber client set up once
// goes on logging in.
func librarianPassword(dir string) (string, error) {
	fresh := "librarian-" + secret()[:6]
	if dir == "" {
		return fresh, nil
	}
	path := filepath.Join(dir, "librarian-password")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	if err := os.WriteFile(path, []byte(fresh+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("demo: keeping the librarian's password: %w", err)
	}
	return fresh, nil
}

func secret() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
