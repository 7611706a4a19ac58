package app_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/torget/torget/internal/auth"
	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/i18n"
)

// getLang fetches a page as a browser asking for languages accept.
func (b *browser) getLang(path, accept string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	if accept != "" {
		req.Header.Set("Accept-Language", accept)
	}
	return b.do(req)
}

var htmlLangRe = regexp.MustCompile(`<html lang="([^"]+)">`)

func pageLang(t *testing.T, body string) string {
	t.Helper()
	m := htmlLangRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no <html lang>: %.200s", body)
	}
	return m[1]
}

// The same public page in Swedish by default, English and Finnish by
// Accept-Language, the switch (?lang=, then its cookie) over
// Accept-Language; the page cache keeps the languages apart; dates are
// written per language in the instance time zone; posts keep their lang.
func TestPublicPagesPerLanguage(t *testing.T) {
	tg := startInstance(t)
	tg.group(t, "parker", false)
	_, postURL, err := tg.Fed.Publish(context.Background(), "parker", federation.PostInput{Text: "Parks open late", Language: "so"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := tg.Store.PostByPublicID(context.Background(), postURL[strings.LastIndex(postURL, "/")+1:])
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation("Europe/Stockholm")
	bundle, err := i18n.New(loc)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		accept, lang, heading string
	}{
		{"", "sv", "Följ gruppen"},
		{"en-GB,en;q=0.9", "en", "Follow the group"},
		{"fi-FI,fi;q=0.9", "fi", "Seuraa ryhmää"},
		{"de-DE", "sv", "Följ gruppen"},
	}
	b := newBrowser(t, tg)
	// Twice: the second round is served from the page cache.
	for round := 0; round < 2; round++ {
		for _, c := range cases {
			resp, body := b.getLang("/groups/parker", c.accept)
			if resp.StatusCode != 200 || pageLang(t, body) != c.lang || !strings.Contains(body, c.heading) {
				t.Fatalf("round %d, Accept-Language %q: %d, lang %s, want %s with %q", round, c.accept, resp.StatusCode, pageLang(t, body), c.lang, c.heading)
			}
			for _, other := range cases {
				if other.lang != c.lang && strings.Contains(body, other.heading) {
					t.Fatalf("Accept-Language %q: page holds %q (%s)", c.accept, other.heading, other.lang)
				}
			}
			if v := resp.Header.Get("Vary"); !strings.Contains(v, "Accept-Language") || !strings.Contains(v, "Cookie") {
				t.Fatalf("Vary %q", v)
			}
			if date := bundle.Localizer(c.lang).Date(p.PublishedAt); !strings.Contains(body, date) {
				t.Fatalf("%s: no date %q", c.lang, date)
			}
			if !strings.Contains(body, `<article lang="so">`) {
				t.Fatalf("%s: the post lost its own language", c.lang)
			}
			if b.cookie("lang") != "" {
				t.Fatal("a language cookie without a choice")
			}
		}
	}
	// The switch on every page links the others; choosing one beats the
	// browser's languages, now and (by cookie) on later pages.
	_, body := b.getLang("/groups/parker", "")
	for _, l := range []string{"en", "fi"} {
		if !strings.Contains(body, `href="/groups/parker?lang=`+l+`"`) {
			t.Fatalf("no switch link to %s", l)
		}
	}
	resp, body := b.getLang("/groups/parker?lang=en", "fi")
	if resp.StatusCode != 200 || pageLang(t, body) != "en" || b.cookie("lang") != "en" {
		t.Fatalf("switch: %d lang %s cookie %q", resp.StatusCode, pageLang(t, body), b.cookie("lang"))
	}
	for _, path := range []string{"/", "/about", "/about/privacy", "/tags/x", "/login", postURL[len(tg.Base):]} {
		resp, body := b.getLang(path, "fi")
		if resp.StatusCode == 404 && path == "/tags/x" {
			continue
		}
		if pageLang(t, body) != "en" {
			t.Fatalf("%s after the switch: lang %s", path, pageLang(t, body))
		}
	}
	// A Finnish visitor reads the about pages in Finnish.
	fi := newBrowser(t, tg)
	if _, body := fi.getLang("/about/accessibility", "fi"); pageLang(t, body) != "fi" || !strings.Contains(body, "Saavutettavuusseloste") {
		t.Fatalf("Finnish accessibility statement: %.300s", body)
	}
	// The statement, its feedback form, the register, the privacy notice's
	// headings and a group's service information follow the visitor's
	// language; the configured texts in them stay as configured.
	nb := newBrowser(t, tg)
	for _, c := range []struct {
		accept, path string
		want         []string
		not          string
	}{
		{"fi", "/tillganglighet", []string{"<h1>Saavutettavuusseloste</h1>", "Sisältö, joka ei ole saavutettavaa", tg.Config.Access.Method}, "Innehåll som inte är tillgängligt"},
		{"en", "/tillganglighet", []string{"<h1>Accessibility statement</h1>", "Disproportionate burden (section 12)"}, "Oskäligt betungande"},
		{"fi", "/tillganglighet/feedback", []string{"Mitä haluat tehdä?", "Lähetä"}, "Vad vill du göra?"},
		{"en", "/tillganglighet/feedback", []string{"What do you want to do?", "Email or phone if you want an answer (optional)"}, "Vad vill du göra?"},
		{"fi", "/official-groups", []string{"<h1>Viralliset ryhmät</h1>", "Vastuuyksikkö", "aktiivinen"}, "Ansvarig enhet"},
		{"en", "/official-groups", []string{"<h1>Official groups</h1>", "Responsible unit", "active"}, "Ansvarig enhet"},
		{"fi", "/about/privacy", []string{"Rekisterinpitäjä", "Tietosuojavastaava", tg.Config.Privacy.Purposes}, "Dataskyddsombud</h2>"},
		{"en", "/groups/parker", []string{"Who is behind the group and how does it answer?", "How posts become visible"}, "Så blir inlägg synliga"},
		{"fi", "/groups/parker", []string{"Kuka ryhmän takana on ja miten se vastaa?", "Vastausaika"}, "Svarstid"},
	} {
		resp, body := nb.getLang(c.path, c.accept)
		if resp.StatusCode != 200 || pageLang(t, body) != c.accept {
			t.Fatalf("%s in %s: %d, lang %s", c.path, c.accept, resp.StatusCode, pageLang(t, body))
		}
		expectBody(t, c.path+" in "+c.accept, body, c.want...)
		if strings.Contains(body, c.not) {
			t.Errorf("%s in %s still holds %q", c.path, c.accept, c.not)
		}
	}
	// A follow form error speaks the visitor's language.
	resp, body = fi.post("/follow", url.Values{"group": {"parker"}, "handle": {"not a handle"}}, "Accept-Language", "fi")
	if resp.StatusCode != 400 || !strings.Contains(body, "Kirjoita tilisi muodossa") {
		t.Fatalf("follow error in Finnish: %d %.300s", resp.StatusCode, body)
	}
}

// Staff choose their language on /staff/language; it follows them to
// every staff page, a Finnish browser gets the staff pages in Swedish.
func TestStaffLanguageSetting(t *testing.T) {
	tg := startInstance(t)
	tg.user(t, "eva", auth.RoleAdmin)
	b := newBrowser(t, tg)
	resp, body := b.login("eva", testPassword)
	expectRedirect(t, resp, body, "/staff")
	req := func(path, accept string) string {
		resp, body := b.getLang(path, accept)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		return body
	}
	if body := req("/staff", "fi"); pageLang(t, body) != "sv" || !strings.Contains(body, "Logga ut") {
		t.Fatalf("Finnish browser on a staff page: %s", pageLang(t, body))
	}
	if body := req("/staff", "en"); pageLang(t, body) != "en" || !strings.Contains(body, "Sign out") {
		t.Fatalf("English browser on a staff page: %s", pageLang(t, body))
	}
	resp, body = b.form("/staff/language", "/staff/language", url.Values{"locale": {"en"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save language: %d %.300s", resp.StatusCode, body)
	}
	u, err := tg.Store.UserByName(context.Background(), "eva")
	if err != nil || u.Locale != "en" {
		t.Fatalf("stored locale %q (%v)", u.Locale, err)
	}
	// The setting, not the browser, now decides, also in a new browser.
	b2 := newBrowser(t, tg)
	resp, body = b2.login("eva", testPassword)
	expectRedirect(t, resp, body, "/staff")
	if body := func() string { _, body := b2.getLang("/staff/users", "sv"); return body }(); pageLang(t, body) != "en" || !strings.Contains(body, "Staff accounts") {
		t.Fatalf("account setting ignored: %s", pageLang(t, body))
	}
	if body := req("/staff/language", "sv"); !strings.Contains(body, `value="en" checked`) {
		t.Fatal("the form does not show the saved choice")
	}
	// Back to following the browser.
	resp, _ = b.form("/staff/language", "/staff/language", url.Values{"locale": {""}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d", resp.StatusCode)
	}
	if body := req("/staff", "sv"); pageLang(t, body) != "sv" {
		t.Fatalf("after reset: %s", pageLang(t, body))
	}
	// Only staff languages are accepted.
	resp, _ = b.form("/staff/language", "/staff/language", url.Values{"locale": {"fi"}})
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("Finnish staff locale: %d", resp.StatusCode)
	}
	if tg.auditActions(t)["locale_change eva"] != 2 {
		t.Fatalf("audit: %v", tg.auditActions(t))
	}
}
