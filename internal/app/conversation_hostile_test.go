package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/fedtest"
	"github.com/torget/torget/internal/store"
)

// rehost rewrites a hostile fixture onto the test servers: the named IRIs
// become the given ones, then the fixtures' hosts become the fake servers.
func rehost(t *testing.T, name string, iris map[string]string, hosts map[string]string) map[string]any {
	t.Helper()
	b, err := json.Marshal(loadConv(t, name))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for from, to := range iris {
		s = strings.ReplaceAll(s, from, to)
	}
	for from, to := range hosts {
		s = strings.ReplaceAll(s, from, to)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "signature")
	return m
}

// Hostile conversation payloads are refused or neutralised: a spoofed
// attributedTo, an embedded object from another origin, an Update of
// another actor's note, and script injection.
func TestHostileConversation(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	tg.group(t, "sodermalm", false)
	if err := tg.Fed.SetDiscussionMode(ctx, "sodermalm", store.ModeOpen); err != nil {
		t.Fatal(err)
	}
	groupID := tg.Base + "/groups/sodermalm"
	evil := fedtest.NewServer(t, fedtest.Options{Users: []string{"mallory"}, RootCAs: tg.Pool})
	masto := fedtest.NewServer(t, fedtest.Options{Users: []string{"alice"}, RootCAs: tg.Pool})
	_, postURL, err := tg.Fed.Publish(ctx, "sodermalm", federation.PostInput{Text: "Lekplatsen"})
	if err != nil {
		t.Fatal(err)
	}
	hosts := map[string]string{"https://evil.example": evil.URL, "https://mastodon.example": masto.URL,
		"https://torget.example/g/sodermalm": groupID}

	refused := func(t *testing.T, act map[string]any, objID string) {
		t.Helper()
		code, body, err := evil.Send(ctx, "mallory", groupID+"/inbox", act)
		if err != nil {
			t.Fatal(err)
		}
		if code == 202 {
			id, _ := act["id"].(string)
			waitUntil(t, 10e9, "applied", func() bool {
				it, err := tg.Store.InboxItemByIRI(ctx, id)
				return err == nil && it.Status != store.InboxPending
			})
		} else if code != 403 && code != 400 {
			t.Fatalf("answered %d %s", code, body)
		}
		if n, err := tg.Store.RemoteNoteByIRI(ctx, objID); err == nil {
			t.Fatalf("note stored: %+v", n)
		}
	}

	t.Run("spoofed attributedTo", func(t *testing.T) {
		act := rehost(t, "create-spoofed-attributedto.json", map[string]string{
			"https://evil.example/u/mallory": evil.ActorID("mallory"), "https://mastodon.example/users/alice": masto.ActorID("alice"),
			"https://torget.example/g/sodermalm/p/1": postURL}, hosts)
		refused(t, act, act["object"].(map[string]any)["id"].(string))
	})
	t.Run("embedded object from another origin", func(t *testing.T) {
		act := rehost(t, "create-embedded-object-foreign-domain.json", map[string]string{
			"https://evil.example/users/mallory": evil.ActorID("mallory"), "https://mastodon.example/users/alice": masto.ActorID("alice")}, hosts)
		refused(t, act, act["object"].(map[string]any)["id"].(string))
	})
	t.Run("update of another actor's note", func(t *testing.T) {
		// Alice's real note is in the thread first.
		note := masto.Note("alice", "a1", postURL, "<p>Alices riktiga svar</p>", groupID)
		deliver(t, tg, masto, "alice", groupID+"/inbox", masto.Wrap("Create", "alice", note))
		act := rehost(t, "update-another-actors-note.json", map[string]string{
			"https://evil.example/profile/mallory": evil.ActorID("mallory"), "https://mastodon.example/users/alice": masto.ActorID("alice"),
			"https://mastodon.example/users/alice/statuses/110000000000000001": note["id"].(string)}, hosts)
		act["object"].(map[string]any)["id"] = note["id"]
		code, _, err := evil.Send(ctx, "mallory", groupID+"/inbox", act)
		if err != nil || code != 403 {
			t.Fatalf("forged Update answered %d %v", code, err)
		}
		n, err := tg.Store.RemoteNoteByIRI(ctx, note["id"].(string))
		if err != nil || !strings.Contains(n.ContentHTML, "Alices riktiga svar") || n.Version != 1 {
			t.Fatalf("note changed: %+v %v", n, err)
		}
	})
	t.Run("script injection", func(t *testing.T) {
		obj := rehost(t, "note-xss-script-javascript-links.json", map[string]string{
			"https://evil.example/users/mallory": evil.ActorID("mallory")}, hosts)
		obj["id"] = evil.ObjectID("xss")
		obj["attributedTo"] = evil.ActorID("mallory")
		obj["inReplyTo"] = postURL
		delete(obj, "replies")
		evil.Serve(obj["id"].(string), obj)
		it := deliver(t, tg, evil, "mallory", groupID+"/inbox", evil.Wrap("Create", "mallory", obj))
		if it.Status != store.InboxProcessed {
			t.Fatalf("%s %s", it.Status, it.Reason)
		}
		n, err := tg.Store.RemoteNoteByIRI(ctx, obj["id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		page := getBody(t, tg, postURL)
		for _, bad := range []string{"<script", "javascript:", "JaVaScRiPt", "onerror", "onload", "onmouseover", "<iframe", "<svg",
			"<form", "<input", "data:text/html", "style=", "alert(7)"} {
			if strings.Contains(strings.ToLower(n.ContentHTML+n.Summary+n.Attachments), strings.ToLower(bad)) {
				t.Errorf("stored note kept %q: %s | %s | %s", bad, n.ContentHTML, n.Summary, n.Attachments)
			}
			if i := strings.Index(page, "Hej grannar"); i >= 0 && strings.Contains(strings.ToLower(page[i:]), strings.ToLower(bad)) {
				t.Errorf("page shows %q", bad)
			}
		}
		if !strings.Contains(page, "Hej grannar") || n.Summary != "CW" {
			t.Errorf("text lost: summary %q", n.Summary)
		}
	})
}
