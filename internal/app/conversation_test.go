package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/torget/torget/internal/auth"
	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/fedtest"
	"github.com/torget/torget/internal/store"
)

func loadConv(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "conversations", name))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// deliver sends an activity and waits until the inbox worker applied it.
func deliver(t *testing.T, tg *instance, peer *fedtest.Server, user, inbox string, act map[string]any) *store.InboxItem {
	t.Helper()
	code, body, err := peer.Send(context.Background(), user, inbox, act)
	if err != nil || code != 202 {
		t.Fatalf("send %v: %d %s %v", act["type"], code, body, err)
	}
	id, _ := act["id"].(string)
	var it *store.InboxItem
	waitUntil(t, 10*time.Second, "inbox item "+id+" applied", func() bool {
		it, err = tg.Store.InboxItemByIRI(context.Background(), id)
		return err == nil && it.Status != store.InboxPending
	})
	return it
}

// follow makes user on peer an accepted follower of the group.
func follow(t *testing.T, tg *instance, peer *fedtest.Server, user, groupID string) {
	t.Helper()
	f := peer.Follow(user, groupID)
	if code, body, err := peer.Send(context.Background(), user, groupID+"/inbox", f); err != nil || code != 202 {
		t.Fatalf("follow: %d %s %v", code, body, err)
	}
	peer.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Accept" })
}

func announcesOf(peer *fedtest.Server, objectID string) int {
	return peer.Count(func(d fedtest.Delivery) bool {
		if d.Type != "Announce" {
			return false
		}
		if s, ok := d.Activity["object"].(string); ok {
			return s == objectID
		}
		o := objectOf(d)
		if o == nil {
			return false
		}
		inner, _ := o["object"].(map[string]any)
		return inner != nil && inner["id"] == objectID
	})
}

// Real Create payloads from Mastodon, Misskey, Lemmy, Pleroma and
// GoToSocial — a reply to a group post, a mention of the group, a
// Lemmy-style Page in the group — are each accepted, threaded, sanitised,
// and announced or held according to the group's discussion mode.
func TestResidentPostsInEachMode(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	peer := fedtest.NewServer(t, fedtest.Options{Users: []string{"masto", "missy", "lem", "pler", "gts"}, RootCAs: tg.Pool})
	fol := fedtest.NewServer(t, fedtest.Options{Users: []string{"fiona"}, RootCAs: tg.Pool})

	cases := []struct {
		file, user, kind string
	}{
		{"mastodon-note-reply-to-group-post.json", "masto", "mention"},
		{"misskey-create-note.json", "missy", "reply"},
		{"misskey-note-misskey-content.json", "missy", "mention"},
		{"lemmy-create-page.json", "lem", "page"},
		{"lemmy-create-note-comment.json", "lem", "reply"},
		{"pleroma-create-note.json", "pler", "reply"},
		{"gotosocial-create-note-wrapped.json", "gts", "mention"},
	}
	for _, mode := range []string{store.ModeAnnouncements, store.ModeModerated, store.ModeOpen} {
		slug := "samtal-" + mode
		tg.group(t, slug, false)
		if err := tg.Fed.SetDiscussionMode(ctx, slug, mode); err != nil {
			t.Fatal(err)
		}
		groupID := tg.Base + "/groups/" + slug
		follow(t, tg, fol, "fiona", groupID)
		post, postURL, err := tg.Fed.Publish(ctx, slug, federation.PostInput{Text: "Vad tycker ni om parken?"})
		if err != nil {
			t.Fatal(err)
		}
		for i, c := range cases {
			t.Run(mode+"/"+c.file, func(t *testing.T) {
				m := loadConv(t, c.file)
				obj, _ := m["object"].(map[string]any)
				if m["type"] != "Create" {
					obj = m
				}
				actor := peer.ActorID(c.user)
				name := mode + "/" + strings.TrimSuffix(c.file, ".json")
				obj["id"] = peer.ObjectID(name)
				obj["attributedTo"] = actor
				delete(obj, "replies")
				delete(obj, "context")
				delete(obj, "conversation")
				obj["to"] = []any{fedtest.Public}
				obj["cc"] = []any{actor + "/followers"}
				obj["inReplyTo"] = nil
				switch c.kind {
				case "reply":
					obj["inReplyTo"] = postURL
				case "mention":
					obj["cc"] = []any{groupID}
					obj["tag"] = []any{map[string]any{"type": "Mention", "href": groupID, "name": "@" + slug + "@" + tg.Domain}}
				case "page":
					obj["audience"] = groupID
					obj["to"] = []any{groupID, fedtest.Public}
				}
				obj["content"] = obj["content"].(string) + `<script>alert(1)</script><a href="javascript:alert(2)">x</a><a href="https://example.org/l">länk</a>`
				delete(obj, "contentMap")
				peer.Serve(obj["id"].(string), obj)
				act := peer.Wrap("Create", c.user, obj)
				inbox := groupID + "/inbox"
				if i%2 == 1 {
					inbox = tg.Base + "/inbox" // the shared inbox works as well
				}
				it := deliver(t, tg, peer, c.user, inbox, act)
				if it.Status != store.InboxProcessed {
					t.Fatalf("item %s: %s", it.Status, it.Reason)
				}
				n, err := tg.Store.RemoteNoteByIRI(ctx, obj["id"].(string))
				if err != nil {
					t.Fatal(err)
				}
				// Threaded.
				if c.kind == "reply" {
					if n.RootIRI != postURL || n.Depth != 1 || n.PostID == nil || *n.PostID != post.ID {
						t.Errorf("reply placed at root %q depth %d post %v", n.RootIRI, n.Depth, n.PostID)
					}
				} else if n.RootIRI != n.IRI || n.Depth != 0 {
					t.Errorf("new thread placed at root %q depth %d", n.RootIRI, n.Depth)
				}
				// Sanitised.
				for _, bad := range []string{"<script", "alert(1)", "javascript:"} {
					if strings.Contains(n.ContentHTML, bad) {
						t.Errorf("content kept %q: %s", bad, n.ContentHTML)
					}
				}
				if !strings.Contains(n.ContentHTML, `<a rel="nofollow ugc noopener" href="https://example.org/l">länk</a>`) {
					t.Errorf("link not marked: %s", n.ContentHTML)
				}
				// State and announcing by mode.
				want := store.NoteVisible
				if mode == store.ModeModerated {
					want = store.NoteHeld
				}
				if n.State != want {
					t.Errorf("state %s, want %s", n.State, want)
				}
				if c.kind == "reply" {
					shown := strings.Contains(getBody(t, tg, postURL), fmt.Sprintf(`id="svar-%d"`, n.ID))
					if shown != (want == store.NoteVisible) {
						t.Errorf("reply shown on the post page: %v, state %s", shown, n.State)
					}
				}
				if mode == store.ModeOpen {
					// Announce{Create} and the plain Announce{Note}.
					waitUntil(t, 10*time.Second, "two announces of "+n.IRI, func() bool { return announcesOf(fol, n.IRI) == 2 })
				} else {
					waitUntil(t, 10*time.Second, "deliveries drained", func() bool { return tg.drained(t) })
					if k := announcesOf(fol, n.IRI); k != 0 {
						t.Errorf("%d announces in mode %s", k, mode)
					}
				}
				// Idempotent: a second delivery of the same activity changes nothing.
				code, _, _ := peer.Send(ctx, c.user, inbox, act)
				if code != 202 {
					t.Errorf("redelivery: %d", code)
				}
			})
		}
	}
}

// A follower on one server receives the Announce of a resident's reply
// from another server, then the announced Update and Delete.
func TestReplyAnnouncedEditedDeleted(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	tg.group(t, "oppen", false)
	if err := tg.Fed.SetDiscussionMode(ctx, "oppen", store.ModeOpen); err != nil {
		t.Fatal(err)
	}
	groupID := tg.Base + "/groups/oppen"
	a := fedtest.NewServer(t, fedtest.Options{Users: []string{"anna"}, RootCAs: tg.Pool, RequireSignedFetch: true})
	b := fedtest.NewServer(t, fedtest.Options{Users: []string{"bertil", "mallory"}, RootCAs: tg.Pool, RequireSignedFetch: true})
	follow(t, tg, a, "anna", groupID)
	_, postURL, err := tg.Fed.Publish(ctx, "oppen", federation.PostInput{Text: "Öppet möte på torsdag"})
	if err != nil {
		t.Fatal(err)
	}
	note := b.Note("bertil", "r1", postURL, "<p>Jag kommer!</p>", groupID)
	deliver(t, tg, b, "bertil", groupID+"/inbox", b.Wrap("Create", "bertil", note))
	a.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool {
		o := objectOf(d)
		return d.Type == "Announce" && o != nil && o["type"] == "Create" && objectOf(fedtest.Delivery{Activity: o})["id"] == note["id"]
	})
	a.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Announce" && d.Activity["object"] == note["id"] })

	// The page shows the reply.
	page := getBody(t, tg, postURL)
	if !strings.Contains(page, "Jag kommer!") {
		t.Fatalf("post page lacks the reply")
	}

	// Someone else's Update and Delete are refused.
	forged := b.Wrap("Update", "mallory", map[string]any{"id": note["id"], "type": "Note", "attributedTo": b.ActorID("mallory"),
		"content": "<p>förfalskat</p>", "to": []any{fedtest.Public}})
	if it := deliver(t, tg, b, "mallory", groupID+"/inbox", forged); it.Status != store.InboxIgnored {
		t.Errorf("forged Update: %s %s", it.Status, it.Reason)
	}
	del := b.Wrap("Delete", "mallory", note)
	if it := deliver(t, tg, b, "mallory", groupID+"/inbox", del); it.Status != store.InboxIgnored {
		t.Errorf("forged Delete: %s %s", it.Status, it.Reason)
	}
	n, _ := tg.Store.RemoteNoteByIRI(ctx, note["id"].(string))
	if n.DeletedAt != nil || strings.Contains(n.ContentHTML, "förfalskat") {
		t.Fatalf("forged activity applied: %+v", n)
	}

	// The author's edit reaches A as an announced Update.
	note["content"] = "<p>Jag kommer, med kaka!</p>"
	upd := b.Wrap("Update", "bertil", note)
	deliver(t, tg, b, "bertil", groupID+"/inbox", upd)
	a.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool {
		o := objectOf(d)
		return d.Type == "Announce" && o != nil && o["id"] == upd["id"] && o["type"] == "Update"
	})
	if n, _ := tg.Store.RemoteNoteByIRI(ctx, note["id"].(string)); !strings.Contains(n.ContentHTML, "med kaka") || n.Version != 2 {
		t.Fatalf("edit not stored: %q v%d", n.ContentHTML, n.Version)
	}
	// And the deletion as an announced Delete; the page no longer shows it.
	del = b.Wrap("Delete", "bertil", note)
	deliver(t, tg, b, "bertil", groupID+"/inbox", del)
	a.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool {
		o := objectOf(d)
		return d.Type == "Announce" && o != nil && o["id"] == del["id"] && o["type"] == "Delete"
	})
	if strings.Contains(getBody(t, tg, postURL), "med kaka") {
		t.Fatal("deleted reply still shown")
	}
	as, err := tg.Store.NoteAnnounces(ctx, n.ID)
	if err != nil || len(as) != 4 {
		t.Fatalf("announces kept: %d %v (want create, object, update, delete)", len(as), err)
	}
}

func getBody(t *testing.T, tg *instance, url string) string {
	t.Helper()
	code, _, body := newClient(t, tg).get(url, "text/html")
	if code != 200 {
		t.Fatalf("GET %s: %d", url, code)
	}
	return body
}

// An administrator sets the discussion mode from the group's edit page
// (CSRF-guarded, audited); an editor may not; the public page shows it.
func TestStaffSetsDiscussionMode(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	tg.group(t, "lage", false)
	tg.user(t, "admin", auth.RoleAdmin)
	tg.user(t, "erik", auth.RoleEditor)
	ab := newBrowser(t, tg)
	ab.login("admin", testPassword)
	const edit, action = "/staff/groups/lage/edit", "/staff/groups/lage/mode"
	_, body := ab.get(edit)
	expectBody(t, "edit page", body, `action="/staff/groups/lage/mode"`, `<label for="mode-open">`, `id="mode-announcements" value="announcements" checked`)
	resp, body := ab.post(action, url.Values{"mode": {"open"}})
	expectStatus(t, "mode without CSRF", resp, body, http.StatusForbidden)
	if g, _ := tg.Store.GroupBySlug(ctx, "lage"); g.DiscussionMode != store.ModeAnnouncements {
		t.Fatalf("mode changed without CSRF: %s", g.DiscussionMode)
	}
	resp, body = ab.form(edit, action, url.Values{"mode": {"moderated"}})
	expectRedirect(t, resp, body, "/staff/groups/lage?notice=L%C3%A4get+f%C3%B6r+svar+%C3%A4r+sparat.")
	if g, _ := tg.Store.GroupBySlug(ctx, "lage"); g.DiscussionMode != store.ModeModerated {
		t.Fatalf("mode = %s", g.DiscussionMode)
	}
	if tg.auditActions(t)["group_mode admin"] != 1 {
		t.Fatal("mode change not audited")
	}
	if page := getBody(t, tg, tg.Base+"/groups/lage"); !strings.Contains(page, "Modererad: svar visas när en moderator") {
		t.Fatal("public page does not show the mode")
	}
	eb := newBrowser(t, tg)
	eb.login("erik", testPassword)
	resp, body = eb.post(action, url.Values{"mode": {"open"}, "csrf": {eb.csrf("/staff")}})
	if resp.StatusCode == http.StatusSeeOther {
		t.Fatalf("an editor changed the mode: %d", resp.StatusCode)
	}
	if g, _ := tg.Store.GroupBySlug(ctx, "lage"); g.DiscussionMode != store.ModeModerated {
		t.Fatalf("editor changed the mode to %s", g.DiscussionMode)
	}
}

// Custom emoji are rendered only as images with alt text, through the
// signed, cached media proxy; unsigned proxy URLs and SVG are refused.
func TestCustomEmojiThroughProxy(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	tg.group(t, "emoji", false)
	groupID := tg.Base + "/groups/emoji"
	p := fedtest.NewServer(t, fedtest.Options{Users: []string{"pia"}, RootCAs: tg.Pool})
	png := grayPNG(t, 16, 16)
	p.Serve(p.ObjectID("blob.png"), fedtest.File{Type: "image/png", Body: png})
	p.Serve(p.ObjectID("evil.svg"), fedtest.File{Type: "image/svg+xml", Body: []byte(`<svg onload="alert(1)"/>`)})
	_, postURL, err := tg.Fed.Publish(ctx, "emoji", federation.PostInput{Text: "Hej"})
	if err != nil {
		t.Fatal(err)
	}
	note := p.Note("pia", "e1", postURL, "<p>Fint :blob: och :evil:</p>", groupID)
	note["tag"] = append(note["tag"].([]any),
		map[string]any{"type": "Emoji", "name": ":blob:", "icon": map[string]any{"type": "Image", "mediaType": "image/png", "url": p.ObjectID("blob.png")}},
		map[string]any{"type": "Emoji", "name": ":evil:", "icon": map[string]any{"type": "Image", "url": p.ObjectID("evil.svg")}})
	deliver(t, tg, p, "pia", groupID+"/inbox", p.Wrap("Create", "pia", note))
	page := getBody(t, tg, postURL)
	if strings.Contains(page, p.URL+"/objects/blob.png\"") || strings.Contains(page, `src="`+p.URL) {
		t.Fatal("emoji hot-linked")
	}
	n, _ := tg.Store.RemoteNoteByIRI(ctx, note["id"].(string))
	i := strings.Index(n.ContentHTML, `src="`)
	if i < 0 || !strings.Contains(n.ContentHTML, `alt=":blob:"`) {
		t.Fatalf("no emoji image: %s", n.ContentHTML)
	}
	src := html.UnescapeString(n.ContentHTML[i+5 : i+5+strings.Index(n.ContentHTML[i+5:], `"`)])
	if !strings.HasPrefix(src, tg.Base+"/media/proxy?") {
		t.Fatalf("emoji src %s", src)
	}
	c := newClient(t, tg)
	code, h, body := c.get(src, "")
	if code != 200 || h.Get("Content-Type") != "image/png" || body != string(png) {
		t.Fatalf("proxy: %d %s %q", code, h.Get("Content-Type"), body)
	}
	c.get(src, "")
	if got := p.ObjectGets("/objects/blob.png"); got != 1 {
		t.Fatalf("image fetched %d times, want 1 (cached)", got)
	}
	if code, _, _ := c.get(tg.Base+"/media/proxy?url="+url.QueryEscape(p.ObjectID("blob.png"))+"&sig=00", ""); code != 403 {
		t.Fatalf("unsigned proxy URL: %d", code)
	}
	j := strings.Index(n.ContentHTML, `alt=":evil:"`)
	if j < 0 {
		t.Fatalf("no :evil: image: %s", n.ContentHTML)
	}
	k := strings.LastIndex(n.ContentHTML[:j], `src="`)
	evil := html.UnescapeString(n.ContentHTML[k+5 : k+5+strings.Index(n.ContentHTML[k+5:], `"`)])
	if code, _, _ := c.get(evil, ""); code != http.StatusBadGateway {
		t.Fatalf("SVG through the proxy: %d", code)
	}
}

// Staff reply as the group from the staff UI: the reply federates to the
// resident and to the followers, answers the resident's note, and shows
// in the thread.
func TestStaffRepliesAsGroup(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	tg.group(t, "svar", false)
	tg.user(t, "admin", auth.RoleAdmin)
	groupID := tg.Base + "/groups/svar"
	a := fedtest.NewServer(t, fedtest.Options{Users: []string{"anna"}, RootCAs: tg.Pool})
	b := fedtest.NewServer(t, fedtest.Options{Users: []string{"bertil"}, RootCAs: tg.Pool})
	follow(t, tg, a, "anna", groupID)
	_, postURL, err := tg.Fed.Publish(ctx, "svar", federation.PostInput{Text: "Frågor om soptömningen?"})
	if err != nil {
		t.Fatal(err)
	}
	note := b.Note("bertil", "q1", postURL, "<p>När töms kärlen på Ringvägen?</p>", groupID)
	deliver(t, tg, b, "bertil", groupID+"/inbox", b.Wrap("Create", "bertil", note))

	ab := newBrowser(t, tg)
	ab.login("admin", testPassword)
	_, body := ab.get("/staff/groups/svar")
	replyLink := "/staff/groups/svar/compose?svar=" + url.QueryEscape(note["id"].(string))
	expectBody(t, "staff group page", body, "När töms kärlen", html.EscapeString(replyLink),
		`href="`+postURL+"#"+anchorOf(t, tg, note["id"].(string))+`">Visa i tråden</a>`)
	resp, body := ab.get(replyLink)
	expectStatus(t, "reply form", resp, body, 200)
	expectBody(t, "reply form", body, `name="in_reply_to"`, "Du svarar på")
	resp, body = ab.form(replyLink, "/staff/groups/svar/compose", url.Values{"text": {"På tisdagar."}, "language": {"sv"},
		"action": {"publish"}, "in_reply_to": {note["id"].(string)}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reply: %d %.300s", resp.StatusCode, body)
	}
	isReply := func(d fedtest.Delivery) bool {
		o := objectOf(d)
		return d.Type == "Create" && o != nil && o["inReplyTo"] == note["id"]
	}
	got := b.WaitFor(t, 10*time.Second, isReply)
	o := objectOf(got)
	if !contains(strs(o["cc"]), b.ActorID("bertil")) || !strings.Contains(string(got.Body), `"href":"`+b.ActorID("bertil")+`"`) {
		t.Fatalf("reply does not mention the resident: %s", got.Body)
	}
	a.WaitFor(t, 10*time.Second, isReply)
	page := getBody(t, tg, postURL)
	parents, _ := threadShape(t, page)
	var staff string
	for k := range parents {
		if strings.HasPrefix(k, "grupp-") {
			staff = k
		}
	}
	if got := parents[staff]; staff == "" || len(got) != 1 || got[0] != anchorOf(t, tg, note["id"].(string)) ||
		!strings.Contains(page, "På tisdagar.") || !strings.Contains(page, `aria-label="Svar från Grupp svar (gruppen) till @bertil@`) {
		t.Fatalf("staff reply not nested under the question on the page: %v", parents)
	}
	// A reply to a note of another group, or to nothing, is refused.
	if _, _, err := tg.Fed.Publish(ctx, "svar", federation.PostInput{Text: "x", InReplyTo: b.ObjectID("nope")}); err == nil {
		t.Fatal("reply to an unknown note published")
	}
}
