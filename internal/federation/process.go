package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/internal/store"
)

// Outcome of applying an inbox item.
type Outcome struct {
	Status string // store.InboxProcessed or store.InboxIgnored
	Reason string
}

func processed(reason string) Outcome { return Outcome{store.InboxProcessed, reason} }
func ignored(reason string) Outcome   { return Outcome{store.InboxIgnored, reason} }

// ErrTemporary marks failures worth retrying (a remote fetch failed).
var ErrTemporary = errors.New("temporary failure")

// Process applies a stored inbox item. It is idempotent: applying the same
// item twice has one effect. An error means "retry later".
func (s *Service) Process(ctx context.Context, it *store.InboxItem) (Outcome, error) {
	apply, err := s.PrepareBatch(ctx, []store.InboxItem{*it})
	if err != nil {
		return Outcome{}, err
	}
	return apply(ctx, it)
}

// ApplyFunc applies one item of a prepared batch.
type ApplyFunc func(ctx context.Context, it *store.InboxItem) (Outcome, error)

// PrepareBatch decodes a batch of stored inbox items and appends them all
// to the record (REC-1) in one transaction — one lock of the chain and one
// commit instead of one per item — and returns what applies each of them
// (safe for concurrent use). Everything a verified peer sent us is a
// record, applied or not; the inbox item ids make it idempotent when
// processing is retried.
func (s *Service) PrepareBatch(ctx context.Context, items []store.InboxItem) (ApplyFunc, error) {
	type decoded struct {
		in  *activitypub.Incoming
		err error
	}
	ds := make(map[int64]decoded, len(items))
	es := make([]*store.RecordEntry, 0, len(items))
	for i := range items {
		it := &items[i]
		// The codec's own decoder, not DecodeActivity: go-fed's vocabulary
		// pass only confirms what this decoder decided (activitypub's
		// TestDecodeEnvelopeAgreesWithDecodeActivity holds them equal on
		// every fixture) and cost the inbox a tenth of its time per reply.
		in, err := activitypub.DecodeEnvelope([]byte(it.Raw), s.opt.Limits)
		if err != nil {
			in = nil
		}
		ds[it.ID] = decoded{in, err}
		es = append(es, s.inboundEntry(ctx, it, in))
	}
	if err := s.store.AppendRecords(ctx, es); err != nil {
		if len(items) == 1 {
			return nil, fmt.Errorf("record inbound %d: %w", items[0].ID, err)
		}
		return nil, fmt.Errorf("record %d inbound activities: %w", len(items), err)
	}
	return func(ctx context.Context, it *store.InboxItem) (Outcome, error) {
		d, ok := ds[it.ID]
		if !ok {
			return s.Process(ctx, it)
		}
		return s.apply(ctx, it, d.in, d.err)
	}, nil
}

// apply applies a recorded item; err is why it did not decode.
func (s *Service) apply(ctx context.Context, it *store.InboxItem, in *activitypub.Incoming, err error) (Outcome, error) {
	if err != nil {
		return ignored("undecodable: " + err.Error()), nil
	}
	switch in.Type {
	case "Follow":
		return s.onFollow(ctx, in)
	case "Create":
		return s.onCreateAndInquiry(ctx, it, in)
	case "Like", "EmojiReact", "Announce":
		return s.onReaction(ctx, in)
	case "Undo":
		return s.onUndo(ctx, in)
	case "Delete":
		if in.Object.ID != in.Actor {
			return s.onNoteDelete(ctx, it, in)
		}
		return s.onDelete(ctx, in)
	case "Update":
		if !actorTypes[in.Object.Type] && in.Object.ID != in.Actor {
			return s.onNoteUpdate(ctx, it, in)
		}
		return s.onUpdate(ctx, in)
	case "Accept", "Reject":
		return ignored(in.Type + ": no follow of ours is pending"), nil
	case "Flag":
		return s.onFlag(ctx, in)
	}
	return ignored("unsupported activity type " + in.Type), nil
}

func (s *Service) localGroup(ctx context.Context, iri string) (*store.Group, error) {
	slug, ok := s.uris.GroupSlug(iri)
	if !ok {
		return nil, store.ErrNotFound
	}
	return s.store.GroupBySlug(ctx, slug)
}

func (s *Service) onFollow(ctx context.Context, in *activitypub.Incoming) (Outcome, error) {
	g, err := s.localGroup(ctx, in.Object.ID)
	if errors.Is(err, store.ErrNotFound) {
		return ignored("follow of an actor that is not one of our groups: " + in.Object.ID), nil
	}
	if err != nil {
		return Outcome{}, err
	}
	a, err := s.FetchActor(ctx, in.Actor, false)
	if err != nil {
		return Outcome{}, fmt.Errorf("%w: %v", ErrTemporary, err)
	}
	f := &store.Follower{GroupID: g.ID, ActorIRI: a.IRI, Inbox: a.Inbox, SharedInbox: a.SharedInbox, Host: a.Host,
		FollowIRI: in.ID, State: store.FollowPending}
	if !g.ManualApproval {
		f.State = store.FollowAccepted
	}
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.SaveFollower(ctx, f); err != nil {
			return err
		}
		if f.State != store.FollowAccepted {
			return nil
		}
		// Answer every Follow, also a repeated one: a peer that lost our
		// first Accept asks again.
		return s.answerFollow(ctx, tx, g, f, "Accept")
	})
	if err != nil {
		return Outcome{}, err
	}
	s.opt.WakeDelivery()
	if f.State == store.FollowPending {
		return processed("follow pending approval"), nil
	}
	return processed("follow accepted"), nil
}

// answerFollow queues an Accept or Reject of f's Follow to the follower.
func (s *Service) answerFollow(ctx context.Context, tx *store.Store, g *store.Group, f *store.Follower, typ string) error {
	follow := &activitypub.Activity{ID: f.FollowIRI, Type: "Follow", Actor: f.ActorIRI, Object: s.uris.Group(g.Slug)}
	act := &activitypub.Activity{ID: s.uris.Activity(newID(16)), Type: typ, Actor: s.uris.Group(g.Slug),
		Object: follow, To: []string{f.ActorIRI}, Published: s.opt.Now().UTC()}
	body, err := activitypub.EncodeActivity(act)
	if err != nil {
		return err
	}
	if err := recordOut(ctx, tx, "follow."+strings.ToLower(typ), g, f.FollowIRI, body); err != nil {
		return err
	}
	row := &store.Activity{IRI: act.ID, GroupID: &g.ID, Type: typ, ObjectIRI: f.FollowIRI, JSON: string(body)}
	if err := tx.InsertActivity(ctx, row); err != nil {
		return err
	}
	return tx.EnqueueDelivery(ctx, row.ID, f.Inbox, f.Host)
}

// Approve accepts a pending follow (manual approval) and federates Accept.
func (s *Service) Approve(ctx context.Context, slug, actorIRI string) error {
	return s.decide(ctx, slug, actorIRI, true)
}

// Reject refuses a pending follow and federates Reject.
func (s *Service) Reject(ctx context.Context, slug, actorIRI string) error {
	return s.decide(ctx, slug, actorIRI, false)
}

func (s *Service) decide(ctx context.Context, slug, actorIRI string, accept bool) error {
	g, err := s.store.GroupBySlug(ctx, slug)
	if err != nil {
		return err
	}
	f, err := s.store.Follower(ctx, g.ID, actorIRI)
	if err != nil {
		return err
	}
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		if accept {
			if err := tx.SetFollowerState(ctx, f.ID, store.FollowAccepted); err != nil {
				return err
			}
			return s.answerFollow(ctx, tx, g, f, "Accept")
		}
		if _, err := tx.DeleteFollower(ctx, f.ID); err != nil {
			return err
		}
		return s.answerFollow(ctx, tx, g, f, "Reject")
	})
	if err == nil {
		s.opt.WakeDelivery()
	}
	return err
}

func (s *Service) onUndo(ctx context.Context, in *activitypub.Incoming) (Outcome, error) {
	inner := in.Object.Activity
	innerType := in.Object.Type
	if inner != nil {
		innerType = inner.Type
	}
	switch innerType {
	case "Like", "EmojiReact", "Announce":
		return s.onUndoReaction(ctx, in)
	case "":
		if removed, err := s.store.RemoveReaction(ctx, in.Object.ID, in.Actor); err != nil || removed {
			if err == nil {
				s.contentChanged()
			}
			return processed("reaction undone"), err
		}
	case "Follow":
	default:
		return ignored("Undo of " + innerType + " is not supported yet"), nil
	}
	// Look the follow up in our own records, never trusting the embedded
	// copy beyond its actor (checked equal to the Undo's actor already).
	var target string
	if inner != nil {
		if inner.Actor != in.Actor {
			return ignored("Undo of another actor's Follow"), nil
		}
		target = inner.Object.ID
	}
	var g *store.Group
	var err error
	if target != "" {
		g, err = s.localGroup(ctx, target)
	} else {
		g, err = s.groupOfFollow(ctx, in.Actor, in.Object.ID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return ignored("Undo of a follow we do not know"), nil
	}
	if err != nil {
		return Outcome{}, err
	}
	f, err := s.store.Follower(ctx, g.ID, in.Actor)
	if errors.Is(err, store.ErrNotFound) {
		return ignored("Undo{Follow}: not following"), nil
	}
	if err != nil {
		return Outcome{}, err
	}
	if _, err := s.store.DeleteFollower(ctx, f.ID); err != nil {
		return Outcome{}, err
	}
	return processed("unfollowed " + g.Slug), nil
}

// groupOfFollow finds the group an actor's Follow (by id) was for.
func (s *Service) groupOfFollow(ctx context.Context, actor, followIRI string) (*store.Group, error) {
	if followIRI == "" {
		return nil, store.ErrNotFound
	}
	it, err := s.store.InboxItemByIRI(ctx, followIRI)
	if err != nil {
		return nil, err
	}
	if it.ActorIRI != actor {
		return nil, store.ErrNotFound
	}
	var m struct {
		Object json.RawMessage `json:"object"`
	}
	if err := json.Unmarshal([]byte(it.Raw), &m); err != nil {
		return nil, store.ErrNotFound
	}
	var obj string
	if json.Unmarshal(m.Object, &obj) != nil {
		var o struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(m.Object, &o)
		obj = o.ID
	}
	return s.localGroup(ctx, obj)
}

var actorTypes = map[string]bool{"Person": true, "Service": true, "Application": true, "Group": true, "Organization": true}

func (s *Service) onDelete(ctx context.Context, in *activitypub.Incoming) (Outcome, error) {
	if in.Object.ID != in.Actor {
		return ignored("Delete of an object we do not keep"), nil
	}
	n, err := s.store.DeleteFollowsByActor(ctx, in.Actor)
	if err != nil {
		return Outcome{}, err
	}
	s.lookups.forgetActor(in.Actor)
	if err := s.store.MarkActorGone(ctx, in.Actor); err != nil {
		return Outcome{}, err
	}
	s.keys.forgetOwner(in.Actor)
	return processed(fmt.Sprintf("actor deleted; %d follows removed", n)), nil
}

func (s *Service) onUpdate(ctx context.Context, in *activitypub.Incoming) (Outcome, error) {
	if !actorTypes[in.Object.Type] || in.Object.ID != in.Actor {
		return ignored("Update of an object we do not keep"), nil
	}
	raw, err := json.Marshal(in.Object.Raw)
	if err != nil {
		return ignored("Update: cannot re-encode actor"), nil
	}
	act, err := activitypub.DecodeActor(raw, s.opt.Limits)
	if err != nil || act.ID != in.Actor {
		// Not usable as sent: fetch it from its origin instead.
		if _, ferr := s.FetchActor(ctx, in.Actor, true); ferr != nil {
			return Outcome{}, fmt.Errorf("%w: %v", ErrTemporary, ferr)
		}
		return processed("actor refreshed from origin"), nil
	}
	if old, err := s.store.RemoteActorByIRI(ctx, in.Actor); err == nil && old.KeyID != "" && old.KeyID != act.PublicKeyID {
		// A changed key id comes from the origin, not from an embedded copy.
		if _, ferr := s.FetchActor(ctx, in.Actor, true); ferr != nil {
			return Outcome{}, fmt.Errorf("%w: %v", ErrTemporary, ferr)
		}
		return processed("actor refreshed from origin"), nil
	}
	if _, err := s.saveActor(ctx, act, string(raw)); err != nil {
		return Outcome{}, err
	}
	// Followers carry the inbox: keep them current.
	return processed("actor updated"), s.refreshFollowerInboxes(ctx, act)
}

func (s *Service) refreshFollowerInboxes(ctx context.Context, a *activitypub.Actor) error {
	return s.store.Exec(ctx, "UPDATE followers SET inbox = ?, shared_inbox = ? WHERE actor_iri = ?", a.Inbox, a.SharedInbox, a.ID)
}
