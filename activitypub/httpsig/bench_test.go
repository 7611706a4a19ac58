package httpsig

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"net/http"
	"testing"
)

// BenchmarkSign signs a POST with a 1 KiB body (RSA-2048).
func BenchmarkSign(b *testing.B) {
	k := testKeys(b)
	body := testBody(1024)
	r, _ := http.NewRequest(http.MethodPost, "https://remote.example/users/y/inbox", nil)
	b.ReportAllocs()
	for b.Loop() {
		if err := Sign(r, body, testKeyID, k.rsa, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify verifies a signed POST with a 1 KiB body (RSA-2048),
// key lookup being a cache hit.
func BenchmarkVerify(b *testing.B) {
	k := testKeys(b)
	body := testBody(1024)
	cr, _ := http.NewRequest(http.MethodPost, "https://torget.example/groups/g/inbox", nil)
	if err := Sign(cr, body, testKeyID, k.rsa, testNow); err != nil {
		b.Fatal(err)
	}
	r := toServer(cr, body)
	lookup := staticLookup(&k.rsa.PublicKey)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := VerifyRequest(ctx(), r, body, testNow, lookup, VerifyOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRSASign2048 is the raw PKCS#1 v1.5 signing baseline.
func BenchmarkRSASign2048(b *testing.B) {
	k := testKeys(b)
	sum := sha256.Sum256([]byte("signing string"))
	for b.Loop() {
		if _, err := rsa.SignPKCS1v15(rand.Reader, k.rsa, crypto.SHA256, sum[:]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRSAVerify2048 is the raw PKCS#1 v1.5 verification baseline.
func BenchmarkRSAVerify2048(b *testing.B) {
	k := testKeys(b)
	sum := sha256.Sum256([]byte("signing string"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.rsa, crypto.SHA256, sum[:])
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := rsa.VerifyPKCS1v15(&k.rsa.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}
