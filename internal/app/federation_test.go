package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/fedtest"
	"github.com/torget/torget/internal/store"
)

func objectOf(d fedtest.Delivery) map[string]any {
	o, _ := d.Activity["object"].(map[string]any)
	return o
}

func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// A fake Mastodon in authorized-fetch mode finds the group, follows it, is
// accepted, receives Create, Update and Delete, and after Undo nothing more.
func TestMastodonFollowsAndReceives(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	g := tg.group(t, "hagersten", false)
	m := fedtest.NewServer(t, fedtest.Options{Users: []string{"alice"}, RootCAs: tg.Pool, RequireSignedFetch: true})
	groupID := tg.Base + "/groups/hagersten"

	// Discovery: WebFinger gives the actor; the actor is a Group.
	jrd, err := m.WebFinger(ctx, "hagersten@"+tg.Domain)
	if err != nil {
		t.Fatal(err)
	}
	if jrd["subject"] != "acct:hagersten@"+tg.Domain {
		t.Fatalf("subject = %v", jrd["subject"])
	}
	self := ""
	for _, l := range jrd["links"].([]any) {
		l := l.(map[string]any)
		if l["rel"] == "self" && l["type"] == "application/activity+json" {
			self, _ = l["href"].(string)
		}
	}
	if self != groupID {
		t.Fatalf("self link %q, want %q", self, groupID)
	}
	code, ctype, body, err := m.SignedGet(ctx, "alice", groupID)
	if err != nil || code != 200 || !strings.HasPrefix(ctype, "application/activity+json") {
		t.Fatalf("actor GET: %d %s %v", code, ctype, err)
	}
	var actor map[string]any
	if err := json.Unmarshal(body, &actor); err != nil {
		t.Fatal(err)
	}
	pk := actor["publicKey"].(map[string]any)
	if actor["type"] != "Group" || actor["id"] != groupID || pk["owner"] != groupID ||
		!strings.Contains(pk["publicKeyPem"].(string), "BEGIN PUBLIC KEY") ||
		actor["endpoints"].(map[string]any)["sharedInbox"] != tg.Base+"/inbox" {
		t.Fatalf("actor document wrong: %s", body)
	}

	// Follow → Accept, signed by the group and verified by Mastodon's rules.
	follow := m.Follow("alice", groupID)
	if code, body, err := m.Send(ctx, "alice", groupID+"/inbox", follow); err != nil || code != http.StatusAccepted {
		t.Fatalf("Follow: %d %s %v", code, body, err)
	}
	acc := m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Accept" })
	if !acc.Verified {
		t.Fatalf("Accept not verified: %s", acc.VerifyErr)
	}
	if acc.Path != "/users/alice/inbox" || acc.KeyID != groupID+"#main-key" || acc.Activity["actor"] != groupID {
		t.Fatalf("Accept: path %s key %s actor %v", acc.Path, acc.KeyID, acc.Activity["actor"])
	}
	if o := objectOf(acc); o == nil || o["id"] != follow["id"] {
		t.Fatalf("Accept object %v, want the Follow %v", acc.Activity["object"], follow["id"])
	}
	// torget fetched alice's actor with a GET signed by its instance actor,
	// and the authorized-fetch server verified that signature.
	var instanceFetch bool
	for _, f := range m.Fetches() {
		if !f.Verified {
			t.Fatalf("a signed GET from torget failed verification: %+v", f)
		}
		instanceFetch = instanceFetch || f.KeyID == tg.Base+"/actor#main-key"
	}
	if !instanceFetch {
		t.Fatalf("no GET signed by the instance actor reached the peer: %+v", m.Fetches())
	}
	waitUntil(t, 5*time.Second, "follower stored", func() bool {
		n, _ := tg.Store.CountFollowers(ctx, g.ID, store.FollowAccepted)
		return n == 1
	})

	// Create at the shared inbox.
	_, postID, err := tg.Fed.Publish(ctx, "hagersten", federation.PostInput{Text: "Hej **Älvsjö**! #parkering", Summary: "trafik", Language: "sv"})
	if err != nil {
		t.Fatal(err)
	}
	cr := m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Create" })
	note := objectOf(cr)
	if !cr.Verified || cr.Path != "/inbox" {
		t.Fatalf("Create: verified=%v (%s) path=%s", cr.Verified, cr.VerifyErr, cr.Path)
	}
	if note["id"] != postID || note["attributedTo"] != groupID || !strings.Contains(note["content"].(string), "<strong>Älvsjö</strong>") ||
		note["summary"] != "trafik" || note["sensitive"] != true {
		t.Fatalf("note wrong: %v", note)
	}
	if !contains(strs(cr.Activity["to"]), "https://www.w3.org/ns/activitystreams#Public") || !contains(strs(cr.Activity["cc"]), groupID+"/followers") {
		t.Fatalf("addressing wrong: to=%v cc=%v", cr.Activity["to"], cr.Activity["cc"])
	}
	if cm, _ := note["contentMap"].(map[string]any); cm["sv"] == nil {
		t.Fatalf("contentMap lacks sv: %v", note["contentMap"])
	}
	// The object dereferences to the same Note.
	code, _, body, _ = m.SignedGet(ctx, "alice", postID)
	if code != 200 || !strings.Contains(string(body), `"id":"`+postID+`"`) {
		t.Fatalf("GET note: %d %s", code, body)
	}

	// Update.
	if _, err := tg.Fed.Edit(ctx, postID, federation.PostInput{Text: "Hej igen"}); err != nil {
		t.Fatal(err)
	}
	up := m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Update" })
	if un := objectOf(up); !up.Verified || un["id"] != postID || un["updated"] == nil || !strings.Contains(un["content"].(string), "Hej igen") {
		t.Fatalf("Update wrong: %v (%s)", up.Activity, up.VerifyErr)
	}

	// Delete, then the URL serves a Tombstone with 410.
	if err := tg.Fed.Delete(ctx, postID); err != nil {
		t.Fatal(err)
	}
	del := m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Delete" })
	if o := objectOf(del); !del.Verified || o["id"] != postID || o["type"] != "Tombstone" {
		t.Fatalf("Delete wrong: %v", del.Activity)
	}
	code, _, body, _ = m.SignedGet(ctx, "alice", postID)
	if code != http.StatusGone || !strings.Contains(string(body), "Tombstone") {
		t.Fatalf("GET deleted note: %d %s", code, body)
	}

	// Undo{Follow}: the follower goes, and the next post is not delivered.
	if code, body, err := m.Send(ctx, "alice", tg.Base+"/inbox", m.Undo("alice", follow)); err != nil || code != http.StatusAccepted {
		t.Fatalf("Undo: %d %s %v", code, body, err)
	}
	waitUntil(t, 5*time.Second, "follower removed", func() bool {
		n, _ := tg.Store.CountFollowers(ctx, g.ID, store.FollowAccepted)
		return n == 0
	})
	before := m.Count(func(d fedtest.Delivery) bool { return d.Type == "Create" })
	if _, _, err := tg.Fed.Publish(ctx, "hagersten", federation.PostInput{Text: "Efter avföljning"}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 5*time.Second, "queue drained", func() bool { return tg.drained(t) })
	time.Sleep(100 * time.Millisecond)
	if after := m.Count(func(d fedtest.Delivery) bool { return d.Type == "Create" }); after != before {
		t.Fatalf("received %d Creates after Undo, want %d", after, before)
	}
}

// With manual approval a Follow waits; approving sends Accept, rejecting Reject.
func TestManualApproval(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	g := tg.group(t, "forskola", true)
	m := fedtest.NewServer(t, fedtest.Options{Users: []string{"alice", "bob"}, RootCAs: tg.Pool})
	groupID := tg.Base + "/groups/forskola"
	for _, u := range []string{"alice", "bob"} {
		if code, body, err := m.Send(ctx, u, groupID+"/inbox", m.Follow(u, groupID)); err != nil || code != 202 {
			t.Fatalf("Follow by %s: %d %s %v", u, code, body, err)
		}
	}
	waitUntil(t, 5*time.Second, "two pending follows", func() bool {
		n, _ := tg.Store.CountFollowers(ctx, g.ID, store.FollowPending)
		return n == 2
	})
	if n := m.Count(func(d fedtest.Delivery) bool { return d.Type == "Accept" }); n != 0 {
		t.Fatalf("%d Accepts sent before approval", n)
	}
	if err := tg.Fed.Approve(ctx, "forskola", m.ActorID("alice")); err != nil {
		t.Fatal(err)
	}
	if err := tg.Fed.Reject(ctx, "forskola", m.ActorID("bob")); err != nil {
		t.Fatal(err)
	}
	a := m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Accept" })
	r := m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Reject" })
	if a.Path != "/users/alice/inbox" || r.Path != "/users/bob/inbox" || !a.Verified || !r.Verified {
		t.Fatalf("Accept to %s, Reject to %s", a.Path, r.Path)
	}
	if n, _ := tg.Store.CountFollowers(ctx, g.ID, store.FollowAccepted); n != 1 {
		t.Fatalf("accepted followers = %d, want 1", n)
	}
	if _, err := tg.Store.Follower(ctx, g.ID, m.ActorID("bob")); err == nil {
		t.Fatal("rejected follower still stored")
	}
}

// A post mentioning a resident tags, addresses and delivers to them, and
// links the mention, even though they do not follow the group.
func TestMentionIsTaggedAndDelivered(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	tg.group(t, "fritid", false)
	bob := fedtest.NewServer(t, fedtest.Options{Users: []string{"bob"}, RootCAs: tg.Pool, RequireSignedFetch: true})
	_, postID, err := tg.Fed.Publish(ctx, "fritid", federation.PostInput{Text: "Tack @bob@" + bob.Host + " och @ingen@" + bob.Host + "!"})
	if err != nil {
		t.Fatal(err)
	}
	cr := bob.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Create" })
	note := objectOf(cr)
	if !cr.Verified || note["id"] != postID {
		t.Fatalf("Create: verified=%v %v", cr.Verified, note["id"])
	}
	if !contains(strs(note["cc"]), bob.ActorID("bob")) {
		t.Fatalf("cc %v lacks the mentioned actor", note["cc"])
	}
	var found bool
	for _, tag := range note["tag"].([]any) {
		tag := tag.(map[string]any)
		if tag["type"] == "Mention" && tag["href"] == bob.ActorID("bob") && tag["name"] == "@bob@"+bob.Host {
			found = true
		}
		if tag["type"] == "Mention" && strings.Contains(tag["name"].(string), "ingen") {
			t.Fatalf("an unresolvable mention was tagged: %v", tag)
		}
	}
	if !found {
		t.Fatalf("no Mention tag for bob: %v", note["tag"])
	}
	if c := note["content"].(string); !strings.Contains(c, `<a href="`+bob.ActorID("bob")+`" class="u-url mention">@<span>bob</span></a>`) || !strings.Contains(c, "@ingen@") {
		t.Fatalf("content: %s", c)
	}
	// Deleting the post tells the mentioned actor too.
	if err := tg.Fed.Delete(ctx, postID); err != nil {
		t.Fatal(err)
	}
	bob.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Delete" && d.Verified })
}
