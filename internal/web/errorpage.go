package web

import (
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// Errors for people: a browser (it asks for text/html) gets an accessible
// page in the site's layout that says what happened and links back; API
// and ActivityPub clients keep the JSON or plain-text answer.

type errorPage struct {
	page
	Code                 int
	Heading, Explanation string
	Detail               string
	Back, Home, HomeText string
}

// wantsHTML reports whether the request comes from a browser: it accepts
// text/html and is no ActivityPub, discovery or inbox request.
func wantsHTML(c echo.Context) bool {
	r := c.Request()
	p := r.URL.Path
	if wantsAS(r) || strings.HasPrefix(p, "/.well-known/") || strings.HasPrefix(p, "/nodeinfo/") || inboxRoutes[c.Path()] {
		return false
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && (mt == "text/html" || mt == "application/xhtml+xml") {
			return true
		}
	}
	return false
}

// errorText names the catalogue messages a person reads for a status.
func errorText(code int, detail string) (heading, explanation string) {
	switch {
	case code == http.StatusForbidden && strings.Contains(detail, "CSRF"):
		return msg("errorpage.csrf.heading"), msg("errorpage.csrf.text")
	case code == http.StatusForbidden:
		return msg("errorpage.forbidden.heading"), msg("errorpage.forbidden.text")
	case code == http.StatusNotFound:
		return msg("errorpage.not_found.heading"), msg("errorpage.not_found.text")
	case code == http.StatusMethodNotAllowed:
		return msg("errorpage.method.heading"), msg("errorpage.method.text")
	case code == http.StatusRequestEntityTooLarge:
		return msg("errorpage.too_large.heading"), msg("errorpage.too_large.text")
	case code == http.StatusConflict || code == http.StatusGone:
		return msg("errorpage.conflict.heading"), msg("errorpage.conflict.text")
	case code >= 500:
		return msg("errorpage.internal.heading"), msg("errorpage.internal.text")
	}
	return msg("errorpage.other.heading"), msg("errorpage.other.text")
}

// renderError writes the error page; it reports false if it could not.
func (s *Server) renderError(c echo.Context, code int, msg string) bool {
	l := s.tr(c)
	hid, eid := errorText(code, msg)
	heading, expl := l.T(hid), l.T(eid)
	r := c.Request()
	staff := isStaffPath(r.URL.Path)
	v := errorPage{page: s.page(c, heading, ""), Code: code, Heading: heading, Explanation: expl, Home: "/", HomeText: l.T("errorpage.home")}
	if staff {
		v.page = s.staffPage(c, heading)
		v.Home, v.HomeText = "/staff", l.T("errorpage.staff_home")
	}
	if code == http.StatusConflict || code == http.StatusGone || code == http.StatusUnprocessableEntity {
		v.Detail = msg
	}
	// Back to the page the person came from (same site only; a GET to
	// itself would loop).
	if ref := r.Referer(); strings.HasPrefix(ref, s.u.Base+"/") && (r.Method != http.MethodGet || ref != s.u.Base+r.URL.RequestURI()) {
		v.Back = ref
	}
	if err := s.render(c, code, "error.html", v); err != nil {
		s.log.Error("render error page", "err", err)
		return false
	}
	return true
}
