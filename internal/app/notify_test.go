package app_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/torget/torget/internal/app"
	"github.com/torget/torget/internal/archive"
	"github.com/torget/torget/internal/auth"
	"github.com/torget/torget/internal/config"
	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/fedtest"
	"github.com/torget/torget/internal/i18n"
	"github.com/torget/torget/internal/liveness"
	"github.com/torget/torget/internal/notify"
	"github.com/torget/torget/internal/store"
)

const commsAddr = "kommunikation@stad.example"

func withComms(c *config.Config) { c.Notify.Communications = commsAddr }

// staffWithEmail creates a staff account with an e-mail address.
func (in *instance) staffWithEmail(t *testing.T, name, role, email string) *store.User {
	t.Helper()
	u := in.user(t, name, role)
	if err := in.Store.SetUserEmail(context.Background(), u.ID, email); err != nil {
		t.Fatal(err)
	}
	u.Email = email
	return u
}

// groupWithDeputy creates a group whose responsible staff are a
// responsible person and a deputy, both with e-mail addresses.
func (in *instance) groupWithDeputy(t *testing.T, slug string) (*store.Group, *store.User, *store.User) {
	t.Helper()
	ctx := context.Background()
	resp := in.staffWithEmail(t, slug+"-ansvarig", auth.RoleEditor, slug+"-ansvarig@stad.example")
	dep := in.staffWithEmail(t, slug+"-ersattare", auth.RoleEditor, slug+"-ersattare@stad.example")
	g, err := in.Fed.CreateGroup(ctx, federation.GroupInput{Slug: slug, Name: "Grupp " + slug, Purpose: "Testgrupp",
		WebsiteURL: "https://example.org/", OwningUnit: "Stadsdelsförvaltning Test", Responsible: []string{resp.Username, dep.Username}})
	if err != nil {
		t.Fatal(err)
	}
	return g, resp, dep
}

func sweep(t *testing.T, in *instance) int {
	t.Helper()
	n, err := in.Notifier.Sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// review records a moderator's review of the whole queue now.
func review(t *testing.T, in *instance) {
	t.Helper()
	if err := in.Store.RecordQueueReview(context.Background(), &store.QueueReview{Username: "moderator"}); err != nil {
		t.Fatal(err)
	}
}

// waitMail waits until addr has exactly want messages whose subject
// contains subj, then checks that no more arrive for a moment.
func waitMail(t *testing.T, mb *mailbox, addr, subj string, want int) []received {
	t.Helper()
	waitUntil(t, 10*time.Second, fmt.Sprintf("%d mail(s) %q to %s", want, subj, addr), func() bool { return len(mb.to(addr, subj)) >= want })
	time.Sleep(150 * time.Millisecond)
	got := mb.to(addr, subj)
	if len(got) != want {
		t.Fatalf("%d mails %q to %s, want %d", len(got), subj, addr, want)
	}
	return got
}

// LIV-1 and ID-6: a group with no post for 31 days is "stale" on the
// dashboard, and each responsible staff member (the responsible person
// and the deputy) gets exactly one e-mail at the SMTP server, in Swedish
// and English with a link; the next sweep sends nothing more. After a
// post and another 31 days it alerts again. Creating the group told the
// communications role.
func TestStaleGroupMailsResponsibleStaffOnce(t *testing.T) {
	ctx := context.Background()
	mb := startMailbox(t)
	tg := startInstance(t, withSMTP(mb.Port), withComms)
	g, resp, dep := tg.groupWithDeputy(t, "parken")
	created := waitMail(t, mb, commsAddr, "Ny grupp: Grupp parken", 1)[0]
	if !strings.Contains(created.Body, "New group: Grupp parken") || !strings.Contains(created.Body, tg.Base+"/official-groups") {
		t.Fatalf("group-created mail body %q", created.Body)
	}
	tg.staffWithEmail(t, "admin", auth.RoleAdmin, "admin@stad.example")

	tg.Clock.Advance(31 * 24 * time.Hour)
	review(t, tg) // supervised: only the silence is the matter
	if n := sweep(t, tg); n != 2 {
		t.Fatalf("sweep wrote %d alerts, want 2 (responsible and deputy)", n)
	}
	const subj = "Grupp parken har inte publicerat något på 30 dagar"
	for _, u := range []*store.User{resp, dep} {
		m := waitMail(t, mb, u.Email, subj, 1)[0]
		if m.From != "torget@stad.example" || !strings.HasPrefix(m.Header.Get("Message-Id"), "<torget-alert-") ||
			!strings.Contains(m.Body, "Grupp parken has published nothing for more than 30 days") ||
			!strings.Contains(m.Body, tg.Base+"/staff/groups/parken") || !strings.HasPrefix(m.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("mail to %s: from %s, headers %v, body %q", u.Email, m.From, m.Header, m.Body)
		}
	}
	if got := mb.to("admin@stad.example", ""); len(got) != 0 {
		t.Fatalf("the admin got %d mails about a stale group", len(got))
	}

	// The dashboard says so, and lists the alerts for the administrator.
	b := newBrowser(t, tg)
	resp2, body := b.login("admin", testPassword)
	expectRedirect(t, resp2, body, "/staff")
	resp2, body = b.get("/staff/dashboard")
	expectStatus(t, "dashboard", resp2, body, 200)
	expectBody(t, "dashboard", body, "Grupp parken har inte publicerat något på mer än 30 dagar.", "vilande",
		"Varningar skickas med e-post.", resp.Email, dep.Email, commsAddr, "skickad")

	// The next sweeps write and send nothing.
	before := mb.count()
	if n := sweep(t, tg); n != 0 {
		t.Fatalf("second sweep wrote %d alerts", n)
	}
	tg.Notifier.Wake()
	time.Sleep(300 * time.Millisecond)
	if mb.count() != before {
		t.Fatalf("mails after the second sweep: %d, before %d", mb.count(), before)
	}

	// A post ends the episode; 31 silent days later it alerts again.
	if _, _, err := tg.Fed.Publish(ctx, g.Slug, federation.PostInput{Text: "Nu har vi öppet igen"}); err != nil {
		t.Fatal(err)
	}
	if n := sweep(t, tg); n != 0 {
		t.Fatalf("sweep after a post wrote %d alerts", n)
	}
	tg.Clock.Advance(31 * 24 * time.Hour)
	review(t, tg)
	if n := sweep(t, tg); n != 2 {
		t.Fatalf("sweep of the second episode wrote %d alerts, want 2", n)
	}
	waitMail(t, mb, resp.Email, subj, 2)
	waitMail(t, mb, dep.Email, subj, 2)
}

// LIV-2: seven days with no review alert the responsible staff and the
// administrator; with hold_when_unsupervised a new reply from a fake
// Mastodon server is held, not announced to followers. A review resets
// the timer: the next reply is announced and no new alert is written.
// (The fake servers sign with the wall clock, so the group's past is set
// up with torget's clock turned back eight days, and the federation
// happens at the present.)
func TestLapsedSupervisionAlertsAndHoldsReplies(t *testing.T) {
	ctx := context.Background()
	mb := startMailbox(t)
	tg := startInstance(t, withSMTP(mb.Port), func(c *config.Config) { c.Cases.HoldWhenUnsupervised = true })
	tg.Clock.Advance(-8 * 24 * time.Hour)
	g, resp, dep := tg.groupWithDeputy(t, "tillsyn")
	admin := tg.staffWithEmail(t, "admin", auth.RoleAdmin, "admin@stad.example")
	if err := tg.Fed.SetDiscussionMode(ctx, g.Slug, store.ModeOpen); err != nil {
		t.Fatal(err)
	}
	_, postURL, err := tg.Fed.Publish(ctx, g.Slug, federation.PostInput{Text: "Välkomna till tillsynsgruppen"})
	if err != nil {
		t.Fatal(err)
	}
	review(t, tg)

	// Six days later: still supervised.
	tg.Clock.Advance(6 * 24 * time.Hour)
	if n := sweep(t, tg); n != 0 {
		t.Fatalf("sweep after 6 days wrote %d alerts", n)
	}

	// Eight days (now): lapsed. One alert each to the responsible person,
	// the deputy and the administrator.
	tg.Clock.Advance(2 * 24 * time.Hour)
	if n := sweep(t, tg); n != 3 {
		t.Fatalf("sweep after 8 days wrote %d alerts, want 3", n)
	}
	const subj = "Ingen har granskat kön för Grupp tillsyn på 7 dagar"
	for _, u := range []*store.User{resp, dep, admin} {
		m := waitMail(t, mb, u.Email, subj, 1)[0]
		if !strings.Contains(m.Body, tg.Base+"/staff/moderation") || !strings.Contains(m.Body, "No moderator has reviewed") {
			t.Fatalf("mail to %s: %q", u.Email, m.Body)
		}
	}
	if n := sweep(t, tg); n != 0 {
		t.Fatalf("repeated sweep wrote %d alerts", n)
	}

	// A reply now is held: stored, not shown, not announced.
	groupID := tg.Base + "/groups/" + g.Slug
	a := fedtest.NewServer(t, fedtest.Options{Users: []string{"anna"}, RootCAs: tg.Pool})
	m := fedtest.NewServer(t, fedtest.Options{Users: []string{"bertil"}, RootCAs: tg.Pool})
	follow(t, tg, a, "anna", groupID)
	r2 := m.Note("bertil", "r2", postURL, "<p>Hallå?</p>", groupID)
	deliver(t, tg, m, "bertil", groupID+"/inbox", m.Wrap("Create", "bertil", r2))
	n2, err := tg.Store.RemoteNoteByIRI(ctx, r2["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if n2.State != store.NoteHeld {
		t.Fatalf("reply while unsupervised: state %q, want held", n2.State)
	}

	// A review resets the timer: the next reply is announced (and the
	// held one was not), and no new alert is written.
	review(t, tg)
	r3 := m.Note("bertil", "r3", postURL, "<p>Tack för svaret</p>", groupID)
	deliver(t, tg, m, "bertil", groupID+"/inbox", m.Wrap("Create", "bertil", r3))
	a.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return announcesOf(a, r3["id"].(string)) > 0 })
	if n3, err := tg.Store.RemoteNoteByIRI(ctx, r3["id"].(string)); err != nil || n3.State != store.NoteVisible {
		t.Fatalf("reply after the review: %+v %v", n3, err)
	}
	waitUntil(t, 10*time.Second, "deliveries drained", func() bool { return tg.drained(t) })
	if c := announcesOf(a, r2["id"].(string)); c != 0 {
		t.Fatalf("held reply announced %d times", c)
	}
	if n := sweep(t, tg); n != 0 {
		t.Fatalf("sweep after the review wrote %d alerts", n)
	}
}

// A question that passes its due time mails the group's responsible
// staff; a report in a legal category (olaga hot) not acted on within 4
// working hours mails them and the administrator (MOD-5); a group whose
// only responsible person is disabled alerts the administrator (ID-3).
func TestOverdueCaseLegalReportAndNoResponsibleMail(t *testing.T) {
	ctx := context.Background()
	mb := startMailbox(t)
	tg := startInstance(t, withSMTP(mb.Port))
	g, resp, dep := tg.groupWithDeputy(t, "arenden")
	admin := tg.staffWithEmail(t, "admin", auth.RoleAdmin, "admin@stad.example")
	review(t, tg)

	// A question in a direct message becomes a case.
	m := fedtest.NewServer(t, fedtest.Options{Users: []string{"alice"}, RootCAs: tg.Pool})
	groupIRI := tg.Base + "/groups/" + g.Slug
	dm, _ := residentNote(t, m, "alice", groupIRI, g.Slug+"@"+tg.Domain, "Jag vill boka lokalen på fredag", true, 1)
	sendNote(t, m, "alice", groupIRI+"/inbox", dm)
	waitUntil(t, 10*time.Second, "a case", func() bool { return len(casesOf(t, tg, store.CaseFilter{})) == 1 })
	c := casesOf(t, tg, store.CaseFilter{})[0]

	// A report of an unlawful threat.
	rp := &store.ModReport{GroupID: &g.ID, ObjectIRI: m.ActorID("alice") + "/statuses/9", Category: "olaga-hot", Origin: "web"}
	if _, err := tg.Store.InsertReport(ctx, rp); err != nil {
		t.Fatal(err)
	}
	loc, _ := tg.Config.Instance.Location()
	deadline := (liveness.Config{Location: loc}).Target().Status(rp.CreatedAt, rp.CreatedAt).AlertAt

	// Just before the deadline: nothing about the report.
	tg.Clock.Advance(deadline.Sub(tg.Clock.Now()) - time.Minute)
	sweep(t, tg)
	ns, err := tg.Store.RecentNotifications(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		if n.Kind == string(liveness.LegalReport) {
			t.Fatalf("legal report alerted before its deadline %s (now %s)", deadline, tg.Clock.Now())
		}
	}
	// After it: the responsible staff and the administrator are mailed.
	tg.Clock.Advance(2 * time.Minute)
	sweep(t, tg)
	subj := fmt.Sprintf("Anmälan %d om möjligen olagligt innehåll väntar", rp.ID)
	for _, u := range []*store.User{resp, dep, admin} {
		m := waitMail(t, mb, u.Email, subj, 1)[0]
		if !strings.Contains(m.Body, "olaga-hot") || !strings.Contains(m.Body, "4 working hours") {
			t.Fatalf("legal report mail body %q", m.Body)
		}
	}

	// The case: due after one working day; after it, one mail each.
	if !tg.Clock.Now().After(c.DueAt) {
		tg.Clock.Advance(c.DueAt.Sub(tg.Clock.Now()) + time.Minute)
		review(t, tg)
		sweep(t, tg)
	}
	caseSubj := fmt.Sprintf("Ärende %d är försenat", c.ID)
	for _, u := range []*store.User{resp, dep} {
		m := waitMail(t, mb, u.Email, caseSubj, 1)[0]
		if !strings.Contains(m.Body, fmt.Sprintf("%s/staff/cases/%d", tg.Base, c.ID)) {
			t.Fatalf("overdue mail body %q", m.Body)
		}
	}
	if got := mb.to(admin.Email, caseSubj); len(got) != 0 {
		t.Fatalf("admin got the group's overdue case: %d", len(got))
	}

	// ID-3: both responsible accounts disabled → the admin is alerted.
	for _, u := range []*store.User{resp, dep} {
		if err := tg.Store.SetUserDisabled(ctx, u.ID, true); err != nil {
			t.Fatal(err)
		}
	}
	review(t, tg)
	sweep(t, tg)
	waitMail(t, mb, admin.Email, "Grupp arenden har ingen aktiv ansvarig", 1)
	if got := mb.to(resp.Email, "ingen aktiv ansvarig"); len(got) != 0 {
		t.Fatalf("a disabled account was mailed")
	}
}

// With the SMTP server down, an alert is kept and retried with backoff;
// when the server is back it is sent, once. Two workers sending from the
// same outbox send every mail once.
func TestAlertRetriedWhenSMTPDownAndSentOnce(t *testing.T) {
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens: the server is down
	tg := startInstance(t, withSMTP(port), withComms, func(c *config.Config) { c.Delivery.Lease = config.Duration{Duration: 10 * time.Second} })
	tg.group(t, "nere", false)
	var n store.Notification
	waitUntil(t, 10*time.Second, "a failed attempt", func() bool {
		ns, err := tg.Store.RecentNotifications(ctx, 10)
		if err != nil || len(ns) != 1 {
			return false
		}
		n = ns[0]
		return n.Attempts >= 1
	})
	if n.State != store.NotifyPending || n.LastError == "" || !n.NextAttemptAt.After(tg.Clock.Now()) || n.Address != commsAddr {
		t.Fatalf("after a failed attempt: %+v", n)
	}

	// The server comes back; after the backoff the mail goes out, once.
	ln, err = net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	mb := serveMailbox(t, ln)
	tg.Clock.Advance(2 * time.Hour)
	tg.Notifier.Wake()
	waitMail(t, mb, commsAddr, "Ny grupp: Grupp nere", 1)
	waitUntil(t, 5*time.Second, "sent state", func() bool {
		ns, _ := tg.Store.RecentNotifications(ctx, 10)
		return len(ns) == 1 && ns[0].State == store.NotifySent && ns[0].SentAt != nil
	})

	// Two more workers (as on other nodes) and the instance's own race
	// for 30 alerts: each is mailed once.
	msgs, err := i18n.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	var rows []store.Notification
	for i := range 30 {
		rows = append(rows, store.Notification{DedupeKey: fmt.Sprintf("group_created:test%d", i), RecipientKey: "comms",
			Address: fmt.Sprintf("k%d@stad.example", i), Kind: string(liveness.GroupCreated), Params: `{"Name":"Grupp","Slug":"g"}`})
	}
	if _, err := tg.Store.EnqueueNotifications(ctx, rows); err != nil {
		t.Fatal(err)
	}
	mailer, err := notify.NewSMTP(notify.SMTPConfig{Host: "127.0.0.1", Port: port, From: "torget@stad.example", StartTLS: "none"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 2 {
		w := notify.New(tg.Store, msgs, mailer, notify.Config{BaseURL: tg.Base}, testLogger())
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := w.SendDue(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	tg.Notifier.Wake()
	wg.Wait()
	waitUntil(t, 10*time.Second, "31 mails", func() bool { return mb.count() >= 31 })
	time.Sleep(300 * time.Millisecond)
	if c := mb.count(); c != 31 {
		t.Fatalf("%d mails, want 31 (one per alert)", c)
	}
	ids := map[string]bool{}
	for i := range 30 {
		got := mb.to(fmt.Sprintf("k%d@stad.example", i), "")
		if len(got) != 1 || ids[got[0].Header.Get("Message-Id")] {
			t.Fatalf("alert %d: %d mails", i, len(got))
		}
		ids[got[0].Header.Get("Message-Id")] = true
	}
	counts, err := tg.Store.NotificationCounts(ctx)
	if err != nil || counts[store.NotifySent] != 31 || counts[store.NotifyPending] != 0 {
		t.Fatalf("counts %v %v", counts, err)
	}
}

// Without SMTP, alerts are still recorded (and listed), not mailed; an
// account without an address gets an "unaddressed" row.
func TestAlertsRecordedWithoutSMTP(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t, withComms)
	if tg.Notifier.Mailing() {
		t.Fatal("mailing without [smtp]")
	}
	g := tg.group(t, "tyst", false) // responsible "ansvarig" has no address
	tg.Clock.Advance(31 * 24 * time.Hour)
	review(t, tg)
	if n := sweep(t, tg); n != 1 {
		t.Fatalf("sweep wrote %d, want 1", n)
	}
	ns, err := tg.Store.RecentNotifications(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, n := range ns {
		states[n.Kind] = n.State
	}
	if states["stale"] != store.NotifyUnaddressed || states["group_created"] != store.NotifyPending || len(ns) != 2 || *ns[0].GroupID != g.ID {
		t.Fatalf("alerts %+v", ns)
	}
}

// A staff member sets the address for alerts on their settings page; a
// malformed one is refused with the reason and nothing changes.
func TestStaffSetsOwnEmail(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	u := tg.user(t, "erik", auth.RoleEditor)
	b := newBrowser(t, tg)
	resp, body := b.login("erik", testPassword)
	expectRedirect(t, resp, body, "/staff")
	resp, body = b.form("/staff/language", "/staff/email", url.Values{"email": {"inte en adress"}})
	expectStatus(t, "bad e-mail", resp, body, http.StatusUnprocessableEntity)
	expectBody(t, "bad e-mail", body, "Det är ingen e-postadress.", `aria-invalid="true"`)
	if got, _ := tg.Store.UserByID(ctx, u.ID); got.Email != "" {
		t.Fatalf("e-mail %q stored from a bad form", got.Email)
	}
	resp, body = b.form("/staff/language", "/staff/email", url.Values{"email": {"erik@stad.example"}})
	expectRedirect(t, resp, body, "/staff/language?notice="+url.QueryEscape("E-postadressen är sparad."))
	if got, _ := tg.Store.UserByID(ctx, u.ID); got.Email != "erik@stad.example" {
		t.Fatalf("e-mail %q, want erik@stad.example", got.Email)
	}
	_, body = b.get("/staff/language")
	expectBody(t, "settings", body, `value="erik@stad.example"`)
	if tg.auditActions(t)["email_change erik"] != 1 {
		t.Fatalf("audit: %v", tg.auditActions(t))
	}
}

// ID-6: closing a group (after its archive export) tells the
// communications role, as creating it did.
func TestGroupCloseMailsCommunications(t *testing.T) {
	ctx := context.Background()
	mb := startMailbox(t)
	tg := startInstance(t, withSMTP(mb.Port), withComms)
	tg.group(t, "slut", false)
	waitMail(t, mb, commsAddr, "Ny grupp: Grupp slut", 1)
	opt := app.ArchiveOptions(tg.Config)
	now := tg.Store.Now()
	opt.From, opt.To, opt.GroupSlug, opt.Out, opt.Actor = now.Add(-time.Hour), now.Add(time.Hour), "slut", t.TempDir(), "user:1:anna"
	if _, err := archive.Export(ctx, tg.Store, opt); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tg.Fed.CloseGroup(ctx, "slut"); err != nil {
		t.Fatal(err)
	}
	m := waitMail(t, mb, commsAddr, "Grupp stängd: Grupp slut", 1)[0]
	if !strings.Contains(m.Body, "Group closed: Grupp slut") || !strings.Contains(m.Body, tg.Base+"/official-groups") {
		t.Fatalf("close mail body %q", m.Body)
	}
}
