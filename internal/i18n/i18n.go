// Package i18n is torget's one message catalogue: every text the web
// interface shows, in Swedish (the default and fallback), English and
// Finnish, kept as TOML files in locales/ and read with go-i18n. It also
// formats dates and numbers the way each language writes them.
//
// Message ids are dotted and descriptive ("group.follow.heading"). Ids
// starting with "staff." are the staff interface, which exists in Swedish
// and English; every other id is public and exists in all three languages.
package i18n

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // the instance time zone must load on any host

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed locales/*.toml
var localeFS embed.FS

// Default is the language used when nothing else is chosen, and for any
// message a catalogue lacks.
const Default = "sv"

// Languages are the interface languages, the default first.
var Languages = []string{"sv", "en", "fi"}

// StaffLanguages are the languages the staff interface is complete in.
var StaffLanguages = []string{"sv", "en"}

// Names are the languages' names in themselves, for the language switch.
var Names = map[string]string{"sv": "Svenska", "en": "English", "fi": "Suomi"}

// Bundle holds the parsed catalogue.
type Bundle struct {
	b       *goi18n.Bundle
	loc     *time.Location
	matcher language.Matcher
	ids     map[string][]string // language → message ids
	cache   map[string]*Localizer
}

// New parses the embedded catalogue; dates are shown in loc (UTC if nil).
func New(loc *time.Location) (*Bundle, error) {
	if loc == nil {
		loc = time.UTC
	}
	b := goi18n.NewBundle(language.Swedish)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	bd := &Bundle{b: b, loc: loc, ids: map[string][]string{}, cache: map[string]*Localizer{}}
	var tags []language.Tag
	for _, lang := range Languages {
		data, err := fs.ReadFile(localeFS, "locales/"+lang+".toml")
		if err != nil {
			return nil, err
		}
		mf, err := b.ParseMessageFileBytes(data, lang+".toml")
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", lang, err)
		}
		for _, m := range mf.Messages {
			bd.ids[lang] = append(bd.ids[lang], m.ID)
		}
		sort.Strings(bd.ids[lang])
		tags = append(tags, language.MustParse(lang))
	}
	bd.matcher = language.NewMatcher(tags)
	for _, lang := range Languages {
		tag := language.MustParse(lang)
		bd.cache[lang] = &Localizer{Lang: lang, l: goi18n.NewLocalizer(b, lang, Default), loc: loc,
			p: message.NewPrinter(tag), names: monthNames[lang]}
	}
	return bd, nil
}

// MessageIDs lists the ids a language's catalogue defines, sorted.
func (b *Bundle) MessageIDs(lang string) []string { return b.ids[lang] }

// Supported reports whether lang is an interface language.
func Supported(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// Match picks the interface language for an Accept-Language header (or
// any list of language tags); Default when none fits.
func (b *Bundle) Match(accept ...string) string {
	_, i := language.MatchStrings(b.matcher, accept...)
	// MatchStrings falls back to the first supported tag (Swedish) with
	// index 0 when nothing matches.
	return Languages[i]
}

// Localizer returns the localizer for an interface language; an unknown
// one gets the language Match chooses for it.
func (b *Bundle) Localizer(lang string) *Localizer {
	if l, ok := b.cache[lang]; ok {
		return l
	}
	return b.cache[b.Match(lang)]
}

// Localizer renders messages, dates and numbers in one language.
type Localizer struct {
	Lang  string
	l     *goi18n.Localizer
	loc   *time.Location
	p     *message.Printer
	names [12]string
}

// T returns message id filled with data: either one map or struct, or
// pairs of name and value ("Name", g.Name). A missing message renders as
// its id (a test keeps that from happening).
func (l *Localizer) T(id string, data ...any) string {
	return l.localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: templateData(data)})
}

// N returns the plural form of message id for count, which the message
// reads as {{.Count}} (formatted for the language).
func (l *Localizer) N(id string, count int, data ...any) string {
	td := templateData(data)
	m, _ := td.(map[string]any)
	if m == nil {
		m = map[string]any{}
	}
	m["Count"] = l.Number(int64(count))
	return l.localize(&goi18n.LocalizeConfig{MessageID: id, PluralCount: count, TemplateData: m})
}

func (l *Localizer) localize(cfg *goi18n.LocalizeConfig) string {
	s, err := l.l.Localize(cfg)
	if err != nil && s == "" {
		return cfg.MessageID
	}
	return s
}

func templateData(data []any) any {
	switch {
	case len(data) == 0:
		return nil
	case len(data) == 1:
		return data[0]
	}
	m := make(map[string]any, len(data)/2+1)
	for i := 0; i+1 < len(data); i += 2 {
		m[fmt.Sprint(data[i])] = data[i+1]
	}
	return m
}

var monthNames = map[string][12]string{
	"sv": {"januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober", "november", "december"},
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	"fi": {"tammikuuta", "helmikuuta", "maaliskuuta", "huhtikuuta", "toukokuuta", "kesäkuuta", "heinäkuuta", "elokuuta", "syyskuuta", "lokakuuta", "marraskuuta", "joulukuuta"},
}

// Date formats a moment in the instance time zone as the language writes
// it: "27 november 2026 kl. 15.30", "27 November 2026, 15:30",
// "27. marraskuuta 2026 klo 15.30".
func (l *Localizer) Date(t time.Time) string {
	t = t.In(l.loc)
	month := l.names[t.Month()-1]
	switch l.Lang {
	case "en":
		return fmt.Sprintf("%d %s %d, %02d:%02d", t.Day(), month, t.Year(), t.Hour(), t.Minute())
	case "fi":
		return fmt.Sprintf("%d. %s %d klo %d.%02d", t.Day(), month, t.Year(), t.Hour(), t.Minute())
	}
	return fmt.Sprintf("%d %s %d kl. %d.%02d", t.Day(), month, t.Year(), t.Hour(), t.Minute())
}

// Number formats an integer with the language's digit grouping
// ("12 345" in Swedish and Finnish, "12,345" in English).
func (l *Localizer) Number(n int64) string {
	return strings.TrimSpace(l.p.Sprintf("%d", n))
}
