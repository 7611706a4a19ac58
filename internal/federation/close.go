package federation

import (
	"context"
	"errors"
	"fmt"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/internal/store"
)

// ErrNoArchive refuses closing a group whose whole life no completed
// archive export covers (LIV-3).
var ErrNoArchive = errors.New("no completed archive export covers the group's whole life")

// CloseGroup closes a group: it is refused unless a completed archive
// export covers the group from its creation to its newest record entry.
// In one transaction the group is marked closed citing that export, an
// Update of the Group (now showing its closed status) is queued for every
// follower, and the close is recorded with the export's id and checksum.
// The public page stays readable and shows that the group is closed.
func (s *Service) CloseGroup(ctx context.Context, slug string) (*store.Group, *store.ArchiveExport, error) {
	g, err := s.store.GroupBySlug(ctx, slug)
	if err != nil {
		return nil, nil, err
	}
	if g.ClosedAt != nil {
		return nil, nil, fmt.Errorf("%w: the group is closed already", ErrInvalid)
	}
	last, err := s.store.LastRecordAt(ctx, g.ID)
	if err != nil {
		return nil, nil, err
	}
	if last.Before(g.CreatedAt) {
		last = g.CreatedAt
	}
	x, err := s.store.ExportCovering(ctx, g.ID, g.CreatedAt, last)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, fmt.Errorf("close %s: %w (export %s to %s first)", slug, ErrNoArchive,
			g.CreatedAt.UTC().Format("2006-01-02"), s.opt.Now().UTC().AddDate(0, 0, 1).Format("2006-01-02"))
	}
	if err != nil {
		return nil, nil, err
	}
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		at, err := tx.MarkGroupClosed(ctx, g.ID, x.ID)
		if err != nil {
			return err
		}
		g.ClosedAt, g.ClosedExportID = &at, &x.ID
		if err := s.groupChanged(ctx, tx, "closed", g); err != nil {
			return err
		}
		actor := s.GroupActor(g)
		act := &activitypub.Activity{ID: s.uris.Activity(newID(16)), Type: "Update", Actor: actor.ID, Object: actor,
			To: []string{activitypub.PublicIRI}, CC: []string{actor.Followers}, Published: at}
		return s.queueKind(ctx, tx, store.KindGroupClose, g, act, actor.ID, false, nil)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("close group %s: %w", slug, err)
	}
	s.groups.forget(g.Slug)
	s.contentChanged()
	s.opt.WakeDelivery()
	if s.groupHook != nil {
		s.groupHook.Wake()
	}
	return g, x, nil
}
