package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/store/storetest"
)

func TestRulesAreVersioned(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	g := newGroup(t, s, "g")
	stamp0, _ := s.RulesStamp(ctx)
	r := &store.ModRule{RuleID: "spam", Kind: "words", Text: "Ingen reklam", Action: "hide", LegalGround: "villkor-spam", Pattern: "köp", CreatedBy: "admin"}
	if err := s.SaveRule(ctx, r); err != nil || r.Version != 1 {
		t.Fatalf("v1: %v %d", err, r.Version)
	}
	r2 := &store.ModRule{RuleID: "spam", Kind: "words", Text: "Ingen reklam eller spam", Action: "hide", LegalGround: "villkor-spam", Pattern: "köp\nsälj", CreatedBy: "admin"}
	if err := s.SaveRule(ctx, r2); err != nil || r2.Version != 2 {
		t.Fatalf("v2: %v %d", err, r2.Version)
	}
	gid := g.ID
	if err := s.SaveRule(ctx, &store.ModRule{RuleID: "g-amne", GroupID: &gid, Kind: "manual", Text: "Håll dig till ämnet", Action: "hide", LegalGround: "villkor-amne", CreatedBy: "admin"}); err != nil {
		t.Fatal(err)
	}
	inst, _ := s.CurrentRules(ctx, 0)
	grp, _ := s.CurrentRules(ctx, g.ID)
	if len(inst) != 1 || inst[0].Version != 2 || len(grp) != 2 {
		t.Fatalf("current: instance %+v group %d", inst, len(grp))
	}
	old, err := s.RuleVersion(ctx, "spam", 1)
	if err != nil || old.Text != "Ingen reklam" || old.RetiredAt == nil {
		t.Fatalf("old version kept: %+v %v", old, err)
	}
	if h, _ := s.RuleHistory(ctx, 0); len(h) != 2 {
		t.Fatalf("history %d", len(h))
	}
	stamp1, _ := s.RulesStamp(ctx)
	if stamp1 == stamp0 {
		t.Fatal("stamp did not change")
	}
	if err := s.RetireRule(ctx, "spam"); err != nil {
		t.Fatal(err)
	}
	if inst, _ := s.CurrentRules(ctx, 0); len(inst) != 0 {
		t.Fatalf("retired rule still current: %+v", inst)
	}
	if st, _ := s.RulesStamp(ctx); st == stamp1 {
		t.Fatal("stamp did not change on retire")
	}
}

func TestDecisionsBlocksReportsAppeals(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	g := newGroup(t, s, "g")
	u1 := &store.User{Username: "mod1", Role: "moderator", PasswordHash: "x"}
	u2 := &store.User{Username: "mod2", Role: "moderator", PasswordHash: "x"}
	for _, u := range []*store.User{u1, u2} {
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	gid := g.ID
	d := &store.ModDecision{GroupID: &gid, Action: "ban", State: store.DecisionPending, AuthorIRI: "https://b.example/u/b",
		RuleID: "spam", RuleVersion: 2, Reason: "upprepat", ModeratorID: &u1.ID, ModeratorName: "mod1"}
	if err := s.InsertDecision(ctx, d); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConfirmDecision(ctx, d.ID, u1.ID, "mod1"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("same moderator confirmed: %v", err)
	}
	c, err := s.ConfirmDecision(ctx, d.ID, u2.ID, "mod2")
	if err != nil || c.State != store.DecisionEffective || c.ApproverName != "mod2" {
		t.Fatalf("confirm: %+v %v", c, err)
	}
	now := s.Now()
	if err := s.InsertBlock(ctx, &store.ModBlock{GroupID: &gid, ActorIRI: d.AuthorIRI, DecisionID: d.ID, StartsAt: now, EndsAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if b, _ := s.ActiveBlock(ctx, g.ID, d.AuthorIRI, now.Add(time.Minute)); !b {
		t.Fatal("block not active")
	}
	if b, _ := s.ActiveBlock(ctx, g.ID, d.AuthorIRI, now.Add(2*time.Hour)); b {
		t.Fatal("block active after its end")
	}
	if b, _ := s.ActiveBlock(ctx, 0, d.AuthorIRI, now.Add(time.Minute)); b {
		t.Fatal("group block applies instance-wide")
	}
	// AuthorStanding answers the same questions in one query.
	standing := func(at time.Time) store.AuthorStanding {
		t.Helper()
		a, err := s.AuthorStanding(ctx, g.ID, d.AuthorIRI, at)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	if a := standing(now.Add(time.Minute)); a != (store.AuthorStanding{Blocked: true}) {
		t.Fatalf("standing during the block: %+v", a)
	}
	if a, _ := s.AuthorStanding(ctx, 0, d.AuthorIRI, now.Add(time.Minute)); a.Blocked {
		t.Fatal("standing: group block applies instance-wide")
	}
	if _, err := s.InsertRemoteNote(ctx, &store.RemoteNote{IRI: "https://b.example/n/visible", GroupID: g.ID, Type: "Note",
		AuthorIRI: d.AuthorIRI, AuthorHost: "b.example", ContentHTML: "<p>hej</p>", Raw: "{}", State: store.NoteVisible}); err != nil {
		t.Fatal(err)
	}
	er := &store.ErasureRequest{SubjectIRI: d.AuthorIRI, Handle: "@b@b.example", CreatedBy: "mod1"}
	if err := s.InsertErasureRequest(ctx, er); err != nil {
		t.Fatal(err)
	}
	if a := standing(now.Add(2 * time.Hour)); a != (store.AuthorStanding{Known: true}) {
		t.Fatalf("standing after the block, with a shown note and an open erasure request: %+v", a)
	}
	if err := s.Exec(ctx, "UPDATE erasure_requests SET status = ? WHERE id = ?", store.ErasureRemoved, er.ID); err != nil {
		t.Fatal(err)
	}
	if a := standing(now.Add(2 * time.Hour)); a != (store.AuthorStanding{Known: true, Erased: true}) {
		t.Fatalf("standing after removal from public view: %+v", a)
	}
	flag := "https://c.example/flags/1"
	for i := 0; i < 2; i++ {
		ins, err := s.InsertReport(ctx, &store.ModReport{ObjectIRI: "https://b.example/n/1", Category: "olaga-hot", Origin: "c.example", FlagIRI: &flag})
		if err != nil || ins != (i == 0) {
			t.Fatalf("report %d: %v %v", i, ins, err)
		}
	}
	if rs, _ := s.OpenReports(ctx, 10); len(rs) != 1 {
		t.Fatalf("open reports %d", len(rs))
	}
	if err := s.ResolveReports(ctx, "https://b.example/n/1", d.ID); err != nil {
		t.Fatal(err)
	}
	if rs, _ := s.OpenReports(ctx, 10); len(rs) != 0 {
		t.Fatalf("resolved report still open")
	}
	a := &store.ModAppeal{DecisionID: d.ID, Text: "Jag ber om omprövning", FromIRI: d.AuthorIRI}
	if err := s.InsertAppeal(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.DecideAppeal(ctx, a.ID, "upheld", "mod2", d.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DecideAppeal(ctx, a.ID, "reversed", "mod2", d.ID); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("appeal decided twice: %v", err)
	}
	counts, err := s.DecisionCountsByRuleMonth(ctx, now.Add(-time.Hour))
	if err != nil || len(counts) != 1 || counts[0].RuleID != "spam" || counts[0].N != 1 {
		t.Fatalf("counts %+v %v", counts, err)
	}
	ds, _ := s.Decisions(ctx, store.DecisionFilter{GroupID: g.ID, Actions: []string{"ban"}, Limit: 5})
	if len(ds) != 1 {
		t.Fatalf("decisions %d", len(ds))
	}
	if err := s.SetDomainPolicy(ctx, &store.DomainPolicy{Host: "Spam.Example", Policy: store.DomainReject, Reason: "spam", CreatedBy: "admin"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDomainPolicy(ctx, &store.DomainPolicy{Host: "spam.example", Policy: store.DomainHold, Reason: "spam?", CreatedBy: "admin"}); err != nil {
		t.Fatal(err)
	}
	ps, _ := s.DomainPolicies(ctx)
	if len(ps) != 1 || ps[0].Policy != store.DomainHold {
		t.Fatalf("policies %+v", ps)
	}
}

func TestCountActivitiesByServerMatchesExactlyTheHost(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	for i, actor := range []string{"https://a.example/users/x", "http://a.example/users/y", "https://a.example/users/x",
		"https://a.example.evil/users/z", "https://b.example/users/a.example", "https://a.exampl/users/q", "https://a0example/u"} {
		id := fmt.Sprintf("https://remote.example/act/%d", i)
		if _, err := s.InsertInboxItem(ctx, &store.InboxItem{ActivityIRI: &id, ActorIRI: actor, Type: "Create", Raw: "{}"}); err != nil {
			t.Fatal(err)
		}
	}
	like := "https://remote.example/act/like"
	if _, err := s.InsertInboxItem(ctx, &store.InboxItem{ActivityIRI: &like, ActorIRI: "https://a.example/users/x", Type: "Like", Raw: "{}"}); err != nil {
		t.Fatal(err)
	}
	since := s.Now().Add(-time.Minute)
	if n, err := s.CountActivities(ctx, false, "a.example", since); err != nil || n != 3 {
		t.Fatalf("by server a.example: %d, %v; want 3", n, err)
	}
	if n, err := s.CountActivities(ctx, true, "https://a.example/users/x", since); err != nil || n != 2 {
		t.Fatalf("by author: %d, %v; want 2", n, err)
	}
	if n, err := s.CountActivities(ctx, false, "a.example", s.Now().Add(time.Minute)); err != nil || n != 0 {
		t.Fatalf("by server after the window: %d, %v; want 0", n, err)
	}
}
