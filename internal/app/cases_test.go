package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/torget/torget/internal/auth"
	"github.com/torget/torget/internal/config"
	"github.com/torget/torget/internal/fedtest"
	"github.com/torget/torget/internal/store"
)

// residentNote builds a Create{Note} from user on peer addressed to the
// group: a direct message shaped like Mastodon's (the real payload in
// testdata, moved onto the peer and the group), or a public post that
// mentions the group.
func residentNote(t *testing.T, peer *fedtest.Server, user, groupIRI, handle, text string, direct bool, n int) (map[string]any, string) {
	t.Helper()
	b, err := os.ReadFile("testdata/mastodon-note-direct-message.json")
	if err != nil {
		t.Fatal(err)
	}
	var note map[string]any
	if err := json.Unmarshal(b, &note); err != nil {
		t.Fatal(err)
	}
	actor := peer.ActorID(user)
	id := fmt.Sprintf("%s/statuses/%d", actor, 1000+n)
	html := fmt.Sprintf(`<p><span class="h-card" translate="no"><a href="%s" class="u-url mention">@<span>%s</span></a></span> %s</p>`, groupIRI, handle, text)
	note["id"], note["url"], note["attributedTo"], note["atomUri"] = id, id, actor, id
	note["inReplyTo"], note["inReplyToAtomUri"] = nil, nil
	note["content"], note["contentMap"] = html, map[string]any{"sv": html}
	note["tag"] = []any{map[string]any{"type": "Mention", "href": groupIRI, "name": "@" + handle}}
	note["replies"] = nil
	to, cc := []any{groupIRI}, []any{}
	if !direct {
		to, cc = []any{"https://www.w3.org/ns/activitystreams#Public"}, []any{actor + "/followers", groupIRI}
	}
	note["to"], note["cc"] = to, cc
	delete(note, "@context")
	return map[string]any{"@context": note["@context"], "id": id + "/activity", "type": "Create", "actor": actor,
		"published": note["published"], "to": to, "cc": cc, "object": note}, id
}

func sendNote(t *testing.T, peer *fedtest.Server, user, inbox string, act map[string]any) {
	t.Helper()
	act["@context"] = fedtest.ContextAS
	if code, body, err := peer.Send(context.Background(), user, inbox, act); err != nil || code != http.StatusAccepted {
		t.Fatalf("Create: %d %s %v", code, body, err)
	}
}

func casesOf(t *testing.T, tg *instance, f store.CaseFilter) []store.Case {
	t.Helper()
	cs, err := tg.Store.ListCases(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

var caseLinkRe = regexp.MustCompile(`href="/staff/cases/(\d+)"`)

// A question from a fake Mastodon server becomes a case with a due time;
// when the clock passes it the case shows as overdue (list, case page,
// dashboard); an editor answers it from the UI and the answer arrives at
// the fake server as a signed Create from the group, inReplyTo the
// question. A public mention that is not a question opens no case; one
// that is can be forwarded to another group (which gets it in its list,
// while the resident is told where it went), and notes are append-only.
func TestQuestionBecomesCaseAndIsAnswered(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t, func(c *config.Config) {
		c.Cases.ProposalsURL = "https://stad.example/medborgarforslag"
		c.Cases.Authorities = []string{"Skatteverket|https://www.skatteverket.se/"}
	})
	g := tg.group(t, "sodermalm", false)
	g2 := tg.group(t, "parker", false)
	erik := tg.user(t, "erik", auth.RoleEditor)
	if err := tg.Store.AssignGroupStaff(ctx, g.ID, erik.ID, auth.RoleEditor); err != nil {
		t.Fatal(err)
	}
	tg.user(t, "admin", auth.RoleAdmin)
	m := fedtest.NewServer(t, fedtest.Options{Users: []string{"alice", "bob"}, RootCAs: tg.Pool})
	groupIRI := tg.Base + "/groups/sodermalm"
	inbox := groupIRI + "/inbox"
	handle := "sodermalm@" + tg.Domain

	// alice asks in a direct message (no question mark: a DM always
	// counts); bob mentions the group in public, once with a remark, once
	// with a question.
	dm, dmID := residentNote(t, m, "alice", groupIRI, handle, "Jag vill boka lokalen på fredag", true, 1)
	sendNote(t, m, "alice", inbox, dm)
	remark, _ := residentNote(t, m, "bob", groupIRI, handle, "Tack för infon, bra jobbat", false, 2)
	sendNote(t, m, "bob", tg.Base+"/inbox", remark)
	question, qID := residentNote(t, m, "bob", groupIRI, handle, "När öppnar utomhusbadet i parken", false, 3)
	sendNote(t, m, "bob", tg.Base+"/inbox", question)
	sendNote(t, m, "alice", inbox, dm) // a redelivery opens no second case
	waitUntil(t, 10*time.Second, "two cases", func() bool {
		c, err := tg.Store.InboxCounts(ctx)
		return err == nil && c[store.InboxPending] == 0 && len(casesOf(t, tg, store.CaseFilter{})) >= 2
	})
	cs := casesOf(t, tg, store.CaseFilter{GroupIDs: []int64{g.ID}})
	if len(cs) != 2 {
		t.Fatalf("cases %+v, want alice's DM and bob's question (not bob's remark)", cs)
	}
	var dmCase, qCase store.Case
	for _, c := range cs {
		switch c.SourceIRI {
		case dmID:
			dmCase = c
		case qID:
			qCase = c
		}
	}
	if dmCase.ID == 0 || dmCase.Kind != store.CaseKindDirect || dmCase.Public || dmCase.Status != store.CaseNew ||
		dmCase.AuthorHandle != "@alice@"+m.Host || dmCase.Text != "Jag vill boka lokalen på fredag" || dmCase.Language != "sv" ||
		!dmCase.DueAt.After(dmCase.ReceivedAt) || dmCase.DueAt.Sub(dmCase.ReceivedAt) > 4*24*time.Hour {
		t.Fatalf("DM case %+v", dmCase)
	}
	if qCase.ID == 0 || qCase.Kind != store.CaseKindMention || !qCase.Public {
		t.Fatalf("question case %+v", qCase)
	}

	// erik sees both, on time.
	b := newBrowser(t, tg)
	resp, body := b.login("erik", testPassword)
	expectRedirect(t, resp, body, "/staff")
	resp, body = b.get("/staff/cases")
	expectStatus(t, "cases", resp, body, 200)
	checkHeadings(t, "cases", body)
	expectBody(t, "cases", body, fmt.Sprintf(`href="/staff/cases/%d"`, dmCase.ID), fmt.Sprintf(`href="/staff/cases/%d"`, qCase.ID), "@alice@"+m.Host)
	if strings.Contains(body, "Försenat") {
		t.Fatalf("cases overdue before their time:\n%s", body)
	}

	// Past the due time (4 days covers any weekend) the cases are overdue.
	// (A new sign-in: four days idle end erik's session.)
	tg.Clock.Advance(4 * 24 * time.Hour)
	later := newBrowser(t, tg)
	resp, body = later.login("erik", testPassword)
	expectRedirect(t, resp, body, "/staff")
	_, body = later.get("/staff/cases")
	expectBody(t, "overdue cases", body, `class="overdue"`, "Försenat")
	_, body = later.get(fmt.Sprintf("/staff/cases/%d", dmCase.ID))
	expectBody(t, "overdue case", body, "Försenat:")
	_, body = later.get("/staff/dashboard")
	checkHeadings(t, "dashboard", body)
	expectBody(t, "dashboard", body, "Grupp sodermalm har 2 försenade ärenden.", `<td>2</td><td>4</td>`)
	tg.Clock.Advance(-4 * 24 * time.Hour) // back, so that signatures are fresh for the fake server
	b = newBrowser(t, tg)                 // (erik's first session was cleaned up as expired)
	resp, body = b.login("erik", testPassword)
	expectRedirect(t, resp, body, "/staff")

	// The political-proposal template carries the configured link.
	resp, body = b.get(fmt.Sprintf("/staff/cases/%d?template=proposal&lang=sv", dmCase.ID))
	expectBody(t, "template", body, "https://stad.example/medborgarforslag", "medborgarförslag")
	_, body = b.get(fmt.Sprintf("/staff/cases/%d?template=proposal&lang=fi", dmCase.ID))
	expectBody(t, "Finnish template", body, "kuntalaisaloitteen", "https://stad.example/medborgarforslag")

	// erik answers alice from the UI.
	page := fmt.Sprintf("/staff/cases/%d", dmCase.ID)
	resp, body = b.form(page, page+"/answer", url.Values{"text": {"Du bokar lokalen på https://stad.example/boka"}})
	expectNotice(t, "answer", resp, body, page)
	d := m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool {
		obj, _ := d.Activity["object"].(map[string]any)
		return d.Type == "Create" && obj != nil && obj["inReplyTo"] == dmID
	})
	if !d.Verified || d.Path != "/users/alice/inbox" {
		t.Fatalf("answer delivery not verified or to the wrong inbox: %+v", d)
	}
	obj := d.Activity["object"].(map[string]any)
	if d.Activity["actor"] != groupIRI || obj["attributedTo"] != groupIRI || !strings.Contains(fmt.Sprint(obj["to"]), m.ActorID("alice")) ||
		strings.Contains(fmt.Sprint(obj["to"], obj["cc"]), "#Public") || !strings.Contains(fmt.Sprint(obj["content"]), "stad.example/boka") {
		t.Fatalf("answer %s", d.Body)
	}
	got, err := tg.Store.CaseByID(ctx, dmCase.ID)
	if err != nil || got.Status != store.CaseAnswered || got.AnsweredAt == nil || got.AnswerIRI != obj["id"] || got.OwnerUserID == nil || *got.OwnerUserID != erik.ID {
		t.Fatalf("answered case %+v %v", got, err)
	}
	resp, body = b.form(page, page+"/answer", url.Values{"text": {"Igen"}})
	expectStatus(t, "answer twice", resp, body, http.StatusUnprocessableEntity)
	expectBody(t, "answer twice", body, "Ärendet är inte öppet längre.")

	// Notes carry author and time and cannot be edited.
	resp, body = b.form(page, page+"/notes", url.Values{"body": {"Ringde alice, hon bokar själv."}})
	expectNotice(t, "note", resp, body, page)
	ns, err := tg.Store.CaseNotes(ctx, dmCase.ID)
	if err != nil || len(ns) != 1 || ns[0].AuthorName != "erik" || ns[0].AuthorUserID == nil || ns[0].CreatedAt.IsZero() {
		t.Fatalf("notes %+v %v", ns, err)
	}
	resp, body = b.form(page, fmt.Sprintf("%s/notes/%d/edit", page, ns[0].ID), url.Values{"body": {"Ändrad"}})
	expectStatus(t, "edit note", resp, body, http.StatusConflict)
	expectBody(t, "edit note", body, "kan inte ändras")
	resp, body = b.form(page, page+"/notes", url.Values{"body": {"Tillägg: bokningen klar."}})
	expectNotice(t, "second note", resp, body, page)
	if ns, _ := tg.Store.CaseNotes(ctx, dmCase.ID); len(ns) != 2 || ns[0].Body != "Ringde alice, hon bokar själv." {
		t.Fatalf("notes after edit attempt %+v", ns)
	}

	// bob's question belongs to the parks: forwarded with a reason.
	qpage := fmt.Sprintf("/staff/cases/%d", qCase.ID)
	resp, body = b.form(qpage, qpage+"/forward", url.Values{"to": {"group:parker"}, "reason": {" "}})
	expectStatus(t, "forward without reason", resp, body, http.StatusUnprocessableEntity)
	expectBody(t, "forward without reason", body, "Skriv skälet till att ärendet vidarebefordras.")
	resp, body = b.form(qpage, qpage+"/forward", url.Values{"to": {"group:parker"}, "reason": {"Parkerna ansvarar för badet"}})
	expectNotice(t, "forward", resp, body, qpage)
	moved := casesOf(t, tg, store.CaseFilter{GroupIDs: []int64{g2.ID}})
	if len(moved) != 1 || moved[0].SourceIRI != qID || moved[0].ForwardedFrom == nil || *moved[0].ForwardedFrom != qCase.ID || !moved[0].Open() {
		t.Fatalf("forwarded case %+v", moved)
	}
	if got, _ := tg.Store.CaseByID(ctx, qCase.ID); got.Status != store.CaseForwarded || got.ForwardReason != "Parkerna ansvarar för badet" || got.ForwardedTo != "Grupp parker" {
		t.Fatalf("case after forwarding %+v", got)
	}
	m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool {
		obj, _ := d.Activity["object"].(map[string]any)
		return d.Type == "Create" && obj != nil && obj["inReplyTo"] == qID && strings.Contains(fmt.Sprint(obj["content"]), "vidarebefordrats till Grupp parker")
	})
	if n := tg.auditActions(t); n["case_answer erik"] != 1 || n["case_forward erik"] != 1 {
		t.Fatalf("audit %v", n)
	}
	// erik is no editor of the parks: that case is not his to see.
	resp, body = b.get(fmt.Sprintf("/staff/cases/%d", moved[0].ID))
	expectStatus(t, "other group's case", resp, body, http.StatusForbidden)
}
