// Package subject answers data-subject access requests (GDPR art. 15,
// PRV-5): everything torget holds about one remote account, as JSON.
package subject

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/torget/torget/internal/store"
)

// Export is everything held about one remote account.
type Export struct {
	Subject     string     `json:"subject"` // the actor IRI
	GeneratedAt time.Time  `json:"generated_at"`
	Controller  string     `json:"controller"`
	Actor       *Actor     `json:"actor"`
	Follows     []Follow   `json:"follows"`
	Received    []Received `json:"received_activities"`
	Cases       []Case     `json:"cases"`
	Notes       []Post     `json:"posts_in_conversations"`
	Reactions   []Reaction `json:"reactions"`
	Note        string     `json:"note"`
}

// Actor is the cached copy of the account's profile.
type Actor struct {
	IRI, Type, Host, Inbox, SharedInbox, PreferredUsername, Name, KeyID string
	FetchedAt                                                           time.Time
	GoneAt                                                              *time.Time
	Raw                                                                 string
}

// Follow is one follow of a group.
type Follow struct {
	Group, State, Inbox, FollowIRI string
	Since                          time.Time
}

// Received is one activity the account sent us, as received.
type Received struct {
	ActivityIRI, Type, Status, Reason string
	ReceivedAt                        time.Time
	Raw                               string
}

// Case is a question the account asked, with staff notes.
type Case struct {
	ID                                         int64
	Group, Status, SourceIRI, Text, AnswerText string
	ReceivedAt, DueAt                          time.Time
	AnsweredAt                                 *time.Time
	ForwardedTo, ForwardReason                 string
	Notes                                      []Note
}

// Post is a note the account wrote in a group's conversation, as kept.
type Post struct {
	IRI, Group, State, InReplyTo, ContentHTML, Language, Raw string
	PublishedAt                                              time.Time
	DeletedAt                                                *time.Time
}

// Reaction is a like, boost or emoji reaction of the account.
type Reaction struct {
	ActivityIRI, Group, ObjectIRI, Type, Content string
	At                                           time.Time
}

// Note is a staff note on a case (part of the case documentation).
type Note struct {
	Author string
	At     time.Time
	Body   string
}

// Resolve turns "@user@host", "user@host" or an actor IRI into the IRI of
// an account we hold.
func Resolve(ctx context.Context, st *store.Store, who string) (string, error) {
	who = strings.TrimSpace(who)
	if strings.HasPrefix(who, "https://") || strings.HasPrefix(who, "http://") {
		return who, nil
	}
	user, host, ok := strings.Cut(strings.TrimPrefix(who, "@"), "@")
	if !ok || user == "" || host == "" {
		return "", fmt.Errorf("%q is neither an actor IRI nor @user@host", who)
	}
	a, err := st.RemoteActorByHandle(ctx, user, host)
	if err != nil {
		return "", err
	}
	return a.IRI, nil
}

// Build collects the export for actorIRI. controller names who answers.
func Build(ctx context.Context, st *store.Store, actorIRI, controller string) (*Export, error) {
	x := &Export{Subject: actorIRI, GeneratedAt: st.Now(), Controller: controller, Follows: []Follow{}, Received: []Received{}, Cases: []Case{},
		Notes: []Post{}, Reactions: []Reaction{},
		Note: "Posts by groups are public documents (allmänna handlingar) kept under the archive rules; content removed from public view on request stays in the record store until a disposal decision (gallringsbeslut) allows its deletion."}
	groups := map[int64]string{}
	groupName := func(id *int64) string {
		if id == nil {
			return ""
		}
		if n, ok := groups[*id]; ok {
			return n
		}
		n := fmt.Sprint(*id)
		if g, err := st.GroupByID(ctx, *id); err == nil {
			n = g.Slug
		}
		groups[*id] = n
		return n
	}
	a, err := st.RemoteActorByIRI(ctx, actorIRI)
	switch {
	case err == nil:
		x.Actor = &Actor{IRI: a.IRI, Type: a.Type, Host: a.Host, Inbox: a.Inbox, SharedInbox: a.SharedInbox,
			PreferredUsername: a.PreferredUsername, Name: a.Name, KeyID: a.KeyID, FetchedAt: a.FetchedAt, GoneAt: a.GoneAt, Raw: a.Raw}
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	fs, err := st.FollowsByActor(ctx, actorIRI)
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		gid := f.GroupID
		x.Follows = append(x.Follows, Follow{Group: groupName(&gid), State: f.State, Inbox: f.Inbox, FollowIRI: f.FollowIRI, Since: f.CreatedAt})
	}
	its, err := st.InboxItemsByActor(ctx, actorIRI)
	if err != nil {
		return nil, err
	}
	for _, it := range its {
		r := Received{Type: it.Type, Status: it.Status, Reason: it.Reason, ReceivedAt: it.ReceivedAt, Raw: it.Raw}
		if it.ActivityIRI != nil {
			r.ActivityIRI = *it.ActivityIRI
		}
		x.Received = append(x.Received, r)
	}
	cs, err := st.ListCases(ctx, store.CaseFilter{AuthorIRI: actorIRI, Limit: 100000})
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		ec := Case{ID: c.ID, Group: groupName(c.GroupID), Status: c.Status, SourceIRI: c.SourceIRI, Text: c.Text,
			AnswerText: c.AnswerText, ReceivedAt: c.ReceivedAt, DueAt: c.DueAt, AnsweredAt: c.AnsweredAt,
			ForwardedTo: c.ForwardedTo, ForwardReason: c.ForwardReason, Notes: []Note{}}
		ns, err := st.CaseNotes(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		for _, n := range ns {
			ec.Notes = append(ec.Notes, Note{Author: n.AuthorName, At: n.CreatedAt, Body: n.Body})
		}
		x.Cases = append(x.Cases, ec)
	}
	ns, err := st.RemoteNotesByAuthor(ctx, actorIRI)
	if err != nil {
		return nil, err
	}
	for _, n := range ns {
		gid := n.GroupID
		x.Notes = append(x.Notes, Post{IRI: n.IRI, Group: groupName(&gid), State: n.State, InReplyTo: n.InReplyTo,
			ContentHTML: n.ContentHTML, Language: n.Language, Raw: n.Raw, PublishedAt: n.PublishedAt, DeletedAt: n.DeletedAt})
	}
	rs, err := st.ReactionsByActor(ctx, actorIRI)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		gid := r.GroupID
		x.Reactions = append(x.Reactions, Reaction{ActivityIRI: r.ActivityIRI, Group: groupName(&gid), ObjectIRI: r.ObjectIRI,
			Type: r.Type, Content: r.Content, At: r.CreatedAt})
	}
	if x.Actor == nil && len(x.Follows)+len(x.Received)+len(x.Cases)+len(x.Notes)+len(x.Reactions) == 0 {
		return nil, fmt.Errorf("nothing is held about %s: %w", actorIRI, store.ErrNotFound)
	}
	return x, nil
}
