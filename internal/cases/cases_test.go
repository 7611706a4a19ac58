package cases_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/torget/torget/internal/cases"
	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/store/storetest"
)

type noAnswers struct{ sent []federation.Answer }

func (n *noAnswers) SendAnswer(_ context.Context, slug string, in federation.Answer) (string, error) {
	n.sent = append(n.sent, in)
	return "https://torget.example/groups/" + slug + "/answers/1", nil
}

func newService(t *testing.T) (*cases.Service, *store.Store, *noAnswers) {
	t.Helper()
	st := storetest.Open(t)
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		t.Fatal(err)
	}
	a := &noAnswers{}
	return cases.New(st, a, cases.Config{DueWorkingDays: 1, Location: loc, ProposalsURL: "https://stad.example/forslag",
		MeetingsURL: "https://stad.example/moten", FeedbackURL: "https://stad.example/synpunkter",
		Authorities: cases.ParseAuthorities([]string{"Skatteverket|https://www.skatteverket.se/"})}, nil), st, a
}

func TestDueAtSkipsWeekends(t *testing.T) {
	s, _, _ := newService(t)
	loc, _ := time.LoadLocation("Europe/Stockholm")
	at := func(d string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", d, loc)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tt := range []struct{ in, want string }{
		{"2026-11-23 10:00", "2026-11-24 10:00"}, // Monday → Tuesday
		{"2026-11-27 15:00", "2026-11-30 15:00"}, // Friday → Monday
		{"2026-11-28 22:00", "2026-12-01 00:00"}, // Saturday → end of Monday
		{"2026-11-29 09:00", "2026-12-01 00:00"}, // Sunday → end of Monday
	} {
		if got := s.DueAt(at(tt.in)); !got.Equal(at(tt.want)) {
			t.Errorf("DueAt(%s) = %s, want %s", tt.in, got.In(loc), tt.want)
		}
	}
}

func TestIsQuestion(t *testing.T) {
	for text, want := range map[string]bool{
		"När öppnar badet?":                        true,
		"Hur gör jag för att boka lokal":           true,
		"@sodermalm Varför är parken stängd":       true,
		"Milloin uimahalli aukeaa":                 true,
		"What time does the library open":          true,
		"Tack för infon!":                          false,
		"Bra jobbat med snöröjningen":              false,
		"@sodermalm@torget.example tack":           false,
		"Jag undrar om det finns parkering? Tack.": true,
	} {
		if got := cases.IsQuestion(text); got != want {
			t.Errorf("IsQuestion(%q) = %v, want %v", text, got, want)
		}
	}
}

func TestTemplatesCarryConfiguredLinks(t *testing.T) {
	s, _, _ := newService(t)
	for _, lang := range cases.Languages {
		ts := s.Templates(lang)
		if len(ts) < 3 {
			t.Fatalf("%s: %d templates", lang, len(ts))
		}
		p, ok := s.Template("proposal", lang)
		if !ok || p.Language != lang {
			t.Fatalf("%s: no proposal template", lang)
		}
		for _, link := range []string{"https://stad.example/forslag", "https://stad.example/moten", "https://stad.example/synpunkter"} {
			if !strings.Contains(p.Text, link) {
				t.Errorf("%s proposal template lacks %s: %s", lang, link, p.Text)
			}
		}
		if strings.Contains(p.Text, "{") {
			t.Errorf("%s: unfilled placeholder: %s", lang, p.Text)
		}
	}
	if p, _ := s.Template("proposal", "fi-FI"); p.Language != "fi" {
		t.Errorf("fi-FI gave %s", p.Language)
	}
	if p, _ := s.Template("proposal", "de"); p.Language != "sv" {
		t.Errorf("an unknown language gave %s, want Swedish", p.Language)
	}
}

func TestCaseLifecycle(t *testing.T) {
	ctx := context.Background()
	s, st, a := newService(t)
	g := &store.Group{Slug: "g", Name: "G", Purpose: "p", Language: "sv", PrivateKeyPEM: "x", PublicKeyPEM: "y"}
	if err := st.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	u := &store.User{Username: "erik", Role: store.RoleEditor, PasswordHash: "x"}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	in := federation.Inbound{GroupID: g.ID, SourceIRI: "https://m.example/s/1", AuthorIRI: "https://m.example/u/a",
		AuthorHandle: "@a@m.example", Text: "Tack så mycket", Received: time.Now()}
	if created, err := s.FromInbound(ctx, in); err != nil || created {
		t.Fatalf("a public remark opened a case: %v %v", created, err)
	}
	in.Direct = true
	if created, err := s.FromInbound(ctx, in); err != nil || !created {
		t.Fatalf("a DM opened no case: %v %v", created, err)
	}
	if created, err := s.FromInbound(ctx, in); err != nil || created {
		t.Fatalf("the same DM opened a second case: %v %v", created, err)
	}
	cs, _ := st.ListCases(ctx, store.CaseFilter{})
	if len(cs) != 1 {
		t.Fatalf("cases %+v", cs)
	}
	c := &cs[0]

	n, err := s.AddNote(ctx, c.ID, u, "Ringde tillbaka")
	if err != nil || n.AuthorName != "erik" || n.CreatedAt.IsZero() {
		t.Fatalf("note %+v %v", n, err)
	}
	if err := s.EditNote(ctx, n.ID, "Ändrat"); !errors.Is(err, store.ErrAppendOnly) {
		t.Fatalf("edit note: %v", err)
	}
	if _, err := s.AddNote(ctx, c.ID, u, "  "); !errors.Is(err, cases.ErrInvalid) {
		t.Fatalf("empty note: %v", err)
	}
	if ns, _ := st.CaseNotes(ctx, c.ID); len(ns) != 1 || ns[0].Body != "Ringde tillbaka" {
		t.Fatalf("notes %+v", ns)
	}

	if err := s.MarkNotQuestion(ctx, c); err != nil || c.Status != store.CaseNotQuestion {
		t.Fatalf("not a question: %v %s", err, c.Status)
	}
	if err := s.Answer(ctx, c, u, "Svar"); !errors.Is(err, cases.ErrNotOpen) {
		t.Fatalf("answered a closed case: %v", err)
	}
	if err := s.Reopen(ctx, c); err != nil || !c.Open() {
		t.Fatalf("reopen: %v", err)
	}
	if _, err := s.Forward(ctx, c, u, "", "Polisen", "fel myndighet"); !errors.Is(err, cases.ErrInvalid) {
		t.Fatalf("forward to an authority not in the directory: %v", err)
	}
	if _, err := s.Forward(ctx, c, u, "", "Skatteverket", "Skattefråga"); err != nil {
		t.Fatal(err)
	}
	if c.Status != store.CaseForwarded || !strings.HasPrefix(c.ForwardedTo, "Skatteverket") || c.ForwardReason != "Skattefråga" {
		t.Fatalf("forwarded case %+v", c)
	}
	if len(a.sent) != 1 || a.sent[0].To != in.AuthorIRI || a.sent[0].InReplyTo != in.SourceIRI || a.sent[0].Public ||
		!strings.Contains(a.sent[0].Text, "vidarebefordrats till Skatteverket") {
		t.Fatalf("forward notice %+v", a.sent)
	}
}
