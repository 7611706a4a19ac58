package federation

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/language"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/internal/markup"
	"github.com/torget/torget/internal/store"
)

// PostInput is what staff write.
type PostInput struct {
	Text         string // Markdown
	Summary      string // content warning, plain text
	Language     string // BCP 47; the group's language when empty
	AuthorUserID *int64 // recorded internally; the group is the public author
	// Media are the images to attach, in order, each with its alt text
	// (required). On Edit they replace the post's images (those left out
	// are detached); a nil Media keeps them as they are.
	Media     []MediaRef
	InReplyTo string // a resident's note in the group's threads: staff reply as the group
}

// MaxPostChars bounds a post's Markdown source.
const MaxPostChars = 20000

func (s *Service) validatePost(g *store.Group, in *PostInput) error {
	in.Text = strings.TrimSpace(strings.ReplaceAll(in.Text, "\x00", ""))
	in.Summary = strings.TrimSpace(strings.ReplaceAll(in.Summary, "\x00", ""))
	if in.Text == "" {
		return fmt.Errorf("%w: the post has no text", ErrInvalid)
	}
	if utf8.RuneCountInString(in.Text) > MaxPostChars {
		return fmt.Errorf("%w: the post is longer than %d characters", ErrInvalid, MaxPostChars)
	}
	if in.Language == "" {
		in.Language = g.Language
	}
	tag, err := language.Parse(in.Language)
	if err != nil {
		return fmt.Errorf("%w: language %q is not a BCP 47 tag", ErrInvalid, in.Language)
	}
	in.Language = tag.String()
	return nil
}

// NoteFor renders a post as a Note.
func (s *Service) NoteFor(g *store.Group, p *store.Post) *activitypub.Note {
	id := s.uris.Post(g.Slug, p.PublicID)
	n := &activitypub.Note{
		ID: id, Type: "Note", AttributedTo: s.uris.Group(g.Slug), Content: p.ContentHTML, Language: p.Language,
		Summary: p.Summary, Sensitive: p.Summary != "", URL: id,
		To: []string{activitypub.PublicIRI}, CC: []string{s.uris.Followers(g.Slug)},
		Published: p.PublishedAt, InReplyTo: p.InReplyTo,
		Context: s.uris.PostContext(g.Slug, p.PublicID), Replies: s.uris.PostReplies(g.Slug, p.PublicID),
	}
	if p.EditedAt != nil {
		n.Updated = *p.EditedAt
	}
	for _, m := range decodeMentions(p.Mentions) {
		n.Tags = append(n.Tags, activitypub.Tag{Type: "Mention", Href: m.Href, Name: m.Name})
		n.CC = append(n.CC, m.Href)
	}
	for _, tag := range markup.Hashtags(p.Source) {
		n.Tags = append(n.Tags, activitypub.Tag{Type: "Hashtag", Href: s.uris.Tag(tag), Name: "#" + tag})
	}
	n.Attachments = s.noteAttachments(p)
	return n
}

// Publish creates a post as the group and queues its Create for every
// follower, in one transaction. It returns the post and its id URL.
func (s *Service) Publish(ctx context.Context, slug string, in PostInput) (*store.Post, string, error) {
	g, err := s.store.GroupBySlug(ctx, slug)
	if err != nil {
		return nil, "", err
	}
	return s.publish(ctx, g, in, nil)
}

// publish is the one publishing path (now, a draft, a scheduled post).
// claim, when set, runs in the transaction after the post is inserted; an
// error from it rolls everything back (a draft published twice).
func (s *Service) publish(ctx context.Context, g *store.Group, in PostInput, claim func(tx *store.Store, p *store.Post) error) (*store.Post, string, error) {
	if g.ClosedAt != nil {
		return nil, "", fmt.Errorf("%w: the group is closed", ErrInvalid)
	}
	if err := s.validatePost(g, &in); err != nil {
		return nil, "", err
	}
	ctx = withAuthor(ctx, in.AuthorUserID)
	media, err := s.resolveMedia(ctx, g, 0, in.Media)
	if err != nil {
		return nil, "", err
	}
	r, err := s.render.Render(in.Text)
	if err != nil {
		return nil, "", err
	}
	ms := s.resolveMentions(ctx, r.Mentions)
	if in.InReplyTo != "" {
		// A reply reaches the resident (mentioned) and, as every post, the followers.
		m, err := s.replyMention(ctx, g, in.InReplyTo)
		if err != nil {
			return nil, "", err
		}
		if !hasMention(ms, m.Href) {
			ms = append(ms, m)
		}
	}
	p := &store.Post{PublicID: newID(10), GroupID: g.ID, AuthorUserID: in.AuthorUserID, Source: in.Text,
		ContentHTML: markup.LinkMentions(r.HTML, mentionLinks(ms)), Summary: in.Summary, Language: in.Language,
		Mentions: encodeMentions(ms), Attachments: encodeAttachments(media), PublishedAt: s.opt.Now().UTC(), InReplyTo: in.InReplyTo}
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.CreatePost(ctx, p); err != nil {
			return err
		}
		if err := tx.AttachMedia(ctx, p.ID, media); err != nil {
			return err
		}
		if claim != nil {
			if err := claim(tx, p); err != nil {
				return err
			}
		}
		note := s.NoteFor(g, p)
		act := &activitypub.Activity{ID: s.uris.Activity(newID(16)), Type: "Create", Actor: note.AttributedTo,
			Object: note, To: note.To, CC: note.CC, Published: p.PublishedAt}
		return s.queue(ctx, tx, g, act, note.ID, true, ms)
	})
	if err != nil {
		return nil, "", fmt.Errorf("publish in %s: %w", g.Slug, err)
	}
	s.contentChanged()
	s.opt.WakeDelivery()
	return p, s.uris.Post(g.Slug, p.PublicID), nil
}

// queue stores an activity and one delivery per follower inbox, and
// appends it to the record.
func (s *Service) queue(ctx context.Context, tx *store.Store, g *store.Group, act *activitypub.Activity, objectIRI string, outbox bool, ms []mention) error {
	return s.queueKind(ctx, tx, recordKind(act), g, act, objectIRI, outbox, ms)
}

func (s *Service) queueKind(ctx context.Context, tx *store.Store, kind string, g *store.Group, act *activitypub.Activity, objectIRI string, outbox bool, ms []mention) error {
	body, err := activitypub.EncodeActivity(act)
	if err != nil {
		return err
	}
	if err := recordOut(ctx, tx, kind, g, objectIRI, body); err != nil {
		return err
	}
	row := &store.Activity{IRI: act.ID, GroupID: &g.ID, Type: act.Type, ObjectIRI: objectIRI, InOutbox: outbox, JSON: string(body)}
	if err := tx.InsertActivity(ctx, row); err != nil {
		return err
	}
	if _, err := tx.EnqueueFollowers(ctx, row.ID, g.ID); err != nil {
		return err
	}
	return deliverToMentioned(ctx, tx, row.ID, ms)
}

// postForIRI finds a post by its id URL or bare public id.
func (s *Service) postForIRI(ctx context.Context, ref string) (*store.Post, *store.Group, error) {
	id := ref
	if i := strings.LastIndex(ref, "/posts/"); i >= 0 {
		id = ref[i+len("/posts/"):]
	}
	p, err := s.store.PostByPublicID(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	g, err := s.store.GroupByID(ctx, p.GroupID)
	if err != nil {
		return nil, nil, err
	}
	if strings.Contains(ref, "/") && ref != s.uris.Post(g.Slug, p.PublicID) {
		return nil, nil, fmt.Errorf("post %q: %w", ref, store.ErrNotFound)
	}
	return p, g, nil
}

// Edit stores a new version of a post and federates an Update.
func (s *Service) Edit(ctx context.Context, ref string, in PostInput) (*store.Post, error) {
	p, g, err := s.postForIRI(ctx, ref)
	if err != nil {
		return nil, err
	}
	if p.DeletedAt != nil {
		return nil, fmt.Errorf("%w: the post was deleted", ErrInvalid)
	}
	if in.Language == "" {
		in.Language = p.Language
	}
	if err := s.validatePost(g, &in); err != nil {
		return nil, err
	}
	ctx = withAuthor(ctx, in.AuthorUserID)
	if in.Media == nil { // callers that know nothing of images keep them
		for _, a := range Attachments(p) {
			in.Media = append(in.Media, MediaRef{PublicID: a.ID, Alt: a.Alt})
		}
	}
	media, err := s.resolveMedia(ctx, g, p.ID, in.Media)
	if err != nil {
		return nil, err
	}
	r, err := s.render.Render(in.Text)
	if err != nil {
		return nil, err
	}
	// Those mentioned before and now both hear of the edit.
	ms := s.resolveMentions(ctx, r.Mentions)
	notify := append(ms, decodeMentionsWithInbox(ctx, s, p.Mentions)...)
	p.Source, p.Summary, p.Language, p.AuthorUserID = in.Text, in.Summary, in.Language, in.AuthorUserID
	p.ContentHTML, p.Mentions = markup.LinkMentions(r.HTML, mentionLinks(ms)), encodeMentions(ms)
	p.Attachments = encodeAttachments(media)
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.UpdatePost(ctx, p); err != nil {
			return err
		}
		if err := tx.AttachMedia(ctx, p.ID, media); err != nil {
			return err
		}
		note := s.NoteFor(g, p)
		act := &activitypub.Activity{ID: s.uris.Activity(newID(16)), Type: "Update", Actor: note.AttributedTo,
			Object: note, To: note.To, CC: note.CC, Published: *p.EditedAt}
		return s.queue(ctx, tx, g, act, note.ID, false, notify)
	})
	if err != nil {
		return nil, fmt.Errorf("edit %s: %w", ref, err)
	}
	s.contentChanged()
	s.opt.WakeDelivery()
	return p, nil
}

// Delete hides a post, serves a Tombstone in its place and federates a
// Delete. The post and its versions stay in the database for the record.
func (s *Service) Delete(ctx context.Context, ref string) error {
	p, g, err := s.postForIRI(ctx, ref)
	if err != nil {
		return err
	}
	if p.DeletedAt != nil {
		return nil
	}
	now := s.opt.Now().UTC()
	notify := decodeMentionsWithInbox(ctx, s, p.Mentions)
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.MarkPostDeleted(ctx, p.ID); err != nil {
			return err
		}
		id := s.uris.Post(g.Slug, p.PublicID)
		if err := tx.RemoveFromOutbox(ctx, id); err != nil {
			return err
		}
		act := &activitypub.Activity{ID: s.uris.Activity(newID(16)), Type: "Delete", Actor: s.uris.Group(g.Slug),
			Object: &activitypub.Tombstone{ID: id, FormerType: "Note", Deleted: now},
			To:     []string{activitypub.PublicIRI}, CC: []string{s.uris.Followers(g.Slug)}, Published: now}
		return s.queue(ctx, tx, g, act, id, false, notify)
	})
	if err != nil {
		return fmt.Errorf("delete %s: %w", ref, err)
	}
	s.contentChanged()
	s.opt.WakeDelivery()
	return nil
}

// Tombstone renders a deleted post.
func (s *Service) Tombstone(g *store.Group, p *store.Post) *activitypub.Tombstone {
	t := &activitypub.Tombstone{ID: s.uris.Post(g.Slug, p.PublicID), FormerType: "Note", Published: p.PublishedAt}
	if p.DeletedAt != nil {
		t.Deleted = *p.DeletedAt
	}
	return t
}

// decodeMentionsWithInbox reloads stored mentions with their inboxes from
// the actor cache, so edits and deletes reach those the post mentioned.
func decodeMentionsWithInbox(ctx context.Context, s *Service, stored string) []mention {
	ms := decodeMentions(stored)
	for i := range ms {
		if a, err := s.store.RemoteActorByIRI(ctx, ms[i].Href); err == nil {
			ms[i].inbox, ms[i].host = a.SharedInbox, a.Host
			if ms[i].inbox == "" {
				ms[i].inbox = a.Inbox
			}
		}
	}
	return ms
}

// Preview renders Markdown as Publish would store it, without publishing:
// the same renderer and sanitiser. Mentions are not resolved (that would
// fetch remote actors), so they show as plain text.
func (s *Service) Preview(text string) (string, error) {
	r, err := s.render.Render(strings.TrimSpace(text))
	if err != nil {
		return "", err
	}
	return r.HTML, nil
}

// Pin pins or unpins a post and federates the change the way Mastodon
// does: an Add (pin) or Remove (unpin) whose object is the Note's id and
// whose target is the group's featured collection, queued for every
// follower in the transaction that changes the post. Pinning a pinned
// post (or unpinning an unpinned one) changes and sends nothing.
func (s *Service) Pin(ctx context.Context, ref string, pinned bool) (*store.Post, error) {
	p, g, err := s.postForIRI(ctx, ref)
	if err != nil {
		return nil, err
	}
	if p.DeletedAt != nil {
		return nil, fmt.Errorf("%w: the post was deleted", ErrInvalid)
	}
	if (p.PinnedAt != nil) == pinned {
		return p, nil
	}
	typ := "Remove"
	if pinned {
		typ = "Add"
	}
	now := s.opt.Now().UTC()
	id := s.uris.Post(g.Slug, p.PublicID)
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.SetPinned(ctx, p.ID, pinned); err != nil {
			return err
		}
		act := &activitypub.Activity{ID: s.uris.Activity(newID(16)), Type: typ, Actor: s.uris.Group(g.Slug),
			Object: id, Target: s.uris.Featured(g.Slug),
			To: []string{activitypub.PublicIRI}, CC: []string{s.uris.Followers(g.Slug)}, Published: now}
		return s.queue(ctx, tx, g, act, id, false, nil)
	})
	if err != nil {
		return nil, fmt.Errorf("pin %s: %w", ref, err)
	}
	if pinned {
		p.PinnedAt = &now
	} else {
		p.PinnedAt = nil
	}
	s.contentChanged()
	s.opt.WakeDelivery()
	return p, nil
}
