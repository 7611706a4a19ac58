package app_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"image"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	xhtml "golang.org/x/net/html"

	"github.com/torget/torget/internal/config"
	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/fedtest"
	"github.com/torget/torget/internal/store"
)

// threadShape parses a post page and returns, for each reply's <li> in
// the thread, the ids of the <li>s it is nested in (outermost first), and
// the order in which the <li>s appear.
func threadShape(t *testing.T, page string) (parents map[string][]string, order []string) {
	t.Helper()
	doc, err := xhtml.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	parents = map[string][]string{}
	var walk func(n *xhtml.Node, path []string)
	walk = func(n *xhtml.Node, path []string) {
		if n.Type == xhtml.ElementNode && n.Data == "li" {
			for _, a := range n.Attr {
				if a.Key == "id" && (strings.HasPrefix(a.Val, "svar-") || strings.HasPrefix(a.Val, "grupp-")) {
					parents[a.Val] = append([]string(nil), path...)
					order = append(order, a.Val)
					path = append(path, a.Val)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, path)
		}
	}
	walk(doc, nil)
	return parents, order
}

func anchorOf(t *testing.T, tg *instance, iri string) string {
	t.Helper()
	n, err := tg.Store.RemoteNoteByIRI(context.Background(), iri)
	if err != nil {
		t.Fatalf("note %s: %v", iri, err)
	}
	return fmt.Sprintf("svar-%d", n.ID)
}

// A thread of replies to replies is shown nested, each under what it
// answers, oldest first at every level; beyond five levels it continues
// flat, each saying what it answers; a hidden note in the middle leaves a
// placeholder only because replies to it are still shown.
func TestNestedThread(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	tg.group(t, "trad", false)
	groupID := tg.Base + "/groups/trad"
	p := fedtest.NewServer(t, fedtest.Options{Users: []string{"anna", "bo"}, RootCAs: tg.Pool})
	_, postURL, err := tg.Fed.Publish(ctx, "trad", federation.PostInput{Text: "Synpunkter på parken?"})
	if err != nil {
		t.Fatal(err)
	}
	minute := 0
	send := func(user, name, parent, text string) string {
		t.Helper()
		minute++
		n := p.Note(user, name, parent, "<p>"+text+"</p>", groupID)
		n["published"] = fmt.Sprintf("2026-01-02T10:%02d:00Z", minute)
		deliver(t, tg, p, user, groupID+"/inbox", p.Wrap("Create", user, n))
		return n["id"].(string)
	}
	// Published times decide the order: b (10:01) before a (10:02).
	b := send("bo", "b", postURL, "Andra toppsvaret")
	a := send("anna", "a", postURL, "Första toppsvaret")
	a1 := send("bo", "a1", a, "Svar på a")
	a11 := send("anna", "a11", a1, "Svar på a1")
	a111 := send("bo", "a111", a11, "Svar på a11")
	a2 := send("anna", "a2", a, "Ett andra svar på a")
	// A chain seven deep under b.
	chain := []string{b}
	for i := 1; i <= 6; i++ {
		chain = append(chain, send("anna", fmt.Sprintf("c%d", i), chain[len(chain)-1], fmt.Sprintf("Kedja %d", i)))
	}
	leaf := send("bo", "leaf", a2, "Ett löv")

	page := getBody(t, tg, postURL)
	parents, order := threadShape(t, page)
	id := func(iri string) string { return anchorOf(t, tg, iri) }
	want := map[string][]string{
		id(b):    nil,
		id(a):    nil,
		id(a1):   {id(a)},
		id(a11):  {id(a), id(a1)},
		id(a111): {id(a), id(a1), id(a11)},
		id(a2):   {id(a)},
		id(leaf): {id(a), id(a2)},
	}
	for k, v := range want {
		if got, ok := parents[k]; !ok || strings.Join(got, ",") != strings.Join(v, ",") {
			t.Errorf("%s nested in %v, want %v", k, got, v)
		}
	}
	pos := map[string]int{}
	for i, x := range order {
		pos[x] = i
	}
	if !(pos[id(b)] < pos[id(a)] && pos[id(a1)] < pos[id(a2)]) {
		t.Errorf("siblings not in published order: %v", order)
	}
	// Depth cap: chain[i] answers at level i+1; chain[1..4] nest down to
	// level 5; chain[5] and chain[6] (levels 6 and 7) continue flat at
	// level 5, under chain[3], each saying which note it answers.
	for i := 1; i <= 4; i++ {
		if got := len(parents[id(chain[i])]); got != i {
			t.Errorf("chain %d at level %d, want %d", i, got+1, i+1)
		}
	}
	for i := 5; i <= 6; i++ {
		if got := parents[id(chain[i])]; len(got) != 4 || got[3] != id(chain[3]) {
			t.Errorf("chain %d nested in %v, want under chain 3 (flat at level 5)", i, got)
		}
	}
	li := page[strings.Index(page, `id="`+id(chain[6])+`"`):]
	li = li[:strings.Index(li, "</article>")]
	if !strings.Contains(li, `svar till <a href="#`+id(chain[5])+`">`) {
		t.Errorf("flattened reply does not say what it answers: %s", li)
	}
	if strings.Contains(page[strings.Index(page, `id="`+id(a1)+`"`):][:600], "svar till") {
		t.Error("a nested reply repeats what it answers")
	}
	if !strings.Contains(page, `aria-label="Svar från @anna@`+p.Host+` till @bo@`+p.Host+`"`) {
		t.Error("replies not named for screen readers")
	}
	if !strings.Contains(page, "Svar från invånare (13)") {
		t.Error("reply count")
	}

	// Hide a1 (the middle of a→a1→a11→a111) and the leaf.
	for _, iri := range []string{a1, leaf} {
		n, _ := tg.Store.RemoteNoteByIRI(ctx, iri)
		if err := tg.Store.SetRemoteNoteState(ctx, n.ID, store.NoteHidden); err != nil {
			t.Fatal(err)
		}
	}
	page = getBody(t, tg, postURL)
	parents, _ = threadShape(t, page)
	if strings.Contains(page, "Svar på a<") {
		t.Error("hidden note's content shown")
	}
	if _, ok := parents[id(leaf)]; ok || strings.Contains(page, "Ett löv") {
		t.Error("hidden leaf left a placeholder")
	}
	if got := parents[id(a11)]; strings.Join(got, ",") != id(a)+","+id(a1) {
		t.Errorf("reply under a hidden note nested in %v", got)
	}
	ph := page[strings.Index(page, `id="`+id(a1)+`"`):]
	if !strings.HasPrefix(ph[strings.Index(ph, ">")+1:], `<p class="meta" lang="sv">Det här svaret visas inte.</p>`) {
		t.Errorf("no placeholder for the hidden middle note: %.200s", ph)
	}
	if !strings.Contains(page, "Svar från invånare (11)") {
		t.Error("hidden notes counted")
	}
}

// grayPNG is a real w×h PNG.
func grayPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// imgSrc returns the proxied src of the <img> whose alt is alt.
func imgSrc(t *testing.T, page, alt string) string {
	t.Helper()
	i := strings.Index(page, `alt="`+alt+`"`)
	if i < 0 {
		t.Fatalf("no image with alt %q", alt)
	}
	k := strings.LastIndex(page[:i], `src="`)
	return html.UnescapeString(page[k+5 : k+5+strings.Index(page[k+5:], `"`)])
}

// Residents' image attachments are shown as images with their alt text
// through the signed, cached, size- and pixel-limited media proxy, never
// hot-linked: the bytes decide (an SVG declared as PNG is refused), a
// redirect to a private address is refused, anything else stays a link;
// images of a sensitive note sit behind a disclosure, and a server under
// the "no media" policy gets links only.
func TestResidentImagesThroughProxy(t *testing.T) {
	ctx := context.Background()
	// Only the fake servers' own address is allowed: 127.0.0.2 stands for
	// any private address a redirect might point at.
	tg := startInstance(t, func(c *config.Config) { c.Federation.AllowPrivateNetworks = []string{"127.0.0.1/32"} })
	tg.group(t, "bild", false)
	groupID := tg.Base + "/groups/bild"
	p := fedtest.NewServer(t, fedtest.Options{Users: []string{"pia"}, RootCAs: tg.Pool})

	var inside atomic.Int32
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	internal := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inside.Add(1)
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(grayPNG(t, 2, 2))
	}))
	internal.Listener.Close()
	internal.Listener = ln
	internal.StartTLS()
	defer internal.Close()

	photo := grayPNG(t, 40, 30)
	p.Serve(p.ObjectID("photo.png"), fedtest.File{Type: "application/octet-stream", Body: photo})
	p.Serve(p.ObjectID("noalt.png"), fedtest.File{Type: "image/png", Body: photo})
	p.Serve(p.ObjectID("fake.png"), fedtest.File{Type: "image/png", Body: []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`)})
	p.Serve(p.ObjectID("huge.png"), fedtest.File{Type: "image/png", Body: grayPNG(t, 5000, 5000)}) // 25 Mpx in a small file
	p.Serve(p.ObjectID("away.png"), fedtest.Redirect{Location: internal.URL + "/secret.png"})
	_, postURL, err := tg.Fed.Publish(ctx, "bild", federation.PostInput{Text: "Visa era bilder"})
	if err != nil {
		t.Fatal(err)
	}
	att := func(name, mt, alt string) map[string]any {
		a := map[string]any{"type": "Document", "url": p.ObjectID(name), "name": alt}
		if mt != "" {
			a["mediaType"] = mt
		}
		return a
	}
	note := p.Note("pia", "n1", postURL, "<p>Parken i dag</p>", groupID)
	note["attachment"] = []any{att("photo.png", "image/png", "Ek i parken"), att("noalt.png", "", ""),
		att("fake.png", "image/png", "falsk"), att("huge.png", "image/png", "enorm"), att("away.png", "image/png", "bort"),
		att("doc.pdf", "application/pdf", "Protokoll"), att("pic.svg", "image/svg+xml", "vektor")}
	deliver(t, tg, p, "pia", groupID+"/inbox", p.Wrap("Create", "pia", note))
	page := getBody(t, tg, postURL)
	if strings.Contains(page, `src="`+p.URL) || strings.Contains(page, `src="https://127.0.0.2`) {
		t.Fatal("remote media hot-linked")
	}
	c := newClient(t, tg)
	src := imgSrc(t, page, "Ek i parken")
	if !strings.HasPrefix(src, tg.Base+"/media/proxy?") {
		t.Fatalf("image src %s", src)
	}
	for range 2 {
		code, h, body := c.get(src, "")
		if code != 200 || h.Get("Content-Type") != "image/png" || body != string(photo) {
			t.Fatalf("proxy: %d %s", code, h.Get("Content-Type"))
		}
	}
	if n := p.ObjectGets("/objects/photo.png"); n != 1 {
		t.Errorf("image fetched %d times, want 1 (cached)", n)
	}
	if code, _, _ := c.get(imgSrc(t, page, "bild utan beskrivning"), ""); code != 200 {
		t.Errorf("image without alt text: %d", code)
	}
	for _, alt := range []string{"falsk", "enorm", "bort"} {
		for range 2 {
			if code, _, _ := c.get(imgSrc(t, page, alt), ""); code != http.StatusBadGateway {
				t.Errorf("%s through the proxy: %d", alt, code)
			}
		}
	}
	if n := p.ObjectGets("/objects/huge.png"); n != 1 {
		t.Errorf("refused image fetched %d times, want 1 (failure remembered)", n)
	}
	if inside.Load() != 0 {
		t.Error("proxy followed a redirect to a private address")
	}
	for _, link := range []string{`href="` + p.ObjectID("doc.pdf") + `"`, `href="` + p.ObjectID("pic.svg") + `"`} {
		if !strings.Contains(page, link) {
			t.Errorf("no link %s", link)
		}
	}
	if strings.Contains(page, `alt="vektor"`) || strings.Contains(page, `alt="Protokoll"`) {
		t.Error("non-raster attachment shown as an image")
	}

	// A sensitive note: its images behind a disclosure.
	sn := p.Note("pia", "n2", postURL, "<p>Skadat träd</p>", groupID)
	sn["sensitive"] = true
	sn["attachment"] = []any{att("photo.png", "image/png", "Fallen ek")}
	deliver(t, tg, p, "pia", groupID+"/inbox", p.Wrap("Create", "pia", sn))
	page = getBody(t, tg, postURL)
	i := strings.Index(page, `alt="Fallen ek"`)
	if i < 0 || !strings.Contains(page[strings.LastIndex(page[:i], "<article"):i], "<details><summary lang=\"sv\">Bilder som kan vara känsliga</summary>") {
		t.Error("sensitive image not behind a disclosure")
	}

	// The server under the "no media" policy: links only.
	if err := tg.Store.SetDomainPolicy(ctx, &store.DomainPolicy{Host: p.Host, Policy: store.DomainNoMedia, Reason: "test", CreatedBy: "admin"}); err != nil {
		t.Fatal(err)
	}
	page = getBody(t, tg, postURL)
	if strings.Contains(page, "/media/proxy?") || !strings.Contains(page, `href="`+p.ObjectID("photo.png")+`"`) {
		t.Error("no-media server's images shown")
	}
}
