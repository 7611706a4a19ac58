package activitypub

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/go-fed/activity/streams"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.json")

var (
	t0 = time.Date(2025, 1, 7, 10, 0, 0, 0, time.UTC)
	t1 = time.Date(2025, 1, 8, 9, 30, 15, 0, time.FixedZone("CET", 3600))
)

const testPEM = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA0lP99/s5Vv+XbPdkeqIJ\n-----END PUBLIC KEY-----\n"

func testGroup() *Actor {
	g := "https://torget.example/g/sodermalm"
	return &Actor{
		ID: g, Type: "Group", PreferredUsername: "sodermalm", Name: "Södermalm",
		Summary: "<p>District group</p>", URL: g, Inbox: g + "/inbox", Outbox: g + "/outbox",
		Followers: g + "/followers", Following: g + "/following", Featured: g + "/featured",
		Moderators: g + "/moderators", SharedInbox: "https://torget.example/inbox",
		PublicKeyID: g + "#main-key", PublicKeyOwner: g, PublicKeyPEM: testPEM,
		IconURL: "https://torget.example/media/icon.png", IconMediaType: "image/png", IconName: "Logo: a green leaf",
		ImageURL: "https://torget.example/media/header.jpg", ImageMediaType: "image/jpeg", ImageName: "View over Södermalm",
		ManuallyApprovesFollowers: true, Discoverable: true, PostingRestrictedToMods: true,
		Published: t0, Fields: []PropertyValue{{Name: "Website", Value: `<a href="https://torget.example" rel="me">torget.example</a>`}},
		AlsoKnownAs: []string{"https://old.example/g/sodermalm"},
	}
}

func testNote() *Note {
	return &Note{
		ID: "https://torget.example/g/sodermalm/p/1", AttributedTo: "https://torget.example/g/sodermalm",
		Content: "<p>Meeting #tonight</p>", Language: "sv", Summary: "CW", URL: "https://torget.example/g/sodermalm/p/1",
		InReplyTo: "https://mastodon.example/users/alice/statuses/1", Context: "https://torget.example/g/sodermalm/c/1",
		Replies: "https://torget.example/g/sodermalm/p/1/replies",
		To:      []string{PublicIRI}, CC: []string{"https://torget.example/g/sodermalm/followers"},
		Tags: []Tag{{Type: "Hashtag", Href: "https://torget.example/tags/tonight", Name: "#tonight"}},
		Attachments: []Attachment{{Type: "Image", MediaType: "image/jpeg", URL: "https://torget.example/media/1.jpg",
			Name: "A park", Width: 640, Height: 480, Blurhash: "LEHV6nWB2yk8pyo0adR*.7kCMdnj"}},
		Published: t0, Updated: t1,
	}
}

var goldenCases = []struct {
	name   string
	encode func() ([]byte, error)
}{
	{"actor-group", func() ([]byte, error) { return EncodeActor(testGroup()) }},
	{"actor-application", func() ([]byte, error) {
		return EncodeActor(&Actor{ID: "https://torget.example/actor", Type: "Application", PreferredUsername: "torget.example",
			Inbox: "https://torget.example/actor/inbox", Outbox: "https://torget.example/actor/outbox",
			PublicKeyID: "https://torget.example/actor#main-key", PublicKeyOwner: "https://torget.example/actor", PublicKeyPEM: testPEM})
	}},
	{"note", func() ([]byte, error) { return EncodeNote(testNote()) }},
	{"note-minimal-single-to", func() ([]byte, error) {
		return EncodeNote(&Note{ID: "https://torget.example/g/sodermalm/p/2", AttributedTo: "https://torget.example/g/sodermalm",
			Content: "<p>hi</p>", To: []string{PublicIRI}, Published: t0})
	}},
	{"tombstone", func() ([]byte, error) {
		return EncodeTombstone(&Tombstone{ID: "https://torget.example/g/sodermalm/p/3", FormerType: "Note", Deleted: t1})
	}},
	{"create-note", func() ([]byte, error) {
		n := testNote()
		return EncodeActivity(&Activity{ID: n.ID + "/create", Type: "Create", Actor: n.AttributedTo, Object: n, To: n.To, CC: n.CC, Published: t0})
	}},
	{"accept-follow", func() ([]byte, error) {
		f := &Activity{ID: "https://mastodon.example/users/alice#follows/1", Type: "Follow",
			Actor: "https://mastodon.example/users/alice", Object: "https://torget.example/g/sodermalm"}
		return EncodeActivity(&Activity{ID: "https://torget.example/g/sodermalm/accept/1", Type: "Accept",
			Actor: "https://torget.example/g/sodermalm", Object: f, To: []string{"https://mastodon.example/users/alice"}})
	}},
	{"announce-note-iri", func() ([]byte, error) {
		return EncodeActivity(&Activity{ID: "https://torget.example/g/sodermalm/announce/1", Type: "Announce",
			Actor: "https://torget.example/g/sodermalm", Object: "https://mastodon.example/users/alice/statuses/1",
			To: []string{PublicIRI}, CC: []string{"https://torget.example/g/sodermalm/followers"}, Published: t0})
	}},
	{"delete-tombstone", func() ([]byte, error) {
		return EncodeActivity(&Activity{ID: "https://torget.example/g/sodermalm/p/3#delete", Type: "Delete",
			Actor: "https://torget.example/g/sodermalm", Object: &Tombstone{ID: "https://torget.example/g/sodermalm/p/3"},
			To: []string{PublicIRI}})
	}},
	{"update-group", func() ([]byte, error) {
		g := testGroup()
		return EncodeActivity(&Activity{ID: g.ID + "#update-1", Type: "Update", Actor: g.ID, Object: g, To: []string{PublicIRI}})
	}},
	{"announce-raw", func() ([]byte, error) {
		raw := json.RawMessage(`{"@context":"https://www.w3.org/ns/activitystreams","id":"https://mastodon.example/users/alice/statuses/1","type":"Note","to":"https://www.w3.org/ns/activitystreams#Public","content":"x"}`)
		return EncodeActivity(&Activity{ID: "https://torget.example/g/sodermalm/announce/2", Type: "Announce",
			Actor: "https://torget.example/g/sodermalm", Object: raw, To: []string{PublicIRI}})
	}},
	{"emojireact-unknown-type", func() ([]byte, error) {
		return EncodeActivity(&Activity{ID: "https://torget.example/g/sodermalm/react/1", Type: "EmojiReact",
			Actor: "https://torget.example/g/sodermalm", Object: "https://mastodon.example/users/alice/statuses/1", To: []string{PublicIRI}})
	}},
	{"collection-paged", func() ([]byte, error) {
		return EncodeCollection(&OrderedCollection{ID: "https://torget.example/g/sodermalm/outbox", TotalItems: 42,
			First: "https://torget.example/g/sodermalm/outbox?page=1", Last: "https://torget.example/g/sodermalm/outbox?page=5"})
	}},
	{"collection-inline-empty", func() ([]byte, error) {
		return EncodeCollection(&OrderedCollection{ID: "https://torget.example/g/sodermalm/moderators", InlineItems: true})
	}},
	{"collection-inline", func() ([]byte, error) {
		return EncodeCollection(&OrderedCollection{ID: "https://torget.example/g/sodermalm/moderators", TotalItems: 1,
			Items: []json.RawMessage{json.RawMessage(`"https://torget.example/u/anna"`)}})
	}},
	{"collection-page", func() ([]byte, error) {
		return EncodeCollectionPage(&OrderedCollectionPage{ID: "https://torget.example/g/sodermalm/outbox?page=2",
			PartOf: "https://torget.example/g/sodermalm/outbox", Next: "https://torget.example/g/sodermalm/outbox?page=3",
			Prev: "https://torget.example/g/sodermalm/outbox?page=1", TotalItems: 42,
			Items: []json.RawMessage{
				json.RawMessage(`{"@context":"https://www.w3.org/ns/activitystreams","id":"https://torget.example/g/sodermalm/announce/1","type":"Announce","actor":"https://torget.example/g/sodermalm","object":"https://mastodon.example/users/alice/statuses/1","to":"https://www.w3.org/ns/activitystreams#Public"}`),
				json.RawMessage(`"https://torget.example/g/sodermalm/announce/0"`),
			}})
	}},
	{"collection-page-empty", func() ([]byte, error) {
		return EncodeCollectionPage(&OrderedCollectionPage{ID: "https://torget.example/g/sodermalm/outbox?page=9",
			PartOf: "https://torget.example/g/sodermalm/outbox"})
	}},
}

func TestGolden(t *testing.T) {
	for _, tt := range goldenCases {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.encode()
			if err != nil {
				t.Fatal(err)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, b, "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			path := filepath.Join("testdata", "golden", tt.name+".json")
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Errorf("%s differs from golden:\n%s", path, pretty.String())
			}
		})
	}
}

func TestEncodeInvariants(t *testing.T) {
	wantCtx := []any{ActivityStreamsContext, SecurityContext, documentContext()[2]}
	wantCtxJSON, _ := json.Marshal(wantCtx)
	for _, tt := range goldenCases {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.encode()
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatal(err)
			}
			ctx, _ := json.Marshal(m["@context"])
			if !bytes.Equal(ctx, wantCtxJSON) {
				t.Errorf("@context = %s", ctx)
			}
			if _, err := streams.ToType(context.Background(), m); err != nil && tt.name != "emojireact-unknown-type" {
				t.Errorf("streams.ToType: %v", err)
			}
			checkArrays(t, m, true)
		})
	}
}

// checkArrays asserts that to/cc/tag/attachment/orderedItems are arrays at
// every level and that only the top level has @context.
func checkArrays(t *testing.T, v any, top bool) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x["@context"]; ok && !top {
			t.Errorf("embedded object %v has @context", x["id"])
		}
		for _, k := range arrayKeys {
			if e, ok := x[k]; ok {
				if _, isArr := e.([]any); !isArr {
					t.Errorf("%s is %T, want array", k, e)
				}
			}
		}
		for k, e := range x {
			if k != "@context" {
				checkArrays(t, e, false)
			}
		}
	case []any:
		for _, e := range x {
			checkArrays(t, e, false)
		}
	}
}

func TestEncodeGroupActor(t *testing.T) {
	g := testGroup()
	b, err := EncodeActor(g)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	pk, _ := m["publicKey"].(map[string]any)
	if pk["id"] != g.PublicKeyID || pk["owner"] != g.ID || pk["publicKeyPem"] != g.PublicKeyPEM {
		t.Errorf("publicKey = %v", m["publicKey"])
	}
	if ep, _ := m["endpoints"].(map[string]any); ep["sharedInbox"] != g.SharedInbox {
		t.Errorf("endpoints = %v", m["endpoints"])
	}
	if m["manuallyApprovesFollowers"] != true || m["featured"] != g.Featured || m["attributedTo"] != g.Moderators {
		t.Errorf("manuallyApprovesFollowers %v featured %v attributedTo %v", m["manuallyApprovesFollowers"], m["featured"], m["attributedTo"])
	}
	if m["published"] != "2025-01-07T10:00:00Z" {
		t.Errorf("published = %v", m["published"])
	}

	back, err := DecodeActor(b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, g) {
		t.Errorf("round trip:\n got %+v\nwant %+v", back, g)
	}
}

func TestEncodeNoteFields(t *testing.T) {
	b, err := EncodeNote(testNote())
	if err != nil {
		t.Fatal(err)
	}
	m, err := DecodeObject(b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if cm, _ := m["contentMap"].(map[string]any); cm["sv"] != m["content"] {
		t.Errorf("contentMap = %v", m["contentMap"])
	}
	if m["sensitive"] != true || m["updated"] != "2025-01-08T08:30:15Z" {
		t.Errorf("sensitive %v updated %v", m["sensitive"], m["updated"])
	}
	// A Create we publish passes our own inbox checks.
	n := testNote()
	b, err = EncodeActivity(&Activity{ID: n.ID + "/create", Type: "Create", Actor: n.AttributedTo, Object: n, To: n.To})
	if err != nil {
		t.Fatal(err)
	}
	in, err := DecodeActivity(b, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckOrigins(in); err != nil {
		t.Fatal(err)
	}
}

func TestEncodeErrors(t *testing.T) {
	if _, err := EncodeActor(&Actor{ID: "https://a.example/u", Type: "Note", Inbox: "https://a.example/i"}); err == nil {
		t.Error("EncodeActor accepted type Note")
	}
	if _, err := EncodeActivity(&Activity{Type: "Create", Actor: "https://a.example/u", Object: 42}); err == nil {
		t.Error("EncodeActivity accepted an int object")
	}
	if _, err := EncodeCollectionPage(&OrderedCollectionPage{ID: "https://a.example/p", Items: []json.RawMessage{json.RawMessage(`1`)}}); err == nil {
		t.Error("EncodeCollectionPage accepted a number item")
	}
}

func BenchmarkDecodeActivity(b *testing.B) {
	body := readFixture(b, "mastodon/create-note.json")
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := DecodeActivity(body, Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeActor(b *testing.B) {
	g := testGroup()
	for b.Loop() {
		if _, err := EncodeActor(g); err != nil {
			b.Fatal(err)
		}
	}
}
