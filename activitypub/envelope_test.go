package activitypub

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// DecodeEnvelope (no go-fed pass) must decide exactly what DecodeActivity
// decides, for every payload we keep: it is what the inbox answers on.
func TestDecodeEnvelopeAgreesWithDecodeActivity(t *testing.T) {
	files, _ := filepath.Glob("testdata/*/*.json")
	n := 0
	for _, f := range files {
		if strings.Contains(f, "golden") {
			continue
		}
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		full, err1 := DecodeActivity(body, DefaultLimits)
		env, err2 := DecodeEnvelope(body, DefaultLimits)
		if (err1 == nil) != (err2 == nil) {
			t.Errorf("%s: DecodeActivity err %v, DecodeEnvelope err %v", f, err1, err2)
			continue
		}
		if err1 != nil {
			continue
		}
		n++
		if !reflect.DeepEqual(full, env) {
			t.Errorf("%s: results differ:\n%+v\n%+v", f, full, env)
		}
	}
	if n < 30 {
		t.Fatalf("compared only %d activities", n)
	}
}

func TestDropLeadingContext(t *testing.T) {
	in := []byte(`{"@context":["https://www.w3.org/ns/activitystreams",{"a":"b"}],"id":"https://x.example/1","to":["p"]}`)
	out, ok := dropLeadingContext(in)
	if !ok || string(out) != `{"id":"https://x.example/1","to":["p"]}` {
		t.Fatalf("got %s %v", out, ok)
	}
	for _, s := range []string{`{"id":"x"}`, `{"@context":"x"}`, `{"@context":[1,2}`, ` {"@context":"a","id":"b"}`} {
		if _, ok := dropLeadingContext([]byte(s)); ok {
			t.Errorf("%s: took the fast path", s)
		}
	}
}

// The fast path for our own stored activities gives the same page as the
// general one.
func TestCollectionPageFastPathSameResult(t *testing.T) {
	act, err := EncodeActivity(&Activity{ID: "https://t.example/a/1", Type: "Create", Actor: "https://t.example/g",
		Object: &Note{ID: "https://t.example/n/1", AttributedTo: "https://t.example/g", Content: "<p>hej</p>", To: []string{PublicIRI}},
		To:     []string{PublicIRI}})
	if err != nil {
		t.Fatal(err)
	}
	page := func(fast bool) map[string]any {
		b, err := EncodeCollectionPage(&OrderedCollectionPage{ID: "https://t.example/o/page/0", PartOf: "https://t.example/o",
			TotalItems: 1, Items: []json.RawMessage{act}, ItemsEncodedHere: fast})
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if a, b := page(true), page(false); !reflect.DeepEqual(a, b) {
		t.Fatalf("fast path differs:\n%v\n%v", a, b)
	}
}

func TestOurContextPrefix(t *testing.T) {
	b, err := EncodeNote(&Note{ID: "https://t.example/n/1", AttributedTo: "https://t.example/g", Content: "<p>x</p>"})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, ourContextPrefix()) {
		t.Fatalf("encoded note does not start with the context prefix:\n%s\n%s", b[:80], ourContextPrefix())
	}
	out, ok := dropLeadingContext(b)
	if !ok || !json.Valid(out) || bytes.Contains(out, []byte("@context")) {
		t.Fatalf("fast path: %s", out)
	}
}
