package liveness

import (
	"testing"
	"time"
)

func TestAddWorkingHours(t *testing.T) {
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
		if got := AddWorkingHours(at(c.from), c.h, loc); !got.Equal(at(c.want)) {
			t.Errorf("%s + %s = %s, want %s", c.from, c.h, got.In(loc).Format("2006-01-02 15:04 Mon"), c.want)
		}
	}
}
