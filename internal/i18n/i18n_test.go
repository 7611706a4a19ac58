package i18n

import (
	"strings"
	"testing"
	"time"
)

func bundle(t *testing.T) *Bundle {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(loc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDatePerLanguage(t *testing.T) {
	b := bundle(t)
	at := time.Date(2026, 11, 27, 14, 30, 0, 0, time.UTC) // 15.30 in Stockholm
	for lang, want := range map[string]string{
		"sv": "27 november 2026 kl. 15.30",
		"en": "27 November 2026, 15:30",
		"fi": "27. marraskuuta 2026 klo 15.30",
	} {
		if got := b.Localizer(lang).Date(at); got != want {
			t.Errorf("%s: %q, want %q", lang, got, want)
		}
	}
	// Summer time: UTC+2.
	if got := b.Localizer("sv").Date(time.Date(2026, 7, 1, 7, 5, 0, 0, time.UTC)); got != "1 juli 2026 kl. 9.05" {
		t.Errorf("summer: %q", got)
	}
}

func TestNumbersAndPlurals(t *testing.T) {
	b := bundle(t)
	if got := b.Localizer("en").Number(12345); got != "12,345" {
		t.Errorf("en number %q", got)
	}
	if got := b.Localizer("sv").Number(12345); strings.ReplaceAll(got, "\u00a0", " ") != "12 345" {
		t.Errorf("sv number %q", got)
	}
	en := b.Localizer("en")
	if got := en.N("staff.group.followers.count", 1); got != "The group has 1 follower." {
		t.Errorf("one: %q", got)
	}
	if got := en.N("staff.group.followers.count", 1200); got != "The group has 1,200 followers." {
		t.Errorf("other: %q", got)
	}
	if got := b.Localizer("sv").N("staff.group.pending.caption", 1); got != "1 väntande följförfrågan" {
		t.Errorf("sv one: %q", got)
	}
}

func TestTemplateDataAndFallback(t *testing.T) {
	b := bundle(t)
	if got := b.Localizer("en").T("post.heading", "Group", "Parks"); got != "Post from Parks" {
		t.Errorf("en: %q", got)
	}
	if got := b.Localizer("fi").T("post.heading", "Group", "Puistot"); got != "Viesti ryhmältä Puistot" {
		t.Errorf("fi: %q", got)
	}
	// Finnish has no staff interface: Swedish stands in.
	if got := b.Localizer("fi").T("staff.nav.logout"); got != "Logga ut" {
		t.Errorf("fi fallback: %q", got)
	}
	if got := b.Localizer("sv").T("no.such.message"); got != "no.such.message" {
		t.Errorf("missing: %q", got)
	}
}

func TestMatch(t *testing.T) {
	b := bundle(t)
	for accept, want := range map[string]string{
		"":                           "sv",
		"en-GB,en;q=0.9":             "en",
		"fi-FI,fi;q=0.9,en;q=0.5":    "fi",
		"de-DE,de;q=0.9":             "sv",
		"de;q=0.9,en;q=0.8,sv;q=0.1": "en",
		"sv-SE":                      "sv",
	} {
		if got := b.Match(accept); got != want {
			t.Errorf("%q: %s, want %s", accept, got, want)
		}
	}
	if b.Localizer("en-US").Lang != "en" || b.Localizer("xx").Lang != "sv" {
		t.Error("Localizer of an unknown tag")
	}
}

// The catalogues agree: English has every Swedish message, Finnish every
// public one, and neither has extra ones. (internal/web's test checks
// that the messages are the ones the code uses.)
func TestCataloguesComplete(t *testing.T) {
	b := bundle(t)
	sv := map[string]bool{}
	for _, id := range b.MessageIDs("sv") {
		sv[id] = true
	}
	if len(sv) < 100 {
		t.Fatalf("only %d Swedish messages", len(sv))
	}
	for _, lang := range []string{"en", "fi"} {
		have := map[string]bool{}
		for _, id := range b.MessageIDs(lang) {
			have[id] = true
			if !sv[id] {
				t.Errorf("%s has %q, which Swedish lacks", lang, id)
			}
			if lang == "fi" && strings.HasPrefix(id, "staff.") {
				t.Errorf("fi has staff message %q: the staff interface is sv and en", id)
			}
		}
		for id := range sv {
			if !have[id] && (lang == "en" || !strings.HasPrefix(id, "staff.")) {
				t.Errorf("%s lacks %q", lang, id)
			}
		}
	}
}
