// Package notify turns liveness warnings and group events into alerts to
// people (LIV-1, LIV-2, ID-3, ID-6, MOD-5). A sweep writes each new
// condition to the notifications outbox in the transaction that detects
// it, once per condition and recipient; a worker leases due rows and mails
// them, with retries, so that two nodes never send the same mail twice.
// Without SMTP the alerts are still recorded and shown to administrators.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/torget/torget/internal/i18n"
	"github.com/torget/torget/internal/liveness"
	"github.com/torget/torget/internal/store"
)

// Mail is one plain-text message.
type Mail struct {
	MessageID string // without angle brackets
	To        string
	Subject   string
	Body      string
	Language  string
	Date      time.Time
}

// Mailer sends a message; an error means try again later.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}

// Config sets up a Service.
type Config struct {
	BaseURL  string // links in mails: scheme://host
	Domain   string // right-hand side of Message-IDs
	Comms    string // the central communications role's address (ID-6)
	Liveness liveness.Config
	// Sweep is how often the conditions are checked (default 5 minutes);
	// Poll how often due mails are looked for (default 30 seconds).
	Sweep, Poll time.Duration
	Lease       time.Duration // how long a worker holds a row it sends (default 2 minutes)
	RetryFor    time.Duration // give up on a mail this long after it was written (default 48 hours)
	BaseBackoff time.Duration // first retry after about this long (default 1 minute)
	MaxBackoff  time.Duration // at most this long between tries (default 1 hour)
}

// Service writes and sends alerts.
type Service struct {
	st     *store.Store
	cfg    Config
	msgs   *i18n.Bundle
	mailer Mailer // nil: record only
	log    *slog.Logger
	worker string
	wake   chan struct{}
}

// New returns a notifier; mailer nil records alerts without mailing them.
func New(st *store.Store, msgs *i18n.Bundle, mailer Mailer, cfg Config, log *slog.Logger) *Service {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.Sweep, 5*time.Minute)
	def(&cfg.Poll, 30*time.Second)
	def(&cfg.Lease, 2*time.Minute)
	def(&cfg.RetryFor, 48*time.Hour)
	def(&cfg.BaseBackoff, time.Minute)
	def(&cfg.MaxBackoff, time.Hour)
	h, _ := os.Hostname()
	return &Service{st: st, cfg: cfg, msgs: msgs, mailer: mailer, log: log, wake: make(chan struct{}, 1),
		worker: fmt.Sprintf("notify-%s-%d-%d", h, os.Getpid(), time.Now().UnixNano())}
}

// Mailing reports whether alerts are mailed (SMTP is configured).
func (s *Service) Mailing() bool { return s.mailer != nil }

// Wake makes the worker look for mail to send now.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// recipient is where one alert goes.
type recipient struct {
	key, address, locale string
	userID               *int64
}

func userRecipient(u store.User) recipient {
	id := u.ID
	return recipient{key: "user:" + strconv.FormatInt(u.ID, 10), address: u.Email, locale: u.Locale, userID: &id}
}

// Sweep checks every condition and writes an alert for each one not yet
// alerted. It returns how many alerts it wrote. The check only reads
// (aggregates), so it runs outside the writing transaction and never holds
// SQLite's write lock; the outbox's unique key (condition episode,
// recipient) makes a write racing another node's, or a repeated sweep, a
// no-op.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	rep, err := liveness.Check(ctx, s.st, s.cfg.Liveness)
	if err != nil {
		return 0, fmt.Errorf("sweep alerts: %w", err)
	}
	if len(rep.Warnings) == 0 {
		return 0, nil
	}
	var written []store.Notification
	err = s.st.Tx(ctx, func(tx *store.Store) error {
		admins, err := tx.UsersWithRole(ctx, store.RoleAdmin)
		if err != nil {
			return err
		}
		resp := map[int64][]store.User{}
		for _, g := range rep.Groups {
			for _, u := range g.Responsible {
				if !u.Disabled {
					resp[g.Group.ID] = append(resp[g.Group.ID], u)
				}
			}
		}
		var ns []store.Notification
		for _, w := range rep.Warnings {
			var to []store.User
			if w.Group != nil {
				to = resp[w.Group.ID]
			}
			switch w.Kind {
			case liveness.Unsupervised, liveness.LegalReport:
				to = append(to, admins...) // LIV-2, MOD-5: the administrator too
			case liveness.NoResponsible:
				to = admins // ID-3
			case liveness.Overdue:
				if w.Group == nil || len(to) == 0 {
					to = admins // feedback cases, or a group nobody answers for
				}
			}
			seen := map[int64]bool{}
			for _, u := range to {
				if seen[u.ID] {
					continue
				}
				seen[u.ID] = true
				ns = append(ns, s.row(w, userRecipient(u)))
			}
		}
		written, err = tx.EnqueueNotifications(ctx, ns)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sweep alerts: %w", err)
	}
	if len(written) > 0 {
		s.Wake()
	}
	return len(written), nil
}

// GroupChanged queues the note to the communications role that a group
// was created or closed (ID-6). It runs inside the transaction that
// creates or closes the group (federation's group hook).
func (s *Service) GroupChanged(ctx context.Context, tx *store.Store, event string, g *store.Group) error {
	kind := liveness.GroupCreated
	if event == "closed" {
		kind = liveness.GroupClosed
	}
	w := liveness.Warning{Kind: kind, Group: g, Key: fmt.Sprintf("%s:g%d", kind, g.ID)}
	_, err := tx.EnqueueNotifications(ctx, []store.Notification{s.row(w, recipient{key: "comms", address: s.cfg.Comms, locale: "sv"})})
	return err // the caller wakes the worker after the commit
}

// row builds the outbox row of warning w for one recipient.
func (s *Service) row(w liveness.Warning, r recipient) store.Notification {
	p := map[string]any{"Days": w.Days}
	link := "/staff/dashboard"
	var ref string
	if w.Group != nil {
		p["Name"], p["Slug"] = w.Group.Name, w.Group.Slug
	}
	switch w.Kind {
	case liveness.Stale:
		link = "/staff/groups/" + w.Group.Slug
	case liveness.Unsupervised, liveness.LegalReport:
		link = "/staff/moderation"
	case liveness.NoResponsible:
		link = "/staff/groups/" + w.Group.Slug + "/edit"
	case liveness.Overdue:
		link, ref = "/staff/cases/"+strconv.FormatInt(w.CaseID, 10), "case:"+strconv.FormatInt(w.CaseID, 10)
		p["ID"] = w.CaseID
	case liveness.GroupCreated, liveness.GroupClosed:
		link = "/official-groups"
	}
	if w.Kind == liveness.LegalReport {
		ref = "report:" + strconv.FormatInt(w.ReportID, 10)
		p["ID"], p["Category"], p["Hours"] = w.ReportID, w.Category, s.cfg.Liveness.LegalHours()
	}
	p["Link"] = s.cfg.BaseURL + link
	params, _ := json.Marshal(p)
	n := store.Notification{DedupeKey: w.Key, RecipientKey: r.key, Address: r.address, UserID: r.userID, Locale: r.locale,
		Kind: string(w.Kind), Ref: ref, Params: string(params)}
	if w.Group != nil {
		id := w.Group.ID
		n.GroupID = &id
	}
	return n
}

// mailIDs are each kind's subject and body in the catalogue.
var mailIDs = map[liveness.Kind][2]string{
	liveness.Stale:         {msg("staff.mail.stale.subject"), msg("staff.mail.stale.body")},
	liveness.Overdue:       {msg("staff.mail.overdue.subject"), msg("staff.mail.overdue.body")},
	liveness.Unsupervised:  {msg("staff.mail.unsupervised.subject"), msg("staff.mail.unsupervised.body")},
	liveness.NoResponsible: {msg("staff.mail.no_responsible.subject"), msg("staff.mail.no_responsible.body")},
	liveness.LegalReport:   {msg("staff.mail.legal_report.subject"), msg("staff.mail.legal_report.body")},
	liveness.GroupCreated:  {msg("staff.mail.group_created.subject"), msg("staff.mail.group_created.body")},
	liveness.GroupClosed:   {msg("staff.mail.group_closed.subject"), msg("staff.mail.group_closed.body")},
}

// msg marks a message id of the catalogue (the catalogue test finds it).
func msg(id string) string { return id }

// Compose renders an alert as a plain-text mail: in the recipient's
// language first, then in the other of Swedish and English.
func (s *Service) Compose(n *store.Notification) Mail {
	var p map[string]any
	_ = json.Unmarshal([]byte(n.Params), &p)
	first, second := "sv", "en"
	if n.Locale == "en" {
		first, second = "en", "sv"
	}
	ids := mailIDs[liveness.Kind(n.Kind)]
	text := func(lang string) (string, string) {
		l := s.msgs.Localizer(lang)
		return l.T(ids[0], p), l.T(ids[1], p) + "\n\n" + l.T("staff.mail.link", p)
	}
	subj, body := text(first)
	subj2, body2 := text(second)
	domain := s.cfg.Domain
	if u, err := url.Parse(s.cfg.BaseURL); err == nil && u.Hostname() != "" {
		domain = u.Hostname()
	}
	return Mail{MessageID: fmt.Sprintf("torget-alert-%d@%s", n.ID, domain), To: n.Address, Subject: subj, Language: first, Date: s.st.Now(),
		Body: body + "\n\n-- \n" + subj2 + "\n\n" + body2 + "\n"}
}

// SendDue leases the alerts due now and mails them. It returns how many
// were sent; without a mailer it sends nothing.
func (s *Service) SendDue(ctx context.Context) (int, error) {
	if s.mailer == nil {
		return 0, nil
	}
	sent := 0
	for ctx.Err() == nil {
		ns, err := s.st.ClaimDueNotifications(ctx, s.worker, s.cfg.Lease, 10)
		if err != nil {
			return sent, err
		}
		if len(ns) == 0 {
			return sent, nil
		}
		for i := range ns {
			if s.send(ctx, &ns[i]) {
				sent++
			}
		}
	}
	return sent, ctx.Err()
}

func (s *Service) send(ctx context.Context, n *store.Notification) bool {
	ctx = context.WithoutCancel(ctx) // finish the mail in hand
	log := s.log.With("notification_id", n.ID, "kind", n.Kind)
	sctx, cancel := context.WithTimeout(ctx, s.cfg.Lease/2)
	err := s.mailer.Send(sctx, s.Compose(n))
	cancel()
	if err == nil {
		ok, err := s.st.MarkNotificationSent(ctx, n.ID, s.worker)
		if err != nil {
			log.Error("record sent alert", "err", err)
		} else if !ok {
			log.Warn("alert sent after its lease ran out")
		}
		return true
	}
	now := s.st.Now()
	giveUp := now.Sub(n.CreatedAt) > s.cfg.RetryFor
	next := now.Add(backoff(n.Attempts+1, s.cfg.BaseBackoff, s.cfg.MaxBackoff))
	if giveUp {
		log.Error("alert not sent; giving up", "err", err, "attempts", n.Attempts+1)
	} else {
		log.Warn("alert not sent; will retry", "err", err, "next_attempt_at", next)
	}
	if err := s.st.RetryNotification(ctx, n.ID, s.worker, next, err.Error(), giveUp); err != nil {
		log.Error("record alert failure", "err", err)
	}
	return false
}

// backoff doubles from base up to max.
func backoff(n int, base, max time.Duration) time.Duration {
	w := base
	for i := 1; i < n && w < max; i++ {
		w *= 2
	}
	return min(w, max)
}

// Run sweeps and sends until ctx ends; the mail in hand is finished.
func (s *Service) Run(ctx context.Context) {
	var lastSweep time.Time
	timer := time.NewTimer(0)
	defer timer.Stop()
	for ctx.Err() == nil {
		if time.Since(lastSweep) >= s.cfg.Sweep {
			lastSweep = time.Now()
			if _, err := s.Sweep(ctx); err != nil && !errors.Is(err, context.Canceled) {
				s.log.Error("sweep alerts", "err", err)
			}
		}
		if _, err := s.SendDue(ctx); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Error("send alerts", "err", err)
		}
		timer.Reset(min(s.cfg.Poll, s.cfg.Sweep))
		select {
		case <-s.wake:
		case <-timer.C:
		case <-ctx.Done():
		}
	}
}
