package admin

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
)

// Signing in to /stats/.
//
// A request is let in when it carries the token in an
// "Authorization: Bearer" header (scripts), or the login cookie that
// POST /stats/login sets after the token was typed into the login form
// (browsers). With no token configured, only requests made directly from
// this machine are let in, whatever they carry.
//
// The cookie holds no token: it is "<issued>.<mac>", the Unix time it was
// issued and an HMAC-SHA256 of that time and the token under a key drawn
// at random when the daemon starts. It is valid for cookieLifetime, until
// the token changes, or until the daemon restarts (a new key), whichever
// comes first. A stolen cookie file therefore reveals nothing about the
// token and stops working within hours.
//
// Cross-site requests: the cookie is SameSite=Strict, and the POSTs
// (login, logout) are refused when the browser says they come from
// another site (Sec-Fetch-Site, or an Origin that is not this host; see
// http.CrossOriginProtection). Nothing else changes state.
//
// Old bookmarks with ?token=… are still accepted, but answered with a
// redirect to the same address without it, after setting the cookie when
// the token was right, so the token does not stay in the address bar, the
// history or a proxy's log of later requests. Scripts must use the header.

const (
	// loginCookie is the name of the cookie that keeps a browser signed in.
	loginCookie = "askbridge_stats"
	// cookieLifetime is how long a login lasts.
	cookieLifetime = 12 * time.Hour
	// cookiePath limits the cookie to the statistics pages.
	cookiePath = "/stats/"
	// maxLoginBody bounds the login form's body.
	maxLoginBody = 4 << 10
)

// cookieKey is the per-process key of the login cookie's HMAC, drawn on
// first use.
func (h *Handler) cookieKey() []byte {
	h.keyOnce.Do(func() {
		h.key = make([]byte, 32)
		_, _ = rand.Read(h.key) // never fails (crypto/rand crashes the program instead)
	})
	return h.key
}

// cookieMAC is the login cookie's MAC for a token and an issue time.
func (h *Handler) cookieMAC(token string, issued int64) []byte {
	m := hmac.New(sha256.New, h.cookieKey())
	m.Write([]byte("askbridge stats login\x00"))
	m.Write(strconv.AppendInt(nil, issued, 10))
	m.Write([]byte{0})
	m.Write([]byte(token))
	return m.Sum(nil)
}

// cookieValue is the login cookie for token, issued now.
func (h *Handler) cookieValue(token string, now time.Time) string {
	issued := now.Unix()
	return strconv.FormatInt(issued, 10) + "." + base64.RawURLEncoding.EncodeToString(h.cookieMAC(token, issued))
}

// validCookie reports whether the request carries a login cookie issued
// for token by this process less than cookieLifetime ago.
func (h *Handler) validCookie(r *http.Request, token string, now time.Time) bool {
	c, err := r.Cookie(loginCookie)
	if err != nil {
		return false
	}
	ts, mac64, ok := strings.Cut(c.Value, ".")
	issued, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil {
		return false
	}
	age := now.Sub(time.Unix(issued, 0))
	if age < -time.Minute || age > cookieLifetime {
		return false
	}
	mac, err := base64.RawURLEncoding.DecodeString(mac64)
	return err == nil && hmac.Equal(mac, h.cookieMAC(token, issued))
}

// tokenMatches compares a given token with the configured one in
// constant time (of their hashes, so not even the length leaks).
func tokenMatches(given, token string) bool {
	a, b := sha256.Sum256([]byte(given)), sha256.Sum256([]byte(token))
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// authorized reports whether the request may see the statistics: with a
// token configured, it carries it in the Authorization header or carries a
// valid login cookie; without one, it was made directly from this machine.
func (h *Handler) authorized(r *http.Request, token string) bool {
	if token == "" {
		return direct(r)
	}
	if given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return tokenMatches(given, token)
	}
	return h.validCookie(r, token, h.now())
}

// direct reports whether the request came straight from this machine,
// not relayed by a reverse proxy (which adds forwarding headers).
func direct(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	ip := net.ParseIP(host)
	forwarded := r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("Forwarded") != "" || r.Header.Get("X-Real-IP") != ""
	return err == nil && ip != nil && ip.IsLoopback() && !forwarded
}

// overTLS reports whether the browser reached us over HTTPS, directly or
// through a proxy that says so.
func overTLS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// setLoginCookie sets the login cookie (value "" clears it).
func setLoginCookie(w http.ResponseWriter, r *http.Request, value string) {
	c := &http.Cookie{Name: loginCookie, Value: value, Path: cookiePath, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: overTLS(r), MaxAge: int(cookieLifetime / time.Second)}
	if value == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// sameSite refuses a POST a browser sent from another site.
func sameSite(w http.ResponseWriter, r *http.Request) bool {
	if err := new(http.CrossOriginProtection).Check(r); err != nil {
		http.Error(w, "refused: this form was sent from another site", http.StatusForbidden)
		return false
	}
	return true
}

// login serves /stats/login: GET shows the form, POST checks the token,
// sets the login cookie and sends the browser to the dashboard.
func (h *Handler) login(w http.ResponseWriter, r *http.Request) {
	cfg := h.Config()
	token := cfg.HTTP.StatsToken
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if h.authorized(r, token) {
			http.Redirect(w, r, cookiePath, http.StatusSeeOther)
			return
		}
		h.loginPage(w, r, http.StatusOK, "")
		return
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !sameSite(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad login form: "+err.Error(), http.StatusBadRequest)
		return
	}
	switch {
	case token == "" && direct(r):
		http.Redirect(w, r, cookiePath, http.StatusSeeOther)
	case token == "":
		h.loginPage(w, r, http.StatusUnauthorized, "")
	case tokenMatches(r.PostForm.Get("token"), token):
		setLoginCookie(w, r, h.cookieValue(token, h.now()))
		http.Redirect(w, r, cookiePath, http.StatusSeeOther)
	default:
		h.Log.Info("statistics login refused: wrong token", zap.String("remote", r.RemoteAddr))
		h.loginPage(w, r, http.StatusUnauthorized, "That is not the statistics token. Check it and try again.")
	}
}

// logout serves POST /stats/logout: it clears the login cookie.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !sameSite(w, r) {
		return
	}
	setLoginCookie(w, r, "")
	http.Redirect(w, r, cookiePath+"login", http.StatusSeeOther)
}

// dropToken answers a request with ?token=… with a redirect to the same
// address without it, after setting the login cookie if the token is
// right. It reports whether it answered.
func (h *Handler) dropToken(w http.ResponseWriter, r *http.Request, token string) bool {
	q := r.URL.Query()
	if !q.Has("token") {
		return false
	}
	if token != "" && tokenMatches(q.Get("token"), token) {
		setLoginCookie(w, r, h.cookieValue(token, h.now()))
	}
	q.Del("token")
	target := r.URL.Path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, target, http.StatusSeeOther)
	return true
}

// unauthorized answers a request that is not let in: browsers get the
// login form, scripts a line of text; both with status 401.
func (h *Handler) unauthorized(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="askbridge statistics"`)
	if strings.TrimSuffix(r.URL.Path, "/") == "/stats" || strings.Contains(r.Header.Get("Accept"), "text/html") {
		h.loginPage(w, r, http.StatusUnauthorized, "")
		return
	}
	http.Error(w, "statistics need http.stats_token (send Authorization: Bearer …, or sign in at /stats/), or a direct request from this machine when no token is set", http.StatusUnauthorized)
}

// loginData is what the login page shows.
type loginData struct {
	// NoToken says no token is configured: only this machine gets in.
	NoToken bool
	// Message is why the last attempt failed, if it did.
	Message string
}

// loginPage writes the login form with the given status.
func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request, status int, message string) {
	data := loginData{NoToken: h.Config().HTTP.StatsToken == "", Message: message}
	h.render(w, r, status, "login.html", data)
}
