package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/torget/torget/internal/store/storetest"
)

// The archive commands as an operator uses them: export, verify, hold,
// gallra (refused without a decision), and group close after an export.
func TestArchiveCommands(t *testing.T) {
	t.Setenv("TORGET_DATABASE_URL", storetest.URL(t))
	t.Setenv("TORGET_SERVER_DOMAIN", "social.example.se")
	cfg := filepath.Join(t.TempDir(), "torget.toml")
	if err := os.WriteFile(cfg, []byte("[[retention]]\ncategory = \"inbound.like\"\nperiod = \"1y\"\ndecision = \"SSA-2026:12\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := cli(t, "ett långt lösenord\n", "admin", "create-user", "parkchef", "--role", "editor", "--password-stdin", "--config", cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := cli(t, "", "group", "create", "park", "--name", "Parker", "--purpose", "Parkerna", "--config", cfg,
		"--owning-unit", "Parkförvaltningen", "--responsible", "parkchef"); err != nil {
		t.Fatal(err)
	}
	id, err := cli(t, "", "post", "park", "--text", "Ett", "--config", cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli(t, "", "post", "edit", strings.TrimSpace(id), "--text", "Två", "--config", cfg); err != nil {
		t.Fatal(err)
	}
	if out, err := cli(t, "", "archive", "verify", "--config", cfg); err != nil || !strings.Contains(out, "record chain OK") {
		t.Fatalf("verify: %q %v", out, err)
	}
	if _, err := cli(t, "", "group", "close", "park", "--config", cfg); err == nil || !strings.Contains(err.Error(), "archive export") {
		t.Fatalf("close without an export: %v", err)
	}
	if _, err := cli(t, "", "archive", "gallra", "--config", cfg); err == nil || !strings.Contains(err.Error(), "decision") {
		t.Fatalf("gallra without a decision: %v", err)
	}
	if out, err := cli(t, "", "archive", "gallra", "--decision", "SSA-2026:12", "--dry-run", "--config", cfg); err != nil || !strings.Contains(out, "would remove (dry run) 0") {
		t.Fatalf("gallra dry run: %q %v", out, err)
	}
	if _, err := cli(t, "", "archive", "hold", "1", "--config", cfg); err == nil {
		t.Fatal("a hold without a reason was accepted")
	}
	if out, err := cli(t, "", "archive", "hold", "1", "--reason", "begäran 2026-9", "--config", cfg); err != nil || !strings.Contains(out, "hold 1 placed") {
		t.Fatalf("hold: %q %v", out, err)
	}
	out := t.TempDir()
	res, err := cli(t, "", "archive", "export", "--from", "2000-01-01", "--to", "2099-12-31", "--group", "park", "--out", out, "--config", cfg)
	if err != nil || !strings.Contains(res, "METS.xml sha256") {
		t.Fatalf("export: %q %v", res, err)
	}
	pkgs, _ := filepath.Glob(filepath.Join(out, "uuid-*"))
	if len(pkgs) != 1 {
		t.Fatalf("%d packages written", len(pkgs))
	}
	if res, err := cli(t, "", "archive", "verify", pkgs[0]); err != nil || !strings.Contains(res, "every SHA-256 checksum OK") {
		t.Fatalf("verify package: %q %v", res, err)
	}
	if res, err := cli(t, "", "group", "close", "park", "--config", cfg); err != nil || !strings.Contains(res, "closed group @park@social.example.se") {
		t.Fatalf("close: %q %v", res, err)
	}
	if _, err := cli(t, "", "post", "park", "--text", "Efteråt", "--config", cfg); err == nil {
		t.Fatal("a closed group took a post")
	}
	if _, err := cli(t, "", "archive", "export", "--from", "2026-02-01", "--to", "2026-01-01", "--out", out, "--config", cfg); err == nil {
		t.Fatal("a period that ends before it starts was accepted")
	}
}
