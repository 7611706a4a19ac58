package app_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nlnwa/gowarc/v3"
	"golang.org/x/net/html"

	"github.com/torget/torget/internal/archive"
	"github.com/torget/torget/internal/federation"
)

// capture is one response read back from a WARC.
type capture struct {
	status          int
	ctype           string
	body            []byte
	request, respID string
}

// readWARC reads a WARC with gowarc (another implementation than the
// writer), failing on any syntax or specification error and on a wrong
// block or payload digest or Content-Length.
func readWARC(t *testing.T, path string) (info string, resp map[string]capture) {
	t.Helper()
	r, err := gowarc.NewWarcFileReader(path, 0, gowarc.WithStrictValidation())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	resp = map[string]capture{}
	requests := map[string]string{} // response record id -> request target
	for i := 0; ; i++ {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		w := rec.WarcRecord
		if v := w.Version().String(); v != "WARC/1.1" {
			t.Fatalf("record %d is %s", i, v)
		}
		if _, err := w.ValidateDigest(); err != nil {
			t.Fatalf("record %d (%s %s): %v", i, w.Type(), w.WarcHeader().Get(gowarc.WarcTargetURI), err)
		}
		if i == 0 != (w.Type() == gowarc.Warcinfo) {
			t.Fatalf("record %d is a %s; want warcinfo first and only first", i, w.Type())
		}
		h := w.WarcHeader()
		for _, f := range []string{gowarc.WarcRecordID, gowarc.WarcDate, gowarc.ContentLength, gowarc.WarcBlockDigest} {
			if h.Get(f) == "" {
				t.Fatalf("record %d lacks %s", i, f)
			}
		}
		uri := h.Get(gowarc.WarcTargetURI)
		switch w.Type() {
		case gowarc.Warcinfo:
			rb, _ := w.Block().RawBytes()
			b, _ := io.ReadAll(rb)
			info = string(b)
		case gowarc.Response:
			blk := w.Block().(gowarc.HttpResponseBlock)
			pb, err := blk.PayloadBytes()
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(pb)
			if h.Get(gowarc.WarcPayloadDigest) == "" {
				t.Fatalf("response %s has no payload digest", uri)
			}
			resp[uri] = capture{status: blk.HttpStatusCode(), ctype: blk.HttpHeader().Get("Content-Type"), body: body, respID: w.RecordId()}
		case gowarc.Request:
			blk := w.Block().(gowarc.HttpRequestBlock)
			rb, _ := blk.RawBytes()
			br := bufio.NewReader(rb)
			line, _ := br.ReadString('\n')
			host, _ := br.ReadString('\n')
			if u, _ := url.Parse(uri); line != "GET "+u.RequestURI()+" HTTP/1.1\r\n" || host != "Host: "+u.Host+"\r\n" {
				t.Fatalf("request record for %s: %q", uri, line)
			}
			requests[h.Get(gowarc.WarcConcurrentTo)] = line
		}
		_ = rec.Close()
	}
	for u, c := range resp {
		req, ok := requests["<"+c.respID+">"]
		if !ok || !strings.HasPrefix(req, "GET ") {
			t.Fatalf("no GET request record concurrent to the response for %s (%q)", u, req)
		}
	}
	return info, resp
}

// resources are the same-origin resources an HTML page loads and the
// links it has.
func resources(t *testing.T, page string, body []byte) (res, links []string) {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	base, _ := url.Parse(page)
	abs := func(ref string) string {
		r, err := url.Parse(ref)
		if err != nil {
			t.Fatal(err)
		}
		a := base.ResolveReference(r)
		a.Fragment = ""
		if a.Host != base.Host {
			return ""
		}
		return a.String()
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			at := map[string]string{}
			for _, a := range n.Attr {
				at[a.Key] = a.Val
			}
			switch {
			case n.Data == "img" && at["src"] != "":
				res = append(res, abs(at["src"]))
			case n.Data == "link" && (strings.Contains(at["rel"], "stylesheet") || strings.Contains(at["rel"], "icon")):
				res = append(res, abs(at["href"]))
			case n.Data == "a" && at["href"] != "":
				links = append(links, abs(at["href"]))
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return res, links
}

// REC-9: an archive export holds a WARC of the group's public pages as
// the public gets them, which replays offline: the group pages back
// through the period, each post page, the moderation log, and every
// stylesheet and image they load, with correct digests.
func TestArchiveSnapshotWARC(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	tg.group(t, "grupp-w", false)
	const n = 23 // more than one group page (20 a page)
	var posts []string
	for i := 1; i <= n; i++ {
		_, u, err := tg.Fed.Publish(ctx, "grupp-w", federation.PostInput{Text: fmt.Sprintf("Inlägg nummer %d om parken", i)})
		if err != nil {
			t.Fatal(err)
		}
		posts = append(posts, u)
	}
	opt := tg.ExportOptions()
	now := tg.Store.Now()
	opt.From, opt.To, opt.GroupSlug, opt.Out, opt.Actor = now.Add(-time.Hour), now.Add(time.Hour), "grupp-w", t.TempDir(), "cli:test"
	res, err := archive.Export(ctx, tg.Store, opt)
	if err != nil {
		t.Fatal(err)
	}
	rel := "data/snapshot/grupp-w.warc.gz"
	path := filepath.Join(res.Dir, "representations", "rep1", filepath.FromSlash(rel))
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Listed in the representation's METS with its SHA-256, like every file.
	sum := sha256.Sum256(raw)
	mets, _ := os.ReadFile(filepath.Join(res.Dir, "representations", "rep1", "METS.xml"))
	if !bytes.Contains(mets, []byte(`CHECKSUM="`+hex.EncodeToString(sum[:])+`" CHECKSUMTYPE="SHA-256" sip:FILEFORMATNAME="WARC"`)) ||
		!bytes.Contains(mets, []byte(`xlink:href="`+rel+`"`)) {
		t.Fatalf("the WARC is not listed with its checksum in the representation METS:\n%s", mets)
	}

	info, got := readWARC(t, path)
	if !strings.Contains(info, "software: torget/") || !strings.Contains(info, "format: WARC File Format 1.1") {
		t.Fatalf("warcinfo:\n%s", info)
	}
	groupURL := tg.Base + "/groups/grupp-w"
	front, ok := got[groupURL]
	if !ok || front.status != 200 || !strings.HasPrefix(front.ctype, "text/html") {
		t.Fatalf("the group page is not in the WARC (have %d URIs)", len(got))
	}
	if !bytes.Contains(front.body, []byte("Inlägg nummer 23 om parken")) {
		t.Fatalf("the group page lacks the newest post:\n%.3000s", front.body)
	}
	// The bytes are what the public gets.
	b := newBrowser(t, tg)
	if _, live := b.get("/static/site.css"); live != string(got[tg.Base+"/static/site.css"].body) {
		t.Fatal("the archived stylesheet differs from the one served")
	}
	if _, live := b.getLang("/groups/grupp-w", "sv"); live != string(front.body) {
		t.Fatalf("the archived group page differs from the one served")
	}
	// The older page with the oldest post, and every post page.
	var older []string
	for u := range got {
		if strings.HasPrefix(u, groupURL+"?before=") {
			older = append(older, u)
		}
	}
	if len(older) != 1 || !bytes.Contains(got[older[0]].body, []byte("Inlägg nummer 1 om parken")) {
		t.Fatalf("older group pages %v", older)
	}
	for i, p := range posts {
		c, ok := got[p]
		if !ok || c.status != 200 || !bytes.Contains(c.body, []byte(fmt.Sprintf("Inlägg nummer %d om parken", i+1))) {
			t.Fatalf("post page %s: %v %d", p, ok, c.status)
		}
	}
	if c, ok := got[groupURL+"/moderation"]; !ok || c.status != 200 {
		t.Fatal("the moderation log page is not in the WARC")
	}
	// Every resource of every archived page is there, answered 200.
	css, images := 0, 0
	for u, c := range got {
		if !strings.HasPrefix(c.ctype, "text/html") || c.status != 200 {
			continue
		}
		res, _ := resources(t, u, c.body)
		for _, r := range res {
			if r == "" {
				continue
			}
			rc, ok := got[r]
			if !ok || rc.status != 200 || len(rc.body) == 0 {
				t.Fatalf("%s loads %s, which is not in the WARC", u, r)
			}
			switch {
			case strings.HasPrefix(rc.ctype, "text/css"):
				css++
			case strings.HasPrefix(rc.ctype, "image/"):
				images++
			}
		}
	}
	if css == 0 || images == 0 {
		t.Fatalf("no stylesheet (%d) or image (%d) loaded by the archived pages", css, images)
	}
	// Nothing outside the instance, and no cookies.
	for u, c := range got {
		if !strings.HasPrefix(u, tg.Base+"/") {
			t.Fatalf("captured %s, outside the instance", u)
		}
		_ = c
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw)) // reads every member
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !bytes.Contains(plain, []byte("\r\nWARC-Type: response\r\n")) {
		t.Fatalf("gunzip: %v", err)
	}
	if bytes.Contains(plain, []byte("Set-Cookie")) {
		t.Fatal("the WARC holds a Set-Cookie header")
	}
	if err := archive.Check(res.Dir); err != nil {
		t.Fatal(err)
	}
}
