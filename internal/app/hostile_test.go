package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/torget/torget/activitypub/httpsig"
	"github.com/torget/torget/internal/fedtest"
	"github.com/torget/torget/internal/store"
)

// docServer serves arbitrary documents (hand-made actors) over TLS.
type docServer struct {
	*httptest.Server
	mu   sync.Mutex
	docs map[string]doc
}

type doc struct {
	ctype string
	body  []byte
}

func newDocServer(t *testing.T) *docServer {
	d := &docServer{docs: map[string]doc{}}
	d.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.mu.Lock()
		dd, ok := d.docs[r.URL.Path]
		d.mu.Unlock()
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/inbox") {
			w.WriteHeader(http.StatusAccepted) // a sink for our Accepts
			return
		}
		if !ok || r.Method != http.MethodGet {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", dd.ctype)
		w.Write(dd.body)
	}))
	t.Cleanup(d.Close)
	return d
}

func (d *docServer) put(path, ctype string, body []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.docs[path] = doc{ctype, body}
}

// signedPost POSTs body to url signed with key under keyID.
func signedPost(t *testing.T, pool *x509.CertPool, url, keyID string, key *rsa.PrivateKey, body []byte) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/activity+json")
	if err := httpsig.Sign(req, body, keyID, key, time.Now()); err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 20 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func pubPEM(k *rsa.PrivateKey) string {
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// The hostile payloads (copied from ../shared/fixtures/fediverse/hostile/,
// hosts rewritten onto the in-process fake servers) are refused with the
// status the fixture README gives, change nothing, and never panic.
func TestHostilePayloads(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	g := tg.group(t, "sodermalm", false)
	evil := fedtest.NewServer(t, fedtest.Options{Users: []string{"mallory", "admin", "ghost"}, RootCAs: tg.Pool})
	masto := fedtest.NewServer(t, fedtest.Options{Users: []string{"alice", "bob"}, RootCAs: tg.Pool})
	docs := newDocServer(t)
	groupID := tg.Base + "/groups/sodermalm"
	inbox := groupID + "/inbox"

	// Alice follows: the hostile Undo and Delete below must not remove her.
	aliceFollow := masto.Follow("alice", groupID)
	aliceFollow["id"] = masto.ActorID("alice") + "#follows/8"
	if code, _, err := masto.Send(ctx, "alice", inbox, aliceFollow); err != nil || code != 202 {
		t.Fatalf("alice's follow: %d %v", code, err)
	}
	masto.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Accept" })

	rewrite := strings.NewReplacer(
		"https://torget.example/g/", tg.Base+"/groups/",
		"https://torget.example", tg.Base,
		"https://evil.example/u/", evil.URL+"/users/",
		"https://evil.example/c/fake", evil.URL+"/users/ghost",
		"https://evil.example", evil.URL,
		"http://mastodon.example.org", masto.URL,
		"https://mastodon.example/", masto.URL+"/",
		"http://remote.example", docs.URL,
		"https://patch.cx", docs.URL,
	)
	load := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("..", "..", "activitypub", "testdata", "hostile", name))
		if err != nil {
			t.Fatal(err)
		}
		return []byte(rewrite.Replace(string(b)))
	}
	inboxItems := func() int64 {
		c, err := tg.Store.InboxCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, v := range c {
			n += v
		}
		return n
	}
	followers := func() int64 {
		n, _ := tg.Store.CountFollowers(ctx, g.ID, store.FollowAccepted)
		return n
	}

	type sender func(body []byte) int
	as := func(peer *fedtest.Server, user string) sender {
		return func(body []byte) int {
			code, _, err := peer.SendRaw(ctx, user, inbox, body)
			if err != nil {
				t.Fatal(err)
			}
			return code
		}
	}
	tests := []struct {
		file   string
		send   sender
		status int
		stores bool // stored (as ignored) rather than refused
	}{
		{"origin-mismatch-activity-id-vs-actor.json", as(evil, "mallory"), 403, false},
		{"create-embedded-object-foreign-domain.json", as(evil, "mallory"), 403, false},
		{"create-spoofed-attributedto.json", as(evil, "mallory"), 403, false},
		{"undo-someone-elses-follow.json", as(evil, "mallory"), 403, false},
		{"delete-actor-by-another-actor.json", as(evil, "mallory"), 403, false},
		{"update-another-actors-note.json", as(evil, "mallory"), 403, false},
		{"accept-follow-from-wrong-actor.json", as(evil, "mallory"), 403, false},
		{"announce-claiming-local-group-actor.json", as(evil, "mallory"), 403, false},
		{"create-missing-id.json", as(evil, "mallory"), 400, false},
		{"id-userinfo-authority-confusion.json", as(masto, "alice"), 400, false},
		{"id-fragment-tricks.json", as(masto, "alice"), 403, false},
		{"type-array-ambiguous.json", as(evil, "mallory"), 400, false},
		{"type-confusion-fields.json", as(evil, "mallory"), 400, false},
		{"context-huge-array.json", as(masto, "alice"), 400, false},
		{"deeply-nested-5000.json", as(evil, "mallory"), 400, false},
		{"invalid-utf8.json", as(evil, "mallory"), 400, false},
		{"follow-object-non-local-actor.json", as(masto, "alice"), 202, true},
		{"move-target-without-alsoknownas.json", as(masto, "alice"), 202, true},
		{"announce-embedded-object-unresolvable-foreign-id.json", as(evil, "ghost"), 202, true},
		// Signed by bob, claims mastodon's admin as actor.
		{"announce-bogus-embedded-note.json", as(masto, "bob"), 403, false},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".json"), func(t *testing.T) {
			before := inboxItems()
			got := tt.send(load(tt.file))
			if got != tt.status {
				t.Fatalf("status %d, want %d", got, tt.status)
			}
			stored := inboxItems() - before
			if tt.stores != (stored == 1) || stored > 1 {
				t.Fatalf("stored %d inbox items (want stored=%v)", stored, tt.stores)
			}
		})
	}

	t.Run("huge-content-10mb", func(t *testing.T) {
		b := load("huge-content-10mb.template.json")
		big := strings.Repeat("A", 10<<20)
		b = []byte(strings.NewReplacer("{{EXPAND_10MB}}", big, "{{EXPAND_10MB_CONTENT}}", big).Replace(string(b)))
		if !bytes.Contains(b, []byte(big[:1000])) {
			// The placeholder names differ: expand every {{…}} placeholder.
			s := string(b)
			for {
				i := strings.Index(s, "{{")
				j := strings.Index(s, "}}")
				if i < 0 || j < i {
					break
				}
				s = s[:i] + big + s[j+2:]
			}
			b = []byte(s)
		}
		before := inboxItems()
		if got := as(evil, "mallory")(b); got != http.StatusRequestEntityTooLarge {
			t.Fatalf("status %d, want 413", got)
		}
		if inboxItems() != before {
			t.Fatal("a 10 MiB activity was stored")
		}
	})

	t.Run("signed-request-keyid-foreign-host", func(t *testing.T) {
		var env struct {
			Body json.RawMessage `json:"body"`
		}
		if err := json.Unmarshal(load("signed-request-keyid-foreign-host.json"), &env); err != nil {
			t.Fatal(err)
		}
		// Body claims alice on mastodon; the signature is mallory's (evil).
		if got := as(evil, "mallory")(env.Body); got != 403 {
			t.Fatalf("status %d, want 403", got)
		}
		// Signed with mallory's key but claiming alice's key id: 401.
		key, _ := rsa.GenerateKey(rand.Reader, 2048)
		if got := signedPost(t, tg.Pool, inbox, masto.KeyID("alice"), key, env.Body); got != 401 {
			t.Fatalf("forged key id: status %d, want 401", got)
		}
	})

	// Actor documents: the signer's actor is one of these.
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	serveActor := func(t *testing.T, file, ctype string) (actorID, keyID string) {
		var m map[string]any
		if err := json.Unmarshal(load(file), &m); err != nil {
			t.Fatal(err)
		}
		actorID, _ = m["id"].(string)
		if pk, ok := m["publicKey"].(map[string]any); ok {
			pk["publicKeyPem"] = pubPEM(key)
			keyID, _ = pk["id"].(string)
		}
		b, _ := json.Marshal(m)
		path := strings.TrimPrefix(actorID, docs.URL)
		docs.put(path, ctype, b)
		return actorID, keyID
	}
	followFrom := func(actorID string) []byte {
		b, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
			"id": actorID + "#follow-1", "type": "Follow", "actor": actorID, "object": groupID})
		return b
	}
	t.Run("actor-publickey-id-foreign-host", func(t *testing.T) {
		actorID, keyID := serveActor(t, "actor-publickey-id-foreign-host.json", "application/activity+json")
		before := inboxItems()
		for _, kid := range []string{keyID, actorID + "#main-key"} {
			if got := signedPost(t, tg.Pool, inbox, kid, key, followFrom(actorID)); got != 401 {
				t.Fatalf("key id %s: status %d, want 401", kid, got)
			}
		}
		if inboxItems() != before {
			t.Fatal("stored an activity signed with a hijacked key id")
		}
	})
	t.Run("lone-surrogate-nul-bidi", func(t *testing.T) {
		m := map[string]any{}
		_ = json.Unmarshal(load("lone-surrogate-nul-bidi.json"), &m)
		id, _ := m["id"].(string)
		id = strings.Replace(id, evil.URL, docs.URL, 1)
		raw := strings.ReplaceAll(string(load("lone-surrogate-nul-bidi.json")), evil.URL, docs.URL)
		var mm map[string]any
		_ = json.Unmarshal([]byte(raw), &mm)
		if pk, ok := mm["publicKey"].(map[string]any); ok {
			pk["publicKeyPem"] = pubPEM(key)
		}
		b, _ := json.Marshal(mm)
		docs.put(strings.TrimPrefix(id, docs.URL), "application/activity+json", b)
		if got := signedPost(t, tg.Pool, inbox, id+"#main-key", key, followFrom(id)); got != 401 {
			t.Fatalf("status %d, want 401 (actor with bidi controls in its username is refused)", got)
		}
	})
	t.Run("spoofed-object-fetched-id-mismatch", func(t *testing.T) {
		// A document served as plain JSON (an "uploaded file") is no key.
		b := load("spoofed-object-fetched-id-mismatch.json")
		docs.put("/media/spoof.json", "application/json", b)
		if got := signedPost(t, tg.Pool, inbox, docs.URL+"/media/spoof.json#main-key", key, followFrom(docs.URL+"/media/spoof.json")); got != 401 {
			t.Fatalf("status %d, want 401", got)
		}
	})
	t.Run("homoglyph-preferredusername", func(t *testing.T) {
		raw := strings.ReplaceAll(string(load("homoglyph-preferredusername.json")), evil.URL, docs.URL)
		var m map[string]any
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			t.Fatal(err)
		}
		id := m["id"].(string)
		pk := m["publicKey"].(map[string]any)
		pk["publicKeyPem"] = pubPEM(key)
		b, _ := json.Marshal(m)
		docs.put(strings.TrimPrefix(id, docs.URL), "application/activity+json", b)
		// Accepted like any actor: names give no privileges.
		if got := signedPost(t, tg.Pool, inbox, pk["id"].(string), key, followFrom(id)); got != 202 {
			t.Fatalf("status %d, want 202", got)
		}
	})

	// Alice is still following after all of it, and no forged Accept went out.
	waitUntil(t, 5*time.Second, "inbox processed", func() bool {
		c, _ := tg.Store.InboxCounts(ctx)
		return c[store.InboxPending] == 0
	})
	if _, err := tg.Store.Follower(ctx, g.ID, masto.ActorID("alice")); err != nil {
		t.Fatalf("alice lost her follow: %v", err)
	}
	if n := followers(); n != 2 { // alice + the homoglyph actor
		t.Fatalf("followers = %d, want 2", n)
	}
	if n := evil.Count(func(d fedtest.Delivery) bool { return d.Type == "Accept" }); n != 0 {
		t.Fatalf("%d Accepts sent to the evil server", n)
	}
}
