package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/torget/torget/internal/app"
	"github.com/torget/torget/internal/config"
	"github.com/torget/torget/internal/store/storetest"
)

// torget about set replaces an about page's built-in text; reset brings it back.
func TestAboutSet(t *testing.T) {
	dbURL := storetest.URL(t)
	t.Setenv("TORGET_DATABASE_URL", dbURL)
	t.Setenv("TORGET_MEDIA_DIR", t.TempDir())
	t.Setenv("TORGET_SERVER_DOMAIN", "social.example.se")
	page := func() string {
		t.Helper()
		cfg, err := config.Load("", os.Environ())
		if err != nil {
			t.Fatal(err)
		}
		a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), app.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		rec := httptest.NewRecorder()
		a.HTTP.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/about/accessibility", nil))
		if rec.Code != 200 {
			t.Fatalf("GET /about/accessibility: %d", rec.Code)
		}
		return rec.Body.String()
	}
	if body := page(); !strings.Contains(body, "delvis förenlig") {
		t.Fatal("the built-in accessibility statement is missing")
	}
	f := filepath.Join(t.TempDir(), "a11y.md")
	if err := os.WriteFile(f, []byte("Granskad **2026-05-01**: helt förenlig.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := cli(t, "", "about", "set", "accessibility", "--file", f); err != nil || !strings.Contains(out, "set about page accessibility") {
		t.Fatalf("about set: %q %v", out, err)
	}
	if body := page(); !strings.Contains(body, "Granskad <strong>2026-05-01</strong>: helt förenlig.") || strings.Contains(body, "delvis förenlig") {
		t.Fatalf("the administrator's text is not shown:\n%s", body)
	}
	if out, err := cli(t, "Från stdin\n", "about", "set", "rules", "--file", "-"); err != nil || !strings.Contains(out, "set about page rules") {
		t.Fatalf("about set from stdin: %q %v", out, err)
	}
	for _, args := range [][]string{
		{"about", "set", "nope", "--file", f},
		{"about", "set", "accessibility"},
		{"about", "set", "accessibility", "--file", filepath.Join(t.TempDir(), "missing.md")},
		{"about", "show", "accessibility"},
	} {
		if _, err := cli(t, "", args...); err == nil {
			t.Fatalf("%v: accepted", args)
		}
	}
	if _, err := cli(t, "   \n", "about", "set", "rules", "--file", "-"); err == nil {
		t.Fatal("an empty text was accepted")
	}
	if out, err := cli(t, "", "about", "reset", "accessibility"); err != nil || !strings.Contains(out, "reset") {
		t.Fatalf("about reset: %q %v", out, err)
	}
	if body := page(); !strings.Contains(body, "delvis förenlig") {
		t.Fatal("reset did not bring back the built-in text")
	}
}
