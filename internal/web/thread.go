package web

import (
	"context"
	"encoding/json"
	"html/template"
	"time"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/internal/store"
)

// noteView is a resident's post as the public pages show it.
type noteView struct {
	Anchor      string // fragment id on the page
	URL         string // the resident's own permalink (or its id)
	Author      string // "@user@host"
	AuthorURL   string
	Summary     string
	Content     template.HTML
	Language    string
	Published   time.Time
	Edited      bool
	ReplyTo     string // anchor of the note it answers ("" for the post)
	ReplyToName string
	Attachments []store.NoteAttachment
	Depth       int
}

// maxThreadShown bounds the notes one page shows.
const maxThreadShown = 500

// threadViews loads a thread's visible notes, oldest first, each with its
// author's handle and the note it answers.
func (s *Server) threadViews(ctx context.Context, root string) ([]noteView, error) {
	ns, err := s.st.ThreadNotes(ctx, root, []string{store.NoteVisible}, maxThreadShown)
	if err != nil {
		return nil, err
	}
	out := make([]noteView, 0, len(ns))
	byIRI := map[string]int{}
	handles := map[string]string{}
	for _, n := range ns {
		h, ok := handles[n.AuthorIRI]
		if !ok {
			h = n.AuthorIRI
			if a, err := s.st.RemoteActorByIRI(ctx, n.AuthorIRI); err == nil && a.PreferredUsername != "" {
				h = "@" + a.PreferredUsername + "@" + a.Host
			}
			handles[n.AuthorIRI] = h
		}
		v := noteView{Anchor: "svar-" + itoa64(n.ID), URL: firstNonEmptyStr(n.URL, n.IRI), Author: h, AuthorURL: n.AuthorIRI,
			Summary: n.Summary, Content: template.HTML(shiftHeadings(n.ContentHTML, 2)), Language: n.Language,
			Published: n.PublishedAt, Edited: n.EditedAt != nil, Depth: n.Depth}
		_ = json.Unmarshal([]byte(n.Attachments), &v.Attachments)
		if i, ok := byIRI[n.InReplyTo]; ok {
			v.ReplyTo, v.ReplyToName = out[i].Anchor, out[i].Author
		}
		byIRI[n.IRI] = len(out)
		out = append(out, v)
	}
	return out, nil
}

func firstNonEmptyStr(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

func itoa64(n int64) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// modeText is how the public pages describe a group's discussion mode.
func modeText(mode string) string {
	switch mode {
	case store.ModeModerated:
		return "Modererad: svar visas när en moderator har godkänt dem. Inget delas vidare automatiskt."
	case store.ModeOpen:
		return "Öppen: svar som följer reglerna visas och delas till följarna direkt; moderering sker i efterhand."
	}
	return "Bara meddelanden: svar visas här när de följer reglerna, men delas inte vidare till följarna."
}

// threadCollection renders a post's replies or conversation as an
// ActivityPub OrderedCollection of ids (FEP-7888 context, FEP-f228).
func (s *Server) threadCollection(ctx context.Context, id, root string, withRoot, directOnly bool) ([]byte, error) {
	var ns []store.RemoteNote
	var err error
	if directOnly {
		ns, err = s.st.RepliesTo(ctx, root, []string{store.NoteVisible}, maxThreadShown)
	} else {
		ns, err = s.st.ThreadNotes(ctx, root, []string{store.NoteVisible}, maxThreadShown)
	}
	if err != nil {
		return nil, err
	}
	var items []json.RawMessage
	if withRoot {
		b, _ := json.Marshal(root)
		items = append(items, b)
	}
	for _, n := range ns {
		b, _ := json.Marshal(n.IRI)
		items = append(items, b)
	}
	return activitypub.EncodeCollection(&activitypub.OrderedCollection{ID: id, TotalItems: len(items), Items: items, InlineItems: true})
}

