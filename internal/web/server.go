// Package web serves torget over HTTP with echo: discovery, ActivityPub
// endpoints, public pages, health and metrics.
package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/microcosm-cc/bluemonday"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/internal/archive"
	"github.com/torget/torget/internal/cases"
	"github.com/torget/torget/internal/decisions"
	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/i18n"
	"github.com/torget/torget/internal/markup"
	"github.com/torget/torget/internal/media"
	"github.com/torget/torget/internal/metrics"
	"github.com/torget/torget/internal/moderation"
	"github.com/torget/torget/internal/privacy"
	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/uris"
	"github.com/torget/torget/static"
)

//go:embed templates/*.html
var templateFS embed.FS

// Instance describes the operator for NodeInfo and the pages.
type Instance struct {
	Name, Description, Organisation, OrganisationURL, ContactEmail string
}

// Options configure the server.
type Options struct {
	Version      string
	MaxBodyBytes int64
	Instance     Instance
	Auth         AuthOptions
	OIDC         OIDCOptions
	Cases        *cases.Service // nil: no case handling (tests of other parts)
	Privacy      PrivacyNotice
	Access       AccessStatement
	Liveness     Liveness
	// Moderation serves the rules, the moderation log, reports, appeals
	// and the staff moderation queue; nil turns those pages off.
	Moderation *decisions.Service
	// Erasure handles erasure requests (PRV-5); nil turns the pages off.
	Erasure *privacy.Service
	// LegalTarget is the time target for reports in legal categories
	// (MOD-5); zero: 4 working hours, 08–17 in TimeZone.
	LegalTarget moderation.Target
	Media       MediaOptions
	// TimeZone is where dates on pages are shown (UTC if nil).
	TimeZone *time.Location
	// Archive is the configured part of archive exports (agents, version).
	Archive archive.Options
	// RulesInForce returns the rules page's Markdown for archive packages.
	RulesInForce func(ctx context.Context) (string, error)
}

// Server holds the handlers' dependencies.
type Server struct {
	fed   *federation.Service
	st    *store.Store
	u     uris.Builder
	log   *slog.Logger
	m     *metrics.Metrics
	opt   Options
	tmpls map[string]*template.Template // by interface language
	i18n  *i18n.Bundle
	pages pageCache
	oidc  *oidcClient  // nil: single sign-on off
	fb    *rateLimiter // the anonymous feedback form

	uploads chan struct{} // semaphore: uploads being processed

	policy      *bluemonday.Policy
	aboutMarkup *markup.Renderer
}

// New builds the echo instance with every route.
func New(fed *federation.Service, log *slog.Logger, m *metrics.Metrics, opt Options) (*echo.Echo, error) {
	if opt.MaxBodyBytes <= 0 {
		opt.MaxBodyBytes = 1 << 20
	}
	opt.Auth.defaults()
	opt.Liveness.defaults()
	d := media.DefaultLimits()
	if opt.Media.Limits.MaxBytes <= 0 {
		opt.Media.Limits.MaxBytes = d.MaxBytes
	}
	if opt.Media.Limits.MaxPixels <= 0 {
		opt.Media.Limits.MaxPixels = d.MaxPixels
	}
	if opt.Media.Concurrent <= 0 {
		opt.Media.Concurrent = 2
	}
	if opt.TimeZone == nil {
		opt.TimeZone = time.UTC
	}
	bundle, err := i18n.New(opt.TimeZone)
	if err != nil {
		return nil, err
	}
	base, err := template.New("").Funcs(templateFuncs(nil)).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse templates: %w", err)
	}
	// One template set per language, its functions bound to the language.
	tmpls := map[string]*template.Template{}
	for _, lang := range i18n.Languages {
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		tmpls[lang] = t.Funcs(templateFuncs(bundle.Localizer(lang)))
	}
	s := &Server{fed: fed, st: fed.Store(), u: fed.URIs(), log: log, m: m, opt: opt, tmpls: tmpls, i18n: bundle,
		policy: markup.Policy(), aboutMarkup: markup.New(nil), oidc: newOIDCClient(opt.OIDC),
		fb:      newRateLimiter(opt.Liveness.FeedbackPerHour, time.Hour),
		uploads: make(chan struct{}, opt.Media.Concurrent)}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	// X-Forwarded-For is believed only from loopback and private addresses
	// (the TLS proxy in front); a client cannot pick its own address.
	e.IPExtractor = echo.ExtractIPFromXFFHeader()
	e.Use(s.observe, secureHeaders, s.limitUploads, s.guard)

	e.GET("/.well-known/webfinger", s.webfinger)
	e.GET("/.well-known/host-meta", s.hostMeta)
	e.GET("/.well-known/nodeinfo", s.nodeinfoDiscovery)
	e.GET("/nodeinfo/:version", s.nodeinfo)

	e.GET(uris.RouteInstanceActor, s.instanceActor)
	e.POST(uris.RouteInstanceInbox, s.inbox)
	e.POST(uris.RouteSharedInbox, s.inbox)
	e.GET(uris.RouteGroup, s.group)
	e.POST(uris.RouteGroupInbox, s.inbox)
	e.GET(uris.RouteGroupOutbox, s.outbox)
	e.GET(uris.RouteGroupOutbox+"/page/:cursor", s.outboxPage)
	e.GET(uris.RouteFollowers, s.followers)
	e.GET(uris.RouteFollowing, s.following)
	e.GET(uris.RouteFeatured, s.featured)
	e.GET(uris.RouteModerators, s.moderators)
	e.GET(uris.RoutePost, s.post)
	e.GET(uris.RoutePostReplies, s.postThread(false))
	e.GET(uris.RoutePostContext, s.postThread(true))
	e.GET(uris.RouteMediaProxy, s.mediaProxy)
	e.GET(uris.RouteActivity, s.activity)
	e.GET(uris.RouteTag, s.tag)
	e.GET(uris.RouteGroup+"/feed.rss", s.feedRSS)
	e.GET(uris.RouteGroup+"/feed.atom", s.feedAtom)
	e.POST("/follow", s.follow)
	e.GET("/about", s.about)
	e.GET("/about/:page", s.about)
	s.publicRoutes(e)
	e.GET(uris.RouteMedia, s.serveMedia)
	e.HEAD(uris.RouteMedia, s.serveMedia)

	s.staffRoutes(e)
	s.moderationRoutes(e)

	e.GET("/", s.index)
	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET("/readyz", s.ready)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})))
	e.GET("/static/*", echo.WrapHandler(http.StripPrefix("/static/", http.FileServer(http.FS(static.FS)))))
	return e, nil
}

const csp = "default-src 'none'; img-src 'self'; style-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// secureHeaders sets what every response should carry: no MIME sniffing,
// no framing, a strict content-security policy (our pages need no script
// and load nothing from elsewhere; remote images arrive through our own
// proxy in later versions), and no referrer leaking to other sites.
func secureHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("Content-Security-Policy", csp)
		return next(c)
	}
}

// observe records latency per route and logs errors.
func (s *Server) observe(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		s.m.HTTPDuration.WithLabelValues(c.Request().Method, route, strconv.Itoa(c.Response().Status)).Observe(time.Since(start).Seconds())
		return nil
	}
}

// errorHandler answers with a status and a safe message; details go to the log.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code, msg := http.StatusInternalServerError, "internal error"
	var he *echo.HTTPError
	var ie *federation.InboxError
	switch {
	case errors.As(err, &ie):
		code, msg = ie.Status, ie.Msg
		s.log.Info("inbox refused", "status", code, "reason", ie.Error(), "remote", c.RealIP())
	case errors.As(err, &he):
		code = he.Code
		msg = fmt.Sprint(he.Message)
	case errors.Is(err, store.ErrNotFound):
		code, msg = http.StatusNotFound, "not found"
	case errors.Is(err, federation.ErrInvalid):
		code, msg = http.StatusBadRequest, err.Error()
	default:
		s.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(code)
		return
	}
	if wantsHTML(c) && s.renderError(c, code, msg) {
		return
	}
	if wantsAS(c.Request()) || strings.HasPrefix(c.Request().URL.Path, "/.well-known/") || c.Request().Method == http.MethodPost {
		_ = c.JSON(code, map[string]string{"error": msg})
		return
	}
	if id, ok := errorMessages[code]; ok {
		msg = s.tr(c).T(id) // a person reads this one
	}
	_ = c.String(code, msg+"\n")
}

// errorMessages are the plain-text answers browsers get for common
// failures, in the reader's language.
var errorMessages = map[int]string{
	http.StatusNotFound:            msg("error.not_found"),
	http.StatusForbidden:           msg("error.forbidden"),
	http.StatusGone:                msg("error.gone"),
	http.StatusInternalServerError: msg("error.internal"),
}

// wantsAS reports whether the client asked for ActivityStreams JSON.
func wantsAS(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if mt == "application/activity+json" {
			return true
		}
		if mt == "application/ld+json" {
			p := params["profile"]
			if p == "" || strings.Contains(p, "https://www.w3.org/ns/activitystreams") {
				return true
			}
		}
	}
	return false
}

// asJSON writes an ActivityStreams document.
func asJSON(c echo.Context, code int, body []byte) error {
	h := c.Response().Header()
	h.Set("Vary", "Accept")
	h.Set("Cache-Control", "public, max-age=60")
	return c.Blob(code, activitypub.ContentType+"; charset=utf-8", body)
}

func (s *Server) render(c echo.Context, code int, name string, data any) error {
	var buf bytes.Buffer
	if err := s.tmpl(c).ExecuteTemplate(&buf, name, data); err != nil {
		return err
	}
	return s.html(c, code, buf.Bytes())
}

// tmpl is the template set of the request's language.
func (s *Server) tmpl(c echo.Context) *template.Template { return s.tmpls[s.tr(c).Lang] }

// html writes a rendered page. Its language follows Accept-Language and
// the lang cookie, so caches must keep them apart.
func (s *Server) html(c echo.Context, code int, body []byte) error {
	c.Response().Header().Set("Vary", "Accept, Accept-Language, Cookie")
	return c.Blob(code, echo.MIMETextHTMLCharsetUTF8, body)
}

func (s *Server) ready(c echo.Context) error {
	ctx := c.Request().Context()
	if err := s.st.Ping(ctx); err != nil {
		return c.String(http.StatusServiceUnavailable, "database unreachable\n")
	}
	v, err := s.st.SchemaVersion(ctx)
	if err != nil || v != store.LatestSchemaVersion() {
		return c.String(http.StatusServiceUnavailable, "database schema not current\n")
	}
	return c.String(http.StatusOK, "ready\n")
}
