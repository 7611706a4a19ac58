package httpsig

import (
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"testing"
)

func FuzzParseSignature(f *testing.F) {
	for _, s := range []string{
		`keyId="https://example.org/users/x#main-key",algorithm="rsa-sha256",headers="(request-target) host date digest",signature="AAEC"`,
		`keyId="https://example.org/users/x/main-key",algorithm="hs2019",created=1402170695,expires=1402170699,headers="(request-target) (created) host",signature="AAEC"`,
		`keyId="a\"b,c",signature="AAEC",unknown="x,y"`,
		` KEYID = "k" , signature = AAEC `,
		`keyId="k",keyId="k",signature="AAEC"`,
		`keyId="k",signature="AAE"`,
		`keyId="k",headers="",signature="AAEC"`,
		`keyId="k\`,
		`,,,`,
		``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parseCavage(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		out := p.String()
		q, err := parseCavage(out)
		if err != nil {
			t.Fatalf("re-serialised %q does not parse: %v", out, err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip changed the parameters:\n%+v\n%+v\n(via %q)", p, q, out)
		}
	})
}

// FuzzVerifyRequest feeds VerifyRequest random header values. The seeds are
// well-formed requests signed with a key the lookup does not return, so no
// input may verify: any success would be a forgery.
func FuzzVerifyRequest(f *testing.F) {
	k := testKeys(f)
	attacker := k.rsaOld
	body := testBody(64)
	type seed struct {
		method, target                                   string
		signature, sigInput, date, digest, cdigest, auth string
		body                                             []byte
	}
	var seeds []seed
	add := func(r *http.Request, b []byte) {
		sr := toServer(r, b)
		// The seeds must verify with the attacker's own key, so that
		// the fuzzer starts next to the acceptance path.
		if _, err := VerifyRequest(ctx(), sr, b, testNow, staticLookup(&attacker.PublicKey), VerifyOptions{}); err != nil {
			f.Fatalf("seed does not verify with its own key: %v", err)
		}
		seeds = append(seeds, seed{sr.Method, sr.URL.RequestURI(), sr.Header.Get("Signature"), sr.Header.Get("Signature-Input"),
			sr.Header.Get("Date"), sr.Header.Get("Digest"), sr.Header.Get("Content-Digest"), "", b})
	}
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		var b []byte
		if m == http.MethodPost {
			b = body
		}
		r, _ := http.NewRequest(m, "https://torget.example/groups/g/inbox?x=1", nil)
		if err := Sign(r, b, testKeyID, attacker, testNow); err != nil {
			f.Fatal(err)
		}
		add(r, b)
		r, _ = http.NewRequest(m, "https://torget.example/groups/g/inbox", nil)
		if err := SignRFC9421(r, b, testKeyID, attacker, testNow); err != nil {
			f.Fatal(err)
		}
		add(r, b)
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.signature, s.sigInput, s.date, s.digest, s.cdigest, s.auth, s.body)
	}
	f.Add("POST", "/inbox", "", "", "", "", "", "Signature "+seeds[0].signature, []byte(nil))
	f.Add("GET", "/", `keyId="k",signature="AA=="`, `sig1=();keyid="k"`, "x", "SHA-256=", "sha-256=::", "Signature", []byte("x"))

	lookup := staticLookup(&k.rsa.PublicKey)
	f.Fuzz(func(t *testing.T, method, target, signature, sigInput, date, digest, cdigest, auth string, body []byte) {
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return
		}
		r := &http.Request{Method: method, URL: u, RequestURI: target, Host: "torget.example", Header: http.Header{}}
		set := func(k, v string) {
			if v != "" {
				r.Header.Set(k, v)
			}
		}
		set("Signature", signature)
		set("Signature-Input", sigInput)
		set("Date", date)
		set("Digest", digest)
		set("Content-Digest", cdigest)
		set("Authorization", auth)
		res, err := VerifyRequest(ctx(), r, body, testNow, lookup, VerifyOptions{})
		if err == nil {
			t.Fatalf("request without a valid signature verified: %+v", res)
		}
		known := false
		for _, e := range []error{ErrNoSignature, ErrMalformed, ErrMissingHeader, ErrDate, ErrDigest, ErrBadSignature, ErrUnsupported, ErrKeyUnavailable} {
			known = known || errors.Is(err, e)
		}
		if !known {
			t.Fatalf("error %v wraps none of the package errors", err)
		}
	})
}
