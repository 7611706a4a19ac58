package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/internal/markup"
	"github.com/torget/torget/internal/moderation"
	"github.com/torget/torget/internal/store"
)

// Screener applies the moderation rules to an inbound resident item; a nil Screener accepts all.
type Screener interface {
	Screen(ctx context.Context, it moderation.Item) (moderation.Verdict, error)
}

// Bounds of the work one inbound note may cause.
const (
	maxParentDepth = 8   // parents fetched to find the thread a reply belongs to
	maxThreadDepth = 64  // deepest reply kept in a thread
	maxAttachments = 8   // attachments kept per note
	maxNoteBytes   = 100 // KiB of sanitised HTML kept per note
)

// noteOutcome is what processing one resident's note decided.
type noteOutcome struct {
	note    *store.RemoteNote
	created bool
}

// isPublic reports whether a resident addressed the note to everyone
// (public or unlisted): only such notes are shown on the group's pages.
func isPublic(o *activitypub.RemoteObject) bool {
	for _, a := range append(append([]string{}, o.To...), o.CC...) {
		if a == activitypub.PublicIRI || a == "as:Public" || a == "Public" {
			return true
		}
	}
	return false
}

// objectFromActivity returns the activity's object as a post, from the
// embedded copy when it is on the actor's origin and attributed to the
// actor, and from its origin otherwise (never trusting a foreign copy).
func (s *Service) objectFromActivity(ctx context.Context, in *activitypub.Incoming) (*activitypub.RemoteObject, string, error) {
	ref := in.Object
	if ref.Embedded && ref.ID != "" && activitypub.SameOrigin(ref.ID, in.Actor) {
		o, err := activitypub.DecodeRemoteObject(ref.Raw)
		if err != nil {
			return nil, "", err
		}
		raw, _ := json.Marshal(ref.Raw)
		return o, string(raw), nil
	}
	if ref.ID == "" {
		return nil, "", fmt.Errorf("%w: object has no id", activitypub.ErrMalformed)
	}
	return s.fetchObject(ctx, ref.ID)
}

// fetchObject fetches a post from its origin with a signed GET. The
// document's id must be the IRI asked for and its author on the same
// origin.
func (s *Service) fetchObject(ctx context.Context, iri string) (*activitypub.RemoteObject, string, error) {
	if s.uris.IsLocal(iri) {
		return nil, "", fmt.Errorf("fetch %s: %w: local object", iri, activitypub.ErrOrigin)
	}
	body, final, err := s.client.Get(ctx, iri, s.signGET)
	if err != nil {
		return nil, "", fmt.Errorf("%w: fetch %s: %v", ErrTemporary, iri, err)
	}
	m, err := activitypub.DecodeObject(body, s.opt.Limits)
	if err != nil {
		return nil, "", fmt.Errorf("fetch %s: %w", iri, err)
	}
	o, err := activitypub.DecodeRemoteObject(m)
	if err != nil {
		return nil, "", fmt.Errorf("fetch %s: %w", iri, err)
	}
	if o.ID != iri || !activitypub.SameOrigin(final, iri) {
		return nil, "", fmt.Errorf("fetch %s: document id %q differs: %w", iri, o.ID, activitypub.ErrOrigin)
	}
	if !activitypub.SameOrigin(o.AttributedTo, o.ID) {
		return nil, "", fmt.Errorf("fetch %s: attributed to %s on another origin: %w", iri, o.AttributedTo, activitypub.ErrOrigin)
	}
	return o, string(body), nil
}

// threadPlace is where a note belongs: its group, its thread's root and
// the group post there, its depth.
type threadPlace struct {
	group  *store.Group
	root   string
	postID *int64
	depth  int
}

// placeOf finds where o belongs: under a group post or a note we keep
// (fetching unknown parents from their origin, bounded), or as a new
// thread in a group it mentions or addresses. ok is false when o concerns
// none of our groups.
func (s *Service) placeOf(ctx context.Context, o *activitypub.RemoteObject, hint *int64, seen map[string]bool, budget int) (threadPlace, bool, error) {
	if o.InReplyTo != "" {
		p, ok, err := s.placeUnder(ctx, o.InReplyTo, seen, budget)
		if err != nil || ok {
			return p, ok, err
		}
	}
	for _, a := range s.groupsAddressed(o) {
		g, err := s.localGroup(ctx, a)
		if err == nil {
			return threadPlace{group: g, root: o.ID}, true, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return threadPlace{}, false, err
		}
	}
	return threadPlace{}, false, nil
}

// placeUnder is the place of a reply to parent.
func (s *Service) placeUnder(ctx context.Context, parent string, seen map[string]bool, budget int) (threadPlace, bool, error) {
	if seen[parent] {
		return threadPlace{}, false, nil // a reply cycle
	}
	seen[parent] = true
	if s.uris.IsLocal(parent) {
		id, g, err := s.postPlace(ctx, parent)
		if errors.Is(err, store.ErrNotFound) {
			return threadPlace{}, false, nil
		}
		if err != nil {
			return threadPlace{}, false, err
		}
		return threadPlace{group: g, root: parent, postID: &id, depth: 1}, true, nil
	}
	if n, err := s.store.RemoteNoteByIRI(ctx, parent); err == nil {
		g, err := s.groupByID(ctx, n.GroupID)
		if err != nil {
			return threadPlace{}, false, err
		}
		if n.Depth+1 > maxThreadDepth {
			return threadPlace{}, false, nil
		}
		return threadPlace{group: g, root: n.RootIRI, postID: n.PostID, depth: n.Depth + 1}, true, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return threadPlace{}, false, err
	}
	if budget <= 0 {
		return threadPlace{}, false, nil
	}
	// A parent we never received (a reply to a reply that Mastodon sent
	// only to its author): fetch it and keep it if it is in a thread.
	po, raw, err := s.fetchObject(ctx, parent)
	if err != nil {
		s.log.Info("parent not fetched", "iri", parent, "err", err)
		return threadPlace{}, false, nil
	}
	pp, ok, err := s.placeOf(ctx, po, nil, seen, budget-1)
	if err != nil || !ok {
		return pp, ok, err
	}
	if !isPublic(po) {
		return threadPlace{}, false, nil
	}
	n, err := s.storeNote(ctx, po, raw, pp, "backfill")
	if err != nil {
		return threadPlace{}, false, err
	}
	if n.Depth+1 > maxThreadDepth {
		return threadPlace{}, false, nil
	}
	return threadPlace{group: pp.group, root: n.RootIRI, postID: n.PostID, depth: n.Depth + 1}, true, nil
}

// groupsAddressed lists the IRIs in o's to, cc, audience and Mention
// tags that are local.
func (s *Service) groupsAddressed(o *activitypub.RemoteObject) []string {
	var out []string
	seen := map[string]bool{}
	add := func(a string) {
		if a != "" && !seen[a] && s.uris.IsLocal(a) {
			if _, ok := s.uris.GroupSlug(a); ok {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	for _, a := range o.Addressed() {
		add(a)
	}
	for _, t := range o.Tags {
		if t.Type == "Mention" {
			add(t.Href)
		}
	}
	return out
}

var hrefRE = regexp.MustCompile(`<a rel="nofollow ugc noopener" href="([^"]+)"( class="([^"]*)")?`)

// renderNote sanitises o's content into what we keep and show.
func (s *Service) renderNote(o *activitypub.RemoteObject) (htmlOut, atts string) {
	body := o.Content
	if o.Name != "" && o.Type != "Note" {
		body = "<p><strong>" + escapeHTML(o.Name) + "</strong></p>" + body
	}
	emoji := markup.RemoteEmoji{}
	for _, e := range o.Emojis {
		if u := s.MediaURL(e.URL); u != "" {
			emoji[e.Name] = u
		}
	}
	out := markup.SanitizeRemote(body, emoji)
	if len(out) > maxNoteBytes<<10 {
		out = markup.SanitizeRemote(out[:maxNoteBytes<<10], nil)
	}
	var as []store.NoteAttachment
	for i, a := range o.Attachments {
		if i >= maxAttachments {
			break
		}
		if _, err := activitypub.ParseIRI(a.URL); err != nil {
			continue
		}
		as = append(as, store.NoteAttachment{URL: a.URL, MediaType: a.MediaType, Name: a.Name})
	}
	b, _ := json.Marshal(as)
	if as == nil {
		b = []byte("[]")
	}
	return out, string(b)
}

func escapeHTML(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// screen runs the screener on a note and decides its state with the
// group's discussion mode.
func (s *Service) screen(ctx context.Context, g *store.Group, n *store.RemoteNote, o *activitypub.RemoteObject) error {
	v := moderation.Verdict{Action: moderation.Accept}
	var sc Screener
	if b := s.screener.Load(); b != nil {
		sc = b.Screener
	}
	at := s.opt.Now().UTC()
	standing, err := s.store.AuthorStanding(ctx, g.ID, n.AuthorIRI, at)
	if err != nil {
		return fmt.Errorf("%w: author standing: %v", ErrTemporary, err)
	}
	if sc != nil {
		it := moderation.Item{GroupID: g.ID, AuthorIRI: n.AuthorIRI, AuthorHost: n.AuthorHost,
			Text:  strings.TrimSpace(o.Name + " " + o.Summary + " " + markup.PlainText(n.ContentHTML)),
			Media: len(o.Attachments), KnownAuthor: standing.Known, Blocked: standing.Blocked, At: at}
		for _, m := range hrefRE.FindAllStringSubmatch(n.ContentHTML, -1) {
			if strings.Contains(m[3], "mention") {
				it.Mentions++
			} else {
				it.Links = append(it.Links, strings.ReplaceAll(m[1], "&amp;", "&"))
			}
		}
		for _, t := range o.Tags {
			if t.Type == "Mention" {
				it.Mentions++
			}
		}
		var err error
		if v, err = sc.Screen(ctx, it); err != nil {
			return fmt.Errorf("%w: screen: %v", ErrTemporary, err)
		}
		if v.Action == "" {
			v.Action = moderation.Accept
		}
		if v.DropMedia {
			n.Attachments = "[]" // domain policy: no media from this server
		}
	}
	n.Verdict = string(v.Action)
	ms, _ := json.Marshal(v.Matches)
	if v.Matches == nil {
		ms = []byte("[]")
	}
	n.Matches = string(ms)
	n.State = StateFor(v.Action, g.DiscussionMode)
	if n.State == store.NoteVisible && s.opt.Unsupervised != nil {
		lapsed, err := s.opt.Unsupervised(ctx, g)
		if err != nil {
			return fmt.Errorf("%w: supervision: %v", ErrTemporary, err)
		}
		if lapsed {
			n.State = store.NoteHeld // nobody is watching: wait for a review
		}
	}
	// An author whose erasure request was granted with removal from
	// public view stays removed: later notes are kept for the record and
	// shown nowhere (PRV-5).
	if standing.Erased {
		n.State = store.NoteErased
	}
	return nil
}

// StateFor combines a verdict's action with a group's discussion mode.
func StateFor(a moderation.Action, mode string) string {
	switch a {
	case moderation.Reject:
		return store.NoteRejected
	case moderation.Hide:
		return store.NoteHidden
	case moderation.Hold:
		return store.NoteHeld
	}
	if mode == store.ModeModerated {
		return store.NoteHeld
	}
	return store.NoteVisible
}

// storeNote screens and stores a note at its place (idempotent: a note
// stored before is returned as it is — found by the insert, since a
// redelivery is rare and looking first cost every new note a query).
func (s *Service) storeNote(ctx context.Context, o *activitypub.RemoteObject, raw string, p threadPlace, via string) (*store.RemoteNote, error) {
	// Cache (and refresh when stale) the author, for their handle.
	if _, err := s.FetchActor(ctx, o.AttributedTo, false); err != nil {
		return nil, fmt.Errorf("%w: author: %v", ErrTemporary, err)
	}
	content, atts := s.renderNote(o)
	n := &store.RemoteNote{IRI: o.ID, GroupID: p.group.ID, Type: o.Type, AuthorIRI: o.AttributedTo,
		AuthorHost: activitypub.Host(o.AttributedTo), URL: o.URL, InReplyTo: o.InReplyTo, RootIRI: p.root,
		PostID: p.postID, Depth: p.depth, Summary: plainSummary(o.Summary), ContentHTML: content, Language: o.Language,
		Sensitive: o.Sensitive || o.Summary != "", Attachments: atts, RepliesIRI: o.Replies, Via: via, Raw: raw,
		PublishedAt: o.Published}
	if n.PublishedAt.IsZero() || n.PublishedAt.After(s.opt.Now()) {
		n.PublishedAt = s.opt.Now().UTC()
	}
	if _, err := activitypub.ParseIRI(n.URL); err != nil || !activitypub.SameOrigin(n.URL, n.IRI) {
		n.URL = ""
	}
	if err := s.screen(ctx, p.group, n, o); err != nil {
		return nil, err
	}
	created, err := s.store.InsertRemoteNote(ctx, n)
	if err != nil {
		return nil, err
	}
	if !created {
		return s.store.RemoteNoteByIRI(ctx, o.ID)
	}
	s.contentChanged()
	return n, nil
}

// onCreate takes a resident's post into a group's conversation; the
// note is the one stored (or found stored), nil when none was.
func (s *Service) onCreate(ctx context.Context, it *store.InboxItem, in *activitypub.Incoming) (Outcome, *store.RemoteNote, error) {
	if in.Object.Embedded && in.Object.Type != "" && !activitypub.PostTypes[in.Object.Type] {
		return ignored("Create of a " + in.Object.Type + " is not supported"), nil, nil
	}
	o, raw, err := s.objectFromActivity(ctx, in)
	if err != nil {
		if errors.Is(err, ErrTemporary) {
			return Outcome{}, nil, err
		}
		return ignored("Create: " + err.Error()), nil, nil
	}
	if o.AttributedTo != in.Actor {
		return ignored(fmt.Sprintf("Create by %s of a post attributed to %s", in.Actor, o.AttributedTo)), nil, nil
	}
	if !isPublic(o) {
		return ignored("not public: residents' direct messages are not shown"), nil, nil
	}
	p, ok, err := s.placeOf(ctx, o, it.GroupID, map[string]bool{o.ID: true}, maxParentDepth)
	if err != nil {
		return Outcome{}, nil, err
	}
	if !ok {
		return ignored("not addressed to a group nor in a group's thread"), nil, nil
	}
	n, err := s.storeNote(ctx, o, raw, p, "inbox")
	if err != nil {
		return Outcome{}, nil, err
	}
	if err := s.announceIfDue(ctx, p.group, n, []byte(it.Raw)); err != nil {
		return Outcome{}, nil, err
	}
	s.queueBackfill(ctx, n)
	return processed(fmt.Sprintf("note %s in %s: %s", n.State, p.group.Slug, n.IRI)), n, nil
}

// onNoteUpdate applies an author's edit of a note we keep.
func (s *Service) onNoteUpdate(ctx context.Context, it *store.InboxItem, in *activitypub.Incoming) (Outcome, error) {
	n, err := s.store.RemoteNoteByIRI(ctx, in.Object.ID)
	if errors.Is(err, store.ErrNotFound) {
		return ignored("Update of an object we do not keep"), nil
	}
	if err != nil {
		return Outcome{}, err
	}
	if n.AuthorIRI != in.Actor {
		return ignored(fmt.Sprintf("Update by %s of a note by %s", in.Actor, n.AuthorIRI)), nil
	}
	o, raw, err := s.objectFromActivity(ctx, in)
	if err != nil {
		if errors.Is(err, ErrTemporary) {
			return Outcome{}, err
		}
		return ignored("Update: " + err.Error()), nil
	}
	if o.ID != n.IRI || o.AttributedTo != n.AuthorIRI {
		return ignored("Update changes the note's id or author"), nil
	}
	g, err := s.store.GroupByID(ctx, n.GroupID)
	if err != nil {
		return Outcome{}, err
	}
	before := n.State
	n.ContentHTML, n.Attachments = s.renderNote(o)
	n.Summary, n.Language, n.Sensitive, n.Raw = plainSummary(o.Summary), o.Language, o.Sensitive || o.Summary != "", raw
	if err := s.screen(ctx, g, n, o); err != nil {
		return Outcome{}, err
	}
	if before != store.NoteVisible && store.NoteStateRank(n.State) < store.NoteStateRank(before) {
		n.State = before // an edit never lifts a moderator's or the rules' hold
	}
	if err := s.store.UpdateRemoteNoteContent(ctx, n); err != nil {
		return Outcome{}, err
	}
	s.contentChanged()
	if n.AnnouncedAt != nil && n.State == store.NoteVisible {
		if err := s.announceFollowUp(ctx, g, n, []byte(it.Raw), store.AnnounceUpdate); err != nil {
			return Outcome{}, err
		}
	}
	return processed("note updated: " + n.IRI), nil
}

// onNoteDelete applies an author's deletion of a note we keep.
func (s *Service) onNoteDelete(ctx context.Context, it *store.InboxItem, in *activitypub.Incoming) (Outcome, error) {
	n, err := s.store.RemoteNoteByIRI(ctx, in.Object.ID)
	if errors.Is(err, store.ErrNotFound) {
		return ignored("Delete of an object we do not keep"), nil
	}
	if err != nil {
		return Outcome{}, err
	}
	if n.AuthorIRI != in.Actor {
		return ignored(fmt.Sprintf("Delete by %s of a note by %s", in.Actor, n.AuthorIRI)), nil
	}
	if n.DeletedAt != nil {
		return processed("note already deleted"), nil
	}
	if err := s.store.MarkRemoteNoteDeleted(ctx, n.ID); err != nil {
		return Outcome{}, err
	}
	s.contentChanged()
	if n.AnnouncedAt != nil {
		g, err := s.store.GroupByID(ctx, n.GroupID)
		if err != nil {
			return Outcome{}, err
		}
		if err := s.announceFollowUp(ctx, g, n, []byte(it.Raw), store.AnnounceDelete); err != nil {
			return Outcome{}, err
		}
	}
	return processed("note deleted: " + n.IRI), nil
}

// onReaction counts a Like, EmojiReact or Announce of a group post or a
// note in a group's thread.
func (s *Service) onReaction(ctx context.Context, in *activitypub.Incoming) (Outcome, error) {
	obj := in.Object.ID
	if obj == "" || in.ID == "" {
		return ignored(in.Type + " without ids"), nil
	}
	var groupID int64
	if s.uris.IsLocal(obj) {
		p, _, err := s.postForIRI(ctx, obj)
		if err != nil {
			return ignored(in.Type + " of an object we do not have"), nil
		}
		groupID = p.GroupID
	} else if n, err := s.store.RemoteNoteByIRI(ctx, obj); err == nil {
		groupID = n.GroupID
	} else {
		return ignored(in.Type + " of an object we do not keep"), nil
	}
	content := ""
	if in.Type == "EmojiReact" || in.Type == "Like" {
		content, _ = in.Raw["content"].(string)
		if len(content) > 64 {
			content = content[:64]
		}
	}
	if _, err := s.store.AddReaction(ctx, &store.Reaction{ActivityIRI: in.ID, GroupID: groupID, ObjectIRI: obj,
		ActorIRI: in.Actor, Type: in.Type, Content: content}); err != nil {
		return Outcome{}, err
	}
	s.contentChanged()
	return processed(in.Type + " counted"), nil
}

// onUndoReaction removes a counted reaction.
func (s *Service) onUndoReaction(ctx context.Context, in *activitypub.Incoming) (Outcome, error) {
	id := in.Object.ID
	if a := in.Object.Activity; a != nil {
		id = a.ID
	}
	removed, err := s.store.RemoveReaction(ctx, id, in.Actor)
	if err != nil {
		return Outcome{}, err
	}
	if !removed {
		return ignored("Undo of a reaction we did not count"), nil
	}
	s.contentChanged()
	return processed("reaction undone"), nil
}

// SetDiscussionMode sets how a group treats what residents send it
// (store.ModeAnnouncements, ModeModerated or ModeOpen).
func (s *Service) SetDiscussionMode(ctx context.Context, slug, mode string) error {
	if !store.ValidDiscussionMode(mode) {
		return fmt.Errorf("%w: unknown discussion mode %q", ErrInvalid, mode)
	}
	g, err := s.store.GroupBySlug(ctx, slug)
	if err != nil {
		return err
	}
	if err := s.store.SetDiscussionMode(ctx, g.ID, mode); err != nil {
		return err
	}
	s.groups.forget(slug)
	s.contentChanged()
	return nil
}

// plainSummary reduces a content warning (HTML for some servers) to text.
func plainSummary(s string) string {
	if s == "" {
		return ""
	}
	return markup.PlainText(markup.SanitizeRemote(s, nil))
}

// SetScreener replaces the screener (before the workers start; tests and
// benchmarks).
func (s *Service) SetScreener(sc Screener) { s.screener.Store(&screenerBox{sc}) }

type screenerBox struct{ Screener }

// replyMention checks that a staff reply answers a shown note in the
// group's threads and returns its author as a mention to deliver to.
func (s *Service) replyMention(ctx context.Context, g *store.Group, noteIRI string) (mention, error) {
	n, err := s.store.RemoteNoteByIRI(ctx, noteIRI)
	if errors.Is(err, store.ErrNotFound) || err == nil && (n.GroupID != g.ID || n.DeletedAt != nil || n.State != store.NoteVisible) {
		return mention{}, fmt.Errorf("%w: the reply answers no shown post in this group", ErrInvalid)
	}
	if err != nil {
		return mention{}, err
	}
	a, err := s.FetchActor(ctx, n.AuthorIRI, false)
	if err != nil {
		return mention{}, fmt.Errorf("%w: the resident's account cannot be reached: %v", ErrTemporary, err)
	}
	inbox := a.SharedInbox
	if inbox == "" {
		inbox = a.Inbox
	}
	name := "@" + a.PreferredUsername + "@" + a.Host
	return mention{Name: name, Href: a.IRI, inbox: inbox, host: a.Host}, nil
}

func hasMention(ms []mention, href string) bool {
	for _, m := range ms {
		if m.Href == href {
			return true
		}
	}
	return false
}
