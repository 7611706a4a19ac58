package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/store/storetest"
)

func newMedia(t *testing.T, s *store.Store, g *store.Group, uid int64, pid string) *store.Media {
	t.Helper()
	m := &store.Media{PublicID: pid, GroupID: g.ID, UploaderUserID: &uid, LargeKey: "i/" + pid + "/large.png",
		SmallKey: "i/" + pid + "/small.png", MediaType: "image/png", Width: 40, Height: 30, SmallWidth: 40, SmallHeight: 30,
		Blurhash: "LEHV6nWB2yk8", ByteSize: 123}
	if err := s.CreateMedia(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	return m
}

// Attaching replaces a post's media in order with their alt text; those
// left out are detached, not deleted. A group's avatar is loaded with it.
func TestMediaAttachAndGroupImages(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	g := newGroup(t, s, "g")
	u := newUser(t, s, "anna", "editor")
	a, b, c := newMedia(t, s, g, u.ID, "aaa"), newMedia(t, s, g, u.ID, "bbb"), newMedia(t, s, g, u.ID, "ccc")
	p := &store.Post{PublicID: "p1", GroupID: g.ID, Source: "x", ContentHTML: "<p>x</p>", Language: "sv", Attachments: `[{"id":"aaa"}]`}
	if err := s.CreatePost(ctx, p); err != nil {
		t.Fatal(err)
	}
	a.AltText, b.AltText = "första", "andra"
	if err := s.AttachMedia(ctx, p.ID, []store.Media{*b, *a}); err != nil {
		t.Fatal(err)
	}
	got, err := s.MediaOfPost(ctx, p.ID)
	if err != nil || len(got) != 2 || got[0].PublicID != "bbb" || got[0].AltText != "andra" || got[1].Position != 1 || got[1].AltText != "första" {
		t.Fatalf("media of post: %+v %v", got, err)
	}
	if err := s.AttachMedia(ctx, p.ID, []store.Media{*c}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.MediaOfPost(ctx, p.ID); len(got) != 1 || got[0].PublicID != "ccc" {
		t.Fatalf("after re-attach: %+v", got)
	}
	if old, err := s.MediaByPublicID(ctx, "aaa"); err != nil || old.PostID != nil {
		t.Fatalf("detached medium: %+v %v", old, err)
	}
	if err := s.AttachMedia(ctx, p.ID, []store.Media{{ID: 9999, PublicID: "gone"}}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("attach a missing medium: %v", err)
	}
	if got, _ := s.PostByPublicID(ctx, "p1"); got.Attachments != `[{"id":"aaa"}]` {
		t.Fatalf("attachments column: %q", got.Attachments)
	}

	if err := s.SetGroupImage(ctx, g.ID, "avatar", &a.ID, "logotyp"); err != nil {
		t.Fatal(err)
	}
	gg, err := s.GroupBySlug(ctx, "g")
	if err != nil || gg.Avatar == nil || gg.Avatar.PublicID != "aaa" || gg.AvatarAlt != "logotyp" || gg.Header != nil {
		t.Fatalf("group with avatar: %+v %v", gg, err)
	}
	if err := s.SetGroupImage(ctx, g.ID, "avatar", nil, ""); err != nil {
		t.Fatal(err)
	}
	if gg, _ := s.GroupByID(ctx, g.ID); gg.Avatar != nil || gg.AvatarMediaID != nil {
		t.Fatalf("avatar not cleared: %+v", gg)
	}
	if err := s.SetGroupImage(ctx, g.ID, "banner", nil, ""); err == nil {
		t.Fatal("unknown image kind accepted")
	}
}
