package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/internal/auth"
	"github.com/torget/torget/internal/cases"
	"github.com/torget/torget/internal/i18n"
	"github.com/torget/torget/internal/store"
)

// The staff area: /staff and below, for signed-in staff only.

type staffNav struct {
	Username, Role, CSRF string
	Admin                bool
}

func (s *Server) staffRoutes(e *echo.Echo) {
	e.GET("/login", s.loginForm)
	e.POST("/login", s.login)
	e.GET("/login/totp", s.totpForm)
	e.POST("/login/totp", s.totpLogin)
	e.GET("/login/oidc", s.oidcStart)
	e.GET("/login/oidc/callback", s.oidcCallback)
	e.POST("/logout", s.logout)

	g := e.Group("/staff", s.requireUser)
	g.GET("", s.staffHome)
	g.GET("/totp", s.totpPage)
	g.POST("/totp/new", s.totpNew)
	g.POST("/totp/confirm", s.totpConfirm)
	g.POST("/totp/disable", s.totpDisable)
	g.GET("/password", s.passwordForm)
	g.GET("/language", s.languageForm)
	g.POST("/language", s.setLanguage)
	g.POST("/language/reads", s.setReads)
	g.POST("/email", s.setEmail)
	g.POST("/password", s.changePassword)

	g.GET("/groups/:slug", s.staffGroup)
	g.GET("/groups/:slug/compose", s.composeForm)
	g.POST("/groups/:slug/compose", s.compose)
	g.GET("/posts/:id/edit", s.editForm)
	g.POST("/posts/:id/edit", s.edit)
	g.GET("/posts/:id/delete", s.deleteConfirm)
	g.POST("/posts/:id/delete", s.deletePost)
	g.POST("/posts/:id/pin", s.pinPost)
	g.POST("/posts/:id/unpin", s.unpinPost)
	g.GET("/drafts/:id/edit", s.draftForm)
	g.POST("/drafts/:id/edit", s.editDraft)
	g.POST("/drafts/:id/publish", s.publishDraft)
	g.POST("/drafts/:id/discard", s.discardDraft)
	g.POST("/groups/:slug/followers/approve", s.approveFollow)
	g.POST("/groups/:slug/followers/reject", s.rejectFollow)
	s.caseRoutes(g)

	admin := g.Group("", requireRole(auth.RoleAdmin))
	admin.GET("/groups/new", s.newGroupForm)
	admin.POST("/groups/new", s.createGroup)
	admin.GET("/groups/:slug/edit", s.editGroupForm)
	admin.POST("/groups/:slug/edit", s.editGroup)
	admin.POST("/groups/:slug/images/:which", s.setGroupImage)
	admin.POST("/groups/:slug/mode", s.setDiscussionMode)
	admin.POST("/groups/:slug/staff", s.assignStaff)
	admin.POST("/groups/:slug/staff/:user/remove", s.unassignStaff)
	admin.GET("/users", s.usersPage)
	admin.POST("/users/:id/password", s.resetPassword)
	admin.GET("/audit", s.auditPage)
	admin.GET("/privacy/export", s.subjectExport)
	s.erasureRoutes(admin)
	admin.GET("/record", s.recordSearch)
	admin.GET("/record.json", s.recordJSON)
	admin.POST("/record/archive", s.archiveExport)
}

// staffPage is the frame of a staff page, with the staff navigation.
func (s *Server) staffPage(c echo.Context, title string) page {
	p := s.page(c, title, "")
	if sc := staffFrom(c); sc != nil && sc.sess.TOTPPassed {
		p.Staff = &staffNav{Username: sc.user.Username, Role: s.roleName(c, sc.user.Role), CSRF: csrfFor(sc.token), Admin: sc.user.Role == auth.RoleAdmin}
	}
	return p
}

var roleNames = map[string]string{
	auth.RoleAdmin:     msg("staff.role.admin"),
	auth.RoleModerator: msg("staff.role.moderator"),
	auth.RoleEditor:    msg("staff.role.editor"),
}

func (s *Server) roleName(c echo.Context, r string) string {
	if id, ok := roleNames[r]; ok {
		return s.tr(c).T(id)
	}
	return r
}

type staffGroup struct {
	Name, Handle, URL, StaffURL, Purpose string
	CanPublish                           bool
}

type staffHomePage struct {
	page
	Groups []staffGroup
}

func (s *Server) staffHome(c echo.Context) error {
	ctx := c.Request().Context()
	sc := staffFrom(c)
	gs, err := s.st.ListGroups(ctx)
	if err != nil {
		return err
	}
	v := staffHomePage{page: s.staffPage(c, s.tr(c).T("staff.home.heading"))}
	for _, g := range gs {
		ok, err := s.st.CanPublish(ctx, sc.user, g.ID)
		if err != nil {
			return err
		}
		v.Groups = append(v.Groups, staffGroup{Name: g.Name, Handle: "@" + g.Slug + "@" + s.u.Domain, URL: s.u.Group(g.Slug),
			StaffURL: staffGroupPath(g.Slug), Purpose: g.Purpose, CanPublish: ok})
	}
	return s.render(c, http.StatusOK, "staff.html", v)
}

type userRow struct {
	ID                  int64
	Username, Role      string
	TOTP, Disabled, Own bool
}

type usersPage struct {
	page
	CSRF          string
	Users         []userRow
	Notice, Error string
}

func (s *Server) usersPage(c echo.Context) error {
	return s.renderUsers(c, http.StatusOK, c.QueryParam("notice"), "")
}

func (s *Server) renderUsers(c echo.Context, code int, notice, msg string) error {
	us, err := s.st.ListUsers(c.Request().Context())
	if err != nil {
		return err
	}
	sc := staffFrom(c)
	v := usersPage{page: s.staffPage(c, s.tr(c).T("staff.nav.users")), CSRF: csrfFor(sc.token), Notice: notice, Error: msg}
	for _, u := range us {
		v.Users = append(v.Users, userRow{ID: u.ID, Username: u.Username, Role: s.roleName(c, u.Role), TOTP: u.TOTPEnabled, Disabled: u.Disabled, Own: u.ID == sc.user.ID})
	}
	return s.render(c, code, "staff_users.html", v)
}

// resetPassword sets a password chosen by an administrator; the user must
// change it at next sign-in, and every session of theirs ends.
func (s *Server) resetPassword(c echo.Context) error {
	ctx := c.Request().Context()
	sc := staffFrom(c)
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "not found")
	}
	u, err := s.st.UserByID(ctx, id)
	if err != nil {
		return err
	}
	pw := c.FormValue("password")
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return s.renderUsers(c, http.StatusUnprocessableEntity, "", s.tr(c).T("staff.users.error.too_short", "Username", u.Username, "Min", auth.MinPasswordLen))
	}
	ended, err := s.st.ResetPassword(ctx, u.ID, hash, true)
	if err != nil {
		return err
	}
	if err := s.audit(c, sc.user, sc.user.Username, "password_reset", u.Username, fmt.Sprintf("by administrator; %d sessions ended", ended)); err != nil {
		return err
	}
	if u.ID == sc.user.ID {
		c.SetCookie(s.cookie(sessionCookie, "", -1))
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	return c.Redirect(http.StatusSeeOther, "/staff/users?notice="+url.QueryEscape(s.tr(c).T("staff.users.notice.password_set", "Username", u.Username)))
}

type auditPage struct {
	page
	Rows  []store.AuditEntry
	Older string
}

const auditPageSize = 50

func (s *Server) auditPage(c echo.Context) error {
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	rows, err := s.st.ListAudit(c.Request().Context(), before, auditPageSize)
	if err != nil {
		return err
	}
	v := auditPage{page: s.staffPage(c, s.tr(c).T("staff.nav.audit")), Rows: rows}
	if len(rows) == auditPageSize {
		v.Older = "/staff/audit?before=" + strconv.FormatInt(rows[len(rows)-1].ID, 10)
	}
	return s.render(c, http.StatusOK, "staff_audit.html", v)
}

type passwordPage struct {
	page
	CSRF, Error string
	Forced      bool
}

func (s *Server) passwordForm(c echo.Context) error {
	sc := staffFrom(c)
	return s.render(c, http.StatusOK, "staff_password.html", passwordPage{page: s.staffPage(c, s.tr(c).T("staff.nav.password")), CSRF: csrfFor(sc.token), Forced: sc.user.MustChangePassword})
}

func (s *Server) changePassword(c echo.Context) error {
	ctx := c.Request().Context()
	sc := staffFrom(c)
	fail := func(msg string) error {
		return s.render(c, http.StatusUnprocessableEntity, "staff_password.html", passwordPage{page: s.staffPage(c, s.tr(c).T("staff.nav.password")),
			CSRF: csrfFor(sc.token), Forced: sc.user.MustChangePassword, Error: msg})
	}
	if ok, _ := auth.CheckPassword(sc.user.PasswordHash, c.FormValue("current")); !ok {
		if err := s.audit(c, sc.user, sc.user.Username, "password_change_failed", sc.user.Username, "wrong current password"); err != nil {
			return err
		}
		return fail(s.tr(c).T("staff.password.error.wrong_current"))
	}
	pw := c.FormValue("new")
	if pw != c.FormValue("confirm") {
		return fail(s.tr(c).T("staff.password.error.mismatch"))
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return fail(s.tr(c).T("staff.password.error.too_short", "Min", auth.MinPasswordLen))
	}
	if err := s.st.ChangeOwnPassword(ctx, sc.user.ID, hash, sc.sess.ID); err != nil {
		return err
	}
	if err := s.audit(c, sc.user, sc.user.Username, "password_change", sc.user.Username, "other sessions ended"); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/staff")
}

// TOTP enrolment.

type totpPage struct {
	page
	CSRF                      string
	Enabled, Required, Forced bool
	Secret, Error, Notice     string
	URI                       template.URL // otpauth://, which html/template would otherwise refuse
	HasPending                bool
}

func (s *Server) totpPage(c echo.Context) error {
	return s.renderTOTP(c, http.StatusOK, "")
}

func (s *Server) renderTOTP(c echo.Context, code int, msg string) error {
	sc := staffFrom(c)
	req, err := s.requireTOTP(c.Request().Context())
	if err != nil {
		return err
	}
	u := sc.user
	v := totpPage{page: s.staffPage(c, s.tr(c).T("staff.nav.totp")), CSRF: csrfFor(sc.token), Enabled: u.TOTPEnabled, Required: req,
		Forced: req && !u.TOTPEnabled, Error: msg}
	if !u.TOTPEnabled && u.TOTPSecret != "" {
		v.HasPending, v.Secret = true, u.TOTPSecret
		v.URI = template.URL(auth.TOTPURI(s.opt.Instance.Name, u.Username+"@"+s.u.Domain, u.TOTPSecret))
	}
	return s.render(c, code, "staff_totp.html", v)
}

func (s *Server) totpNew(c echo.Context) error {
	sc := staffFrom(c)
	if sc.user.TOTPEnabled {
		return c.Redirect(http.StatusSeeOther, "/staff/totp")
	}
	secret, _, err := auth.NewTOTP(s.opt.Instance.Name, sc.user.Username+"@"+s.u.Domain)
	if err != nil {
		return err
	}
	if err := s.st.SetTOTPSecret(c.Request().Context(), sc.user.ID, secret); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/staff/totp")
}

func (s *Server) totpConfirm(c echo.Context) error {
	sc := staffFrom(c)
	u := sc.user
	if u.TOTPEnabled || u.TOTPSecret == "" {
		return c.Redirect(http.StatusSeeOther, "/staff/totp")
	}
	ok, reason, err := s.checkTOTP(c, u, c.FormValue("code"))
	if err != nil {
		return err
	}
	if !ok {
		if err := s.audit(c, u, u.Username, "totp_enrol_failed", u.Username, reason); err != nil {
			return err
		}
		return s.renderTOTP(c, http.StatusUnprocessableEntity, s.tr(c).T(msgBadCode))
	}
	if err := s.st.SetTOTPEnabled(c.Request().Context(), u.ID, true); err != nil {
		return err
	}
	if err := s.audit(c, u, u.Username, "totp_enrol", u.Username, "second factor turned on"); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/staff")
}

// totpDisable turns the second factor off, with a current code, unless the
// instance requires it.
func (s *Server) totpDisable(c echo.Context) error {
	sc := staffFrom(c)
	u := sc.user
	if !u.TOTPEnabled {
		return c.Redirect(http.StatusSeeOther, "/staff/totp")
	}
	req, err := s.requireTOTP(c.Request().Context())
	if err != nil {
		return err
	}
	if req {
		return s.renderTOTP(c, http.StatusForbidden, s.tr(c).T("staff.totp.error.required"))
	}
	ok, reason, err := s.checkTOTP(c, u, c.FormValue("code"))
	if err != nil {
		return err
	}
	if !ok {
		if err := s.audit(c, u, u.Username, "totp_disable_failed", u.Username, reason); err != nil {
			return err
		}
		return s.renderTOTP(c, http.StatusUnprocessableEntity, s.tr(c).T(msgBadCode))
	}
	if err := s.st.SetTOTPEnabled(c.Request().Context(), u.ID, false); err != nil {
		return err
	}
	if err := s.audit(c, u, u.Username, "totp_disable", u.Username, "second factor turned off"); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/staff/totp")
}

// The account's interface language.

type languagePage struct {
	page
	CSRF, Notice, Locale string
	Choices              []langLink
	Reads                []readChoice // languages the person reads, for case routing
	Email, EmailError    string
}

type readChoice struct {
	Lang, Name string
	Checked    bool
}

func (s *Server) languageForm(c echo.Context) error {
	return s.renderLanguage(c, c.QueryParam("notice"))
}

func (s *Server) renderLanguage(c echo.Context, notice string) error {
	return s.render(c, http.StatusOK, "staff_language.html", s.languageView(c, notice))
}

// languageView is the account settings page: interface language, the
// languages the person reads and the alert address.
func (s *Server) languageView(c echo.Context, notice string) languagePage {
	sc := staffFrom(c)
	v := languagePage{page: s.staffPage(c, s.tr(c).T("staff.language.heading")), CSRF: csrfFor(sc.token), Notice: notice, Locale: sc.user.Locale,
		Email: sc.user.Email}
	for _, l := range i18n.StaffLanguages {
		v.Choices = append(v.Choices, langLink{Lang: l, Name: i18n.Names[l]})
	}
	for _, l := range cases.Languages {
		v.Reads = append(v.Reads, readChoice{Lang: l, Name: i18n.Names[l], Checked: sc.user.Reads(l)})
	}
	return v
}

// setReads saves the languages the account's person reads: cases in a
// language other than Swedish are routed to staff who read it (SVC-8).
func (s *Server) setReads(c echo.Context) error {
	sc := staffFrom(c)
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	var langs []string
	for _, l := range cases.Languages { // known languages only, in a fixed order
		for _, v := range form["reads"] {
			if v == l {
				langs = append(langs, l)
				break
			}
		}
	}
	if len(langs) != len(form["reads"]) {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, "unknown language")
	}
	if err := s.st.SetUserLanguages(c.Request().Context(), sc.user.ID, langs); err != nil {
		return err
	}
	if err := s.audit(c, sc.user, sc.user.Username, "languages_change", sc.user.Username, "reads "+strconv.Quote(strings.Join(langs, ","))); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/staff/language?notice="+url.QueryEscape(s.tr(c).T("staff.language.reads.saved")))
}

// setEmail saves the address the account's alerts are mailed to ("" for
// none).
func (s *Server) setEmail(c echo.Context) error {
	sc := staffFrom(c)
	email := strings.TrimSpace(c.FormValue("email"))
	if err := s.st.SetUserEmail(c.Request().Context(), sc.user.ID, email); errors.Is(err, store.ErrBadEmail) {
		v := s.languageView(c, "")
		v.Email, v.EmailError = email, s.tr(c).T("staff.email.invalid")
		return s.render(c, http.StatusUnprocessableEntity, "staff_language.html", v)
	} else if err != nil {
		return err
	}
	if err := s.audit(c, sc.user, sc.user.Username, "email_change", sc.user.Username, "e-mail "+strconv.Quote(email)); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/staff/language?notice="+url.QueryEscape(s.tr(c).T("staff.email.saved")))
}

// setLanguage saves the account's language ("" follows the browser) and
// makes it the language of this browser at once.
func (s *Server) setLanguage(c echo.Context) error {
	sc := staffFrom(c)
	locale := c.FormValue("locale")
	if locale != "" && !staffLanguage(locale) {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, "unknown language")
	}
	if err := s.st.SetUserLocale(c.Request().Context(), sc.user.ID, locale); err != nil {
		return err
	}
	if err := s.audit(c, sc.user, sc.user.Username, "locale_change", sc.user.Username, "locale "+strconv.Quote(locale)); err != nil {
		return err
	}
	sc.user.Locale = locale
	if locale == "" {
		c.SetCookie(s.cookie(langCookie, "", -1))
		c.Request().Header.Del("Cookie") // choose again, from the browser
	} else {
		c.SetCookie(s.cookie(langCookie, locale, langCookieAge))
	}
	c.Set(localizerKey, nil)
	if locale != "" {
		c.Set(localizerKey, s.i18n.Localizer(locale))
	}
	return c.Redirect(http.StatusSeeOther, "/staff/language?notice="+url.QueryEscape(s.tr(c).T("staff.language.saved")))
}
