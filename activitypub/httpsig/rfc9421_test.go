package httpsig

import (
	"crypto"
	"crypto/sha512"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRFC9421RoundTrip(t *testing.T) {
	k := testKeys(t)
	tests := []struct {
		name   string
		method string
		url    string
		body   []byte
	}{
		{"POST", http.MethodPost, "https://torget.example/groups/g/inbox", testBody(1024)},
		{"GET", http.MethodGet, "https://torget.example/groups/g", nil},
		{"GET with query", http.MethodGet, "https://torget.example/groups/g/outbox?page=true", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cr, _ := http.NewRequest(tt.method, tt.url, nil)
			if err := SignRFC9421(cr, tt.body, testKeyID, k.rsa, testNow); err != nil {
				t.Fatal(err)
			}
			wantInput := `sig1=("@method" "@target-uri"`
			if tt.body != nil {
				wantInput += ` "content-digest"`
			}
			wantInput += `);created=` + strconv.FormatInt(testNow.Unix(), 10) + `;keyid="` + testKeyID + `";alg="rsa-v1_5-sha256"`
			if got := cr.Header.Get("Signature-Input"); got != wantInput {
				t.Errorf("Signature-Input = %s\nwant %s", got, wantInput)
			}
			r := toServer(cr, tt.body)
			res, err := VerifyRequest(ctx(), r, tt.body, testNow, staticLookup(&k.rsa.PublicKey), VerifyOptions{})
			assertErr(t, err, nil)
			want := Result{KeyID: testKeyID, Scheme: "rfc9421", Algorithm: "rsa-v1_5-sha256"}
			if res != want {
				t.Errorf("Result = %+v, want %+v", res, want)
			}
		})
	}
}

func TestRFC9421Rules(t *testing.T) {
	k := testKeys(t)
	body := []byte(`{"type":"Create"}`)
	sum512 := sha512.Sum512(body)
	created := ";created=" + strconv.FormatInt(testNow.Unix(), 10)
	kid := `;keyid="` + testKeyID + `"`
	std := []string{"@method", "@target-uri", "content-digest"}
	type tc struct {
		name    string
		method  string
		tls     bool
		setup   func(t *testing.T, r *http.Request)
		lookup  KeyLookup
		wantErr error
	}
	signStd := func(components []string, params, scheme string) func(t *testing.T, r *http.Request) {
		return func(t *testing.T, r *http.Request) {
			sign9421(t, r, "sig1", components, params, scheme, k.rsa)
		}
	}
	edPub := k.ed.Public()
	cases := []tc{
		{name: "standard", tls: true, setup: signStd(std, created+kid+`;alg="rsa-v1_5-sha256"`, "https")},
		{name: "alg absent", tls: true, setup: signStd(std, created+kid, "https")},
		{name: "Mastodon 4.5 style", tls: true, setup: signStd([]string{"@method", "@target-uri", "content-type", "content-digest"}, created+kid, "https")},
		{name: "@authority and @path", tls: true, setup: signStd([]string{"@method", "@authority", "@path", "@query", "content-digest"}, created+kid, "https")},
		{name: "ed25519", tls: true, lookup: staticLookup(edPub), setup: func(t *testing.T, r *http.Request) {
			sign9421(t, r, "sig1", std, created+kid+`;alg="ed25519"`, "https", k.ed)
		}},
		{name: "sha-512 content digest", tls: true, setup: func(t *testing.T, r *http.Request) {
			r.Header.Set("Content-Digest", "sha-512=:"+base64.StdEncoding.EncodeToString(sum512[:])+":")
			signStd(std, created+kid, "https")(t, r)
		}},
		{name: "behind proxy with X-Forwarded-Proto", setup: func(t *testing.T, r *http.Request) {
			r.Header.Set("X-Forwarded-Proto", "https")
			signStd(std, created+kid, "https")(t, r)
		}},
		{name: "no TLS, no X-Forwarded-Proto: https assumed", setup: signStd(std, created+kid, "https")},
		{name: "plain http deployment", setup: signStd(std, created+kid, "http")},
		{name: "X-Forwarded-Proto http, signed https", setup: func(t *testing.T, r *http.Request) {
			r.Header.Set("X-Forwarded-Proto", "http")
			signStd(std, created+kid, "https")(t, r)
		}, wantErr: ErrBadSignature},
		{name: "TLS, signed http", tls: true, setup: signStd(std, created+kid, "http"), wantErr: ErrBadSignature},
		{name: "two labels, first used", tls: true, setup: func(t *testing.T, r *http.Request) {
			signStd(std, created+kid, "https")(t, r)
			r.Header.Add("Signature-Input", `proxy=("@method");created=1;keyid="p"`)
			r.Header.Add("Signature", `proxy=:AAAA:`)
		}},
		{name: "no @method", tls: true, setup: signStd([]string{"@target-uri", "content-digest"}, created+kid, "https"), wantErr: ErrMissingHeader},
		{name: "no target", tls: true, setup: signStd([]string{"@method", "@authority", "content-digest"}, created+kid, "https"), wantErr: ErrMissingHeader},
		{name: "no content-digest on POST", tls: true, setup: signStd([]string{"@method", "@target-uri"}, created+kid, "https"), wantErr: ErrMissingHeader},
		{name: "no created", tls: true, setup: signStd(std, kid, "https"), wantErr: ErrMissingHeader},
		{name: "created 2 hours old", tls: true, setup: signStd(std, ";created="+strconv.FormatInt(testNow.Add(-2*time.Hour).Unix(), 10)+kid, "https"), wantErr: ErrDate},
		{name: "created 2 hours ahead", tls: true, setup: signStd(std, ";created="+strconv.FormatInt(testNow.Add(2*time.Hour).Unix(), 10)+kid, "https"), wantErr: ErrDate},
		{name: "expired", tls: true, setup: signStd(std, created+";expires="+strconv.FormatInt(testNow.Add(-time.Second).Unix(), 10)+kid, "https"), wantErr: ErrDate},
		{name: "not expired", tls: true, setup: signStd(std, created+";expires="+strconv.FormatInt(testNow.Add(time.Minute).Unix(), 10)+kid, "https")},
		{name: "rsa-pss-sha512", tls: true, setup: signStd(std, created+kid+`;alg="rsa-pss-sha512"`, "https"), wantErr: ErrUnsupported},
		{name: "hmac-sha256", tls: true, setup: signStd(std, created+kid+`;alg="hmac-sha256"`, "https"), wantErr: ErrUnsupported},
		{name: "ed25519 alg with RSA key", tls: true, setup: signStd(std, created+kid+`;alg="ed25519"`, "https"), wantErr: ErrUnsupported},
		{name: "missing keyid", tls: true, setup: signStd(std, created, "https"), wantErr: ErrMalformed},
		{name: "Signature-Input without Signature", tls: true, setup: func(t *testing.T, r *http.Request) {
			signStd(std, created+kid, "https")(t, r)
			r.Header.Del("Signature")
		}, wantErr: ErrMalformed},
		{name: "label mismatch", tls: true, setup: func(t *testing.T, r *http.Request) {
			signStd(std, created+kid, "https")(t, r)
			r.Header.Set("Signature", strings.Replace(r.Header.Get("Signature"), "sig1=", "sig2=", 1))
		}, wantErr: ErrMalformed},
		{name: "unparseable Signature-Input", tls: true, setup: func(t *testing.T, r *http.Request) {
			signStd(std, created+kid, "https")(t, r)
			r.Header.Set("Signature-Input", "sig1=(\"@method\"")
		}, wantErr: ErrMalformed},
		{name: "tampered Content-Digest", tls: true, setup: func(t *testing.T, r *http.Request) {
			r.Header.Set("Content-Digest", contentDigest([]byte("other")))
			signStd(std, created+kid, "https")(t, r)
		}, wantErr: ErrDigest},
		{name: "unknown-only Content-Digest", tls: true, setup: func(t *testing.T, r *http.Request) {
			r.Header.Set("Content-Digest", "md5=:AAAA:")
			signStd(std, created+kid, "https")(t, r)
		}, wantErr: ErrDigest},
		{name: "covered header absent", tls: true, setup: signStd(append(std, "x-missing"), created+kid, "https"), wantErr: ErrMissingHeader},
		{name: "signature by another key", tls: true, setup: func(t *testing.T, r *http.Request) {
			sign9421(t, r, "sig1", std, created+kid, "https", k.rsaOld)
		}, wantErr: ErrBadSignature},
		{name: "rotated key", tls: true, lookup: (&countingLookup{cached: &k.rsaOld.PublicKey, fresh: &k.rsa.PublicKey}).lookup, setup: signStd(std, created+kid, "https")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method := c.method
			if method == "" {
				method = http.MethodPost
			}
			r := serverRequest(method, "https://torget.example/groups/g/inbox", body, c.tls)
			r.Header.Set("Content-Type", "application/activity+json")
			r.Header.Set("Content-Digest", contentDigest(body))
			c.setup(t, r)
			lookup := c.lookup
			if lookup == nil {
				lookup = staticLookup(crypto.PublicKey(&k.rsa.PublicKey))
			}
			res, err := VerifyRequest(ctx(), r, body, testNow, lookup, VerifyOptions{})
			assertErr(t, err, c.wantErr)
			if c.wantErr == nil && (res.Scheme != SchemeRFC9421 || res.KeyID != testKeyID) {
				t.Errorf("Result = %+v", res)
			}
		})
	}
	t.Run("tampered body", func(t *testing.T) {
		cr, _ := http.NewRequest(http.MethodPost, "https://torget.example/inbox", nil)
		if err := SignRFC9421(cr, body, testKeyID, k.rsa, testNow); err != nil {
			t.Fatal(err)
		}
		other := []byte(`{"type":"Delete"}`)
		_, err := VerifyRequest(ctx(), toServer(cr, other), other, testNow, staticLookup(&k.rsa.PublicKey), VerifyOptions{})
		assertErr(t, err, ErrDigest)
	})
}

func TestParseDictionary(t *testing.T) {
	in := `sig1=("@method" "@target-uri" "content-digest");created=1618884473;keyid="test-key";alg="rsa-v1_5-sha256", sig2=:AQID:, flag;x=?1, n=-1.5`
	ms, err := parseDictionary(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 4 {
		t.Fatalf("got %d members", len(ms))
	}
	if ms[0].Raw != `("@method" "@target-uri" "content-digest");created=1618884473;keyid="test-key";alg="rsa-v1_5-sha256"` {
		t.Errorf("Raw = %q", ms[0].Raw)
	}
	if v, _ := ms[0].param("created"); v != int64(1618884473) {
		t.Errorf("created = %v", v)
	}
	if b, _ := ms[1].Item.Value.([]byte); string(b) != "\x01\x02\x03" {
		t.Errorf("sig2 = %v", ms[1].Item.Value)
	}
	if ms[2].Item.Value != true {
		t.Errorf("flag = %v", ms[2].Item.Value)
	}
	for _, bad := range []string{`a=1,a=2`, `A=1`, `a=(`, `a="x`, `a=:zz`, `a=1,`, `a=1 b=2`, `a=1;k=1;k=2`} {
		if _, err := parseDictionary(bad); err == nil {
			t.Errorf("parseDictionary(%q) succeeded", bad)
		}
	}
}
