package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/torget/torget/internal/fedtest"
	"github.com/torget/torget/internal/store"
)

// A peer that rotated its key is refetched once when its signature fails
// against the cached key, and accepted; within a minute of the last fetch,
// a failing signature causes no refetch (no amplification).
func TestKeyRotationRefetchesOnce(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	g := tg.group(t, "rotation", false)
	m := fedtest.NewServer(t, fedtest.Options{Users: []string{"alice"}, RootCAs: tg.Pool})
	groupID := tg.Base + "/groups/rotation"
	follow := m.Follow("alice", groupID)
	if code, _, err := m.Send(ctx, "alice", groupID+"/inbox", follow); err != nil || code != 202 {
		t.Fatalf("Follow: %d %v", code, err)
	}
	m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Accept" })
	before, err := tg.Store.RemoteActorByIRI(ctx, m.ActorID("alice"))
	if err != nil {
		t.Fatal(err)
	}
	m.RotateKey("alice")
	if code, _, err := m.Send(ctx, "alice", tg.Base+"/inbox", m.Undo("alice", follow)); err != nil || code != 401 {
		t.Fatalf("new key within a minute of the last fetch: %d %v, want 401 without a refetch", code, err)
	}
	// A failing signature refetches a key at most once a minute.
	tg.Clock.Advance(2 * time.Minute)
	if code, body, err := m.Send(ctx, "alice", tg.Base+"/inbox", m.Undo("alice", follow)); err != nil || code != 202 {
		t.Fatalf("Undo signed with the new key: %d %s %v", code, body, err)
	}
	after, err := tg.Store.RemoteActorByIRI(ctx, m.ActorID("alice"))
	if err != nil || after.PublicKeyPEM == before.PublicKeyPEM || after.PublicKeyPEM != m.PublicKeyPEM("alice") {
		t.Fatalf("stored key not refreshed: %v", err)
	}
	waitUntil(t, 5*time.Second, "unfollowed", func() bool {
		n, _ := tg.Store.CountFollowers(ctx, g.ID, store.FollowAccepted)
		return n == 0
	})
}

// Mastodon signs an account's Delete with the key of the deleted account,
// whose actor then answers 410: a cached key still verifies it; an actor we
// never knew is acknowledged and nothing is stored.
func TestDeleteOfGoneActor(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	g := tg.group(t, "gone", false)
	m := fedtest.NewServer(t, fedtest.Options{Users: []string{"bob", "carol"}, RootCAs: tg.Pool})
	groupID := tg.Base + "/groups/gone"
	if code, _, err := m.Send(ctx, "bob", groupID+"/inbox", m.Follow("bob", groupID)); err != nil || code != 202 {
		t.Fatalf("Follow: %d %v", code, err)
	}
	m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Accept" })
	m.SetGone("bob")
	m.SetGone("carol")
	if code, body, err := m.Send(ctx, "bob", tg.Base+"/inbox", m.DeleteSelf("bob")); err != nil || code != 202 {
		t.Fatalf("Delete of bob: %d %s %v", code, body, err)
	}
	waitUntil(t, 5*time.Second, "bob's follow removed", func() bool {
		n, _ := tg.Store.CountFollowers(ctx, g.ID, store.FollowAccepted)
		return n == 0
	})
	counts := func() int64 {
		c, _ := tg.Store.InboxCounts(ctx)
		var n int64
		for _, v := range c {
			n += v
		}
		return n
	}
	n := counts()
	if code, body, err := m.Send(ctx, "carol", tg.Base+"/inbox", m.DeleteSelf("carol")); err != nil || code != 202 {
		t.Fatalf("Delete of never-seen carol: %d %s %v", code, body, err)
	}
	if counts() != n {
		t.Fatal("a Delete from an unknown, deleted actor was stored")
	}
}
