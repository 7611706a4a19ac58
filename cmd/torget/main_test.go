package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/torget/torget/internal/auth"
	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/store/storetest"
)

func cli(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return out.String(), err
}

// The command forms operators and scripts depend on work as documented.
func TestCommands(t *testing.T) {
	dbURL := storetest.URL(t)
	t.Setenv("TORGET_DATABASE_URL", dbURL)
	t.Setenv("TORGET_MEDIA_DIR", t.TempDir())
	t.Setenv("TORGET_SERVER_DOMAIN", "social.example.se")

	if out, err := cli(t, "", "migrate"); err != nil || !strings.Contains(out, "schema at version") {
		t.Fatalf("migrate: %q %v", out, err)
	}
	if out, err := cli(t, "ett långt lösenord\n", "admin", "create-user", "anna", "--role", "editor", "--password-stdin"); err != nil || out != "created editor anna\n" {
		t.Fatalf("create-user: %q %v", out, err)
	}
	if _, err := cli(t, "kort\n", "admin", "create-user", "bo", "--role", "editor", "--password-stdin"); err == nil {
		t.Fatal("a short password was accepted")
	}
	if _, err := cli(t, "ett långt lösenord\n", "admin", "create-user", "bo", "--role", "king", "--password-stdin"); err == nil {
		t.Fatal("an unknown role was accepted")
	}
	if _, err := cli(t, "", "group", "create", "utan-syfte", "--name", "X"); err == nil || !strings.Contains(err.Error(), "purpose") {
		t.Fatalf("a group without purpose: %v", err)
	}
	if _, err := cli(t, "", "group", "create", "utan-enhet", "--name", "X", "--purpose", "P", "--responsible", "anna"); err == nil || !strings.Contains(err.Error(), "owning unit") {
		t.Fatalf("a group without owning unit: %v", err)
	}
	if _, err := cli(t, "", "group", "create", "utan-ansvarig", "--name", "X", "--purpose", "P", "--owning-unit", "Äldreförvaltningen"); err == nil || !strings.Contains(err.Error(), "responsible") {
		t.Fatalf("a group without responsible staff: %v", err)
	}
	out, err := cli(t, "", "group", "create", "aldreomsorg", "--name", "Äldreomsorgen", "--purpose", "Information om äldreomsorg", "--manual-approval",
		"--owning-unit", "Äldreförvaltningen", "--responsible", "anna", "--field", "Telefon=08-123 45", "--field", "Webb=https://aldre.example/")
	if err != nil || !strings.Contains(out, "@aldreomsorg@social.example.se") {
		t.Fatalf("group create: %q %v", out, err)
	}
	if out, err := cli(t, "", "group", "list"); err != nil || !strings.Contains(out, "aldreomsorg\t@aldreomsorg@social.example.se\t0 followers\tÄldreomsorgen") {
		t.Fatalf("group list: %q %v", out, err)
	}
	// Flags after the positional argument, and --flag=value.
	out, err = cli(t, "", "post", "aldreomsorg", "--text=Hej **alla**", "--summary", "info", "--lang", "en")
	if err != nil || !strings.HasPrefix(out, "https://social.example.se/groups/aldreomsorg/posts/") {
		t.Fatalf("post: %q %v", out, err)
	}
	id := strings.TrimSpace(out)
	// Scheduling: a past time is refused; a future one and a draft are saved, unpublished.
	if _, err := cli(t, "", "post", "aldreomsorg", "--text", "Sent", "--at", "2001-01-01 09:00"); err == nil || !strings.Contains(err.Error(), "passed") {
		t.Fatalf("post --at in the past: %v", err)
	}
	if out, err := cli(t, "", "post", "aldreomsorg", "--text", "Senare", "--at", "2099-12-01 09:00"); err != nil || !strings.Contains(out, "2099-12-01 09:00:00 CET") {
		t.Fatalf("post --at: %q %v", out, err)
	}
	if out, err := cli(t, "", "post", "aldreomsorg", "--text", "Utkast", "--draft"); err != nil || !strings.HasPrefix(out, "saved draft ") {
		t.Fatalf("post --draft: %q %v", out, err)
	}
	if out, err := cli(t, "", "post", "edit", id, "--text", "Hej igen"); err != nil || !strings.Contains(out, "edited") {
		t.Fatalf("post edit: %q %v", out, err)
	}
	for _, verb := range []string{"pin", "unpin"} {
		if out, err := cli(t, "", "post", verb, id); err != nil || !strings.Contains(out, verb+"ned") {
			t.Fatalf("post %s: %q %v", verb, out, err)
		}
	}
	if out, err := cli(t, "", "post", "delete", id); err != nil || !strings.Contains(out, "deleted") {
		t.Fatalf("post delete: %q %v", out, err)
	}

	st, err := store.Open(dbURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, err := st.PostByPublicID(context.Background(), id[strings.LastIndex(id, "/")+1:])
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != 2 || p.Language != "en" || p.Summary != "" || p.DeletedAt == nil || !strings.Contains(p.ContentHTML, "Hej igen") {
		t.Fatalf("post after edit and delete: %+v", p)
	}
	g, err := st.GroupBySlug(context.Background(), "aldreomsorg")
	if err != nil || g.OwningUnit != "Äldreförvaltningen" || !strings.Contains(g.Fields, "08-123 45") {
		t.Fatalf("group %+v %v", g, err)
	}
	if ds, err := st.ListDrafts(context.Background(), g.ID); err != nil || len(ds) != 2 || ds[0].State != store.DraftScheduled || ds[1].State != store.DraftDraft {
		t.Fatalf("drafts %+v %v", ds, err)
	}
	if n, _ := st.CountPosts(context.Background(), g.ID); n != 0 {
		t.Fatalf("drafts counted as posts: %d", n)
	}
	if ms, err := st.ListGroupStaff(context.Background(), g.ID); err != nil || len(ms) != 1 || ms[0].Username != "anna" || !ms[0].Responsible {
		t.Fatalf("responsible staff %+v %v", ms, err)
	}
	if _, err := cli(t, "", "nonsense"); err != errUsage {
		t.Fatalf("unknown command: %v", err)
	}
	if _, err := cli(t, "", "post", "aldreomsorg", "--bogus", "x"); err == nil {
		t.Fatal("unknown flag accepted")
	}
}

// Account commands, and an audit row with username "cli" for every change.
func TestAdminCommandsAudit(t *testing.T) {
	ctx := context.Background()
	dbURL := storetest.URL(t)
	t.Setenv("TORGET_DATABASE_URL", dbURL)
	t.Setenv("TORGET_MEDIA_DIR", t.TempDir())
	t.Setenv("TORGET_SERVER_DOMAIN", "social.example.se")
	if _, err := cli(t, "ett långt lösenord\n", "admin", "create-user", "anna", "--role", "editor", "--password-stdin"); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(dbURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.UserByName(ctx, "anna")
	if err != nil {
		t.Fatal(err)
	}
	now := st.Now()
	if err := st.CreateSession(ctx, &store.Session{ID: "x", UserID: u.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	out, err := cli(t, "ett annat långt lösenord\n", "admin", "reset-password", "anna", "--password-stdin")
	if err != nil || !strings.Contains(out, "1 sessions ended") {
		t.Fatalf("reset-password: %q %v", out, err)
	}
	if n, _ := st.CountUserSessions(ctx, u.ID); n != 0 {
		t.Fatalf("%d sessions after reset", n)
	}
	u, _ = st.UserByName(ctx, "anna")
	if ok, _ := auth.CheckPassword(u.PasswordHash, "ett annat långt lösenord"); !ok || !u.MustChangePassword {
		t.Fatalf("after reset: ok=%v must_change=%v", ok, u.MustChangePassword)
	}
	if _, err := cli(t, "kort\n", "admin", "reset-password", "anna", "--password-stdin"); err == nil {
		t.Fatal("short password accepted")
	}
	if _, err := cli(t, "ett annat långt lösenord\n", "admin", "reset-password", "nobody", "--password-stdin"); err == nil {
		t.Fatal("reset of an unknown user succeeded")
	}
	for _, v := range []string{"on", "off", "on"} {
		if out, err := cli(t, "", "admin", "require-totp", v); err != nil || !strings.Contains(out, ": "+v) {
			t.Fatalf("require-totp %s: %q %v", v, out, err)
		}
	}
	if v, _ := st.Setting(ctx, store.SettingRequireTOTP); v != "on" {
		t.Fatalf("setting = %q", v)
	}
	if _, err := cli(t, "", "admin", "require-totp", "maybe"); err == nil {
		t.Fatal("require-totp maybe accepted")
	}
	if _, err := cli(t, "", "group", "create", "g", "--name", "G", "--purpose", "p", "--website", "https://g.example/",
		"--owning-unit", "Enheten", "--responsible", "anna"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli(t, "", "group", "edit", "g", "--responsible", ""); err == nil || !strings.Contains(err.Error(), "responsible") {
		t.Fatalf("edit without responsible staff: %v", err)
	}
	if _, err := cli(t, "", "group", "edit", "g", "--purpose", " "); err == nil || !strings.Contains(err.Error(), "purpose") {
		t.Fatalf("edit without purpose: %v", err)
	}
	if _, err := cli(t, "", "group", "edit", "g", "--name", "G2", "--manual-approval"); err != nil {
		t.Fatal(err)
	}
	if g, err := st.GroupBySlug(ctx, "g"); err != nil || g.Name != "G2" || g.Purpose != "p" || g.WebsiteURL != "https://g.example/" || !g.ManualApproval || g.OwningUnit != "Enheten" {
		t.Fatalf("edited group %+v %v", g, err)
	}
	id, err := cli(t, "", "post", "g", "--text", "hej")
	if err != nil {
		t.Fatal(err)
	}
	id = strings.TrimSpace(id)
	if _, err := cli(t, "", "post", "edit", id, "--text", "hej igen"); err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"pin", "unpin"} {
		if _, err := cli(t, "", "post", verb, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cli(t, "", "post", "delete", id); err != nil {
		t.Fatal(err)
	}
	rows, err := st.ListAudit(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		if r.Username != "cli" || r.UserID != nil {
			t.Fatalf("audit row %+v: want username cli, no user id", r)
		}
		got = append([]string{r.Action + " " + r.Target}, got...)
	}
	want := []string{"user_create anna", "password_reset anna", "require_totp instance", "require_totp instance", "require_totp instance",
		"group_create https://social.example.se/groups/g", "group_edit https://social.example.se/groups/g", "post_publish " + id, "post_edit " + id, "post_pin " + id, "post_unpin " + id, "post_delete " + id}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit rows:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
