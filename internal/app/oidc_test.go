package app_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/torget/torget/internal/auth"
	"github.com/torget/torget/internal/config"
	"github.com/torget/torget/internal/store"
)

// testIdP is a tiny OpenID Connect provider for tests only: discovery,
// JWKS, an /authorize that signs everyone in at once and redirects back
// with a code, and a /token that checks PKCE and returns an RS256 ID token.
type testIdP struct {
	t   *testing.T
	srv *httptest.Server
	key *rsa.PrivateKey

	mu    sync.Mutex
	codes map[string]idpGrant
	// Claims of the next ID tokens; tests change them.
	Username string // preferred_username
	Audience string // "" = the client id
	Nonce    string // "" = the nonce of the request
	Email    string // "" = no email claim
	// EmailVerified is the email_verified claim (absent when nil).
	EmailVerified *bool
	Exchanges     int // successful code exchanges
}

type idpGrant struct{ clientID, redirectURI, nonce, challenge string }

const idpClientID, idpClientSecret = "torget-test", "hemligt"

func newTestIdP(t *testing.T) *testIdP {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := &testIdP{t: t, key: key, codes: map[string]idpGrant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{
			"issuer": p.srv.URL, "authorization_endpoint": p.srv.URL + "/authorize", "token_endpoint": p.srv.URL + "/token",
			"jwks_uri": p.srv.URL + "/jwks", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"}, "code_challenge_methods_supported": []string{"S256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	p.srv = httptest.NewTLSServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (p *testIdP) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("response_type") != "code" || q.Get("client_id") != idpClientID || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") == "" || !strings.Contains(" "+q.Get("scope")+" ", " openid ") {
		http.Error(w, "bad authorization request: "+r.URL.RawQuery, http.StatusBadRequest)
		return
	}
	code := base64.RawURLEncoding.EncodeToString([]byte(time.Now().String()))
	p.mu.Lock()
	p.codes[code] = idpGrant{q.Get("client_id"), q.Get("redirect_uri"), q.Get("nonce"), q.Get("code_challenge")}
	p.mu.Unlock()
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	bq := back.Query()
	bq.Set("code", code)
	bq.Set("state", q.Get("state"))
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

func (p *testIdP) token(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.FormValue("client_id"), r.FormValue("client_secret")
	}
	p.mu.Lock()
	g, found := p.codes[r.FormValue("code")]
	delete(p.codes, r.FormValue("code"))
	p.mu.Unlock()
	sum := sha256.Sum256([]byte(r.FormValue("code_verifier")))
	switch {
	case id != idpClientID || secret != idpClientSecret:
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
		return
	case !found || r.FormValue("grant_type") != "authorization_code" || r.FormValue("redirect_uri") != g.redirectURI ||
		base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	aud, nonce := p.Audience, p.Nonce
	if aud == "" {
		aud = g.clientID
	}
	if nonce == "" {
		nonce = g.nonce
	}
	now := time.Now()
	claims := map[string]any{"iss": p.srv.URL, "sub": "sub-" + p.Username, "aud": aud, "nonce": nonce,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "preferred_username": p.Username}
	if p.Email != "" {
		claims["email"] = p.Email
	}
	if p.EmailVerified != nil {
		claims["email_verified"] = *p.EmailVerified
	}
	p.Exchanges++
	p.mu.Unlock()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: p.key, KeyID: "k1"}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		p.t.Error(err)
		return
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		p.t.Error(err)
		return
	}
	raw, _ := jws.CompactSerialize()
	writeJSON(w, map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": raw})
}

func (p *testIdP) set(f func(p *testIdP)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

func withIdP(p *testIdP) instanceOpt {
	return func(c *config.Config) {
		c.OIDC.Issuer, c.OIDC.ClientID, c.OIDC.ClientSecret = p.srv.URL, idpClientID, idpClientSecret
	}
}

// sso walks the browser through /login/oidc and the provider and returns
// torget's answer to the callback.
func (b *browser) sso(idp *testIdP) (*http.Response, string) {
	b.t.Helper()
	resp, body := b.get("/login/oidc")
	to := location(resp)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(to, idp.srv.URL+"/authorize?") {
		b.t.Fatalf("GET /login/oidc: %d → %q: %.300s", resp.StatusCode, to, body)
	}
	back := b.idpRedirect(to)
	req, _ := http.NewRequest(http.MethodGet, back, nil)
	return b.do(req)
}

// idpRedirect visits the provider's authorize URL and returns where it
// sends the browser back to.
func (b *browser) idpRedirect(authorize string) string {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, authorize, nil)
	resp, body := b.do(req)
	if resp.StatusCode != http.StatusFound {
		b.t.Fatalf("authorize: %d: %.300s", resp.StatusCode, body)
	}
	return location(resp)
}

func TestOIDCLogin(t *testing.T) {
	idp := newTestIdP(t)
	in := startInstance(t, withIdP(idp))
	in.user(t, "alice", auth.RoleEditor)

	// The sign-in page offers single sign-on.
	b := newBrowser(t, in)
	if _, body := b.get("/login"); !strings.Contains(body, `<a href="/login/oidc">Logga in med organisationens konto</a>`) {
		t.Fatalf("no SSO link on the sign-in page: %.500s", body)
	}

	// Success: a new session, on /staff, with the username of the claim.
	idp.set(func(p *testIdP) { p.Username = "alice" })
	b.setCookie("torget_session", "fixated-by-attacker")
	resp, body := b.sso(idp)
	expectRedirect(t, resp, body, "/staff")
	var sessionCookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "torget_session" {
			sessionCookie = c
		}
	}
	if sessionCookie == nil || sessionCookie.Value == "fixated-by-attacker" || !sessionCookie.HttpOnly || !sessionCookie.Secure ||
		sessionCookie.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %+v", sessionCookie)
	}
	if resp, body := b.get("/staff"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "alice") {
		t.Fatalf("GET /staff after SSO: %d: %.300s", resp.StatusCode, body)
	}

	// The start cookie is scoped, short-lived and SameSite=Lax.
	b2 := newBrowser(t, in)
	resp, _ = b2.get("/login/oidc")
	var start *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "torget_oidc" {
			start = c
		}
	}
	if start == nil || !start.HttpOnly || !start.Secure || start.SameSite != http.SameSiteLaxMode || start.Path != "/login/oidc" ||
		start.MaxAge <= 0 || start.MaxAge > 600 {
		t.Fatalf("start cookie %+v", start)
	}
	u, _ := url.Parse(location(resp))
	if q := u.Query(); q.Get("nonce") == "" || q.Get("state") == "" || q.Get("code_challenge_method") != "S256" ||
		q.Get("redirect_uri") != in.Base+"/login/oidc/callback" {
		t.Fatalf("authorize request %s", u.RawQuery)
	}

	// Wrong state: 400, and no session.
	back := b2.idpRedirect(location(resp))
	bu, _ := url.Parse(back)
	bq := bu.Query()
	bq.Set("state", "forged")
	bu.RawQuery = bq.Encode()
	req, _ := http.NewRequest(http.MethodGet, bu.String(), nil)
	resp, body = b2.do(req)
	if resp.StatusCode != http.StatusBadRequest || b2.cookie("torget_session") != "" {
		t.Fatalf("wrong state: %d, session %q: %.300s", resp.StatusCode, b2.cookie("torget_session"), body)
	}
	// …and the start cookie is gone: replaying the right state fails too.
	req, _ = http.NewRequest(http.MethodGet, back, nil)
	if resp, body = b2.do(req); resp.StatusCode != http.StatusBadRequest || b2.cookie("torget_session") != "" {
		t.Fatalf("replay after wrong state: %d: %.300s", resp.StatusCode, body)
	}
	// No start cookie at all (a callback from elsewhere): 400.
	if resp, _ := newBrowser(t, in).get("/login/oidc/callback?code=x&state=y"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("callback without start: %d", resp.StatusCode)
	}

	refused := func(what string) {
		t.Helper()
		b := newBrowser(t, in)
		resp, body := b.sso(idp)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "Inloggningen med organisationens konto misslyckades.") ||
			b.cookie("torget_session") != "" {
			t.Fatalf("%s: %d, session %q: %.300s", what, resp.StatusCode, b.cookie("torget_session"), body)
		}
		if resp, _ := b.get("/staff"); resp.StatusCode != http.StatusSeeOther || location(resp) != "/login" {
			t.Fatalf("%s: /staff reachable: %d", what, resp.StatusCode)
		}
	}
	idp.set(func(p *testIdP) { p.Nonce = "another-nonce" })
	refused("wrong nonce")
	idp.set(func(p *testIdP) { p.Nonce, p.Audience = "", "some-other-client" })
	refused("wrong audience")
	idp.set(func(p *testIdP) { p.Audience, p.Username = "", "mallory" })
	refused("unknown username")
	idp.set(func(p *testIdP) { p.Username = "" })
	refused("no username claim")

	// A disabled account is refused.
	if err := in.Store.CreateUser(context.Background(), &store.User{Username: "bob", Role: auth.RoleEditor, Disabled: true}); err != nil {
		t.Fatal(err)
	}
	idp.set(func(p *testIdP) { p.Username = "bob" })
	refused("disabled account")

	acts := in.auditActions(t)
	for _, want := range []string{"login_oidc alice", "login_oidc_failed mallory", "login_oidc_failed bob"} {
		if acts[want] != 1 {
			t.Errorf("audit %q: %d rows, want 1 (%v)", want, acts[want], acts)
		}
	}
	// Two wrong states, a stray callback, wrong nonce, wrong audience, no claim.
	if acts["login_oidc_failed "] != 6 {
		t.Errorf("anonymous login_oidc_failed rows: %d, want 6 (%v)", acts["login_oidc_failed "], acts)
	}
}

// With TOTP enabled, single sign-on still asks for the code.
func TestOIDCLoginThenTOTP(t *testing.T) {
	idp := newTestIdP(t)
	in := startInstance(t, withIdP(idp))
	u := in.user(t, "carin", auth.RoleAdmin)
	if err := in.Store.SetTOTPSecret(context.Background(), u.ID, "JBSWY3DPEHPK3PXP"); err != nil {
		t.Fatal(err)
	}
	if err := in.Store.SetTOTPEnabled(context.Background(), u.ID, true); err != nil {
		t.Fatal(err)
	}
	idp.set(func(p *testIdP) { p.Username = "carin" })
	b := newBrowser(t, in)
	resp, body := b.sso(idp)
	expectRedirect(t, resp, body, "/login/totp")
	resp, body = b.get("/staff")
	expectRedirect(t, resp, body, "/login/totp")
}

// Without an issuer there is no link and no route.
func TestOIDCOff(t *testing.T) {
	in := startInstance(t)
	b := newBrowser(t, in)
	if _, body := b.get("/login"); strings.Contains(body, "/login/oidc") {
		t.Fatal("SSO link shown without [oidc] issuer")
	}
	for _, p := range []string{"/login/oidc", "/login/oidc/callback?code=x&state=y"} {
		if resp, _ := b.get(p); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
}

// TestOIDCEmailClaim: the identity provider's address becomes the staff
// member's alert address — not when the provider says it is unverified,
// and not when it is no plain address; sign-in succeeds either way.
func TestOIDCEmailClaim(t *testing.T) {
	idp := newTestIdP(t)
	in := startInstance(t, withIdP(idp))
	in.user(t, "alice", auth.RoleEditor)
	no := false
	for _, c := range []struct {
		email    string
		verified *bool
		want     string
	}{
		{"alice.old@stad.example", nil, "alice.old@stad.example"},
		{"alice.unverified@stad.example", &no, "alice.old@stad.example"},
		{"Alice <alice@stad.example>", nil, "alice.old@stad.example"},
		{"alice@stad.example", nil, "alice@stad.example"},
	} {
		idp.set(func(p *testIdP) { p.Username, p.Email, p.EmailVerified = "alice", c.email, c.verified })
		b := newBrowser(t, in)
		resp, body := b.sso(idp)
		expectRedirect(t, resp, body, "/staff")
		u, err := in.Store.UserByName(context.Background(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		if u.Email != c.want {
			t.Errorf("after a sign-in with email %q (verified %v): address %q, want %q", c.email, c.verified, u.Email, c.want)
		}
	}
}
