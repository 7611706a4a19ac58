package federation

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/internal/store"
)

// recordKind names what an outgoing activity does, for the record.
func recordKind(act *activitypub.Activity) string {
	switch act.Type {
	case "Create":
		return store.KindPostCreate
	case "Update":
		if _, ok := act.Object.(*activitypub.Actor); ok {
			return store.KindGroupUpdate
		}
		return store.KindPostUpdate
	case "Delete":
		return store.KindPostDelete
	case "Add":
		return store.KindPostPin
	case "Remove":
		return store.KindPostUnpin
	}
	return "activity." + strings.ToLower(act.Type)
}

// recordOut appends an activity we send to the record, in tx. The actor
// is who acted internally: the staff member from ctx (web, CLI) or the
// post's internal author.
func recordOut(ctx context.Context, tx *store.Store, kind string, g *store.Group, objectIRI string, body []byte) error {
	return tx.AppendRecord(ctx, &store.RecordEntry{Kind: kind, Direction: store.DirOut, GroupID: &g.ID,
		Actor: store.RecordActor(ctx), ObjectIRI: objectIRI, Payload: string(body)})
}

// withAuthor sets the record actor from a post's internal author when the
// caller did not name one.
func withAuthor(ctx context.Context, author *int64) context.Context {
	if author == nil || store.RecordActor(ctx) != "" {
		return ctx
	}
	return store.WithRecordActor(ctx, "user:"+strconv.FormatInt(*author, 10))
}

// inboundEntry is the record entry of a received activity (REC-1),
// appended when it is processed: the raw JSON as received, its origin
// host, that its signature was verified (the inbox stores nothing
// unverified), and the group it was addressed to. Its ref, the inbox
// item id, makes recording idempotent when processing is retried.
func (s *Service) inboundEntry(ctx context.Context, it *store.InboxItem, in *activitypub.Incoming) *store.RecordEntry {
	payload := it.Raw
	if !json.Valid([]byte(payload)) {
		b, _ := json.Marshal(map[string]string{"undecodable": payload})
		payload = string(b)
	}
	e := &store.RecordEntry{At: it.ReceivedAt, Kind: store.KindInbound, Category: "inbound." + strings.ToLower(it.Type),
		Direction: store.DirIn, GroupID: it.GroupID, Actor: it.ActorIRI, Origin: activitypub.Host(it.ActorIRI),
		Verified: true, Ref: "inbox:" + strconv.FormatInt(it.ID, 10), Payload: payload}
	if in != nil {
		e.ObjectIRI = in.Object.ID
		if e.GroupID == nil {
			e.GroupID = s.groupOfObject(ctx, in)
		}
	}
	if e.ObjectIRI == "" && it.ActivityIRI != nil {
		e.ObjectIRI = *it.ActivityIRI
	}
	return e
}

// groupOfObject finds the local group an activity is about: the group
// itself, one of its posts, or the post it replies to.
func (s *Service) groupOfObject(ctx context.Context, in *activitypub.Incoming) *int64 {
	refs := []string{in.Object.ID}
	if r, ok := in.Object.Raw["inReplyTo"].(string); ok {
		refs = append(refs, r)
	}
	for _, ref := range refs {
		if ref == "" || !s.uris.IsLocal(ref) {
			continue
		}
		if g, err := s.localGroup(ctx, ref); err == nil {
			return &g.ID
		}
		if _, g, err := s.postPlace(ctx, ref); err == nil {
			return &g.ID
		}
	}
	return nil
}
