package activitypub

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseIRI(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"https://mastodon.example/users/alice", true},
		{"http://ds9.lemmy.ml/u/lemmy_alpha", true},
		{"https://mastodon.example/users/alice#main-key", true},
		{"https://mastodon.example@evil.example/users/alice", false},
		{"https://user:pw@evil.example/", false},
		{"ftp://mastodon.example/x", false},
		{"/users/alice", false},
		{"mailto:alice@mastodon.example", false},
		{"https:///nohost", false},
		{"", false},
		{"https://[::1", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseIRI(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseIRI(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
		})
	}
}

func TestSameOriginAndHost(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{"https://mastodon.example/users/alice", "https://MASTODON.example/x#y", true},
		{"https://mastodon.example/users/alice", "http://mastodon.example/users/alice", false},
		{"https://mastodon.example/a", "https://mastodon.example:8443/a", false},
		{"https://mastodon.example/a", "https://mastodon.example.evil.example/a", false},
		{"https://mastodon.example/a", "https://mastodon.example@evil.example/a", false},
		{"https://evil.example/c/17#https://mastodon.example/users/alice", "https://mastodon.example/users/alice", false},
		{"not a url", "not a url", false},
	}
	for _, tt := range tests {
		if got := SameOrigin(tt.a, tt.b); got != tt.same {
			t.Errorf("SameOrigin(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.same)
		}
	}
	if h := Host("https://Mastodon.Example:8443/users/alice"); h != "mastodon.example:8443" {
		t.Errorf("Host = %q", h)
	}
	if h := Host("https://a.example@evil.example/"); h != "" {
		t.Errorf("Host of userinfo IRI = %q, want empty", h)
	}
}

func TestReadLimited(t *testing.T) {
	if b, err := ReadLimited(strings.NewReader("12345"), 5); err != nil || string(b) != "12345" {
		t.Fatalf("exact limit: %q %v", b, err)
	}
	if _, err := ReadLimited(strings.NewReader("123456"), 5); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over limit: %v", err)
	}
}

func TestCheckJSON(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		depth int
		ok    bool
	}{
		{"flat", `{"a":1}`, 1, true},
		{"two", `{"a":[1]}`, 1, false},
		{"brackets in string", `{"a":"[[[[{{{{"}`, 1, true},
		{"escaped quote", `{"a":"\"[[[["}`, 1, true},
		{"escaped backslash", `{"a":"\\","b":[[1]]}`, 2, false},
		{"invalid utf8", "{\"a\":\"\xff\"}", 5, false},
		{"unbalanced", `}}`, 5, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckJSON([]byte(tt.body), tt.depth)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckJSON error = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
		})
	}
}

// realActivities are real payloads that must decode and, where they are
// same-origin, pass CheckOrigins.
var realActivities = []struct {
	file       string
	typ        string
	objType    string // type of the embedded object or activity, "" for an IRI
	originsOK  bool
	innerActor bool // the object is an embedded activity
}{
	{"lemmy/follow-community.json", "Follow", "", true, false},
	{"lemmy/undo-follow.json", "Undo", "Follow", true, true},
	{"lemmy/accept-follow.json", "Accept", "Follow", true, true},
	{"lemmy/create-note-comment.json", "Create", "Note", true, false},
	{"lemmy/create-page.json", "Create", "Page", true, false},
	{"lemmy/like-note.json", "Like", "", true, false},
	{"lemmy/dislike-page.json", "Dislike", "", true, false},
	{"lemmy/undo-like-note.json", "Undo", "Like", true, true},
	{"lemmy/delete-user.json", "Delete", "", true, false},
	{"lemmy/delete-remove-note-by-mod.json", "Delete", "", false, false},
	{"lemmy/announce-create-page.json", "Announce", "Create", true, true},
	{"lemmy/update-page.json", "Update", "Page", true, false},
	{"lemmy/update-group.json", "Update", "Group", false, false}, // moderator on another instance: the caller must refetch the Group
	{"lemmy/flag-report-page.json", "Flag", "", true, false},
	{"lemmy/block-user-in-community.json", "Block", "", true, false},
	{"lemmy/add-moderator.json", "Add", "", true, false},
	{"mastodon/create-note.json", "Create", "Note", true, false},
	{"mastodon/accept-follow.json", "Accept", "Follow", true, true},
	{"mastodon/reject-follow.json", "Reject", "Follow", true, true},
	{"mastodon/announce-boost.json", "Announce", "", true, false},
	{"mastodon/announce-private-embedded.json", "Announce", "Note", true, false},
	{"mastodon/undo-announce.json", "Undo", "Announce", true, true},
	{"mastodon/delete-person.json", "Delete", "Person", true, false},
	{"mastodon/undo-like-compact-object.json", "Undo", "", true, false},
	{"mastodon/flag-multiple-objects.json", "Flag", "", true, false},
	{"mastodon/flag-single-object.json", "Flag", "", true, false},
	{"mastodon/block.json", "Block", "", true, false},
	{"mastodon/undo-block.json", "Undo", "Block", true, true},
	{"gotosocial/create-note-wrapped.json", "Create", "Note", true, false},
	{"gotosocial/create-poll-vote.json", "Create", "Note", true, false},
	{"gotosocial/delete-public-reply-no-id.json", "Delete", "", true, false},
	{"gotosocial/announce-followers-only-self-boost.json", "Announce", "", true, false},
	{"gotosocial/flag.json", "Flag", "", true, false},
	{"gotosocial/move.json", "Move", "", true, false},
	{"gotosocial/docs-reject-reply.json", "Reject", "", true, false},
	{"pleroma/emojireact-unicode.json", "EmojiReact", "", true, false},
	{"misskey/like-custom-emoji-reaction.json", "Like", "", true, false},
	{"misskey/flag.json", "Flag", "", true, false},
}

func TestDecodeActivityReal(t *testing.T) {
	for _, tt := range realActivities {
		t.Run(tt.file, func(t *testing.T) {
			in, err := DecodeActivity(readFixture(t, tt.file), Limits{})
			if err != nil {
				t.Fatalf("DecodeActivity: %v", err)
			}
			if in.Type != tt.typ {
				t.Errorf("Type = %q, want %q", in.Type, tt.typ)
			}
			if in.Actor == "" || in.Raw == nil {
				t.Errorf("Actor %q, Raw nil=%v", in.Actor, in.Raw == nil)
			}
			if in.Object.Type != tt.objType {
				t.Errorf("Object.Type = %q, want %q", in.Object.Type, tt.objType)
			}
			if tt.innerActor != (in.Object.Activity != nil) {
				t.Errorf("Object.Activity = %v, want set=%v", in.Object.Activity, tt.innerActor)
			}
			err = CheckOrigins(in)
			if tt.originsOK && err != nil {
				t.Errorf("CheckOrigins: %v", err)
			}
			if !tt.originsOK && !errors.Is(err, ErrOrigin) {
				t.Errorf("CheckOrigins = %v, want ErrOrigin", err)
			}
		})
	}
}

func TestDecodeActivityFields(t *testing.T) {
	in, err := DecodeActivity(readFixture(t, "lemmy/undo-follow.json"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	f := in.Object.Activity
	if f == nil || f.Type != "Follow" || f.Actor != in.Actor || f.Object.ID == "" {
		t.Fatalf("inner Follow = %+v", f)
	}
	in, err = DecodeActivity(readFixture(t, "gotosocial/delete-public-reply-no-id.json"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if in.ID != "" || len(in.To) != 1 {
		t.Errorf("GtS Delete: ID %q, To %v (scalar to must become a one-element slice)", in.ID, in.To)
	}
	in, err = DecodeActivity(readFixture(t, "mastodon/create-note.json"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if in.Object.AttributedTo != in.Actor || !in.Object.Embedded || len(in.CC) != 2 {
		t.Errorf("Mastodon Create: %+v", in.Object)
	}
}

func TestDecodeActivityShapes(t *testing.T) {
	tests := []struct {
		name string
		body string
		want error
	}{
		{"minimal", `{"type":"Follow","actor":"https://a.example/u/1","object":"https://b.example/g/1"}`, nil},
		{"type one-element array", `{"type":["Follow"],"actor":"https://a.example/u/1","object":"https://b.example/g/1"}`, nil},
		{"actor one-element array", `{"type":"Follow","actor":["https://a.example/u/1"],"object":"https://b.example/g/1"}`, nil},
		{"actor object", `{"type":"Follow","actor":{"id":"https://a.example/u/1","type":"Person"},"object":"https://b.example/g/1"}`, nil},
		{"null to", `{"type":"Follow","actor":"https://a.example/u/1","object":"https://b.example/g/1","to":null}`, nil},
		{"unknown type", `{"type":"Wave","actor":"https://a.example/u/1"}`, nil},
		{"top-level array", `[]`, ErrMalformed},
		{"no type", `{"actor":"https://a.example/u/1"}`, ErrMalformed},
		{"numeric type", `{"type":1,"actor":"https://a.example/u/1"}`, ErrMalformed},
		{"two actors", `{"type":"Follow","actor":["https://a.example/u/1","https://a.example/u/2"]}`, ErrMalformed},
		{"null actor", `{"type":"Follow","actor":null}`, ErrMalformed},
		{"no actor", `{"type":"Follow","object":"https://b.example/g/1"}`, ErrMalformed},
		{"numeric object", `{"type":"Follow","actor":"https://a.example/u/1","object":1}`, ErrMalformed},
		{"null object", `{"type":"Follow","actor":"https://a.example/u/1","object":null}`, ErrMalformed},
		{"bool object", `{"type":"Follow","actor":"https://a.example/u/1","object":true}`, ErrMalformed},
		{"numeric to", `{"type":"Follow","actor":"https://a.example/u/1","object":"https://b.example/g/1","to":1}`, ErrMalformed},
		{"object to", `{"type":"Follow","actor":"https://a.example/u/1","object":"https://b.example/g/1","to":{"id":"x"}}`, ErrMalformed},
		{"numeric target", `{"type":"Add","actor":"https://a.example/u/1","object":"https://b.example/g/1","target":5}`, ErrMalformed},
		{"relative id", `{"type":"Follow","id":"/x","actor":"https://a.example/u/1","object":"https://b.example/g/1"}`, ErrMalformed},
		{"trailing data", `{"type":"Follow","actor":"https://a.example/u/1"} {}`, ErrMalformed},
		{"three activity levels", `{"type":"Announce","actor":"https://a.example/u/1","object":{"type":"Announce","actor":"https://a.example/u/1","object":{"type":"Announce","actor":"https://a.example/u/1","object":{"type":"Create","actor":"https://a.example/u/1","object":"https://a.example/n/1"}}}}`, ErrMalformed},
		{"two activity levels", `{"type":"Undo","actor":"https://a.example/u/1","object":{"type":"Announce","actor":"https://a.example/u/1","object":{"type":"Create","id":"https://a.example/c/1","actor":"https://a.example/u/1","object":"https://a.example/n/1"}}}`, nil},
		{"context 65", `{"@context":[` + strings.Repeat(`"x",`, 64) + `"x"],"type":"Follow","actor":"https://a.example/u/1"}`, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := DecodeActivity([]byte(tt.body), Limits{})
			if tt.want == nil {
				if err != nil {
					t.Fatalf("DecodeActivity: %v", err)
				}
				if in.Type == "" {
					t.Fatal("empty Type")
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("DecodeActivity = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDecodeActivityStripsNUL(t *testing.T) {
	body := `{"type":"Create","id":"https://a.example/c/1","actor":"https://a.example/u/1","object":{"type":"Note","id":"https://a.example/n/1","content":"a\u0000b","tag":[{"name":"x\u0000"}]},"summary":"\ud800"}`
	in, err := DecodeActivity([]byte(body), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if c := in.Object.Raw["content"]; c != "ab" {
		t.Errorf("content = %q", c)
	}
	if n := in.Object.Raw["tag"].([]any)[0].(map[string]any)["name"]; n != "x" {
		t.Errorf("tag name = %q", n)
	}
	if s := in.Raw["summary"]; s != "\uFFFD" {
		t.Errorf("summary = %q", s)
	}
}

// hostileCases lists every hostile/ fixture that is an activity, actor or
// object, and the result its README row asks for. A nil want means "accept
// (202)": it decodes and passes CheckOrigins; the rejection, if any, belongs
// to a later layer (local-actor check, dereferencing, sanitising), named in
// the why column.
var hostileCases = []struct {
	file string
	kind string // activity, actor, object
	want error
	why  string
}{
	{"accept-follow-from-wrong-actor.json", "activity", ErrOrigin, "Accept.actor must be the Follow's object"},
	{"actor-publickey-id-foreign-host.json", "actor", ErrOrigin, "key id on another host, owner not the actor"},
	{"announce-bogus-embedded-note.json", "activity", nil, "boost of a foreign object: caller refetches by id"},
	{"announce-claiming-local-group-actor.json", "activity", nil, "inbox must refuse local actors (needs the local host)"},
	{"announce-embedded-object-unresolvable-foreign-id.json", "activity", nil, "caller dereferences the embedded object"},
	{"context-huge-array.json", "activity", ErrMalformed, "@context over 64 entries"},
	{"create-embedded-object-foreign-domain.json", "activity", ErrOrigin, "object id on another origin"},
	{"create-missing-id.json", "activity", ErrMalformed, "Create with neither activity nor object id"},
	{"create-spoofed-attributedto.json", "activity", ErrOrigin, "attributedTo is not the actor"},
	{"deeply-nested-5000.json", "activity", ErrMalformed, "nesting depth"},
	{"delete-actor-by-another-actor.json", "activity", ErrOrigin, "Delete of another actor"},
	{"follow-object-non-local-actor.json", "activity", nil, "inbox ignores follows of non-local actors"},
	{"homoglyph-preferredusername.json", "actor", nil, "accepted; names are compared as code points"},
	{"id-fragment-tricks.json", "activity", ErrOrigin, "actor is a key id with a fragment"},
	{"id-userinfo-authority-confusion.json", "activity", ErrMalformed, "userinfo in the activity id"},
	{"invalid-utf8.json", "object", ErrMalformed, "not UTF-8"},
	{"lone-surrogate-nul-bidi.json", "actor", ErrMalformed, "bidi override in preferredUsername"},
	{"move-target-without-alsoknownas.json", "activity", nil, "caller fetches the target and checks alsoKnownAs"},
	{"note-xss-script-javascript-links.json", "object", nil, "accepted; HTML sanitised before storing"},
	{"origin-mismatch-activity-id-vs-actor.json", "activity", ErrOrigin, "activity id on another origin"},
	{"spoofed-object-fetched-id-mismatch.json", "object", nil, "fetcher compares id with the fetched URL"},
	{"type-array-ambiguous.json", "activity", ErrMalformed, "two types"},
	{"type-confusion-fields.json", "activity", ErrMalformed, "numbers where IRIs belong"},
	{"undo-someone-elses-follow.json", "activity", ErrOrigin, "Undo of another actor's Follow"},
	{"update-another-actors-note.json", "activity", ErrOrigin, "Update of an object on another origin"},
}

func TestHostile(t *testing.T) {
	for _, tt := range hostileCases {
		t.Run(tt.file, func(t *testing.T) {
			body := readFixture(t, filepath.Join("hostile", tt.file))
			start := time.Now()
			var err error
			switch tt.kind {
			case "activity":
				var in *Incoming
				in, err = DecodeActivity(body, Limits{})
				if err == nil {
					err = CheckOrigins(in)
				}
			case "actor":
				_, err = DecodeActor(body, Limits{})
			case "object":
				_, err = DecodeObject(body, Limits{})
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("took %v", d)
			}
			if tt.want == nil {
				if err != nil {
					t.Fatalf("%s: want accepted, got %v", tt.why, err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("%s: got %v, want %v", tt.why, err, tt.want)
			}
		})
	}
}

func TestHostileHugeContent(t *testing.T) {
	tmpl := readFixture(t, "hostile/huge-content-10mb.template.json")
	huge := bytes.Repeat([]byte("A"), 10<<20)
	body := bytes.ReplaceAll(tmpl, []byte(`{{EXPAND: \"A\" x 10485760}}`), huge)
	if len(body) < 20<<20 {
		t.Fatalf("template not expanded: %d bytes", len(body))
	}
	if _, err := DecodeObject(body, Limits{}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("DecodeObject = %v, want ErrTooLarge", err)
	}
	if _, err := DecodeActivity(body, Limits{}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("DecodeActivity = %v, want ErrTooLarge", err)
	}
	if _, err := ReadLimited(bytes.NewReader(body), DefaultLimits.MaxBytes); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ReadLimited = %v, want ErrTooLarge", err)
	}
}

func TestHostileDeepNesting(t *testing.T) {
	body := readFixture(t, "hostile/deeply-nested-5000.json")
	start := time.Now()
	// Even with a generous byte limit the depth check refuses it.
	_, err := DecodeActivity(body, Limits{MaxBytes: 10 << 20})
	if !errors.Is(err, ErrMalformed) {
		t.Fatalf("got %v, want ErrMalformed", err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("took %v", d)
	}
}

func TestHostileLoneSurrogateSanitised(t *testing.T) {
	m, err := DecodeObject(readFixture(t, "hostile/lone-surrogate-nul-bidi.json"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if m["name"] != "GhostAdmin" {
		t.Errorf("name = %q, want NUL stripped", m["name"])
	}
	if s, _ := m["summary"].(string); !strings.Contains(s, "\uFFFD") {
		t.Errorf("summary = %q, want U+FFFD", s)
	}
}

func TestHostileAnnounceLocalActorIsVisible(t *testing.T) {
	// CheckOrigins cannot know the local host; the inbox compares Host(actor).
	in, err := DecodeActivity(readFixture(t, "hostile/announce-claiming-local-group-actor.json"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if Host(in.Actor) != "torget.example" {
		t.Errorf("Host(actor) = %q", Host(in.Actor))
	}
}

var realActors = []struct {
	file string
	typ  string
}{
	{"mastodon/person.json", "Person"},
	{"mastodon/service-actor.json", "Service"},
	{"gotosocial/person.json", "Person"},
	{"gotosocial/application-bot.json", "Application"},
	{"gotosocial/person-aliased-and-moved.json", "Person"},
	{"pleroma/person.json", "Person"},
	{"misskey/person-misskey-io.json", "Person"},
	{"lemmy/person.json", "Person"},
	{"lemmy/group-community.json", "Group"},
	{"lemmy/instance-application.json", "Application"},
}

func TestDecodeActorReal(t *testing.T) {
	for _, tt := range realActors {
		t.Run(tt.file, func(t *testing.T) {
			a, err := DecodeActor(readFixture(t, tt.file), Limits{})
			if err != nil {
				t.Fatalf("DecodeActor: %v", err)
			}
			if a.Type != tt.typ || a.ID == "" || a.Inbox == "" {
				t.Errorf("got %+v", a)
			}
			if a.PublicKeyPEM == "" || a.PublicKeyOwner != a.ID || !SameOrigin(a.PublicKeyID, a.ID) {
				t.Errorf("key: id %q owner %q pem %d bytes", a.PublicKeyID, a.PublicKeyOwner, len(a.PublicKeyPEM))
			}
			if a.PreferredUsername == "" {
				t.Errorf("no preferredUsername")
			}
		})
	}
}

func TestDecodeActorFields(t *testing.T) {
	g, err := DecodeActor(readFixture(t, "lemmy/group-community.json"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if g.Moderators == "" || g.Featured == "" || g.SharedInbox == "" {
		t.Errorf("Lemmy group: %+v", g)
	}
	p, err := DecodeActor(readFixture(t, "gotosocial/person.json"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Featured == "" || p.Published.IsZero() || p.IconURL == "" {
		t.Errorf("GtS person: %+v", p)
	}
	m, err := DecodeActor(readFixture(t, "gotosocial/person-aliased-and-moved.json"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.AlsoKnownAs) == 0 {
		t.Errorf("alsoKnownAs missing: %+v", m)
	}
	mk, err := DecodeActor(readFixture(t, "misskey/person-misskey-io.json"), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if mk.SharedInbox == "" || !mk.Discoverable || mk.Published.IsZero() == false {
		t.Errorf("Misskey person: %+v", mk)
	}
}

func TestDecodeActorShapes(t *testing.T) {
	base := `"id":"https://a.example/u/1","inbox":"https://a.example/u/1/inbox","preferredUsername":"u1"`
	tests := []struct {
		name string
		body string
		want error
	}{
		{"no key", `{"type":"Person",` + base + `}`, nil},
		{"key array", `{"type":"Person",` + base + `,"publicKey":[{"id":"https://b.example/k","owner":"https://b.example/u"},{"id":"https://a.example/u/1#k","owner":"https://a.example/u/1","publicKeyPem":"P"}]}`, nil},
		{"wrong owner", `{"type":"Person",` + base + `,"publicKey":{"id":"https://a.example/u/1#k","owner":"https://a.example/u/2"}}`, ErrOrigin},
		{"foreign key id", `{"type":"Person",` + base + `,"publicKey":{"id":"https://b.example/u/1#k","owner":"https://a.example/u/1"}}`, ErrOrigin},
		{"note", `{"type":"Note",` + base + `}`, ErrMalformed},
		{"no inbox", `{"type":"Person","id":"https://a.example/u/1"}`, ErrMalformed},
		{"no id", `{"type":"Person","inbox":"https://a.example/u/1/inbox"}`, ErrMalformed},
		{"bidi", `{"type":"Person","id":"https://a.example/u/1","inbox":"https://a.example/i","preferredUsername":"a\u2066b"}`, ErrMalformed},
		{"lrm", `{"type":"Person","id":"https://a.example/u/1","inbox":"https://a.example/i","preferredUsername":"a\u200fb"}`, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeActor([]byte(tt.body), Limits{})
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("DecodeActor = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDecodeObject(t *testing.T) {
	if _, err := DecodeObject(readFixture(t, "gotosocial/note-with-mentions.json"), Limits{}); err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeObject(readFixture(t, "lemmy/note-comment-reply.json"), Limits{}); err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeObject([]byte(`{"type":"Note"}`), Limits{}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("id-less object: %v", err)
	}
	if _, err := DecodeObject([]byte(`{"type":["Note","Page"],"id":"https://a.example/n"}`), Limits{}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("two types: %v", err)
	}
}

func TestFedifyWrongType(t *testing.T) {
	// Not an error to decode nor a panic, whatever it is.
	body := readFixture(t, "fedify/wrong-type.json")
	_, _ = DecodeActivity(body, Limits{})
	_, _ = DecodeActor(body, Limits{})
}
