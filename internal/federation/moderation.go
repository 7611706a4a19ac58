package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"strings"

	"github.com/microcosm-cc/bluemonday"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/internal/store"
)

// InboundGate refuses activities from servers the federation policy
// rejects and from blocked authors, before anything is stored. The
// consumer declares it; internal/screening implements it.
type InboundGate interface {
	RefuseInbound(ctx context.Context, host, actor string, groupID int64) (reason string, err error)
}

// gate applies Options.Gate to an inbox POST (group nil for the shared
// inbox): a refusal is a 403.
func (s *Service) gate(ctx context.Context, actor string, g *store.Group) error {
	if s.opt.Gate == nil {
		return nil
	}
	var gid int64
	if g != nil {
		gid = g.ID
	}
	why, err := s.opt.Gate.RefuseInbound(ctx, activitypub.Host(actor), actor, gid)
	if err != nil {
		return err
	}
	if why != "" {
		return refuse(http.StatusForbidden, why, nil)
	}
	return nil
}

// authorInbox returns where to deliver to one remote actor (its shared
// inbox if it has one), fetching the actor if it is not cached.
func (s *Service) authorInbox(ctx context.Context, actorIRI string) (inbox, host string, err error) {
	a, err := s.store.RemoteActorByIRI(ctx, actorIRI)
	if errors.Is(err, store.ErrNotFound) {
		a, err = s.FetchActor(ctx, actorIRI, false)
	}
	if err != nil {
		return "", "", fmt.Errorf("author %s: %w", actorIRI, err)
	}
	inbox = a.Inbox
	if a.SharedInbox != "" {
		inbox = a.SharedInbox
	}
	return inbox, a.Host, nil
}

// queueTo stores an activity by the group and delivers it to one inbox
// (and the group's followers when followers is true).
func (s *Service) queueTo(ctx context.Context, tx *store.Store, g *store.Group, act *activitypub.Activity, objectIRI string, followers bool, inbox, host string) error {
	body, err := activitypub.EncodeActivity(act)
	if err != nil {
		return err
	}
	row := &store.Activity{IRI: act.ID, GroupID: &g.ID, Type: act.Type, ObjectIRI: objectIRI, JSON: string(body)}
	if err := tx.InsertActivity(ctx, row); err != nil {
		return err
	}
	if followers {
		if _, err := tx.EnqueueFollowers(ctx, row.ID, g.ID); err != nil {
			return err
		}
	}
	if inbox != "" {
		return tx.EnqueueDelivery(ctx, row.ID, inbox, host)
	}
	return nil
}

// RetractNote takes a resident's note out of federation after a
// moderator removed it (MOD-3), the way Lemmy does for a community: for
// every Announce the group sent about it an Undo{Announce}, then one
// Announce{Delete} by the group, to the followers and the author. The
// note's row is kept (MOD-4); the caller changes its state. It returns the
// ids of the activities sent.
func (s *Service) RetractNote(ctx context.Context, n *store.RemoteNote, reason string) ([]string, error) {
	g, err := s.store.GroupByID(ctx, n.GroupID)
	if err != nil {
		return nil, err
	}
	anns, err := s.store.NoteAnnounces(ctx, n.ID)
	if err != nil {
		return nil, err
	}
	inbox, host, ierr := s.authorInbox(ctx, n.AuthorIRI)
	if ierr != nil {
		s.log.Warn("retract: author unreachable, followers only", "author", n.AuthorIRI, "err", ierr)
	}
	groupIRI := s.uris.Group(g.Slug)
	now := s.opt.Now().UTC()
	to, cc := []string{activitypub.PublicIRI}, []string{s.uris.Followers(g.Slug)}
	var sent []string
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		for _, a := range anns {
			if a.Kind == store.AnnounceDelete {
				continue
			}
			var obj any = a.ActivityIRI
			if stored, err := tx.ActivityByIRI(ctx, a.ActivityIRI); err == nil {
				obj = json.RawMessage(stored.JSON)
			}
			undo := &activitypub.Activity{ID: s.uris.Activity(newID(16)), Type: "Undo", Actor: groupIRI, Object: obj, To: to, CC: cc, Published: now}
			if err := s.queueTo(ctx, tx, g, undo, a.ActivityIRI, true, inbox, host); err != nil {
				return err
			}
			sent = append(sent, undo.ID)
		}
		if err := tx.RemoveFromOutbox(ctx, n.IRI); err != nil {
			return err
		}
		del := &activitypub.Activity{ID: s.uris.Activity(newID(16)), Type: "Delete", Actor: groupIRI, Object: n.IRI,
			To: to, CC: cc, Published: now}
		delJSON, err := activitypub.EncodeActivity(del)
		if err != nil {
			return err
		}
		ann := &activitypub.Activity{ID: s.uris.Activity(newID(16)), Type: "Announce", Actor: groupIRI,
			Object: json.RawMessage(delJSON), To: to, CC: cc, Published: now}
		if err := s.queueTo(ctx, tx, g, ann, n.IRI, true, inbox, host); err != nil {
			return err
		}
		sent = append(sent, ann.ID)
		return tx.AddNoteAnnounce(ctx, n.ID, ann.ID, store.AnnounceDelete)
	})
	if err != nil {
		return nil, fmt.Errorf("retract %s: %w", n.IRI, err)
	}
	s.contentChanged()
	s.opt.WakeDelivery()
	return sent, nil
}

// BlockActor federates Block{actor} from the group to the author's server
// (a ban); UnblockActor federates its Undo. Both return the activity id.
func (s *Service) BlockActor(ctx context.Context, g *store.Group, actorIRI string) (string, error) {
	return s.block(ctx, g, actorIRI, false)
}

// UnblockActor federates Undo{Block} (a ban lifted on appeal).
func (s *Service) UnblockActor(ctx context.Context, g *store.Group, actorIRI string) (string, error) {
	return s.block(ctx, g, actorIRI, true)
}

func (s *Service) block(ctx context.Context, g *store.Group, actorIRI string, undo bool) (string, error) {
	inbox, host, err := s.authorInbox(ctx, actorIRI)
	if err != nil {
		return "", err
	}
	groupIRI := s.uris.Group(g.Slug)
	now := s.opt.Now().UTC()
	act := &activitypub.Activity{ID: s.uris.Activity(newID(16)), Type: "Block", Actor: groupIRI, Object: actorIRI,
		To: []string{actorIRI}, Published: now}
	if undo {
		body, err := activitypub.EncodeActivity(act)
		if err != nil {
			return "", err
		}
		act = &activitypub.Activity{ID: s.uris.Activity(newID(16)), Type: "Undo", Actor: groupIRI, Object: json.RawMessage(body),
			To: []string{actorIRI}, Published: now}
	}
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		return s.queueTo(ctx, tx, g, act, actorIRI, false, inbox, host)
	})
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", strings.ToLower(act.Type), actorIRI, err)
	}
	s.opt.WakeDelivery()
	return act.ID, nil
}

// NotifyAuthor sends the author a direct message from the group: a Note
// addressed to the author only (no public, no followers), mentioning them
// (MOD-9). text is plain; paragraphs are separated by blank lines. It
// returns the Note's id.
func (s *Service) NotifyAuthor(ctx context.Context, g *store.Group, actorIRI, handle, text string) (string, error) {
	inbox, host, err := s.authorInbox(ctx, actorIRI)
	if err != nil {
		return "", err
	}
	groupIRI := s.uris.Group(g.Slug)
	now := s.opt.Now().UTC()
	if handle == "" {
		handle = actorIRI
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<p><span class="h-card"><a href="%s" class="u-url mention">%s</a></span></p>`, html.EscapeString(actorIRI), html.EscapeString(handle))
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		b.WriteString("<p>" + strings.ReplaceAll(html.EscapeString(para), "\n", "<br>") + "</p>")
	}
	id := s.uris.Activity(newID(16))
	note := &activitypub.Note{ID: id + "/note", Type: "Note", AttributedTo: groupIRI, Content: b.String(), Language: g.Language,
		To: []string{actorIRI}, Published: now, Tags: []activitypub.Tag{{Type: "Mention", Href: actorIRI, Name: handle}}}
	act := &activitypub.Activity{ID: id, Type: "Create", Actor: groupIRI, Object: note, To: note.To, Published: now}
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		return s.queueTo(ctx, tx, g, act, note.ID, false, inbox, host)
	})
	if err != nil {
		return "", fmt.Errorf("notify %s: %w", actorIRI, err)
	}
	s.opt.WakeDelivery()
	return note.ID, nil
}

// onFlag stores a report from another server (MOD-1): one report per
// reported object that is ours (a group post or a note sent to a group),
// the reporting server as origin. A Flag seen before is not stored twice.
func (s *Service) onFlag(ctx context.Context, in *activitypub.Incoming) (Outcome, error) {
	var objs []string
	switch o := in.Raw["object"].(type) {
	case []any:
		for _, e := range o {
			if id := firstIRIOf(e); id != "" {
				objs = append(objs, id)
			}
		}
	default:
		if id := firstIRIOf(o); id != "" {
			objs = append(objs, id)
		}
	}
	comment, _ := in.Raw["content"].(string)
	comment = strings.TrimSpace(html.UnescapeString(plainPolicy.Sanitize(comment)))
	if len(comment) > 2000 {
		comment = comment[:2000]
	}
	stored := 0
	for i, obj := range objs {
		var gid *int64
		if n, err := s.store.RemoteNoteByIRI(ctx, obj); err == nil {
			gid = &n.GroupID
		} else if _, g, err := s.postForIRI(ctx, obj); err == nil && s.uris.IsLocal(obj) {
			gid = &g.ID
		} else {
			continue // an account or something we do not hold
		}
		flag := in.ID
		if i > 0 || flag == "" {
			flag = fmt.Sprintf("%s#%d", in.ID, i)
		}
		r := &store.ModReport{GroupID: gid, ObjectIRI: obj, Category: "flag", Comment: comment,
			ReporterIRI: in.Actor, Origin: activitypub.Host(in.Actor), FlagIRI: &flag}
		if _, err := s.store.InsertReport(ctx, r); err != nil {
			return Outcome{}, err
		}
		stored++
	}
	if stored == 0 {
		return ignored("Flag: nothing of ours reported"), nil
	}
	return processed(fmt.Sprintf("Flag: %d report(s) queued", stored)), nil
}

var plainPolicy = bluemonday.StrictPolicy()

func firstIRIOf(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case map[string]any:
		id, _ := t["id"].(string)
		return id
	}
	return ""
}

// FlagRemote reports a resident's note to the author's server (Mastodon's
// Flag: actor = the instance actor, object = [account, note], content =
// the reason), delivered to the author's shared inbox and signed by the
// instance actor. It returns the Flag's id.
func (s *Service) FlagRemote(ctx context.Context, actorIRI, noteIRI, content string) (string, error) {
	inbox, host, err := s.authorInbox(ctx, actorIRI)
	if err != nil {
		return "", err
	}
	act := &activitypub.Activity{ID: s.uris.Activity(newID(16)), Type: "Flag", Actor: s.uris.InstanceActor(),
		Objects: []string{actorIRI, noteIRI}, Content: content, Published: s.opt.Now().UTC()}
	body, err := activitypub.EncodeActivity(act)
	if err != nil {
		return "", err
	}
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		// No group: the delivery is signed with the instance actor's key.
		row := &store.Activity{IRI: act.ID, Type: act.Type, ObjectIRI: noteIRI, JSON: string(body)}
		if err := tx.InsertActivity(ctx, row); err != nil {
			return err
		}
		return tx.EnqueueDelivery(ctx, row.ID, inbox, host)
	})
	if err != nil {
		return "", fmt.Errorf("flag %s: %w", noteIRI, err)
	}
	s.opt.WakeDelivery()
	return act.ID, nil
}
