// Package app wires torget together: configuration → store → federation
// → queues → HTTP, and runs it until the context ends.
package app

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/activitypub/transport"
	"github.com/torget/torget/internal/cases"
	"github.com/torget/torget/internal/config"
	"github.com/torget/torget/internal/decisions"
	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/i18n"
	"github.com/torget/torget/internal/liveness"
	"github.com/torget/torget/internal/media"
	"github.com/torget/torget/internal/metrics"
	"github.com/torget/torget/internal/moderation"
	"github.com/torget/torget/internal/notify"
	"github.com/torget/torget/internal/privacy"
	"github.com/torget/torget/internal/queue"
	"github.com/torget/torget/internal/screening"
	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/uris"
	"github.com/torget/torget/internal/web"
)

// Version is torget's version, set at build time with -ldflags.
var Version = "0.1.0-dev"

// App is a configured torget.
type App struct {
	Config    config.Config
	Log       *slog.Logger
	Store     *store.Store
	Fed       *federation.Service
	Metrics   *metrics.Metrics
	Deliverer *queue.Deliverer
	Inbox     *queue.InboxRunner
	InboxW    *queue.InboxWriter
	Scheduler *queue.Scheduler
	// Archiver makes the scheduled yearly archive exports (nil: not scheduled).
	Archiver *queue.Archiver
	HTTP     *echo.Echo
	Client   *transport.Client
	Cases    *cases.Service
	// Moderation takes moderators' decisions (web UI, CLI, tests).
	Moderation *decisions.Service
	Erasure    *privacy.Service
	Media      media.Storage
	// Notifier records and mails alerts (stale groups, lapsed supervision …).
	Notifier *notify.Service
}

// Options override parts of the wiring (tests).
type Options struct {
	RootCAs *x509.CertPool // trusted roots for outgoing TLS; system roots plus federation.ca_file by default
	Now     func() time.Time
	// Screener applies moderation rules to residents' posts (nil: accept all).
	Screener federation.Screener
}

// New opens the store, migrates it and builds every component.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, opt Options) (*App, error) {
	st, err := store.Open(cfg.Database.URL, store.Options{MaxOpenConns: cfg.Database.MaxOpenConns, Logger: log, Now: opt.Now})
	if err != nil {
		return nil, err
	}
	if err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	// Groups from before owning units existed are the operator's.
	if err := st.FillOwningUnit(ctx, cfg.Instance.Organisation); err != nil {
		st.Close()
		return nil, err
	}
	a, err := build(ctx, cfg, log, st, opt)
	if err != nil {
		st.Close()
		return nil, err
	}
	return a, nil
}

func build(ctx context.Context, cfg config.Config, log *slog.Logger, st *store.Store, opt Options) (*App, error) {
	nets, err := cfg.AllowedNets()
	if err != nil {
		return nil, err
	}
	roots := opt.RootCAs
	if roots == nil {
		roots, err = x509.SystemCertPool()
		if err != nil || roots == nil {
			roots = x509.NewCertPool()
		}
		if cfg.Federation.CAFile != "" {
			pem, err := os.ReadFile(cfg.Federation.CAFile)
			if err != nil {
				return nil, fmt.Errorf("federation.ca_file: %w", err)
			}
			if !roots.AppendCertsFromPEM(pem) {
				return nil, errors.New("federation.ca_file: no certificates found")
			}
		}
	}
	client := transport.New(transport.Config{
		UserAgent:        fmt.Sprintf("torget/%s (+%s/)", Version, cfg.Server.BaseURL),
		AllowedNets:      nets,
		Timeout:          cfg.Federation.RequestTimeout.Duration,
		MaxResponseBytes: cfg.Federation.MaxResponseBytes,
		RootCAs:          roots,
		MaxConnsPerHost:  cfg.Delivery.PerDomain,
	})
	m := metrics.New()
	u := uris.New(cfg.Server.BaseURL)
	a := &App{Config: cfg, Log: log, Store: st, Metrics: m, Client: client, InboxW: queue.NewInboxWriter(st)}
	// Moderation: the rules and federation policy in force, cached.
	if err := screening.SeedDefaultRules(ctx, st); err != nil {
		return nil, fmt.Errorf("seed moderation rules: %w", err)
	}
	scr := screening.New(st, 10*time.Second)
	var screener federation.Screener = scr
	if opt.Screener != nil {
		screener = opt.Screener // tests substitute their own
	}
	caseLoc, err := cfg.Instance.Location()
	if err != nil {
		return nil, err
	}
	cc := cfg.Cases
	hours, err := moderation.ParseWorkingHours(cfg.Moderation.WorkingHours, caseLoc)
	if err != nil {
		return nil, fmt.Errorf("moderation.working_hours: %w", err)
	}
	// One MOD-5 target for the queue's marker and the alert mail.
	legalTarget := moderation.Target{Hours: hours, Alert: cfg.Moderation.LegalTarget.Duration}
	live := liveness.Config{StaleDays: cc.StaleDays, SupervisionDays: cc.SupervisionDays, LegalTarget: legalTarget, Location: caseLoc}
	var unsupervised func(ctx context.Context, g *store.Group) (bool, error)
	if cc.HoldWhenUnsupervised {
		unsupervised = func(ctx context.Context, g *store.Group) (bool, error) { return liveness.Lapsed(ctx, st, live, g) }
	}
	fed := federation.New(st, u, client, log, federation.Options{
		Limits:             activitypub.Limits{MaxBytes: cfg.Federation.MaxBodyBytes, MaxDepth: activitypub.DefaultLimits.MaxDepth},
		SignatureMaxAge:    cfg.Federation.SignatureMaxAge.Duration,
		SignatureMaxFuture: cfg.Federation.SignatureMaxFuture.Duration,
		ActorCacheTTL:      cfg.Federation.ActorCacheTTL.Duration,
		Now:                opt.Now,
		WakeDelivery:       func() { a.Deliverer.Wake() },
		WakeInbox:          func() { a.Inbox.Wake() },
		StoreInbox:         a.InboxW.Write,
		Gate:               scr,
		Screener:           screener,
		Unsupervised:       unsupervised,
	})
	if err := fed.Init(ctx); err != nil {
		return nil, err
	}
	a.Fed = fed
	if a.Notifier, err = newNotifier(cfg, st, live, log); err != nil {
		return nil, err
	}
	fed.SetGroupHook(a.Notifier)
	a.Cases = cases.New(st, fed, cases.Config{DueWorkingDays: cc.DueWorkingDays, Location: caseLoc, ProposalsURL: cc.ProposalsURL,
		MeetingsURL: cc.MeetingsURL, FeedbackURL: cc.FeedbackURL, Authorities: cases.ParseAuthorities(cc.Authorities)}, log)
	fed.SetInquiryHook(a.Cases)
	// A group's slug (hence key id) and key pair never change, so the
	// signer is looked up once per group, not once per delivery.
	type signer struct {
		keyID string
		key   *rsa.PrivateKey
	}
	var signers sync.Map // group id → signer
	keys := func(ctx context.Context, groupID *int64) (string, *rsa.PrivateKey, error) {
		if groupID == nil {
			id, k := fed.InstanceKey()
			return id, k, nil
		}
		if s, ok := signers.Load(*groupID); ok {
			return s.(signer).keyID, s.(signer).key, nil
		}
		g, err := st.GroupByID(ctx, *groupID)
		if err != nil {
			return "", nil, err
		}
		id, k, err := fed.GroupKey(g)
		if err != nil {
			return "", nil, err
		}
		signers.Store(*groupID, signer{id, k})
		return id, k, nil
	}
	a.Moderation = decisions.New(st, fed, scr, log)
	a.Erasure = privacy.New(st, fed, log)
	a.Deliverer = queue.NewDeliverer(st, client, keys, log, m, queue.DeliveryConfig{
		Workers: cfg.Delivery.Workers, PerDomain: cfg.Delivery.PerDomain, RetryFor: cfg.Delivery.RetryFor.Duration,
		MaxBackoff: cfg.Delivery.MaxBackoff.Duration, BaseBackoff: cfg.Delivery.BaseBackoff.Duration,
		BreakerThreshold: cfg.Delivery.BreakerThreshold, ProbeInterval: cfg.Delivery.ProbeInterval.Duration,
		Lease: cfg.Delivery.Lease.Duration, Now: opt.Now, Deliverable: scr.Deliverable,
	})
	a.Inbox = queue.NewInboxRunner(st, func(ctx context.Context, it *store.InboxItem) (string, string, error) {
		o, err := fed.Process(ctx, it)
		return o.Status, o.Reason, err
	}, log, m, cfg.Delivery.InboxWorkers)
	// Each claimed batch is recorded in one transaction before it is applied.
	a.Inbox.Prepare = func(ctx context.Context, items []store.InboxItem) (queue.InboxHandler, error) {
		apply, err := fed.PrepareBatch(ctx, items)
		if err != nil {
			return nil, err
		}
		return func(ctx context.Context, it *store.InboxItem) (string, string, error) {
			o, err := apply(ctx, it)
			return o.Status, o.Reason, err
		}, nil
	}
	if cfg.Delivery.Lease.Duration > 0 {
		a.Inbox.Lease = cfg.Delivery.Lease.Duration
	}
	a.Scheduler = queue.NewScheduler(st, func(ctx context.Context, d *store.Draft) error {
		_, _, err := fed.PublishDraft(ctx, d.PublicID)
		switch {
		case errors.Is(err, federation.ErrPublished):
			return nil // another node or a person was first
		case errors.Is(err, federation.ErrInvalid):
			return fmt.Errorf("%w: %w", queue.ErrUnpublishable, err)
		}
		return err
	}, log, cfg.Delivery.SchedulePoll.Duration, cfg.Delivery.Lease.Duration)
	m.GaugeFunc("torget_delivery_queue_depth", "Deliveries waiting (pending).", nil, func() float64 {
		c, err := st.DeliveryCounts(context.Background())
		if err != nil {
			return -1
		}
		return float64(c[store.DeliveryPending])
	})
	caseCount := func(pick func(*store.CaseCount) int64) func() float64 {
		return func() float64 {
			cs, err := st.CaseCounts(context.Background(), st.Now())
			if err != nil {
				return -1
			}
			var n int64
			for _, c := range cs {
				n += pick(c)
			}
			return float64(n)
		}
	}
	m.GaugeFunc("torget_cases_open", "Cases (questions to groups, feedback) waiting for an answer.", nil,
		caseCount(func(c *store.CaseCount) int64 { return c.Open }))
	m.GaugeFunc("torget_cases_overdue", "Open cases past their due time.", nil,
		caseCount(func(c *store.CaseCount) int64 { return c.Overdue }))
	m.GaugeFunc("torget_inbox_queue_depth", "Received activities waiting to be applied.", nil, func() float64 {
		c, err := st.InboxCounts(context.Background())
		if err != nil {
			return -1
		}
		return float64(c[store.InboxPending])
	})
	a.Media, err = openMedia(ctx, cfg.Media)
	if err != nil {
		return nil, err
	}
	in := cfg.Instance
	tz, err := in.Location()
	if err != nil {
		return nil, err
	}
	e, err := web.New(fed, log, m, web.Options{Version: Version, MaxBodyBytes: cfg.Federation.MaxBodyBytes, TimeZone: tz,
		Instance: web.Instance{Name: in.Name, Description: in.Description, Organisation: in.Organisation,
			OrganisationURL: in.OrganisationURL, ContactEmail: in.ContactEmail},
		Auth: web.AuthOptions{IdleTimeout: cfg.Auth.SessionIdleTimeout.Duration, Lifetime: cfg.Auth.SessionLifetime.Duration,
			LockoutFailures: cfg.Auth.LockoutFailures, LockoutWindow: cfg.Auth.LockoutWindow.Duration,
			LockoutDuration: cfg.Auth.LockoutDuration.Duration, IPMaxFailures: cfg.Auth.IPMaxFailures,
			SecureCookies: strings.HasPrefix(cfg.Server.BaseURL, "https://")},
		OIDC: web.OIDCOptions{Issuer: cfg.OIDC.Issuer, ClientID: cfg.OIDC.ClientID, ClientSecret: cfg.OIDC.ClientSecret,
			RedirectURL: cfg.OIDC.RedirectURL, UsernameClaim: cfg.OIDC.UsernameClaim, Scopes: cfg.OIDC.Scopes,
			RootCAs: roots, Timeout: cfg.Federation.RequestTimeout.Duration},
		Cases:   a.Cases,
		Privacy: web.PrivacyNotice(cfg.Privacy.Notice()),
		Access: web.AccessStatement{Status: cfg.Access.Status, Gaps: cfg.Access.Gaps, AssessedOn: cfg.Access.AssessedOn,
			UpdatedOn: cfg.Access.UpdatedOn, Method: cfg.Access.Method, Exceptions: cfg.Access.Exceptions,
			OutOfScope: cfg.Access.OutOfScope, SupervisorURL: cfg.Access.SupervisorURL},
		Liveness: web.Liveness{StaleDays: cc.StaleDays, SupervisionDays: cc.SupervisionDays, FeedbackPerHour: cc.FeedbackPerHour,
			Mailing: a.Notifier.Mailing()},
		Media:   web.MediaOptions{Storage: a.Media, Limits: media.Limits{MaxBytes: cfg.Media.MaxBytes, MaxPixels: cfg.Media.MaxPixels}},
		Archive: a.ExportOptions(), RulesInForce: func(ctx context.Context) (string, error) { return RulesInForce(ctx, st) },
		Moderation: a.Moderation, Erasure: a.Erasure, LegalTarget: legalTarget})
	if err != nil {
		return nil, err
	}
	a.HTTP = e
	if cfg.Archive.Schedule == "yearly" {
		month, day, _ := cfg.Archive.ScheduleDay() // validated
		a.Archiver = queue.NewArchiver(st, a.ScheduledExport, log, tz, month, day, 0, 0)
	}
	return a, nil
}

// newNotifier builds the alert service, mailing through [smtp] when a
// host is configured.
func newNotifier(cfg config.Config, st *store.Store, live liveness.Config, log *slog.Logger) (*notify.Service, error) {
	msgs, err := i18n.New(live.Location)
	if err != nil {
		return nil, err
	}
	var mailer notify.Mailer
	if cfg.SMTP.Enabled() {
		pw, err := cfg.SMTP.Secret()
		if err != nil {
			return nil, err
		}
		m, err := notify.NewSMTP(notify.SMTPConfig{Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, Username: cfg.SMTP.Username,
			Password: pw, From: cfg.SMTP.From, StartTLS: cfg.SMTP.StartTLS, Timeout: cfg.Federation.RequestTimeout.Duration})
		if err != nil {
			return nil, err
		}
		mailer = m
	}
	return notify.New(st, msgs, mailer, notify.Config{BaseURL: cfg.Server.BaseURL, Domain: cfg.Server.Domain,
		Comms: cfg.Notify.Communications, Liveness: live, Sweep: cfg.Notify.SweepInterval.Duration,
		RetryFor: cfg.Notify.RetryFor.Duration, Lease: cfg.Delivery.Lease.Duration}, log), nil
}

// openMedia opens the configured media storage: a local directory, or an
// S3-compatible bucket checked at start-up so a wrong setting fails fast.
func openMedia(ctx context.Context, c config.Media) (media.Storage, error) {
	if c.Storage == "s3" {
		s, err := media.NewS3(media.S3Config{Endpoint: c.S3Endpoint, UseTLS: c.S3UseTLS, Region: c.S3Region, Bucket: c.S3Bucket,
			AccessKey: c.S3AccessKey, SecretKey: c.S3SecretKey, Prefix: c.S3Prefix, PathStyle: c.S3PathStyle})
		if err != nil {
			return nil, err
		}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := s.Check(cctx); err != nil {
			return nil, err
		}
		return s, nil
	}
	return media.NewLocal(c.Dir)
}

// Close releases the store and the media directory.
func (a *App) Close() error {
	if l, ok := a.Media.(*media.Local); ok {
		_ = l.Close()
	}
	return a.Store.Close()
}

// RunWorkers runs the delivery and inbox queues and the scheduler until ctx ends, then waits
// for the work in hand.
func (a *App) RunWorkers(ctx context.Context) *sync.WaitGroup {
	var wg sync.WaitGroup
	if a.Archiver != nil {
		wg.Add(1)
		go func() { defer wg.Done(); a.Archiver.Run(ctx) }()
	}
	wg.Add(7)
	go func() { defer wg.Done(); a.Sweeper().Run(ctx) }()
	go func() { defer wg.Done(); a.Scheduler.Run(ctx) }()
	go func() { defer wg.Done(); a.Fed.RunBackfills(ctx) }()
	go func() { defer wg.Done(); a.Notifier.Run(ctx) }()
	go func() { defer wg.Done(); a.Deliverer.Run(ctx) }()
	go func() { defer wg.Done(); a.Inbox.Run(ctx) }()
	go func() { defer wg.Done(); a.InboxW.Run(ctx) }()
	return &wg
}

// Serve listens on cfg.Server.Listen (TLS if configured) and runs the
// workers; on ctx's end it stops accepting requests, finishes those in
// flight and the deliveries in hand, then returns.
func (a *App) Serve(ctx context.Context, ready func(addr string)) error {
	ln, err := net.Listen("tcp", a.Config.Server.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", a.Config.Server.Listen, err)
	}
	srv := &http.Server{Handler: a.HTTP, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, ErrorLog: slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn)}
	if a.Config.Server.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(a.Config.Server.TLSCert, a.Config.Server.TLSKey)
		if err != nil {
			return fmt.Errorf("load TLS key pair: %w", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	workers := a.RunWorkers(ctx)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.Log.Info("torget listening", "addr", ln.Addr().String(), "base_url", a.Config.Server.BaseURL, "database", a.Store.Driver())
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down: finishing requests and deliveries in flight")
	sctx, cancel := context.WithTimeout(context.Background(), a.Config.Server.ShutdownTimeout.Duration)
	defer cancel()
	err = srv.Shutdown(sctx)
	workers.Wait()
	a.Log.Info("stopped")
	return err
}

// NewLogger builds the slog logger from the configuration.
func NewLogger(c config.Log) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// SweepConfig is the retention of technical data from the configuration.
func SweepConfig(cfg config.Config) privacy.SweepConfig {
	return privacy.SweepConfig{IPRetention: cfg.Privacy.IPRetention.Duration, OperationalRetention: cfg.Privacy.OperationalRetention.Duration}
}

// Sweeper is the worker that runs the privacy sweep (PRV-6) at the
// configured interval.
func (a *App) Sweeper() *privacy.Sweeper {
	return &privacy.Sweeper{St: a.Store, Config: SweepConfig(a.Config), Interval: a.Config.Privacy.SweepInterval.Duration, Log: a.Log}
}
