package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/fedtest"
	"github.com/torget/torget/internal/store"
)

// A reply to another resident's reply that was never delivered to torget
// (Mastodon sends it only to the replied-to resident's server) appears in
// the thread after backfill; so does an unknown parent of a delivered
// reply. A reply cycle and an endless replies collection are cut off at
// the bounds.
func TestThreadBackfill(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	tg.group(t, "trad", false)
	groupID := tg.Base + "/groups/trad"
	b := fedtest.NewServer(t, fedtest.Options{Users: []string{"bertil"}, RootCAs: tg.Pool, RequireSignedFetch: true})
	c := fedtest.NewServer(t, fedtest.Options{Users: []string{"cecilia", "david"}, RootCAs: tg.Pool})
	_, postURL, err := tg.Fed.Publish(ctx, "trad", federation.PostInput{Text: "Ny busslinje?"})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("reply to a reply", func(t *testing.T) {
		r1 := b.Note("bertil", "r1", postURL, "<p>Ja tack</p>", groupID)
		// Cecilia answers Bertil; her server sends it to Bertil's only.
		r2 := c.Note("cecilia", "r2", r1["id"].(string), "<p>Håller med Bertil</p>", b.ActorID("bertil"))
		r1["replies"] = map[string]any{"id": r1["id"].(string) + "/replies", "type": "Collection",
			"first": map[string]any{"type": "CollectionPage", "items": []any{r2["id"]}}}
		b.Serve(r1["id"].(string), r1)
		b.Serve(r1["id"].(string)+"/replies", r1["replies"])
		deliver(t, tg, b, "bertil", groupID+"/inbox", b.Wrap("Create", "bertil", r1))
		backfilled(t, tg)
		n, err := tg.Store.RemoteNoteByIRI(ctx, r2["id"].(string))
		if err != nil {
			t.Fatalf("reply-to-reply not backfilled: %v", err)
		}
		if n.RootIRI != postURL || n.Depth != 2 || n.InReplyTo != r1["id"] || n.Via != "backfill" || n.State != store.NoteVisible {
			t.Fatalf("backfilled note: root %s depth %d via %s state %s", n.RootIRI, n.Depth, n.Via, n.State)
		}
		if got := getBody(t, tg, postURL); !strings.Contains(got, "Håller med Bertil") {
			t.Fatal("backfilled reply not on the post page")
		}
	})

	t.Run("unknown parent fetched", func(t *testing.T) {
		p := c.Note("david", "p1", postURL, "<p>Förälder som aldrig kom fram</p>")
		r := b.Note("bertil", "r3", p["id"].(string), "<p>Svar på David</p>", c.ActorID("david"))
		deliver(t, tg, b, "bertil", tg.Base+"/inbox", b.Wrap("Create", "bertil", r))
		pn, err := tg.Store.RemoteNoteByIRI(ctx, p["id"].(string))
		if err != nil || pn.RootIRI != postURL || pn.Depth != 1 {
			t.Fatalf("parent: %+v %v", pn, err)
		}
		rn, err := tg.Store.RemoteNoteByIRI(ctx, r["id"].(string))
		if err != nil || rn.Depth != 2 {
			t.Fatalf("reply: %+v %v", rn, err)
		}
	})

	t.Run("reply cycle", func(t *testing.T) {
		x1 := c.Note("cecilia", "x1", c.ObjectID("x2"), "<p>x1</p>")
		c.Note("cecilia", "x2", c.ObjectID("x1"), "<p>x2</p>")
		it := deliver(t, tg, c, "cecilia", groupID+"/inbox", c.Wrap("Create", "cecilia", x1))
		if it.Status != store.InboxIgnored {
			t.Fatalf("cycle: %s %s", it.Status, it.Reason)
		}
		if n := c.ObjectGets("/objects/x"); n > 2 {
			t.Fatalf("cycle fetched %d times", n)
		}
	})

	t.Run("endless replies collection", func(t *testing.T) {
		r := c.Note("cecilia", "e1", postURL, "<p>Oändlig</p>", groupID)
		coll := r["id"].(string) + "/replies"
		r["replies"] = coll
		c.Serve(r["id"].(string), r)
		c.Serve(coll, map[string]any{"id": coll, "type": "OrderedCollection", "first": coll + "?page=0"})
		for i := 0; i < 100; i++ {
			pg := fmt.Sprintf("%s?page=%d", coll, i)
			c.Serve(pg, map[string]any{"id": pg, "type": "OrderedCollectionPage", "partOf": coll,
				"next": fmt.Sprintf("%s?page=%d", coll, i+1), "orderedItems": []any{c.ObjectID(fmt.Sprintf("missing-%d", i))}})
		}
		deliver(t, tg, c, "cecilia", groupID+"/inbox", c.Wrap("Create", "cecilia", r))
		backfilled(t, tg)
		pages := c.ObjectGets("/objects/e1/replies")
		if pages == 0 || pages > 7 {
			t.Fatalf("%d GETs of the endless collection, want 1..7", pages)
		}
		if m := c.ObjectGets("/objects/missing-"); m == 0 || m > 7 {
			t.Fatalf("%d GETs of its items", m)
		}
	})
}

// backfilled waits until the backfills the inbox queued are done: they
// run off the inbox workers' path.
func backfilled(t *testing.T, tg *instance) {
	t.Helper()
	waitUntil(t, 10*time.Second, "backfills done", func() bool { return tg.Fed.BackfillsPending() == 0 })
}
