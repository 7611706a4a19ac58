package cases

import (
	"testing"
	"time"
)

func TestDetectLanguage(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"@seniorhalsa Milloin palvelupiste on auki? Kiitos", "fi"},
		{"Hei! Voiko päiväkotiin soittaa huomenna aamulla?", "fi"},
		{"Missä kirjasto on?", "fi"},
		{"@seniorhalsa När öppnar servicepunkten på måndag? Tack", "sv"},
		{"Hur gör jag för att få färdtjänst?", "sv"},
		{"When does the library open? Thanks", "en"},
		{"Can I bring my dog to the park?", "en"},
		{"👍", ""},
		{"Älvsjö", ""},
	} {
		if got := DetectLanguage(tc.text); got != tc.want {
			t.Errorf("DetectLanguage(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestOpenHours(t *testing.T) {
	loc := time.UTC
	h, err := ParseOpenHours("mon-fri 08:00-16:00; lör 10:00-12:00")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at   time.Time
		open bool
	}{
		{time.Date(2026, 11, 23, 10, 0, 0, 0, loc), true},  // Monday
		{time.Date(2026, 11, 23, 22, 0, 0, 0, loc), false}, // Monday night
		{time.Date(2026, 11, 27, 15, 59, 0, 0, loc), true}, // Friday
		{time.Date(2026, 11, 27, 16, 0, 0, 0, loc), false},
		{time.Date(2026, 11, 28, 11, 0, 0, 0, loc), true},  // Saturday
		{time.Date(2026, 11, 29, 11, 0, 0, 0, loc), false}, // Sunday
	} {
		if got := h.Open(tc.at); got != tc.open {
			t.Errorf("Open(%s) = %v", tc.at.Format("Mon 15:04"), got)
		}
	}
	for _, bad := range []string{"mon 8-16", "someday 08:00-16:00", "mon-fri 16:00-08:00", "mon-fri"} {
		if _, err := ParseOpenHours(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
