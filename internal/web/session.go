package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/internal/auth"
	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/uris"
)

// AuthOptions tune staff sessions and sign-in throttling.
type AuthOptions struct {
	IdleTimeout     time.Duration
	Lifetime        time.Duration
	LockoutFailures int
	LockoutWindow   time.Duration
	LockoutDuration time.Duration
	IPMaxFailures   int
	// SecureCookies marks cookies Secure; true when the base URL is https.
	SecureCookies bool
}

func (o *AuthOptions) defaults() {
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 12 * time.Hour
	}
	if o.Lifetime <= 0 {
		o.Lifetime = 7 * 24 * time.Hour
	}
	if o.LockoutFailures <= 0 {
		o.LockoutFailures = 5
	}
	if o.LockoutWindow <= 0 {
		o.LockoutWindow = 15 * time.Minute
	}
	if o.LockoutDuration <= 0 {
		o.LockoutDuration = 15 * time.Minute
	}
	if o.IPMaxFailures <= 0 {
		o.IPMaxFailures = 30
	}
}

const (
	sessionCookie = "torget_session"
	// loginCSRFCookie carries the double-submit token of the sign-in form,
	// the one form shown before there is a session to bind a token to.
	loginCSRFCookie = "torget_csrf"
	csrfField       = "csrf"
	staffKey        = "torget.staff"
)

// staff is the signed-in user of a request.
type staff struct {
	sess  *store.Session
	user  *store.User
	token string // the cookie's token; only its hash is stored
}

func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// csrfFor derives the session's synchronizer token from the session token:
// only the session's holder can compute it, and the database (which holds
// only the token's hash) cannot.
func csrfFor(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("torget csrf v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func staffFrom(c echo.Context) *staff {
	sc, _ := c.Get(staffKey).(*staff)
	return sc
}

// inboxRoutes are authenticated by HTTP signatures, not cookies: no CSRF.
var inboxRoutes = map[string]bool{uris.RouteInstanceInbox: true, uris.RouteSharedInbox: true, uris.RouteGroupInbox: true}

// tokenlessRoutes are public forms that change nothing on our side (the
// follow form only redirects the visitor to their own server); they check
// Origin themselves and carry no session, so no synchronizer token.
var tokenlessRoutes = map[string]bool{"/follow": true}

func isStaffPath(p string) bool {
	return p == "/login" || strings.HasPrefix(p, "/login/") || p == "/logout" || p == "/staff" || strings.HasPrefix(p, "/staff/")
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// guard loads the staff session on staff pages and checks CSRF on every
// state-changing request except the signature-authenticated inboxes.
func (s *Server) guard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		route := c.Path()
		if inboxRoutes[route] || tokenlessRoutes[route] {
			return next(c)
		}
		r := c.Request()
		unsafe := !safeMethod(r.Method)
		// Plain forms are small (a post is at most 20 000 characters):
		// larger bodies get 413 before anything parses them. Multipart
		// bodies (uploads) are bounded by their own handlers.
		if unsafe && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			if r.ContentLength > s.opt.MaxBodyBytes {
				return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "request too large")
			}
			r.Body = http.MaxBytesReader(c.Response(), r.Body, s.opt.MaxBodyBytes)
			if err := r.ParseForm(); err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "request too large")
				}
				return echo.NewHTTPError(http.StatusBadRequest, "malformed form")
			}
		}
		staffPage := isStaffPath(route) || isStaffPath(r.URL.Path)
		if !unsafe && !staffPage {
			return next(c)
		}
		if staffPage {
			c.Response().Header().Set("Cache-Control", "no-store")
		}
		if ck, err := r.Cookie(sessionCookie); err == nil && ck.Value != "" {
			sc, err := s.loadSession(c, ck.Value)
			if err != nil {
				return err
			}
			if sc != nil {
				c.Set(staffKey, sc)
			}
		}
		if unsafe && !s.csrfOK(c) {
			return echo.NewHTTPError(http.StatusForbidden, "CSRF check failed: reload the page and try again")
		}
		return next(c)
	}
}

// csrfOK checks the fetch metadata and Origin (defence in depth), then the
// token: the session's synchronizer token, or on the sign-in form without
// a session, the double-submit cookie.
func (s *Server) csrfOK(c echo.Context) bool {
	r := c.Request()
	if sfs := r.Header.Get("Sec-Fetch-Site"); sfs != "" && sfs != "same-origin" && sfs != "none" {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && !strings.EqualFold(o, s.u.Base) {
		return false
	}
	got := c.FormValue(csrfField)
	if got == "" {
		got = r.Header.Get("X-CSRF-Token")
	}
	var want string
	if sc := staffFrom(c); sc != nil {
		want = csrfFor(sc.token)
	} else if c.Path() == "/login" || publicFormRoutes[c.Path()] {
		if ck, err := r.Cookie(loginCSRFCookie); err == nil {
			want = ck.Value
		}
	}
	return want != "" && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// csrfToken is the token a page's forms carry.
func (s *Server) csrfToken(c echo.Context) string {
	if sc := staffFrom(c); sc != nil {
		return csrfFor(sc.token)
	}
	if ck, err := c.Request().Cookie(loginCSRFCookie); err == nil && len(ck.Value) >= 32 {
		return ck.Value
	}
	tok := newToken()
	c.SetCookie(s.cookie(loginCSRFCookie, tok, 0))
	return tok
}

func (s *Server) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		Secure: s.opt.Auth.SecureCookies, SameSite: http.SameSiteLaxMode}
}

// loadSession returns the live session for a cookie token, or nil.
func (s *Server) loadSession(c echo.Context, token string) (*staff, error) {
	ctx := c.Request().Context()
	id := hashToken(token)
	sess, err := s.st.SessionByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := s.st.Now()
	if !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= s.opt.Auth.IdleTimeout {
		return nil, s.st.DeleteSession(ctx, id)
	}
	u, err := s.st.UserByID(ctx, sess.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, nil
	}
	if now.Sub(sess.LastSeenAt) > time.Minute {
		if err := s.st.TouchSession(ctx, id, now); err != nil {
			return nil, err
		}
		sess.LastSeenAt = now
	}
	return &staff{sess: sess, user: u, token: token}, nil
}

// startSession replaces any session the request carries by a new one (a
// new id at every sign-in and at every step up: no session fixation) and
// sets its cookie.
func (s *Server) startSession(c echo.Context, u *store.User, totpPassed bool) error {
	r := c.Request()
	if u.Locale != "" { // the account's language beats one chosen before signing in
		c.SetCookie(s.cookie(langCookie, u.Locale, langCookieAge))
	}
	old := ""
	if ck, err := r.Cookie(sessionCookie); err == nil && ck.Value != "" {
		old = hashToken(ck.Value)
	}
	now := s.st.Now()
	tok := newToken()
	sess := &store.Session{ID: hashToken(tok), UserID: u.ID, CreatedAt: now, LastSeenAt: now,
		ExpiresAt: now.Add(s.opt.Auth.Lifetime), UserAgent: clipBytes(r.UserAgent(), 300), IP: c.RealIP(), TOTPPassed: totpPassed}
	if err := s.st.ReplaceSession(r.Context(), old, sess); err != nil {
		return err
	}
	c.SetCookie(s.cookie(sessionCookie, tok, 0))
	c.Set(staffKey, &staff{sess: sess, user: u, token: tok})
	return nil
}

// requireTOTP reports the instance setting.
func (s *Server) requireTOTP(ctx context.Context) (bool, error) {
	v, err := s.st.Setting(ctx, store.SettingRequireTOTP)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return v == "on", err
}

// requireUser lets through fully signed-in staff. A session still waiting
// for its TOTP code goes back to that step; a user who must change the
// password, or must enrol in TOTP, can reach only those pages.
func (s *Server) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sc := staffFrom(c)
		if sc == nil {
			return c.Redirect(http.StatusSeeOther, "/login")
		}
		if !sc.sess.TOTPPassed {
			return c.Redirect(http.StatusSeeOther, "/login/totp")
		}
		p := c.Path()
		if sc.user.MustChangePassword && p != "/staff/password" {
			return c.Redirect(http.StatusSeeOther, "/staff/password")
		}
		// Record entries made by this request name the staff member (ID-5).
		c.SetRequest(c.Request().WithContext(store.WithRecordActor(c.Request().Context(), store.StaffActor(sc.user.ID, sc.user.Username))))
		if !sc.user.TOTPEnabled && !strings.HasPrefix(p, "/staff/totp") && p != "/staff/password" {
			req, err := s.requireTOTP(c.Request().Context())
			if err != nil {
				return err
			}
			if req {
				return c.Redirect(http.StatusSeeOther, "/staff/totp")
			}
		}
		return next(c)
	}
}

// requireRole refuses (403) staff whose role is not one of roles. Use it
// after requireUser.
func requireRole(roles ...string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			sc := staffFrom(c)
			if sc == nil {
				return echo.NewHTTPError(http.StatusForbidden, "forbidden")
			}
			for _, r := range roles {
				if sc.user.Role == r {
					return next(c)
				}
			}
			return echo.NewHTTPError(http.StatusForbidden, "forbidden")
		}
	}
}

// audit appends a row to the audit log for this request. u may be nil
// (a failed sign-in); then name is what was typed.
func (s *Server) audit(c echo.Context, u *store.User, name, action, target, detail string) error {
	r := c.Request()
	e := &store.AuditEntry{Username: clipBytes(name, 200), Action: action, Target: clipBytes(target, 500), IP: c.RealIP(),
		UserAgent: clipBytes(r.UserAgent(), 300), Detail: clipBytes(detail, 1000)}
	if u != nil {
		id := u.ID
		e.UserID, e.Username = &id, u.Username
	}
	return s.st.AppendAudit(r.Context(), e)
}

// clipBytes cuts s to at most n bytes on a rune boundary (database limits).
func clipBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

var dummy struct {
	once sync.Once
	hash string
}

// dummyHash is a real argon2id hash of a random password: checking an
// unknown user's password against it costs what a real check costs.
func dummyHash() string {
	dummy.once.Do(func() {
		h, err := auth.HashPassword(auth.RandomPassword(24))
		if err != nil {
			panic(err)
		}
		dummy.hash = h
	})
	return dummy.hash
}
