package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/torget/torget/internal/auth"
	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/fedtest"
	"github.com/torget/torget/internal/store"
)

// followedBy has a fake Mastodon user follow a group and waits for the Accept.
func followedBy(t *testing.T, tg *instance, slug string) *fedtest.Server {
	t.Helper()
	ctx := context.Background()
	m := fedtest.NewServer(t, fedtest.Options{Users: []string{"alice"}, RootCAs: tg.Pool})
	groupID := tg.Base + "/groups/" + slug
	if code, body, err := m.Send(ctx, "alice", groupID+"/inbox", m.Follow("alice", groupID)); err != nil || code != http.StatusAccepted {
		t.Fatalf("Follow: %d %s %v", code, body, err)
	}
	m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Accept" })
	return m
}

func expectStatus(t *testing.T, what string, resp *http.Response, body string, code int) {
	t.Helper()
	if resp.StatusCode != code {
		t.Fatalf("%s: %d, want %d: %.500s", what, resp.StatusCode, code, body)
	}
}

func expectNotice(t *testing.T, what string, resp *http.Response, body, path string) {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(location(resp), path+"?notice=") {
		t.Fatalf("%s: %d → %q, want 303 → %s?notice=…: %.300s", what, resp.StatusCode, location(resp), path, body)
	}
}

func expectBody(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Fatalf("%s lacks %s:\n%s", what, w, body)
		}
	}
}

var headingRe = regexp.MustCompile(`<h([1-6])[ >]`)

// checkHeadings asserts one h1 first and no skipped heading levels.
func checkHeadings(t *testing.T, what, body string) {
	t.Helper()
	prev := 0
	for i, m := range headingRe.FindAllStringSubmatch(body, -1) {
		l := int(m[1][0] - '0')
		if (i == 0 && l != 1) || (i > 0 && l == 1) || l > prev+1 {
			t.Fatalf("%s: heading h%d after h%d:\n%s", what, l, prev, body)
		}
		prev = l
	}
	if prev == 0 {
		t.Fatalf("%s: no headings", what)
	}
}

func livePosts(t *testing.T, tg *instance, g *store.Group) []store.Post {
	t.Helper()
	ps, err := tg.Store.ListPosts(context.Background(), g.ID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// An administrator creates a group and assigns an editor; the editor
// composes, previews, publishes, edits, pins, unpins and deletes in that
// group from the browser, and a Mastodon follower sees each change.
func TestStaffComposeFlow(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	ga := tg.group(t, "grupp-a", false)
	gb := tg.group(t, "grupp-b", false)
	tg.user(t, "admin", auth.RoleAdmin)
	ed := tg.user(t, "erik", auth.RoleEditor)
	m := followedBy(t, tg, "grupp-a")
	groupA := tg.Base + "/groups/grupp-a"

	// The administrator creates a group (a missing purpose is refused first).
	ab := newBrowser(t, tg)
	resp, body := ab.login("admin", testPassword)
	expectRedirect(t, resp, body, "/staff")
	_, body = ab.get("/staff")
	expectBody(t, "admin's /staff", body, `href="/staff/groups/new"`, `href="/staff/groups/grupp-a"`, `href="/staff/groups/grupp-b"`)
	resp, body = ab.get("/staff/groups/new")
	expectStatus(t, "new group form", resp, body, 200)
	checkHeadings(t, "new group form", body)
	expectBody(t, "new group form", body, `<label for="slug">`, `<label for="purpose">`, `<legend>`, `name="manual_approval"`)
	resp, body = ab.form("/staff/groups/new", "/staff/groups/new", url.Values{"slug": {"grupp-c"}, "name": {"Grupp C"}, "purpose": {" "}})
	expectStatus(t, "group without purpose", resp, body, http.StatusUnprocessableEntity)
	expectBody(t, "group without purpose", body, `role="alert"`, `aria-describedby="purpose-hint purpose-error"`, `id="purpose-error"`, `value="grupp-c"`)
	// Without owning unit and responsible staff it is refused too, each said.
	resp, body = ab.form("/staff/groups/new", "/staff/groups/new", url.Values{"slug": {"grupp-c"}, "name": {"Grupp C"}, "purpose": {"Något"},
		"owning_unit": {" "}})
	expectStatus(t, "group without owning unit", resp, body, http.StatusUnprocessableEntity)
	expectBody(t, "group without owning unit", body, `id="owning_unit-error"`, `id="responsible-error"`, `href="#owning_unit"`, `href="#responsible-first"`,
		`aria-describedby="owning_unit-hint owning_unit-error"`)
	if _, err := tg.Store.GroupBySlug(ctx, "grupp-c"); err == nil {
		t.Fatal("a group without owning unit and responsible staff was created")
	}
	resp, body = ab.form("/staff/groups/new", "/staff/groups/new", url.Values{"slug": {"grupp-a"}, "name": {"Dubblett"}, "purpose": {"Något"},
		"owning_unit": {"Enhet"}, "responsible": {"erik"}})
	expectStatus(t, "duplicate slug", resp, body, http.StatusUnprocessableEntity)
	expectBody(t, "duplicate slug", body, `id="slug-error"`)
	resp, body = ab.form("/staff/groups/new", "/staff/groups/new", url.Values{"slug": {"grupp-c"}, "name": {"Grupp C"},
		"purpose": {"Information om C"}, "website": {"https://c.example/"}, "language": {"en"}, "manual_approval": {"on"},
		"owning_unit": {"Enhet C"}, "responsible": {"admin"}, "field_name_0": {"Telefon"}, "field_value_0": {"08-508 000 00"}})
	expectNotice(t, "create group", resp, body, "/staff/groups/grupp-c")
	gc, err := tg.Store.GroupBySlug(ctx, "grupp-c")
	if err != nil || gc.Purpose != "Information om C" || gc.Language != "en" || !gc.ManualApproval || gc.WebsiteURL != "https://c.example/" ||
		gc.OwningUnit != "Enhet C" || !strings.Contains(gc.Fields, "08-508 000 00") {
		t.Fatalf("created group %+v %v", gc, err)
	}

	// … and makes erik editor of A (and of C, then not).
	for _, slug := range []string{"grupp-a", "grupp-c"} {
		resp, body = ab.form("/staff/groups/"+slug, "/staff/groups/"+slug+"/staff", url.Values{"user": {itoa(ed.ID)}, "role": {"editor"}})
		expectNotice(t, "assign "+slug, resp, body, "/staff/groups/"+slug)
	}
	_, body = ab.get("/staff/groups/grupp-c")
	checkHeadings(t, "group C staff page (admin)", body)
	expectBody(t, "group C staff", body, "<td>erik</td>", `action="/staff/groups/grupp-c/staff/`+itoa(ed.ID)+`/remove"`)
	resp, body = ab.form("/staff/groups/grupp-c", "/staff/groups/grupp-c/staff/"+itoa(ed.ID)+"/remove", nil)
	expectNotice(t, "unassign", resp, body, "/staff/groups/grupp-c")
	if r, _ := tg.Store.GroupRole(ctx, gc.ID, ed.ID); r != "" {
		t.Fatalf("erik still %q in C", r)
	}

	eb := newBrowser(t, tg)
	resp, body = eb.login("erik", testPassword)
	expectRedirect(t, resp, body, "/staff")
	_, body = eb.get("/staff")
	expectBody(t, "editor's /staff", body, `href="/staff/groups/grupp-a"`)
	if strings.Contains(body, `href="/staff/groups/grupp-b"`) || strings.Contains(body, `href="/staff/groups/new"`) {
		t.Fatalf("editor's /staff links group B or group creation:\n%s", body)
	}
	resp, body = eb.get("/staff/groups/grupp-a")
	expectStatus(t, "group A staff page", resp, body, 200)
	expectBody(t, "group A staff page", body, `href="/staff/groups/grupp-a/compose"`)
	if strings.Contains(body, "Personal i gruppen") {
		t.Fatal("an editor sees the staff assignment form")
	}

	// Compose: the form, a preview that publishes nothing, then errors.
	const compose = "/staff/groups/grupp-a/compose"
	resp, body = eb.get(compose)
	expectStatus(t, "compose form", resp, body, 200)
	expectBody(t, "compose form", body, `<label for="text">`, `<label for="summary">`, `<label for="language">`, `name="language" type="text" value="sv"`,
		`<legend>Inlägg</legend>`, `value="preview">Förhandsgranska</button>`, `value="publish">Publicera</button>`)
	checkHeadings(t, "compose form", body)
	resp, body = eb.form(compose, compose, url.Values{"text": {"# Rubrik\n\nHej **Älvsjö**! #parkering"}, "summary": {"trafik"}, "language": {"en"}, "action": {"preview"}})
	expectStatus(t, "preview", resp, body, 200)
	checkHeadings(t, "preview", body)
	expectBody(t, "preview", body, `<h2 id="preview-h">Förhandsgranskning</h2>`, `<article lang="en">`, `<strong>Älvsjö</strong>`,
		`<summary>trafik</summary>`, `<h3>Rubrik</h3>`, `>`+"# Rubrik\n\nHej **Älvsjö**! #parkering</textarea>")
	if ps := livePosts(t, tg, ga); len(ps) != 0 {
		t.Fatalf("preview created %d posts", len(ps))
	}
	resp, body = eb.form(compose, compose, url.Values{"text": {"  "}, "summary": {"behålls"}, "action": {"publish"}})
	expectStatus(t, "empty text", resp, body, http.StatusUnprocessableEntity)
	expectBody(t, "empty text", body, `role="alert"`, `href="#text"`, `aria-describedby="text-hint text-error"`, `aria-invalid="true"`, `value="behålls"`)
	resp, body = eb.form(compose, compose, url.Values{"text": {"Text"}, "language": {"inte ett språk"}, "action": {"publish"}})
	expectStatus(t, "bad language", resp, body, http.StatusUnprocessableEntity)
	expectBody(t, "bad language", body, `aria-describedby="language-hint language-error"`)
	if ps := livePosts(t, tg, ga); len(ps) != 0 {
		t.Fatalf("invalid forms created %d posts", len(ps))
	}

	// Publish.
	resp, body = eb.form(compose, compose, url.Values{"text": {"Hej **Älvsjö**! #parkering"}, "summary": {"trafik"}, "language": {"en"}, "action": {"publish"}})
	expectNotice(t, "publish", resp, body, "/staff/groups/grupp-a")
	ps := livePosts(t, tg, ga)
	if len(ps) != 1 || ps[0].AuthorUserID == nil || *ps[0].AuthorUserID != ed.ID || ps[0].Language != "en" {
		t.Fatalf("published posts %+v", ps)
	}
	postID := ps[0].PublicID
	postURL := groupA + "/posts/" + postID
	cr := m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Create" })
	if o := objectOf(cr); !cr.Verified || o["id"] != postURL || o["summary"] != "trafik" || !strings.Contains(o["content"].(string), "<strong>Älvsjö</strong>") {
		t.Fatalf("Create: verified=%v (%s) %v", cr.Verified, cr.VerifyErr, cr.Activity)
	}
	_, body = eb.get("/staff/groups/grupp-a")
	checkHeadings(t, "group A staff page", body)
	expectBody(t, "group A with a post", body, `href="/staff/posts/`+postID+`/edit"`, `action="/staff/posts/`+postID+`/pin"`, `href="/staff/posts/`+postID+`/delete"`)

	// A POST without the CSRF token changes nothing.
	resp, body = eb.post("/staff/posts/"+postID+"/pin", url.Values{})
	expectStatus(t, "pin without CSRF", resp, body, http.StatusForbidden)
	resp, body = eb.post(compose, url.Values{"text": {"utan token"}, "action": {"publish"}})
	expectStatus(t, "publish without CSRF", resp, body, http.StatusForbidden)

	// Edit.
	edit := "/staff/posts/" + postID + "/edit"
	resp, body = eb.get(edit)
	expectStatus(t, "edit form", resp, body, 200)
	expectBody(t, "edit form", body, `>Hej **Älvsjö**! #parkering</textarea>`, `value="en"`, `value="publish">Spara ändringar</button>`)
	resp, body = eb.form(edit, edit, url.Values{"text": {"Hej igen"}, "summary": {""}, "language": {"sv"}, "action": {"publish"}})
	expectNotice(t, "edit", resp, body, "/staff/groups/grupp-a")
	up := m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Update" })
	if o := objectOf(up); !up.Verified || o["id"] != postURL || !strings.Contains(o["content"].(string), "Hej igen") {
		t.Fatalf("Update: %v (%s)", up.Activity, up.VerifyErr)
	}

	// Pin: Add to the featured collection, which lists the note, and the
	// public page shows it as pinned.
	resp, body = eb.form("/staff/groups/grupp-a", "/staff/posts/"+postID+"/pin", nil)
	expectNotice(t, "pin", resp, body, "/staff/groups/grupp-a")
	add := m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Add" })
	if !add.Verified || add.Activity["object"] != postURL || add.Activity["target"] != groupA+"/featured" || add.Activity["actor"] != groupA {
		t.Fatalf("Add: verified=%v (%s) %v", add.Verified, add.VerifyErr, add.Activity)
	}
	featured := func() []any {
		code, _, body, err := m.SignedGet(ctx, "alice", groupA+"/featured")
		if err != nil || code != 200 {
			t.Fatalf("featured: %d %v", code, err)
		}
		var col map[string]any
		if err := json.Unmarshal(body, &col); err != nil {
			t.Fatal(err)
		}
		items, _ := col["orderedItems"].([]any)
		return items
	}
	if items := featured(); len(items) != 1 || items[0].(map[string]any)["id"] != postURL {
		t.Fatalf("featured after pin: %v", items)
	}
	_, body = newBrowser(t, tg).get("/groups/grupp-a")
	if i := strings.Index(body, `<h2 id="pinned-h">`); i < 0 || !strings.Contains(body[i:strings.Index(body, `<h2 id="posts-h">`)], "Hej igen") {
		t.Fatalf("public page lacks the pinned post:\n%s", body)
	}
	_, body = eb.get("/staff/groups/grupp-a")
	expectBody(t, "group A with a pinned post", body, `action="/staff/posts/`+postID+`/unpin"`)

	// Unpin: Remove.
	resp, body = eb.form("/staff/groups/grupp-a", "/staff/posts/"+postID+"/unpin", nil)
	expectNotice(t, "unpin", resp, body, "/staff/groups/grupp-a")
	rm := m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Remove" })
	if !rm.Verified || rm.Activity["object"] != postURL || rm.Activity["target"] != groupA+"/featured" {
		t.Fatalf("Remove: %v (%s)", rm.Activity, rm.VerifyErr)
	}
	if items := featured(); len(items) != 0 {
		t.Fatalf("featured after unpin: %v", items)
	}
	if _, body = newBrowser(t, tg).get("/groups/grupp-a"); strings.Contains(body, `id="pinned-h"`) {
		t.Fatal("public page still shows a pinned post")
	}

	// The editor cannot touch group B: pages, forms and its posts.
	_, bURL, err := tg.Fed.Publish(ctx, "grupp-b", federation.PostInput{Text: "B:s inlägg"})
	if err != nil {
		t.Fatal(err)
	}
	bID := bURL[strings.LastIndex(bURL, "/")+1:]
	tok := eb.csrf("/staff")
	for _, p := range []string{"/staff/groups/grupp-b", "/staff/groups/grupp-b/compose", "/staff/posts/" + bID + "/edit", "/staff/posts/" + bID + "/delete",
		"/staff/groups/grupp-c", "/staff/groups/new"} {
		resp, body := eb.get(p)
		expectStatus(t, "editor GET "+p, resp, body, http.StatusForbidden)
	}
	for p, form := range map[string]url.Values{
		"/staff/groups/grupp-b/compose":   {"text": {"intrång"}, "action": {"publish"}},
		"/staff/posts/" + bID + "/edit":   {"text": {"intrång"}, "action": {"publish"}},
		"/staff/posts/" + bID + "/delete": {},
		"/staff/posts/" + bID + "/pin":    {},
		"/staff/posts/" + bID + "/unpin":  {},
		"/staff/groups/grupp-b/staff":     {"user": {itoa(ed.ID)}, "role": {"editor"}},
		"/staff/groups/new":               {"slug": {"egen"}, "name": {"Egen"}, "purpose": {"Egen"}},
	} {
		form.Set("csrf", tok)
		resp, body := eb.post(p, form)
		expectStatus(t, "editor POST "+p, resp, body, http.StatusForbidden)
	}
	bp, err := tg.Store.PostByPublicID(ctx, bID)
	if err != nil || bp.Source != "B:s inlägg" || bp.DeletedAt != nil || bp.PinnedAt != nil || len(livePosts(t, tg, gb)) != 1 {
		t.Fatalf("group B changed: %+v %v", bp, err)
	}
	if _, err := tg.Store.GroupBySlug(ctx, "egen"); err == nil {
		t.Fatal("the editor created a group")
	}

	// Delete: a confirmation page first, then Delete and 410.
	del := "/staff/posts/" + postID + "/delete"
	resp, body = eb.get(del)
	expectStatus(t, "delete confirmation", resp, body, 200)
	checkHeadings(t, "delete confirmation", body)
	expectBody(t, "delete confirmation", body, `action="`+del+`"`, "Hej igen", "Ta bort inlägget</button>")
	if len(livePosts(t, tg, ga)) != 1 {
		t.Fatal("the confirmation page deleted the post")
	}
	resp, body = eb.form(del, del, nil)
	expectNotice(t, "delete", resp, body, "/staff/groups/grupp-a")
	dl := m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Delete" })
	if o := objectOf(dl); !dl.Verified || o["id"] != postURL || o["type"] != "Tombstone" {
		t.Fatalf("Delete: %v (%s)", dl.Activity, dl.VerifyErr)
	}
	if code, _, _, _ := m.SignedGet(ctx, "alice", postURL); code != http.StatusGone {
		t.Fatalf("deleted post: %d", code)
	}
	if resp, body := newBrowser(t, tg).get("/groups/grupp-a/posts/" + postID); resp.StatusCode != http.StatusGone {
		t.Fatalf("deleted post page: %d %.200s", resp.StatusCode, body)
	}
	if resp, body := eb.get(edit); resp.StatusCode != http.StatusGone {
		t.Fatalf("editing a deleted post: %d %.200s", resp.StatusCode, body)
	}

	got := tg.auditActions(t)
	for _, want := range []string{"group_create admin", "group_staff_assign admin", "group_staff_remove admin",
		"post_publish erik", "post_edit erik", "post_pin erik", "post_unpin erik", "post_delete erik"} {
		if got[want] == 0 {
			t.Fatalf("no audit row %q: %v", want, got)
		}
	}
	rows, err := tg.Store.ListAudit(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Action == "post_publish" && (r.Target != postURL || r.UserID == nil || *r.UserID != ed.ID) {
			t.Fatalf("post_publish audit row %+v", r)
		}
	}
}
