package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/torget/torget/internal/auth"
	"github.com/torget/torget/internal/fedtest"
	"github.com/torget/torget/internal/store"
)

// An administrator edits a group from the browser: the follower's server
// receives a signed Update of the Group actor, and the public page and the
// actor document show the change at once. Editors cannot edit groups.
func TestStaffEditGroup(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	g := tg.group(t, "grupp-a", false)
	tg.user(t, "admin", auth.RoleAdmin)
	ed := tg.user(t, "erik", auth.RoleEditor)
	if err := tg.Store.AssignGroupStaff(ctx, g.ID, ed.ID, store.RoleEditor); err != nil {
		t.Fatal(err)
	}
	m := followedBy(t, tg, "grupp-a")
	groupA := tg.Base + "/groups/grupp-a"
	actorDoc := func() map[string]any {
		t.Helper()
		code, _, body, err := m.SignedGet(ctx, "alice", groupA)
		if err != nil || code != 200 {
			t.Fatalf("actor: %d %v", code, err)
		}
		var a map[string]any
		if err := json.Unmarshal(body, &a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	// Fill the caches first: the edit must not wait for them to expire.
	before := actorDoc()
	if _, body := newBrowser(t, tg).get("/groups/grupp-a"); !strings.Contains(body, "Grupp grupp-a") {
		t.Fatalf("public page before the edit:\n%s", body)
	}

	ab := newBrowser(t, tg)
	resp, body := ab.login("admin", testPassword)
	expectRedirect(t, resp, body, "/staff")
	_, body = ab.get("/staff/groups/grupp-a")
	expectBody(t, "admin's group page", body, `href="/staff/groups/grupp-a/edit"`)
	const edit = "/staff/groups/grupp-a/edit"
	resp, body = ab.get(edit)
	expectStatus(t, "edit form", resp, body, 200)
	checkHeadings(t, "edit form", body)
	expectBody(t, "edit form", body, `action="/staff/groups/grupp-a/edit"`, `value="Grupp grupp-a"`, `>Testgrupp</textarea>`,
		`value="https://example.org/"`, `<label for="manual_approval">`, "@grupp-a@"+tg.Domain)
	if strings.Contains(body, `name="slug"`) {
		t.Fatal("the edit form offers to change the slug")
	}

	// Invalid edits change nothing.
	resp, body = ab.form(edit, edit, url.Values{"name": {"Nytt namn"}, "purpose": {"  "}, "language": {"sv"}})
	expectStatus(t, "edit without purpose", resp, body, http.StatusUnprocessableEntity)
	expectBody(t, "edit without purpose", body, `role="alert"`, `id="purpose-error"`, `aria-describedby="purpose-hint purpose-error"`, `value="Nytt namn"`)
	resp, body = ab.form(edit, edit, url.Values{"name": {"Nytt namn"}, "purpose": {"P"}, "website": {"ftp://x.example/"}, "language": {"inte ett språk"}})
	expectStatus(t, "edit with bad website and language", resp, body, http.StatusUnprocessableEntity)
	expectBody(t, "edit with bad website and language", body, `id="website-error"`, `id="language-error"`)
	if cur, _ := tg.Store.GroupBySlug(ctx, "grupp-a"); cur.Name != "Grupp grupp-a" {
		t.Fatalf("invalid edit stored: %+v", cur)
	}
	resp, body = ab.post(edit, url.Values{"name": {"Utan token"}, "purpose": {"P"}})
	expectStatus(t, "edit without CSRF", resp, body, http.StatusForbidden)

	// An editor of the group may publish in it but not edit it.
	eb := newBrowser(t, tg)
	resp, body = eb.login("erik", testPassword)
	expectRedirect(t, resp, body, "/staff")
	resp, body = eb.get("/staff/groups/grupp-a")
	expectStatus(t, "editor's group page", resp, body, 200)
	if strings.Contains(body, `href="/staff/groups/grupp-a/edit"`) {
		t.Fatal("an editor is offered the group edit page")
	}
	resp, body = eb.get(edit)
	expectStatus(t, "editor GET edit", resp, body, http.StatusForbidden)
	resp, body = eb.post(edit, url.Values{"csrf": {eb.csrf("/staff")}, "name": {"Kapad"}, "purpose": {"Kapad"}, "language": {"sv"}})
	expectStatus(t, "editor POST edit", resp, body, http.StatusForbidden)
	if cur, _ := tg.Store.GroupBySlug(ctx, "grupp-a"); cur.Name != "Grupp grupp-a" {
		t.Fatalf("editor changed the group: %+v", cur)
	}

	// The edit; a slug in the form is ignored.
	resp, body = ab.form(edit, edit, url.Values{"slug": {"annat"}, "name": {"Trafik i Älvsjö"}, "purpose": {"Trafikinformation för Älvsjö"},
		"summary": {"Vägarbeten & avstängningar"}, "website": {"https://alvsjo.example/"}, "language": {"en-GB"}, "manual_approval": {"on"},
		"owning_unit": {"Stadsdelsförvaltning Hägersten-Älvsjö"}, "responsible": {"erik"},
		"field_name_0": {"Trafikkontoret"}, "field_value_0": {"https://trafik.example/"}, "field_name_1": {"Telefon"}, "field_value_1": {"08-1 <2>"}})
	expectNotice(t, "edit", resp, body, "/staff/groups/grupp-a")
	cur, err := tg.Store.GroupBySlug(ctx, "grupp-a")
	if err != nil || cur.Name != "Trafik i Älvsjö" || cur.Purpose != "Trafikinformation för Älvsjö" || cur.Summary != "Vägarbeten & avstängningar" ||
		cur.WebsiteURL != "https://alvsjo.example/" || cur.Language != "en-GB" || !cur.ManualApproval ||
		cur.PrivateKeyPEM != g.PrivateKeyPEM || cur.PublicKeyPEM != g.PublicKeyPEM || cur.ID != g.ID {
		t.Fatalf("edited group %+v %v", cur, err)
	}
	if _, err := tg.Store.GroupBySlug(ctx, "annat"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the slug changed: %v", err)
	}

	up := m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Update" })
	o := objectOf(up)
	if !up.Verified || up.Activity["actor"] != groupA || o["id"] != groupA || o["type"] != "Group" || o["name"] != "Trafik i Älvsjö" ||
		o["manuallyApprovesFollowers"] != true || !strings.Contains(o["summary"].(string), "Vägarbeten &amp; avstängningar") {
		t.Fatalf("Update: verified=%v (%s) %v", up.Verified, up.VerifyErr, up.Activity)
	}
	if pk, _ := o["publicKey"].(map[string]any); pk == nil || pk["publicKeyPem"] != before["publicKey"].(map[string]any)["publicKeyPem"] {
		t.Fatalf("Update carries another key: %v", o["publicKey"])
	}
	if b, _ := json.Marshal(o["attachment"]); !strings.Contains(string(b), "https://alvsjo.example/") {
		t.Fatalf("Update lacks the website field: %s", b)
	}
	// Owning unit and profile fields are PropertyValue attachments; a URL
	// value is a rel="me" link, any other value is escaped text.
	fields := map[string]string{}
	for _, a := range o["attachment"].([]any) {
		pv := a.(map[string]any)
		if pv["type"] != "PropertyValue" {
			t.Fatalf("attachment %v", pv)
		}
		fields[pv["name"].(string)] = pv["value"].(string)
	}
	if fields["Tillhandahålls av"] != "Stadsdelsförvaltning Hägersten-Älvsjö" || fields["Telefon"] != "08-1 &lt;2&gt;" ||
		!strings.Contains(fields["Trafikkontoret"], `href="https://trafik.example/" rel="me`) || !strings.Contains(fields["Webbplats"], `rel="me`) {
		t.Fatalf("profile fields %v", fields)
	}
	if ms, _ := tg.Store.ListGroupStaff(ctx, g.ID); len(ms) == 0 || !anyResp(ms, "erik") || anyResp(ms, "ansvarig") {
		t.Fatalf("erik is not the one responsible: %+v", ms)
	}
	// The only responsible staff member cannot be removed from the group.
	_, body = ab.get("/staff/groups/grupp-a")
	expectBody(t, "staff page", body, "redaktör, ansvarig för gruppen")
	resp, body = ab.form("/staff/groups/grupp-a", "/staff/groups/grupp-a/staff/"+itoa(ed.ID)+"/remove", nil)
	expectStatus(t, "remove the only responsible", resp, body, http.StatusConflict)
	expectBody(t, "remove the only responsible", body, "enda ansvariga")
	if r, _ := tg.Store.GroupRole(ctx, g.ID, ed.ID); r != store.RoleEditor {
		t.Fatalf("erik's role after the refused removal: %q", r)
	}

	// At once, not after a cache expires.
	if a := actorDoc(); a["name"] != "Trafik i Älvsjö" || a["manuallyApprovesFollowers"] != true {
		t.Fatalf("actor after the edit: %v", a)
	}
	_, body = newBrowser(t, tg).get("/groups/grupp-a")
	expectBody(t, "public page after the edit", body, "Trafik i Älvsjö", "Trafikinformation för Älvsjö", "https://alvsjo.example/",
		"<dt>Tillhandahålls av</dt><dd>Stadsdelsförvaltning Hägersten-Älvsjö</dd>", `<a href="https://trafik.example/" rel="me">`,
		"<dt>Ansvariga</dt>", "redaktör")

	got := tg.auditActions(t)
	if got["group_edit admin"] != 1 || got["group_edit erik"] != 0 {
		t.Fatalf("audit: %v", got)
	}
	rows, err := tg.Store.ListAudit(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Action == "group_edit" && (r.Target != groupA || !strings.Contains(r.Detail, `name "Grupp grupp-a" → "Trafik i Älvsjö"`)) {
			t.Fatalf("group_edit audit row %+v", r)
		}
	}
}

// Staff who publish in a group with manual approval see its pending
// follows and approve or reject them from the browser; the follower's
// server receives Accept or Reject.
func TestStaffFollowQueue(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	g := tg.group(t, "grupp-m", true)
	ed := tg.user(t, "erik", auth.RoleEditor)
	tg.user(t, "olle", auth.RoleEditor)
	if err := tg.Store.AssignGroupStaff(ctx, g.ID, ed.ID, store.RoleEditor); err != nil {
		t.Fatal(err)
	}
	groupM := tg.Base + "/groups/grupp-m"
	m := fedtest.NewServer(t, fedtest.Options{Users: []string{"alice", "bob"}, RootCAs: tg.Pool})
	for _, u := range []string{"alice", "bob"} {
		if code, body, err := m.Send(ctx, u, groupM+"/inbox", m.Follow(u, groupM)); err != nil || code != http.StatusAccepted {
			t.Fatalf("Follow by %s: %d %s %v", u, code, body, err)
		}
	}
	waitUntil(t, 10*time.Second, "two pending follows", func() bool {
		n, err := tg.Store.CountFollowers(ctx, g.ID, store.FollowPending)
		return err == nil && n == 2
	})
	alice, bob := m.ActorID("alice"), m.ActorID("bob")

	eb := newBrowser(t, tg)
	resp, body := eb.login("erik", testPassword)
	expectRedirect(t, resp, body, "/staff")
	const page = "/staff/groups/grupp-m"
	resp, body = eb.get(page)
	expectStatus(t, "group page", resp, body, 200)
	checkHeadings(t, "group page with pending follows", body)
	expectBody(t, "group page", body, `<h2 id="pending-h">Väntande följare</h2>`, `<td><a href="`+alice+`"`, `<td><a href="`+bob+`"`,
		"<td>"+m.Host+"</td>", `action="/staff/groups/grupp-m/followers/approve"`, `action="/staff/groups/grupp-m/followers/reject"`,
		`name="actor" value="`+alice+`"`, "Gruppen har 0 följare.")

	// No CSRF token, or staff who may not publish in the group: nothing happens.
	resp, body = eb.post(page+"/followers/approve", url.Values{"actor": {alice}})
	expectStatus(t, "approve without CSRF", resp, body, http.StatusForbidden)
	ob := newBrowser(t, tg)
	resp, body = ob.login("olle", testPassword)
	expectRedirect(t, resp, body, "/staff")
	tok := ob.csrf("/staff")
	for _, action := range []string{"approve", "reject"} {
		resp, body = ob.post(page+"/followers/"+action, url.Values{"csrf": {tok}, "actor": {alice}})
		expectStatus(t, "unassigned editor "+action, resp, body, http.StatusForbidden)
	}
	if n, _ := tg.Store.CountFollowers(ctx, g.ID, store.FollowPending); n != 2 {
		t.Fatalf("%d pending after refused requests", n)
	}
	if m.Count(func(d fedtest.Delivery) bool { return d.Type == "Accept" || d.Type == "Reject" }) != 0 {
		t.Fatal("an answer was sent before any decision")
	}

	answerTo := func(typ, actor string) func(fedtest.Delivery) bool {
		return func(d fedtest.Delivery) bool {
			f, _ := d.Activity["object"].(map[string]any)
			return d.Type == typ && f != nil && f["actor"] == actor
		}
	}

	// Approve alice: Accept.
	resp, body = eb.form(page, page+"/followers/approve", url.Values{"actor": {alice}})
	expectNotice(t, "approve", resp, body, page)
	acc := m.WaitFor(t, 10*time.Second, answerTo("Accept", alice))
	if f := objectOf(acc); !acc.Verified || acc.Activity["actor"] != groupM || f["type"] != "Follow" || f["object"] != groupM {
		t.Fatalf("Accept: verified=%v (%s) %v", acc.Verified, acc.VerifyErr, acc.Activity)
	}
	if f, err := tg.Store.Follower(ctx, g.ID, alice); err != nil || f.State != store.FollowAccepted {
		t.Fatalf("alice after approval: %+v %v", f, err)
	}

	// Reject bob: Reject, and no follow left.
	resp, body = eb.form(page, page+"/followers/reject", url.Values{"actor": {bob}})
	expectNotice(t, "reject", resp, body, page)
	rej := m.WaitFor(t, 10*time.Second, answerTo("Reject", bob))
	if !rej.Verified || rej.Activity["actor"] != groupM {
		t.Fatalf("Reject: verified=%v (%s) %v", rej.Verified, rej.VerifyErr, rej.Activity)
	}
	if _, err := tg.Store.Follower(ctx, g.ID, bob); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("bob after rejection: %v", err)
	}
	if m.Count(answerTo("Accept", bob)) != 0 || m.Count(answerTo("Reject", alice)) != 0 {
		t.Fatal("an answer went to the wrong follower")
	}

	// Deciding again, or on an unknown actor, is refused.
	resp, body = eb.form(page, page+"/followers/approve", url.Values{"actor": {alice}})
	expectStatus(t, "approve an accepted follow", resp, body, http.StatusConflict)
	resp, body = eb.form(page, page+"/followers/reject", url.Values{"actor": {"https://elsewhere.example/users/x"}})
	expectStatus(t, "reject an unknown actor", resp, body, http.StatusConflict)
	if f, err := tg.Store.Follower(ctx, g.ID, alice); err != nil || f.State != store.FollowAccepted {
		t.Fatalf("alice after a second decision: %+v %v", f, err)
	}

	_, body = eb.get(page)
	checkHeadings(t, "group page after the decisions", body)
	expectBody(t, "group page after the decisions", body, "Inga följförfrågningar väntar.", "Gruppen har 1 följare.",
		"<tr><td>"+m.Host+"</td><td>1</td></tr>")

	got := tg.auditActions(t)
	if got["follow_approve erik"] != 1 || got["follow_reject erik"] != 1 || got["follow_approve olle"] != 0 {
		t.Fatalf("audit: %v", got)
	}
	rows, err := tg.Store.ListAudit(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if (r.Action == "follow_approve" && r.Target != alice) || (r.Action == "follow_reject" && r.Target != bob) {
			t.Fatalf("audit row %+v", r)
		}
	}
}

func anyResp(ms []store.GroupStaffMember, name string) bool {
	for _, m := range ms {
		if m.Username == name && m.Responsible {
			return true
		}
	}
	return false
}
