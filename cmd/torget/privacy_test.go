package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/store/storetest"
)

// torget privacy sweep blanks the IP addresses and user agents older than
// ip_retention and says how many; the erase commands refuse what they
// cannot do.
func TestPrivacyCommands(t *testing.T) {
	ctx := context.Background()
	dbURL := storetest.URL(t)
	t.Setenv("TORGET_DATABASE_URL", dbURL)
	t.Setenv("TORGET_MEDIA_DIR", t.TempDir())
	t.Setenv("TORGET_SERVER_DOMAIN", "social.example.se")
	if _, err := cli(t, "ett långt lösenord\n", "admin", "create-user", "anna", "--role", "admin", "--password-stdin"); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(dbURL, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Exec(ctx, "UPDATE audit_log SET ip = '192.0.2.9', at = ?", time.Now().Add(-15*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := st.RecordLoginAttempt(ctx, "anna", "192.0.2.10", true); err != nil { // today: kept
		t.Fatal(err)
	}
	out, err := cli(t, "", "privacy", "sweep")
	if err != nil || !strings.Contains(out, "0 sessions, 0 sign-in attempts, 1 audit entries") {
		t.Fatalf("privacy sweep: %q %v", out, err)
	}
	if n, _ := st.QueryInt(ctx, "SELECT COUNT(*) FROM audit_log WHERE ip <> '' OR user_agent <> ''"); n != 0 {
		t.Fatalf("audit rows with an address after the sweep: %d", n)
	}
	if n, _ := st.QueryInt(ctx, "SELECT COUNT(*) FROM login_attempts WHERE ip = '192.0.2.10'"); n != 1 {
		t.Fatal("today's sign-in attempt lost its address")
	}
	if _, err := cli(t, "", "privacy", "erase", "register", "@nobody@elsewhere.example", "--text", "Radera mig"); err == nil ||
		!strings.Contains(err.Error(), "unknown account") {
		t.Fatalf("erase register of an unknown account: %v", err)
	}
	if _, err := cli(t, "", "privacy", "erase", "decide", "1", "--action", "remove", "--ground", "gdpr-17-1", "--reasons", "x"); err == nil {
		t.Fatal("decided a request that does not exist")
	}
	if _, err := cli(t, "", "privacy"); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Fatalf("privacy without a command: %v", err)
	}
}
