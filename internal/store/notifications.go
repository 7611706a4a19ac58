package store

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"gorm.io/gorm/clause"
)

// Notification states.
const (
	// NotifyPending waits to be mailed (or for SMTP to be configured).
	NotifyPending = "pending"
	// NotifySent was accepted by the SMTP server.
	NotifySent = "sent"
	// NotifyFailed was given up after the retries.
	NotifyFailed = "failed"
	// NotifyUnaddressed is recorded for a recipient with no address.
	NotifyUnaddressed = "unaddressed"
)

// Notification is one alert to one recipient in the outbox. DedupeKey
// names the condition and its episode (e.g. a group stale since its last
// post); with RecipientKey it is unique, so a condition alerts each
// recipient once.
type Notification struct {
	ID            int64
	DedupeKey     string
	RecipientKey  string // "user:<id>" or "comms"
	Address       string // e-mail address; "" when the recipient has none
	UserID        *int64
	Locale        string // the recipient's interface language, "" for the default
	Kind          string
	GroupID       *int64
	Ref           string // the case or report the alert is about
	Params        string // JSON for the message template
	State         string
	Attempts      int
	NextAttemptAt time.Time
	LockedUntil   *time.Time
	LockedBy      string
	LastError     string
	CreatedAt     time.Time
	SentAt        *time.Time
}

// EnqueueNotifications writes alerts to the outbox; rows whose condition
// already alerted that recipient are skipped. It returns the rows written.
// Call it in the transaction that detected the condition.
func (s *Store) EnqueueNotifications(ctx context.Context, ns []Notification) ([]Notification, error) {
	defer s.write()()
	now := s.now()
	var out []Notification
	for i := range ns {
		n := ns[i]
		n.ID = 0
		n.CreatedAt, n.NextAttemptAt = now, now
		if n.State == "" {
			n.State = NotifyPending
			if n.Address == "" {
				n.State = NotifyUnaddressed
			}
		}
		if n.Params == "" {
			n.Params = "{}"
		}
		res := s.wctx(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&n)
		if res.Error != nil {
			return nil, fmt.Errorf("enqueue notification %s: %w", n.DedupeKey, translate(res.Error))
		}
		if res.RowsAffected > 0 {
			out = append(out, n)
		}
	}
	return out, nil
}

// ClaimDueNotifications leases up to limit pending notifications whose
// time has come to worker until now+lease; a row leased to one worker is
// not handed to another until the lease runs out.
func (s *Store) ClaimDueNotifications(ctx context.Context, worker string, lease time.Duration, limit int) ([]Notification, error) {
	defer s.write()()
	now := s.now()
	lock := ""
	if s.driver == "postgres" {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var ns []Notification
	err := s.wctx(ctx).Raw(`UPDATE notifications SET locked_until = ?, locked_by = ?
		WHERE id IN (SELECT id FROM notifications
			WHERE state = ? AND next_attempt_at <= ? AND (locked_until IS NULL OR locked_until < ?)
			ORDER BY next_attempt_at, id LIMIT ?`+lock+`)
		RETURNING *`, now.Add(lease), worker, NotifyPending, now, now, limit).Scan(&ns).Error
	if err != nil {
		return nil, fmt.Errorf("claim due notifications: %w", err)
	}
	return ns, nil
}

// MarkNotificationSent records a delivered notification. It returns false
// when the row was no longer leased to worker.
func (s *Store) MarkNotificationSent(ctx context.Context, id int64, worker string) (bool, error) {
	defer s.write()()
	now := s.now()
	res := s.wctx(ctx).Exec(`UPDATE notifications SET state = ?, sent_at = ?, attempts = attempts + 1, locked_until = NULL, last_error = ''
		WHERE id = ? AND state = ? AND locked_by = ?`, NotifySent, now, id, NotifyPending, worker)
	return res.RowsAffected == 1, res.Error
}

// RetryNotification records a failed attempt: the row is tried again at
// next, or marked failed when giveUp.
func (s *Store) RetryNotification(ctx context.Context, id int64, worker string, next time.Time, msg string, giveUp bool) error {
	defer s.write()()
	state := NotifyPending
	if giveUp {
		state = NotifyFailed
	}
	return s.wctx(ctx).Exec(`UPDATE notifications SET state = ?, attempts = attempts + 1, next_attempt_at = ?, locked_until = NULL, last_error = ?
		WHERE id = ? AND state = ? AND locked_by = ?`, state, next.UTC(), truncate(msg, 500), id, NotifyPending, worker).Error
}

// RecentNotifications lists the newest notifications first.
func (s *Store) RecentNotifications(ctx context.Context, limit int) ([]Notification, error) {
	var out []Notification
	return out, s.ctx(ctx).Order("id DESC").Limit(limit).Find(&out).Error
}

// NotificationCounts counts notifications per state.
func (s *Store) NotificationCounts(ctx context.Context) (map[string]int64, error) {
	var rows []struct {
		State string
		N     int64
	}
	if err := s.ctx(ctx).Raw("SELECT state, COUNT(*) AS n FROM notifications GROUP BY state").Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.State] = r.N
	}
	return out, nil
}

// ErrBadEmail is returned for an address alerts could not be mailed to.
var ErrBadEmail = errors.New("not a plain e-mail address (name@example.org)")

// ValidEmail reports whether s is one plain address, without a display
// name or angle brackets.
func ValidEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

// SetUserEmail sets the address a staff member's alerts are mailed to
// ("" for none).
func (s *Store) SetUserEmail(ctx context.Context, id int64, email string) error {
	email = strings.TrimSpace(email)
	if email != "" && !ValidEmail(email) {
		return fmt.Errorf("%q: %w", email, ErrBadEmail)
	}
	defer s.write()()
	res := s.wctx(ctx).Model(&User{}).Where("id = ?", id).Updates(map[string]any{"email": email, "updated_at": s.now()})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("set e-mail of user %d: %w", id, ErrNotFound)
	}
	return nil
}

// ResponsibleStaffByGroup returns every group's responsible staff
// members, disabled accounts included, by username.
func (s *Store) ResponsibleStaffByGroup(ctx context.Context) (map[int64][]User, error) {
	var rows []struct {
		GroupID int64
		User    User `gorm:"embedded"`
	}
	err := s.ctx(ctx).Table("group_staff").Select("group_staff.group_id, users.*").
		Joins("JOIN users ON users.id = group_staff.user_id").Where("group_staff.responsible").
		Order("users.username").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list responsible staff: %w", err)
	}
	out := map[int64][]User{}
	for _, r := range rows {
		out[r.GroupID] = append(out[r.GroupID], r.User)
	}
	return out, nil
}

// UsersWithRole lists the active accounts of a role.
func (s *Store) UsersWithRole(ctx context.Context, role string) ([]User, error) {
	var out []User
	return out, s.ctx(ctx).Where("role = ? AND NOT disabled", role).Order("username").Find(&out).Error
}

// LastQueueReviewFor is the latest review of a group's queue or of the
// instance-wide queue, whichever is later (nil when neither was reviewed).
func (s *Store) LastQueueReviewFor(ctx context.Context, groupID int64) (*time.Time, error) {
	var r QueueReview
	err := translate(s.ctx(ctx).Where("group_id = ? OR group_id IS NULL", groupID).Order("at DESC").Take(&r).Error)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &r.At, nil
}

// OpenCasesDue lists open cases whose due time is before now.
func (s *Store) OpenCasesDue(ctx context.Context, now time.Time) ([]Case, error) {
	var cs []Case
	return cs, s.ctx(ctx).Where("status = ? AND due_at < ?", CaseNew, now).Order("due_at, id").Find(&cs).Error
}

// SetUserDisabled disables (ending the account's sessions) or enables a
// staff account. A group whose responsible staff are all disabled is
// flagged "no responsible" and the administrators are alerted (ID-3).
func (s *Store) SetUserDisabled(ctx context.Context, id int64, disabled bool) error {
	return s.Tx(ctx, func(tx *Store) error {
		res := tx.ctx(ctx).Model(&User{}).Where("id = ?", id).Updates(map[string]any{"disabled": disabled, "updated_at": tx.now()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("disable user %d: %w", id, ErrNotFound)
		}
		if !disabled {
			return nil
		}
		_, err := tx.DeleteUserSessions(ctx, id)
		return err
	})
}
