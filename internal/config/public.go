package config

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// validatePublic checks the sections behind the public legal pages: the
// privacy notice (GDPR art. 13, PRV-1) and the accessibility statement
// (lag 2018:1937, ACC-2) must be complete, and the service level of cases
// must make sense.
func (c *Config) validatePublic() []error {
	var errs []error
	errs = append(errs, requireAll("privacy", c.Privacy, "GDPR art. 13: the privacy notice must name it")...)
	errs = append(errs, requireAll("accessibility", c.Access, "Digg requires it in the accessibility statement")...)
	switch c.Access.Status {
	case "helt förenlig", "delvis förenlig", "inte förenlig":
	default:
		errs = append(errs, fmt.Errorf(`accessibility.status %q must be "helt förenlig", "delvis förenlig" or "inte förenlig"`, c.Access.Status))
	}
	if c.Access.Status != "helt förenlig" && len(c.Access.Gaps) == 0 {
		errs = append(errs, errors.New("accessibility.gaps: list the known gaps (with reasons) unless the status is \"helt förenlig\""))
	}
	for _, k := range []struct{ name, v string }{{"assessed_on", c.Access.AssessedOn}, {"updated_on", c.Access.UpdatedOn}} {
		if _, err := time.Parse("2006-01-02", k.v); k.v != "" && err != nil {
			errs = append(errs, fmt.Errorf("accessibility.%s %q must be a date YYYY-MM-DD", k.name, k.v))
		}
	}
	if c.Cases.DueWorkingDays < 1 || c.Cases.StaleDays < 1 || c.Cases.SupervisionDays < 1 || c.Cases.FeedbackPerHour < 1 {
		errs = append(errs, errors.New("cases.due_working_days, stale_days, supervision_days and feedback_per_hour must be at least 1"))
	}
	if c.Cases.SupervisionDays > 7 {
		errs = append(errs, errors.New("cases.supervision_days must be at most 7 (the one-week benchmark of BBS-lagen 4 §)"))
	}
	for _, a := range c.Cases.Authorities {
		if name, u, ok := strings.Cut(a, "|"); !ok || strings.TrimSpace(name) == "" || !strings.HasPrefix(strings.TrimSpace(u), "http") {
			errs = append(errs, fmt.Errorf("cases.authorities entry %q must be \"Name|https://contact-url\"", a))
		}
	}
	return errs
}

// requireAll reports every empty string field of a section.
func requireAll(section string, v any, why string) []error {
	var errs []error
	rv := reflect.ValueOf(v)
	for i := 0; i < rv.NumField(); i++ {
		f := rv.Field(i)
		if f.Kind() == reflect.String && strings.TrimSpace(f.String()) == "" {
			errs = append(errs, fmt.Errorf("%s.%s is required (%s)", section, rv.Type().Field(i).Tag.Get("toml"), why))
		}
	}
	return errs
}
