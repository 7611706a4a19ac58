package moderation

import (
	"fmt"
	"time"
)

// WorkingHours is the working day of the moderators (MOD-5): Monday to
// Friday, Start to End in Location. Public holidays are not known here.
type WorkingHours struct {
	Location   *time.Location
	Start, End time.Duration // since midnight, local time
}

// ParseWorkingHours reads "08:00-17:00".
func ParseWorkingHours(s string, loc *time.Location) (WorkingHours, error) {
	var h1, m1, h2, m2 int
	if _, err := fmt.Sscanf(s, "%d:%d-%d:%d", &h1, &m1, &h2, &m2); err != nil {
		return WorkingHours{}, fmt.Errorf("working hours %q: want HH:MM-HH:MM", s)
	}
	w := WorkingHours{Location: loc, Start: time.Duration(h1)*time.Hour + time.Duration(m1)*time.Minute,
		End: time.Duration(h2)*time.Hour + time.Duration(m2)*time.Minute}
	if m1 < 0 || m1 > 59 || m2 < 0 || m2 > 59 || w.Start < 0 || w.End > 24*time.Hour || w.Start >= w.End {
		return WorkingHours{}, fmt.Errorf("working hours %q: the day must start before it ends, within 00:00-24:00", s)
	}
	if loc == nil {
		w.Location = time.UTC
	}
	return w, nil
}

// day returns the working period of the calendar day containing t (ok is
// false at weekends).
func (w WorkingHours) day(t time.Time) (start, end time.Time, ok bool) {
	t = t.In(w.Location)
	mid := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, w.Location)
	if wd := mid.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return time.Time{}, time.Time{}, false
	}
	// Add hours to midnight via the wall clock, so a DST day stays right.
	at := func(d time.Duration) time.Time {
		return time.Date(mid.Year(), mid.Month(), mid.Day(), int(d/time.Hour), int(d%time.Hour/time.Minute), 0, 0, w.Location)
	}
	return at(w.Start), at(w.End), true
}

func nextMidnight(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc)
}

// Between is the working time from one instant to another (0 if to is not
// after from).
func (w WorkingHours) Between(from, to time.Time) time.Duration {
	var sum time.Duration
	for t := from; t.Before(to); t = nextMidnight(t, w.Location) {
		start, end, ok := w.day(t)
		if !ok {
			continue
		}
		a, b := maxTime(start, t), minTime(end, to)
		if b.After(a) {
			sum += b.Sub(a)
		}
	}
	return sum
}

// Add is the instant when d of working time has passed after from.
func (w WorkingHours) Add(from time.Time, d time.Duration) time.Time {
	t := from
	for i := 0; i < 3660; i++ { // at most ten years of days
		start, end, ok := w.day(t)
		if ok {
			a := maxTime(start, t)
			if a.Before(end) {
				left := end.Sub(a)
				if d <= left {
					return a.Add(d)
				}
				d -= left
			}
		}
		t = nextMidnight(t, w.Location)
	}
	return t
}

// EndOfWorkingDay is when the working day on which t falls ends; outside
// working hours, the end of the next working day ("act today").
func (w WorkingHours) EndOfWorkingDay(t time.Time) time.Time {
	for i := 0; i < 14; i++ {
		if _, end, ok := w.day(t); ok && t.Before(end) {
			return end
		}
		t = nextMidnight(t, w.Location)
	}
	return t
}

// Target is the time target for reports in a legal category (MOD-5): act
// the same working day; an alert is due after Alert of working time.
type Target struct {
	Hours WorkingHours
	Alert time.Duration
}

// Status is where one report stands against the target at time now.
type Status struct {
	Due     time.Time     // end of the working day it must be acted on
	AlertAt time.Time     // when the working-hours alert is due
	Elapsed time.Duration // working time since it was reported
	Overdue bool          // the alert time has passed
}

// Status computes a report's standing.
func (t Target) Status(reported, now time.Time) Status {
	s := Status{Due: t.Hours.EndOfWorkingDay(reported), AlertAt: t.Hours.Add(reported, t.Alert), Elapsed: t.Hours.Between(reported, now)}
	s.Overdue = !now.Before(s.AlertAt)
	return s
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
