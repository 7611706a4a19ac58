package store

import (
	"context"
	"fmt"
	"time"
)

// Erasure request states (PRV-5). A decided request is never changed
// again; a new request is registered instead.
const (
	ErasureOpen          = "open"
	ErasureRemoved       = "removed"       // removed from public view
	ErasurePseudonymised = "pseudonymised" // shown under a pseudonym
	ErasureRefused       = "refused"
)

// NoteErased is the state of a note whose author's erasure request was
// granted with removal from public view: kept for the record, shown
// nowhere public, never announced.
const NoteErased = "erased"

// ErasureRequest is a person's request to be erased from what torget
// holds, and the decision on it. The record store is never erased by it
// (only gallring removes record entries); the decision changes what is
// public.
type ErasureRequest struct {
	ID               int64
	SubjectIRI       string `gorm:"column:subject_iri"`
	Handle           string
	RequesterContact string
	RequestText      string
	Status           string
	Pseudonym        string // the code shown instead of the handle ("3f2a")
	LegalGround      string // a code of the catalogue in internal/privacy
	Reasons          string
	AnswerText       string
	AnswerIRI        string `gorm:"column:answer_iri"` // the direct message that carried the answer
	GroupID          *int64 // the group that sent the answer
	CreatedBy        string
	DecidedBy        string
	CreatedAt        time.Time
	DecidedAt        *time.Time
	UpdatedAt        time.Time
}

// InsertErasureRequest registers a request (state open).
func (s *Store) InsertErasureRequest(ctx context.Context, r *ErasureRequest) error {
	defer s.write()()
	now := s.now()
	r.Status, r.CreatedAt, r.UpdatedAt = ErasureOpen, now, now
	if err := s.wctx(ctx).Create(r).Error; err != nil {
		return fmt.Errorf("insert erasure request: %w", translate(err))
	}
	return nil
}

// ErasureRequestByID loads one request.
func (s *Store) ErasureRequestByID(ctx context.Context, id int64) (*ErasureRequest, error) {
	var r ErasureRequest
	if err := s.ctx(ctx).First(&r, id).Error; err != nil {
		return nil, translate(err)
	}
	return &r, nil
}

// ListErasureRequests lists requests, open first, then newest first.
func (s *Store) ListErasureRequests(ctx context.Context) ([]ErasureRequest, error) {
	var out []ErasureRequest
	err := s.ctx(ctx).Order("CASE WHEN status = 'open' THEN 0 ELSE 1 END, id DESC").Limit(500).Find(&out).Error
	return out, err
}

// DecideErasureRequest records the decision on an open request; a request
// decided before is a conflict.
func (s *Store) DecideErasureRequest(ctx context.Context, r *ErasureRequest) error {
	defer s.write()()
	now := s.now()
	res := s.wctx(ctx).Model(&ErasureRequest{}).Where("id = ? AND status = ?", r.ID, ErasureOpen).Updates(map[string]any{
		"status": r.Status, "pseudonym": r.Pseudonym, "legal_ground": r.LegalGround, "reasons": r.Reasons,
		"answer_text": r.AnswerText, "group_id": r.GroupID, "decided_by": r.DecidedBy, "decided_at": now, "updated_at": now})
	if res.Error != nil {
		return fmt.Errorf("decide erasure request %d: %w", r.ID, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("%w: erasure request %d is already decided", ErrConflict, r.ID)
	}
	r.DecidedAt, r.UpdatedAt = &now, now
	return nil
}

// SetErasureAnswerIRI records the direct message that carried the answer.
func (s *Store) SetErasureAnswerIRI(ctx context.Context, id int64, iri string) error {
	defer s.write()()
	return s.wctx(ctx).Model(&ErasureRequest{}).Where("id = ?", id).Updates(map[string]any{"answer_iri": iri, "updated_at": s.now()}).Error
}

// PublicViewRule is how the public pages show one author after a granted
// erasure request.
type PublicViewRule struct {
	Removed   bool   // nothing of the author is public
	Pseudonym string // else: the code shown instead of the handle
}

// PublicViewRules returns the rule for every author with a granted
// request (removal wins over pseudonymisation; the earliest pseudonym is
// kept so that it stays stable).
func (s *Store) PublicViewRules(ctx context.Context) (map[string]PublicViewRule, error) {
	var rs []ErasureRequest
	if err := s.ctx(ctx).Where("status IN ?", []string{ErasureRemoved, ErasurePseudonymised}).Order("id").Find(&rs).Error; err != nil {
		return nil, fmt.Errorf("public-view rules: %w", err)
	}
	out := map[string]PublicViewRule{}
	for _, r := range rs {
		v := out[r.SubjectIRI]
		if r.Status == ErasureRemoved {
			v.Removed = true
		}
		if v.Pseudonym == "" {
			v.Pseudonym = r.Pseudonym
		}
		out[r.SubjectIRI] = v
	}
	return out, nil
}

// EraseNotesFromPublic sets every note of the author to NoteErased and
// returns them as they were before (for the retractions to federate).
func (s *Store) EraseNotesFromPublic(ctx context.Context, authorIRI string) ([]RemoteNote, error) {
	var ns []RemoteNote
	err := s.Tx(ctx, func(tx *Store) error {
		if err := tx.ctx(ctx).Where("author_iri = ? AND state <> ?", authorIRI, NoteErased).Order("id").Find(&ns).Error; err != nil {
			return err
		}
		return tx.ctx(ctx).Model(&RemoteNote{}).Where("author_iri = ?", authorIRI).
			Updates(map[string]any{"state": NoteErased, "updated_at": tx.now()}).Error
	})
	if err != nil {
		return nil, fmt.Errorf("erase notes of %s: %w", authorIRI, err)
	}
	return ns, nil
}

// notErasedActors is the SQL condition that leaves out reactions of
// authors removed from public view.
const notErasedActors = "actor_iri NOT IN (SELECT subject_iri FROM erasure_requests WHERE status = 'removed')"

// NoteAnnounceByActivity finds the note an Announce we sent was about,
// and the kind of that Announce.
func (s *Store) NoteAnnounceByActivity(ctx context.Context, activityIRI string) (*RemoteNote, string, error) {
	var a NoteAnnounce
	if err := s.ctx(ctx).Where("activity_iri = ?", activityIRI).First(&a).Error; err != nil {
		return nil, "", translate(err)
	}
	n, err := s.RemoteNoteByID(ctx, a.NoteID)
	return n, a.Kind, err
}
