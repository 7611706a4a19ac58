package app_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/torget/torget/internal/app"
	"github.com/torget/torget/internal/config"
	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/store/storetest"
)

// Two torget processes sharing one database deliver each job once: here
// two Apps in one test process, each with its own store connections and
// workers, on the same database.
func TestTwoNodesDeliverOnce(t *testing.T) {
	const (
		hosts   = 25
		perHost = 20
		inboxes = hosts * perHost
		slug    = "nyheter"
	)
	ctx := context.Background()
	domain := reservedDomain(t)
	base := "http://" + domain
	cfg := config.Default()
	cfg.Server.Domain, cfg.Server.BaseURL, cfg.Database.URL = domain, base, storetest.URL(t)
	cfg.Media.Dir = t.TempDir()
	cfg.Federation.AllowPrivateNetworks = []string{"127.0.0.0/8"}
	cfg.Delivery.Workers, cfg.Delivery.PerDomain = 8, 2
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var nodes [2]*app.App
	for i := range nodes {
		a, err := app.New(ctx, cfg, testLogger(), app.Options{}) // the second run of the migrations is a no-op
		if err != nil {
			t.Fatalf("node %d: %v", i+1, err)
		}
		t.Cleanup(func() { a.Close() })
		nodes[i] = a
	}
	id1, k1 := nodes[0].Fed.InstanceKey()
	id2, k2 := nodes[1].Fed.InstanceKey()
	if id1 != id2 || !k1.Equal(k2) {
		t.Fatal("the second node made its own instance key")
	}

	g, err := nodes[0].Fed.CreateGroup(ctx, federation.GroupInput{Slug: slug, Name: "Nyheter", Purpose: "Test",
		WebsiteURL: "https://example.org/", OwningUnit: "Kommunikationsenheten", Responsible: []string{responsible(t, nodes[0].Store)}})
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder(t, hosts, base, g, 5*time.Millisecond, 20*time.Millisecond)
	if err := nodes[0].Store.InsertFollowers(ctx, rec.followers(g, perHost)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := nodes[1].Fed.Publish(ctx, slug, federation.PostInput{Text: "Till alla följare"}); err != nil {
		t.Fatal(err)
	}

	// Both nodes start on the queued fan-out at once.
	wctx, cancel := context.WithCancel(ctx)
	var wgs []*sync.WaitGroup
	for _, a := range nodes {
		wgs = append(wgs, a.RunWorkers(wctx))
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			for _, wg := range wgs {
				wg.Wait()
			}
		}
	}
	t.Cleanup(stop)
	start := time.Now()
	waitUntil(t, 60*time.Second, "all inboxes reached", func() bool { return rec.distinct("") == inboxes })
	took := time.Since(start)
	waitUntil(t, 10*time.Second, "all deliveries done", func() bool {
		c, err := nodes[0].Store.DeliveryCounts(ctx)
		return err == nil && c[store.DeliveryDone] == inboxes
	})
	time.Sleep(200 * time.Millisecond) // anything delivered twice would arrive now
	stop()

	s := rec.stats()
	if s.sigErrs > 0 {
		t.Errorf("%d requests failed signature verification; last: %s", s.sigErrs, s.lastErr)
	}
	if len(s.activityIDs) != 1 {
		t.Fatalf("received activity ids %v, want exactly one", s.activityIDs)
	}
	if s.distinct != inboxes || s.total != inboxes || s.maxPerInbox != 1 {
		t.Errorf("%d inboxes reached with %d requests (at most %d per inbox), want %d each exactly once",
			s.distinct, s.total, s.maxPerInbox, inboxes)
	}
	var actID string
	for id := range s.activityIDs {
		actID = id
	}
	act, err := nodes[0].Store.ActivityByIRI(ctx, actID)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := nodes[0].Store.DeliveriesFor(ctx, act.ID)
	if err != nil {
		t.Fatal(err)
	}
	byNode := map[string]int{}
	for _, d := range rows {
		if d.Status != store.DeliveryDone || d.Attempts != 1 || d.LastStatus != http.StatusAccepted {
			t.Errorf("delivery %d to %s: %s after %d attempts (%d)", d.ID, d.Inbox, d.Status, d.Attempts, d.LastStatus)
		}
		byNode[d.LockedBy]++
	}
	if len(rows) != inboxes {
		t.Errorf("%d delivery rows, want %d", len(rows), inboxes)
	}
	// Both nodes took part (each lease names its process).
	if len(byNode) != 2 {
		t.Errorf("rows delivered per lease owner %v, want both nodes", byNode)
	}
	for w, n := range byNode {
		if w == "" || n == 0 || !strings.Contains(w, "-") {
			t.Errorf("unexpected lease owner %q (%d rows)", w, n)
		}
	}
	t.Logf("%s: %d inboxes on %d hosts delivered once each in %v; rows per node %v",
		nodes[0].Store.Driver(), inboxes, hosts, took.Round(time.Millisecond), byNode)
}
