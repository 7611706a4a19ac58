package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/internal/store"
)

// MediaRef names an uploaded image (store.Media.PublicID) to attach, with
// its alt text.
type MediaRef struct {
	PublicID string
	Alt      string
}

// Limits on attachments, as Mastodon has them: four images a post, alt
// text of at most 1500 characters.
const (
	MaxAttachments = 4
	MaxAltChars    = 1500
)

// Attachment is an attached image as stored with the post (JSON in
// posts.attachments) and rendered on pages and in the Note.
type Attachment struct {
	ID          string `json:"id"`
	LargeKey    string `json:"large"`
	SmallKey    string `json:"small"`
	MediaType   string `json:"type"`
	Width       int    `json:"w"`
	Height      int    `json:"h"`
	SmallWidth  int    `json:"sw"`
	SmallHeight int    `json:"sh"`
	Blurhash    string `json:"blurhash,omitempty"`
	Alt         string `json:"alt"`
}

// Attachments decodes a post's stored attachments.
func Attachments(p *store.Post) []Attachment {
	if p.Attachments == "" {
		return nil
	}
	var as []Attachment
	if err := json.Unmarshal([]byte(p.Attachments), &as); err != nil {
		return nil
	}
	return as
}

func encodeAttachments(ms []store.Media) string {
	if len(ms) == 0 {
		return ""
	}
	as := make([]Attachment, 0, len(ms))
	for _, m := range ms {
		as = append(as, Attachment{ID: m.PublicID, LargeKey: m.LargeKey, SmallKey: m.SmallKey, MediaType: m.MediaType,
			Width: m.Width, Height: m.Height, SmallWidth: m.SmallWidth, SmallHeight: m.SmallHeight,
			Blurhash: m.Blurhash, Alt: m.AltText})
	}
	b, _ := json.Marshal(as)
	return string(b)
}

// noteAttachments renders stored attachments as the Note's Image
// attachments: the large size, alt text as name.
func (s *Service) noteAttachments(p *store.Post) []activitypub.Attachment {
	var out []activitypub.Attachment
	for _, a := range Attachments(p) {
		out = append(out, activitypub.Attachment{Type: "Image", MediaType: a.MediaType, URL: s.uris.Media(a.LargeKey),
			Name: a.Alt, Width: a.Width, Height: a.Height, Blurhash: a.Blurhash})
	}
	return out
}

// cleanAlt normalises alt text and checks it.
func cleanAlt(alt string) (string, error) {
	alt = strings.TrimSpace(strings.ReplaceAll(alt, "\x00", ""))
	if alt == "" {
		return "", fmt.Errorf("%w: an image has no alt text (describe what it shows)", ErrInvalid)
	}
	if utf8.RuneCountInString(alt) > MaxAltChars {
		return "", fmt.Errorf("%w: alt text is longer than %d characters", ErrInvalid, MaxAltChars)
	}
	return alt, nil
}

// resolveMedia loads the media refs name, checking that each exists,
// belongs to group g, has alt text and is unattached or already attached
// to post postID (0: a new post).
func (s *Service) resolveMedia(ctx context.Context, g *store.Group, postID int64, refs []MediaRef) ([]store.Media, error) {
	if len(refs) > MaxAttachments {
		return nil, fmt.Errorf("%w: at most %d images per post", ErrInvalid, MaxAttachments)
	}
	seen := map[string]bool{}
	out := make([]store.Media, 0, len(refs))
	for _, r := range refs {
		if seen[r.PublicID] {
			return nil, fmt.Errorf("%w: image %s attached twice", ErrInvalid, r.PublicID)
		}
		seen[r.PublicID] = true
		alt, err := cleanAlt(r.Alt)
		if err != nil {
			return nil, err
		}
		m, err := s.store.MediaByPublicID(ctx, r.PublicID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("%w: image %s does not exist", ErrInvalid, r.PublicID)
		}
		if err != nil {
			return nil, err
		}
		if m.GroupID != g.ID || (m.PostID != nil && *m.PostID != postID) {
			return nil, fmt.Errorf("%w: image %s belongs elsewhere", ErrInvalid, r.PublicID)
		}
		m.AltText = alt
		out = append(out, *m)
	}
	return out, nil
}

// SetGroupImage sets or (ref nil) removes a group's avatar ("avatar") or
// header ("header") and federates an Update of the Group actor, as
// UpdateGroup does, in one transaction. The medium must have been
// uploaded for the group.
func (s *Service) SetGroupImage(ctx context.Context, slug, which string, ref *MediaRef) (*store.Group, error) {
	if which != "avatar" && which != "header" {
		return nil, fmt.Errorf("%w: unknown group image %q", ErrInvalid, which)
	}
	g, err := s.store.GroupBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	var id *int64
	alt := ""
	if ref != nil {
		ms, err := s.resolveMedia(ctx, g, 0, []MediaRef{*ref})
		if err != nil {
			return nil, err
		}
		id, alt = &ms[0].ID, ms[0].AltText
	}
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.SetGroupImage(ctx, g.ID, which, id, alt); err != nil {
			return err
		}
		g, err = tx.GroupByID(ctx, g.ID)
		if err != nil {
			return err
		}
		actor := s.GroupActor(g)
		act := &activitypub.Activity{ID: s.uris.Activity(newID(16)), Type: "Update", Actor: actor.ID, Object: actor,
			To: []string{activitypub.PublicIRI}, CC: []string{actor.Followers}, Published: g.UpdatedAt.UTC()}
		return s.queue(ctx, tx, g, act, actor.ID, false, nil)
	})
	if err != nil {
		return nil, fmt.Errorf("set %s of group %s: %w", which, slug, err)
	}
	s.groups.forget(g.Slug)
	s.contentChanged()
	s.opt.WakeDelivery()
	return g, nil
}
