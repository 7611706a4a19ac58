package moderation

import (
	"fmt"
	"net/url"
	"regexp"
	"regexp/syntax"
	"strings"
	"time"
	"unicode/utf8"
)

// Counter tells the rate rules how many earlier items an author (byAuthor)
// or a server sent since a time (the item evaluated not included). The engine itself keeps no state.
type Counter func(byAuthor bool, key string, since time.Time) (int, error)

// Engine is a compiled rule set: evaluation normalises the text once, runs
// one Aho–Corasick automaton for every word of every word rule and for a
// required literal of every regular expression, and runs a regular
// expression only when its literal occurs (or when it has none).
type Engine struct {
	rules []Rule
	ac    *automaton
	// per automaton pattern: what a hit means
	hits []acHit
	// regexes without a usable literal, always run
	always  []compiledRegex
	regexes []compiledRegex  // indexed by acHit.regex
	domains map[string][]int // domain → rule indexes
	other   []int            // rule indexes of counting kinds
}

type acHit struct {
	rule       int
	word       string // the word as written in the rule, for Why
	regex      int    // ≥ 0: a regex literal; -1: a word
	boundStart bool
	boundEnd   bool
}

type compiledRegex struct {
	rule int
	re   *regexp.Regexp
	src  string
}

// Compile builds an engine from rules (already validated). Rules of kind
// manual are kept for lookups but never match automatically.
func Compile(rules []Rule) (*Engine, error) {
	e := &Engine{rules: rules, domains: map[string][]int{}}
	var pats []string
	for ri, r := range rules {
		switch r.Kind {
		case KindWords:
			for _, w := range lines(r.Pattern) {
				prefix := strings.HasSuffix(w, "*")
				w = Normalize(strings.TrimSuffix(w, "*"))
				if w == "" {
					continue
				}
				pats = append(pats, w)
				e.hits = append(e.hits, acHit{rule: ri, word: w, regex: -1, boundStart: true, boundEnd: !prefix})
			}
		case KindRegex:
			for _, src := range lines(r.Pattern) {
				re, err := regexp.Compile("(?s)" + Normalize(src))
				if err != nil {
					return nil, fmt.Errorf("rule %s: %w", r.ID, err)
				}
				cr := compiledRegex{rule: ri, re: re, src: src}
				lit := requiredLiteral(re.String())
				if len(lit) < 2 {
					e.always = append(e.always, cr)
					continue
				}
				e.regexes = append(e.regexes, cr)
				pats = append(pats, lit)
				e.hits = append(e.hits, acHit{rule: ri, regex: len(e.regexes) - 1})
			}
		case KindLinkDomain:
			for _, d := range lines(r.Pattern) {
				d = strings.TrimPrefix(strings.ToLower(d), "*.")
				e.domains[d] = append(e.domains[d], ri)
			}
		case KindMaxLinks, KindMaxMentions, KindRateAuthor, KindRateServer, KindFirstPost, KindMedia:
			e.other = append(e.other, ri)
		}
	}
	e.ac = newAutomaton(pats)
	return e, nil
}

// Rules returns the rules the engine was compiled from.
func (e *Engine) Rules() []Rule { return e.rules }

// Rule finds a rule by id.
func (e *Engine) Rule(id string) (Rule, bool) {
	for _, r := range e.rules {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

// requiredLiteral returns a literal every match of the expression must
// contain (the longest one at the top level of a concatenation), or "".
func requiredLiteral(expr string) string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return ""
	}
	re = re.Simplify()
	for re.Op == syntax.OpCapture && len(re.Sub) == 1 {
		re = re.Sub[0]
	}
	lit := func(r *syntax.Regexp) string {
		if r.Op == syntax.OpLiteral && r.Flags&syntax.FoldCase == 0 {
			return string(r.Rune)
		}
		return ""
	}
	if s := lit(re); s != "" {
		return s
	}
	best := ""
	if re.Op == syntax.OpConcat {
		for _, sub := range re.Sub {
			for sub.Op == syntax.OpCapture && len(sub.Sub) == 1 {
				sub = sub.Sub[0]
			}
			if s := lit(sub); len(s) > len(best) {
				best = s
			}
		}
	}
	return best
}

// Evaluate runs every rule against it and returns the verdict: the
// strictest action of all matches, Accept if none matched. count may be nil
// when the rule set has no rate rules.
func (e *Engine) Evaluate(it Item, count Counter) (Verdict, error) {
	var matches []Match
	matched := make(map[int]bool)
	add := func(ri int, why string) {
		if matched[ri] {
			return
		}
		matched[ri] = true
		r := e.rules[ri]
		matches = append(matches, Match{RuleID: r.ID, Version: r.Version, Action: r.Action, Why: why})
	}
	if len(e.hits) > 0 || len(e.always) > 0 {
		text := Normalize(it.Text)
		var candidates []int
		e.ac.scan(text, func(p, end int) {
			h := e.hits[p]
			if matched[h.rule] {
				return
			}
			if h.regex >= 0 {
				candidates = append(candidates, h.regex)
				return
			}
			start := end - len(h.word)
			if h.boundStart && start > 0 {
				if r, _ := utf8.DecodeLastRuneInString(text[:start]); isWordRune(r) {
					return
				}
			}
			if h.boundEnd && end < len(text) {
				if r, _ := utf8.DecodeRuneInString(text[end:]); isWordRune(r) {
					return
				}
			}
			add(h.rule, "ord: "+h.word)
		})
		seen := map[int]bool{}
		for _, ci := range candidates {
			if seen[ci] {
				continue
			}
			seen[ci] = true
			cr := e.regexes[ci]
			if !matched[cr.rule] && cr.re.MatchString(text) {
				add(cr.rule, "mönster: "+cr.src)
			}
		}
		for _, cr := range e.always {
			if !matched[cr.rule] && cr.re.MatchString(text) {
				add(cr.rule, "mönster: "+cr.src)
			}
		}
	}
	if len(e.domains) > 0 {
		for _, l := range it.Links {
			u, err := url.Parse(l)
			if err != nil {
				continue
			}
			host := strings.ToLower(u.Hostname())
			for h := host; h != ""; {
				for _, ri := range e.domains[h] {
					add(ri, "länk till "+host)
				}
				_, rest, ok := strings.Cut(h, ".")
				if !ok {
					break
				}
				h = rest
			}
		}
	}
	for _, ri := range e.other {
		r := e.rules[ri]
		switch r.Kind {
		case KindMaxLinks:
			if len(it.Links) > r.Limit {
				add(ri, fmt.Sprintf("%d länkar (högst %d)", len(it.Links), r.Limit))
			}
		case KindMaxMentions:
			if it.Mentions > r.Limit {
				add(ri, fmt.Sprintf("%d omnämnanden (högst %d)", it.Mentions, r.Limit))
			}
		case KindMedia:
			if it.Media > r.Limit {
				add(ri, fmt.Sprintf("%d bilagor (högst %d)", it.Media, r.Limit))
			}
		case KindFirstPost:
			if !it.KnownAuthor {
				add(ri, "första inlägget från en okänd avsändare")
			}
		case KindRateAuthor, KindRateServer:
			if count == nil {
				continue
			}
			byAuthor := r.Kind == KindRateAuthor
			key := it.AuthorHost
			if byAuthor {
				key = it.AuthorIRI
			}
			n, err := count(byAuthor, key, it.At.Add(-r.Window))
			if err != nil {
				return Verdict{}, fmt.Errorf("rule %s: count: %w", r.ID, err)
			}
			if n+1 > r.Limit { // n earlier items plus this one
				who := "servern"
				if byAuthor {
					who = "avsändaren"
				}
				add(ri, fmt.Sprintf("%d inlägg från %s på %s (högst %d)", n+1, who, r.Window, r.Limit))
			}
		}
	}
	v := Verdict{Action: Accept, Matches: matches}
	for _, m := range matches {
		if m.Action.Severity() > v.Action.Severity() {
			v.Action = m.Action
		}
	}
	return v, nil
}
