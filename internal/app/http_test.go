package app_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/torget/torget/internal/federation"
)

type client struct {
	t *testing.T
	c *http.Client
}

func newClient(t *testing.T, in *instance) *client {
	return &client{t: t, c: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: in.Pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) get(url, accept string) (int, http.Header, string) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func (c *client) getJSON(url, accept string, want int) map[string]any {
	c.t.Helper()
	code, _, body := c.get(url, accept)
	if code != want {
		c.t.Fatalf("GET %s: %d, want %d: %s", url, code, want, body)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		c.t.Fatalf("GET %s: %v: %s", url, err, body)
	}
	return m
}

const asAccept = "application/activity+json"
const ldAccept = `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`

func TestDiscoveryAndCollections(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	tg.group(t, "aldre", false)
	c := newClient(t, tg)
	groupID := tg.Base + "/groups/aldre"

	t.Run("webfinger", func(t *testing.T) {
		for _, res := range []string{"acct:aldre@" + tg.Domain, "acct%3Aaldre%40" + tg.Domain, groupID} {
			code, h, body := c.get(tg.Base+"/.well-known/webfinger?resource="+res, "")
			if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/jrd+json") || h.Get("Access-Control-Allow-Origin") != "*" {
				t.Fatalf("%s: %d %v", res, code, h)
			}
			if !strings.Contains(body, `"subject":"acct:aldre@`+tg.Domain+`"`) || !strings.Contains(body, `"href":"`+groupID+`"`) {
				t.Fatalf("%s: %s", res, body)
			}
		}
		// The instance actor resolves too (GoToSocial insists).
		m := c.getJSON(tg.Base+"/.well-known/webfinger?resource=acct:"+tg.Domain+"@"+tg.Domain, "", 200)
		if m["aliases"].([]any)[0] != tg.Base+"/actor" {
			t.Fatalf("instance actor JRD: %v", m)
		}
		for res, want := range map[string]int{
			"acct:Aldre@" + tg.Domain:  404, // exact, case-sensitive usernames
			"acct:aldre@other.example": 404,
			"acct:nobody@" + tg.Domain: 404,
			"":                         400,
			"acct:a@b@c":               400,
		} {
			if code, _, _ := c.get(tg.Base+"/.well-known/webfinger?resource="+res, ""); code != want {
				t.Errorf("resource %q: %d, want %d", res, code, want)
			}
		}
	})

	t.Run("host-meta and nodeinfo", func(t *testing.T) {
		code, h, body := c.get(tg.Base+"/.well-known/host-meta", "")
		if code != 200 || !strings.Contains(h.Get("Content-Type"), "xrd+xml") || !strings.Contains(body, tg.Base+"/.well-known/webfinger?resource={uri}") {
			t.Fatalf("host-meta: %d %s", code, body)
		}
		links := c.getJSON(tg.Base+"/.well-known/nodeinfo", "", 200)
		if len(links["links"].([]any)) != 2 {
			t.Fatalf("nodeinfo links: %v", links)
		}
		if _, _, err := tg.Fed.Publish(ctx, "aldre", federation.PostInput{Text: "hej"}); err != nil {
			t.Fatal(err)
		}
		for _, v := range []string{"2.0", "2.1"} {
			ni := c.getJSON(tg.Base+"/nodeinfo/"+v, "", 200)
			sw := ni["software"].(map[string]any)
			usage := ni["usage"].(map[string]any)
			if ni["version"] != v || sw["name"] != "torget" || sw["version"] == "" || ni["openRegistrations"] != false ||
				usage["localPosts"] != float64(1) || usage["users"].(map[string]any)["total"] != float64(1) {
				t.Fatalf("nodeinfo %s: %v", v, ni)
			}
			if op := ni["metadata"].(map[string]any)["operator"].(map[string]any); op["name"] == "" {
				t.Fatalf("nodeinfo %s names no operator: %v", v, ni["metadata"])
			}
		}
	})

	t.Run("content negotiation", func(t *testing.T) {
		for _, accept := range []string{asAccept, ldAccept} {
			code, h, body := c.get(groupID, accept)
			if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/activity+json") || !strings.Contains(body, `"type":"Group"`) {
				t.Fatalf("%s: %d %s", accept, code, h.Get("Content-Type"))
			}
			if !strings.Contains(body, `"@context":["https://www.w3.org/ns/activitystreams","https://w3id.org/security/v1"`) {
				t.Fatalf("@context: %s", body[:200])
			}
		}
		code, h, body := c.get(groupID, "text/html,application/xhtml+xml")
		if h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Fatalf("security headers missing: %v", h)
		}
		if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !strings.Contains(body, "<html lang=\"sv\">") ||
			!strings.Contains(body, `rel="alternate" type="application/activity+json"`) {
			t.Fatalf("HTML: %d %s", code, h.Get("Content-Type"))
		}
		inst := c.getJSON(tg.Base+"/actor", asAccept, 200)
		if inst["type"] != "Application" || inst["id"] != tg.Base+"/actor" || inst["publicKey"].(map[string]any)["owner"] != tg.Base+"/actor" {
			t.Fatalf("instance actor: %v", inst)
		}
		if code, _, _ := c.get(tg.Base+"/groups/nope", asAccept); code != 404 {
			t.Fatalf("unknown group: %d", code)
		}
	})

	t.Run("outbox pages carry no query string", func(t *testing.T) {
		for i := 0; i < 25; i++ {
			if _, _, err := tg.Fed.Publish(ctx, "aldre", federation.PostInput{Text: fmt.Sprintf("inlägg %d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		ob := c.getJSON(groupID+"/outbox", asAccept, 200)
		if ob["type"] != "OrderedCollection" || ob["totalItems"] != float64(26) {
			t.Fatalf("outbox: %v", ob)
		}
		seen := 0
		next, _ := ob["first"].(string)
		for next != "" {
			if strings.Contains(next, "?") {
				t.Fatalf("page id with a query string: %s", next)
			}
			p := c.getJSON(next, asAccept, 200)
			if p["id"] != next || p["partOf"] != groupID+"/outbox" {
				t.Fatalf("page id %v, want %s", p["id"], next)
			}
			items := p["orderedItems"].([]any)
			for _, it := range items {
				if it.(map[string]any)["type"] != "Create" {
					t.Fatalf("outbox item %v", it)
				}
				if _, ok := it.(map[string]any)["@context"]; ok {
					t.Fatal("embedded item carries @context")
				}
			}
			seen += len(items)
			next, _ = p["next"].(string)
		}
		if seen != 26 {
			t.Fatalf("paged through %d items, want 26", seen)
		}
	})

	t.Run("followers, following, featured, moderators", func(t *testing.T) {
		f := c.getJSON(groupID+"/followers", asAccept, 200)
		if f["totalItems"] != float64(0) || f["orderedItems"] != nil {
			t.Fatalf("followers must give the count only: %v", f)
		}
		for _, p := range []string{"/following", "/featured", "/moderators"} {
			m := c.getJSON(groupID+p, asAccept, 200)
			if m["id"] != groupID+p || m["type"] != "OrderedCollection" {
				t.Fatalf("%s: %v", p, m)
			}
		}
	})

	t.Run("operations", func(t *testing.T) {
		for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/metrics": "torget_delivery_queue_depth"} {
			code, _, body := c.get(tg.Base+path, "")
			if code != 200 || !strings.Contains(body, want) {
				t.Fatalf("%s: %d %.200s", path, code, body)
			}
		}
	})

	t.Run("inbox refuses unsigned and wrong media types", func(t *testing.T) {
		for ctype, want := range map[string]int{"application/activity+json": 401, "text/plain": 415} {
			resp, err := c.c.Post(groupID+"/inbox", ctype, strings.NewReader(`{"type":"Follow"}`))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Fatalf("%s: %d, want %d", ctype, resp.StatusCode, want)
			}
		}
	})
}

func TestTagPage(t *testing.T) {
	tg := startInstance(t)
	tg.group(t, "park", false)
	ctx := context.Background()
	for _, text := range []string{"Städdag i #Parken", "Om #parkering", "100% #parken_nu"} {
		if _, _, err := tg.Fed.Publish(ctx, "park", federation.PostInput{Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	c := newClient(t, tg)
	code, _, body := c.get(tg.Base+"/tags/parken", "text/html")
	if code != 200 || !strings.Contains(body, "Städdag") || strings.Contains(body, "parkering") || strings.Contains(body, "100%") {
		t.Fatalf("tag page: %d %s", code, body)
	}
	if code, _, _ := c.get(tg.Base+"/tags/%3Cscript%3E", "text/html"); code != 404 {
		t.Fatalf("invalid tag: %d", code)
	}
}

// The cached group page shows a new post at once.
func TestGroupPageShowsNewPostAtOnce(t *testing.T) {
	tg := startInstance(t)
	tg.group(t, "bibliotek", false)
	c := newClient(t, tg)
	url := tg.Base + "/groups/bibliotek"
	if code, _, body := c.get(url, "text/html"); code != 200 || !strings.Contains(body, "Inga inlägg ännu") {
		t.Fatalf("empty page: %d", code)
	}
	if _, _, err := tg.Fed.Publish(context.Background(), "bibliotek", federation.PostInput{Text: "Nya öppettider"}); err != nil {
		t.Fatal(err)
	}
	if _, _, body := c.get(url, "text/html"); !strings.Contains(body, "Nya öppettider") {
		t.Fatal("the page served from cache lacks the new post")
	}
}

// The licence text is served, and every page links to it (AGPL §13: users
// of the network service learn the terms and where the source is).
func TestLicenceServedAndLinked(t *testing.T) {
	tg := startInstance(t)
	c := newClient(t, tg)
	code, h, body := c.get(tg.Base+"/static/LICENSE.txt", "")
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") || !strings.Contains(body, "GNU AFFERO GENERAL PUBLIC LICENSE") {
		t.Fatalf("licence: %d %s", code, h.Get("Content-Type"))
	}
	if _, _, page := c.get(tg.Base+"/", "text/html"); !strings.Contains(page, `href="/static/LICENSE.txt"`) {
		t.Fatal("the home page does not link the licence")
	}
}
