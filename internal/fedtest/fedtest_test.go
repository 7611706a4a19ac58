package fedtest

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/torget/torget/internal/fedtest/mastosig"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func pair(t *testing.T, a, b Options) (*Server, *Server) {
	t.Helper()
	A := NewServer(t, a)
	B := NewServer(t, b)
	return A, B
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestSignedFollowVerified(t *testing.T) {
	A, B := pair(t, Options{Users: []string{"alice", "amy"}, RequireSignedFetch: true}, Options{Users: []string{"bob"}})
	follow := A.Follow("amy", B.ActorID("bob"))
	code, body, err := A.Send(ctx(t), "amy", B.Inbox("bob"), follow)
	if err != nil || code != http.StatusAccepted {
		t.Fatalf("Send: %d %s %v", code, body, err)
	}
	d := B.WaitFor(t, 5*time.Second, func(d Delivery) bool { return d.Type == "Follow" })
	if !d.Verified || d.VerifyErr != "" || d.KeyID != A.KeyID("amy") || d.Path != "/users/bob/inbox" || d.Status != 202 {
		t.Fatalf("delivery: %+v", d)
	}
	if d.Activity["id"] != follow["id"] || d.Activity["object"] != B.ActorID("bob") {
		t.Fatalf("activity: %v", d.Activity)
	}
	// Second delivery to the shared inbox uses the key cache.
	undo := A.Undo("amy", follow)
	if code, body, _ := A.Send(ctx(t), "amy", B.SharedInbox(), undo); code != 202 {
		t.Fatalf("Undo: %d %s", code, body)
	}
	if got := undo["id"]; got != follow["id"].(string)+"/undo" {
		t.Fatalf("undo id %v", got)
	}
	if n := B.Count(func(d Delivery) bool { return d.Verified }); n != 2 {
		t.Fatalf("verified count %d", n)
	}
}

func TestGoToSocialFlavourVerified(t *testing.T) {
	A, B := pair(t, Options{Software: "gotosocial", RequireSignedFetch: true}, Options{})
	if !strings.HasSuffix(A.KeyID("alice"), "/users/alice/main-key") {
		t.Fatalf("key id %s", A.KeyID("alice"))
	}
	req, err := A.newSignedRequest(ctx(t), "alice", "POST", B.Inbox("alice"), []byte(`{}`), signOpts{})
	if err != nil || !strings.Contains(req.Header.Get("Signature"), `algorithm="hs2019"`) {
		t.Fatalf("signature %q %v", req.Header.Get("Signature"), err)
	}
	if code, body, err := A.Send(ctx(t), "alice", B.Inbox("alice"), A.UpdateSelf("alice")); code != 202 {
		t.Fatalf("Send: %d %s %v", code, body, err)
	}
	d := B.Received()[0]
	if !d.Verified || d.Type != "Update" {
		t.Fatalf("%+v", d)
	}
}

func TestRejections(t *testing.T) {
	A, B := pair(t, Options{Users: []string{"alice", "mallory"}}, Options{})
	follow := A.Follow("alice", B.ActorID("alice"))
	good, _ := json.Marshal(follow)
	tampered := []byte(strings.Replace(string(good), `"Follow"`, `"Block"`, 1))
	cases := []struct {
		name    string
		user    string
		act     any
		o       signOpts
		wantErr string
	}{
		{"tampered body", "alice", follow, signOpts{body: tampered}, "Digest"},
		{"date two hours old", "alice", follow, signOpts{date: time.Now().Add(-2 * time.Hour)}, "Date"},
		{"date two hours ahead", "alice", follow, signOpts{date: time.Now().Add(2 * time.Hour)}, "Date"},
		{"digest not signed", "alice", follow, signOpts{headers: []string{"(request-target)", "host", "date"}}, "digest"},
		{"host not signed", "alice", follow, signOpts{headers: []string{"(request-target)", "date", "digest"}}, "host"},
		{"unknown algorithm", "alice", follow, signOpts{alg: "rsa-sha512"}, "algorithm"},
		{"signed with another key", "alice", follow, signOpts{keyOf: "mallory"}, "does not verify"},
		{"actor is not the signer", "mallory", follow, signOpts{}, "not the key owner"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(B.Received())
			code, body, err := A.send(ctx(t), c.user, B.Inbox("alice"), c.act, c.o)
			if err != nil || code != http.StatusUnauthorized {
				t.Fatalf("got %d %s %v, want 401", code, body, err)
			}
			got := B.Received()
			if len(got) != before+1 {
				t.Fatalf("not recorded: %d deliveries", len(got))
			}
			d := got[len(got)-1]
			if d.Verified || d.Status != 401 || !strings.Contains(d.VerifyErr, c.wantErr) {
				t.Fatalf("delivery %+v, want error containing %q", d, c.wantErr)
			}
		})
	}
	// Unsigned POST.
	resp, err := B.HTTPClient().Post(B.SharedInbox(), ActivityJSON, strings.NewReader(string(good)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("unsigned POST: %d", resp.StatusCode)
	}
	// Unknown user's inbox.
	if code, _, _ := A.Send(ctx(t), "alice", B.Inbox("nobody"), follow); code != 404 {
		t.Fatalf("unknown inbox: %d", code)
	}
}

func TestWebFinger(t *testing.T) {
	A, B := pair(t, Options{}, Options{Users: []string{"bob"}})
	jrd, err := A.WebFinger(ctx(t), B.Acct("bob"))
	if err != nil {
		t.Fatal(err)
	}
	if jrd["subject"] != "acct:"+B.Acct("bob") {
		t.Fatalf("subject %v", jrd["subject"])
	}
	found := false
	for _, l := range jrd["links"].([]any) {
		m := l.(map[string]any)
		if m["rel"] == "self" && m["type"] == ActivityJSON && m["href"] == B.ActorID("bob") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no self link: %v", jrd)
	}
	if _, err := A.WebFinger(ctx(t), "nobody@"+B.Host); err == nil {
		t.Fatal("unknown user resolved")
	}
	resp, err := A.HTTPClient().Get(B.URL + "/.well-known/webfinger?resource=acct%3Abob%40" + strings.Replace(B.Host, ":", "%3A", 1))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/jrd+json") {
		t.Fatalf("percent-encoded: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestRequireSignedFetch(t *testing.T) {
	A, B := pair(t, Options{}, Options{Users: []string{"bob"}, RequireSignedFetch: true, NoSharedInbox: true})
	resp, err := A.HTTPClient().Get(B.ActorID("bob"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("unsigned GET: %d", resp.StatusCode)
	}
	code, ctype, body, err := A.SignedGet(ctx(t), "alice", B.ActorID("bob"))
	if err != nil || code != 200 || !strings.HasPrefix(ctype, ActivityJSON) {
		t.Fatalf("SignedGet: %d %q %v", code, ctype, err)
	}
	var actor map[string]any
	if err := json.Unmarshal(body, &actor); err != nil {
		t.Fatal(err)
	}
	pk := actor["publicKey"].(map[string]any)
	if actor["id"] != B.ActorID("bob") || actor["type"] != "Person" || actor["inbox"] != B.Inbox("bob") ||
		pk["id"] != B.KeyID("bob") || pk["owner"] != B.ActorID("bob") || pk["publicKeyPem"] != B.PublicKeyPEM("bob") ||
		!strings.HasPrefix(B.PublicKeyPEM("bob"), "-----BEGIN PUBLIC KEY-----") {
		t.Fatalf("actor: %s", body)
	}
	if _, ok := actor["endpoints"]; ok {
		t.Fatalf("NoSharedInbox but endpoints present: %s", body)
	}
	if code, _, _, _ := A.SignedGet(ctx(t), "alice", B.ActorID("nobody")); code != 404 {
		t.Fatalf("unknown actor: %d", code)
	}
	B.SetDisplayName("bob", "Bob B.")
	_, _, body, _ = A.SignedGet(ctx(t), "alice", B.ActorID("bob"))
	if !strings.Contains(string(body), `"name":"Bob B."`) {
		t.Fatalf("display name not updated: %s", body)
	}
}

func TestInboxStatus(t *testing.T) {
	A, B := pair(t, Options{}, Options{})
	B.SetInboxStatus(500)
	if code, _, _ := A.Send(ctx(t), "alice", B.SharedInbox(), A.DeleteSelf("alice")); code != 500 {
		t.Fatalf("status %d, want 500", code)
	}
	d := B.WaitFor(t, time.Second, func(d Delivery) bool { return d.Type == "Delete" })
	if !d.Verified || d.Status != 500 {
		t.Fatalf("%+v", d)
	}
	B.SetInboxStatus(0)
	if code, _, _ := A.Send(ctx(t), "alice", B.SharedInbox(), A.DeleteSelf("alice")); code != 202 {
		t.Fatalf("status %d after reset", code)
	}
}

func TestConcurrentDeliveries(t *testing.T) {
	A, B := pair(t, Options{}, Options{})
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			A.Send(ctx(t), "alice", B.SharedInbox(), A.Follow("alice", B.ActorID("alice")))
		}()
	}
	wg.Wait()
	if n := B.Count(func(d Delivery) bool { return d.Verified && d.Type == "Follow" }); n != 20 {
		t.Fatalf("verified %d of 20: %s", n, summarize(B.Received()))
	}
}

func TestParseSignature(t *testing.T) {
	p, err := mastosig.ParseSignature(`keyId="https://x/a#main-key",algorithm="hs2019", headers="(request-target) host date digest",signature="YWJj+/=="`)
	if err != nil {
		t.Fatal(err)
	}
	if p["keyid"] != "https://x/a#main-key" || p["algorithm"] != "hs2019" || p["signature"] != "YWJj+/==" ||
		len(p.SignedHeaders()) != 4 {
		t.Fatalf("%v", p)
	}
	if _, err := mastosig.ParseSignature(`keyId="unterminated`); err == nil {
		t.Fatal("unterminated accepted")
	}
}

type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
}

func TestWaitForTimeoutSummary(t *testing.T) {
	A, B := pair(t, Options{}, Options{})
	A.Send(ctx(t), "alice", B.SharedInbox(), A.Follow("alice", B.ActorID("alice")))
	rec := &fatalRecorder{TB: t}
	B.WaitFor(rec, 50*time.Millisecond, func(d Delivery) bool { return d.Type == "Like" })
	if !strings.Contains(rec.msg, "received 1") || !strings.Contains(rec.msg, "Follow") {
		t.Fatalf("summary: %q", rec.msg)
	}
}
