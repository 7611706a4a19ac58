package activitypub

import (
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
