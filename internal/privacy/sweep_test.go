package privacy_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/torget/torget/internal/privacy"
	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/store/storetest"
)

// PRV-6: IP addresses and user agents older than ip_retention are blanked
// (sessions, sign-in attempts, audit log) and newer ones kept; finished
// inbox payloads and deliveries older than operational_retention go,
// pending ones and newer ones stay; the run is one record entry with the
// counts, and the record still verifies.
func TestSweepTechnicalLogs(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	now := time.Now().UTC().Truncate(time.Second)
	old, recent := now.Add(-15*24*time.Hour), now.Add(-24*time.Hour)
	ancient := now.Add(-100 * 24 * time.Hour)
	u := &store.User{Username: "anna", Role: "admin", PasswordHash: "x", CreatedAt: now, UpdatedAt: now}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	for i, at := range []time.Time{old, recent} {
		if err := st.CreateSession(ctx, &store.Session{ID: []string{"old", "new"}[i], UserID: u.ID, CreatedAt: at, LastSeenAt: at,
			ExpiresAt: now.Add(time.Hour), UserAgent: "Firefox", IP: "192.0.2.1"}); err != nil {
			t.Fatal(err)
		}
		if err := st.Exec(ctx, "INSERT INTO login_attempts (at, username, ip, success) VALUES (?, ?, ?, ?)", at, "anna", "192.0.2.2", false); err != nil {
			t.Fatal(err)
		}
		// Audit rows as staff requests write them: with IP and user agent.
		if err := st.AppendAudit(ctx, &store.AuditEntry{At: at, Username: "anna", Action: "login", IP: "192.0.2.3", UserAgent: "Firefox"}); err != nil {
			t.Fatal(err)
		}
	}
	var actID int64
	if err := st.Exec(ctx, "INSERT INTO activities (iri, type, json, created_at) VALUES (?, ?, ?, ?)", "https://x.example/a/1", "Create", "{}", ancient); err != nil {
		t.Fatal(err)
	}
	actID = queryInt(t, st, "SELECT id FROM activities")
	for i, d := range []struct {
		status string
		at     time.Time
	}{{store.DeliveryDone, ancient}, {store.DeliveryGone, ancient}, {store.DeliveryPending, ancient}, {store.DeliveryDone, recent}} {
		if err := st.Exec(ctx, "INSERT INTO deliveries (activity_id, inbox, host, status, next_attempt_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
			actID, "https://m.example/inbox/"+string(rune('a'+i)), "m.example", d.status, d.at, d.at, d.at); err != nil {
			t.Fatal(err)
		}
	}
	for i, it := range []struct {
		status string
		at     *time.Time
	}{{store.InboxProcessed, &ancient}, {store.InboxIgnored, &ancient}, {store.InboxProcessed, &recent}, {store.InboxPending, nil}} {
		if err := st.Exec(ctx, "INSERT INTO inbox_items (activity_iri, actor_iri, type, raw, status, next_attempt_at, received_at, processed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			"https://m.example/act/"+string(rune('a'+i)), "https://m.example/users/a", "Create", `{"type":"Create"}`, it.status, ancient, ancient, it.at); err != nil {
			t.Fatal(err)
		}
	}

	c, err := privacy.Sweep(ctx, st, privacy.SweepConfig{IPRetention: 14 * 24 * time.Hour, OperationalRetention: 90 * 24 * time.Hour}, "cli:test", now)
	if err != nil {
		t.Fatal(err)
	}
	want := store.SweepCounts{Sessions: 1, LoginAttempts: 1, AuditEntries: 1, InboxPayloads: 2, Deliveries: 2}
	if c != want {
		t.Fatalf("sweep counts %+v, want %+v", c, want)
	}
	for q, w := range map[string]int64{
		"SELECT COUNT(*) FROM sessions WHERE ip = '' AND user_agent = '' AND id = 'old'":         1,
		"SELECT COUNT(*) FROM sessions WHERE ip = '192.0.2.1' AND user_agent = 'Firefox'":        1,
		"SELECT COUNT(*) FROM login_attempts WHERE ip = ''":                                      1,
		"SELECT COUNT(*) FROM login_attempts WHERE ip = '192.0.2.2'":                             1,
		"SELECT COUNT(*) FROM audit_log WHERE ip = '' AND user_agent = ''":                       1,
		"SELECT COUNT(*) FROM audit_log WHERE ip = '192.0.2.3' AND user_agent = 'Firefox'":       1,
		"SELECT COUNT(*) FROM audit_log":                                                         2, // the rows stay: who and when is a record
		"SELECT COUNT(*) FROM deliveries":                                                        2,
		"SELECT COUNT(*) FROM deliveries WHERE status = 'pending'":                               1,
		"SELECT COUNT(*) FROM inbox_items WHERE raw = ''":                                        2,
		"SELECT COUNT(*) FROM inbox_items":                                                       4, // ids stay, for deduplication
		"SELECT COUNT(*) FROM inbox_items WHERE raw <> '' AND status IN ('pending','processed')": 2,
	} {
		if n := queryInt(t, st, q); n != w {
			t.Errorf("%s = %d, want %d", q, n, w)
		}
	}
	// The record: the run with its counts; no IP address anywhere in it
	// (audit entries are recorded without), and the chain verifies.
	es, err := st.SearchRecord(ctx, store.RecordQuery{Kind: store.KindPrivacySweep})
	if err != nil || len(es) != 1 {
		t.Fatalf("sweep record entries %d %v", len(es), err)
	}
	var p struct{ Counts store.SweepCounts }
	if err := json.Unmarshal([]byte(es[0].Payload), &p); err != nil || p.Counts != want {
		t.Fatalf("sweep record payload %s %v", es[0].Payload, err)
	}
	all, err := st.SearchRecord(ctx, store.RecordQuery{Limit: 1000})
	if err != nil || len(all) < 3 {
		t.Fatalf("record %d %v", len(all), err)
	}
	for _, e := range all {
		if strings.Contains(e.Payload, "192.0.2.") || strings.Contains(e.Payload, "Firefox") {
			t.Fatalf("record entry %d carries an IP address or user agent: %s", e.Seq, e.Payload)
		}
	}
	if r, err := st.VerifyChain(ctx); err != nil || !r.OK {
		t.Fatalf("record chain %+v %v", r, err)
	}
	// A second run finds nothing and records nothing.
	if c, err := privacy.Sweep(ctx, st, privacy.SweepConfig{IPRetention: 14 * 24 * time.Hour, OperationalRetention: 90 * 24 * time.Hour}, "cli:test", now); err != nil || c.Total() != 0 {
		t.Fatalf("second sweep %+v %v", c, err)
	}
	if es, _ := st.SearchRecord(ctx, store.RecordQuery{Kind: store.KindPrivacySweep}); len(es) != 1 {
		t.Fatalf("an empty sweep was recorded: %d entries", len(es))
	}
}

// PRV-6: IP addresses are never stored with posts or received items: no
// table of content has a column that could hold one. The staff tables
// that do (sessions) show the check can fail.
func TestNoIPColumnsWithContent(t *testing.T) {
	ctx := context.Background()
	st := storetest.Open(t)
	ipLike := regexp.MustCompile(`(?i)(^|_)(ip|ip_address|remote_addr|addr|user_agent|useragent)($|_)`)
	for _, table := range []string{"posts", "post_versions", "drafts", "remote_notes", "note_announces", "reactions", "inbox_items",
		"activities", "deliveries", "cases", "case_notes", "record_entries", "erasure_requests", "mod_reports", "media"} {
		cols, err := st.Columns(ctx, table)
		if err != nil || len(cols) == 0 {
			t.Fatalf("columns of %s: %v %v", table, cols, err)
		}
		for _, c := range cols {
			if ipLike.MatchString(c) {
				t.Errorf("%s.%s looks like an IP address or user agent column", table, c)
			}
		}
	}
	cols, err := st.Columns(ctx, "sessions")
	seen := 0
	for _, c := range cols {
		if ipLike.MatchString(c) {
			seen++
		}
	}
	if err != nil || seen != 2 {
		t.Fatalf("the check does not see sessions.ip and sessions.user_agent: %v %v", cols, err)
	}
}

func queryInt(t *testing.T, st *store.Store, q string) int64 {
	t.Helper()
	n, err := st.QueryInt(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}
