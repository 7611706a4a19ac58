package app_test

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/torget/torget/activitypub/httpsig"
	"github.com/torget/torget/internal/app"
	"github.com/torget/torget/internal/config"
	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/store/storetest"
)

// recorder is a set of fake inbox hosts (plain HTTP on loopback, each its
// own host:port) that verify the group's HTTP signature and record every
// activity received per personal inbox.
type recorder struct {
	srvs   []*httptest.Server
	keyID  string
	pub    crypto.PublicKey
	minLat time.Duration
	maxLat time.Duration
	// status, if set, chooses the answer to a verified POST: n is how many
	// verified POSTs this inbox has had, this one included.
	status func(inbox string, n int) int

	mu       sync.Mutex
	arrivals map[string]int            // inbox → verified POSTs
	ids      map[string]map[string]int // inbox → activity id → count
	total    int
	sigErrs  int
	lastErr  string
}

// newRecorder starts hosts inbox servers accepting signatures by the
// group g of the torget whose base URL is base.
func newRecorder(t testing.TB, hosts int, base string, g *store.Group, minLat, maxLat time.Duration) *recorder {
	t.Helper()
	pub, err := federation.ParsePublicKey(g.PublicKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{keyID: base + "/groups/" + g.Slug + "#main-key", pub: pub, minLat: minLat, maxLat: maxLat,
		arrivals: map[string]int{}, ids: map[string]map[string]int{}}
	for range hosts {
		mux := http.NewServeMux()
		mux.HandleFunc("POST /users/{user}/inbox", r.serveInbox)
		s := httptest.NewServer(mux)
		t.Cleanup(s.Close)
		r.srvs = append(r.srvs, s)
	}
	return r
}

func (r *recorder) lookup(_ context.Context, keyID string, _ bool) (crypto.PublicKey, error) {
	if keyID != r.keyID {
		return nil, fmt.Errorf("unknown key %q", keyID)
	}
	return r.pub, nil
}

func (r *recorder) serveInbox(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	inbox := "http://" + req.Host + req.URL.Path
	if _, err := httpsig.VerifyRequest(req.Context(), req, body, time.Now(), r.lookup, httpsig.VerifyOptions{}); err != nil {
		r.mu.Lock()
		r.sigErrs++
		r.lastErr = inbox + ": " + err.Error()
		r.mu.Unlock()
		http.Error(w, "signature: "+err.Error(), http.StatusUnauthorized)
		return
	}
	var act struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &act)
	r.mu.Lock()
	r.arrivals[inbox]++
	n := r.arrivals[inbox]
	m := r.ids[inbox]
	if m == nil {
		m = map[string]int{}
		r.ids[inbox] = m
	}
	m[act.ID]++
	r.total++
	r.mu.Unlock()
	if r.maxLat > 0 {
		time.Sleep(r.minLat + time.Duration(mrand.Int64N(int64(r.maxLat-r.minLat)+1)))
	}
	code := http.StatusAccepted
	if r.status != nil {
		code = r.status(inbox, n)
	}
	w.WriteHeader(code)
}

// inbox is the personal inbox of user u{j} on host i.
func (r *recorder) inbox(i, j int) string { return fmt.Sprintf("%s/users/u%d/inbox", r.srvs[i].URL, j) }

func (r *recorder) host(i int) string { return r.srvs[i].Listener.Addr().String() }

// followers returns accepted followers of g, perHost personal inboxes on
// each host.
func (r *recorder) followers(g *store.Group, perHost int) []store.Follower {
	var fs []store.Follower
	for j := range perHost {
		for i := range r.srvs {
			actor := fmt.Sprintf("%s/users/u%d", r.srvs[i].URL, j)
			fs = append(fs, store.Follower{GroupID: g.ID, ActorIRI: actor, Inbox: r.inbox(i, j), Host: r.host(i),
				FollowIRI: actor + "/follows/1", State: store.FollowAccepted})
		}
	}
	return fs
}

// distinct counts inboxes that received activity id at least once.
func (r *recorder) distinct(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.ids {
		if id == "" {
			n++ // any activity
		} else if m[id] > 0 {
			n++
		}
	}
	return n
}

type recorderStats struct {
	total, distinct, sigErrs int
	activityIDs              map[string]int // id → inboxes
	minPerInbox, maxPerInbox int
	lastErr                  string
}

func (r *recorder) stats() recorderStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := recorderStats{total: r.total, distinct: len(r.ids), sigErrs: r.sigErrs, activityIDs: map[string]int{}, lastErr: r.lastErr, minPerInbox: -1}
	for _, m := range r.ids {
		for id, c := range m {
			s.activityIDs[id]++
			if s.minPerInbox < 0 || c < s.minPerInbox {
				s.minPerInbox = c
			}
			if c > s.maxPerInbox {
				s.maxPerInbox = c
			}
		}
	}
	return s
}

func (r *recorder) count(inbox string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.arrivals[inbox]
}

// reservedDomain returns a 127.0.0.1:PORT no one listens on, for ids.
func reservedDomain(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := ln.Addr().String()
	ln.Close()
	return d
}

// TestCrashChild is the torget process TestCrashMidFanout starts and kills:
// the test binary re-executed with TORGET_CRASH_CHILD=1 and its
// configuration in TORGET_… variables. Otherwise it does nothing.
func TestCrashChild(t *testing.T) {
	if os.Getenv("TORGET_CRASH_CHILD") != "1" {
		return
	}
	cfg, err := config.Load("", os.Environ())
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	a, err := app.New(ctx, cfg, app.NewLogger(cfg.Log), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Serve(ctx, nil); err != nil {
		t.Fatal(err)
	}
}

// crashChild is one torget process started by the test.
type crashChild struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func startCrashChild(t *testing.T, env []string, logPath string) *crashChild {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(append(os.Environ(), "TORGET_CRASH_CHILD=1"), env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatal(err)
	}
	c := &crashChild{cmd: cmd, done: make(chan struct{})}
	go func() { c.err = cmd.Wait(); f.Close(); close(c.done) }()
	t.Cleanup(func() { c.kill() })
	return c
}

func (c *crashChild) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (c *crashChild) kill() {
	if !c.exited() {
		_ = c.cmd.Process.Kill()
	}
	<-c.done
}

// stop sends SIGTERM, waits up to timeout, then kills.
func (c *crashChild) stop(timeout time.Duration) (graceful bool) {
	if c.exited() {
		return false
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
		return c.err == nil
	case <-time.After(timeout):
		c.kill()
		return false
	}
}

// A fan-out to 1,000 inboxes on 50 hosts, with the process killed
// (SIGKILL) part way and restarted, ends with every inbox having the
// activity, and duplicates no more than the in-flight concurrency.
func TestCrashMidFanout(t *testing.T) {
	const (
		hosts    = 50
		perHost  = 20
		inboxes  = hosts * perHost
		workers  = 16
		slug     = "krisinfo"
		killFrom = 200
	)
	ctx := context.Background()
	dir := t.TempDir()
	dbURL := storetest.URL(t)
	domain := reservedDomain(t)
	base := "http://" + domain

	// Seed: the group, 1,000 followers, one post — with no workers running.
	cfg := config.Default()
	cfg.Server.Domain, cfg.Server.BaseURL, cfg.Database.URL = domain, base, dbURL
	cfg.Media.Dir = dir
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := app.New(ctx, cfg, testLogger(), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := a.Fed.CreateGroup(ctx, federation.GroupInput{Slug: slug, Name: "Krisinformation", Purpose: "Test",
		WebsiteURL: "https://example.org/", OwningUnit: "Krisledningen", Responsible: []string{responsible(t, a.Store)}})
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder(t, hosts, base, g, 20*time.Millisecond, 60*time.Millisecond)
	if err := a.Store.InsertFollowers(ctx, rec.followers(g, perHost)); err != nil {
		t.Fatal(err)
	}
	if n, _ := a.Store.CountFollowers(ctx, g.ID, store.FollowAccepted); n != inboxes {
		t.Fatalf("followers = %d, want %d", n, inboxes)
	}
	if _, _, err := a.Fed.Publish(ctx, slug, federation.PostInput{Text: "Viktigt meddelande till allmänheten"}); err != nil {
		t.Fatal(err)
	}
	if c, _ := a.Store.DeliveryCounts(ctx); c[store.DeliveryPending] != inboxes {
		t.Fatalf("pending deliveries = %v, want %d", c, inboxes)
	}
	a.Close()

	env := []string{
		"TORGET_DATABASE_URL=" + dbURL,
		"TORGET_MEDIA_DIR=" + dir,
		"TORGET_SERVER_DOMAIN=" + domain,
		"TORGET_SERVER_BASE_URL=" + base,
		"TORGET_SERVER_LISTEN=127.0.0.1:0",
		"TORGET_FEDERATION_ALLOW_PRIVATE_NETWORKS=127.0.0.0/8",
		fmt.Sprintf("TORGET_DELIVERY_WORKERS=%d", workers),
		"TORGET_DELIVERY_PER_DOMAIN=4",
		"TORGET_DELIVERY_LEASE=3s",
		"TORGET_LOG_LEVEL=warn",
	}
	logPath := filepath.Join(dir, "children.log")
	defer func() {
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("children's output:\n%s", b)
		}
	}()

	// First process: killed once at least 200 inboxes have the activity.
	start := time.Now()
	c1 := startCrashChild(t, env, logPath)
	deadline := time.Now().Add(30 * time.Second)
	for rec.distinct("") < killFrom {
		if c1.exited() {
			t.Fatalf("first torget exited early: %v", c1.err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d inboxes reached in 30s", rec.distinct(""))
		}
		time.Sleep(time.Millisecond)
	}
	c1.kill()
	killedAfter := time.Since(start)
	atKill := rec.stats()
	if atKill.distinct >= inboxes {
		t.Fatalf("the kill came too late: all %d inboxes already had the activity", atKill.distinct)
	}

	// Second process: finishes the fan-out, including the rows the first
	// one had leased when it died (once the 3s lease runs out).
	restart := time.Now()
	c2 := startCrashChild(t, env, logPath)
	deadline = time.Now().Add(60 * time.Second)
	for rec.distinct("") < inboxes {
		if c2.exited() {
			t.Fatalf("second torget exited early: %v", c2.err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("after restart only %d of %d inboxes reached in 60s", rec.distinct(""), inboxes)
		}
		time.Sleep(5 * time.Millisecond)
	}
	complete := time.Since(restart)

	// Every row ends done (the last results may still be being recorded).
	st, err := store.Open(dbURL, store.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	waitUntil(t, 15*time.Second, "all deliveries done", func() bool {
		c, err := st.DeliveryCounts(ctx)
		return err == nil && c[store.DeliveryDone] == inboxes
	})
	if !c2.stop(15 * time.Second) {
		t.Errorf("second torget did not stop cleanly on SIGTERM: %v", c2.err)
	}

	s := rec.stats()
	if s.sigErrs > 0 {
		t.Errorf("%d requests failed signature verification; last: %s", s.sigErrs, s.lastErr)
	}
	if len(s.activityIDs) != 1 {
		t.Fatalf("received activity ids %v, want exactly one", s.activityIDs)
	}
	var actID string
	for id := range s.activityIDs {
		actID = id
	}
	for i := range hosts {
		for j := range perHost {
			if n := rec.count(rec.inbox(i, j)); n < 1 {
				t.Errorf("%s never received the activity", rec.inbox(i, j))
			}
		}
	}
	dups := s.total - s.distinct
	if s.distinct != inboxes || s.activityIDs[actID] != inboxes {
		t.Errorf("distinct inboxes %d, want %d", s.distinct, inboxes)
	}
	if dups > workers {
		t.Errorf("%d duplicate deliveries, more than the in-flight concurrency %d", dups, workers)
	}
	act, err := st.ActivityByIRI(ctx, actID)
	if err != nil {
		t.Fatalf("received id %s is not a stored activity: %v", actID, err)
	}
	if act.Type != "Create" {
		t.Errorf("activity type %s, want Create", act.Type)
	}
	rows, err := st.DeliveriesFor(ctx, act.ID)
	if err != nil {
		t.Fatal(err)
	}
	byWorker := map[string]int{}
	retried := 0
	for _, d := range rows {
		if d.Status != store.DeliveryDone || d.LastStatus != http.StatusAccepted {
			t.Errorf("delivery %d to %s: %s (%d, %q)", d.ID, d.Inbox, d.Status, d.LastStatus, d.LastError)
		}
		byWorker[d.LockedBy]++
		if d.Attempts > 1 {
			retried++
		}
	}
	if len(rows) != inboxes {
		t.Errorf("%d delivery rows, want %d", len(rows), inboxes)
	}
	if c, _ := st.DeliveryCounts(ctx); len(c) != 1 {
		t.Errorf("delivery counts %v, want only %d done", c, inboxes)
	}
	t.Logf("%s: %d inboxes on %d hosts; killed after %v with %d inboxes reached (%d requests); second process completed in %v; "+
		"%d duplicates (limit %d), per inbox %d..%d; rows finished per process %v; %d rows with more than one attempt",
		st.Driver(), inboxes, hosts, killedAfter.Round(time.Millisecond), atKill.distinct, atKill.total, complete.Round(time.Millisecond),
		dups, workers, s.minPerInbox, s.maxPerInbox, byWorker, retried)
}
