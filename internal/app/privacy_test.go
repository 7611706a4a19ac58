package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/torget/torget/internal/auth"
	"github.com/torget/torget/internal/config"
	"github.com/torget/torget/internal/fedtest"
	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/subject"
)

// The access export for one remote account contains every item held from
// that account (actor, follows, received activities, cases with notes)
// and nothing from others.
func TestSubjectAccessExport(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	g := tg.group(t, "sodermalm", false)
	tg.group(t, "parker", false)
	admin := tg.user(t, "admin", auth.RoleAdmin)
	m := fedtest.NewServer(t, fedtest.Options{Users: []string{"alice", "bob"}, RootCAs: tg.Pool})
	groupIRI := tg.Base + "/groups/sodermalm"
	handle := "sodermalm@" + tg.Domain
	for _, u := range []string{"alice", "bob"} {
		for _, slug := range []string{"sodermalm", "parker"} {
			if code, body, err := m.Send(ctx, u, tg.Base+"/groups/"+slug+"/inbox", m.Follow(u, tg.Base+"/groups/"+slug)); err != nil || code != http.StatusAccepted {
				t.Fatalf("Follow: %d %s %v", code, body, err)
			}
		}
	}
	dm, _ := residentNote(t, m, "alice", groupIRI, handle, "Hur bokar jag lokalen?", true, 1)
	sendNote(t, m, "alice", groupIRI+"/inbox", dm)
	bobs, _ := residentNote(t, m, "bob", groupIRI, handle, "Varför är parken stängd?", false, 2)
	sendNote(t, m, "bob", tg.Base+"/inbox", bobs)
	waitUntil(t, 10*time.Second, "applied", func() bool {
		c, err := tg.Store.InboxCounts(ctx)
		return err == nil && c[store.InboxPending] == 0 && len(casesOf(t, tg, store.CaseFilter{})) == 2
	})
	aliceIRI, bobIRI := m.ActorID("alice"), m.ActorID("bob")
	for _, c := range casesOf(t, tg, store.CaseFilter{}) {
		if _, err := tg.Cases.AddNote(ctx, c.ID, admin, "Anteckning om "+c.AuthorHandle); err != nil {
			t.Fatal(err)
		}
	}

	// By handle, through the admin UI.
	b := newBrowser(t, tg)
	resp, body := b.login("admin", testPassword)
	expectRedirect(t, resp, body, "/staff")
	resp, body = b.get("/staff/privacy/export")
	expectStatus(t, "export form", resp, body, 200)
	checkHeadings(t, "export form", body)
	resp, body = b.get("/staff/privacy/export?account=" + url.QueryEscape("@alice@"+m.Host))
	expectStatus(t, "export", resp, body, 200)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export headers %v", resp.Header)
	}
	var x subject.Export
	if err := json.Unmarshal([]byte(body), &x); err != nil {
		t.Fatal(err)
	}
	if x.Subject != aliceIRI || x.Actor == nil || x.Actor.IRI != aliceIRI || x.Actor.PreferredUsername != "alice" {
		t.Fatalf("export subject/actor %+v", x.Actor)
	}
	// Every item from alice …
	items, err := tg.Store.InboxItemsByActor(ctx, aliceIRI)
	if err != nil || len(items) != 3 { // two Follows and a Create
		t.Fatalf("alice's inbox items %d %v", len(items), err)
	}
	if len(x.Received) != len(items) {
		t.Fatalf("export has %d received activities, want %d", len(x.Received), len(items))
	}
	for i, it := range items {
		if x.Received[i].ActivityIRI != *it.ActivityIRI || x.Received[i].Raw != it.Raw {
			t.Fatalf("received[%d] = %+v, want %s", i, x.Received[i], *it.ActivityIRI)
		}
	}
	if len(x.Follows) != 2 || len(x.Cases) != 1 || x.Cases[0].Text != "Hur bokar jag lokalen?" || len(x.Cases[0].Notes) != 1 ||
		x.Cases[0].Notes[0].Author != "admin" || x.Cases[0].Group != g.Slug {
		t.Fatalf("export follows %+v cases %+v", x.Follows, x.Cases)
	}
	// bob's public question is in the group's conversation; alice's DM is not.
	if len(x.Notes) != 0 {
		t.Fatalf("alice's export has conversation notes %+v", x.Notes)
	}
	// … and nothing from bob.
	if strings.Contains(body, bobIRI) || strings.Contains(body, "Varför är parken stängd") || strings.Contains(body, "@bob@") {
		t.Fatalf("alice's export mentions bob:\n%s", body)
	}
	if n := tg.auditActions(t); n["subject_export admin"] != 1 {
		t.Fatalf("audit %v", n)
	}
	// By IRI, directly; an unknown account is not found.
	xb, err := subject.Build(ctx, tg.Store, bobIRI, "x")
	if err != nil || len(xb.Received) != 3 || len(xb.Cases) != 1 || len(xb.Notes) != 1 || !strings.Contains(xb.Notes[0].ContentHTML, "Varför är parken stängd?") {
		t.Fatalf("bob's export %+v %v", xb, err)
	}
	if raw, _ := json.Marshal(xb); bytes.Contains(raw, []byte(aliceIRI)) {
		t.Fatalf("bob's export mentions alice: %s", raw)
	}
	resp, body = b.get("/staff/privacy/export?account=" + url.QueryEscape("@carol@"+m.Host))
	expectStatus(t, "unknown account", resp, body, http.StatusNotFound)
	// Editors may not export.
	tg.user(t, "erik", auth.RoleEditor)
	eb := newBrowser(t, tg)
	eb.login("erik", testPassword)
	resp, body = eb.get("/staff/privacy/export?account=" + url.QueryEscape(aliceIRI))
	expectStatus(t, "editor export", resp, body, http.StatusForbidden)
}

// The public pages: the accessibility statement with every Digg field,
// linked from every page's footer; the privacy notice from the
// configuration, linked from group pages; the register of official groups
// (HTML and JSON); the group page's provider and contact information; the
// feedback form, which needs no sign-in, refuses cross-site posts, becomes
// a case and is rate-limited.
func TestPublicPagesAndFeedback(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t, func(c *config.Config) {
		c.Access.Gaps = []string{"Kartan saknar textalternativ, åtgärdas 2027."}
		c.Privacy.DPO = "Dataskyddsombud Stina, dso@stad.example"
		c.Cases.FeedbackPerHour = 2
	})
	g := tg.group(t, "sodermalm", false)
	if err := tg.Store.SaveGroupContact(ctx, &store.GroupContact{GroupID: g.ID, StaffedHours: "Vardagar 8–17",
		ResponseTime: "Inom en arbetsdag", Channels: "Telefon: 08-508 000 00\nE-tjänst: https://stad.example/kontakt"}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, tg)
	resp, body := b.get("/tillganglighet")
	expectStatus(t, "statement", resp, body, 200)
	checkHeadings(t, "statement", body)
	c := tg.Config.Access
	expectBody(t, "statement", body, tg.Config.Instance.Organisation, tg.Config.Instance.Name, "<strong>"+c.Status+"</strong>",
		"Kartan saknar textalternativ, åtgärdas 2027.", c.AssessedOn, c.UpdatedOn, c.Method, c.Exceptions, c.OutOfScope,
		`href="`+c.SupervisorURL+`"`, `href="/tillganglighet/feedback"`, "12 §", "9 §")
	resp, body2 := b.get("/about/accessibility") // the same statement, until an administrator writes their own
	expectStatus(t, "/about/accessibility", resp, body2, 200)
	expectBody(t, "/about/accessibility", body2, c.Method, c.SupervisorURL)
	resp, body = b.get("/about/privacy")
	expectStatus(t, "privacy", resp, body, 200)
	checkHeadings(t, "privacy", body)
	p := tg.Config.Privacy
	expectBody(t, "privacy", body, p.Controller, "Dataskyddsombud Stina, dso@stad.example", p.Purposes, p.LegalBasis, p.Recipients,
		p.Retention, p.Rights, p.Complaint, p.Transfers, "gallringsbeslut")
	resp, body = b.get("/groups/sodermalm")
	expectStatus(t, "group page", resp, body, 200)
	checkHeadings(t, "group page", body)
	expectBody(t, "group page", body, "Ansvarig organisation", tg.Config.Instance.Organisation, "Så blir inlägg synliga", "Vardagar 8–17",
		"Inom en arbetsdag", "Telefon: 08-508 000 00", `href="/about/privacy"`)
	for _, path := range []string{"/", "/about", "/groups/sodermalm", "/tillganglighet", "/tillganglighet/feedback", "/official-groups", "/about/privacy", "/login"} {
		_, body := b.get(path)
		expectBody(t, path+" footer", body, `<footer>`, `href="/tillganglighet"`, `href="/about/privacy"`, `href="/official-groups"`)
	}

	// The register, as HTML and JSON.
	resp, body = b.get("/official-groups")
	expectStatus(t, "register", resp, body, 200)
	checkHeadings(t, "register", body)
	expectBody(t, "register", body, "Grupp sodermalm", "Testgrupp", "aktiv", `href="/official-groups.json"`)
	resp, body = b.get("/official-groups.json")
	expectStatus(t, "register json", resp, body, 200)
	var reg struct {
		Provider string
		Groups   []map[string]any
	}
	if err := json.Unmarshal([]byte(body), &reg); err != nil || reg.Provider != tg.Config.Instance.Organisation || len(reg.Groups) != 1 {
		t.Fatalf("register json %s %v", body, err)
	}
	for _, k := range []string{"owning_unit", "purpose", "responsible_function", "status", "start_date"} {
		if v, ok := reg.Groups[0][k].(string); !ok || v == "" {
			t.Fatalf("register entry lacks %s: %v", k, reg.Groups[0])
		}
	}
	if reg.Groups[0]["status"] != "active" || reg.Groups[0]["purpose"] != "Testgrupp" {
		t.Fatalf("register entry %v", reg.Groups[0])
	}
	tg.Clock.Advance(31 * 24 * time.Hour)
	_, body = b.get("/official-groups.json")
	tg.Clock.Advance(-31 * 24 * time.Hour)
	if !strings.Contains(body, `"status":"dormant"`) {
		t.Fatalf("a group silent for 31 days is not dormant: %s", body)
	}

	// The feedback form: anonymous, CSRF-checked, a case, rate-limited.
	resp, body = b.get("/tillganglighet/feedback")
	expectStatus(t, "feedback form", resp, body, 200)
	checkHeadings(t, "feedback form", body)
	expectBody(t, "feedback form", body, `<label for="text">`, `<legend>`, `<label for="contact">`)
	resp, body = b.post("/tillganglighet/feedback", url.Values{"kind": {"problem"}, "text": {"Utan token"}})
	expectStatus(t, "feedback without token", resp, body, http.StatusForbidden)
	resp, body = b.form("/tillganglighet/feedback", "/tillganglighet/feedback", url.Values{"kind": {"problem"}, "text": {" "}})
	expectStatus(t, "empty feedback", resp, body, http.StatusUnprocessableEntity)
	expectBody(t, "empty feedback", body, `role="alert"`, `id="text-error"`, `aria-invalid="true"`)
	resp, body = b.form("/tillganglighet/feedback", "/tillganglighet/feedback", url.Values{"kind": {"request"},
		"text": {"Jag behöver protokollet som ljudfil."}, "contact": {"anna@example.se"}, "page": {"/groups/sodermalm"}})
	expectRedirect(t, resp, body, "/tillganglighet/feedback?sent=1")
	cs := casesOf(t, tg, store.CaseFilter{})
	if len(cs) != 1 || cs[0].Kind != store.CaseKindFeedback || cs[0].GroupID != nil || cs[0].RequesterContact != "anna@example.se" ||
		!strings.Contains(cs[0].Text, "Begäran om tillgängligt format: Jag behöver protokollet som ljudfil.") || !cs[0].DueAt.After(cs[0].ReceivedAt) {
		t.Fatalf("feedback case %+v", cs)
	}
	_, body = b.get("/tillganglighet/feedback?sent=1")
	expectBody(t, "feedback sent", body, `role="status"`)
	resp, body = b.form("/tillganglighet/feedback", "/tillganglighet/feedback", url.Values{"kind": {"problem"}, "text": {"Två"}})
	expectRedirect(t, resp, body, "/tillganglighet/feedback?sent=1")
	resp, body = b.form("/tillganglighet/feedback", "/tillganglighet/feedback", url.Values{"kind": {"problem"}, "text": {"Tre"}})
	expectStatus(t, "third feedback in an hour", resp, body, http.StatusTooManyRequests)
	if n := len(casesOf(t, tg, store.CaseFilter{})); n != 2 {
		t.Fatalf("%d cases after the limit, want 2", n)
	}

	// The metrics match the database.
	_, metrics := b.get("/metrics")
	expectBody(t, "metrics", metrics, "torget_cases_open 2", "torget_cases_overdue 0")

	// Staff answer it: administrators only (no group), recorded as answered.
	tg.user(t, "admin", auth.RoleAdmin)
	ab := newBrowser(t, tg)
	ab.login("admin", testPassword)
	_, body = ab.get("/staff/cases?group=feedback")
	expectBody(t, "feedback cases", body, "Tillgänglighetsformuläret", "anna@example.se")
	page := "/staff/cases/" + strconv.FormatInt(cs[0].ID, 10)
	resp, body = ab.form(page, page+"/answer", url.Values{"text": {"Ljudfilen är skickad till dig."}})
	expectNotice(t, "answer feedback", resp, body, page)
	if got, _ := tg.Store.CaseByID(ctx, cs[0].ID); got.Status != store.CaseAnswered || got.AnswerText != "Ljudfilen är skickad till dig." {
		t.Fatalf("feedback case after answer %+v", got)
	}
}

// Supervision: with no queue review for longer than the limit the
// dashboard warns; a moderator's review resets it (LIV-2). A group with
// no post for longer than stale_days is stale (LIV-1).
func TestDashboardSupervisionAndStaleness(t *testing.T) {
	tg := startInstance(t)
	tg.group(t, "sodermalm", false)
	tg.user(t, "mod", auth.RoleModerator)
	tg.Clock.Advance(8 * 24 * time.Hour)
	b := newBrowser(t, tg)
	resp, body := b.login("mod", testPassword)
	expectRedirect(t, resp, body, "/staff")
	_, body = b.get("/staff/dashboard")
	expectBody(t, "dashboard", body, "Ingen moderator har granskat kön för Grupp sodermalm på mer än 7 dagar.", "tillsyn saknas")
	if strings.Contains(body, `<strong class="warning">vilande</strong>`) {
		t.Fatalf("stale after 8 days:\n%s", body)
	}
	resp, body = b.form("/staff/dashboard", "/staff/queue/reviewed", url.Values{})
	expectNotice(t, "review", resp, body, "/staff/dashboard")
	_, body = b.get("/staff/dashboard")
	if strings.Contains(body, "tillsyn saknas") || strings.Contains(body, "Ingen moderator har granskat") {
		t.Fatalf("a review did not reset supervision:\n%s", body)
	}
	tg.Clock.Advance(23 * 24 * time.Hour)
	b = newBrowser(t, tg)
	b.login("mod", testPassword)
	_, body = b.get("/staff/dashboard")
	expectBody(t, "dashboard after 31 days", body, "har inte publicerat något på mer än 30 dagar", `<strong class="warning">vilande</strong>`, "tillsyn saknas")
}
