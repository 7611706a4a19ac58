package httpsig

import (
	"crypto"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestDigest(t *testing.T) {
	// sha256("") is well known.
	if got, want := Digest(nil), "SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="; got != want {
		t.Fatalf("Digest(nil) = %q, want %q", got, want)
	}
}

func TestSignHeaders(t *testing.T) {
	k := testKeys(t)
	tests := []struct {
		name        string
		method      string
		body        []byte
		wantHeaders string
	}{
		{"GET", http.MethodGet, nil, "(request-target) host date"},
		{"POST", http.MethodPost, []byte(`{}`), "(request-target) host date digest"},
		{"POST empty body", http.MethodPost, []byte{}, "(request-target) host date digest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest(tt.method, "https://remote.example/inbox?x=1", nil)
			if err := Sign(r, tt.body, testKeyID, k.rsa, testNow); err != nil {
				t.Fatal(err)
			}
			if got := r.Header.Get("Date"); got != "Sat, 01 Mar 2025 12:00:00 GMT" {
				t.Errorf("Date = %q", got)
			}
			if r.Host != "remote.example" {
				t.Errorf("Host = %q", r.Host)
			}
			if tt.body != nil && r.Header.Get("Digest") != Digest(tt.body) {
				t.Errorf("Digest = %q", r.Header.Get("Digest"))
			}
			if tt.body == nil && r.Header.Get("Digest") != "" {
				t.Errorf("Digest set on GET")
			}
			sig := r.Header.Get("Signature")
			if !strings.HasPrefix(sig, `keyId="`+testKeyID+`",algorithm="rsa-sha256",headers="`+tt.wantHeaders+`",signature="`) {
				t.Errorf("Signature = %q", sig)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	k := testKeys(t)
	tests := []struct {
		name   string
		method string
		url    string
		body   []byte
	}{
		{"GET actor", http.MethodGet, "https://torget.example/groups/g", nil},
		{"GET with query", http.MethodGet, "https://torget.example/groups/g/outbox?page=2", nil},
		{"POST inbox", http.MethodPost, "https://torget.example/groups/g/inbox", testBody(1024)},
		{"POST with port", http.MethodPost, "http://localhost:8080/inbox", []byte(`{}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cr, _ := http.NewRequest(tt.method, tt.url, nil)
			if err := Sign(cr, tt.body, testKeyID, k.rsa, testNow); err != nil {
				t.Fatal(err)
			}
			r := toServer(cr, tt.body)
			if r.Header.Get("Host") != "" || r.RequestURI == "" {
				t.Fatal("test request is not server-shaped")
			}
			res, err := VerifyRequest(ctx(), r, tt.body, testNow.Add(time.Minute), staticLookup(&k.rsa.PublicKey), VerifyOptions{})
			assertErr(t, err, nil)
			want := Result{KeyID: testKeyID, Scheme: "draft-cavage", Algorithm: "rsa-sha256"}
			if res != want {
				t.Errorf("Result = %+v, want %+v", res, want)
			}
		})
	}
}

// TestMastodonShaped verifies requests built by hand the way Mastodon and
// GoToSocial build them, without using Sign.
func TestMastodonShaped(t *testing.T) {
	k := testKeys(t)
	body := []byte(`{"@context":"https://www.w3.org/ns/activitystreams","type":"Follow"}`)
	for _, alg := range []string{"hs2019", "rsa-sha256", ""} {
		t.Run("algorithm="+alg, func(t *testing.T) {
			r := serverRequest(http.MethodPost, "https://torget.example/groups/g/inbox", body, true)
			r.Header.Set("Date", testNow.Format(http.TimeFormat))
			r.Header.Set("Digest", Digest(body))
			r.Header.Set("Content-Type", `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`)
			signCavage(t, r, []string{"(request-target)", "host", "date", "digest"}, alg,
				"https://example.org/users/x/main-key", k.rsa)
			res, err := VerifyRequest(ctx(), r, body, testNow, staticLookup(&k.rsa.PublicKey), VerifyOptions{})
			assertErr(t, err, nil)
			if res.KeyID != "https://example.org/users/x/main-key" || res.Algorithm != alg || res.Scheme != SchemeCavage {
				t.Errorf("Result = %+v", res)
			}
		})
	}
}

func TestNoSignature(t *testing.T) {
	k := testKeys(t)
	t.Run("unsigned", func(t *testing.T) {
		r := serverRequest(http.MethodGet, "https://torget.example/groups/g", nil, true)
		_, err := VerifyRequest(ctx(), r, nil, testNow, staticLookup(&k.rsa.PublicKey), VerifyOptions{})
		assertErr(t, err, ErrNoSignature)
	})
	t.Run("Authorization bearer is not a signature", func(t *testing.T) {
		r := serverRequest(http.MethodGet, "https://torget.example/groups/g", nil, true)
		r.Header.Set("Authorization", "Bearer abc")
		_, err := VerifyRequest(ctx(), r, nil, testNow, staticLookup(&k.rsa.PublicKey), VerifyOptions{})
		assertErr(t, err, ErrNoSignature)
	})
	t.Run("Authorization: Signature accepted", func(t *testing.T) {
		cr, _ := http.NewRequest(http.MethodGet, "https://torget.example/groups/g", nil)
		if err := Sign(cr, nil, testKeyID, k.rsa, testNow); err != nil {
			t.Fatal(err)
		}
		r := toServer(cr, nil)
		r.Header.Set("Authorization", "Signature "+r.Header.Get("Signature"))
		r.Header.Del("Signature")
		_, err := VerifyRequest(ctx(), r, nil, testNow, staticLookup(&k.rsa.PublicKey), VerifyOptions{})
		assertErr(t, err, nil)
	})
}

func TestParseCavage(t *testing.T) {
	sig := base64.StdEncoding.EncodeToString([]byte("sig"))
	tests := []struct {
		name    string
		in      string
		want    *cavageParams
		wantErr error
	}{
		{"mastodon", `keyId="k",algorithm="rsa-sha256",headers="(request-target) host date",signature="` + sig + `"`,
			&cavageParams{KeyID: "k", Algorithm: "rsa-sha256", Headers: []string{"(request-target)", "host", "date"}, HeadersSet: true, Signature: []byte("sig")}, nil},
		{"commas inside quotes", `keyId="https://a.example/u,x#k",signature="` + sig + `"`,
			&cavageParams{KeyID: "https://a.example/u,x#k", Headers: []string{"date"}, Signature: []byte("sig")}, nil},
		{"escaped quote", `keyId="a\"b",signature="` + sig + `"`,
			&cavageParams{KeyID: `a"b`, Headers: []string{"date"}, Signature: []byte("sig")}, nil},
		{"whitespace and unknown params", ` keyId = "k" , foo="bar,baz", headers="Host  DATE",  signature="` + sig + `" `,
			&cavageParams{KeyID: "k", Headers: []string{"host", "date"}, HeadersSet: true, Signature: []byte("sig")}, nil},
		{"case-insensitive names, created/expires tokens", `KEYID="k",created=1402170695,expires="1402170699",Signature="` + sig + `"`,
			&cavageParams{KeyID: "k", Headers: []string{"date"}, Signature: []byte("sig"), Created: 1402170695, HasCreated: true, Expires: 1402170699, HasExpires: true}, nil},
		{"duplicate keyId", `keyId="a",keyId="b",signature="` + sig + `"`, nil, ErrMalformed},
		{"duplicate headers differing in case", `keyId="a",headers="host",Headers="date",signature="` + sig + `"`, nil, ErrMalformed},
		{"missing keyId", `signature="` + sig + `"`, nil, ErrMalformed},
		{"empty keyId", `keyId="",signature="` + sig + `"`, nil, ErrMalformed},
		{"missing signature", `keyId="k"`, nil, ErrMalformed},
		{"bad base64", `keyId="k",signature="not base64!"`, nil, ErrMalformed},
		{"unterminated quote", `keyId="k,signature="` + sig, nil, ErrMalformed},
		{"no value", `keyId,signature="` + sig + `"`, nil, ErrMalformed},
		{"garbage between", `keyId="k" x signature="` + sig + `"`, nil, ErrMalformed},
		{"created not a number", `keyId="k",created=soon,signature="` + sig + `"`, nil, ErrMalformed},
		{"empty", ``, nil, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseCavage(tt.in)
			assertErr(t, err, tt.wantErr)
			if tt.want != nil && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// verifyCase is one VerifyRequest scenario on a hand-signed request.
type verifyCase struct {
	name    string
	method  string
	url     string
	body    []byte
	setup   func(t *testing.T, r *http.Request) // sets headers and signs
	opt     VerifyOptions
	now     time.Time
	lookup  KeyLookup
	wantErr error
}

func runVerifyCases(t *testing.T, cases []verifyCase) {
	t.Helper()
	k := testKeys(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method, url := tc.method, tc.url
			if method == "" {
				method = http.MethodPost
			}
			if url == "" {
				url = "https://torget.example/groups/g/inbox"
			}
			body := tc.body
			if body == nil && method == http.MethodPost {
				body = []byte(`{"type":"Like"}`)
			}
			r := serverRequest(method, url, body, true)
			r.Header.Set("Date", testNow.Format(http.TimeFormat))
			if len(body) > 0 {
				r.Header.Set("Digest", Digest(body))
			}
			tc.setup(t, r)
			now := tc.now
			if now.IsZero() {
				now = testNow
			}
			lookup := tc.lookup
			if lookup == nil {
				lookup = staticLookup(&k.rsa.PublicKey)
			}
			_, err := VerifyRequest(ctx(), r, body, now, lookup, tc.opt)
			assertErr(t, err, tc.wantErr)
		})
	}
}

func sign(headers ...string) func(t *testing.T, r *http.Request) {
	return func(t *testing.T, r *http.Request) {
		signCavage(t, r, headers, "rsa-sha256", testKeyID, testKeys(t).rsa)
	}
}

var allPOST = []string{"(request-target)", "host", "date", "digest"}

func TestRequiredHeaders(t *testing.T) {
	created := "created=" + strconv.FormatInt(testNow.Unix(), 10)
	runVerifyCases(t, []verifyCase{
		{name: "all POST headers", setup: sign(allPOST...)},
		{name: "upper-case header names", setup: sign("(Request-Target)", "Host", "Date", "Digest")},
		{name: "no (request-target)", setup: sign("host", "date", "digest"), wantErr: ErrMissingHeader},
		{name: "no host", setup: sign("(request-target)", "date", "digest"), wantErr: ErrMissingHeader},
		{name: "no date", setup: sign("(request-target)", "host", "digest"), wantErr: ErrMissingHeader},
		{name: "(created) instead of date", setup: func(t *testing.T, r *http.Request) {
			signCavage(t, r, []string{"(request-target)", "host", "(created)", "digest"}, "hs2019", testKeyID, testKeys(t).rsa, created)
		}},
		{name: "(created) signed without created parameter", setup: func(t *testing.T, r *http.Request) {
			signCavage(t, r, []string{"(request-target)", "host", "(created)", "digest"}, "hs2019", testKeyID, testKeys(t).rsa)
		}, wantErr: ErrMalformed},
		{name: "POST without digest", setup: sign("(request-target)", "host", "date"), wantErr: ErrMissingHeader},
		{name: "POST with empty body without digest", body: []byte{}, setup: sign("(request-target)", "host", "date"), wantErr: ErrMissingHeader},
		{name: "GET with a body without digest", method: http.MethodGet, body: []byte("x"), setup: sign("(request-target)", "host", "date"), wantErr: ErrMissingHeader},
		{name: "GET without digest", method: http.MethodGet, setup: sign("(request-target)", "host", "date")},
		{name: "GET without digest, RequireDigest", method: http.MethodGet, opt: VerifyOptions{RequireDigest: true}, setup: sign("(request-target)", "host", "date"), wantErr: ErrMissingHeader},
		// GoToSocial accepted a date-only signature; it authenticates nothing.
		{name: "date only", setup: sign("date"), wantErr: ErrMissingHeader},
		{name: "headers parameter absent defaults to date", setup: func(t *testing.T, r *http.Request) {
			signCavage(t, r, []string{"date"}, "rsa-sha256", testKeyID, testKeys(t).rsa)
			r.Header.Set("Signature", strings.Replace(r.Header.Get("Signature"), `headers="date",`, "", 1))
		}, wantErr: ErrMissingHeader},
		{name: "signed header absent from request", setup: func(t *testing.T, r *http.Request) {
			sign(append(allPOST, "content-type")...)(t, r)
		}, wantErr: ErrMissingHeader},
		{name: "signed digest absent from request", setup: func(t *testing.T, r *http.Request) {
			sign(allPOST...)(t, r)
			r.Header.Del("Digest")
		}, wantErr: ErrMissingHeader},
		{name: "signed date absent from request", setup: func(t *testing.T, r *http.Request) {
			sign(allPOST...)(t, r)
			r.Header.Del("Date")
		}, wantErr: ErrMissingHeader},
		{name: "duplicate parameter", setup: func(t *testing.T, r *http.Request) {
			sign(allPOST...)(t, r)
			r.Header.Set("Signature", `keyId="https://evil.example/k",`+r.Header.Get("Signature"))
		}, wantErr: ErrMalformed},
		{name: "two Signature fields", setup: func(t *testing.T, r *http.Request) {
			sign(allPOST...)(t, r)
			r.Header.Add("Signature", r.Header.Get("Signature"))
		}, wantErr: ErrMalformed},
		{name: "bad base64 signature", setup: func(t *testing.T, r *http.Request) {
			r.Header.Set("Signature", `keyId="k",headers="(request-target) host date digest",signature="%%%"`)
		}, wantErr: ErrMalformed},
	})
}

func TestDate(t *testing.T) {
	k := testKeys(t)
	setDate := func(d string) func(t *testing.T, r *http.Request) {
		return func(t *testing.T, r *http.Request) {
			r.Header.Set("Date", d)
			sign(allPOST...)(t, r)
		}
	}
	withParams := func(headers []string, params ...string) func(t *testing.T, r *http.Request) {
		return func(t *testing.T, r *http.Request) {
			signCavage(t, r, headers, "hs2019", testKeyID, k.rsa, params...)
		}
	}
	unix := func(d time.Duration) string { return strconv.FormatInt(testNow.Add(d).Unix(), 10) }
	createdHeaders := []string{"(request-target)", "host", "(created)", "digest"}
	runVerifyCases(t, []verifyCase{
		{name: "2 hours old", setup: setDate(testNow.Add(-2 * time.Hour).Format(http.TimeFormat)), wantErr: ErrDate},
		{name: "64 minutes old", setup: setDate(testNow.Add(-64 * time.Minute).Format(http.TimeFormat))},
		{name: "66 minutes old", setup: setDate(testNow.Add(-66 * time.Minute).Format(http.TimeFormat)), wantErr: ErrDate},
		{name: "59 minutes ahead", setup: setDate(testNow.Add(59 * time.Minute).Format(http.TimeFormat))},
		{name: "61 minutes ahead", setup: setDate(testNow.Add(61 * time.Minute).Format(http.TimeFormat)), wantErr: ErrDate},
		{name: "year 2001", setup: setDate("Mon, 01 Jan 2001 00:00:00 GMT"), wantErr: ErrDate},
		{name: "unparseable", setup: setDate("yesterday"), wantErr: ErrDate},
		{name: "RFC 850 form accepted", setup: setDate(testNow.Format("Monday, 02-Jan-06 15:04:05 GMT"))},
		{name: "MaxAge option", opt: VerifyOptions{MaxAge: 5 * time.Minute}, setup: setDate(testNow.Add(-10 * time.Minute).Format(http.TimeFormat)), wantErr: ErrDate},
		{name: "MaxFuture option", opt: VerifyOptions{MaxFuture: time.Minute}, setup: setDate(testNow.Add(2 * time.Minute).Format(http.TimeFormat)), wantErr: ErrDate},
		{name: "created in window", setup: withParams(createdHeaders, "created="+unix(-time.Minute))},
		{name: "created too old", setup: withParams(createdHeaders, "created="+unix(-2*time.Hour)), wantErr: ErrDate},
		{name: "created in the future", setup: withParams(createdHeaders, "created="+unix(2*time.Hour)), wantErr: ErrDate},
		{name: "expired", setup: withParams(append(createdHeaders, "(expires)"), "created="+unix(-10*time.Minute), "expires="+unix(-time.Minute)), wantErr: ErrDate},
		{name: "not yet expired", setup: withParams(append(createdHeaders, "(expires)"), "created="+unix(-10*time.Minute), "expires="+unix(time.Minute))},
	})
}

func TestDigestHeader(t *testing.T) {
	body := []byte(`{"type":"Like"}`)
	s256 := sha256.Sum256(body)
	s512 := sha512.Sum512(body)
	b64 := base64.StdEncoding.EncodeToString
	setDigest := func(d string) func(t *testing.T, r *http.Request) {
		return func(t *testing.T, r *http.Request) {
			r.Header.Set("Digest", d)
			sign(allPOST...)(t, r)
		}
	}
	runVerifyCases(t, []verifyCase{
		{name: "SHA-256", body: body, setup: setDigest("SHA-256=" + b64(s256[:]))},
		{name: "lower-case name", body: body, setup: setDigest("sha-256=" + b64(s256[:]))},
		{name: "SHA-512 only", body: body, setup: setDigest("SHA-512=" + b64(s512[:]))},
		{name: "both", body: body, setup: setDigest("SHA-256=" + b64(s256[:]) + ", SHA-512=" + b64(s512[:]))},
		{name: "unknown plus SHA-256", body: body, setup: setDigest("MD5=abc=,SHA-256=" + b64(s256[:]))},
		{name: "unknown only", body: body, setup: setDigest("MD5=" + b64(s256[:16])), wantErr: ErrDigest},
		{name: "good SHA-256, bad SHA-512", body: body, setup: setDigest("SHA-256=" + b64(s256[:]) + ",SHA-512=" + b64(s256[:])), wantErr: ErrDigest},
		{name: "bad base64", body: body, setup: setDigest("SHA-256=***"), wantErr: ErrDigest},
		{name: "no equals sign", body: body, setup: setDigest("SHA-256"), wantErr: ErrDigest},
		{name: "digest of another body", body: body, setup: setDigest(Digest([]byte("other"))), wantErr: ErrDigest},
	})
	t.Run("tampered body", func(t *testing.T) {
		k := testKeys(t)
		cr, _ := http.NewRequest(http.MethodPost, "https://torget.example/inbox", nil)
		if err := Sign(cr, body, testKeyID, k.rsa, testNow); err != nil {
			t.Fatal(err)
		}
		tampered := []byte(`{"type":"Delete"}`)
		_, err := VerifyRequest(ctx(), toServer(cr, tampered), tampered, testNow, staticLookup(&k.rsa.PublicKey), VerifyOptions{})
		assertErr(t, err, ErrDigest)
	})
}

func TestAlgorithm(t *testing.T) {
	k := testKeys(t)
	signAlg := func(alg string, signer crypto.Signer) func(t *testing.T, r *http.Request) {
		return func(t *testing.T, r *http.Request) { signCavage(t, r, allPOST, alg, testKeyID, signer) }
	}
	edPub := k.ed.Public().(interface{ Equal(crypto.PublicKey) bool })
	runVerifyCases(t, []verifyCase{
		{name: "rsa-sha256", setup: signAlg("rsa-sha256", k.rsa)},
		{name: "hs2019 RSA (GoToSocial)", setup: signAlg("hs2019", k.rsa)},
		{name: "HS2019 upper case", setup: signAlg("HS2019", k.rsa)},
		{name: "absent, RSA key", setup: signAlg("", k.rsa)},
		{name: "hs2019 Ed25519", setup: signAlg("hs2019", k.ed), lookup: staticLookup(edPub)},
		{name: "absent, Ed25519 key", setup: signAlg("", k.ed), lookup: staticLookup(edPub)},
		{name: "rsa-sha256 with Ed25519 key", setup: signAlg("rsa-sha256", k.ed), lookup: staticLookup(edPub), wantErr: ErrUnsupported},
		{name: "rsa-sha1", setup: signAlg("rsa-sha1", k.rsa), wantErr: ErrUnsupported},
		{name: "hmac-sha256", setup: signAlg("hmac-sha256", k.rsa), wantErr: ErrUnsupported},
		{name: "ecdsa-sha256", setup: signAlg("ecdsa-sha256", k.rsa), wantErr: ErrUnsupported},
		{name: "ECDSA key", setup: signAlg("hs2019", k.rsa), lookup: staticLookup(k.ecdsaPub), wantErr: ErrUnsupported},
		{name: "signature by another key", setup: signAlg("rsa-sha256", k.rsaOld), wantErr: ErrBadSignature},
	})
}

func TestKeyLookup(t *testing.T) {
	k := testKeys(t)
	boom := errors.New("connection refused")
	tests := []struct {
		name          string
		l             *countingLookup
		wantErr       error
		wantRefreshes int32
	}{
		{"cached key valid", &countingLookup{cached: &k.rsa.PublicKey}, nil, 0},
		{"rotated key", &countingLookup{cached: &k.rsaOld.PublicKey, fresh: &k.rsa.PublicKey}, nil, 1},
		{"bad signature after refresh", &countingLookup{cached: &k.rsaOld.PublicKey, fresh: &k.rsaOld.PublicKey}, ErrBadSignature, 1},
		{"lookup error", &countingLookup{errCached: boom}, ErrKeyUnavailable, 0},
		{"refresh error", &countingLookup{cached: &k.rsaOld.PublicKey, errFresh: boom}, ErrKeyUnavailable, 1},
		{"nil key", &countingLookup{}, ErrKeyUnavailable, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := testBody(100)
			cr, _ := http.NewRequest(http.MethodPost, "https://torget.example/inbox", nil)
			if err := Sign(cr, body, testKeyID, k.rsa, testNow); err != nil {
				t.Fatal(err)
			}
			_, err := VerifyRequest(ctx(), toServer(cr, body), body, testNow, tt.l.lookup, VerifyOptions{})
			assertErr(t, err, tt.wantErr)
			if tt.wantErr == ErrKeyUnavailable && tt.l.errCached != nil && !errors.Is(err, boom) {
				t.Errorf("error %v does not wrap the lookup error", err)
			}
			if got := tt.l.refreshes.Load(); got != tt.wantRefreshes {
				t.Errorf("refreshes = %d, want %d", got, tt.wantRefreshes)
			}
			if tt.l.lastKeyID != testKeyID {
				t.Errorf("lookup keyID = %q", tt.l.lastKeyID)
			}
		})
	}
	t.Run("no lookup before cheap checks", func(t *testing.T) {
		l := &countingLookup{cached: &k.rsa.PublicKey}
		r := serverRequest(http.MethodPost, "https://torget.example/inbox", []byte("x"), true)
		r.Header.Set("Date", testNow.Format(http.TimeFormat))
		signCavage(t, r, []string{"date"}, "rsa-sha256", testKeyID, k.rsa)
		_, err := VerifyRequest(ctx(), r, []byte("x"), testNow, l.lookup, VerifyOptions{})
		assertErr(t, err, ErrMissingHeader)
		if l.calls.Load() != 0 {
			t.Errorf("lookup called %d times for a request rejected on its headers", l.calls.Load())
		}
	})
}

func TestSigningString(t *testing.T) {
	k := testKeys(t)
	t.Run("query signed, path-only request", func(t *testing.T) {
		cr, _ := http.NewRequest(http.MethodGet, "https://torget.example/groups/g?page=1", nil)
		if err := Sign(cr, nil, testKeyID, k.rsa, testNow); err != nil {
			t.Fatal(err)
		}
		r := toServer(cr, nil)
		r.URL.RawQuery = ""
		_, err := VerifyRequest(ctx(), r, nil, testNow, staticLookup(&k.rsa.PublicKey), VerifyOptions{})
		assertErr(t, err, ErrBadSignature)
	})
	t.Run("path signed without query (Fedify), request with query", func(t *testing.T) {
		r := serverRequest(http.MethodGet, "https://torget.example/groups/g?page=1", nil, true)
		r.Header.Set("Date", testNow.Format(http.TimeFormat))
		q := r.URL.RawQuery
		r.URL.RawQuery = ""
		signCavage(t, r, []string{"(request-target)", "host", "date"}, "rsa-sha256", testKeyID, k.rsa)
		r.URL.RawQuery = q
		_, err := VerifyRequest(ctx(), r, nil, testNow, staticLookup(&k.rsa.PublicKey), VerifyOptions{})
		assertErr(t, err, ErrBadSignature)
	})
	t.Run("wrong method", func(t *testing.T) {
		r := serverRequest(http.MethodGet, "https://torget.example/groups/g", nil, true)
		r.Header.Set("Date", testNow.Format(http.TimeFormat))
		signCavage(t, r, []string{"(request-target)", "host", "date"}, "rsa-sha256", testKeyID, k.rsa)
		r.Method = http.MethodDelete
		_, err := VerifyRequest(ctx(), r, nil, testNow, staticLookup(&k.rsa.PublicKey), VerifyOptions{})
		assertErr(t, err, ErrBadSignature)
	})
	t.Run("host from r.Host, not the URL", func(t *testing.T) {
		r := serverRequest(http.MethodGet, "https://torget.example/groups/g", nil, true)
		r.Header.Set("Date", testNow.Format(http.TimeFormat))
		signCavage(t, r, []string{"(request-target)", "host", "date"}, "rsa-sha256", testKeyID, k.rsa)
		r.Host = "other.example"
		_, err := VerifyRequest(ctx(), r, nil, testNow, staticLookup(&k.rsa.PublicKey), VerifyOptions{})
		assertErr(t, err, ErrBadSignature)
	})
	t.Run("explicit Host header wins", func(t *testing.T) {
		r := serverRequest(http.MethodGet, "https://torget.example/groups/g", nil, true)
		r.Header.Set("Date", testNow.Format(http.TimeFormat))
		signCavage(t, r, []string{"(request-target)", "host", "date"}, "rsa-sha256", testKeyID, k.rsa)
		r.Header.Set("Host", r.Host)
		r.Host = "proxy.internal"
		_, err := VerifyRequest(ctx(), r, nil, testNow, staticLookup(&k.rsa.PublicKey), VerifyOptions{})
		assertErr(t, err, nil)
	})
	t.Run("repeated header joined with comma-space", func(t *testing.T) {
		r := serverRequest(http.MethodGet, "https://torget.example/groups/g", nil, true)
		r.Header.Set("Date", testNow.Format(http.TimeFormat))
		r.Header.Add("Accept", "application/activity+json")
		r.Header.Add("Accept", "application/ld+json")
		p := &cavageParams{Headers: []string{"(request-target)", "host", "date", "accept"}}
		ss, err := cavageSigningString(r, p)
		if err != nil {
			t.Fatal(err)
		}
		want := "(request-target): get /groups/g\nhost: torget.example\ndate: Sat, 01 Mar 2025 12:00:00 GMT\naccept: application/activity+json, application/ld+json"
		if ss != want {
			t.Fatalf("signing string\n%s\nwant\n%s", ss, want)
		}
		signCavage(t, r, p.Headers, "rsa-sha256", testKeyID, k.rsa)
		_, err = VerifyRequest(ctx(), r, nil, testNow, staticLookup(&k.rsa.PublicKey), VerifyOptions{})
		assertErr(t, err, nil)
	})
}
