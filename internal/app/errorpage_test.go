package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/torget/torget/internal/auth"
	"github.com/torget/torget/internal/config"
	"github.com/torget/torget/internal/store"
)

// Browsers get a page in the site's layout for 403 (CSRF and permission),
// 404, 405, 413 and 500, with a heading, an explanation and a link back;
// ActivityPub and API clients keep JSON.
func TestErrorPagesForBrowsers(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t, func(c *config.Config) { c.Federation.MaxBodyBytes = 64 << 10 })
	tg.group(t, "felsida", false)
	tg.user(t, "admin", auth.RoleAdmin)
	tg.user(t, "erik", auth.RoleEditor)
	const html = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"

	page := func(what string, resp *http.Response, body string, code int, wants ...string) {
		t.Helper()
		expectStatus(t, what, resp, body, code)
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Fatalf("%s: Content-Type %q", what, ct)
		}
		checkHeadings(t, what, body)
		expectBody(t, what, body, append([]string{`<html lang="sv">`, `<main id="main"`, "</footer>", fmt.Sprintf("Felkod %d", code)}, wants...)...)
	}
	do := func(b *browser, method, path string, body string, hdr ...string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, tg.Base+path, strings.NewReader(body))
		req.Header.Set("Accept", html)
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		return b.do(req)
	}

	anon := newBrowser(t, tg)
	resp, body := do(anon, http.MethodGet, "/groups/finns-inte", "")
	page("404", resp, body, http.StatusNotFound, "<h1>Sidan finns inte</h1>", `<a href="/">Till startsidan</a>`)
	resp, body = do(anon, http.MethodGet, "/ingenting/alls", "")
	page("unrouted 404", resp, body, http.StatusNotFound, "<h1>Sidan finns inte</h1>")
	resp, body = do(anon, http.MethodGet, "/follow", "") // the follow form only takes POST
	page("405", resp, body, http.StatusMethodNotAllowed, "<h1>Det går inte att göra så här</h1>")

	// ActivityPub clients still get JSON.
	c := newClient(t, tg)
	code, hdr, jbody := c.get(tg.Base+"/groups/finns-inte", asAccept)
	if code != http.StatusNotFound || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") || !strings.Contains(jbody, `"error"`) {
		t.Fatalf("AS 404: %d %s %s", code, hdr.Get("Content-Type"), jbody)
	}

	ab := newBrowser(t, tg)
	resp, body = ab.login("admin", testPassword)
	expectRedirect(t, resp, body, "/staff")
	compose := "/staff/groups/felsida/compose"
	// CSRF: an old form (no token) — the page explains and links back.
	resp, body = do(ab, http.MethodPost, compose, url.Values{"text": {"Hej"}, "action": {"publish"}}.Encode(), "Referer", tg.Base+compose)
	page("CSRF", resp, body, http.StatusForbidden, "<h1>Formuläret kunde inte skickas</h1>", "Inget sparades",
		`<a href="`+tg.Base+compose+`">Tillbaka till föregående sida</a>`, `<a href="/staff">Till personalens startsida</a>`, "Inloggad som admin")
	if n := len(livePostsBySlug(t, tg, "felsida")); n != 0 {
		t.Fatalf("%d posts after a refused form", n)
	}
	// The same refusal to a script (no text/html) stays JSON.
	resp, body = ab.post(compose, url.Values{"text": {"Hej"}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `"error"`) {
		t.Fatalf("CSRF for a script: %d %s", resp.StatusCode, body)
	}
	// 413: a form larger than the limit.
	big := url.Values{"csrf": {ab.csrf(compose)}, "text": {strings.Repeat("a", 100<<10)}}.Encode()
	resp, body = do(ab, http.MethodPost, compose, big)
	page("413", resp, body, http.StatusRequestEntityTooLarge, "<h1>Det du skickade var för stort</h1>")

	// Permission: an editor on an admin page.
	eb := newBrowser(t, tg)
	resp, body = eb.login("erik", testPassword)
	expectRedirect(t, resp, body, "/staff")
	resp, body = do(eb, http.MethodGet, "/staff/users", "")
	page("403", resp, body, http.StatusForbidden, "<h1>Du har inte behörighet</h1>")

	// 500: the database fails under a staff page. No detail leaks.
	if err := tg.Store.Exec(ctx, "DROP TABLE drafts"); err != nil {
		t.Fatal(err)
	}
	resp, body = do(ab, http.MethodGet, "/staff/groups/felsida", "")
	page("500", resp, body, http.StatusInternalServerError, "<h1>Något gick fel hos oss</h1>")
	if regexp.MustCompile(`(?i)drafts|sql|no such table`).MatchString(body) {
		t.Fatalf("500 page leaks detail:\n%s", body)
	}
}

func livePostsBySlug(t *testing.T, tg *instance, slug string) []store.Post {
	t.Helper()
	g, err := tg.Store.GroupBySlug(context.Background(), slug)
	if err != nil {
		t.Fatal(err)
	}
	return livePosts(t, tg, g)
}
