package liveness

import (
	"testing"
	"time"
)

// TestDefaultTarget: without a configured target the alert comes after four
// working hours, Monday–Friday 08–17 in the instance's time zone, counted
// by the same code as the moderation queue's target.
func TestDefaultTarget(t *testing.T) {
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		from string
		h    time.Duration
		want string
	}{
		{"2026-11-25 09:00", 4 * time.Hour, "2026-11-25 13:00"},  // Wednesday morning
		{"2026-11-27 15:00", 4 * time.Hour, "2026-11-30 10:00"},  // Friday afternoon → Monday
		{"2026-11-28 12:00", 4 * time.Hour, "2026-11-30 12:00"},  // Saturday → Monday 08 + 4
		{"2026-11-25 06:30", 4 * time.Hour, "2026-11-25 12:00"},  // before opening
		{"2026-11-25 20:00", 4 * time.Hour, "2026-11-26 12:00"},  // after closing
		{"2026-11-25 16:00", 10 * time.Hour, "2026-11-26 17:00"}, // a whole next day
		{"2026-11-25 16:00", 11 * time.Hour, "2026-11-27 09:00"}, // over two nights
		{"2026-03-27 16:00", 2 * time.Hour, "2026-03-30 09:00"},  // over the switch to summer time
	} {
		if c.h == 4*time.Hour {
			if got := (Config{Location: loc}).Target().Status(at(c.from), at(c.want)); !got.Overdue || !got.AlertAt.Equal(at(c.want)) {
				t.Errorf("%s: alert at %s, overdue %v; want %s", c.from, got.AlertAt.In(loc), got.Overdue, c.want)
			}
		}
		if got := (Config{Location: loc}).Target().Hours.Add(at(c.from), c.h); !got.Equal(at(c.want)) {
			t.Errorf("%s + %s = %s, want %s", c.from, c.h, got.In(loc).Format("2006-01-02 15:04 Mon"), c.want)
		}
	}
}

func TestLegalHoursRoundsUp(t *testing.T) {
	if h := (Config{}).LegalHours(); h != 4 {
		t.Fatalf("default target %d hours, want 4", h)
	}
	c := Config{LegalTarget: (Config{}).Target()}
	c.LegalTarget.Alert = 90 * time.Minute
	if h := c.LegalHours(); h != 2 {
		t.Fatalf("90 minutes shown as %d hours, want 2", h)
	}
}
