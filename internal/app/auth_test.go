package app_test

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/torget/torget/internal/auth"
	"github.com/torget/torget/internal/config"
	"github.com/torget/torget/internal/store"
)

// browser is a staff member's browser: a cookie jar, no redirects followed.
type browser struct {
	t    *testing.T
	c    *http.Client
	base string
	u    *url.URL
}

func newBrowser(t *testing.T, in *instance) *browser {
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(in.Base)
	return &browser{t: t, base: in.Base, u: u, c: &http.Client{Jar: jar,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: in.Pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	return b.do(req)
}

func (b *browser) post(path string, form url.Values, header ...string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf fetches page and returns the token its forms carry.
func (b *browser) csrf(page string) string {
	b.t.Helper()
	resp, body := b.get(page)
	m := csrfRe.FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		b.t.Fatalf("GET %s: %d, no CSRF token: %.300s", page, resp.StatusCode, body)
	}
	return m[1]
}

// form posts a form from page to action with that page's token.
func (b *browser) form(page, action string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", b.csrf(page))
	return b.post(action, form)
}

func (b *browser) login(user, pw string) (*http.Response, string) {
	b.t.Helper()
	return b.form("/login", "/login", url.Values{"username": {user}, "password": {pw}})
}

func (b *browser) cookie(name string) string {
	for _, c := range b.c.Jar.Cookies(b.u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func (b *browser) setCookie(name, value string) {
	b.c.Jar.SetCookies(b.u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

func location(resp *http.Response) string { return resp.Header.Get("Location") }

func expectRedirect(t *testing.T, resp *http.Response, body, to string) {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther || location(resp) != to {
		t.Fatalf("%s %s: %d → %q, want 303 → %s: %.300s", resp.Request.Method, resp.Request.URL.Path, resp.StatusCode, location(resp), to, body)
	}
}

const testPassword = "ett långt lösenord"

func (in *instance) user(t *testing.T, name, role string) *store.User {
	t.Helper()
	h, err := auth.HashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	u := &store.User{Username: name, Role: role, PasswordHash: h}
	if err := in.Store.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func (in *instance) auditActions(t *testing.T) map[string]int {
	t.Helper()
	rows, err := in.Store.ListAudit(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Action+" "+r.Username]++
	}
	return out
}

func TestLoginSessionAndCSRF(t *testing.T) {
	tg := startInstance(t)
	tg.group(t, "aldre", false)
	tg.user(t, "anna", auth.RoleEditor)
	b := newBrowser(t, tg)

	// Staff pages need a session.
	resp, body := b.get("/staff")
	expectRedirect(t, resp, body, "/login")

	resp, body = b.get("/login")
	for _, want := range []string{`<html lang="sv">`, `<label for="username">`, `autocomplete="username"`, `autocomplete="current-password"`, `<h1>Logga in</h1>`} {
		if !strings.Contains(body, want) {
			t.Fatalf("login page lacks %s", want)
		}
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("login page Cache-Control %q", resp.Header.Get("Cache-Control"))
	}

	// A session cookie planted before sign-in is never upgraded.
	b.setCookie("torget_session", "planted-by-an-attacker")
	resp, body = b.login("anna", testPassword)
	expectRedirect(t, resp, body, "/staff")
	var sc *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "torget_session" {
			sc = c
		}
	}
	if sc == nil || !sc.HttpOnly || !sc.Secure || sc.SameSite != http.SameSiteLaxMode || sc.Path != "/" {
		t.Fatalf("session cookie %+v: want HttpOnly, Secure, SameSite=Lax, Path=/", sc)
	}
	if sc.Value == "planted-by-an-attacker" {
		t.Fatal("planted session id kept")
	}
	first := b.cookie("torget_session")
	resp, body = b.get("/staff")
	if resp.StatusCode != 200 || !strings.Contains(body, "Grupp aldre") || !strings.Contains(body, `aria-label="Personal"`) {
		t.Fatalf("/staff: %d %.300s", resp.StatusCode, body)
	}

	// Signing in again with a live session gives a new id and ends the old.
	if resp, body := b.get("/login"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login page while signed in: %d %.200s", resp.StatusCode, body)
	}
	resp, body = b.form("/staff", "/login", url.Values{"username": {"anna"}, "password": {testPassword}})
	expectRedirect(t, resp, body, "/staff")
	second := b.cookie("torget_session")
	if second == first || second == "" {
		t.Fatal("session id unchanged at sign-in")
	}
	old := newBrowser(t, tg)
	old.setCookie("torget_session", first)
	resp, body = old.get("/staff")
	expectRedirect(t, resp, body, "/login")

	t.Run("CSRF", func(t *testing.T) {
		for name, form := range map[string]url.Values{"missing": {}, "wrong": {"csrf": {"AAAA" + strings.Repeat("x", 40)}}} {
			if resp, body := b.post("/logout", form); resp.StatusCode != http.StatusForbidden {
				t.Fatalf("logout, %s token: %d %s", name, resp.StatusCode, body)
			}
		}
		tok := b.csrf("/staff")
		// The right token from another origin, or a cross-site fetch, is refused too.
		if resp, _ := b.post("/logout", url.Values{"csrf": {tok}}, "Origin", "https://evil.example"); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-origin logout: %d", resp.StatusCode)
		}
		if resp, _ := b.post("/logout", url.Values{"csrf": {tok}}, "Sec-Fetch-Site", "cross-site"); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site logout: %d", resp.StatusCode)
		}
		// The sign-in form's double-submit token is no good once signed in.
		if resp, _ := b.post("/logout", url.Values{"csrf": {b.cookie("torget_csrf")}}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("logout with the login form's token: %d", resp.StatusCode)
		}
		// Sign-in without the form's token.
		other := newBrowser(t, tg)
		if resp, _ := other.post("/login", url.Values{"username": {"anna"}, "password": {testPassword}}); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("login without token: %d", resp.StatusCode)
		}
		// The inboxes are exempt: they answer for the signature, not CSRF.
		resp, body := other.post("/inbox", url.Values{"x": {"y"}})
		if resp.StatusCode == http.StatusForbidden || strings.Contains(body, "CSRF") {
			t.Fatalf("inbox POST hit the CSRF check: %d %s", resp.StatusCode, body)
		}

		resp, body = b.post("/logout", url.Values{"csrf": {tok}}, "Origin", tg.Base, "Sec-Fetch-Site", "same-origin")
		expectRedirect(t, resp, body, "/login")
		if resp, body := b.get("/staff"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("after logout /staff: %d %.200s", resp.StatusCode, body)
		}
		u, _ := tg.Store.UserByName(context.Background(), "anna")
		if n, _ := tg.Store.CountUserSessions(context.Background(), u.ID); n != 0 {
			t.Fatalf("%d sessions left after logout", n)
		}
	})

	got := tg.auditActions(t)
	if got["login anna"] != 2 || got["logout anna"] != 1 {
		t.Fatalf("audit: %v", got)
	}
}

func TestLoginFailuresAndLockout(t *testing.T) {
	tg := startInstance(t)
	tg.user(t, "anna", auth.RoleEditor)
	b := newBrowser(t, tg)

	// The same answer for an unknown user and a wrong password.
	r1, wrongPw := b.login("anna", "fel lösenord här")
	r2, unknown := b.login("ingen-sådan", "fel lösenord här")
	strip := func(s string) string {
		return strings.NewReplacer(`value="anna"`, "", `value="ingen-sådan"`, "").Replace(s)
	}
	if r1.StatusCode != r2.StatusCode || strip(wrongPw) != strip(unknown) || !strings.Contains(wrongPw, `role="alert"`) {
		t.Fatalf("responses differ:\n%d %s\n%d %s", r1.StatusCode, wrongPw, r2.StatusCode, unknown)
	}

	// Five failures lock the username, even for the right password.
	for i := 0; i < 4; i++ {
		b.login("anna", "fel lösenord här")
	}
	resp, body := b.login("anna", testPassword)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "För många") {
		t.Fatalf("locked user signed in: %d %.300s", resp.StatusCode, body)
	}
	// Another user is not locked.
	tg.user(t, "bo", auth.RoleEditor)
	resp, body = newBrowser(t, tg).login("bo", testPassword)
	expectRedirect(t, resp, body, "/staff")

	tg.Clock.Advance(14 * time.Minute)
	if resp, _ := b.login("anna", testPassword); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("lock ended early: %d", resp.StatusCode)
	}
	tg.Clock.Advance(2 * time.Minute)
	resp, body = b.login("anna", testPassword)
	expectRedirect(t, resp, body, "/staff")

	got := tg.auditActions(t)
	if got["login_failed anna"] != 5 || got["login_failed ingen-sådan"] != 1 || got["login_locked anna"] != 2 || got["login anna"] != 1 {
		t.Fatalf("audit: %v", got)
	}
}

func TestLoginIPLimit(t *testing.T) {
	tg := startInstance(t, func(c *config.Config) { c.Auth.IPMaxFailures = 3 })
	tg.user(t, "anna", auth.RoleEditor)
	b := newBrowser(t, tg)
	for _, name := range []string{"a", "b", "c"} {
		b.login(name, "fel lösenord här")
	}
	if resp, _ := b.login("anna", testPassword); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("IP over its limit signed in: %d", resp.StatusCode)
	}
	// Behind the proxy, X-Forwarded-For from loopback names the client.
	form := url.Values{"username": {"anna"}, "password": {testPassword}, "csrf": {b.csrf("/login")}}
	resp, body := b.post("/login", form, "X-Forwarded-For", "192.0.2.7")
	expectRedirect(t, resp, body, "/staff")
}

var secretRe = regexp.MustCompile(`<code class="secret">([A-Z2-7]+)</code>`)

func TestTOTP(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	tg.user(t, "anna", auth.RoleEditor)
	b := newBrowser(t, tg)
	resp, body := b.login("anna", testPassword)
	expectRedirect(t, resp, body, "/staff")

	// Enrol: make a key, read it, confirm with a code.
	resp, body = b.form("/staff/totp", "/staff/totp/new", nil)
	expectRedirect(t, resp, body, "/staff/totp")
	_, body = b.get("/staff/totp")
	m := secretRe.FindStringSubmatch(body)
	if m == nil || !strings.Contains(body, "otpauth://totp/") {
		t.Fatalf("enrol page shows no secret: %s", body)
	}
	secret := m[1]
	resp, _ = b.form("/staff/totp", "/staff/totp/confirm", url.Values{"code": {"000000"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("wrong enrolment code: %d", resp.StatusCode)
	}
	code, _ := auth.TOTPCode(secret, tg.Clock.Now())
	resp, body = b.form("/staff/totp", "/staff/totp/confirm", url.Values{"code": {code}})
	expectRedirect(t, resp, body, "/staff")
	if _, body := b.get("/staff/totp"); !strings.Contains(body, "är på") {
		t.Fatalf("TOTP not on: %.300s", body)
	}
	b.form("/staff", "/logout", nil)

	// Sign-in now asks for the code; nothing else opens meanwhile.
	tg.Clock.Advance(30 * time.Second)
	resp, body = b.login("anna", testPassword)
	expectRedirect(t, resp, body, "/login/totp")
	pending := b.cookie("torget_session")
	resp, body = b.get("/staff")
	expectRedirect(t, resp, body, "/login/totp")
	resp, body = b.form("/login/totp", "/login/totp", url.Values{"code": {"123456"}})
	if resp.StatusCode != 200 || !strings.Contains(body, `role="alert"`) {
		t.Fatalf("wrong code: %d %.300s", resp.StatusCode, body)
	}
	// The code used at enrolment cannot be used again.
	resp, _ = b.form("/login/totp", "/login/totp", url.Values{"code": {code}})
	if resp.StatusCode != 200 {
		t.Fatalf("replayed code: %d", resp.StatusCode)
	}
	code, _ = auth.TOTPCode(secret, tg.Clock.Now())
	resp, body = b.form("/login/totp", "/login/totp", url.Values{"code": {code}})
	expectRedirect(t, resp, body, "/staff")
	if b.cookie("torget_session") == pending {
		t.Fatal("session id unchanged after the second factor")
	}
	if resp, _ := b.get("/staff"); resp.StatusCode != 200 {
		t.Fatalf("/staff after TOTP: %d", resp.StatusCode)
	}
	// The same code again, in another sign-in, is refused.
	b2 := newBrowser(t, tg)
	resp, body = b2.login("anna", testPassword)
	expectRedirect(t, resp, body, "/login/totp")
	if resp, _ := b2.form("/login/totp", "/login/totp", url.Values{"code": {code}}); resp.StatusCode != 200 {
		t.Fatalf("replayed code in a second sign-in: %d", resp.StatusCode)
	}

	got := tg.auditActions(t)
	if got["totp_enrol anna"] != 1 || got["login_totp anna"] != 1 || got["login_totp_failed anna"] != 3 || got["totp_enrol_failed anna"] != 1 {
		t.Fatalf("audit: %v", got)
	}
	rows, _ := tg.Store.ListAudit(ctx, 0, 100)
	for _, r := range rows {
		if r.Action == "login_totp_failed" && r.Detail == "code already used" {
			return
		}
	}
	t.Fatal("no audit row for the replayed code")
}

func TestRequireTOTPForcesEnrolment(t *testing.T) {
	tg := startInstance(t)
	tg.user(t, "admin", auth.RoleAdmin)
	if err := tg.Store.SetSetting(context.Background(), store.SettingRequireTOTP, "on"); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, tg)
	resp, body := b.login("admin", testPassword)
	expectRedirect(t, resp, body, "/staff")
	for _, p := range []string{"/staff", "/staff/users", "/staff/audit"} {
		resp, body := b.get(p)
		expectRedirect(t, resp, body, "/staff/totp")
	}
	resp, body = b.get("/staff/totp")
	if resp.StatusCode != 200 || !strings.Contains(body, "obligatorisk") {
		t.Fatalf("/staff/totp: %d %.300s", resp.StatusCode, body)
	}
	b.form("/staff/totp", "/staff/totp/new", nil)
	_, body = b.get("/staff/totp")
	secret := secretRe.FindStringSubmatch(body)[1]
	code, _ := auth.TOTPCode(secret, tg.Clock.Now())
	resp, body = b.form("/staff/totp", "/staff/totp/confirm", url.Values{"code": {code}})
	expectRedirect(t, resp, body, "/staff")
	if resp, _ := b.get("/staff/users"); resp.StatusCode != 200 {
		t.Fatalf("/staff/users after enrolment: %d", resp.StatusCode)
	}
	// Mandatory TOTP cannot be switched off.
	tg.Clock.Advance(30 * time.Second)
	code, _ = auth.TOTPCode(secret, tg.Clock.Now())
	if resp, _ := b.form("/staff/totp", "/staff/totp/disable", url.Values{"code": {code}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("disable under require-totp: %d", resp.StatusCode)
	}
}

func TestAdminResetAndRoles(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	tg.user(t, "admin", auth.RoleAdmin)
	ed := tg.user(t, "anna", auth.RoleEditor)
	g := tg.group(t, "aldre", false)
	tg.group(t, "skola", false)
	if err := tg.Store.AssignGroupStaff(ctx, g.ID, ed.ID, auth.RoleEditor); err != nil {
		t.Fatal(err)
	}

	eb := newBrowser(t, tg)
	resp, body := eb.login("anna", testPassword)
	expectRedirect(t, resp, body, "/staff")
	_, body = eb.get("/staff")
	if strings.Count(body, "<td>Ja</td>") != 1 || strings.Count(body, "<td>Nej</td>") != 1 {
		t.Fatalf("editor's group list: %.800s", body)
	}
	// An editor cannot open administrators' pages or use their forms.
	for _, p := range []string{"/staff/users", "/staff/audit"} {
		if resp, _ := eb.get(p); resp.StatusCode != http.StatusForbidden {
			t.Fatalf("editor GET %s: %d", p, resp.StatusCode)
		}
	}
	tok := eb.csrf("/staff")
	if resp, _ := eb.post("/staff/users/1/password", url.Values{"csrf": {tok}, "password": {"ett annat långt lösenord"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("editor reset a password: %d", resp.StatusCode)
	}

	ab := newBrowser(t, tg)
	resp, body = ab.login("admin", testPassword)
	expectRedirect(t, resp, body, "/staff")
	_, body = ab.get("/staff/users")
	if !strings.Contains(body, `<label for="pw-`) {
		t.Fatalf("users page: %.500s", body)
	}
	resp, _ = ab.form("/staff/users", "/staff/users/"+itoa(ed.ID)+"/password", url.Values{"password": {"kort"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("short password: %d", resp.StatusCode)
	}
	const newPw = "ett helt nytt lösenord"
	resp, body = ab.form("/staff/users", "/staff/users/"+itoa(ed.ID)+"/password", url.Values{"password": {newPw}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(location(resp), "/staff/users?notice=") {
		t.Fatalf("reset: %d %s %s", resp.StatusCode, location(resp), body)
	}
	// The editor's session has ended; the old password no longer works.
	resp, body = eb.get("/staff")
	expectRedirect(t, resp, body, "/login")
	if n, _ := tg.Store.CountUserSessions(ctx, ed.ID); n != 0 {
		t.Fatalf("%d sessions survive the reset", n)
	}
	if resp, _ := eb.login("anna", testPassword); resp.StatusCode != 200 {
		t.Fatalf("old password: %d", resp.StatusCode)
	}
	// The new one works, and the editor must choose their own first.
	resp, body = eb.login("anna", newPw)
	expectRedirect(t, resp, body, "/staff")
	resp, body = eb.get("/staff")
	expectRedirect(t, resp, body, "/staff/password")
	resp, body = eb.form("/staff/password", "/staff/password", url.Values{"current": {newPw}, "new": {"mitt eget långa lösenord"}, "confirm": {"mitt eget långa lösenord"}})
	expectRedirect(t, resp, body, "/staff")
	if resp, _ := eb.get("/staff"); resp.StatusCode != 200 {
		t.Fatalf("/staff after changing password: %d", resp.StatusCode)
	}

	_, body = ab.get("/staff/audit")
	if !strings.Contains(body, "password_reset") || !strings.Contains(body, "<caption>") {
		t.Fatalf("audit page: %.800s", body)
	}
	got := tg.auditActions(t)
	if got["password_reset admin"] != 1 || got["password_change anna"] != 1 {
		t.Fatalf("audit: %v", got)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
