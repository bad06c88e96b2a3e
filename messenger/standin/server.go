package standin

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/askbridge/askbridge/messenger"
)

// Page is a Facebook Page the stand-in hosts.
type Page struct {
	ID          messenger.PageID
	Name        string
	AccessToken string
	// InstagramID is the Page's linked Instagram professional account, if
	// any: patrons named "ig-" and an IGSID write to it over Instagram
	// Direct, and the Send API answers them with the Page's token.
	InstagramID messenger.PageID
}

// Config configures a Server.
type Config struct {
	// AppID is our app's ID; echoes carry it as a JSON number.
	AppID string
	// AppSecret signs webhook POSTs (X-Hub-Signature-256 and
	// X-Hub-Signature).
	AppSecret string
	// WebhookURL is the bridge's POST /webhook URL.
	WebhookURL string
	// Pages are the Pages the Graph API knows, with their tokens.
	Pages []Page
	// Echoes makes the stand-in POST a message_echoes webhook (is_echo,
	// numeric app_id, metadata, mid) after each accepted Send API message,
	// as Facebook does.
	Echoes bool
	// MaxSent, when positive, bounds how many sent messages Sent keeps (the
	// latest); WaitSent still counts all. Zero keeps all.
	MaxSent int
	// OnSent, if set, is called with every Send API call the stand-in
	// accepts (messages and sender actions alike), once it is recorded and
	// before it is answered: when the caller has its answer, OnSent has
	// returned. It is never called for a call that is refused (bad token
	// or body, FailNext, a throttle). It runs on the request's goroutine
	// with no lock held, concurrently for concurrent calls, and delays
	// that call's answer by as long as it takes.
	OnSent func(SentMessage)
	// Now is the clock of throttles and of SentMessage.At; nil means
	// time.Now.
	Now func() time.Time
	// Log may be nil.
	Log *zap.Logger
	// HTTPClient posts webhooks; nil means a client with a 30-second
	// timeout.
	HTTPClient *http.Client
}

// SentMessage is one Send API call the stand-in accepted.
type SentMessage struct {
	Page          messenger.PageID
	Recipient     messenger.PSID
	MessagingType string
	Tag           string
	Text          string
	Metadata      string
	SenderAction  string
	Attachment    *messenger.Attachment
	// MID is the message ID the stand-in answered (empty for sender
	// actions).
	MID messenger.MID
	At  time.Time
}

// Server is the stand-in. Its methods are safe for concurrent use.
type Server struct {
	cfg   Config
	log   *zap.Logger
	hc    *http.Client
	pages map[messenger.PageID]Page
	mux   *http.ServeMux

	mu        sync.Mutex
	sent      []SentMessage
	sentTotal int
	failNext  map[messenger.PageID][]messenger.GraphError
	lateNext  map[messenger.PageID][]time.Duration
	// throttles holds the rate limits in force, by Page ("" for the app);
	// throttled the calls they refused; usage what ReportUsage asked for.
	throttles map[messenger.PageID]throttleWindow
	throttled []ThrottledCall
	usage     map[messenger.PageID]int
	// subscribed holds the app's webhook fields per Page; every Page
	// starts subscribed to messenger.WebhookFields.
	subscribed map[messenger.PageID][]string
	// noInstagram hides the app's "instagram" webhook subscription.
	noInstagram bool
	convs       map[convKey]*conversation
	changed     chan struct{} // closed and replaced whenever sent or convs change
	echoQueue   [][]byte
	echoBusy    bool
	echoes      sync.WaitGroup  // the echo poster, while it runs
	closing     context.Context // done once Close was called
	close       context.CancelFunc
}

// New returns a stand-in for cfg.
func New(cfg Config) *Server {
	s := &Server{
		cfg:        cfg,
		log:        cfg.Log,
		hc:         cfg.HTTPClient,
		pages:      make(map[messenger.PageID]Page, len(cfg.Pages)),
		failNext:   make(map[messenger.PageID][]messenger.GraphError),
		lateNext:   make(map[messenger.PageID][]time.Duration),
		throttles:  make(map[messenger.PageID]throttleWindow),
		usage:      make(map[messenger.PageID]int),
		subscribed: make(map[messenger.PageID][]string),
		convs:      make(map[convKey]*conversation),
		changed:    make(chan struct{}),
	}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	if s.hc == nil {
		s.hc = &http.Client{Timeout: 30 * time.Second}
	}
	if s.cfg.Now == nil {
		s.cfg.Now = time.Now
	}
	s.closing, s.close = context.WithCancel(context.Background())
	for _, p := range cfg.Pages {
		s.pages[p.ID] = p
		s.subscribed[p.ID] = slices.Clone(messenger.WebhookFields)
	}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("POST /{version}/{page}/messages", s.handleSendAPI)
	s.mux.HandleFunc("GET /{version}/me", s.handleMe)
	s.mux.HandleFunc("GET /{version}/{page}/subscribed_apps", s.handleSubscribedApps)
	s.mux.HandleFunc("POST /{version}/{page}/subscribed_apps", s.handleSubscribedApps)
	s.mux.HandleFunc("GET /{version}/{app}/subscriptions", s.handleAppSubscriptions)
	s.mux.HandleFunc("GET /{$}", s.handlePatronPage)
	s.mux.HandleFunc("GET /patron/pages", s.handlePatronPages)
	s.mux.HandleFunc("POST /patron/send", s.handlePatronSend)
	s.mux.HandleFunc("POST /patron/read", s.handlePatronRead)
	s.mux.HandleFunc("GET /patron/messages", s.handlePatronMessages)
	return s
}

// Handler serves the Graph API under /{version}/{page-id}/messages (any
// version like v21.0), the patron page at "/" and its JSON API under
// /patron/.
func (s *Server) Handler() http.Handler { return s.mux }

// now reads the stand-in's clock.
func (s *Server) now() time.Time { return s.cfg.Now() }

// notifyLocked wakes everyone waiting for a change. s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}
