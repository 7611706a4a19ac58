package app_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/torget/torget/internal/auth"
	"github.com/torget/torget/internal/fedtest"
	"github.com/torget/torget/internal/store"
)

// SVC-8: staff say in their account settings which languages they read; a
// Finnish question (tagged by contentMap, or untagged and recognised by
// its words) is assigned to the group's editor who reads Finnish, a
// Swedish one is left for anyone, and the queue filter language=fi lists
// the Finnish cases only.
func TestFinnishCaseRouting(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	g := tg.group(t, "senior", false)
	other := tg.group(t, "bad", false)
	erik := tg.user(t, "erik", auth.RoleEditor)
	aino := tg.user(t, "aino", auth.RoleEditor)
	pekka := tg.user(t, "pekka", auth.RoleEditor) // reads Finnish, but is not staff of the group
	for _, a := range []struct {
		g *store.Group
		u *store.User
	}{{g, erik}, {g, aino}, {other, pekka}} {
		if err := tg.Store.AssignGroupStaff(ctx, a.g.ID, a.u.ID, auth.RoleEditor); err != nil {
			t.Fatal(err)
		}
	}
	if err := tg.Store.SetUserLanguages(ctx, erik.ID, []string{"sv"}); err != nil {
		t.Fatal(err)
	}
	if err := tg.Store.SetUserLanguages(ctx, pekka.ID, []string{"fi"}); err != nil {
		t.Fatal(err)
	}
	// aino sets hers in the account settings.
	ab := newBrowser(t, tg)
	ab.login("aino", testPassword)
	_, body := ab.get("/staff/language")
	expectBody(t, "settings", body, `action="/staff/language/reads"`, `<label for="reads-fi" lang="fi">Suomi</label>`)
	resp, body := ab.form("/staff/language", "/staff/language/reads", url.Values{"reads": {"fi", "sv"}})
	expectNotice(t, "languages", resp, body, "/staff/language")
	if resp, _ := ab.form("/staff/language", "/staff/language/reads", url.Values{"reads": {"klingon"}}); resp.StatusCode != 422 {
		t.Fatalf("unknown language: %d", resp.StatusCode)
	}
	if u, err := tg.Store.UserByID(ctx, aino.ID); err != nil || u.Languages != "sv,fi" {
		t.Fatalf("aino reads %q, %v", u.Languages, err)
	}
	_, body = ab.get("/staff/language")
	expectBody(t, "settings", body, `value="fi" checked`, `value="sv" checked`)

	m := fedtest.NewServer(t, fedtest.Options{Users: []string{"liisa", "sven"}, RootCAs: tg.Pool})
	groupIRI := tg.Base + "/groups/senior"
	handle := "senior@" + tg.Domain
	tagged, taggedID := residentNote(t, m, "liisa", groupIRI, handle, "Haluaisin varata ajan palvelukeskukseen", true, 1)
	obj := tagged["object"].(map[string]any)
	obj["contentMap"] = map[string]any{"fi": obj["content"]}
	sendNote(t, m, "liisa", groupIRI+"/inbox", tagged)
	untagged, untaggedID := residentNote(t, m, "liisa", groupIRI, handle, "Milloin uimahalli on auki? Kiitos", false, 2)
	delete(untagged["object"].(map[string]any), "contentMap")
	sendNote(t, m, "liisa", tg.Base+"/inbox", untagged)
	swedish, swedishID := residentNote(t, m, "sven", groupIRI, handle, "Jag vill boka en tid hos fotvården", true, 3)
	sendNote(t, m, "sven", groupIRI+"/inbox", swedish)
	waitUntil(t, 10*time.Second, "three cases", func() bool {
		return len(casesOf(t, tg, store.CaseFilter{GroupIDs: []int64{g.ID}})) == 3
	})
	byIRI := map[string]store.Case{}
	for _, c := range casesOf(t, tg, store.CaseFilter{GroupIDs: []int64{g.ID}}) {
		byIRI[c.SourceIRI] = c
	}
	for _, iri := range []string{taggedID, untaggedID} {
		c := byIRI[iri]
		if c.Language != "fi" || c.OwnerUserID == nil || *c.OwnerUserID != aino.ID {
			t.Errorf("Finnish case %s: language %q owner %v, want fi and aino (%d)", iri, c.Language, c.OwnerUserID, aino.ID)
		}
	}
	if c := byIRI[swedishID]; c.Language != "sv" || c.OwnerUserID != nil {
		t.Errorf("Swedish case: language %q owner %v, want sv and nobody", c.Language, c.OwnerUserID)
	}

	eb := newBrowser(t, tg)
	eb.login("erik", testPassword)
	_, body = eb.get("/staff/cases?language=fi")
	for _, iri := range []string{taggedID, untaggedID} {
		expectBody(t, "queue language=fi", body, fmt.Sprintf(`href="/staff/cases/%d"`, byIRI[iri].ID))
	}
	if strings.Contains(body, fmt.Sprintf(`href="/staff/cases/%d"`, byIRI[swedishID].ID)) {
		t.Error("queue language=fi lists the Swedish case")
	}
}
