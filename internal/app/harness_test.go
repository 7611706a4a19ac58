package app_test

import (
	"context"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/torget/torget/internal/app"
	"github.com/torget/torget/internal/config"
	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/store/storetest"
)

// instance is a torget under test, served over TLS on loopback.
type instance struct {
	*app.App
	srv    *httptest.Server
	Domain string
	Base   string
	Pool   *x509.CertPool
	Clock  *testClock
	cancel context.CancelFunc
	stop   func()
}

// testClock is the wall clock plus an offset tests may advance.
type testClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

// Advance moves the clock forward.
func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// testPool trusts every httptest TLS server (they share one certificate).
func testPool(t testing.TB) *x509.CertPool {
	t.Helper()
	s := httptest.NewTLSServer(http.NotFoundHandler())
	defer s.Close()
	p := x509.NewCertPool()
	p.AddCert(s.Certificate())
	return p
}

func testLogger() *slog.Logger {
	if os.Getenv("TORGET_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type instanceOpt func(*config.Config)

// startInstance runs torget with its workers on a fresh database.
func startInstance(t testing.TB, opts ...instanceOpt) *instance {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return launch(t, ln, storetest.URL(t), filepath.Join(t.TempDir(), "media"), &testClock{}, opts...)
}

// restart stops the instance (requests, workers, store) as a shutdown
// does and starts a new one on the same address, database and clock.
func (in *instance) restart(t testing.TB, opts ...instanceOpt) *instance {
	t.Helper()
	in.stop()
	ln, err := net.Listen("tcp", in.Domain)
	if err != nil {
		t.Fatal(err)
	}
	return launch(t, ln, in.Config.Database.URL, in.Config.Media.Dir, in.Clock, opts...)
}

// launch runs torget on ln with the database dbURL, the media directory
// and the clock; a restart passes the same ones again.
func launch(t testing.TB, ln net.Listener, dbURL, mediaDir string, clock *testClock, opts ...instanceOpt) *instance {
	t.Helper()
	domain := ln.Addr().String()
	cfg := config.Default()
	cfg.Server.Domain = domain
	cfg.Server.BaseURL = "https://" + domain
	cfg.Database.URL = dbURL
	cfg.Media.Dir = mediaDir
	cfg.Federation.AllowPrivateNetworks = []string{"127.0.0.0/8", "::1/128"}
	cfg.Federation.RequestTimeout = config.Duration{Duration: 5 * time.Second}
	cfg.Delivery.ProbeInterval = config.Duration{Duration: time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	pool := testPool(t)
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, testLogger(), app.Options{RootCAs: pool, Now: clock.Now})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(a.HTTP)
	srv.Listener.Close()
	srv.Listener = ln
	srv.StartTLS()
	wg := a.RunWorkers(ctx)
	in := &instance{App: a, srv: srv, Domain: domain, Base: cfg.Server.BaseURL, Pool: pool, Clock: clock, cancel: cancel}
	var once sync.Once
	in.stop = func() {
		once.Do(func() {
			cancel()
			wg.Wait()
			srv.Close()
			a.Close()
		})
	}
	t.Cleanup(in.stop)
	return in
}

func (in *instance) group(t testing.TB, slug string, manual bool) *store.Group {
	t.Helper()
	g, err := in.Fed.CreateGroup(context.Background(), federation.GroupInput{Slug: slug, Name: "Grupp " + slug,
		Purpose: "Testgrupp", WebsiteURL: "https://example.org/", ManualApproval: manual,
		OwningUnit: "Stadsdelsförvaltning Test", Responsible: []string{responsible(t, in.Store)}})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// waitUntil polls cond until it holds or the timeout passes.
func waitUntil(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// drained reports whether no delivery is pending.
func (in *instance) drained(t testing.TB) bool {
	c, err := in.Store.DeliveryCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return c[store.DeliveryPending] == 0
}

// responsible returns the username of a staff account to name as a new
// group's responsible staff member (a group cannot exist without one),
// creating the account on first use.
func responsible(t testing.TB, st *store.Store) string {
	t.Helper()
	const name = "ansvarig"
	ctx := context.Background()
	if _, err := st.UserByName(ctx, name); err == nil {
		return name
	}
	if err := st.CreateUser(ctx, &store.User{Username: name, Role: store.RoleEditor, PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	return name
}
