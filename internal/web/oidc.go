package web

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/labstack/echo/v4"
	"golang.org/x/oauth2"

	"github.com/torget/torget/internal/store"
)

// Single sign-on over OpenID Connect: GET /login/oidc sends the browser to
// the identity provider, GET /login/oidc/callback takes it back. The
// username claim of the verified ID token names an existing staff account;
// signing in never creates one.

// OIDCOptions configure single sign-on; an empty Issuer turns it off.
type OIDCOptions struct {
	Issuer, ClientID, ClientSecret, RedirectURL string
	UsernameClaim                               string
	Scopes                                      []string
	// RootCAs are the roots trusted for the provider's TLS (discovery,
	// keys, token exchange); nil means the system roots.
	RootCAs *x509.CertPool
	Timeout time.Duration
}

const (
	oidcCookie     = "torget_oidc"
	oidcCookiePath = "/login/oidc"
	oidcCookieTTL  = 10 * time.Minute
)

var msgOIDCFailed = msg("login.error.oidc_failed")

// oidcClient holds the provider, discovered on first use (so torget starts
// while the provider is down) and kept once discovery succeeds.
type oidcClient struct {
	opt  OIDCOptions
	http *http.Client

	mu       sync.Mutex
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
}

func newOIDCClient(opt OIDCOptions) *oidcClient {
	if opt.Issuer == "" {
		return nil
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Second
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: opt.RootCAs, MinVersion: tls.VersionTLS12}
	return &oidcClient{opt: opt, http: &http.Client{Transport: tr, Timeout: opt.Timeout}}
}

// ctx carries our HTTP client to go-oidc and oauth2.
func (o *oidcClient) ctx(ctx context.Context) context.Context { return oidc.ClientContext(ctx, o.http) }

// config discovers the provider if needed and returns the OAuth 2 config.
func (o *oidcClient) config(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider == nil {
		p, err := oidc.NewProvider(o.ctx(ctx), o.opt.Issuer)
		if err != nil {
			return nil, nil, fmt.Errorf("oidc discovery: %w", err)
		}
		o.provider = p
		o.verifier = p.Verifier(&oidc.Config{ClientID: o.opt.ClientID})
	}
	return &oauth2.Config{ClientID: o.opt.ClientID, ClientSecret: o.opt.ClientSecret, RedirectURL: o.opt.RedirectURL,
		Endpoint: o.provider.Endpoint(), Scopes: o.opt.Scopes}, o.verifier, nil
}

// oidcStart: GET /login/oidc. State, nonce and PKCE verifier go into a
// short-lived cookie that only the callback path receives.
func (s *Server) oidcStart(c echo.Context) error {
	if s.oidc == nil {
		return echo.NewHTTPError(http.StatusNotFound, "not found")
	}
	cfg, _, err := s.oidc.config(c.Request().Context())
	if err != nil {
		s.log.Error("oidc provider unavailable", "err", err)
		return s.renderLogin(c, http.StatusBadGateway, "", s.tr(c).T(msgOIDCFailed))
	}
	state, nonce, verifier := newToken(), newToken(), oauth2.GenerateVerifier()
	val := strings.Join([]string{state, nonce, verifier, strconv.FormatInt(s.st.Now().Unix(), 10)}, ".")
	c.SetCookie(&http.Cookie{Name: oidcCookie, Value: val, Path: oidcCookiePath, MaxAge: int(oidcCookieTTL / time.Second),
		HttpOnly: true, Secure: s.opt.Auth.SecureCookies, SameSite: http.SameSiteLaxMode})
	return c.Redirect(http.StatusSeeOther, cfg.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
}

// oidcCookieValues reads and checks the start cookie.
func (s *Server) oidcCookieValues(c echo.Context) (state, nonce, verifier string, ok bool) {
	ck, err := c.Request().Cookie(oidcCookie)
	if err != nil {
		return "", "", "", false
	}
	parts := strings.Split(ck.Value, ".")
	if len(parts) != 4 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return "", "", "", false
	}
	t, err := strconv.ParseInt(parts[3], 10, 64)
	if err != nil || s.st.Now().Sub(time.Unix(t, 0)) > oidcCookieTTL {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// oidcCallback: GET /login/oidc/callback.
func (s *Server) oidcCallback(c echo.Context) error {
	if s.oidc == nil {
		return echo.NewHTTPError(http.StatusNotFound, "not found")
	}
	ctx := c.Request().Context()
	q := c.QueryParams()
	// The start cookie is good for one attempt.
	c.SetCookie(&http.Cookie{Name: oidcCookie, Value: "", Path: oidcCookiePath, MaxAge: -1,
		HttpOnly: true, Secure: s.opt.Auth.SecureCookies, SameSite: http.SameSiteLaxMode})
	state, nonce, verifier, ok := s.oidcCookieValues(c)
	if !ok || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
		if err := s.audit(c, nil, "", "login_oidc_failed", "", "state missing, expired or wrong"); err != nil {
			return err
		}
		return echo.NewHTTPError(http.StatusBadRequest, "sign-in expired or was not started here: start again from the sign-in page")
	}
	fail := func(name, reason string) error {
		if err := s.audit(c, nil, name, "login_oidc_failed", name, reason); err != nil {
			return err
		}
		return s.renderLogin(c, http.StatusForbidden, "", s.tr(c).T(msgOIDCFailed))
	}
	if e := q.Get("error"); e != "" {
		return fail("", "provider error: "+clipBytes(e+" "+q.Get("error_description"), 500))
	}
	code := q.Get("code")
	if code == "" {
		return fail("", "no code")
	}
	cfg, idv, err := s.oidc.config(ctx)
	if err != nil {
		s.log.Error("oidc provider unavailable", "err", err)
		return fail("", "provider unavailable")
	}
	octx := s.oidc.ctx(ctx)
	tok, err := cfg.Exchange(octx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		s.log.Info("oidc code exchange failed", "err", err)
		return fail("", "code exchange failed")
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return fail("", "no id_token in token response")
	}
	idt, err := idv.Verify(octx, raw)
	if err != nil {
		s.log.Info("oidc id token refused", "err", err)
		return fail("", clipBytes("id token refused: "+err.Error(), 500))
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return fail("", "id token nonce mismatch")
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return fail("", "id token claims unreadable")
	}
	name, _ := claims[s.opt.OIDC.UsernameClaim].(string)
	name = clipBytes(strings.TrimSpace(name), 200)
	who := "sub=" + clipBytes(idt.Subject, 200) + " iss=" + clipBytes(idt.Issuer, 300)
	if name == "" {
		return fail("", "claim "+s.opt.OIDC.UsernameClaim+" missing; "+who)
	}
	u, err := s.st.UserByName(ctx, name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if u == nil {
		return fail(name, "no staff account with this username; "+who)
	}
	if u.Disabled {
		if err := s.audit(c, u, u.Username, "login_oidc_failed", u.Username, "account disabled; "+who); err != nil {
			return err
		}
		return s.renderLogin(c, http.StatusForbidden, "", s.tr(c).T(msgOIDCFailed))
	}
	// The organisation's identity provider knows the staff member's
	// address: alerts go there (unless it says the address is unverified).
	if email, _ := claims["email"].(string); email != "" && email != u.Email && claims["email_verified"] != false {
		if err := s.st.SetUserEmail(ctx, u.ID, email); err == nil {
			u.Email = email
		} else if !errors.Is(err, store.ErrBadEmail) { // an unusable address is left out
			return err
		}
	}
	now := s.st.Now()
	if err := s.st.DeleteStaleSessions(ctx, now, now.Add(-s.opt.Auth.IdleTimeout)); err != nil {
		return err
	}
	if err := s.startSession(c, u, !u.TOTPEnabled); err != nil {
		return err
	}
	detail := "single sign-on; " + who
	if u.TOTPEnabled {
		detail += "; TOTP code pending"
	}
	if err := s.audit(c, u, u.Username, "login_oidc", u.Username, detail); err != nil {
		return err
	}
	if u.TOTPEnabled {
		return c.Redirect(http.StatusSeeOther, "/login/totp")
	}
	return c.Redirect(http.StatusSeeOther, "/staff")
}
