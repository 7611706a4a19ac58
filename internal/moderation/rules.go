package moderation

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Kind is what a rule looks at. There is deliberately no kind (and no
// legal ground) for opinions, criticism of the city or "misinformation"
// (GOV-3): rules judge conduct and legality, never viewpoint.
type Kind string

// Rule kinds.
const (
	KindManual      Kind = "manual"       // judged by a moderator only (e.g. a legal ground); never automatic
	KindWords       Kind = "words"        // Pattern: one word or phrase a line; "word*" matches a prefix
	KindRegex       Kind = "regex"        // Pattern: one RE2 regular expression a line, matched against normalised text
	KindLinkDomain  Kind = "link_domain"  // Pattern: one domain a line (subdomains included)
	KindMaxLinks    Kind = "max_links"    // more than Limit links
	KindMaxMentions Kind = "max_mentions" // more than Limit mentions
	KindRateAuthor  Kind = "rate_author"  // more than Limit items from one author within Window
	KindRateServer  Kind = "rate_server"  // more than Limit items from one server within Window
	KindFirstPost   Kind = "first_post"   // the first item from an author the group does not know
	KindMedia       Kind = "media"        // more than Limit attachments (0: no media at all)
)

// Kinds lists every kind, for forms.
var Kinds = []Kind{KindManual, KindWords, KindRegex, KindLinkDomain, KindMaxLinks, KindMaxMentions,
	KindRateAuthor, KindRateServer, KindFirstPost, KindMedia}

// Rule is one published rule in one version.
type Rule struct {
	ID          string        // stable id, e.g. "bbs-hets" or "spam-links"
	Version     int           // rises by one with every change
	GroupID     int64         // 0: instance-wide
	Kind        Kind          //
	Text        string        // the rule as published
	Action      Action        // Hold, Hide or Reject (automatic kinds)
	LegalGround string        // a Ground code from Grounds
	Pattern     string        // words, regexes or domains, one a line
	Limit       int           // for the counting kinds
	Window      time.Duration // for the rate kinds
}

// Ground is a law or published policy a rule rests on.
type Ground struct {
	Code    string
	Statute string // the statute or policy reference
	Label   string // Swedish name
	Legal   bool   // one of the bulletin-board act's legal reasons (MOD-2)
}

// Grounds is the fixed catalogue. The first eight are the legal reasons of
// the Act on Electronic Bulletin Boards, 5 § (MOD-2); the rest are the
// published terms and data-protection grounds. None concerns viewpoint.
var Grounds = []Ground{
	{"olaga-hot", "BrB 4 kap. 5 §", "Olaga hot", true},
	{"olaga-integritetsintrang", "BrB 4 kap. 6 c §", "Olaga integritetsintrång", true},
	{"uppvigling", "BrB 16 kap. 5 §", "Uppvigling", true},
	{"hets-mot-folkgrupp", "BrB 16 kap. 8 §", "Hets mot folkgrupp", true},
	{"barnpornografibrott", "BrB 16 kap. 10 a §", "Barnpornografibrott", true},
	{"olaga-valdsskildring", "BrB 16 kap. 10 c §", "Olaga våldsskildring", true},
	{"terrorism", "Lag (2022:666) om straff för terroristbrott (offentlig uppmaning; paragraf att verifiera)", "Offentlig uppmaning till terrorism", true},
	{"upphovsratt", "Upphovsrättslagen (1960:729) 53 §", "Uppenbart upphovsrättsintrång", true},
	{"personuppgifter", "GDPR art. 6, 9; OSL", "Kränkande personuppgifter / uppgifter om tredje person", false},
	{"villkor-spam", "Publicerade villkor: reklam och massutskick", "Reklam och spam", false},
	{"villkor-amne", "Publicerade villkor: gruppens ämne", "Utanför gruppens ämne", false},
	{"villkor-trakasserier", "Publicerade villkor: personangrepp och trakasserier", "Personangrepp och trakasserier", false},
	{"villkor-sakerhet", "Publicerade villkor: skadlig kod och bedrägeri", "Skadliga länkar och bedrägeri", false},
}

// GroundByCode finds a ground; ok is false for an unknown code.
func GroundByCode(code string) (Ground, bool) {
	for _, g := range Grounds {
		if g.Code == code {
			return g, true
		}
	}
	return Ground{}, false
}

var ruleIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}$`)

// Validate checks a rule before it is stored: an id, a text, a legal
// ground from the catalogue (GOV-2/GOV-3), a known kind and action, and a
// pattern that compiles.
func (r *Rule) Validate() error {
	var errs []string
	if !ruleIDPattern.MatchString(r.ID) {
		errs = append(errs, "id must be 2–63 lower-case letters, digits or hyphens")
	}
	if strings.TrimSpace(r.Text) == "" {
		errs = append(errs, "the rule text is required")
	}
	if _, ok := GroundByCode(r.LegalGround); !ok {
		errs = append(errs, "a legal ground from the catalogue is required")
	}
	known := false
	for _, k := range Kinds {
		known = known || k == r.Kind
	}
	if !known {
		errs = append(errs, fmt.Sprintf("unknown kind %q", r.Kind))
	}
	switch r.Action {
	case Hold, Hide, Reject:
	default:
		errs = append(errs, "action must be hold, hide or reject")
	}
	switch r.Kind {
	case KindWords, KindLinkDomain:
		if len(lines(r.Pattern)) == 0 {
			errs = append(errs, "at least one word or domain is required")
		}
	case KindRegex:
		ls := lines(r.Pattern)
		if len(ls) == 0 {
			errs = append(errs, "at least one regular expression is required")
		}
		for _, l := range ls {
			if _, err := regexp.Compile(l); err != nil {
				errs = append(errs, fmt.Sprintf("regular expression %q: %v", l, err))
			}
		}
	case KindRateAuthor, KindRateServer:
		if r.Limit < 1 || r.Window <= 0 {
			errs = append(errs, "a rate rule needs a limit of at least 1 and a window")
		}
	case KindMaxLinks, KindMaxMentions, KindMedia:
		if r.Limit < 0 {
			errs = append(errs, "the limit cannot be negative")
		}
	}
	if len(errs) > 0 {
		return errors.New(strings.Join(errs, "; "))
	}
	return nil
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// builtinText is the Swedish text of each built-in rule, as stored (and
// archived) when a new installation seeds its rules. Pages show the
// message catalogue's translation (mod.builtin.<id>) while the stored text
// is unchanged.
var builtinText = map[string]string{
	"olaga-hot":                "Hot mot en person är förbjudet.",
	"olaga-integritetsintrang": "Spridning av bilder eller uppgifter som allvarligt kränker någons privatliv är förbjuden.",
	"uppvigling":               "Uppmaningar till brott är förbjudna.",
	"hets-mot-folkgrupp":       "Hot eller missaktning mot en folkgrupp är förbjudet.",
	"barnpornografibrott":      "Sexuella övergrepp på barn och bilder av sådana är förbjudna och polisanmäls.",
	"olaga-valdsskildring":     "Grova våldsskildringar är förbjudna.",
	"terrorism":                "Uppmaningar till terrorism är förbjudna.",
	"upphovsratt":              "Uppenbara intrång i upphovsrätt tas bort.",
	"personuppgifter":          "Kränkande uppgifter om andra personer, och känsliga uppgifter om tredje person, tas bort.",
	"villkor-spam":             "Reklam, massutskick och upprepade likadana inlägg tas bort.",
	"villkor-amne":             "Inlägg ska handla om gruppens ämne.",
	"villkor-trakasserier":     "Personangrepp och trakasserier mot andra deltagare tas bort.",
	"villkor-sakerhet":         "Länkar till skadlig kod eller bedrägerier tas bort.",
}

// BuiltinText returns the stored Swedish text of a built-in rule.
func BuiltinText(id string) (string, bool) {
	t, ok := builtinText[id]
	return t, ok
}

// DefaultRules are the instance rules a new installation starts with: one
// per ground, judged by a moderator.
func DefaultRules() []Rule {
	var out []Rule
	for _, g := range Grounds {
		out = append(out, Rule{ID: g.Code, Version: 1, Kind: KindManual, Text: builtinText[g.Code], Action: Hide, LegalGround: g.Code})
	}
	return out
}
