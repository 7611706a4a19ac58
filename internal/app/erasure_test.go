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
	"github.com/torget/torget/internal/decisions"
	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/fedtest"
	"github.com/torget/torget/internal/privacy"
	"github.com/torget/torget/internal/store"
)

// PRV-5, PRV-7: an administrator registers an erasure request in the
// staff UI and decides "remove from public view": the person's replies and
// likes leave the public pages, collections and counts, the Announce URLs
// answer 410, the follower that received the Announce gets the signed
// Undo{Announce} and Announce{Delete}, the person gets the answer naming
// the legal ground as a direct message, and the record still holds the
// items and verifies. Later replies from the account stay out of view.
// "Pseudonymise" shows "Invånare xxxx" on the page and in the moderation
// log instead of the handle; a refusal is recorded and answered.
func TestErasureRequests(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	tg.group(t, "oppen", false)
	if err := tg.Fed.SetDiscussionMode(ctx, "oppen", store.ModeOpen); err != nil {
		t.Fatal(err)
	}
	groupID := tg.Base + "/groups/oppen"
	a := fedtest.NewServer(t, fedtest.Options{Users: []string{"anna"}, RootCAs: tg.Pool, RequireSignedFetch: true})
	b := fedtest.NewServer(t, fedtest.Options{Users: []string{"bertil", "cilla"}, RootCAs: tg.Pool, RequireSignedFetch: true})
	follow(t, tg, a, "anna", groupID)
	_, postURL, err := tg.Fed.Publish(ctx, "oppen", federation.PostInput{Text: "Öppet möte på torsdag"})
	if err != nil {
		t.Fatal(err)
	}
	const bertilText, cillaText = "Bertils synpunkt om mötet", "Cillas fråga om lokalen"
	bn := b.Note("bertil", "b1", postURL, "<p>"+bertilText+"</p>", groupID)
	deliver(t, tg, b, "bertil", groupID+"/inbox", b.Wrap("Create", "bertil", bn))
	cn := b.Note("cilla", "c1", postURL, "<p>"+cillaText+"</p>", groupID)
	deliver(t, tg, b, "cilla", groupID+"/inbox", b.Wrap("Create", "cilla", cn))
	like := map[string]any{"@context": fedtest.ContextAS, "id": b.URL + "/likes/1", "type": "Like", "actor": b.ActorID("bertil"), "object": postURL}
	deliver(t, tg, b, "bertil", groupID+"/inbox", like)
	a.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Announce" && d.Activity["object"] == bn["id"] })
	a.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Announce" && d.Activity["object"] == cn["id"] })
	note, err := tg.Store.RemoteNoteByIRI(ctx, bn["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	anns, _ := tg.Store.NoteAnnounces(ctx, note.ID)
	if len(anns) != 2 {
		t.Fatalf("announces of bertil's reply: %d", len(anns))
	}
	c := newClient(t, tg)
	if code, _, _ := c.get(anns[0].ActivityIRI, "application/activity+json"); code != 200 {
		t.Fatalf("Announce before erasure: %d", code)
	}
	if counts, _ := tg.Store.CountReactions(ctx, []string{postURL}); counts[postURL].Likes != 1 {
		t.Fatalf("likes before erasure %+v", counts)
	}
	// A moderator's warning to cilla puts her in the public log.
	mod, _ := moderators(t, tg)
	cnote, _ := tg.Store.RemoteNoteByIRI(ctx, cn["id"].(string))
	if _, err := tg.Moderation.Decide(ctx, mod, decisions.Input{Action: decisions.Warn, NoteID: cnote.ID, RuleID: "olaga-hot", Reason: "Ton"}); err != nil {
		t.Fatal(err)
	}

	// The administrator registers bertil's request and sees what is held.
	tg.user(t, "admin", auth.RoleAdmin)
	br := newBrowser(t, tg)
	resp, body := br.login("admin", testPassword)
	expectRedirect(t, resp, body, "/staff")
	resp, body = br.get("/staff/privacy/erasure")
	expectStatus(t, "erasure list", resp, body, 200)
	checkHeadings(t, "erasure list", body)
	expectBody(t, "erasure list", body, `<label for="account">`, `<label for="text">`, `<label for="contact">`)
	resp, body = br.form("/staff/privacy/erasure", "/staff/privacy/erasure", url.Values{"account": {"@nobody@" + b.Host}, "text": {"Radera mig"}})
	expectStatus(t, "unknown account", resp, body, http.StatusUnprocessableEntity)
	expectBody(t, "unknown account", body, `role="alert"`)
	resp, body = br.form("/staff/privacy/erasure", "/staff/privacy/erasure", url.Values{"account": {"@bertil@" + b.Host},
		"text": {"Jag vill att mina inlägg raderas."}, "contact": {"bertil@example.se"}})
	rs, _ := tg.Store.ListErasureRequests(ctx)
	if len(rs) != 1 || rs[0].SubjectIRI != b.ActorID("bertil") || rs[0].Status != store.ErasureOpen {
		t.Fatalf("registered requests %+v", rs)
	}
	page := "/staff/privacy/erasure/" + itoa(rs[0].ID)
	expectNotice(t, "register", resp, body, page)
	resp, body = br.get(page)
	expectStatus(t, "request page", resp, body, 200)
	checkHeadings(t, "request page", body)
	expectBody(t, "request page", body, "Inlägg i samtal: 1", "Reaktioner: 1", "<legend>", `<label for="ground">`, `<label for="reasons">`,
		`<label for="action-remove">`, "GDPR art. 17.3 b")
	// A decision without a ground is refused and changes nothing.
	resp, body = br.form(page, page+"/decide", url.Values{"action": {"remove"}, "reasons": {"Inget"}})
	expectStatus(t, "no ground", resp, body, http.StatusUnprocessableEntity)
	expectBody(t, "no ground", body, `role="alert"`)
	if r, _ := tg.Store.ErasureRequestByID(ctx, rs[0].ID); r.Status != store.ErasureOpen {
		t.Fatalf("refused decision changed the request: %+v", r)
	}
	resp, body = br.form(page, page+"/decide", url.Values{"action": {"remove"}, "ground": {"gdpr-17-1"},
		"reasons": {"Inläggen behöver inte visas offentligt för att gruppen ska kunna följa upp mötet."}})
	expectNotice(t, "decide", resp, body, page)

	// The follower that received the Announces gets the retractions, signed.
	for _, an := range anns {
		an := an
		a.WaitFor(t, 10*time.Second, func(dl fedtest.Delivery) bool {
			o := objectOf(dl)
			return dl.Type == "Undo" && dl.Verified && o != nil && o["id"] == an.ActivityIRI && o["type"] == "Announce"
		})
	}
	a.WaitFor(t, 10*time.Second, func(dl fedtest.Delivery) bool {
		o := objectOf(dl)
		return dl.Type == "Announce" && dl.Verified && o != nil && o["type"] == "Delete" && o["object"] == bn["id"]
	})
	// bertil gets the answer, direct, naming the legal ground.
	dm := b.WaitFor(t, 10*time.Second, func(dl fedtest.Delivery) bool {
		o := objectOf(dl)
		return dl.Type == "Create" && dl.Verified && o != nil && strings.Contains(o["content"].(string), "GDPR art. 17.1") &&
			strings.Contains(strs(o["to"])[0], "/users/bertil")
	})
	content := objectOf(dm)["content"].(string)
	for _, w := range []string{"allmän visning", "arkivlagen", "kan inte garantera", "Integritetsskyddsmyndigheten"} {
		if !strings.Contains(content, w) {
			t.Errorf("answer lacks %q: %s", w, content)
		}
	}
	if cc := strs(objectOf(dm)["cc"]); len(cc) != 0 || strings.Contains(string(dm.Body), fedtest.Public) {
		t.Errorf("the answer is not direct: %s", dm.Body)
	}
	// Nothing of bertil is public: page, collections, counts, Announce URLs.
	body = getBody(t, tg, postURL)
	if strings.Contains(body, bertilText) || strings.Contains(body, "bertil") || !strings.Contains(body, cillaText) {
		t.Fatalf("post page after removal:\n%s", body)
	}
	for _, u := range []string{postURL + "/replies", postURL + "/context"} {
		if code, _, js := c.get(u, "application/activity+json"); code != 200 || strings.Contains(js, "/objects/b1") || !strings.Contains(js, "/objects/c1") {
			t.Fatalf("%s after removal: %d %s", u, code, js)
		}
	}
	if counts, _ := tg.Store.CountReactions(ctx, []string{postURL}); counts[postURL].Likes != 0 {
		t.Fatalf("likes after removal %+v", counts)
	}
	for _, an := range anns {
		if code, _, js := c.get(an.ActivityIRI, "application/activity+json"); code != http.StatusGone || !strings.Contains(js, "Tombstone") {
			t.Fatalf("Announce %s after removal: %d %s", an.ActivityIRI, code, js)
		}
	}
	// The row and the record are kept; the record verifies.
	kept, err := tg.Store.RemoteNoteByIRI(ctx, bn["id"].(string))
	if err != nil || kept.State != store.NoteErased || !strings.Contains(kept.ContentHTML, bertilText) {
		t.Fatalf("erased note not kept: %+v %v", kept, err)
	}
	if recs, err := tg.Store.SearchRecord(ctx, store.RecordQuery{Kind: store.KindInbound, Text: bertilText}); err != nil || len(recs) == 0 {
		t.Fatalf("record of bertil's reply: %d %v", len(recs), err)
	}
	recs, err := tg.Store.SearchRecord(ctx, store.RecordQuery{Kind: store.KindErasure})
	if err != nil || len(recs) != 2 {
		t.Fatalf("erasure record entries %d %v", len(recs), err)
	}
	if !strings.Contains(recs[0].Payload, `"gdpr-17-1"`) || !strings.Contains(recs[0].Payload, "inte garantera") || recs[0].Category != "privacy.erasure.removed" {
		t.Fatalf("decision record %s %s", recs[0].Category, recs[0].Payload)
	}
	if r, err := tg.Store.VerifyChain(ctx); err != nil || !r.OK {
		t.Fatalf("record chain %+v %v", r, err)
	}
	if n := tg.auditActions(t); n["erasure_remove admin"] != 1 || n["erasure_request admin"] != 1 {
		t.Fatalf("audit %v", n)
	}
	// The answer is on the page and downloadable.
	resp, body = br.get(page)
	expectBody(t, "decided page", body, "GDPR art. 17.1", "borttagen från allmän visning", "/answer")
	resp, body = br.get(page + "/answer")
	expectStatus(t, "answer download", resp, body, 200)
	if !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") || !strings.Contains(body, "GDPR art. 17.1") {
		t.Fatalf("answer download %v %s", resp.Header, body)
	}
	// A decided request cannot be decided again.
	resp, body = br.form(page, page+"/decide", url.Values{"action": {"refuse"}, "ground": {"gdpr-17-3-b"}, "reasons": {"Ändrar mig"}})
	expectStatus(t, "second decision", resp, body, http.StatusUnprocessableEntity)
	// Later: bertil replies again; it is kept and stays out of view.
	later := b.Note("bertil", "b2", postURL, "<p>Ett nytt svar från Bertil</p>", groupID)
	deliver(t, tg, b, "bertil", groupID+"/inbox", b.Wrap("Create", "bertil", later))
	if n, err := tg.Store.RemoteNoteByIRI(ctx, later["id"].(string)); err != nil || n.State != store.NoteErased || n.AnnouncedAt != nil {
		t.Fatalf("later reply of an erased account: %+v %v", n, err)
	}
	if strings.Contains(getBody(t, tg, postURL), "Ett nytt svar") {
		t.Fatal("later reply of an erased account shown")
	}

	// Pseudonymise cilla: her reply stays, under "Invånare xxxx".
	staff := privacy.Staff{ID: 0, Name: "dpo"}
	cr, err := tg.Erasure.Register(ctx, staff, b.ActorID("cilla"), "", "Visa inte mitt namn.")
	if err != nil {
		t.Fatal(err)
	}
	cr, err = tg.Erasure.Decide(ctx, staff, cr.ID, privacy.Pseudonymise, "gdpr-21", "Svaret behövs i tråden men inte ditt namn.")
	if err != nil || cr.Status != store.ErasurePseudonymised || len(cr.Pseudonym) != 4 {
		t.Fatalf("pseudonymise %+v %v", cr, err)
	}
	pseudonym := "Invånare " + cr.Pseudonym
	body = getBody(t, tg, postURL)
	if !strings.Contains(body, cillaText) || !strings.Contains(body, pseudonym) || strings.Contains(body, "cilla") {
		t.Fatalf("post page after pseudonymisation:\n%s", body)
	}
	for _, u := range []string{"/moderation", "/moderation.json", "/groups/oppen/moderation"} {
		code, _, lb := c.get(tg.Base+u, "text/html")
		if code != 200 || !strings.Contains(lb, pseudonym) || strings.Contains(lb, "@c…@") || strings.Contains(lb, "cilla") {
			t.Fatalf("%s after pseudonymisation: %d\n%s", u, code, lb)
		}
	}
	if _, _, js := c.get(postURL+"/replies", "application/activity+json"); strings.Contains(js, "/objects/c1") {
		t.Fatalf("replies collection names cilla's note: %s", js)
	}
	var logJSON struct{ Entries []struct{ Author string } }
	_, _, lj := c.get(tg.Base+"/moderation.json", "application/json")
	if err := json.Unmarshal([]byte(lj), &logJSON); err != nil || len(logJSON.Entries) == 0 || logJSON.Entries[0].Author != pseudonym {
		t.Fatalf("moderation log JSON %s %v", lj, err)
	}
	b.WaitFor(t, 10*time.Second, func(dl fedtest.Delivery) bool {
		o := objectOf(dl)
		return dl.Type == "Create" && o != nil && strings.Contains(o["content"].(string), pseudonym) && strings.Contains(strs(o["to"])[0], "/users/cilla")
	})

	// Refuse anna's request: recorded, and she is answered through the
	// group she follows.
	ar, err := tg.Erasure.Register(ctx, staff, "@anna@"+a.Host, "anna@example.se", "Radera allt om mig.")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Erasure.Decide(ctx, staff, ar.ID, "forget", "gdpr-17-3-b", "x"); !errors.Is(err, privacy.ErrInvalid) {
		t.Fatalf("unknown action: %v", err)
	}
	ar, err = tg.Erasure.Decide(ctx, staff, ar.ID, privacy.Refuse, "tf-arkivlagen", "Du har bara följt gruppen; uppgiften behövs för att leverera inlägg.")
	if err != nil || ar.Status != store.ErasureRefused || ar.Pseudonym != "" {
		t.Fatalf("refuse %+v %v", ar, err)
	}
	a.WaitFor(t, 10*time.Second, func(dl fedtest.Delivery) bool {
		o := objectOf(dl)
		return dl.Type == "Create" && o != nil && strings.Contains(o["content"].(string), "att inte bifalla") && strings.Contains(o["content"].(string), "TF 2 kap.")
	})
	refusals := 0
	recs, _ = tg.Store.SearchRecord(ctx, store.RecordQuery{Kind: store.KindErasure})
	for _, r := range recs {
		if r.Category == "privacy.erasure.refused" && r.ObjectIRI == a.ActorID("anna") && strings.Contains(r.Payload, "tf-arkivlagen") {
			refusals++
		}
	}
	if refusals != 1 {
		t.Fatalf("refusal records: %d", refusals)
	}
	// Editors have no access.
	tg.user(t, "erik", auth.RoleEditor)
	eb := newBrowser(t, tg)
	eb.login("erik", testPassword)
	resp, body = eb.get("/staff/privacy/erasure")
	expectStatus(t, "editor", resp, body, http.StatusForbidden)
}
