package cases

import (
	"fmt"
	"strings"
	"time"
)

// OpenHours are a group's staffed hours in machine-readable form, for the
// auto-reply (SVC-2): entries "DAYS HH:MM-HH:MM" separated by ";" or new
// lines, DAYS a day or a range of days in English or Swedish
// abbreviations ("mon-fri 08:00-16:00; lör 10:00-12:00").
type OpenHours []openSpan

type openSpan struct {
	days       [7]bool // by time.Weekday
	from, till int     // minutes after midnight
}

var dayNames = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday, "thu": time.Thursday,
	"fri": time.Friday, "sat": time.Saturday,
	"sön": time.Sunday, "mån": time.Monday, "tis": time.Tuesday, "ons": time.Wednesday, "tor": time.Thursday,
	"fre": time.Friday, "lör": time.Saturday,
}

// ParseOpenHours reads staffed hours; an empty text is no hours at all.
func ParseOpenHours(text string) (OpenHours, error) {
	var out OpenHours
	for _, e := range strings.FieldsFunc(text, func(r rune) bool { return r == ';' || r == '\n' }) {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		f := strings.Fields(strings.ToLower(e))
		if len(f) != 2 {
			return nil, fmt.Errorf("%w: %q is not \"days HH:MM-HH:MM\"", ErrInvalid, e)
		}
		var sp openSpan
		a, b, isRange := strings.Cut(strings.ReplaceAll(f[0], "–", "-"), "-")
		d1, ok1 := dayNames[a]
		d2, ok2 := d1, true
		if isRange {
			d2, ok2 = dayNames[b]
		}
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%w: unknown day in %q", ErrInvalid, e)
		}
		for d := d1; ; d = (d + 1) % 7 {
			sp.days[d] = true
			if d == d2 {
				break
			}
		}
		from, till, ok := strings.Cut(strings.ReplaceAll(f[1], "–", "-"), "-")
		var err error
		if sp.from, err = clock(from); err == nil && ok {
			sp.till, err = clock(till)
		}
		if !ok || err != nil || sp.till <= sp.from {
			return nil, fmt.Errorf("%w: bad time span in %q", ErrInvalid, e)
		}
		out = append(out, sp)
	}
	return out, nil
}

func clock(s string) (int, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, err
	}
	return t.Hour()*60 + t.Minute(), nil
}

// Open reports whether t (in the time zone the hours are meant in) is
// within the staffed hours.
func (h OpenHours) Open(t time.Time) bool {
	m := t.Hour()*60 + t.Minute()
	for _, sp := range h {
		if sp.days[t.Weekday()] && m >= sp.from && m < sp.till {
			return true
		}
	}
	return false
}
