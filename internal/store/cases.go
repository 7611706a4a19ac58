package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// Case statuses (SVC-1).
const (
	CaseNew         = "new"
	CaseAnswered    = "answered"
	CaseForwarded   = "forwarded"
	CaseNotQuestion = "not_a_question"
)

// Case kinds: how the case arrived.
const (
	CaseKindMention   = "mention"   // a public post mentioning the group
	CaseKindDirect    = "direct"    // a direct message to the group
	CaseKindFeedback  = "feedback"  // the accessibility feedback form
	CaseKindForwarded = "forwarded" // forwarded from another group's case
)

// Case is a question to a group (or a feedback request) that staff must
// answer by DueAt.
type Case struct {
	ID               int64
	GroupID          *int64
	Kind             string
	SourceIRI        string `gorm:"column:source_iri"`
	SourceURL        string `gorm:"column:source_url"`
	AuthorIRI        string `gorm:"column:author_iri"`
	AuthorHandle     string
	RequesterContact string // e-mail or phone from the feedback form
	Text             string // plain text
	Language         string
	Public           bool // the question was public (else a direct message)
	Status           string
	OwnerUserID      *int64
	DueAt            time.Time
	ReceivedAt       time.Time
	AnsweredAt       *time.Time
	AnswerIRI        string `gorm:"column:answer_iri"`
	AnswerText       string
	ForwardedTo      string
	ForwardReason    string
	ForwardedFrom    *int64
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// Open reports whether the case still waits for staff.
func (c *Case) Open() bool { return c.Status == CaseNew }

// Overdue reports whether an open case has passed its due time.
func (c *Case) Overdue(now time.Time) bool { return c.Open() && now.After(c.DueAt) }

// CaseNote is a staff note on a case. Notes are append-only: the store has
// no way to change or delete one.
type CaseNote struct {
	ID           int64
	CaseID       int64
	AuthorUserID *int64
	AuthorName   string
	Body         string
	CreatedAt    time.Time
}

// QueueReview records that a moderator reviewed a group's queue (nil
// GroupID: the instance-wide queue).
type QueueReview struct {
	ID       int64
	GroupID  *int64
	UserID   *int64
	Username string
	At       time.Time
}

// GroupContact says when and how a group answers (SVC-2).
type GroupContact struct {
	GroupID      int64 `gorm:"primaryKey;autoIncrement:false"`
	StaffedHours string
	ResponseTime string
	Channels     string // one channel per line: "Telefon: 08-…"
	AutoReply    bool   // answer a direct message outside OpenHours once per conversation
	OpenHours    string // machine-readable staffed hours: "mon-fri 08:00-16:00; sat 10:00-12:00"
	UpdatedAt    time.Time
}

// TableName keeps gorm from pluralising.
func (GroupContact) TableName() string { return "group_contact" }

// ErrAppendOnly is returned for an attempt to change a saved case note.
var ErrAppendOnly = errors.New("case notes cannot be changed once saved; add a new note")

// CreateCase stores a new case. A case for the same source item in the same
// group is not created twice: created is false and c is the existing one.
func (s *Store) CreateCase(ctx context.Context, c *Case) (created bool, err error) {
	defer s.write()()
	now := s.now()
	c.CreatedAt, c.UpdatedAt = now, now
	if c.ReceivedAt.IsZero() {
		c.ReceivedAt = now
	}
	if c.Status == "" {
		c.Status = CaseNew
	}
	if c.SourceIRI != "" && c.GroupID != nil {
		var old Case
		err := s.wctx(ctx).Where("group_id = ? AND source_iri = ?", *c.GroupID, c.SourceIRI).Take(&old).Error
		if err == nil {
			*c = old
			return false, nil
		}
		if err = translate(err); !errors.Is(err, ErrNotFound) {
			return false, fmt.Errorf("look up case: %w", err)
		}
	}
	if err := s.wctx(ctx).Create(c).Error; err != nil {
		return false, fmt.Errorf("store case: %w", translate(err))
	}
	return true, nil
}

// CaseByID loads a case.
func (s *Store) CaseByID(ctx context.Context, id int64) (*Case, error) {
	var c Case
	if err := translate(s.ctx(ctx).Take(&c, id).Error); err != nil {
		return nil, fmt.Errorf("load case %d: %w", id, err)
	}
	return &c, nil
}

// CaseFilter selects cases for the staff list.
type CaseFilter struct {
	GroupIDs  []int64 // nil: every group (and group-less feedback cases)
	Status    string  // "" any; "open" = new
	Language  string
	AuthorIRI string
	Limit     int
}

// ListCases lists cases, oldest due first.
func (s *Store) ListCases(ctx context.Context, f CaseFilter) ([]Case, error) {
	q := s.ctx(ctx).Model(&Case{})
	if f.GroupIDs != nil {
		q = q.Where("group_id IN ?", append(f.GroupIDs, -1))
	}
	switch f.Status {
	case "":
	case "open":
		q = q.Where("status = ?", CaseNew)
	default:
		q = q.Where("status = ?", f.Status)
	}
	if f.Language != "" {
		q = q.Where("language = ? OR language LIKE ?", f.Language, f.Language+"-%")
	}
	if f.AuthorIRI != "" {
		q = q.Where("author_iri = ?", f.AuthorIRI)
	}
	if f.Limit <= 0 {
		f.Limit = 500
	}
	var cs []Case
	err := q.Order("due_at, id").Limit(f.Limit).Find(&cs).Error
	return cs, err
}

// UpdateCase saves a case's changeable fields (status, owner, answer,
// forwarding, group).
func (s *Store) UpdateCase(ctx context.Context, c *Case) error {
	defer s.write()()
	c.UpdatedAt = s.now()
	return s.wctx(ctx).Model(&Case{}).Where("id = ?", c.ID).Updates(map[string]any{
		"group_id": c.GroupID, "status": c.Status, "owner_user_id": c.OwnerUserID, "answered_at": c.AnsweredAt,
		"answer_iri": c.AnswerIRI, "answer_text": c.AnswerText, "forwarded_to": c.ForwardedTo,
		"forward_reason": c.ForwardReason, "updated_at": c.UpdatedAt,
	}).Error
}

// AddCaseNote appends a note to a case.
func (s *Store) AddCaseNote(ctx context.Context, n *CaseNote) error {
	defer s.write()()
	n.ID = 0
	n.CreatedAt = s.now()
	if err := s.wctx(ctx).Create(n).Error; err != nil {
		return fmt.Errorf("add case note: %w", translate(err))
	}
	return nil
}

// CaseNotes lists a case's notes in the order they were written.
func (s *Store) CaseNotes(ctx context.Context, caseID int64) ([]CaseNote, error) {
	var ns []CaseNote
	err := s.ctx(ctx).Where("case_id = ?", caseID).Order("id").Find(&ns).Error
	return ns, err
}

// CaseCount is the open-case summary of one group (GroupID 0: no group).
type CaseCount struct {
	GroupID  int64
	Open     int64
	Overdue  int64
	Oldest   *time.Time
	Answered int64
}

// CaseCounts summarises cases per group at now.
func (s *Store) CaseCounts(ctx context.Context, now time.Time) (map[int64]*CaseCount, error) {
	var cs []Case
	if err := s.ctx(ctx).Select("group_id, status, due_at, received_at").Find(&cs).Error; err != nil {
		return nil, err
	}
	out := map[int64]*CaseCount{}
	for i := range cs {
		c := &cs[i]
		var gid int64
		if c.GroupID != nil {
			gid = *c.GroupID
		}
		cc := out[gid]
		if cc == nil {
			cc = &CaseCount{GroupID: gid}
			out[gid] = cc
		}
		switch {
		case c.Open():
			cc.Open++
			if c.Overdue(now) {
				cc.Overdue++
			}
			if cc.Oldest == nil || c.ReceivedAt.Before(*cc.Oldest) {
				t := c.ReceivedAt
				cc.Oldest = &t
			}
		case c.Status == CaseAnswered:
			cc.Answered++
		}
	}
	return out, nil
}

// RecordQueueReview notes that a moderator reviewed a group's moderation
// queue (groupID nil: the instance-wide queue). The moderation queue calls
// this whenever a moderator has looked through it (LIV-2).
func (s *Store) RecordQueueReview(ctx context.Context, r *QueueReview) error {
	defer s.write()()
	r.ID = 0
	r.At = s.now()
	return s.wctx(ctx).Create(r).Error
}

// LastQueueReviews returns the latest review time per group id (0: the
// instance-wide queue).
func (s *Store) LastQueueReviews(ctx context.Context) (map[int64]time.Time, error) {
	var rows []QueueReview
	if err := s.ctx(ctx).Order("at").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := map[int64]time.Time{}
	for _, r := range rows {
		var gid int64
		if r.GroupID != nil {
			gid = *r.GroupID
		}
		out[gid] = r.At
	}
	return out, nil
}

// GroupContactFor loads a group's contact information; a group without
// one gets an empty value.
func (s *Store) GroupContactFor(ctx context.Context, groupID int64) (*GroupContact, error) {
	var gc GroupContact
	err := translate(s.ctx(ctx).Where("group_id = ?", groupID).Take(&gc).Error)
	if errors.Is(err, ErrNotFound) {
		return &GroupContact{GroupID: groupID}, nil
	}
	return &gc, err
}

// SaveGroupContact stores a group's contact information.
func (s *Store) SaveGroupContact(ctx context.Context, gc *GroupContact) error {
	defer s.write()()
	gc.UpdatedAt = s.now()
	return s.wctx(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "group_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"staffed_hours", "response_time", "channels", "auto_reply", "open_hours", "updated_at"})}).Create(gc).Error
}

// AutoReply records that a group auto-replied in a conversation. first is
// false when it already had: the group replies once per conversation.
type AutoReply struct {
	ID           int64
	GroupID      int64
	Conversation string
	CaseID       *int64
	SentAt       time.Time
}

// AutoReplied reports whether the group auto-replied to a case.
func (s *Store) AutoReplied(ctx context.Context, caseID int64) (bool, error) {
	var n int64
	err := s.ctx(ctx).Model(&AutoReply{}).Where("case_id = ?", caseID).Count(&n).Error
	return n > 0, err
}

// ClaimAutoReply records an auto-reply in a conversation before it is
// sent; first is false when the conversation already had one.
func (s *Store) ClaimAutoReply(ctx context.Context, groupID int64, conversation string, caseID *int64) (first bool, err error) {
	defer s.write()()
	res := s.wctx(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&AutoReply{GroupID: groupID, Conversation: conversation, CaseID: caseID, SentAt: s.now()})
	return res.RowsAffected == 1, res.Error
}

// GroupActivity is a group's posting record for the dashboard.
type GroupActivity struct {
	GroupID  int64
	LastPost *time.Time
	Posts    int64 // live posts since the window start
}

// GroupPostActivity returns, per group, the last official post and the
// number of posts published since since.
func (s *Store) GroupPostActivity(ctx context.Context, since time.Time) (map[int64]*GroupActivity, error) {
	var ps []Post
	if err := s.ctx(ctx).Select("group_id, published_at").Where("deleted_at IS NULL").Find(&ps).Error; err != nil {
		return nil, err
	}
	out := map[int64]*GroupActivity{}
	for _, p := range ps {
		a := out[p.GroupID]
		if a == nil {
			a = &GroupActivity{GroupID: p.GroupID}
			out[p.GroupID] = a
		}
		if a.LastPost == nil || p.PublishedAt.After(*a.LastPost) {
			t := p.PublishedAt
			a.LastPost = &t
		}
		if !p.PublishedAt.Before(since) {
			a.Posts++
		}
	}
	return out, nil
}

// OldestPendingInbox is the receive time of the oldest inbox item still
// waiting to be applied (nil when none): the moderation queue's age until
// the moderation queue has its own table.
func (s *Store) OldestPendingInbox(ctx context.Context) (*time.Time, error) {
	var it InboxItem
	err := translate(s.ctx(ctx).Select("received_at").Where("status = ?", InboxPending).Order("received_at").Take(&it).Error)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &it.ReceivedAt, nil
}
