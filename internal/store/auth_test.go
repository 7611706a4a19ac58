package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/store/storetest"
)

func newUser(t *testing.T, s *store.Store, name, role string) *store.User {
	t.Helper()
	u := &store.User{Username: name, Role: role, PasswordHash: "x"}
	if err := s.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestCanPublish(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	a, b := newGroup(t, s, "a"), newGroup(t, s, "b")
	admin := newUser(t, s, "admin", store.RoleAdmin)
	ed := newUser(t, s, "ed", store.RoleEditor)
	mod := newUser(t, s, "mod", store.RoleModerator)
	if err := s.AssignGroupStaff(ctx, a.ID, ed.ID, store.RoleEditor); err != nil {
		t.Fatal(err)
	}
	if err := s.AssignGroupStaff(ctx, a.ID, mod.ID, store.RoleModerator); err != nil {
		t.Fatal(err)
	}
	disabled := *admin
	disabled.Disabled = true
	tests := []struct {
		name  string
		u     *store.User
		group *store.Group
		want  bool
	}{
		{"admin, any group", admin, b, true},
		{"editor, assigned group", ed, a, true},
		{"editor, other group", ed, b, false},
		{"moderator, assigned group", mod, a, false},
		{"disabled admin", &disabled, a, false},
		{"nobody", nil, a, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.CanPublish(ctx, tt.u, tt.group.ID)
			if err != nil || got != tt.want {
				t.Fatalf("CanPublish = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	// Re-assigning replaces the role.
	if err := s.AssignGroupStaff(ctx, a.ID, ed.ID, store.RoleModerator); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.CanPublish(ctx, ed, a.ID); ok {
		t.Fatal("editor reassigned as moderator can still publish")
	}

	// Listing and removing assignments.
	ms, err := s.ListGroupStaff(ctx, a.ID)
	if err != nil || len(ms) != 2 || ms[0] != (store.GroupStaffMember{UserID: ed.ID, Username: "ed", Role: store.RoleModerator}) ||
		ms[1] != (store.GroupStaffMember{UserID: mod.ID, Username: "mod", Role: store.RoleModerator}) {
		t.Fatalf("ListGroupStaff = %+v, %v", ms, err)
	}
	if ms, err := s.ListGroupStaff(ctx, b.ID); err != nil || len(ms) != 0 {
		t.Fatalf("ListGroupStaff(b) = %+v, %v", ms, err)
	}
	if err := s.RemoveGroupStaff(ctx, a.ID, mod.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveGroupStaff(ctx, a.ID, mod.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("removing twice: %v", err)
	}
	if r, err := s.GroupRole(ctx, a.ID, mod.ID); err != nil || r != "" {
		t.Fatalf("role after removal %q, %v", r, err)
	}
}

func TestSessionsAndPasswordReset(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	u := newUser(t, s, "anna", store.RoleEditor)
	now := s.Now()
	for _, id := range []string{"s1", "s2"} {
		if err := s.CreateSession(ctx, &store.Session{ID: id, UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ReplaceSession(ctx, "s1", &store.Session{ID: "s3", UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour), TOTPPassed: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SessionByID(ctx, "s1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("replaced session still there: %v", err)
	}
	if sess, err := s.SessionByID(ctx, "s3"); err != nil || !sess.TOTPPassed {
		t.Fatalf("new session: %+v %v", sess, err)
	}
	n, err := s.ResetPassword(ctx, u.ID, "newhash", true)
	if err != nil || n != 2 {
		t.Fatalf("reset ended %d sessions, %v; want 2", n, err)
	}
	got, _ := s.UserByID(ctx, u.ID)
	if got.PasswordHash != "newhash" || !got.MustChangePassword {
		t.Fatalf("after reset: %+v", got)
	}
	if _, err := s.ResetPassword(ctx, 9999, "h", false); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("reset of unknown user: %v", err)
	}
}

func TestTOTPStepUsedOnce(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	u := newUser(t, s, "anna", store.RoleEditor)
	for i, tt := range []struct {
		step int64
		want bool
	}{{100, true}, {100, false}, {99, false}, {101, true}} {
		if ok, err := s.UseTOTPStep(ctx, u.ID, tt.step); err != nil || ok != tt.want {
			t.Fatalf("%d: step %d: %v %v, want %v", i, tt.step, ok, err, tt.want)
		}
	}
}

func TestLoginFailuresAndAudit(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	since := s.Now().Add(-time.Hour)
	for i := 0; i < 3; i++ {
		if err := s.RecordLoginAttempt(ctx, "anna", "192.0.2.1", false); err != nil {
			t.Fatal(err)
		}
	}
	if f, err := s.RecentLoginFailures(ctx, "anna", since, 5); err != nil || len(f) != 3 {
		t.Fatalf("failures: %v %v", f, err)
	}
	time.Sleep(2 * time.Millisecond)
	if err := s.RecordLoginAttempt(ctx, "anna", "192.0.2.1", true); err != nil {
		t.Fatal(err)
	}
	if f, _ := s.RecentLoginFailures(ctx, "anna", since, 5); len(f) != 0 {
		t.Fatalf("failures before a success still count: %v", f)
	}
	if n, err := s.LoginFailuresFromIP(ctx, "192.0.2.1", since); err != nil || n != 3 {
		t.Fatalf("ip failures: %d %v", n, err)
	}
	for _, a := range []string{"one", "two", "three"} {
		if err := s.AppendAudit(ctx, &store.AuditEntry{Username: "cli", Action: a}); err != nil {
			t.Fatal(err)
		}
	}
	page, err := s.ListAudit(ctx, 0, 2)
	if err != nil || len(page) != 2 || page[0].Action != "three" {
		t.Fatalf("audit page 1: %+v %v", page, err)
	}
	page, _ = s.ListAudit(ctx, page[1].ID, 2)
	if len(page) != 1 || page[0].Action != "one" {
		t.Fatalf("audit page 2: %+v", page)
	}
}

func TestSetSetting(t *testing.T) {
	s := storetest.Open(t)
	ctx := context.Background()
	for _, v := range []string{"on", "off"} {
		if err := s.SetSetting(ctx, "auth.require_totp", v); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Setting(ctx, "auth.require_totp"); got != v {
			t.Fatalf("setting = %q, want %q", got, v)
		}
	}
}
