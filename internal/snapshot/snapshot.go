// Package snapshot captures a group's public web pages as a WARC file
// (REC-9: the archive package's overview snapshot). It fetches the pages
// the way a browser would, by GET requests against torget's own HTTP
// handler in-process, so the bytes archived are the bytes the public gets:
// the group page and its older pages back through the period, every post
// page they link to, the group's moderation log, and the stylesheets,
// images and icons these pages reference.
package snapshot

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/html"

	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/uris"
	"github.com/torget/torget/internal/warc"
)

// Capturer captures snapshots through Handler.
type Capturer struct {
	Handler  http.Handler
	Base     string // the instance's public base URL (WARC-Target-URI prefix)
	Store    *store.Store
	Software string // e.g. "torget/1.2.3"
	Lang     string // Accept-Language of the requests (default: the group's language, else sv)
	MaxPages int    // group pages followed at most (default 1000)
	MaxBytes int64  // a response larger than this is cut off with an error (default 64 MiB)
}

// Result lists what was captured.
type Result struct {
	URIs    []string       // in capture order
	Status  map[string]int // by URI
	Records int
}

type kind int

const (
	groupPage kind = iota // parse links: older pages, post pages, resources
	page                  // parse resources only
	resource              // CSS: parse url(); others: nothing
)

// Group writes a WARC of g's public pages as they are now, covering the
// posts published in [from, to), to w.
func (c *Capturer) Group(ctx context.Context, g store.Group, from, to, now time.Time, w io.Writer) (*Result, error) {
	u := uris.Builder{Base: strings.TrimRight(c.Base, "/")}
	base, err := url.Parse(u.Base)
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("snapshot: bad base URL %q", c.Base)
	}
	want, err := c.periodPosts(ctx, u, g, from, to)
	if err != nil {
		return nil, err
	}
	lang := c.Lang
	if lang == "" {
		lang = g.Language
	}
	if lang == "" {
		lang = "sv"
	}
	maxPages := c.MaxPages
	if maxPages <= 0 {
		maxPages = 1000
	}
	ww := warc.NewWriter(w)
	ww.Filename = g.Slug + ".warc.gz"
	if err := ww.WriteInfo(now, []warc.Header{
		{Name: "software", Value: c.Software},
		{Name: "format", Value: "WARC File Format 1.1"},
		{Name: "conformsTo", Value: "http://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/"},
		{Name: "description", Value: "Public pages of the group " + g.Slug + " at export time, posts published " +
			from.UTC().Format(time.RFC3339) + " to " + to.UTC().Format(time.RFC3339)},
		{Name: "isPartOf", Value: u.Group(g.Slug)},
		{Name: "http-header-user-agent", Value: c.userAgent()},
	}); err != nil {
		return nil, err
	}
	cr := &crawl{c: c, base: base, lang: lang, now: now, w: ww, seen: map[string]bool{},
		res: &Result{Status: map[string]int{}}, groupURL: u.Group(g.Slug), postPrefix: u.Group(g.Slug) + "/posts/"}
	cr.add(cr.groupURL, groupPage)
	cr.add(u.Group(g.Slug)+"/moderation", page)
	pages := 0
	for len(cr.queue) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		it := cr.queue[0]
		cr.queue = cr.queue[1:]
		status, body, ctype, err := cr.fetch(it.uri, it.kind)
		if err != nil {
			return nil, err
		}
		if it.uri == cr.groupURL && status != http.StatusOK {
			return nil, fmt.Errorf("snapshot: the group page %s answered %d", it.uri, status)
		}
		if status != http.StatusOK {
			continue
		}
		switch {
		case it.kind == groupPage:
			pages++
			links, res := cr.links(it.uri, body)
			older := ""
			for _, l := range links {
				switch {
				case strings.HasPrefix(l, cr.postPrefix) && !strings.Contains(strings.TrimPrefix(l, cr.postPrefix), "/"):
					delete(want, l)
					cr.add(l, page)
				case strings.HasPrefix(l, cr.groupURL+"?before="):
					older = l
				}
			}
			for _, r := range res {
				cr.add(r, resource)
			}
			if older != "" && len(want) > 0 && pages < maxPages {
				cr.add(older, groupPage)
			}
		case it.kind == page:
			_, res := cr.links(it.uri, body)
			for _, r := range res {
				cr.add(r, resource)
			}
		case strings.HasPrefix(ctype, "text/css"):
			for _, r := range cssURLs(it.uri, body) {
				if cr.sameOrigin(r) {
					cr.add(r, resource)
				}
			}
		}
	}
	cr.res.Records = ww.Records()
	return cr.res, nil
}

// periodPosts are the URLs of the group's live posts published in the
// period: the group pages are followed back until each has been listed.
func (c *Capturer) periodPosts(ctx context.Context, u uris.Builder, g store.Group, from, to time.Time) (map[string]bool, error) {
	want := map[string]bool{}
	var before int64
	for {
		ps, err := c.Store.ListPosts(ctx, g.ID, before, 500)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			if !p.PublishedAt.Before(from) && p.PublishedAt.Before(to) {
				want[u.Post(g.Slug, p.PublicID)] = true
			}
		}
		if len(ps) < 500 {
			return want, nil
		}
		before = ps[len(ps)-1].ID
	}
}

func (c *Capturer) userAgent() string {
	return c.Software + " (archive snapshot)"
}

type item struct {
	uri  string
	kind kind
}

type crawl struct {
	c                    *Capturer
	base                 *url.URL
	lang                 string
	now                  time.Time
	w                    *warc.Writer
	seen                 map[string]bool
	queue                []item
	res                  *Result
	groupURL, postPrefix string
}

func (cr *crawl) add(uri string, k kind) {
	if cr.seen[uri] {
		return
	}
	cr.seen[uri] = true
	cr.queue = append(cr.queue, item{uri, k})
}

func (cr *crawl) sameOrigin(uri string) bool {
	u, err := url.Parse(uri)
	return err == nil && u.Scheme == cr.base.Scheme && u.Host == cr.base.Host
}

// fetch makes one GET through the handler and writes the exchange.
func (cr *crawl) fetch(uri string, k kind) (int, []byte, string, error) {
	accept := "*/*"
	if k != resource {
		accept = "text/html,application/xhtml+xml"
	}
	req := httptest.NewRequest(http.MethodGet, uri, nil)
	req.RemoteAddr = "127.0.0.1:0"
	req.Header.Set("User-Agent", cr.c.userAgent())
	req.Header.Set("Accept", accept)
	req.Header.Set("Accept-Language", cr.lang)
	var rq bytes.Buffer
	fmt.Fprintf(&rq, "GET %s HTTP/1.1\r\nHost: %s\r\n", req.URL.RequestURI(), req.Host)
	writeHeaders(&rq, req.Header)
	rq.WriteString("\r\n")

	rec := httptest.NewRecorder()
	cr.c.Handler.ServeHTTP(rec, req)
	resp := rec.Result()
	body := rec.Body.Bytes()
	max := cr.c.MaxBytes
	if max <= 0 {
		max = 64 << 20
	}
	if int64(len(body)) > max {
		return 0, nil, "", fmt.Errorf("snapshot: %s is larger than %d bytes", uri, max)
	}
	h := resp.Header.Clone()
	h.Del("Set-Cookie") // a session or CSRF cookie is not part of the page
	h.Del("Transfer-Encoding")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if h.Get("Date") == "" {
		h.Set("Date", cr.now.UTC().Format(http.TimeFormat))
	}
	var rs bytes.Buffer
	fmt.Fprintf(&rs, "HTTP/1.1 %d %s\r\n", resp.StatusCode, http.StatusText(resp.StatusCode))
	writeHeaders(&rs, h)
	rs.WriteString("\r\n")
	rs.Write(body)
	if err := cr.w.WriteExchange(warc.Exchange{URI: uri, At: cr.now, Request: rq.Bytes(), Response: rs.Bytes(), Payload: body}); err != nil {
		return 0, nil, "", err
	}
	cr.res.URIs = append(cr.res.URIs, uri)
	cr.res.Status[uri] = resp.StatusCode
	if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && loc != "" {
		if to := cr.resolve(uri, loc); to != "" && cr.sameOrigin(to) {
			cr.add(to, k)
		}
	}
	return resp.StatusCode, body, h.Get("Content-Type"), nil
}

func writeHeaders(b *bytes.Buffer, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			fmt.Fprintf(b, "%s: %s\r\n", k, v)
		}
	}
}

// resolve makes ref absolute against page, without a fragment ("" if bad).
func (cr *crawl) resolve(page, ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" || strings.HasPrefix(ref, "data:") || strings.HasPrefix(ref, "#") {
		return ""
	}
	p, err := url.Parse(page)
	if err != nil {
		return ""
	}
	r, err := url.Parse(ref)
	if err != nil {
		return ""
	}
	a := p.ResolveReference(r)
	a.Fragment = ""
	return a.String()
}

// links returns a page's same-origin links (a href) and the resources it
// loads (stylesheets, icons, images, media).
func (cr *crawl) links(page string, body []byte) (links, res []string) {
	z := html.NewTokenizer(bytes.NewReader(body))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		t := z.Token()
		attr := map[string]string{}
		for _, a := range t.Attr {
			attr[a.Key] = a.Val
		}
		var refs []string
		switch t.Data {
		case "a":
			if l := cr.resolve(page, attr["href"]); l != "" && cr.sameOrigin(l) {
				links = append(links, l)
			}
		case "link":
			for _, rel := range strings.Fields(strings.ToLower(attr["rel"])) {
				if rel == "stylesheet" || rel == "icon" || rel == "apple-touch-icon" || rel == "preload" {
					refs = append(refs, attr["href"])
					break
				}
			}
		case "img", "source", "video", "audio", "track", "input":
			refs = append(refs, attr["src"], attr["poster"])
			refs = append(refs, srcset(attr["srcset"])...)
		}
		for _, r := range refs {
			if l := cr.resolve(page, r); l != "" && cr.sameOrigin(l) {
				res = append(res, l)
			}
		}
	}
	return links, res
}

func srcset(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if f := strings.Fields(part); len(f) > 0 {
			out = append(out, f[0])
		}
	}
	return out
}

var cssURL = regexp.MustCompile(`url\(\s*['"]?([^'")\s]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]`)

// cssURLs are the resources a stylesheet loads.
func cssURLs(page string, body []byte) []string {
	p, err := url.Parse(page)
	if err != nil {
		return nil
	}
	var out []string
	for _, m := range cssURL.FindAllSubmatch(body, -1) {
		ref := string(m[1])
		if ref == "" {
			ref = string(m[2])
		}
		if strings.HasPrefix(ref, "data:") || strings.HasPrefix(ref, "#") {
			continue
		}
		if r, err := url.Parse(ref); err == nil {
			a := p.ResolveReference(r)
			a.Fragment = ""
			out = append(out, a.String())
		}
	}
	return out
}
