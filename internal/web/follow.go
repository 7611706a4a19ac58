package web

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/store"
)

// followForm is the "follow from your server" form: a visitor names their
// own account and we send them to their server's follow page.
type followForm struct {
	Slug   string      // the group, when the form is on its page
	Groups []groupItem // a choice of groups, on the home page
	Handle string      // what the visitor typed, shown again after an error
	Error  string
}

type followPage struct {
	page
	Group    *store.Group
	Handle   string
	Form     followForm
	Fallback string // the authorize_interaction link offered when the lookup failed
}

// followCSP is the policy of pages that carry the follow form. The form
// posts here and is answered with a redirect to the visitor's own server;
// CSP 3 checks form-action against every redirect of a form submission
// (Chromium enforces it), so those pages allow https: targets.
var followCSP = strings.Replace(csp, "form-action 'self'", "form-action 'self' https:", 1)

func allowFollowRedirect(c echo.Context) {
	c.Response().Header().Set("Content-Security-Policy", followCSP)
}

// followTimeout bounds the WebFinger lookup a visitor waits for.
const followTimeout = 10 * time.Second

// follow looks up the subscribe page of the visitor's server and redirects
// there with the group's actor id. Nothing is stored.
func (s *Server) follow(c echo.Context) error {
	r := c.Request()
	// A cross-site form must not use us to bounce browsers elsewhere.
	if o := r.Header.Get("Origin"); o != "" && o != "null" && o != s.u.Base {
		return echo.NewHTTPError(http.StatusForbidden, "cross-site form")
	}
	r.Body = http.MaxBytesReader(c.Response(), r.Body, 4096)
	ctx := r.Context()
	g, err := s.fed.Group(ctx, c.FormValue("group"))
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return echo.NewHTTPError(http.StatusBadRequest, "unknown group")
		}
		return err
	}
	typed := strings.TrimSpace(c.FormValue("handle"))
	l := s.tr(c)
	v := followPage{page: s.page(c, l.T("follow.heading", "Group", g.Name), ""), Group: g, Handle: s.handle(g.Slug),
		Form: followForm{Slug: g.Slug, Handle: typed}}
	allowFollowRedirect(c)
	user, host, ok := parseHandle(typed)
	switch {
	case !ok:
		v.Form.Error = l.T("follow.error.format")
	case strings.EqualFold(host, s.u.Domain):
		v.Form.Error = l.T("follow.error.local")
	}
	if v.Form.Error != "" {
		v.Title = l.T("common.error_title", "Title", v.Title)
		return s.render(c, http.StatusBadRequest, "follow.html", v)
	}
	lctx, cancel := context.WithTimeout(ctx, followTimeout)
	defer cancel()
	target, err := s.fed.SubscribeURL(lctx, user+"@"+host, s.u.Group(g.Slug))
	if err == nil {
		return c.Redirect(http.StatusSeeOther, target)
	}
	s.log.Info("follow: subscribe page not found", "host", host, "err", err)
	v.Fallback = federation.AuthorizeInteractionURL(host, s.u.Group(g.Slug))
	return s.render(c, http.StatusOK, "follow.html", v)
}

var handleRE = regexp.MustCompile(`^@?([A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9_])?)@([A-Za-z0-9.-]{1,253})(?::([0-9]{1,5}))?$`)

// parseHandle checks a fediverse account address strictly: user@host or
// @user@host, a user name of letters, digits, "_", "." and "-", a DNS host
// name (or IPv4 address) with an optional port. The host is lowercased.
func parseHandle(s string) (user, host string, ok bool) {
	m := handleRE.FindStringSubmatch(s)
	if m == nil {
		return "", "", false
	}
	user, host = m[1], strings.ToLower(m[2])
	labels := strings.Split(host, ".")
	if len(labels) < 2 && host != "localhost" {
		return "", "", false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", "", false
		}
	}
	if m[3] != "" {
		p, err := strconv.Atoi(m[3])
		if err != nil || p < 1 || p > 65535 {
			return "", "", false
		}
		host += ":" + m[3]
	}
	return user, host, true
}
