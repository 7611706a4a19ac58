package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/internal/auth"
	"github.com/torget/torget/internal/store"
)

// Sign-in: GET/POST /login (password), GET/POST /login/totp (second
// factor), POST /logout.

type loginPage struct {
	page
	CSRF, Username, Error string
	OIDC                  bool // show the single sign-on link
}

type totpLoginPage struct {
	page
	CSRF, Error string
}

// Message ids: one for every failed sign-in, whatever failed.
var (
	msgLoginFailed = msg("login.error.failed")
	msgLocked      = msg("login.error.locked")
	msgBadCode     = msg("staff.totp.error.bad_code")
)

func (s *Server) loginForm(c echo.Context) error {
	if sc := staffFrom(c); sc != nil && sc.sess.TOTPPassed {
		return c.Redirect(http.StatusSeeOther, "/staff")
	}
	return s.renderLogin(c, http.StatusOK, "", "")
}

// renderLogin shows the sign-in page.
func (s *Server) renderLogin(c echo.Context, code int, username, msg string) error {
	return s.render(c, code, "login.html", loginPage{page: s.page(c, s.tr(c).T("login.heading"), ""), CSRF: s.csrfToken(c), Username: username, Error: msg, OIDC: s.oidc != nil})
}

// locked reports whether sign-in for username, or from ip, is refused now.
func (s *Server) locked(c echo.Context, username, ip string) (bool, error) {
	ctx := c.Request().Context()
	a := s.opt.Auth
	now := s.st.Now()
	fails, err := s.st.RecentLoginFailures(ctx, username, now.Add(-(a.LockoutWindow + a.LockoutDuration)), a.LockoutFailures)
	if err != nil {
		return false, err
	}
	if n := len(fails); n >= a.LockoutFailures && fails[0].Sub(fails[n-1]) <= a.LockoutWindow && now.Before(fails[0].Add(a.LockoutDuration)) {
		return true, nil
	}
	n, err := s.st.LoginFailuresFromIP(ctx, ip, now.Add(-a.LockoutWindow))
	return n >= int64(a.IPMaxFailures), err
}

func (s *Server) login(c echo.Context) error {
	ctx := c.Request().Context()
	name := clipBytes(strings.TrimSpace(c.FormValue("username")), 200)
	pw := c.FormValue("password")
	ip := c.RealIP()
	fail := func(code int, msg string) error {
		return s.renderLogin(c, code, name, s.tr(c).T(msg))
	}
	locked, err := s.locked(c, name, ip)
	if err != nil {
		return err
	}
	if locked {
		if err := s.audit(c, nil, name, "login_locked", name, "refused: too many failures"); err != nil {
			return err
		}
		return fail(http.StatusTooManyRequests, msgLocked)
	}
	u, err := s.st.UserByName(ctx, name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	hash := dummyHash()
	if u != nil {
		hash = u.PasswordHash
	}
	ok, _ := auth.CheckPassword(hash, pw) // the same work for unknown users
	if u == nil || !ok || u.Disabled || name == "" {
		if err := s.st.RecordLoginAttempt(ctx, name, ip, false); err != nil {
			return err
		}
		reason := "wrong password"
		switch {
		case u == nil:
			reason = "unknown user"
		case u.Disabled:
			reason = "account disabled"
		}
		if err := s.audit(c, u, name, "login_failed", name, reason); err != nil {
			return err
		}
		return fail(http.StatusOK, msgLoginFailed)
	}
	if err := s.st.RecordLoginAttempt(ctx, name, ip, true); err != nil {
		return err
	}
	// Housekeeping, on the rare successful sign-in: stale sessions and
	// attempts older than any window that reads them.
	now := s.st.Now()
	if err := s.st.DeleteStaleSessions(ctx, now, now.Add(-s.opt.Auth.IdleTimeout)); err != nil {
		return err
	}
	if err := s.st.DeleteLoginAttemptsBefore(ctx, now.Add(-24*time.Hour-s.opt.Auth.LockoutWindow-s.opt.Auth.LockoutDuration)); err != nil {
		return err
	}
	if err := s.startSession(c, u, !u.TOTPEnabled); err != nil {
		return err
	}
	detail := "password"
	if u.TOTPEnabled {
		detail = "password; TOTP code pending"
	}
	if err := s.audit(c, u, u.Username, "login", u.Username, detail); err != nil {
		return err
	}
	if u.TOTPEnabled {
		return c.Redirect(http.StatusSeeOther, "/login/totp")
	}
	return c.Redirect(http.StatusSeeOther, "/staff")
}

func (s *Server) totpForm(c echo.Context) error {
	sc := staffFrom(c)
	if sc == nil {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	if sc.sess.TOTPPassed {
		return c.Redirect(http.StatusSeeOther, "/staff")
	}
	return s.render(c, http.StatusOK, "login_totp.html", totpLoginPage{page: s.page(c, s.tr(c).T("staff.login_totp.heading"), ""), CSRF: s.csrfToken(c)})
}

func (s *Server) totpLogin(c echo.Context) error {
	ctx := c.Request().Context()
	sc := staffFrom(c)
	if sc == nil {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	if sc.sess.TOTPPassed {
		return c.Redirect(http.StatusSeeOther, "/staff")
	}
	u, ip := sc.user, c.RealIP()
	fail := func(code int, msg string) error {
		return s.render(c, code, "login_totp.html", totpLoginPage{page: s.page(c, s.tr(c).T("staff.login_totp.heading"), ""), CSRF: s.csrfToken(c), Error: s.tr(c).T(msg)})
	}
	locked, err := s.locked(c, u.Username, ip)
	if err != nil {
		return err
	}
	if locked {
		if err := s.audit(c, u, u.Username, "login_locked", u.Username, "refused at TOTP step: too many failures"); err != nil {
			return err
		}
		return fail(http.StatusTooManyRequests, msgLocked)
	}
	ok, reason, err := s.checkTOTP(c, u, c.FormValue("code"))
	if err != nil {
		return err
	}
	if !ok {
		if err := s.st.RecordLoginAttempt(ctx, u.Username, ip, false); err != nil {
			return err
		}
		if err := s.audit(c, u, u.Username, "login_totp_failed", u.Username, reason); err != nil {
			return err
		}
		return fail(http.StatusOK, msgBadCode)
	}
	if err := s.st.RecordLoginAttempt(ctx, u.Username, ip, true); err != nil {
		return err
	}
	if err := s.startSession(c, u, true); err != nil {
		return err
	}
	if err := s.audit(c, u, u.Username, "login_totp", u.Username, "second factor accepted"); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/staff")
}

// checkTOTP accepts a code of the user's confirmed or pending secret once.
func (s *Server) checkTOTP(c echo.Context, u *store.User, code string) (bool, string, error) {
	step, ok := auth.MatchTOTP(u.TOTPSecret, code, s.st.Now())
	if !ok {
		return false, "wrong code", nil
	}
	fresh, err := s.st.UseTOTPStep(c.Request().Context(), u.ID, step)
	if err != nil {
		return false, "", err
	}
	if !fresh {
		return false, "code already used", nil
	}
	return true, "", nil
}

func (s *Server) logout(c echo.Context) error {
	if sc := staffFrom(c); sc != nil {
		if err := s.st.DeleteSession(c.Request().Context(), sc.sess.ID); err != nil {
			return err
		}
		if err := s.audit(c, sc.user, sc.user.Username, "logout", sc.user.Username, ""); err != nil {
			return err
		}
	}
	c.SetCookie(s.cookie(sessionCookie, "", -1))
	return c.Redirect(http.StatusSeeOther, "/login")
}
