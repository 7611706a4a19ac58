package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/torget/torget/activitypub/httpsig"
	"github.com/torget/torget/internal/fedtest"
	"github.com/torget/torget/internal/store"
)

// GoToSocial signs with algorithm="hs2019" and key ids that are paths of
// their own (…/main-key), serving a stub that names the owner.
func TestGoToSocialStyleFollow(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	g := tg.group(t, "gts", false)
	gts := fedtest.NewServer(t, fedtest.Options{Users: []string{"zoe"}, Software: "gotosocial", RootCAs: tg.Pool, RequireSignedFetch: true})
	groupID := tg.Base + "/groups/gts"
	if code, body, err := gts.Send(ctx, "zoe", groupID+"/inbox", gts.Follow("zoe", groupID)); err != nil || code != 202 {
		t.Fatalf("Follow: %d %s %v", code, body, err)
	}
	acc := gts.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Accept" })
	if !acc.Verified {
		t.Fatalf("Accept not verified by the GoToSocial-style peer: %s", acc.VerifyErr)
	}
	a, err := tg.Store.RemoteActorByIRI(ctx, gts.ActorID("zoe"))
	if err != nil || a.KeyID != gts.KeyID("zoe") {
		t.Fatalf("cached actor %+v %v, want key id %s", a, err, gts.KeyID("zoe"))
	}
	if n, _ := tg.Store.CountFollowers(ctx, g.ID, store.FollowAccepted); n != 1 {
		t.Fatalf("followers = %d", n)
	}
}

// Fedify and Mastodon ≥ 4.5 sign with RFC 9421; we accept it.
func TestRFC9421SignedFollow(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	g := tg.group(t, "rfc", false)
	docs := newDocServer(t)
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	actorID := docs.URL + "/users/fedi"
	actor, _ := json.Marshal(map[string]any{
		"@context": []string{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
		"id":       actorID, "type": "Person", "preferredUsername": "fedi", "inbox": actorID + "/inbox",
		"publicKey": map[string]any{"id": actorID + "#main-key", "owner": actorID, "publicKeyPem": pubPEM(key)},
	})
	docs.put("/users/fedi", "application/activity+json", actor)
	body, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": actorID + "#follow-9421",
		"type": "Follow", "actor": actorID, "object": tg.Base + "/groups/rfc"})
	post := func(sign func(*http.Request) error) int {
		req, _ := http.NewRequest(http.MethodPost, tg.Base+"/groups/rfc/inbox", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/activity+json")
		if err := sign(req); err != nil {
			t.Fatal(err)
		}
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: tg.Pool}}}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	// A wrong key first: 401, so that a double-knocking peer falls back.
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	if code := post(func(r *http.Request) error {
		return httpsig.SignRFC9421(r, body, actorID+"#main-key", other, time.Now())
	}); code != 401 {
		t.Fatalf("RFC 9421 with the wrong key: %d, want 401", code)
	}
	if code := post(func(r *http.Request) error { return httpsig.SignRFC9421(r, body, actorID+"#main-key", key, time.Now()) }); code != 202 {
		t.Fatalf("RFC 9421 Follow: %d, want 202", code)
	}
	waitUntil(t, 5*time.Second, "follow accepted", func() bool {
		n, _ := tg.Store.CountFollowers(ctx, g.ID, store.FollowAccepted)
		return n == 1
	})
}
