package federation

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/activitypub/httpsig"
	"github.com/torget/torget/internal/store"
)

// InboxError is a refusal with the HTTP status to answer.
type InboxError struct {
	Status int
	Msg    string
	Err    error
}

func (e *InboxError) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *InboxError) Unwrap() error { return e.Err }

func refuse(status int, msg string, err error) *InboxError {
	return &InboxError{Status: status, Msg: msg, Err: err}
}

// Received says what happened to an accepted POST.
type Received struct {
	Activity  *activitypub.Incoming
	Duplicate bool // the activity id was seen before: nothing stored twice
	Dropped   bool // verified but nothing to do (e.g. Delete of an unknown, gone actor)
	KeyID     string
}

// Receive verifies and stores one inbox POST before the caller answers
// 202. slug is the group whose inbox was posted to ("" for the shared
// inbox). The order matters: cheap checks first, the signature (which may
// fetch a key) before anything is stored, and nothing answered 202 that is
// not safely in the database.
func (s *Service) Receive(ctx context.Context, r *http.Request, body []byte, slug string) (*Received, error) {
	if r.Header.Get("Signature") == "" && r.Header.Get("Signature-Input") == "" && r.Header.Get("Authorization") == "" {
		return nil, refuse(http.StatusUnauthorized, "request is not signed", httpsig.ErrNoSignature)
	}
	// The go-fed vocabulary pass runs when the stored activity is applied,
	// not here: this path must answer fast (see DecodeEnvelope).
	in, err := activitypub.DecodeEnvelope(body, s.opt.Limits)
	if err != nil {
		if errors.Is(err, activitypub.ErrTooLarge) {
			return nil, refuse(http.StatusRequestEntityTooLarge, "activity too large", err)
		}
		return nil, refuse(http.StatusBadRequest, "malformed activity", err)
	}
	if in.Actor == "" {
		return nil, refuse(http.StatusBadRequest, "activity has no actor", nil)
	}
	if s.uris.IsLocal(in.Actor) {
		return nil, refuse(http.StatusForbidden, "activities by local actors are not accepted from outside", activitypub.ErrOrigin)
	}
	var group *store.Group
	if slug != "" {
		g, err := s.Group(ctx, slug)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil, refuse(http.StatusNotFound, "no such group", nil)
			}
			return nil, err
		}
		group = g
	}
	if err := s.gate(ctx, in.Actor, group); err != nil {
		return nil, err
	}

	res, owner, err := s.verifySignature(ctx, r, body)
	if err != nil {
		if errors.Is(err, errKeyGone) && isSelfDelete(in) {
			// A deleted actor's key cannot be fetched any more and we never
			// knew it (a cached key would have verified): nothing of it to remove.
			return &Received{Activity: in, Dropped: true}, nil
		}
		if errors.Is(err, activitypub.ErrOrigin) {
			return nil, refuse(http.StatusUnauthorized, "signature key does not belong to its claimed owner", err)
		}
		return nil, refuse(http.StatusUnauthorized, "signature not verified", err)
	}
	if owner != in.Actor {
		return nil, refuse(http.StatusForbidden, fmt.Sprintf("signed by %s, but the actor is %s", owner, in.Actor), activitypub.ErrOrigin)
	}
	if err := activitypub.CheckOrigins(in); err != nil {
		return nil, refuse(http.StatusForbidden, "origin check failed", err)
	}

	item := &store.InboxItem{ActorIRI: in.Actor, KeyID: res.KeyID, Type: in.Type, Raw: string(body), Status: store.InboxPending}
	if in.ID != "" {
		id := in.ID
		item.ActivityIRI = &id
	}
	if group != nil {
		item.GroupID = &group.ID
	}
	inserted, err := s.opt.StoreInbox(ctx, item)
	if err != nil {
		return nil, err
	}
	// A host that reaches us is up: resume deliveries its breaker held
	// (checked at most once a second per host: a busy host sends many).
	if host := activitypub.Host(in.Actor); s.lookups.hostDue(host) {
		if _, err := s.store.DomainSeen(ctx, host); err != nil {
			s.log.Warn("domain seen", "host", host, "err", err)
		}
	}
	if inserted {
		s.opt.WakeInbox()
	}
	return &Received{Activity: in, Duplicate: !inserted, KeyID: res.KeyID}, nil
}

func isSelfDelete(in *activitypub.Incoming) bool {
	return in.Type == "Delete" && in.Object.ID == in.Actor
}
