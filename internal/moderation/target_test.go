package moderation

import (
	"testing"
	"time"
)

func TestWorkingHoursTarget(t *testing.T) {
	sthlm, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Fatal(err)
	}
	w, err := ParseWorkingHours("08:00-17:00", sthlm)
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, sthlm)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tg := Target{Hours: w, Alert: 4 * time.Hour}
	cases := []struct {
		name, reported, now string
		due, alert          string
		elapsed             time.Duration
		overdue             bool
	}{
		// Friday 2026-11-27 is a working day.
		{"same morning", "2026-11-27 09:00", "2026-11-27 12:59", "2026-11-27 17:00", "2026-11-27 13:00", 3*time.Hour + 59*time.Minute, false},
		{"alert time reached", "2026-11-27 09:00", "2026-11-27 13:00", "2026-11-27 17:00", "2026-11-27 13:00", 4 * time.Hour, true},
		// Friday afternoon: two hours on Friday, two on Monday.
		{"over the weekend", "2026-11-27 15:00", "2026-11-30 09:00", "2026-11-27 17:00", "2026-11-30 10:00", 3 * time.Hour, false},
		// Saturday night: nothing counts until Monday 08:00, due Monday.
		{"reported at the weekend", "2026-11-28 23:00", "2026-11-30 08:30", "2026-11-30 17:00", "2026-11-30 12:00", 30 * time.Minute, false},
		// Evening: the next working day.
		{"reported in the evening", "2026-11-26 19:00", "2026-11-27 12:00", "2026-11-27 17:00", "2026-11-27 12:00", 4 * time.Hour, true},
		// Daylight saving ends on 2026-10-25 (a Sunday): Monday counts nine hours of wall clock.
		{"across DST", "2026-10-23 16:00", "2026-10-26 10:00", "2026-10-23 17:00", "2026-10-26 11:00", 3 * time.Hour, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := tg.Status(at(c.reported), at(c.now))
			if !st.Due.Equal(at(c.due)) || !st.AlertAt.Equal(at(c.alert)) || st.Elapsed != c.elapsed || st.Overdue != c.overdue {
				t.Fatalf("got due %s alert %s elapsed %s overdue %v", st.Due.In(sthlm), st.AlertAt.In(sthlm), st.Elapsed, st.Overdue)
			}
		})
	}
	for _, bad := range []string{"", "8-17", "17:00-08:00", "08:00-25:00", "08:61-17:00"} {
		if _, err := ParseWorkingHours(bad, sthlm); err == nil {
			t.Errorf("ParseWorkingHours(%q) accepted", bad)
		}
	}
}
