package activitypub

import (
	"os"
	"path/filepath"
	"testing"
)

// fuzzSeeds adds every JSON fixture under testdata (except goldens) as a seed.
func fuzzSeeds(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*", "*.json"))
	for _, p := range files {
		if filepath.Base(filepath.Dir(p)) == "golden" {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzDecodeActivity(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := DecodeActivity(body, Limits{})
		if err != nil {
			return
		}
		if in.Type == "" {
			t.Fatalf("decoded activity without type: %s", body)
		}
		_ = CheckOrigins(in)
	})
}

func FuzzDecodeActor(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		a, err := DecodeActor(body, Limits{})
		if err != nil {
			return
		}
		if a.ID == "" || a.Inbox == "" || !actorTypes[a.Type] {
			t.Fatalf("decoded actor missing id, inbox or type: %+v", a)
		}
		if a.PublicKeyPEM != "" && a.PublicKeyOwner != a.ID {
			t.Fatalf("key owner %q != id %q", a.PublicKeyOwner, a.ID)
		}
	})
}
