package admin

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/askbridge/askbridge/config"
)

// post serves a login-style form POST with extra headers.
func post(h http.Handler, target string, form url.Values, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.RemoteAddr = "203.0.113.9:40000"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// remote serves a GET from another machine through the proxy.
func remote(h http.Handler, target string, header ...string) *httptest.ResponseRecorder {
	return get(h, target, append([]string{"X-Forwarded-For", "203.0.113.9"}, header...)...)
}

// loginCookieOf is the login cookie a response set, or nil.
func loginCookieOf(w *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == loginCookie {
			return c
		}
	}
	return nil
}

func TestAuthHeader(t *testing.T) {
	h := testHandler(t, seededStore(t, testMonths()), testToken)
	for _, tc := range []struct {
		name   string
		header []string
		want   int
	}{
		{"no credentials", nil, http.StatusUnauthorized},
		{"right token", []string{"Authorization", "Bearer " + testToken}, http.StatusOK},
		{"wrong token", []string{"Authorization", "Bearer nope"}, http.StatusUnauthorized},
		{"token with a suffix", []string{"Authorization", "Bearer " + testToken + "x"}, http.StatusUnauthorized},
		{"not a bearer token", []string{"Authorization", "Basic " + testToken}, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, path := range []string{"/stats/", "/stats/export?from=2027-03-01&to=2027-03-31", "/stats/chart.csv?chart=read"} {
				if w := remote(h, path, tc.header...); w.Code != tc.want {
					t.Errorf("%s: %d, want %d", path, w.Code, tc.want)
				}
			}
		})
	}
}

// Unauthenticated browsers get the login form; scripts a line of text.
func TestUnauthenticatedGetsLoginForm(t *testing.T) {
	h := testHandler(t, seededStore(t, nil), testToken)
	w := remote(h, "/stats/")
	body := w.Body.String()
	if w.Code != http.StatusUnauthorized || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") ||
		!strings.Contains(body, `<form method="post" action="/stats/login">`) || !strings.Contains(body, `name="token" type="password"`) {
		t.Errorf("GET /stats/: %d %s\n%s", w.Code, w.Header().Get("Content-Type"), body)
	}
	if got := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer ") {
		t.Errorf("WWW-Authenticate %q", got)
	}
	if w := remote(h, "/stats/export?from=2027-03-01&to=2027-03-31"); w.Code != http.StatusUnauthorized || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Errorf("script: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	if w := remote(h, "/stats/export?from=2027-03-01&to=2027-03-31", "Accept", "text/html,*/*"); w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "/stats/login") {
		t.Errorf("browser on the export: %d\n%s", w.Code, w.Body.String())
	}
	// The stylesheet is for the login page too.
	if w := remote(h, "/stats/stats.css"); w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
}

// The login form sets a cookie that lets the browser in, in a real HTTP
// round trip with a cookie jar; the token is in no address and not on
// the page.
func TestLoginFormCookie(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	h := testHandler(t, seededStore(t, testMonths()), testToken)
	h.Log = zap.New(core)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("X-Forwarded-For", "203.0.113.9") // as if through the proxy: not a direct request
		if strings.Contains(r.URL.RawQuery, testToken) {
			t.Errorf("the token is in the address %s", r.URL)
		}
		h.ServeHTTP(w, r)
	}))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}

	resp, err := client.Get(srv.URL + "/stats/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("before login: %d", resp.StatusCode)
	}

	// A wrong token: the form again, with a message, and no cookie.
	resp, err = client.PostForm(srv.URL+"/stats/login", url.Values{"token": {"guess"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "not the statistics token") || len(jar.Cookies(resp.Request.URL)) != 0 {
		t.Errorf("wrong token: %d, cookies %v\n%s", resp.StatusCode, jar.Cookies(resp.Request.URL), body)
	}

	// The right one: 303 to the dashboard, which the cookie opens.
	var redirects []string
	client.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		redirects = append(redirects, req.Response.Status+" "+req.URL.Path)
		return nil
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/stats/login", strings.NewReader(url.Values{"token": {testToken}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", srv.URL)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/stats/" || len(redirects) != 1 || redirects[0] != "303 See Other /stats/" {
		t.Fatalf("after login: %d at %s, redirects %v", resp.StatusCode, resp.Request.URL, redirects)
	}
	page := string(body)
	if !strings.Contains(page, `data-metric="sessions"`) || !strings.Contains(page, `action="/stats/logout"`) {
		t.Errorf("the dashboard after login:\n%.1500s", page)
	}
	checkNoTokenInPage(t, page)
	for _, c := range jar.Cookies(resp.Request.URL) {
		if strings.Contains(c.Value, testToken) {
			t.Errorf("cookie %s holds the token", c.Name)
		}
	}
	for _, e := range logs.All() {
		if strings.Contains(e.Message+fmt.Sprint(e.ContextMap()), testToken) {
			t.Errorf("the log has the token: %v", e)
		}
	}
	if logs.FilterMessageSnippet("login refused").Len() != 1 {
		t.Errorf("the wrong token was not logged once: %v", logs.All())
	}

	// Signing out clears the cookie.
	req, _ = http.NewRequest(http.MethodPost, srv.URL+"/stats/logout", nil)
	req.Header.Set("Origin", srv.URL)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/stats/login" || len(jar.Cookies(resp.Request.URL)) != 0 {
		t.Errorf("after logout at %s, cookies %v", resp.Request.URL, jar.Cookies(resp.Request.URL))
	}
	resp, err = client.Get(srv.URL + "/stats/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("after logout: %d", resp.StatusCode)
	}
}

// urlAttrRE finds the addresses a page links or submits to.
var urlAttrRE = regexp.MustCompile(`(?:href|action|src)="([^"]*)"`)

func checkNoTokenInPage(t *testing.T, page string) {
	t.Helper()
	if strings.Contains(page, testToken) {
		t.Error("the page contains the token")
	}
	if strings.Contains(page, `name="token"`) {
		t.Error("the page has a token field")
	}
	for _, m := range urlAttrRE.FindAllStringSubmatch(page, -1) {
		if strings.Contains(m[1], "token") {
			t.Errorf("the page links to %s", m[1])
		}
	}
}

func TestLoginCookieFlags(t *testing.T) {
	h := testHandler(t, seededStore(t, nil), testToken)
	form := url.Values{"token": {testToken}}
	for _, tc := range []struct {
		name   string
		header []string
		secure bool
	}{
		{"plain HTTP", nil, false},
		{"through an HTTPS proxy", []string{"X-Forwarded-Proto", "https"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := post(h, "/stats/login", form, tc.header...)
			c := loginCookieOf(w)
			if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/stats/" || c == nil {
				t.Fatalf("%d to %q, cookie %v", w.Code, w.Header().Get("Location"), c)
			}
			if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/stats/" || c.Secure != tc.secure ||
				c.MaxAge != int(cookieLifetime/time.Second) || strings.Contains(c.Value, testToken) {
				t.Errorf("cookie %s", c.String())
			}
		})
	}
	w := post(h, "/stats/logout", nil)
	if c := loginCookieOf(w); w.Code != http.StatusSeeOther || c == nil || c.MaxAge >= 0 || c.Path != "/stats/" {
		t.Errorf("logout: %d, cookie %v", w.Code, c)
	}
}

// The login cookie works for its lifetime, for this process and this
// token only.
func TestLoginCookieValidity(t *testing.T) {
	st := seededStore(t, nil)
	h := testHandler(t, st, testToken)
	c := loginCookieOf(post(h, "/stats/login", url.Values{"token": {testToken}}))
	if c == nil {
		t.Fatal("no cookie")
	}
	withCookie := func(h *Handler, value string) int {
		return remote(h, "/stats/", "Cookie", loginCookie+"="+value).Code
	}
	if code := withCookie(h, c.Value); code != http.StatusOK {
		t.Fatalf("with the cookie: %d", code)
	}
	issued, mac, _ := strings.Cut(c.Value, ".")
	for _, tc := range []struct{ name, value string }{
		{"forged MAC", issued + "." + strings.Repeat("A", len(mac))},
		{"moved issue time", "1" + issued + "." + mac},
		{"the token itself", testToken},
		{"empty", ""},
		{"garbage", "x.y.z"},
	} {
		if code := withCookie(h, tc.value); code != http.StatusUnauthorized {
			t.Errorf("%s: %d", tc.name, code)
		}
	}
	other := testHandler(t, st, testToken) // another process: another key
	if code := withCookie(other, c.Value); code != http.StatusUnauthorized {
		t.Errorf("another process's cookie: %d", code)
	}
	later := testNow.Add(cookieLifetime + time.Minute)
	h.Now = func() time.Time { return later }
	if code := withCookie(h, c.Value); code != http.StatusUnauthorized {
		t.Errorf("an expired cookie: %d", code)
	}
	h.Now = func() time.Time { return testNow.Add(time.Hour) }
	cfg := testConfig("a-new-token")
	h.Config = func() *config.Config { return cfg }
	if code := withCookie(h, c.Value); code != http.StatusUnauthorized {
		t.Errorf("a cookie for the old token: %d", code)
	}
}

// Cross-site POSTs are refused; so are other methods.
func TestLoginCrossSite(t *testing.T) {
	h := testHandler(t, seededStore(t, nil), testToken)
	form := url.Values{"token": {testToken}}
	for _, tc := range []struct {
		name   string
		header []string
		want   int
	}{
		{"same origin", []string{"Origin", "http://example.com", "Sec-Fetch-Site", "same-origin"}, http.StatusSeeOther},
		{"same host, Origin only", []string{"Origin", "http://example.com"}, http.StatusSeeOther},
		{"no browser headers (a script)", nil, http.StatusSeeOther},
		{"another site", []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"another site, Origin only", []string{"Origin", "https://evil.example"}, http.StatusForbidden},
		{"a sandboxed frame", []string{"Origin", "null"}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := post(h, "/stats/login", form, tc.header...)
			if w.Code != tc.want {
				t.Errorf("login: %d, want %d", w.Code, tc.want)
			}
			if tc.want == http.StatusForbidden && loginCookieOf(w) != nil {
				t.Error("a cookie was set")
			}
			if w := post(h, "/stats/logout", nil, tc.header...); w.Code != tc.want {
				t.Errorf("logout: %d, want %d", w.Code, tc.want)
			}
		})
	}
	if w := post(h, "/stats/", form); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /stats/: %d", w.Code)
	}
	if w := get(h, "/stats/logout"); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET /stats/logout: %d", w.Code)
	}
	if w := post(h, "/stats/login", url.Values{"token": {strings.Repeat("x", maxLoginBody)}}); w.Code != http.StatusBadRequest {
		t.Errorf("an oversized form: %d", w.Code)
	}
}

// An old bookmark with ?token=… is redirected to the same address without
// it; the right token sets the cookie on the way.
func TestTokenInURLRedirects(t *testing.T) {
	h := testHandler(t, seededStore(t, nil), testToken)
	for _, tc := range []struct {
		name, target, location string
		cookie                 bool
	}{
		{"right token", "/stats/?token=" + testToken, "/stats/", true},
		{"other parameters kept", "/stats/export?from=2027-03-01&token=" + testToken + "&to=2027-03-31", "/stats/export?from=2027-03-01&to=2027-03-31", true},
		{"wrong token", "/stats/?period=last-month&token=nope", "/stats/?period=last-month", false},
		{"empty token", "/stats/?token=", "/stats/", false},
		{"on the login page", "/stats/login?token=" + testToken, "/stats/login", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := remote(h, tc.target)
			if w.Code != http.StatusSeeOther || w.Header().Get("Location") != tc.location || (loginCookieOf(w) != nil) != tc.cookie {
				t.Errorf("%d to %q, cookie %v", w.Code, w.Header().Get("Location"), loginCookieOf(w))
			}
			if strings.Contains(w.Body.String(), testToken) {
				t.Error("the answer contains the token")
			}
		})
	}
}

// With no token configured, only direct requests from this machine are
// served.
func TestNoTokenLoopbackOnly(t *testing.T) {
	h := testHandler(t, seededStore(t, testMonths()), "")
	if w := get(h, "/stats/"); w.Code != http.StatusOK {
		t.Errorf("from this machine: %d", w.Code)
	}
	for _, tc := range []struct {
		name   string
		remote string
		header []string
	}{
		{"through a proxy", "127.0.0.1:40000", []string{"X-Forwarded-For", "203.0.113.9"}},
		{"Forwarded", "127.0.0.1:40000", []string{"Forwarded", "for=203.0.113.9"}},
		{"X-Real-IP", "127.0.0.1:40000", []string{"X-Real-IP", "203.0.113.9"}},
		{"another machine", "192.0.2.7:40000", nil},
		{"another machine with a bearer", "192.0.2.7:40000", []string{"Authorization", "Bearer "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/stats/", nil)
			req.RemoteAddr = tc.remote
			for i := 0; i+1 < len(tc.header); i += 2 {
				req.Header.Set(tc.header[i], tc.header[i+1])
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "No statistics token is set") {
				t.Errorf("%d\n%s", w.Code, w.Body.String())
			}
		})
	}
	// Signing in is pointless but harmless from here.
	w := post(h, "/stats/login", url.Values{"token": {""}})
	if w.Code != http.StatusUnauthorized || loginCookieOf(w) != nil {
		t.Errorf("login from elsewhere without a token: %d", w.Code)
	}
}
