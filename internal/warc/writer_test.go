package warc_test

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/nlnwa/gowarc/v3"

	"github.com/torget/torget/internal/warc"
)

func write(t *testing.T, payloadDigestOf []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := warc.NewWriter(&b)
	at := time.Date(2026, 1, 5, 3, 0, 0, 0, time.UTC)
	if err := w.WriteInfo(at, []warc.Header{{Name: "software", Value: "torget/test"}}); err != nil {
		t.Fatal(err)
	}
	body := []byte("<!doctype html><title>Grupp</title>")
	resp := append([]byte("HTTP/1.1 200 OK\r\nContent-Length: 35\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n"), body...)
	if err := w.WriteExchange(warc.Exchange{URI: "https://social.example.se/groups/g", At: at,
		Request: []byte("GET /groups/g HTTP/1.1\r\nHost: social.example.se\r\n\r\n"), Response: resp, Payload: payloadDigestOf}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteExchange(warc.Exchange{URI: "not a uri"}); err == nil {
		t.Fatal("a bad target URI was taken")
	}
	if w.Records() != 3 {
		t.Fatalf("%d records", w.Records())
	}
	return b.Bytes()
}

// validate reads every record with gowarc, strictly, checking digests.
func validate(raw []byte) (types []string, err error) {
	r, err := gowarc.NewWarcFileReaderFromStream(bytes.NewReader(raw), 0, gowarc.WithStrictValidation())
	if err != nil {
		return nil, err
	}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return types, nil
		}
		if err != nil {
			return types, err
		}
		if _, err := rec.WarcRecord.ValidateDigest(); err != nil {
			return types, err
		}
		types = append(types, rec.WarcRecord.Type().String())
	}
}

func TestWriterReadByGowarc(t *testing.T) {
	types, err := validate(write(t, []byte("<!doctype html><title>Grupp</title>")))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(types, ","); got != "warcinfo,response,request" {
		t.Fatalf("records %s", got)
	}
}

func TestWrongPayloadDigestFails(t *testing.T) {
	if _, err := validate(write(t, []byte("something else"))); err == nil {
		t.Fatal("a wrong payload digest passed gowarc's validation")
	}
}

func TestDigest(t *testing.T) {
	// sha1("abc") = a9993e36 4706816a ba3e2571 7850c26c 9cd0d89d
	if got := warc.Digest([]byte("abc")); got != "sha1:VGMT4NSHA2AWVOR6EVYXQUGCNSONBWE5" {
		t.Fatal(got)
	}
}
