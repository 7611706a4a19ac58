package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/torget/torget/internal/decisions"
	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/fedtest"
	"github.com/torget/torget/internal/store"
)

func moderators(t *testing.T, tg *instance) (decisions.Moderator, decisions.Moderator) {
	t.Helper()
	var out []decisions.Moderator
	for _, name := range []string{"moda", "modb"} {
		u := &store.User{Username: name, Role: store.RoleModerator, PasswordHash: "x"}
		if err := tg.Store.CreateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
		out = append(out, decisions.Moderator{ID: u.ID, Name: name})
	}
	return out[0], out[1]
}

// A moderator removes an announced reply: follower A receives Undo of
// each Announce and the announced Delete, the author B a direct message
// citing the rule, and the row is kept. A ban needs a second moderator,
// federates Block, and B's later posts are refused. The public log lists
// the decisions with their rule and never the removed text.
func TestModeratorRemovesAndBans(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	tg.group(t, "oppen", false)
	if err := tg.Fed.SetDiscussionMode(ctx, "oppen", store.ModeOpen); err != nil {
		t.Fatal(err)
	}
	groupID := tg.Base + "/groups/oppen"
	a := fedtest.NewServer(t, fedtest.Options{Users: []string{"anna"}, RootCAs: tg.Pool, RequireSignedFetch: true})
	b := fedtest.NewServer(t, fedtest.Options{Users: []string{"bertil"}, RootCAs: tg.Pool, RequireSignedFetch: true})
	follow(t, tg, a, "anna", groupID)
	_, postURL, err := tg.Fed.Publish(ctx, "oppen", federation.PostInput{Text: "Öppet möte på torsdag"})
	if err != nil {
		t.Fatal(err)
	}
	const secret = "Jag vet var du bor, akta dig"
	note := b.Note("bertil", "r1", postURL, "<p>"+secret+"</p>", groupID)
	deliver(t, tg, b, "bertil", groupID+"/inbox", b.Wrap("Create", "bertil", note))
	a.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Announce" && d.Activity["object"] == note["id"] })
	n, err := tg.Store.RemoteNoteByIRI(ctx, note["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	anns, _ := tg.Store.NoteAnnounces(ctx, n.ID)
	if len(anns) != 2 {
		t.Fatalf("announces before removal: %d", len(anns))
	}
	m1, m2 := moderators(t, tg)
	mod := tg.Moderation

	// GOV-2: no rule, no decision.
	if _, err := mod.Decide(ctx, m1, decisions.Input{Action: decisions.Remove, NoteID: n.ID, Reason: "hot"}); !errors.Is(err, decisions.ErrInvalid) {
		t.Fatalf("removal without a rule: %v", err)
	}
	d, err := mod.Decide(ctx, m1, decisions.Input{Action: decisions.Remove, NoteID: n.ID, RuleID: "olaga-hot", Reason: "Hot mot en annan deltagare"})
	if err != nil {
		t.Fatal(err)
	}
	if d.RuleVersion != 1 || d.LegalGround != "olaga-hot" || d.ModeratorName != "moda" || d.Automatic {
		t.Fatalf("decision %+v", d)
	}
	for _, an := range anns {
		an := an
		a.WaitFor(t, 10*time.Second, func(dl fedtest.Delivery) bool {
			o := objectOf(dl)
			return dl.Type == "Undo" && dl.Verified && o != nil && o["id"] == an.ActivityIRI && o["type"] == "Announce"
		})
	}
	a.WaitFor(t, 10*time.Second, func(dl fedtest.Delivery) bool {
		o := objectOf(dl)
		return dl.Type == "Announce" && o != nil && o["type"] == "Delete" && o["object"] == note["id"] && o["actor"] == groupID
	})
	// The author is told, in a direct message naming the rule and the appeal path.
	dm := b.WaitFor(t, 10*time.Second, func(dl fedtest.Delivery) bool {
		o := objectOf(dl)
		return dl.Type == "Create" && o != nil && o["type"] == "Note" && strings.Contains(o["content"].(string), "olaga-hot")
	})
	dmNote := objectOf(dm)
	if to := strs(dmNote["to"]); len(to) != 1 || to[0] != b.ActorID("bertil") {
		t.Errorf("DM addressed to %v", dmNote["to"])
	}
	if cc := strs(dmNote["cc"]); len(cc) != 0 || strings.Contains(string(dm.Body), fedtest.Public) {
		t.Errorf("DM is not direct: cc %v", cc)
	}
	content := dmNote["content"].(string)
	if !strings.Contains(content, "/moderation/appeal/") || !strings.Contains(content, "Hot mot en person") {
		t.Errorf("DM lacks the rule text or the appeal link: %s", content)
	}
	// MOD-4: kept, not shown.
	kept, err := tg.Store.RemoteNoteByIRI(ctx, note["id"].(string))
	if err != nil || kept.State != store.NoteRejected || !strings.Contains(kept.ContentHTML, secret) {
		t.Fatalf("removed note not kept: %+v %v", kept, err)
	}
	if strings.Contains(getBody(t, tg, postURL), secret) {
		t.Fatal("removed reply still shown")
	}
	// The append-only record holds the decision with a copy of the item.
	recs, err := tg.Store.SearchRecord(ctx, store.RecordQuery{Kind: store.KindModeration, Text: "akta dig"})
	if err != nil || len(recs) != 1 || !strings.Contains(recs[0].Payload, `"RuleID":"olaga-hot"`) {
		t.Fatalf("record of the removal: %d %v", len(recs), err)
	}

	// The author appeals; the deciding moderator may not reconsider.
	dd, _ := tg.Store.Decision(ctx, d.ID)
	if _, err := mod.Appeal(ctx, dd.AppealToken, "Det var ett skämt"); err != nil {
		t.Fatal(err)
	}
	aps, _ := tg.Store.OpenAppeals(ctx)
	if len(aps) != 1 {
		t.Fatalf("appeals in queue: %d", len(aps))
	}
	if _, err := mod.DecideAppeal(ctx, m1, aps[0].ID, true, "ändrar mig"); !errors.Is(err, decisions.ErrForbidden) {
		t.Fatalf("own decision reconsidered: %v", err)
	}
	if _, err := mod.DecideAppeal(ctx, m2, aps[0].ID, false, "Hotet var tydligt"); err != nil {
		t.Fatal(err)
	}
	if ap, _ := tg.Store.Appeal(ctx, aps[0].ID); ap.Outcome != "upheld" || ap.DecidedBy != "modb" {
		t.Fatalf("appeal outcome %+v", ap)
	}

	// Ban: pending until a second moderator confirms (GOV-4).
	ban, err := mod.Decide(ctx, m1, decisions.Input{Action: decisions.Ban, NoteID: n.ID, RuleID: "olaga-hot", Reason: "Upprepade hot", BanFor: 30 * 24 * time.Hour})
	if err != nil || ban.State != store.DecisionPending {
		t.Fatalf("ban: %+v %v", ban, err)
	}
	if b.Count(func(dl fedtest.Delivery) bool { return dl.Type == "Block" }) != 0 {
		t.Fatal("Block sent before confirmation")
	}
	if _, err := mod.Confirm(ctx, m1, ban.ID); !errors.Is(err, decisions.ErrForbidden) {
		t.Fatalf("self-confirmed ban: %v", err)
	}
	if _, err := mod.Confirm(ctx, m2, ban.ID); err != nil {
		t.Fatal(err)
	}
	b.WaitFor(t, 10*time.Second, func(dl fedtest.Delivery) bool {
		return dl.Type == "Block" && dl.Verified && dl.Activity["object"] == b.ActorID("bertil") && dl.Activity["actor"] == groupID
	})
	// Later posts by B are refused at the group's inbox.
	later := b.Wrap("Create", "bertil", b.Note("bertil", "r2", postURL, "<p>Nu igen</p>", groupID))
	if code, _, err := b.Send(ctx, "bertil", groupID+"/inbox", later); err != nil || code != 403 {
		t.Fatalf("post by banned author: %d %v", code, err)
	}
	// Through the shared inbox it is stored for the record but rejected.
	later2 := b.Wrap("Create", "bertil", b.Note("bertil", "r3", postURL, "<p>Och igen</p>", groupID))
	deliver(t, tg, b, "bertil", tg.Base+"/inbox", later2)
	if n3, err := tg.Store.RemoteNoteByIRI(ctx, later2["object"].(map[string]any)["id"].(string)); err == nil && n3.State != store.NoteRejected {
		t.Fatalf("banned author's post via shared inbox: %s", n3.State)
	}

	// The public log: the rule, never the text.
	c := newClient(t, tg)
	code, _, body := c.get(tg.Base+"/moderation.json", "application/json")
	if code != 200 {
		t.Fatalf("log json: %d", code)
	}
	var log struct {
		Entries []struct {
			Action, Rule, Author, Group string
		}
	}
	if err := json.Unmarshal([]byte(body), &log); err != nil {
		t.Fatal(err)
	}
	actions := map[string]bool{}
	for _, e := range log.Entries {
		actions[e.Action] = true
		if e.Rule != "olaga-hot" || e.Group != "Grupp oppen" || !strings.Contains(e.Author, b.Host) || strings.Contains(e.Author, "bertil") {
			t.Errorf("log entry %+v", e)
		}
	}
	if !actions[decisions.Remove] || !actions[decisions.Ban] {
		t.Fatalf("log actions %v", actions)
	}
	for _, u := range []string{"/moderation", "/moderation.rss", "/groups/oppen/moderation", "/groups/oppen/moderation.json"} {
		code, _, body := c.get(tg.Base+u, "text/html")
		if code != 200 || !strings.Contains(body, "olaga-hot") || strings.Contains(body, secret) || strings.Contains(body, "akta dig") {
			t.Errorf("%s: %d, rule shown %v, removed text shown %v", u, code, strings.Contains(body, "olaga-hot"), strings.Contains(body, "akta"))
		}
	}
	// Counts per rule per month on the rules page.
	if _, _, body := c.get(tg.Base+"/about/rules", "text/html"); !strings.Contains(body, "Tillämpning per månad") || !strings.Contains(body, tg.Clock.Now().UTC().Format("2006-01")) {
		t.Errorf("rules page lacks the monthly counts")
	}
}

// Federation policy: a rejected server is refused at the inbox (403,
// nothing stored) and gets no deliveries; a server on hold has its
// residents' posts held; a signed Flag lands in the report queue.
func TestDomainPolicyAndFlag(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	tg.group(t, "oppen", false)
	if err := tg.Fed.SetDiscussionMode(ctx, "oppen", store.ModeOpen); err != nil {
		t.Fatal(err)
	}
	groupID := tg.Base + "/groups/oppen"
	a := fedtest.NewServer(t, fedtest.Options{Users: []string{"anna"}, RootCAs: tg.Pool})
	c := fedtest.NewServer(t, fedtest.Options{Users: []string{"cecilia"}, RootCAs: tg.Pool})
	h := fedtest.NewServer(t, fedtest.Options{Users: []string{"hugo"}, RootCAs: tg.Pool})
	follow(t, tg, a, "anna", groupID)
	follow(t, tg, c, "cecilia", groupID)
	_, postURL, err := tg.Fed.Publish(ctx, "oppen", federation.PostInput{Text: "Hej"})
	if err != nil {
		t.Fatal(err)
	}
	// The first post reaches both servers before one is defederated, so
	// that a delivery still in flight is not counted against the policy.
	c.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Create" })
	waitUntil(t, 10*time.Second, "first deliveries settled", func() bool { return tg.drained(t) })
	m1, _ := moderators(t, tg)
	if _, err := tg.Moderation.Decide(ctx, m1, decisions.Input{Action: decisions.Defederate, Host: c.Host, RuleID: "villkor-spam", Reason: "Massutskick"}); err != nil {
		t.Fatal(err)
	}
	if err := tg.Store.SetDomainPolicy(ctx, &store.DomainPolicy{Host: h.Host, Policy: store.DomainHold, Reason: "ny server", CreatedBy: "admin"}); err != nil {
		t.Fatal(err)
	}
	tg.Moderation.Screener().Invalidate()
	spam := c.Wrap("Create", "cecilia", c.Note("cecilia", "s1", postURL, "<p>Köp nu</p>", groupID))
	if code, _, err := c.Send(ctx, "cecilia", groupID+"/inbox", spam); err != nil || code != 403 {
		t.Fatalf("rejected server: %d %v", code, err)
	}
	if _, err := tg.Store.InboxItemByIRI(ctx, spam["id"].(string)); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("refused activity stored: %v", err)
	}
	before := c.Count(func(d fedtest.Delivery) bool { return d.Type == "Create" })
	if _, _, err := tg.Fed.Publish(ctx, "oppen", federation.PostInput{Text: "Andra inlägget"}); err != nil {
		t.Fatal(err)
	}
	a.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool {
		o := objectOf(d)
		return d.Type == "Create" && o != nil && strings.Contains(o["content"].(string), "Andra inlägget")
	})
	waitUntil(t, 10*time.Second, "deliveries settled", func() bool { return tg.drained(t) })
	if after := c.Count(func(d fedtest.Delivery) bool { return d.Type == "Create" }); after != before {
		t.Fatalf("rejected server received %d new deliveries", after-before)
	}
	held := h.Wrap("Create", "hugo", h.Note("hugo", "h1", postURL, "<p>Hej från ny server</p>", groupID))
	deliver(t, tg, h, "hugo", groupID+"/inbox", held)
	hn, err := tg.Store.RemoteNoteByIRI(ctx, held["object"].(map[string]any)["id"].(string))
	if err != nil || hn.State != store.NoteHeld || !strings.Contains(hn.Matches, "domain-hold") {
		t.Fatalf("held server's post: %+v %v", hn, err)
	}
	// A Flag (Mastodon's shape: account and status) from another server.
	flag := map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": a.URL + "/flags/1", "type": "Flag",
		"actor": a.ActorID("anna"), "content": "Spam från en ny server", "object": []any{h.ActorID("hugo"), hn.IRI}}
	deliver(t, tg, a, "anna", tg.Base+"/inbox", flag)
	rs, err := tg.Store.OpenReports(ctx, 10)
	if err != nil || len(rs) != 1 || rs[0].ObjectIRI != hn.IRI || rs[0].Origin != a.Host || rs[0].Comment != "Spam från en ny server" {
		t.Fatalf("reports %+v %v", rs, err)
	}
	// The public federation page lists the suspended server with its reason.
	if _, _, body := newClient(t, tg).get(tg.Base+"/about/federation", "text/html"); !strings.Contains(body, c.Host) || !strings.Contains(body, "Massutskick") {
		t.Error("federation page lacks the suspended server")
	}
}
