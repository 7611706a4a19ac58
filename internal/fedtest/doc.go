// Package fedtest provides fake remote fediverse servers for torget's
// integration tests.
//
// Each Server is an httptest TLS server on loopback with one RSA-2048 key per
// local user. It behaves like Mastodon in "authorized fetch" (secure) mode: it
// serves WebFinger and actor documents, verifies the draft-cavage HTTP
// signatures of every inbox POST synchronously (fetching the signer's actor
// with a signed GET), records what it received, and can send signed
// activities and signed GETs of its own.
//
// The package deliberately uses only the standard library and none of
// torget's own packages, so that torget's signing and verification code is
// checked against an independent implementation.
package fedtest
