package app_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/torget/torget/internal/config"
	"github.com/torget/torget/internal/decisions"
	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/fedtest"
	"github.com/torget/torget/internal/moderation"
	"github.com/torget/torget/internal/store"
)

// toNextMonday moves the test clock to the next Monday at hh:mm in
// Stockholm, so that working hours are predictable.
func toNextMonday(t *testing.T, tg *instance, hh, mm int) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Fatal(err)
	}
	now := tg.Clock.Now().In(loc)
	d := now.AddDate(0, 0, 1)
	for d.Weekday() != time.Monday {
		d = d.AddDate(0, 0, 1)
	}
	at := time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, loc)
	tg.Clock.Advance(at.Sub(now))
	return at
}

// Remote posts signed at the wall clock stay acceptable after the test
// clock moves days ahead.
func lenientSignatures(c *config.Config) {
	c.Federation.SignatureMaxAge = config.Duration{Duration: 60 * 24 * time.Hour}
	c.Federation.SignatureMaxFuture = config.Duration{Duration: 60 * 24 * time.Hour}
}

// GOV-4: a ban under a published-terms rule needs a prior warning; under
// a legal category it does not; it needs a length or a review date and a
// reason; once confirmed and past its review date, it waits in the queue
// for review, and lifting it there ends the block and federates Undo{Block}.
func TestBanLadderAndReview(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t, lenientSignatures)
	tg.group(t, "stege", false)
	if err := tg.Fed.SetDiscussionMode(ctx, "stege", store.ModeOpen); err != nil {
		t.Fatal(err)
	}
	groupID := tg.Base + "/groups/stege"
	b := fedtest.NewServer(t, fedtest.Options{Users: []string{"bertil", "cissi"}, RootCAs: tg.Pool})
	_, postURL, err := tg.Fed.Publish(ctx, "stege", federation.PostInput{Text: "Välkommen"})
	if err != nil {
		t.Fatal(err)
	}
	note := b.Note("bertil", "s1", postURL, "<p>Köp klockor</p>", groupID)
	deliver(t, tg, b, "bertil", groupID+"/inbox", b.Wrap("Create", "bertil", note))
	n, err := tg.Store.RemoteNoteByIRI(ctx, note["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	m1, m2 := moderators(t, tg)
	mod := tg.Moderation

	ban := decisions.Input{Action: decisions.Ban, NoteID: n.ID, RuleID: "villkor-spam", Reason: "Upprepad reklam", ReviewIn: 30 * 24 * time.Hour}
	if _, err := mod.Decide(ctx, m1, ban); !errors.Is(err, decisions.ErrNoWarning) || !errors.Is(err, decisions.ErrInvalid) {
		t.Fatalf("ban without a prior warning: %v", err)
	}
	// The web form says why.
	tg.user(t, "webmod", store.RoleModerator)
	wm := newBrowser(t, tg)
	wm.login("webmod", testPassword)
	resp, body := wm.form("/staff/moderation", "/staff/moderation/decide", url.Values{"note_id": {itoa(n.ID)}, "action": {"ban"},
		"rule": {"villkor-spam"}, "reason": {"Reklam"}, "ban_days": {"7"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "först fått en varning") {
		t.Fatalf("web ban without warning: %d", resp.StatusCode)
	}
	// A warning to another author does not count.
	other := b.Note("cissi", "c1", postURL, "<p>Också reklam</p>", groupID)
	deliver(t, tg, b, "cissi", groupID+"/inbox", b.Wrap("Create", "cissi", other))
	on, err := tg.Store.RemoteNoteByIRI(ctx, other["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mod.Decide(ctx, m1, decisions.Input{Action: decisions.Warn, NoteID: on.ID, RuleID: "villkor-spam", Reason: "Reklam"}); err != nil {
		t.Fatal(err)
	}
	if _, err := mod.Decide(ctx, m1, ban); !errors.Is(err, decisions.ErrNoWarning) {
		t.Fatalf("ban after another author's warning: %v", err)
	}
	// A legal category needs no warning (the ban still waits for a second moderator).
	legal := ban
	legal.RuleID, legal.ReviewIn, legal.BanFor = "olaga-hot", 0, 7*24*time.Hour
	if d, err := mod.Decide(ctx, m1, legal); err != nil || d.State != store.DecisionPending {
		t.Fatalf("ban under a legal category: %+v %v", d, err)
	}
	// Warned, the ban may be proposed; it needs a length or a review date.
	if _, err := mod.Decide(ctx, m1, decisions.Input{Action: decisions.Warn, NoteID: n.ID, RuleID: "villkor-spam", Reason: "Reklam"}); err != nil {
		t.Fatal(err)
	}
	noDate := ban
	noDate.ReviewIn = 0
	if _, err := mod.Decide(ctx, m1, noDate); !errors.Is(err, decisions.ErrInvalid) {
		t.Fatalf("ban without end or review date: %v", err)
	}
	noReason := ban
	noReason.Reason = " "
	if _, err := mod.Decide(ctx, m1, noReason); !errors.Is(err, decisions.ErrInvalid) {
		t.Fatalf("ban without a reason: %v", err)
	}
	d, err := mod.Decide(ctx, m1, ban)
	if err != nil || d.ReviewAt == nil || d.EndsAt != nil {
		t.Fatalf("ban with a review date: %+v %v", d, err)
	}
	if _, err := mod.Confirm(ctx, m2, d.ID); err != nil {
		t.Fatal(err)
	}
	b.WaitFor(t, 10*time.Second, func(dl fedtest.Delivery) bool {
		return dl.Type == "Block" && dl.Verified && dl.Activity["object"] == b.ActorID("bertil")
	})
	if due, _ := tg.Store.BansDueForReview(ctx, tg.Clock.Now()); len(due) != 0 {
		t.Fatalf("review due at once: %d", len(due))
	}
	// The review date comes: a review task in the queue.
	tg.Clock.Advance(31 * 24 * time.Hour)
	if blocked, _ := tg.Store.ActiveBlock(ctx, n.GroupID, b.ActorID("bertil"), tg.Clock.Now()); !blocked {
		t.Fatal("ban without an end date ended by itself")
	}
	due, err := tg.Store.BansDueForReview(ctx, tg.Clock.Now())
	if err != nil || len(due) != 1 || due[0].ID != d.ID {
		t.Fatalf("bans due for review: %+v %v", due, err)
	}
	wm = newBrowser(t, tg)
	wm.login("webmod", testPassword)
	_, body = wm.get("/staff/moderation")
	if !strings.Contains(body, `id="review-ban-`+itoa(d.ID)+`"`) || !strings.Contains(body, "Upprepad reklam") {
		t.Fatalf("review task not in the queue: %.2000s", body)
	}
	review := "/staff/moderation/bans/" + itoa(d.ID) + "/review"
	// Keeping an open-ended ban needs a next review date.
	if resp, _ := wm.form("/staff/moderation", review, url.Values{"outcome": {"keep"}, "reason": {"Fortsatt reklam"}}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("kept without next review: %d", resp.StatusCode)
	}
	if resp, body := wm.form("/staff/moderation", review, url.Values{"outcome": {"lift"}, "reason": {"Ingen reklam på en månad"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("lift: %d %.300s", resp.StatusCode, body)
	}
	if blocked, _ := tg.Store.ActiveBlock(ctx, n.GroupID, b.ActorID("bertil"), tg.Clock.Now()); blocked {
		t.Fatal("ban not lifted")
	}
	if due, _ := tg.Store.BansDueForReview(ctx, tg.Clock.Now()); len(due) != 0 {
		t.Fatalf("review still due after lifting: %d", len(due))
	}
	b.WaitFor(t, 10*time.Second, func(dl fedtest.Delivery) bool {
		o := objectOf(dl)
		return dl.Type == "Undo" && o != nil && o["type"] == "Block"
	})
	if a := tg.auditActions(t); a["mod_unban webmod"] != 1 {
		t.Fatalf("lift not audited: %v", a)
	}
}

// MOD-5: a report in a legal category goes to the top of the queue with
// its time target; after four working hours it is marked overdue; the
// time to decision is recorded and published per month in working hours.
func TestLegalReportTarget(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t, lenientSignatures)
	tg.group(t, "mal", false)
	if err := tg.Fed.SetDiscussionMode(ctx, "mal", store.ModeOpen); err != nil {
		t.Fatal(err)
	}
	groupID := tg.Base + "/groups/mal"
	b := fedtest.NewServer(t, fedtest.Options{Users: []string{"bertil"}, RootCAs: tg.Pool})
	_, postURL, err := tg.Fed.Publish(ctx, "mal", federation.PostInput{Text: "Hej"})
	if err != nil {
		t.Fatal(err)
	}
	var notes []*store.RemoteNote
	for i, text := range []string{"Spam om klockor", "Jag ska skada dig"} {
		nt := b.Note("bertil", "m"+itoa(int64(i)), postURL, "<p>"+text+"</p>", groupID)
		deliver(t, tg, b, "bertil", groupID+"/inbox", b.Wrap("Create", "bertil", nt))
		n, err := tg.Store.RemoteNoteByIRI(ctx, nt["id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		notes = append(notes, n)
	}
	monday := toNextMonday(t, tg, 9, 0)
	gid := notes[0].GroupID
	// The spam report comes first, the threat later: the threat goes first.
	for i, cat := range []string{"villkor-spam", "olaga-hot"} {
		if _, err := tg.Store.InsertReport(ctx, &store.ModReport{GroupID: &gid, ObjectIRI: notes[i].IRI, Category: cat, Origin: "web"}); err != nil {
			t.Fatal(err)
		}
		tg.Clock.Advance(10 * time.Minute)
	}
	tg.user(t, "vakt", store.RoleModerator)
	m := newBrowser(t, tg)
	m.login("vakt", testPassword)
	_, body := m.get("/staff/moderation")
	threat, spam := strings.Index(body, "Jag ska skada dig"), strings.Index(body, "Spam om klockor")
	if threat < 0 || spam < 0 || threat > spam {
		t.Fatalf("legal report not first: threat at %d, spam at %d", threat, spam)
	}
	if !strings.Contains(body, "larm efter 4:00 arbetstimmar") || !strings.Contains(body, "Anmäld i brottskategori") || strings.Contains(body, "Försenad:") {
		t.Fatalf("target not shown, or overdue too early: %.3000s", body)
	}
	// Reported at 09:10, the alert is due at 13:10; at 13:30 it is overdue.
	tg.Clock.Advance(4*time.Hour + 10*time.Minute)
	_, body = m.get("/staff/moderation")
	if !strings.Contains(body, "Försenad:") || strings.Count(body, "Försenad:") != 1 {
		t.Fatalf("overdue marker: %d", strings.Count(body, "Försenad:"))
	}
	m1, _ := moderators(t, tg)
	if _, err := tg.Moderation.Decide(ctx, m1, decisions.Input{Action: decisions.Remove, NoteID: notes[1].ID, RuleID: "olaga-hot", Reason: "Hot"}); err != nil {
		t.Fatal(err)
	}
	rs, err := tg.Store.ResolvedReports(ctx, []string{"olaga-hot"}, monday.Add(-time.Hour))
	if err != nil || len(rs) != 1 || rs[0].ResolvedAt == nil || rs[0].DecisionID == nil {
		t.Fatalf("time to decision not recorded: %+v %v", rs, err)
	}
	if got := rs[0].ResolvedAt.Sub(rs[0].CreatedAt).Round(time.Minute); got != 4*time.Hour+20*time.Minute {
		t.Fatalf("reported %s, decided %s: %s", rs[0].CreatedAt, rs[0].ResolvedAt, got)
	}
	c := newClient(t, tg)
	_, _, page := c.get(tg.Base+"/about/rules", "text/html")
	month := rs[0].ResolvedAt.UTC().Format("2006-01")
	if !strings.Contains(page, "Tid till beslut för anmälningar i brottskategorier") ||
		!strings.Contains(page, "<th scope=\"row\">"+month+"</th><td>1</td><td>4:20</td><td>4:20</td><td>1</td>") {
		t.Fatalf("time to decision not published: %.4000s", page[strings.Index(page, "<h2"):])
	}
	for _, lang := range []string{"en", "fi"} {
		_, _, p := c.get(tg.Base+"/about/rules?lang="+lang, "text/html")
		if !strings.Contains(p, "4:20") {
			t.Errorf("%s rules page lacks the statistics", lang)
		}
		// The built-in rules read in the visitor's language.
		want := map[string]string{"en": "Threats against a person are prohibited.", "fi": "Henkilöön kohdistuvat uhkaukset ovat kiellettyjä."}[lang]
		if !strings.Contains(p, want) || strings.Contains(p, "Hot mot en person är förbjudet.") {
			t.Errorf("%s rules page: built-in rule text not translated", lang)
		}
	}
}

// GOV-3 at group level, through the service: a proposal is not in force;
// a second proposal for the same rule waits for the first; a rejection
// (or the proposer's withdrawal) is recorded and never enforced; the
// built-in rules seeded at install stay in force.
func TestRuleProposalGroupAndReject(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	g := tg.group(t, "regler", false)
	if cur, _ := tg.Store.CurrentRules(ctx, 0); !hasRule(cur, "olaga-hot") || !hasRule(cur, "villkor-spam") {
		t.Fatal("built-in rules not in force")
	}
	var admins []decisions.Moderator
	for _, name := range []string{"adm1", "adm2"} {
		u := tg.user(t, name, store.RoleAdmin)
		admins = append(admins, decisions.Moderator{ID: u.ID, Name: name})
	}
	mod := tg.Moderation
	p := decisions.Proposal{GroupID: &g.ID, Justification: "Gruppen handlar om förskolan; inlägg om annat hör hemma någon annanstans",
		Rule: moderation.Rule{ID: "regler-amne", Kind: moderation.KindManual, Text: "Håll dig till ämnet", Action: moderation.Hide, LegalGround: "villkor-amne"}}
	noGround := p
	noGround.Rule.LegalGround = ""
	if _, err := mod.ProposeRule(ctx, admins[0], noGround); !errors.Is(err, decisions.ErrInvalid) {
		t.Fatalf("proposal without a legal ground: %v", err)
	}
	r, err := mod.ProposeRule(ctx, admins[0], p)
	if err != nil || r.Status != store.RuleProposed || r.Version != 1 {
		t.Fatalf("propose: %+v %v", r, err)
	}
	if _, err := mod.ProposeRule(ctx, admins[1], p); !errors.Is(err, decisions.ErrInvalid) {
		t.Fatalf("second proposal while one waits: %v", err)
	}
	if cur, _ := tg.Store.CurrentRules(ctx, g.ID); hasRule(cur, "regler-amne") {
		t.Fatal("proposal in force")
	}
	if e, _ := mod.Screener().Engine(ctx, g.ID); func() bool { _, ok := e.Rule("regler-amne"); return ok }() {
		t.Fatal("proposal screens")
	}
	if _, err := mod.ApproveRule(ctx, admins[0], r.ID); !errors.Is(err, decisions.ErrSameAdmin) || !errors.Is(err, decisions.ErrForbidden) {
		t.Fatalf("self-approval: %v", err)
	}
	if _, err := mod.RejectRule(ctx, admins[1], r.ID, ""); !errors.Is(err, decisions.ErrInvalid) {
		t.Fatalf("rejection without a reason: %v", err)
	}
	rej, err := mod.RejectRule(ctx, admins[1], r.ID, "Täcks redan av villkor-amne")
	if err != nil || rej.Status != store.RuleRejected || rej.DecidedBy != "adm2" || rej.DecidedAt == nil {
		t.Fatalf("reject: %+v %v", rej, err)
	}
	if _, err := mod.ApproveRule(ctx, admins[1], r.ID); !errors.Is(err, decisions.ErrInvalid) {
		t.Fatalf("approving a rejected proposal: %v", err)
	}
	// A new proposal gets the next version number; approved, it screens at once.
	r2, err := mod.ProposeRule(ctx, admins[1], p)
	if err != nil || r2.Version != 2 {
		t.Fatalf("second proposal: %+v %v", r2, err)
	}
	if _, err := mod.ApproveRule(ctx, admins[0], r2.ID); err != nil {
		t.Fatal(err)
	}
	e, err := mod.Screener().Engine(ctx, g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := e.Rule("regler-amne"); !ok || got.Version != 2 {
		t.Fatalf("approved group rule not in force: %+v %v", got, ok)
	}
	if hist, _ := tg.Store.RuleHistory(ctx, g.ID); len(hist) != 1 {
		t.Fatalf("a rejected proposal is in the public history: %d", len(hist))
	}
	recs, err := tg.Store.SearchRecord(ctx, store.RecordQuery{Kind: store.KindRuleChange})
	if err != nil {
		t.Fatal(err)
	}
	steps := map[string]int{}
	for _, rec := range recs {
		steps[rec.Category+" "+rec.Actor]++
	}
	if len(recs) != 4 || steps["rule_change.reject "+store.StaffActor(admins[1].ID, "adm2")] != 1 || steps["rule_change.approve "+store.StaffActor(admins[0].ID, "adm1")] != 1 {
		t.Fatalf("record of the rule steps: %v", steps)
	}
}

// Removing a remote item with "report to the author's server" sends a
// signed Flag in Mastodon's shape to the author's shared inbox: actor the
// instance actor, object [account, note], content the rule text.
func TestRemoveSendsFlag(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	tg.group(t, "flagga", false)
	if err := tg.Fed.SetDiscussionMode(ctx, "flagga", store.ModeModerated); err != nil {
		t.Fatal(err)
	}
	groupID := tg.Base + "/groups/flagga"
	b := fedtest.NewServer(t, fedtest.Options{Users: []string{"bertil"}, RootCAs: tg.Pool, RequireSignedFetch: true})
	_, postURL, err := tg.Fed.Publish(ctx, "flagga", federation.PostInput{Text: "Hej"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, k := range []string{"f1", "f2"} {
		nt := b.Note("bertil", k, postURL, "<p>Jag vet var du bor "+k+"</p>", groupID)
		deliver(t, tg, b, "bertil", groupID+"/inbox", b.Wrap("Create", "bertil", nt))
		n, err := tg.Store.RemoteNoteByIRI(ctx, nt["id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, n.ID)
	}
	tg.user(t, "flaggmod", store.RoleModerator)
	m := newBrowser(t, tg)
	m.login("flaggmod", testPassword)
	// Without the option: no Flag.
	if resp, body := m.form("/staff/moderation", "/staff/moderation/decide", url.Values{"note_id": {itoa(ids[0])}, "action": {"remove"},
		"rule": {"olaga-hot"}, "reason": {"Hot"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d %.300s", resp.StatusCode, body)
	}
	if resp, body := m.form("/staff/moderation", "/staff/moderation/decide", url.Values{"note_id": {itoa(ids[1])}, "action": {"remove"},
		"rule": {"olaga-hot"}, "reason": {"Hot"}, "flag": {"1"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove and flag: %d %.300s", resp.StatusCode, body)
	}
	n2, _ := tg.Store.RemoteNoteByID(ctx, ids[1])
	dl := b.WaitFor(t, 10*time.Second, func(dl fedtest.Delivery) bool { return dl.Type == "Flag" })
	if !dl.Verified || dl.Path != "/inbox" {
		t.Fatalf("flag delivery: verified %v (%s), path %s", dl.Verified, dl.VerifyErr, dl.Path)
	}
	if actor, _ := dl.Activity["actor"].(string); actor != tg.Fed.InstanceActor().ID || !strings.HasPrefix(dl.KeyID, actor) {
		t.Fatalf("flag not by the instance actor: %v, key %s", dl.Activity["actor"], dl.KeyID)
	}
	if obj := strs(dl.Activity["object"]); len(obj) != 2 || obj[0] != b.ActorID("bertil") || obj[1] != n2.IRI {
		t.Fatalf("flag object %v", dl.Activity["object"])
	}
	if c, _ := dl.Activity["content"].(string); !strings.Contains(c, "olaga-hot") || !strings.Contains(c, "Hot mot en person") {
		t.Fatalf("flag content %q", c)
	}
	time.Sleep(300 * time.Millisecond)
	if n := b.Count(func(dl fedtest.Delivery) bool { return dl.Type == "Flag" }); n != 1 {
		t.Fatalf("flags sent: %d", n)
	}
	if a := tg.auditActions(t); a["mod_flag flaggmod"] != 1 {
		t.Fatalf("flag not audited: %v", a)
	}
}
