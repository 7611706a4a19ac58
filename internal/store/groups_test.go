package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/store/storetest"
)

func TestUpdateGroupKeepsSlugAndKeys(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	g := newGroup(t, s, "a")
	edit := *g
	edit.Name, edit.Purpose, edit.Summary, edit.Language, edit.WebsiteURL, edit.ManualApproval = "Nytt", "Nytt syfte", "Om", "en", "https://a.example/", true
	edit.Slug, edit.PrivateKeyPEM, edit.PublicKeyPEM = "ignored", "other", "other"
	if err := s.UpdateGroup(ctx, &edit); err != nil {
		t.Fatal(err)
	}
	got, err := s.GroupBySlug(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Nytt" || got.Purpose != "Nytt syfte" || got.Summary != "Om" || got.Language != "en" ||
		got.WebsiteURL != "https://a.example/" || !got.ManualApproval || got.PrivateKeyPEM != "priv" || got.PublicKeyPEM != "pub" {
		t.Fatalf("updated group %+v", got)
	}
	if err := s.UpdateGroup(ctx, &store.Group{ID: 9999, Slug: "x"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing group: %v", err)
	}
}

func TestFollowerHosts(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	g := newGroup(t, s, "g")
	var fs []store.Follower
	add := func(host string, n int, state string) {
		for i := 0; i < n; i++ {
			iri := fmt.Sprintf("https://%s/u/%s%d", host, state, i)
			fs = append(fs, store.Follower{GroupID: g.ID, ActorIRI: iri, Inbox: iri + "/inbox", Host: host, State: state})
		}
	}
	add("b.example", 3, store.FollowAccepted)
	add("a.example", 3, store.FollowAccepted)
	add("c.example", 5, store.FollowAccepted)
	add("d.example", 1, store.FollowAccepted)
	add("p.example", 9, store.FollowPending)
	if err := s.InsertFollowers(ctx, fs); err != nil {
		t.Fatal(err)
	}
	hs, err := s.FollowerHosts(ctx, g.ID, store.FollowAccepted, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.HostCount{{"c.example", 5}, {"a.example", 3}, {"b.example", 3}}
	if fmt.Sprint(hs) != fmt.Sprint(want) {
		t.Fatalf("hosts %v, want %v", hs, want)
	}
}
