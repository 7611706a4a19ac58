package app_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/torget/torget/internal/config"
	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/fedtest"
	"github.com/torget/torget/internal/store"
)

// fastRetries makes a failed delivery due again after ~50–200 ms.
func fastRetries(c *config.Config) {
	c.Delivery.BaseBackoff = config.Duration{Duration: 50 * time.Millisecond}
	c.Delivery.MaxBackoff = config.Duration{Duration: 200 * time.Millisecond}
}

// deliveriesOf returns the delivery rows of the activity an inbox received.
func deliveriesOf(t *testing.T, tg *instance, activityID string) []store.Delivery {
	t.Helper()
	act, err := tg.Store.ActivityByIRI(context.Background(), activityID)
	if err != nil {
		t.Fatalf("activity %s: %v", activityID, err)
	}
	ds, err := tg.Store.DeliveriesFor(context.Background(), act.ID)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func onlyID(t *testing.T, r *recorder) string {
	t.Helper()
	s := r.stats()
	if len(s.activityIDs) != 1 {
		t.Fatalf("received activity ids %v, want one", s.activityIDs)
	}
	for id := range s.activityIDs {
		return id
	}
	return ""
}

func TestDeliveryRetriesAndGone(t *testing.T) {
	ctx := context.Background()

	// An inbox answering 500 three times, then 202, has the activity in the
	// end; the row records four attempts.
	t.Run("retry until delivered", func(t *testing.T) {
		tg := startInstance(t, fastRetries)
		g := tg.group(t, "retry", false)
		rec := newRecorder(t, 1, tg.Base, g, 0, 0)
		rec.status = func(_ string, n int) int {
			if n <= 3 {
				return http.StatusInternalServerError
			}
			return http.StatusAccepted
		}
		if err := tg.Store.InsertFollowers(ctx, rec.followers(g, 1)); err != nil {
			t.Fatal(err)
		}
		if _, _, err := tg.Fed.Publish(ctx, "retry", federation.PostInput{Text: "Försök igen"}); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, 20*time.Second, "delivery done", func() bool {
			c, _ := tg.Store.DeliveryCounts(ctx)
			return c[store.DeliveryDone] == 1
		})
		if n := rec.count(rec.inbox(0, 0)); n != 4 {
			t.Errorf("inbox got %d POSTs, want 4 (three 500s, one 202)", n)
		}
		ds := deliveriesOf(t, tg, onlyID(t, rec))
		if len(ds) != 1 || ds[0].Status != store.DeliveryDone || ds[0].Attempts != 4 || ds[0].LastStatus != http.StatusAccepted {
			t.Fatalf("delivery rows %+v, want one done after 4 attempts", ds)
		}
		// The host's failure count is reset just after the row is finished.
		waitUntil(t, 5*time.Second, "domain success recorded", func() bool {
			d, err := tg.Store.DomainByHost(ctx, rec.host(0))
			return err == nil && d.LastSuccessAt != nil
		})
		d, err := tg.Store.DomainByHost(ctx, rec.host(0))
		if err != nil || d.UnreachableSince != nil || d.ConsecutiveFailures != 0 {
			t.Fatalf("domain after success: %+v %v", d, err)
		}
		if rec.stats().sigErrs != 0 {
			t.Fatalf("signature errors: %s", rec.stats().lastErr)
		}
	})

	// An inbox answering 410 Gone: the delivery is 'gone' and its follower
	// removed; the other follower on the host stays.
	t.Run("gone removes follower", func(t *testing.T) {
		tg := startInstance(t, fastRetries)
		g := tg.group(t, "gone", false)
		rec := newRecorder(t, 1, tg.Base, g, 0, 0)
		goneInbox := rec.inbox(0, 0)
		rec.status = func(inbox string, _ int) int {
			if inbox == goneInbox {
				return http.StatusGone
			}
			return http.StatusAccepted
		}
		if err := tg.Store.InsertFollowers(ctx, rec.followers(g, 2)); err != nil {
			t.Fatal(err)
		}
		if n, _ := tg.Store.CountFollowers(ctx, g.ID, store.FollowAccepted); n != 2 {
			t.Fatalf("followers = %d, want 2", n)
		}
		if _, _, err := tg.Fed.Publish(ctx, "gone", federation.PostInput{Text: "Finns du kvar?"}); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, 10*time.Second, "queue drained", func() bool { return tg.drained(t) })
		ds := deliveriesOf(t, tg, onlyID(t, rec))
		status := map[string]string{}
		for _, d := range ds {
			status[d.Inbox] = d.Status
		}
		if status[goneInbox] != store.DeliveryGone || status[rec.inbox(0, 1)] != store.DeliveryDone || len(ds) != 2 {
			t.Fatalf("delivery states %v, want %s gone and the other done", status, goneInbox)
		}
		if n := rec.count(goneInbox); n != 1 {
			t.Errorf("gone inbox was tried %d times, want once", n)
		}
		// The follower is removed just after the row is marked gone.
		waitUntil(t, 5*time.Second, "follower removed after 410", func() bool {
			n, _ := tg.Store.CountFollowers(ctx, g.ID, store.FollowAccepted)
			return n == 1
		})
		fs, _ := tg.Store.ListFollowers(ctx, g.ID, store.FollowAccepted, 0, 10)
		if len(fs) != 1 || fs[0].Inbox != rec.inbox(0, 1) {
			t.Fatalf("remaining followers %+v", fs)
		}
	})

	// A host failing breaker_threshold times in a row gets its breaker
	// opened; when it then sends us a signed activity the breaker closes and
	// the held delivery goes out at once, long before the next probe.
	t.Run("breaker closes when host contacts us", func(t *testing.T) {
		const threshold = 3
		tg := startInstance(t, fastRetries, func(c *config.Config) {
			c.Delivery.BreakerThreshold = threshold
			c.Delivery.ProbeInterval = config.Duration{Duration: time.Hour}
		})
		g := tg.group(t, "brytare", false)
		m := fedtest.NewServer(t, fedtest.Options{Users: []string{"alice", "bob"}, RootCAs: tg.Pool})
		groupID := tg.Base + "/groups/brytare"
		if code, body, err := m.Send(ctx, "alice", groupID+"/inbox", m.Follow("alice", groupID)); err != nil || code != http.StatusAccepted {
			t.Fatalf("Follow: %d %s %v", code, body, err)
		}
		m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Accept" && d.Status == http.StatusAccepted })
		waitUntil(t, 5*time.Second, "follower stored", func() bool {
			n, _ := tg.Store.CountFollowers(ctx, g.ID, store.FollowAccepted)
			return n == 1
		})

		m.SetInboxStatus(http.StatusInternalServerError)
		if _, _, err := tg.Fed.Publish(ctx, "brytare", federation.PostInput{Text: "Är ni där?"}); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, 20*time.Second, "breaker open", func() bool {
			d, err := tg.Store.DomainByHost(ctx, m.Host)
			return err == nil && d.UnreachableSince != nil
		})
		d, _ := tg.Store.DomainByHost(ctx, m.Host)
		if d.ConsecutiveFailures != threshold || d.NextProbeAt == nil || time.Until(*d.NextProbeAt) < 50*time.Minute {
			t.Fatalf("open breaker: %d failures, next probe %v", d.ConsecutiveFailures, d.NextProbeAt)
		}
		isCreate := func(code int) func(fedtest.Delivery) bool {
			return func(d fedtest.Delivery) bool { return d.Type == "Create" && d.Status == code }
		}
		if n := m.Count(isCreate(http.StatusInternalServerError)); n != threshold {
			t.Fatalf("%d failed Create attempts, want %d", n, threshold)
		}

		// The host recovers, but the open breaker holds its delivery.
		m.SetInboxStatus(0)
		time.Sleep(1500 * time.Millisecond)
		if n := m.Count(isCreate(http.StatusAccepted)); n != 0 {
			t.Fatal("delivery went out while the breaker was open")
		}
		if m.Count(isCreate(http.StatusInternalServerError)) != threshold {
			t.Fatal("host tried while the breaker was open")
		}
		if c, _ := tg.Store.DeliveryCounts(ctx); c[store.DeliveryPending] != 1 {
			t.Fatalf("delivery counts %v, want one pending", c)
		}

		// The host reaches us with a signed Follow: the breaker closes.
		sent := time.Now()
		if code, body, err := m.Send(ctx, "bob", groupID+"/inbox", m.Follow("bob", groupID)); err != nil || code != http.StatusAccepted {
			t.Fatalf("Follow by bob: %d %s %v", code, body, err)
		}
		cr := m.WaitFor(t, 5*time.Second, isCreate(http.StatusAccepted))
		took := time.Since(sent)
		if !cr.Verified {
			t.Fatalf("Create not verified: %s", cr.VerifyErr)
		}
		d, err := tg.Store.DomainByHost(ctx, m.Host)
		if err != nil || d.UnreachableSince != nil || d.NextProbeAt != nil {
			t.Fatalf("breaker still open: %+v %v", d, err)
		}
		waitUntil(t, 5*time.Second, "queue drained", func() bool { return tg.drained(t) })
		ds := deliveriesOf(t, tg, cr.Activity["id"].(string))
		if len(ds) != 1 || ds[0].Status != store.DeliveryDone || ds[0].Attempts != threshold+1 {
			t.Fatalf("delivery rows %+v, want one done after %d attempts", ds, threshold+1)
		}
		t.Logf("breaker opened after %d failures; held delivery went out %v after the host contacted us (probe interval 1h)",
			threshold, took.Round(time.Millisecond))
	})
}
