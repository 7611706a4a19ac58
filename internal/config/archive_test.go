package config

import (
	"strings"
	"testing"
	"time"
)

func TestArchiveSchedule(t *testing.T) {
	for _, tc := range []struct {
		schedule, date, dir, err string
	}{
		{"", "", "", ""},
		{"yearly", "01-15", "/srv/arkiv", ""},
		{"yearly", "", "", "archive.dir is required"},
		{"monthly", "", "", `archive.schedule "monthly"`},
		{"yearly", "13-01", "/srv/arkiv", "archive.schedule_date"},
		{"yearly", "02-29", "/srv/arkiv", "archive.schedule_date"},
	} {
		c := Default()
		c.Archive.Schedule, c.Archive.ScheduleDate, c.Archive.Dir = tc.schedule, tc.date, tc.dir
		err := c.Validate()
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%+v: %v", tc, err)
		}
	}
	m, d, err := Archive{ScheduleDate: "01-15"}.ScheduleDay()
	if err != nil || m != time.January || d != 15 {
		t.Fatal(m, d, err)
	}
}
