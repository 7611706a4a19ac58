package app_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/torget/torget/internal/app"
	"github.com/torget/torget/internal/auth"
	"github.com/torget/torget/internal/config"
	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/fedtest"
	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/store/storetest"
)

func fastScheduler(c *config.Config) {
	c.Delivery.SchedulePoll = config.Duration{Duration: 20 * time.Millisecond}
}

func createOf(text string) func(d fedtest.Delivery) bool {
	return func(d fedtest.Delivery) bool {
		if d.Type != "Create" {
			return false
		}
		c, _ := objectOf(d)["content"].(string)
		return strings.Contains(c, text)
	}
}

// expectHidden asserts that text appears on none of the group's public
// surfaces: page, outbox, feeds, featured.
func expectHidden(t *testing.T, tg *instance, slug, text string) {
	t.Helper()
	c := newClient(t, tg)
	g := tg.Base + "/groups/" + slug
	for _, probe := range []struct{ url, accept string }{
		{g, "text/html"}, {g + "/outbox", asAccept}, {g + "/outbox/page/0", asAccept}, {g + "/featured", asAccept},
		{g + "/feed.rss", ""}, {g + "/feed.atom", ""}, {tg.Base + "/", "text/html"},
	} {
		_, _, body := c.get(probe.url, probe.accept)
		if strings.Contains(body, text) {
			t.Fatalf("%s shows the unpublished text %q:\n%.600s", probe.url, text, body)
		}
	}
}

// A scheduled post is neither visible nor federated before its time, not
// even across a restart; once the clock passes it, the follower's server
// receives one signed Create, and the post is public. A draft never leaks.
func TestScheduledPostAcrossRestart(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t, fastScheduler)
	g := tg.group(t, "schema", false)
	m := followedBy(t, tg, "schema")

	at := tg.Clock.Now().Add(10 * time.Minute)
	sched, err := tg.Fed.SaveDraft(ctx, "schema", "", federation.PostInput{Text: "Schemalagt inlägg om #vägarbeten"}, &at)
	if err != nil || sched.State != store.DraftScheduled {
		t.Fatalf("schedule: %+v %v", sched, err)
	}
	draft, err := tg.Fed.SaveDraft(ctx, "schema", "", federation.PostInput{Text: "Hemligt utkast"}, nil)
	if err != nil || draft.State != store.DraftDraft {
		t.Fatalf("draft: %+v %v", draft, err)
	}
	past := tg.Clock.Now().Add(-time.Second)
	if _, err := tg.Fed.SaveDraft(ctx, "schema", "", federation.PostInput{Text: "För sent"}, &past); !errors.Is(err, federation.ErrInvalid) ||
		!strings.Contains(err.Error(), "passed") {
		t.Fatalf("a time in the past: %v", err)
	}

	check := func(tg *instance) {
		t.Helper()
		time.Sleep(200 * time.Millisecond) // ten scheduler polls
		if n := m.Count(func(d fedtest.Delivery) bool { return d.Type == "Create" }); n != 0 {
			t.Fatalf("%d Create sent before the scheduled time", n)
		}
		for _, text := range []string{"Schemalagt inlägg", "Hemligt utkast"} {
			expectHidden(t, tg, "schema", text)
		}
		// Neither draft has an object URL, in HTML or as AS JSON.
		c := newClient(t, tg)
		for _, id := range []string{sched.PublicID, draft.PublicID} {
			for _, accept := range []string{"text/html", asAccept} {
				if code, _, _ := c.get(tg.Base+"/groups/schema/posts/"+id, accept); code != http.StatusNotFound {
					t.Fatalf("draft %s as %s: %d, want 404", id, accept, code)
				}
			}
		}
		if n, _ := tg.Store.CountPosts(ctx, g.ID); n != 0 {
			t.Fatalf("drafts counted as posts: %d", n)
		}
	}
	check(tg)
	tg = tg.restart(t, fastScheduler)
	check(tg)

	tg.Clock.Advance(11 * time.Minute)
	d := m.WaitFor(t, 10*time.Second, createOf("Schemalagt inlägg"))
	if !d.Verified {
		t.Fatalf("Create not verified: %s", d.VerifyErr)
	}
	noteID, _ := objectOf(d)["id"].(string)
	if !strings.HasPrefix(noteID, tg.Base+"/groups/schema/posts/") || strings.HasSuffix(noteID, sched.PublicID) {
		t.Fatalf("note id %q", noteID)
	}
	_, _, body := newClient(t, tg).get(tg.Base+"/groups/schema", "text/html")
	expectBody(t, "public page after publication", body, "Schemalagt inlägg")
	cur, err := tg.Store.DraftByPublicID(ctx, sched.PublicID)
	if err != nil || cur.State != store.DraftPublished || cur.PostID == nil {
		t.Fatalf("draft after publication: %+v %v", cur, err)
	}
	time.Sleep(300 * time.Millisecond)
	if n := m.Count(createOf("Schemalagt inlägg")); n != 1 {
		t.Fatalf("%d Creates of the scheduled post, want exactly 1", n)
	}
	expectHidden(t, tg, "schema", "Hemligt utkast")
	// Published: it cannot be published or discarded again.
	if _, _, err := tg.Fed.PublishDraft(ctx, sched.PublicID); !errors.Is(err, federation.ErrPublished) {
		t.Fatalf("second publication: %v", err)
	}
	if err := tg.Fed.DiscardDraft(ctx, sched.PublicID); !errors.Is(err, federation.ErrPublished) {
		t.Fatalf("discard after publication: %v", err)
	}
}

// Two nodes on one database publish each scheduled post exactly once: the
// schedulers share the work, and a direct race on one draft (two nodes,
// many clicks) publishes it once.
func TestScheduledPostsTwoNodesOnce(t *testing.T) {
	const posts = 12
	ctx := context.Background()
	domain := reservedDomain(t)
	base := "http://" + domain
	cfg := config.Default()
	cfg.Server.Domain, cfg.Server.BaseURL, cfg.Database.URL = domain, base, storetest.URL(t)
	cfg.Federation.AllowPrivateNetworks = []string{"127.0.0.0/8"}
	cfg.Delivery.SchedulePoll = config.Duration{Duration: 10 * time.Millisecond}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	clock := &testClock{}
	var nodes [2]*app.App
	for i := range nodes {
		a, err := app.New(ctx, cfg, testLogger(), app.Options{Now: clock.Now})
		if err != nil {
			t.Fatalf("node %d: %v", i+1, err)
		}
		t.Cleanup(func() { a.Close() })
		nodes[i] = a
	}
	g, err := nodes[0].Fed.CreateGroup(ctx, federation.GroupInput{Slug: "tidtabell", Name: "Tidtabell", Purpose: "Test",
		OwningUnit: "Trafikkontoret", Responsible: []string{responsible(t, nodes[0].Store)}})
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder(t, 2, base, g, 0, 0)
	if err := nodes[0].Store.InsertFollowers(ctx, rec.followers(g, 2)); err != nil {
		t.Fatal(err)
	}
	at := clock.Now().Add(time.Minute)
	for i := range posts {
		if _, err := nodes[i%2].Fed.SaveDraft(ctx, "tidtabell", "", federation.PostInput{Text: "Avgång " + string(rune('A'+i))}, &at); err != nil {
			t.Fatal(err)
		}
	}
	// The race: both nodes publish the same draft at once, several times.
	race, err := nodes[0].Fed.SaveDraft(ctx, "tidtabell", "", federation.PostInput{Text: "Kapplöpning"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, lost := 0, 0
	for i := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := nodes[i%2].Fed.PublishDraft(ctx, race.PublicID)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, federation.ErrPublished):
				lost++
			default:
				t.Errorf("publish race: %v", err)
			}
		}()
	}
	wg.Wait()
	if won != 1 || lost != 5 {
		t.Fatalf("publish race: %d won, %d lost; want 1 and 5", won, lost)
	}

	wctx, cancel := context.WithCancel(ctx)
	var wgs []*sync.WaitGroup
	for _, a := range nodes {
		wgs = append(wgs, a.RunWorkers(wctx))
	}
	defer func() {
		cancel()
		for _, wg := range wgs {
			wg.Wait()
		}
	}()
	time.Sleep(100 * time.Millisecond)
	if n, _ := nodes[0].Store.CountPosts(ctx, g.ID); n != 1 {
		t.Fatalf("%d posts before the scheduled time, want only the raced one", n)
	}
	// The raced post's deliveries end before the clock jumps: a jump as
	// long as the delivery lease would hand a delivery still in flight
	// (on a loaded machine) to the other node, a second send this test
	// would count against the scheduler.
	waitUntil(t, 20*time.Second, "the raced post delivered", func() bool {
		c, _ := nodes[0].Store.DeliveryCounts(ctx)
		return c[store.DeliveryPending] == 0 && c[store.DeliveryDone] == 4
	})
	clock.Advance(2 * time.Minute)
	waitUntil(t, 20*time.Second, "every scheduled post published and delivered", func() bool {
		n, _ := nodes[0].Store.CountPosts(ctx, g.ID)
		c, _ := nodes[0].Store.DeliveryCounts(ctx)
		return n == posts+1 && c[store.DeliveryPending] == 0 && c[store.DeliveryDone] == (posts+1)*4
	})
	time.Sleep(200 * time.Millisecond)
	s := rec.stats()
	if s.sigErrs > 0 {
		t.Errorf("%d signature failures: %s", s.sigErrs, s.lastErr)
	}
	if len(s.activityIDs) != posts+1 || s.maxPerInbox != 1 || s.total != (posts+1)*4 {
		t.Fatalf("%d activities, %d requests, at most %d per inbox and activity; want %d activities once to each of 4 inboxes",
			len(s.activityIDs), s.total, s.maxPerInbox, posts+1)
	}
	ps, err := nodes[1].Store.ListPosts(ctx, g.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]int{}
	for _, p := range ps {
		texts[p.Source]++
	}
	for text, n := range texts {
		if n != 1 {
			t.Errorf("%q published %d times", text, n)
		}
	}
}

// Staff save drafts and schedule posts from the compose form; the group's
// staff page lists them; they can be rescheduled, published now or
// discarded. A time in the past is refused with a clear message, and the
// text is kept.
func TestStaffDraftsAndScheduling(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t, fastScheduler)
	g := tg.group(t, "kompis", false)
	tg.group(t, "annan", false)
	ed := tg.user(t, "erik", auth.RoleEditor)
	if err := tg.Store.AssignGroupStaff(ctx, g.ID, ed.ID, store.RoleEditor); err != nil {
		t.Fatal(err)
	}
	m := followedBy(t, tg, "kompis")
	b := newBrowser(t, tg)
	resp, body := b.login("erik", testPassword)
	expectRedirect(t, resp, body, "/staff")
	const compose = "/staff/groups/kompis/compose"
	resp, body = b.get(compose)
	expectStatus(t, "compose form", resp, body, 200)
	expectBody(t, "compose form", body, `value="draft"`, `value="schedule"`, `value="publish"`, `<label for="date">`, `<label for="time">`,
		`type="time" step="1"`, "Europe/Stockholm")

	loc, _ := time.LoadLocation("Europe/Stockholm")
	past := tg.Clock.Now().Add(-time.Hour).In(loc)
	resp, body = b.form(compose, compose, url.Values{"text": {"Gammalt nytt"}, "language": {"sv"}, "action": {"schedule"},
		"date": {past.Format("2006-01-02")}, "time": {past.Format("15:04")}})
	expectStatus(t, "schedule in the past", resp, body, http.StatusUnprocessableEntity)
	expectBody(t, "schedule in the past", body, "har redan passerat", `id="when-error"`, `aria-invalid="true"`, ">Gammalt nytt</textarea>")

	future := tg.Clock.Now().Add(3 * time.Hour).In(loc)
	resp, body = b.form(compose, compose, url.Values{"text": {"Planerat *inlägg*"}, "language": {"sv"}, "action": {"schedule"},
		"date": {future.Format("2006-01-02")}, "time": {future.Format("15:04:05")}})
	expectNotice(t, "schedule", resp, body, "/staff/groups/kompis")
	resp, body = b.form(compose, compose, url.Values{"text": {"Ett utkast"}, "language": {"sv"}, "action": {"draft"}})
	expectNotice(t, "draft", resp, body, "/staff/groups/kompis")

	ds, err := tg.Store.ListDrafts(ctx, g.ID)
	if err != nil || len(ds) != 2 || ds[0].State != store.DraftScheduled || ds[1].State != store.DraftDraft {
		t.Fatalf("drafts %+v %v", ds, err)
	}
	if got := ds[0].ScheduledAt.Unix(); got != future.Truncate(time.Second).Unix() {
		t.Fatalf("scheduled at %v, want %v", ds[0].ScheduledAt, future)
	}
	sched, draft := ds[0], ds[1]
	resp, body = b.get("/staff/groups/kompis")
	expectStatus(t, "staff page", resp, body, 200)
	checkHeadings(t, "staff page", body)
	expectBody(t, "staff page", body, "Utkast och schemalagda inlägg", "Planerat *inlägg*", "Ett utkast", "Schemalagt",
		future.Format("2006-01-02 15:04:05"), `/staff/drafts/`+sched.PublicID+`/edit`, `action="/staff/drafts/`+draft.PublicID+`/publish"`)
	expectHidden(t, tg, "kompis", "Planerat")
	expectHidden(t, tg, "kompis", "Ett utkast")

	// Reschedule the scheduled post a day later, from its edit page.
	edit := "/staff/drafts/" + sched.PublicID + "/edit"
	resp, body = b.get(edit)
	expectStatus(t, "draft edit form", resp, body, 200)
	expectBody(t, "draft edit form", body, `value="`+future.Format("2006-01-02")+`"`, `value="`+future.Format("15:04:05")+`"`)
	later := future.Add(24 * time.Hour)
	resp, body = b.form(edit, edit, url.Values{"text": {"Planerat, flyttat"}, "language": {"sv"}, "action": {"schedule"},
		"date": {later.Format("2006-01-02")}, "time": {later.Format("15:04:05")}})
	expectNotice(t, "reschedule", resp, body, "/staff/groups/kompis")
	if cur, _ := tg.Store.DraftByPublicID(ctx, sched.PublicID); cur.ScheduledAt.Unix() != later.Truncate(time.Second).Unix() || cur.Source != "Planerat, flyttat" {
		t.Fatalf("rescheduled draft %+v", cur)
	}

	// Another group's editor cannot touch these drafts.
	tg.user(t, "olle", auth.RoleEditor)
	ob := newBrowser(t, tg)
	resp, body = ob.login("olle", testPassword)
	expectRedirect(t, resp, body, "/staff")
	resp, body = ob.get(edit)
	expectStatus(t, "other editor's draft edit", resp, body, http.StatusForbidden)
	resp, body = ob.post("/staff/drafts/"+draft.PublicID+"/publish", url.Values{"csrf": {ob.csrf("/staff")}})
	expectStatus(t, "other editor publishes", resp, body, http.StatusForbidden)

	// Publish the draft now: one Create reaches the follower.
	resp, body = b.post("/staff/drafts/"+draft.PublicID+"/publish", url.Values{"csrf": {b.csrf("/staff/groups/kompis")}})
	expectNotice(t, "publish now", resp, body, "/staff/groups/kompis")
	m.WaitFor(t, 10*time.Second, createOf("Ett utkast"))
	resp, body = b.post("/staff/drafts/"+draft.PublicID+"/publish", url.Values{"csrf": {b.csrf("/staff/groups/kompis")}})
	expectStatus(t, "publish twice", resp, body, http.StatusGone)

	// Discard the scheduled one: it never appears, even after its time.
	resp, body = b.post("/staff/drafts/"+sched.PublicID+"/discard", url.Values{"csrf": {b.csrf("/staff/groups/kompis")}})
	expectNotice(t, "discard", resp, body, "/staff/groups/kompis")
	tg.Clock.Advance(48 * time.Hour)
	time.Sleep(200 * time.Millisecond)
	expectHidden(t, tg, "kompis", "Planerat")
	if n := m.Count(func(d fedtest.Delivery) bool { return d.Type == "Create" }); n != 1 {
		t.Fatalf("%d Creates, want only the draft published now", n)
	}
	acts := tg.auditActions(t)
	if acts["post_schedule erik"] != 2 || acts["draft_save erik"] != 1 || acts["post_publish erik"] != 1 || acts["draft_discard erik"] != 1 {
		t.Fatalf("audit actions %v", acts)
	}
}
