package app_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/torget/torget/internal/federation"
)

// pageWeightBudget is what a public page may cost a resident on a slow
// mobile connection: the HTML plus every stylesheet, script and image it
// references.
const pageWeightBudget = 50 << 10

var assetRe = regexp.MustCompile(`<(?:link[^>]+rel="stylesheet"[^>]+href|script[^>]+src|img[^>]+src)="([^"]+)"`)

// pageWeight fetches a page and what it references (same site) and
// returns the bytes, by URL.
func pageWeight(t *testing.T, tg *instance, u string) (int, map[string]int) {
	t.Helper()
	c := newClient(t, tg)
	code, _, body := c.get(u, "text/html")
	if code != 200 {
		t.Fatalf("GET %s: %d", u, code)
	}
	parts := map[string]int{u: len(body)}
	total := len(body)
	for _, m := range assetRe.FindAllStringSubmatch(body, -1) {
		ref := m[1]
		if strings.HasPrefix(ref, "/") {
			ref = tg.Base + ref
		}
		if _, seen := parts[ref]; seen {
			continue
		}
		if !strings.HasPrefix(ref, tg.Base+"/") {
			t.Fatalf("%s references %s on another site", u, ref)
		}
		code, _, asset := c.get(ref, "")
		if code != 200 {
			t.Fatalf("GET %s: %d", ref, code)
		}
		parts[ref] = len(asset)
		total += len(asset)
	}
	return total, parts
}

// The public group page (a full first page of posts) and a post page stay
// under the page-weight budget, assets included.
func TestPublicPageWeight(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	tg.group(t, "vikt", false)
	text := "Vi informerar om **vägarbeten** på [Älvsjövägen](https://stad.example/vag) vecka 48. " +
		strings.Repeat("Trafiken leds om via Götalandsvägen och bussarna stannar vid tillfälliga hållplatser. ", 5) + "#trafik #älvsjö"
	var postURL string
	for i := range 25 {
		in := federation.PostInput{Text: fmt.Sprintf("%d. %s", i, text)}
		if i%4 == 0 {
			in.Summary = "Trafikstörning"
		}
		_, u, err := tg.Fed.Publish(ctx, "vikt", in)
		if err != nil {
			t.Fatal(err)
		}
		postURL = u
		if i == 0 {
			if _, err := tg.Fed.Pin(ctx, u, true); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, u := range []string{tg.Base + "/groups/vikt", postURL} {
		total, parts := pageWeight(t, tg, u)
		t.Logf("%s: %d bytes %v", u, total, parts)
		if total > pageWeightBudget {
			t.Errorf("%s weighs %d bytes with its assets, over the %d byte budget: %v", u, total, pageWeightBudget, parts)
		}
		if len(parts) < 2 {
			t.Errorf("%s: no assets found (%v): the check would prove nothing", u, parts)
		}
	}
}
