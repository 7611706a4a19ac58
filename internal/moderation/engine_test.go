package moderation

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"
)

func TestNormalize(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"HÅR Är Över", "hår är över"},
		{"Café  Naïve\n\tÜber", "cafe naive uber"},
		{"a\u030a", "å"}, // decomposed å stays å
		{"o\u0308l", "öl"},
		{"Smørrebrød Æble", "smörrebröd äble"},
		{"ÉNORM", "enorm"},
	} {
		if got := Normalize(c.in); got != c.want {
			t.Errorf("Normalize(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	if Normalize("har") == Normalize("här") || Normalize("for") == Normalize("för") {
		t.Error("å/ä/ö must stay distinct from a/o")
	}
}

func rule(id string, k Kind, a Action, pattern string) Rule {
	return Rule{ID: id, Version: 1, Kind: k, Text: id, Action: a, LegalGround: "villkor-spam", Pattern: pattern}
}

func TestEvaluateWordsAndRegex(t *testing.T) {
	e, err := Compile([]Rule{
		rule("hot", KindWords, Hold, "skjuta dig\nmörda*"),
		rule("spam", KindRegex, Hide, `köp\s+billiga\s+\w+`),
		rule("nolit", KindRegex, Reject, `^\d{12}$`),
		rule("ord", KindWords, Hide, "hår"),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		text string
		want Action
		ids  string
	}{
		{"Jag ska SKJUTA DIG imorgon", Hold, "hot"},
		{"jag ska skjuta diget", Accept, ""},       // word boundary
		{"mördande tråkigt möte", Hold, "hot"},     // prefix
		{"Köp   BILLIGA klockor nu", Hide, "spam"}, // regex over normalised text
		{"kop billiga klockor", Accept, ""},        // ö is not o
		{"199001011234", Reject, "nolit"},          // regex without literal
		{"har du sett", Accept, ""},                // har ≠ hår
		{"Hår och mörda", Hide, "ord,hot"},         // strictest of two
		{"Hémligt", Accept, ""},
	} {
		v, err := e.Evaluate(Item{Text: c.text}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range v.Matches {
			ids = append(ids, m.RuleID)
		}
		if v.Action != c.want || strings.Join(ids, ",") != c.ids {
			t.Errorf("%q: got %s %v, want %s %s", c.text, v.Action, ids, c.want, c.ids)
		}
	}
}

func TestEvaluateCountsAndLinks(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	rs := []Rule{
		rule("links", KindMaxLinks, Hold, ""),
		rule("dom", KindLinkDomain, Reject, "spam.example\n*.bad.example"),
		rule("ment", KindMaxMentions, Hold, ""),
		rule("media", KindMedia, Hide, ""),
		rule("first", KindFirstPost, Hold, ""),
		rule("rate", KindRateAuthor, Hide, ""),
		rule("srv", KindRateServer, Hold, ""),
	}
	rs[0].Limit, rs[2].Limit, rs[3].Limit = 2, 3, 0
	rs[5].Limit, rs[5].Window = 3, time.Hour
	rs[6].Limit, rs[6].Window = 100, time.Minute
	e, err := Compile(rs)
	if err != nil {
		t.Fatal(err)
	}
	var gotSince time.Time
	count := func(byAuthor bool, key string, since time.Time) (int, error) {
		if byAuthor {
			gotSince = since
			if key != "https://a.example/u/1" {
				t.Errorf("author key %q", key)
			}
			return 3, nil
		}
		if key != "a.example" {
			t.Errorf("server key %q", key)
		}
		return 5, nil
	}
	v, err := e.Evaluate(Item{AuthorIRI: "https://a.example/u/1", AuthorHost: "a.example", At: now, KnownAuthor: true,
		Links: []string{"https://x.bad.example/a", "https://ok.example/", "https://ok2.example/"}, Mentions: 4, Media: 1}, count)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"links": true, "dom": true, "ment": true, "media": true, "rate": true}
	if len(v.Matches) != len(want) || v.Action != Reject {
		t.Fatalf("verdict %+v", v)
	}
	for _, m := range v.Matches {
		if !want[m.RuleID] || m.Why == "" || m.Version != 1 {
			t.Errorf("unexpected match %+v", m)
		}
	}
	if !gotSince.Equal(now.Add(-time.Hour)) {
		t.Errorf("rate window since %v", gotSince)
	}
	v, _ = e.Evaluate(Item{AuthorIRI: "https://a.example/u/1", AuthorHost: "a.example", At: now, Links: []string{"https://notbad.example/"}}, func(bool, string, time.Time) (int, error) { return 0, nil })
	if v.Action != Hold || len(v.Matches) != 1 || v.Matches[0].RuleID != "first" {
		t.Errorf("unknown author: %+v", v)
	}
}

func TestValidate(t *testing.T) {
	good := rule("spam-ord", KindWords, Hide, "köp")
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*Rule){
		"no ground":   func(r *Rule) { r.LegalGround = "" },
		"viewpoint":   func(r *Rule) { r.LegalGround = "kritik-av-staden" },
		"bad regex":   func(r *Rule) { r.Kind, r.Pattern = KindRegex, "(" },
		"bad id":      func(r *Rule) { r.ID = "X Y" },
		"accept":      func(r *Rule) { r.Action = Accept },
		"no text":     func(r *Rule) { r.Text = " " },
		"rate no win": func(r *Rule) { r.Kind, r.Limit = KindRateAuthor, 3 },
	} {
		r := good
		mut(&r)
		if err := r.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	legal := 0
	for _, g := range Grounds {
		if g.Legal {
			legal++
		}
		if g.Statute == "" {
			t.Errorf("ground %s has no statute", g.Code)
		}
	}
	if legal != 8 {
		t.Errorf("%d legal grounds, want the eight of BBS-lagen 5 §", legal)
	}
}

// benchRules makes n word rules and n regex rules, each with a few entries,
// 1,000 rules in all for n = 500.
func benchRules(n int) []Rule {
	rnd := rand.New(rand.NewSource(1))
	word := func() string {
		const letters = "abcdefghijklmnoprstuvyåäö"
		l := 5 + rnd.Intn(6)
		var b strings.Builder
		for i := 0; i < l; i++ {
			b.WriteString(string([]rune(letters)[rnd.Intn(len([]rune(letters)))]))
		}
		return b.String()
	}
	var rs []Rule
	for i := 0; i < n; i++ {
		rs = append(rs, rule(fmt.Sprintf("w%d", i), KindWords, Hide, word()+"\n"+word()+"*"))
		rs = append(rs, rule(fmt.Sprintf("r%d", i), KindRegex, Hold, fmt.Sprintf(`%s\s+\w+\s+%s`, word(), word())))
	}
	return rs
}

func benchText() string {
	base := "Hej! Jag undrar när öppna förskolan i Älvsjö har öppet under jullovet, och om man behöver anmäla sig i förväg. Tack för all information om biblioteket och simhallen. "
	var b strings.Builder
	for b.Len() < 2048 {
		b.WriteString(base)
	}
	return b.String()[:2048]
}

func TestBenchRulesCompile(t *testing.T) {
	e, err := Compile(benchRules(500))
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Rules()) != 1000 || len(e.regexes) != 500 || len(e.always) != 0 {
		t.Fatalf("rules %d, literal-guarded regexes %d, unguarded %d", len(e.Rules()), len(e.regexes), len(e.always))
	}
	// The benchmark text must be a realistic miss, and a hit must be found.
	v, _ := e.Evaluate(Item{Text: benchText()}, nil)
	if v.Action != Accept {
		t.Fatalf("benchmark text matched: %+v", v.Matches)
	}
	w := strings.TrimSuffix(lines(e.rules[10].Pattern)[1], "*")
	v, _ = e.Evaluate(Item{Text: benchText() + " " + strings.ToUpper(w) + "xyz"}, nil)
	if v.Action != Hide || v.Matches[0].RuleID != e.rules[10].ID {
		t.Fatalf("planted prefix word %q not found: %+v", w, v)
	}
}

func BenchmarkEvaluate1000Rules2KiB(b *testing.B) {
	e, err := Compile(benchRules(500))
	if err != nil {
		b.Fatal(err)
	}
	it := Item{Text: benchText()}
	b.SetBytes(int64(len(it.Text)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Evaluate(it, nil); err != nil {
			b.Fatal(err)
		}
	}
}
