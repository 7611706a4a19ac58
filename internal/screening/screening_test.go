package screening_test

import (
	"context"
	"testing"
	"time"

	"github.com/torget/torget/internal/moderation"
	"github.com/torget/torget/internal/screening"
	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/store/storetest"
)

func TestPolicyModesAndCache(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	s := screening.New(st, time.Hour)
	if p, _ := s.Policy(ctx, "any.example"); p != "" {
		t.Fatalf("deny-list default: %q", p)
	}
	if err := st.SetDomainPolicy(ctx, &store.DomainPolicy{Host: "bad.example", Policy: store.DomainReject, Reason: "spam", CreatedBy: "a"}); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Policy(ctx, "bad.example"); p != "" {
		t.Fatal("cache not kept within its ttl") // proves the cache is used…
	}
	s.Invalidate() // …and that invalidation reloads it
	if p, _ := s.Policy(ctx, "sub.bad.example"); p != store.DomainReject {
		t.Fatalf("subdomain of a rejected domain: %q", p)
	}
	if s.Deliverable(ctx, "bad.example") || !s.Deliverable(ctx, "good.example") {
		t.Fatal("deliverable")
	}
	if why, _ := s.RefuseInbound(ctx, "bad.example", "https://bad.example/u/x", 0); why == "" {
		t.Fatal("rejected host not refused")
	}
	if err := st.SetSetting(ctx, screening.SettingFederationMode, screening.ModeAllowlist); err != nil {
		t.Fatal(err)
	}
	if err := st.SetDomainPolicy(ctx, &store.DomainPolicy{Host: "friend.example", Policy: store.DomainAllow, Reason: "kommun", CreatedBy: "a"}); err != nil {
		t.Fatal(err)
	}
	s.Invalidate()
	if p, _ := s.Policy(ctx, "other.example"); p != store.DomainReject {
		t.Fatalf("allow-list mode, unlisted: %q", p)
	}
	if p, _ := s.Policy(ctx, "friend.example"); p != "" {
		t.Fatalf("allow-list mode, listed: %q", p)
	}
}

func TestScreenAppliesGroupRules(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	g := &store.Group{Slug: "g", Name: "g", Purpose: "p", Language: "sv", PrivateKeyPEM: "x", PublicKeyPEM: "y"}
	if err := st.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	if err := screening.SeedDefaultRules(ctx, st); err != nil {
		t.Fatal(err)
	}
	if rs, _ := st.CurrentRules(ctx, 0); len(rs) != len(moderation.Grounds) {
		t.Fatalf("seeded %d rules", len(rs))
	}
	gid := g.ID
	if err := st.SaveRule(ctx, &store.ModRule{RuleID: "g-ord", GroupID: &gid, Kind: "words", Text: "t", Action: "hide", LegalGround: "villkor-amne", Pattern: "fotboll", CreatedBy: "a"}); err != nil {
		t.Fatal(err)
	}
	s := screening.New(st, time.Hour)
	v, err := s.Screen(ctx, moderation.Item{GroupID: g.ID, AuthorIRI: "https://a.example/u/1", AuthorHost: "a.example", Text: "FOTBOLL idag", KnownAuthor: true})
	if err != nil || v.Action != moderation.Hide || len(v.Matches) != 1 || v.Matches[0].RuleID != "g-ord" {
		t.Fatalf("group rule: %+v %v", v, err)
	}
	v, _ = s.Screen(ctx, moderation.Item{GroupID: 0, AuthorIRI: "https://a.example/u/1", AuthorHost: "a.example", Text: "fotboll", KnownAuthor: true})
	if v.Action != moderation.Accept {
		t.Fatalf("group rule applied outside its group: %+v", v)
	}
	if err := st.SetDomainPolicy(ctx, &store.DomainPolicy{Host: "a.example", Policy: store.DomainNoMedia, Reason: "r", CreatedBy: "a"}); err != nil {
		t.Fatal(err)
	}
	s.Invalidate()
	v, _ = s.Screen(ctx, moderation.Item{GroupID: g.ID, AuthorIRI: "https://a.example/u/1", AuthorHost: "a.example", Text: "hej", Media: 2, KnownAuthor: true})
	if !v.DropMedia || v.Action != moderation.Accept {
		t.Fatalf("no-media policy: %+v", v)
	}
}
