package webfinger

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/url"
	"os"
	"strings"
	"testing"
)

func TestParseResource(t *testing.T) {
	tests := []struct {
		in   string
		want Resource
	}{
		{"acct:alice@example.com", Resource{User: "alice", Host: "example.com"}},
		{"ACCT:Alice@Example.COM", Resource{User: "Alice", Host: "example.com"}},
		{"alice@example.com", Resource{User: "alice", Host: "example.com"}},
		{"@alice@example.com", Resource{User: "alice", Host: "example.com"}},
		{"acct:Bob_1@localhost:8080", Resource{User: "Bob_1", Host: "localhost:8080"}},
		// One extra level of percent-encoding, as sent by some peers.
		{"acct%3Aalice%40example.com", Resource{User: "alice", Host: "example.com"}},
		{"acct%3acarol%40Social.Example.SE", Resource{User: "carol", Host: "social.example.se"}},
		{"https://example.com/users/alice", Resource{Host: "example.com", URL: "https://example.com/users/alice"}},
		{"https%3A%2F%2FExample.com%2Fusers%2Falice", Resource{Host: "example.com", URL: "https://Example.com/users/alice"}},
		{"http://example.com/@alice", Resource{Host: "example.com", URL: "http://example.com/@alice"}},
	}
	for _, tc := range tests {
		got, err := ParseResource(tc.in)
		if err != nil {
			t.Errorf("ParseResource(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseResource(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestParseResourceFromQuery(t *testing.T) {
	// What an incoming request looks like: ?resource=acct%3Aalice%40example.com
	q, err := url.ParseQuery("resource=acct%3AAlice%40example.com")
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseResource(q.Get("resource"))
	if err != nil || r.User != "Alice" || r.Host != "example.com" || r.Acct() != "acct:Alice@example.com" || !r.IsAcct() {
		t.Fatalf("got %+v, %v", r, err)
	}
}

func TestParseResourceInvalid(t *testing.T) {
	for _, in := range []string{
		"", "alice", "acct:alice", "acct:@example.com", "acct:alice@", "@", "%zz",
		"acct:al/ice@example.com", "acct:alice@exa/mple.com", "ftp://example.com/x",
		"https://", "https://user:pw@example.com/x", "acct:alice@host?x",
	} {
		if r, err := ParseResource(in); err == nil {
			t.Errorf("ParseResource(%q) = %+v, want error", in, r)
		}
	}
}

func TestSelfHref(t *testing.T) {
	j := JRD{Links: []Link{
		{Rel: "http://webfinger.net/rel/profile-page", Type: "text/html", Href: "https://x/@a"},
		{Rel: "self", Type: "text/html", Href: "https://x/html"},
		{Rel: "self", Type: `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, Href: "https://x/ld"},
		{Rel: "self", Type: "application/activity+json", Href: "https://x/as"},
	}}
	if got := j.SelfHref(); got != "https://x/ld" {
		t.Errorf("SelfHref = %q", got)
	}
	j.Links = j.Links[3:]
	if got := j.SelfHref(); got != "https://x/as" {
		t.Errorf("SelfHref = %q", got)
	}
	j.Links = []Link{{Rel: "self", Type: "application/ld+json", Href: "https://x/noprofile"}}
	if got := j.SelfHref(); got != "" {
		t.Errorf("SelfHref without profile = %q, want empty", got)
	}
	var nilJRD *JRD
	if nilJRD.SelfHref() != "" {
		t.Error("nil JRD")
	}
}

func TestRealJRDs(t *testing.T) {
	for file, want := range map[string]string{
		"testdata/peertube-webfinger-jrd.json": "https://framatube.org/accounts/framasoft",
	} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var j JRD
		if err := json.Unmarshal(data, &j); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if j.Subject == "" || len(j.Links) == 0 {
			t.Errorf("%s: subject/links missing: %+v", file, j)
		}
		if want != "" && j.SelfHref() != want {
			t.Errorf("%s: SelfHref = %q, want %q", file, j.SelfHref(), want)
		}
	}
}

func TestJRDMarshalLinksNeverNull(t *testing.T) {
	b, _ := json.Marshal(JRD{Subject: "acct:a@b"})
	// A nil slice marshals as null; servers should pass an empty slice.
	if !bytes.Contains(b, []byte(`"links":null`)) {
		t.Fatalf("unexpected %s", b)
	}
	b, _ = json.Marshal(JRD{Subject: "acct:a@b", Links: []Link{}})
	if !bytes.Contains(b, []byte(`"links":[]`)) {
		t.Fatalf("unexpected %s", b)
	}
}

func TestHostMeta(t *testing.T) {
	doc := HostMeta(`https://social.example.se/`)
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var template string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, doc)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "Link" {
			for _, a := range se.Attr {
				if a.Name.Local == "template" {
					template = a.Value
				}
			}
		}
	}
	if template != "https://social.example.se/.well-known/webfinger?resource={uri}" {
		t.Errorf("template = %q", template)
	}
	// Characters needing escaping stay well-formed.
	doc = HostMeta(`https://a.example/"<&>`)
	var x struct{ XMLName xml.Name }
	if err := xml.Unmarshal(doc, &x); err != nil || !strings.Contains(string(doc), "&amp;") {
		t.Errorf("escaping: %v\n%s", err, doc)
	}
}
