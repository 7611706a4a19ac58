package federation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/net/html"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/internal/markup"
	"github.com/torget/torget/internal/store"
)

// Inbound is a resident's note addressed to one of our groups: a mention
// of the group or a direct message to it. The cases package decides
// whether it is a question.
type Inbound struct {
	GroupID      int64
	GroupSlug    string
	SourceIRI    string // the note's id
	SourceURL    string // its web page, if given
	AuthorIRI    string
	AuthorHandle string // @user@host
	Text         string // plain text of the sanitised content
	Language     string
	InReplyTo    string
	Conversation string // the note's context or (Mastodon) conversation, if given
	Direct       bool   // not public: a direct (or followers-only) message
	Received     time.Time
}

// InquiryHook receives inbound notes addressed to a group. created says
// whether a case was opened (false: not a question, or seen before).
type InquiryHook interface {
	FromInbound(ctx context.Context, in Inbound) (created bool, err error)
}

// SetInquiryHook installs the receiver of questions to groups. Without
// one, Create activities are ignored as before.
func (s *Service) SetInquiryHook(h InquiryHook) { s.inquiries = h }

var noteTypes = map[string]bool{"Note": true, "Article": true, "Page": true, "Question": true}

// onCreateAndInquiry applies a resident's Create: a public note joins the
// group's conversation (onCreate), and a note addressed to a group — a
// direct message, a mention, or a direct reply to a group post — goes to
// the inquiry hook, which opens a case when it is a question. A note the
// moderation rules rejected opens no case.
func (s *Service) onCreateAndInquiry(ctx context.Context, it *store.InboxItem, in *activitypub.Incoming) (Outcome, error) {
	conv, err := s.onCreate(ctx, it, in)
	if err != nil {
		return Outcome{}, err
	}
	var fallback *int64
	if in.Object.ID != "" {
		if n, err := s.store.RemoteNoteByIRI(ctx, in.Object.ID); err == nil {
			if n.State == store.NoteRejected {
				return conv, nil
			}
			if n.PostID != nil && n.Depth == 1 {
				fallback = &n.GroupID // a reply to a group post
			}
		} else if !errors.Is(err, store.ErrNotFound) {
			return Outcome{}, err
		}
	}
	inq, err := s.onCreateInquiry(ctx, in, it, fallback)
	if err != nil {
		return Outcome{}, err
	}
	switch {
	case inq.Status != store.InboxProcessed:
		return conv, nil
	case conv.Status != store.InboxProcessed:
		return inq, nil
	}
	return processed(conv.Reason + "; " + inq.Reason), nil
}

// onCreateInquiry hands a Create{Note} that mentions or addresses one of
// our groups (or answers a post of the fallback group) to the inquiry hook.
func (s *Service) onCreateInquiry(ctx context.Context, in *activitypub.Incoming, it *store.InboxItem, fallback *int64) (Outcome, error) {
	if s.inquiries == nil {
		return ignored("unsupported activity type Create"), nil
	}
	obj := in.Object
	if !obj.Embedded || obj.Raw == nil {
		return ignored("Create with the object by reference"), nil
	}
	if !noteTypes[obj.Type] {
		return ignored("Create of " + obj.Type), nil
	}
	if obj.AttributedTo != "" && obj.AttributedTo != in.Actor {
		return ignored("Create of another actor's note"), nil
	}
	to, cc := iriList(obj.Raw["to"]), iriList(obj.Raw["cc"])
	if len(to)+len(cc) == 0 {
		to, cc = in.To, in.CC
	}
	g, err := s.addressedGroup(ctx, it, append(append(append([]string{}, to...), cc...), mentionHrefs(obj.Raw["tag"])...))
	if errors.Is(err, store.ErrNotFound) && fallback != nil {
		g, err = s.store.GroupByID(ctx, *fallback)
	}
	if errors.Is(err, store.ErrNotFound) {
		return ignored("Create not addressed to one of our groups"), nil
	}
	if err != nil {
		return Outcome{}, err
	}
	a, err := s.FetchActor(ctx, in.Actor, false)
	if err != nil {
		return Outcome{}, fmt.Errorf("%w: %v", ErrTemporary, err)
	}
	handle := "@" + a.PreferredUsername + "@" + a.Host
	if a.PreferredUsername == "" {
		handle = a.IRI
	}
	content, _ := obj.Raw["content"].(string)
	lang := ""
	if cm, ok := obj.Raw["contentMap"].(map[string]any); ok {
		for k, v := range cm {
			lang = k
			if content == "" {
				content, _ = v.(string)
			}
			break
		}
	}
	url, _ := obj.Raw["url"].(string)
	reply, _ := obj.Raw["inReplyTo"].(string)
	conv, _ := obj.Raw["context"].(string)
	if conv == "" {
		conv, _ = obj.Raw["conversation"].(string)
	}
	public := false
	for _, r := range append(append([]string{}, to...), cc...) {
		public = public || r == activitypub.PublicIRI || r == "as:Public" || r == "Public"
	}
	ib := Inbound{GroupID: g.ID, GroupSlug: g.Slug, SourceIRI: obj.ID, SourceURL: url, AuthorIRI: a.IRI,
		AuthorHandle: handle, Text: noteText(markup.Policy().Sanitize(content), g.Slug), Language: lang, InReplyTo: reply,
		Conversation: conv, Direct: !public, Received: it.ReceivedAt}
	created, err := s.inquiries.FromInbound(ctx, ib)
	if err != nil {
		return Outcome{}, err
	}
	if !created {
		return processed("note to " + g.Slug + ": no new case"), nil
	}
	return processed("note to " + g.Slug + ": case opened"), nil
}

// addressedGroup finds the group a note is for: the group whose inbox it
// was posted to, or the first of our groups it addresses or mentions.
func (s *Service) addressedGroup(ctx context.Context, it *store.InboxItem, iris []string) (*store.Group, error) {
	if it.GroupID != nil {
		g, err := s.store.GroupByID(ctx, *it.GroupID)
		if err == nil || !errors.Is(err, store.ErrNotFound) {
			for _, iri := range iris {
				if iri == s.uris.Group(g.Slug) {
					return g, err
				}
			}
		}
	}
	for _, iri := range iris {
		if slug, ok := s.uris.GroupSlug(iri); ok && iri == s.uris.Group(slug) {
			g, err := s.store.GroupBySlug(ctx, slug)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			return g, err
		}
	}
	return nil, store.ErrNotFound
}

func iriList(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			switch y := e.(type) {
			case string:
				out = append(out, y)
			case map[string]any:
				if id, ok := y["id"].(string); ok {
					out = append(out, id)
				}
			}
		}
		return out
	case map[string]any:
		if id, ok := x["id"].(string); ok {
			return []string{id}
		}
	}
	return nil
}

func mentionHrefs(v any) []string {
	var out []string
	tags, _ := v.([]any)
	if m, ok := v.(map[string]any); ok {
		tags = []any{m}
	}
	for _, t := range tags {
		m, ok := t.(map[string]any)
		if !ok || m["type"] != "Mention" {
			continue
		}
		if h, ok := m["href"].(string); ok {
			out = append(out, h)
		}
	}
	return out
}

// noteText is the plain text of sanitised HTML, blocks on their own lines,
// without the leading mention of the group itself.
func noteText(h, slug string) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(h))
	for {
		switch z.Next() {
		case html.ErrorToken:
			t := strings.TrimSpace(b.String())
			for _, p := range []string{"@" + slug + " ", "@" + slug + "\n"} {
				if strings.HasPrefix(strings.ToLower(t), p) {
					t = strings.TrimSpace(t[len(p):])
				}
			}
			if i := strings.Index(t, " "); i > 0 && strings.HasPrefix(t, "@"+slug+"@") {
				t = strings.TrimSpace(t[i:])
			}
			return t
		case html.TextToken:
			b.Write(z.Text())
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "p", "br", "li", "blockquote", "pre":
				if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
					b.WriteByte('\n')
				}
			}
		}
	}
}
