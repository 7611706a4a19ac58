package app_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/torget/torget/internal/config"
	"github.com/torget/torget/internal/federation"
)

// post form-encodes vals and POSTs them, without following redirects.
func (c *client) post(u string, vals url.Values, hdr map[string]string) (int, http.Header, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, resp.Header, b.String()
}

type rssFeed struct {
	Channel struct {
		Title string `xml:"title"`
		Links []struct {
			XMLName xml.Name
			Href    string `xml:"href,attr"`
			Value   string `xml:",chardata"`
		} `xml:"link"`
		Language string `xml:"language"`
		Items    []struct {
			Title       string `xml:"title"`
			Link        string `xml:"link"`
			GUID        string `xml:"guid"`
			PubDate     string `xml:"pubDate"`
			Description string `xml:"description"`
		} `xml:"item"`
	} `xml:"channel"`
}

type atomDoc struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string   `xml:"title"`
	Updated string   `xml:"updated"`
	Entries []struct {
		Lang  string `xml:"http://www.w3.org/XML/1998/namespace lang,attr"`
		ID    string `xml:"id"`
		Title string `xml:"title"`
		Link  struct {
			Href string `xml:"href,attr"`
		} `xml:"link"`
		Published string `xml:"published"`
		Updated   string `xml:"updated"`
		Content   struct {
			Type  string `xml:"type,attr"`
			Value string `xml:",chardata"`
		} `xml:"content"`
	} `xml:"entry"`
}

// The feeds carry the latest 20 live posts, newest first, with
// permalinks, dates, content warnings and languages, and stay well-formed
// whatever the text.
func TestFeeds(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	if _, err := tg.Fed.CreateGroup(ctx, federation.GroupInput{Slug: "kultur", Name: `Kultur & <Fritid> "nu"`, Purpose: "Evenemang & <annat>",
		OwningUnit: "Kulturförvaltningen", Responsible: []string{responsible(t, tg.Store)}}); err != nil {
		t.Fatal(err)
	}
	var urls []string // oldest first
	publish := func(in federation.PostInput) string {
		t.Helper()
		_, id, err := tg.Fed.Publish(ctx, "kultur", in)
		if err != nil {
			t.Fatal(err)
		}
		urls = append(urls, id)
		return id
	}
	for i := 0; i < 19; i++ {
		publish(federation.PostInput{Text: "Äldre inlägg nummer " + string(rune('a'+i))})
	}
	hostile := publish(federation.PostInput{Text: "Hej <script>alert(1)</script> & ]]> \"citat\" <b>fet</b> \x01 slut"})
	cw := publish(federation.PostInput{Text: "Detaljer om avstängningen", Summary: "Varning <&>", Language: "en"})
	gone := publish(federation.PostInput{Text: "Det här tas bort"})
	if err := tg.Fed.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	urls = urls[:len(urls)-1]
	c := newClient(t, tg)
	base := tg.Base + "/groups/kultur"

	code, h, body := c.get(base+"/feed.rss", "")
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/rss+xml") || !strings.Contains(h.Get("Cache-Control"), "max-age") {
		t.Fatalf("rss: %d %v", code, h)
	}
	for _, bad := range []string{"<script", "<b>", "<Fritid>"} {
		if strings.Contains(body, bad) {
			t.Fatalf("rss carries %q unescaped:\n%s", bad, body)
		}
	}
	var rss rssFeed
	if err := xml.Unmarshal([]byte(body), &rss); err != nil {
		t.Fatalf("rss does not parse: %v\n%s", err, body)
	}
	ch := rss.Channel
	var link, self string
	for _, l := range ch.Links {
		if l.XMLName.Space == "" {
			link = l.Value
		} else if l.XMLName.Space == "http://www.w3.org/2005/Atom" {
			self = l.Href
		}
	}
	if self != base+"/feed.rss" {
		t.Fatalf("rss atom:link self = %q", self)
	}
	if ch.Title != `Kultur & <Fritid> "nu"` || link != base || ch.Language != "sv" || len(ch.Items) != 20 {
		t.Fatalf("rss channel: %q %q %q, %d items", ch.Title, link, ch.Language, len(ch.Items))
	}
	for i, it := range ch.Items {
		want := urls[len(urls)-1-i]
		if it.Link != want || it.GUID != want {
			t.Fatalf("rss item %d: link %q guid %q, want %q", i, it.Link, it.GUID, want)
		}
		d, err := time.Parse(time.RFC1123Z, it.PubDate)
		if err != nil || time.Since(d) > time.Minute || time.Until(d) > time.Minute {
			t.Fatalf("rss item %d: pubDate %q: %v", i, it.PubDate, err)
		}
		if it.Link == gone {
			t.Fatal("a deleted post is in the feed")
		}
	}
	if it := ch.Items[0]; it.Link != cw || it.Title != "Innehållsvarning: Varning <&>" ||
		!strings.HasPrefix(it.Description, "<p><strong>Innehållsvarning:</strong> Varning &lt;&amp;&gt;</p>") || !strings.Contains(it.Description, "avstängningen") {
		t.Fatalf("content warning item: %+v", it)
	}
	if it := ch.Items[1]; it.Link != hostile || strings.Contains(it.Description, "<script") || strings.Contains(it.Description, "<b>") ||
		!strings.Contains(it.Title, `& ]]> "citat"`) || !strings.Contains(it.Description, "&amp;") {
		t.Fatalf("hostile item: %+v", it)
	}
	if ch.Items[19].Title != "Äldre inlägg nummer b" {
		t.Fatalf("the 20th item is %q", ch.Items[19].Title)
	}

	code, h, body = c.get(base+"/feed.atom", "")
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/atom+xml") {
		t.Fatalf("atom: %d %v", code, h)
	}
	if strings.Contains(body, "<script") || strings.Contains(body, "<Fritid>") {
		t.Fatalf("atom carries markup unescaped:\n%s", body)
	}
	var atom atomDoc
	if err := xml.Unmarshal([]byte(body), &atom); err != nil {
		t.Fatalf("atom does not parse: %v\n%s", err, body)
	}
	if atom.Title != `Kultur & <Fritid> "nu"` || len(atom.Entries) != 20 {
		t.Fatalf("atom: %q, %d entries", atom.Title, len(atom.Entries))
	}
	if _, err := time.Parse(time.RFC3339, atom.Updated); err != nil {
		t.Fatalf("atom updated %q", atom.Updated)
	}
	for i, e := range atom.Entries {
		want := urls[len(urls)-1-i]
		if e.ID != want || e.Link.Href != want || e.Content.Type != "html" {
			t.Fatalf("atom entry %d: %q %q %q, want %q", i, e.ID, e.Link.Href, e.Content.Type, want)
		}
		if _, err := time.Parse(time.RFC3339, e.Published); err != nil {
			t.Fatalf("atom entry %d published %q", i, e.Published)
		}
	}
	if e := atom.Entries[0]; e.Lang != "en" || !strings.HasPrefix(e.Content.Value, "<p><strong>Innehållsvarning:</strong>") {
		t.Fatalf("atom cw entry: %+v", e)
	}
	if e := atom.Entries[1]; e.Lang != "sv" || strings.Contains(e.Content.Value, "<script") {
		t.Fatalf("atom hostile entry: %+v", e)
	}

	// Conditional requests.
	etag := h.Get("ETag")
	req, _ := http.NewRequest(http.MethodGet, base+"/feed.atom", nil)
	req.Header.Set("If-None-Match", etag)
	resp, err := c.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if etag == "" || resp.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match %q: %d", etag, resp.StatusCode)
	}
	if code, _, _ := c.get(tg.Base+"/groups/nope/feed.rss", ""); code != 404 {
		t.Fatalf("feed of a missing group: %d", code)
	}
}

var metaRE = regexp.MustCompile(`<meta property="([a-z:_]+)" content="([^"]*)">`)

func metas(body string) map[string]string {
	m := map[string]string{}
	for _, x := range metaRE.FindAllStringSubmatch(body, -1) {
		m[x[1]] = x[2]
	}
	return m
}

func absolute(t *testing.T, what, u string) {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil || p.Scheme != "https" || p.Host == "" {
		t.Fatalf("%s: %q is not an absolute https URL", what, u)
	}
}

// The group page has its profile, pinned posts, Open Graph and alternate
// links; a post permalink has Open Graph too.
func TestGroupPageProfileAndOpenGraph(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	if _, err := tg.Fed.CreateGroup(ctx, federation.GroupInput{Slug: "park", Name: "Parkförvaltningen", Purpose: "Om stadens parker",
		Summary: "Nyheter om parkerna", WebsiteURL: "https://stad.example/parker",
		OwningUnit: "Parkförvaltningen", Responsible: []string{responsible(t, tg.Store)}}); err != nil {
		t.Fatal(err)
	}
	p, pinnedURL, err := tg.Fed.Publish(ctx, "park", federation.PostInput{Text: "Öppettider i sommar"})
	if err != nil {
		t.Fatal(err)
	}
	if err := tg.Store.SetPinned(ctx, p.ID, true); err != nil {
		t.Fatal(err)
	}
	_, postURL, err := tg.Fed.Publish(ctx, "park", federation.PostInput{Text: "Lövblåsning **på tisdag**", Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, tg)
	groupURL := tg.Base + "/groups/park"
	code, h, body := c.get(groupURL, "text/html")
	if code != 200 {
		t.Fatalf("group page: %d", code)
	}
	m := metas(body)
	if m["og:title"] != "Parkförvaltningen" || m["og:url"] != groupURL || m["og:description"] != "Nyheter om parkerna" || m["og:type"] == "" {
		t.Fatalf("group Open Graph: %v", m)
	}
	absolute(t, "og:image", m["og:image"])
	for _, want := range []string{
		`<link rel="alternate" type="application/activity+json" href="` + groupURL + `">`,
		`<link rel="alternate" type="application/rss+xml" title="Parkförvaltningen (RSS)" href="` + groupURL + `/feed.rss">`,
		`<link rel="alternate" type="application/atom+xml" title="Parkförvaltningen (Atom)" href="` + groupURL + `/feed.atom">`,
		`<a href="https://stad.example/parker" rel="me">`,
		`alt="Ikon för Parkförvaltningen"`,
		`Om stadens parker`, `Fästa inlägg`, `href="` + pinnedURL + `"`, `href="` + postURL + `"`,
		`<article lang="en">`, `action="/follow"`, `name="group" value="park"`,
	} {
		if !strings.Contains(body, want) {
			t.Fatalf("group page lacks %s:\n%s", want, body)
		}
	}
	if !strings.Contains(h.Get("Content-Security-Policy"), "form-action 'self' https:") {
		t.Fatalf("the follow form's redirect is blocked by CSP: %s", h.Get("Content-Security-Policy"))
	}
	if strings.Index(body, "Fästa inlägg") > strings.Index(body, `id="posts-h"`) {
		t.Fatal("pinned posts should come before the other posts")
	}

	code, _, body = c.get(postURL, "text/html")
	m = metas(body)
	if code != 200 || m["og:type"] != "article" || m["og:url"] != postURL || m["og:description"] != "Lövblåsning på tisdag" || m["article:published_time"] == "" {
		t.Fatalf("post Open Graph: %d %v", code, m)
	}
	absolute(t, "post og:image", m["og:image"])
	if !strings.Contains(body, `<html lang="sv">`) || !strings.Contains(body, `<article lang="en">`) {
		t.Fatal("post page: the page is Swedish, the post English")
	}
}

// peer is a visitor's fediverse server answering WebFinger for anna,
// without a subscribe template.
func peer(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	var host string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/webfinger" || r.URL.Query().Get("resource") != "acct:anna@"+host {
			http.NotFound(w, r)
			return
		}
		links := []map[string]string{{"rel": "self", "type": "application/activity+json", "href": "https://" + host + "/users/anna"}}
		w.Header().Set("Content-Type", "application/jrd+json")
		_ = json.NewEncoder(w).Encode(map[string]any{"subject": "acct:anna@" + host, "links": links})
	}))
	t.Cleanup(srv.Close)
	host = strings.TrimPrefix(srv.URL, "https://")
	return srv, host
}

// "Follow from your server" sends the visitor to their server's subscribe
// page, falls back to authorize_interaction when WebFinger fails, and
// refuses a malformed handle with an announced error.
func TestFollowFromYourServer(t *testing.T) {
	tg := startInstance(t)
	tg.group(t, "skola", false)
	c := newClient(t, tg)
	groupURL := tg.Base + "/groups/skola"

	_, host := peer(t)     // answers WebFinger without a subscribe link
	srv3, host3 := peer(t) // down
	srv3.Close()

	t.Run("subscribe template", func(t *testing.T) {
		var h string
		srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/jrd+json")
			_ = json.NewEncoder(w).Encode(map[string]any{"subject": "acct:anna@" + h, "links": []map[string]string{
				{"rel": "self", "type": "application/activity+json", "href": "https://" + h + "/users/anna"},
				{"rel": "http://ostatus.org/schema/1.0/subscribe", "template": "https://" + h + "/interact?x=1&uri={uri}"},
			}})
		}))
		defer srv.Close()
		h = strings.TrimPrefix(srv.URL, "https://")
		for _, handle := range []string{"anna@" + h, "@anna@" + h, "  @anna@" + h + " "} {
			code, hdr, body := c.post(tg.Base+"/follow", url.Values{"group": {"skola"}, "handle": {handle}}, nil)
			want := "https://" + h + "/interact?x=1&uri=" + url.QueryEscape(groupURL)
			if code != http.StatusSeeOther || hdr.Get("Location") != want {
				t.Fatalf("%q: %d %q, want 303 to %q\n%s", handle, code, hdr.Get("Location"), want, body)
			}
		}
	})

	t.Run("fallback", func(t *testing.T) {
		for name, h := range map[string]string{"no subscribe link": host, "server down": host3} {
			code, _, body := c.post(tg.Base+"/follow", url.Values{"group": {"skola"}, "handle": {"anna@" + h}}, nil)
			want := `href="https://` + h + `/authorize_interaction?uri=` + url.QueryEscape(groupURL) + `"`
			if code != 200 || !strings.Contains(body, want) || !strings.Contains(body, `role="status"`) {
				t.Fatalf("%s: %d, want a page with %s:\n%s", name, code, want, body)
			}
			checkStructure(t, name, body)
		}
	})

	t.Run("invalid handles", func(t *testing.T) {
		for _, handle := range []string{"", "anna", "anna@", "@anna", "anna@@x.se", "anna@bad_host.se", "anna@x..se", "anna@-x.se",
			"<script>@x.se", "anna@x.se:99999", "a b@x.se", "anna@x.se/path", "anna@x.se?q", "anna@" + tg.Domain, "javascript:alert(1)@x.se"} {
			code, _, body := c.post(tg.Base+"/follow", url.Values{"group": {"skola"}, "handle": {handle}}, nil)
			if code != http.StatusBadRequest || !strings.Contains(body, `role="alert"`) || !strings.Contains(body, `aria-invalid="true"`) {
				t.Fatalf("%q: %d\n%s", handle, code, body)
			}
			if strings.Contains(body, "<script>@") {
				t.Fatalf("%q echoed unescaped", handle)
			}
			checkStructure(t, handle, body)
		}
	})

	t.Run("refused", func(t *testing.T) {
		if code, _, _ := c.post(tg.Base+"/follow", url.Values{"group": {"nope"}, "handle": {"anna@" + host}}, nil); code != 400 {
			t.Fatalf("unknown group: %d", code)
		}
		code, _, _ := c.post(tg.Base+"/follow", url.Values{"group": {"skola"}, "handle": {"anna@" + host}}, map[string]string{"Origin": "https://evil.example"})
		if code != http.StatusForbidden {
			t.Fatalf("cross-site post: %d", code)
		}
	})
}

// checkStructure asserts the accessibility basics every public page has.
func checkStructure(t *testing.T, what, body string) {
	t.Helper()
	if n := strings.Count(body, "<h1"); n != 1 {
		t.Fatalf("%s: %d h1 elements", what, n)
	}
	for _, want := range []string{`<html lang="sv">`, `<a class="skip" href="#main">`, `<main id="main"`, "<header>", "<nav ", "<footer>",
		`href="/tillganglighet"`, `href="/about/privacy"`, `href="/about/rules"`, `href="/about"`, `href="/official-groups"`} {
		if !strings.Contains(body, want) {
			t.Fatalf("%s: lacks %s", what, want)
		}
	}
	if strings.Contains(body, "<table") || strings.Contains(body, "<script") || strings.Contains(body, "style=") {
		t.Fatalf("%s: layout table, script or inline style", what)
	}
	for _, img := range regexp.MustCompile(`<img [^>]*>`).FindAllString(body, -1) {
		if !strings.Contains(img, ` alt="`) {
			t.Fatalf("%s: image without alt: %s", what, img)
		}
	}
}

func withContact(cfg *config.Config) {
	cfg.Instance.Name = "Stadens torg"
	cfg.Instance.Organisation = "Exempelstadens stadsledningskontor"
	cfg.Instance.ContactEmail = "torget@stad.example"
}

// About pages show the built-in text from the configuration until an
// administrator sets their own Markdown.
func TestAboutPages(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t, withContact)
	c := newClient(t, tg)
	for path, wants := range map[string][]string{
		"/about":               {"Exempelstadens stadsledningskontor", "mailto:torget@stad.example", "offentliga direkt", "modereringen", "1998:112"},
		"/about/rules":         {"Regler", "aldrig åsikter", "BrB 16 kap. 8 §", "hets-mot-folkgrupp"},
		"/about/privacy":       {"personuppgiftsansvarig", "Följare", "Mottagna aktiviteter", "gallring", "inga spårare", "torget@stad.example"},
		"/about/accessibility": {"delvis förenlig", "Myndigheten för digital förvaltning (Digg)", "Rapportera brister", "torget@stad.example"},
		"/tillganglighet":      {"delvis förenlig", "Myndigheten för digital förvaltning (Digg)", "Rapportera brister", "torget@stad.example"},
	} {
		code, _, body := c.get(tg.Base+path, "text/html")
		if code != 200 {
			t.Fatalf("%s: %d", path, code)
		}
		for _, w := range wants {
			if !strings.Contains(body, w) {
				t.Fatalf("%s lacks %q:\n%s", path, w, body)
			}
		}
		checkStructure(t, path, body)
	}
	for _, path := range []string{"/about/about", "/about/nope"} {
		if code, _, _ := c.get(tg.Base+path, "text/html"); code != 404 {
			t.Fatalf("%s: %d", path, code)
		}
	}
	if err := tg.Store.SetSetting(ctx, "about_page.privacy", "# Vår egen rubrik\n\nText med **fetstil** och <script>alert(1)</script>."); err != nil {
		t.Fatal(err)
	}
	// The administrator's text follows the notice's fields, which always
	// come from the configuration (PRV-1).
	code, _, body := c.get(tg.Base+"/about/privacy", "text/html")
	if code != 200 || !strings.Contains(body, "<h2>Vår egen rubrik</h2>") || !strings.Contains(body, "<strong>fetstil</strong>") ||
		strings.Contains(body, "<script>") || !strings.Contains(body, tg.Config.Privacy.Controller) {
		t.Fatalf("admin text: %d\n%s", code, body)
	}
	checkStructure(t, "admin privacy page", body)
}

// Every public page has one h1, landmarks and the skip link.
func TestPublicPageStructure(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	tg.group(t, "fritid", false)
	_, postURL, err := tg.Fed.Publish(ctx, "fritid", federation.PostInput{Text: "# Rubrik i inlägget\n\nOm #sommarlov", Summary: "Långt"})
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, tg)
	for _, u := range []string{"/", "/groups/fritid", "/groups/fritid?before=999999", postURL, "/tags/sommarlov", "/about"} {
		if !strings.HasPrefix(u, "https://") {
			u = tg.Base + u
		}
		code, _, body := c.get(u, "text/html")
		if code != 200 {
			t.Fatalf("%s: %d", u, code)
		}
		checkStructure(t, u, body)
	}
}
