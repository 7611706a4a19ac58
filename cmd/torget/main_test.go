package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

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
	out, err := cli(t, "", "group", "create", "aldreomsorg", "--name", "Äldreomsorgen", "--purpose", "Information om äldreomsorg", "--manual-approval")
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
	if out, err := cli(t, "", "post", "edit", id, "--text", "Hej igen"); err != nil || !strings.Contains(out, "edited") {
		t.Fatalf("post edit: %q %v", out, err)
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
	if _, err := cli(t, "", "nonsense"); err != errUsage {
		t.Fatalf("unknown command: %v", err)
	}
	if _, err := cli(t, "", "post", "aldreomsorg", "--bogus", "x"); err == nil {
		t.Fatal("unknown flag accepted")
	}
}
