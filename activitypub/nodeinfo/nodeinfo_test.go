package nodeinfo

import (
	"encoding/json"
	"mime"
	"os"
	"reflect"
	"strings"
	"testing"
)

func load(t *testing.T, file string, v any) {
	t.Helper()
	data, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

func TestMastodon20(t *testing.T) {
	var d Document
	load(t, "mastodon-nodeinfo-2.0.json", &d)
	want := Document{
		Version:           "2.0",
		Software:          Software{Name: "mastodon", Version: "4.1.0"},
		Protocols:         []string{"activitypub"},
		Services:          Services{Inbound: []string{}, Outbound: []string{}},
		OpenRegistrations: true,
		Usage:             Usage{Users: Users{Total: 971090, ActiveMonth: 167218, ActiveHalfyear: 384808}, LocalPosts: 52071541},
		Metadata:          map[string]any{},
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("got %+v\nwant %+v", d, want)
	}
}

func TestMobilizon21(t *testing.T) {
	var d Document
	load(t, "mobilizon-nodeinfo-2.1.json", &d)
	want := Document{
		Version:           "2.1",
		Software:          Software{Name: "Mobilizon", Version: "5.1.0", Repository: "https://framagit.org/framasoft/mobilizon"},
		Protocols:         []string{"activitypub"},
		Services:          Services{Inbound: []string{}, Outbound: []string{"atom1.0"}},
		OpenRegistrations: true,
		Usage:             Usage{Users: Users{Total: 9204}, LocalPosts: 7545, LocalComments: 3253},
		Metadata: map[string]any{
			"nodeDescription": "Mobilizon.fr est l'instance Mobilizon de Framasoft.",
			"nodeName":        "Mobilizon",
		},
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("got %+v\nwant %+v", d, want)
	}
}

func TestWildebeest21(t *testing.T) {
	var d Document
	load(t, "wildebeest-nodeinfo-2.1.json", &d)
	if d.Version != "2.1" || d.Software.Name != "wildebeest" || d.Software.Repository != "https://github.com/cloudflare/wildebeest" ||
		d.OpenRegistrations || d.Usage.Users != (Users{1, 1, 1}) || d.Usage.LocalPosts != 0 {
		t.Errorf("got %+v", d)
	}
	up, _ := d.Metadata["upstream"].(map[string]any)
	if up["name"] != "mastodon" || up["version"] != "3.5.1" {
		t.Errorf("metadata.upstream = %#v", d.Metadata["upstream"])
	}
	// Services absent in the document: decodes as nil slices; re-encoding
	// must still be valid JSON.
	if _, err := json.Marshal(d); err != nil {
		t.Fatal(err)
	}
}

func TestDiscovery(t *testing.T) {
	var l Links
	load(t, "mobilizon-nodeinfo-well-known.json", &l)
	if l.Href(Version20) != "https://mobilizon.fr/.well-known/nodeinfo/2.0" || l.Href(Version21) != "https://mobilizon.fr/.well-known/nodeinfo/2.1" {
		t.Errorf("got %+v", l)
	}
	d := Discovery("https://social.example.se/")
	want := Links{Links: []Link{
		{Rel: Schema20, Href: "https://social.example.se/nodeinfo/2.0"},
		{Rel: Schema21, Href: "https://social.example.se/nodeinfo/2.1"},
	}}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("Discovery = %+v", d)
	}
	// Same shape as the real document.
	b, _ := json.Marshal(d)
	var back Links
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, want) {
		t.Errorf("round trip: %v %+v", err, back)
	}
	if (Links{Links: []Link{{Rel: Schema21 + "#", Href: "x"}}}).Href(Version21) != "x" {
		t.Error("trailing # not tolerated")
	}
}

func TestNew(t *testing.T) {
	sw := Software{Name: "Torget", Version: "0.1.0", Repository: "https://example.com/torget", Homepage: "https://torget.example"}
	u := Usage{Users: Users{Total: 3, ActiveMonth: 2, ActiveHalfyear: 3}, LocalPosts: 10}

	d20 := New(Version20, sw, u, nil)
	b, err := json.Marshal(d20)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, frag := range []string{`"version":"2.0"`, `"name":"torget"`, `"protocols":["activitypub"]`,
		`"services":{"inbound":[],"outbound":[]}`, `"metadata":{}`, `"openRegistrations":false`,
		`"users":{"total":3,"activeMonth":2,"activeHalfyear":3}`, `"localPosts":10`} {
		if !strings.Contains(s, frag) {
			t.Errorf("2.0 document lacks %s: %s", frag, s)
		}
	}
	if strings.Contains(s, "repository") || strings.Contains(s, "homepage") || strings.Contains(s, "localComments") {
		t.Errorf("2.0 document has 2.1-only fields: %s", s)
	}

	d21 := New(Version21, sw, u, map[string]any{"nodeName": "Torget"})
	b, _ = json.Marshal(d21)
	s = string(b)
	for _, frag := range []string{`"version":"2.1"`, `"repository":"https://example.com/torget"`, `"homepage":"https://torget.example"`, `"nodeName":"Torget"`} {
		if !strings.Contains(s, frag) {
			t.Errorf("2.1 document lacks %s: %s", frag, s)
		}
	}

	defer func() {
		if recover() == nil {
			t.Error("New(\"3.0\") did not panic")
		}
	}()
	New("3.0", sw, u, nil)
}

func TestProfileContentType(t *testing.T) {
	ct := ProfileContentType(Version21)
	if ct != `application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"` {
		t.Errorf("got %s", ct)
	}
	mt, params, err := mime.ParseMediaType(ProfileContentType(Version20))
	if err != nil || mt != "application/json" || params["profile"] != Schema20+"#" {
		t.Errorf("2.0: %v %v %v", mt, params, err)
	}
}
