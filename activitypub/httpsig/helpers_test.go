package httpsig

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testKeyID = "https://example.org/users/x#main-key"

// testNow is the fixed "current time" of the tests.
var testNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

type testKeySet struct {
	rsa      *rsa.PrivateKey // the signer's current key
	rsaOld   *rsa.PrivateKey // a rotated-out key, or an attacker's key
	ed       ed25519.PrivateKey
	ecdsaPub *ecdsa.PublicKey
}

var (
	keysOnce sync.Once
	keysVal  testKeySet
)

// testKeys generates the test keys once per test binary: RSA-2048 key
// generation dominates the run time otherwise.
func testKeys(tb testing.TB) testKeySet {
	tb.Helper()
	keysOnce.Do(func() {
		var err error
		if keysVal.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if keysVal.rsaOld, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if _, keysVal.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
		ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		keysVal.ecdsaPub = &ec.PublicKey
	})
	return keysVal
}

// staticLookup returns a KeyLookup that always answers pub.
func staticLookup(pub crypto.PublicKey) KeyLookup {
	return func(context.Context, string, bool) (crypto.PublicKey, error) { return pub, nil }
}

// countingLookup answers cached for refresh=false and fresh for
// refresh=true, counting the refreshes.
type countingLookup struct {
	cached, fresh crypto.PublicKey
	errCached     error
	errFresh      error
	refreshes     atomic.Int32
	calls         atomic.Int32
	lastKeyID     string
}

func (c *countingLookup) lookup(_ context.Context, keyID string, refresh bool) (crypto.PublicKey, error) {
	c.calls.Add(1)
	c.lastKeyID = keyID
	if refresh {
		c.refreshes.Add(1)
		return c.fresh, c.errFresh
	}
	return c.cached, c.errCached
}

// serverRequest builds a request as Go's HTTP server hands it to a handler:
// origin-form RequestURI, Host moved from the header to r.Host, no scheme in
// r.URL, r.TLS set when the connection was TLS.
func serverRequest(method, rawURL string, body []byte, tlsConn bool) *http.Request {
	cr := httptest.NewRequest(method, rawURL, nil) // parses the URL for us
	r := httptest.NewRequest(method, cr.URL.RequestURI(), bytes.NewReader(body))
	r.Host = cr.URL.Host
	if tlsConn {
		r.TLS = &tls.ConnectionState{}
	} else {
		r.TLS = nil
	}
	return r
}

// toServer turns a signed client request into the request the server sees.
func toServer(cr *http.Request, body []byte) *http.Request {
	r := serverRequest(cr.Method, cr.URL.String(), body, cr.URL.Scheme == "https")
	if cr.Host != "" {
		r.Host = cr.Host
	}
	for k, vs := range cr.Header {
		r.Header[k] = append([]string(nil), vs...)
	}
	return r
}

// signCavage signs r (a server-side request) over headers with signer, using
// a signing string built independently of the package code. params are
// extra raw parameters placed before signature (e.g. `created=123`).
func signCavage(tb testing.TB, r *http.Request, headers []string, alg, keyID string, signer crypto.Signer, params ...string) {
	tb.Helper()
	var lines []string
	var created, expires string
	for _, p := range params {
		if v, ok := strings.CutPrefix(p, "created="); ok {
			created = v
		}
		if v, ok := strings.CutPrefix(p, "expires="); ok {
			expires = v
		}
	}
	for _, h := range headers {
		lh := strings.ToLower(h)
		var v string
		switch lh {
		case "(request-target)":
			v = strings.ToLower(r.Method) + " " + r.URL.RequestURI()
		case "host":
			v = r.Host
		case "(created)":
			v = created
		case "(expires)":
			v = expires
		default:
			v = strings.Join(r.Header.Values(lh), ", ")
		}
		lines = append(lines, lh+": "+v)
	}
	sig := signBytes(tb, signer, []byte(strings.Join(lines, "\n")))
	hdr := `keyId="` + keyID + `"`
	if alg != "" {
		hdr += `,algorithm="` + alg + `"`
	}
	for _, p := range params {
		hdr += "," + p
	}
	hdr += `,headers="` + strings.Join(headers, " ") + `",signature="` + base64.StdEncoding.EncodeToString(sig) + `"`
	r.Header.Set("Signature", hdr)
}

func signBytes(tb testing.TB, signer crypto.Signer, msg []byte) []byte {
	tb.Helper()
	var (
		sig []byte
		err error
	)
	switch k := signer.(type) {
	case *rsa.PrivateKey:
		sum := sha256.Sum256(msg)
		sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
	case ed25519.PrivateKey:
		sig = ed25519.Sign(k, msg)
	default:
		tb.Fatalf("unsupported signer %T", signer)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return sig
}

// sign9421 signs r (server-side) with an RFC 9421 signature over components,
// with the given raw signature parameters (";created=…;keyid=…"), building
// the signature base independently of the package code. targetScheme is the
// scheme the signer used in @target-uri.
func sign9421(tb testing.TB, r *http.Request, label string, components []string, rawParams, targetScheme string, signer crypto.Signer) {
	tb.Helper()
	var quoted []string
	for _, c := range components {
		quoted = append(quoted, strconv.Quote(c))
	}
	sigParams := "(" + strings.Join(quoted, " ") + ")" + rawParams
	var b strings.Builder
	for _, c := range components {
		var v string
		switch c {
		case "@method":
			v = r.Method
		case "@target-uri":
			v = targetScheme + "://" + r.Host + r.URL.RequestURI()
		case "@authority":
			v = r.Host
		case "@path":
			v = r.URL.Path
		case "@query":
			v = "?" + r.URL.RawQuery
		case "@request-target":
			v = r.URL.RequestURI()
		default:
			v = strings.Join(r.Header.Values(c), ", ")
		}
		b.WriteString(strconv.Quote(c) + ": " + v + "\n")
	}
	b.WriteString(`"@signature-params": ` + sigParams)
	sig := signBytes(tb, signer, []byte(b.String()))
	r.Header.Set("Signature-Input", label+"="+sigParams)
	r.Header.Set("Signature", label+"=:"+base64.StdEncoding.EncodeToString(sig)+":")
}

// assertErr fails unless err wraps want (want == nil: err must be nil).
func assertErr(tb testing.TB, err, want error) {
	tb.Helper()
	if want == nil {
		if err != nil {
			tb.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !errors.Is(err, want) {
		tb.Fatalf("error = %v, want %v", err, want)
	}
}

func testBody(n int) []byte {
	b := bytes.Repeat([]byte(`{"type":"Create","object":"x"}`), n/30+1)
	return b[:n]
}

func ctx() context.Context { return context.Background() }
