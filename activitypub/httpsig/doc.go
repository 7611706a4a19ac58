// Package httpsig signs and verifies HTTP requests the way fediverse servers
// do: draft-cavage-http-signatures-12 (algorithms rsa-sha256 and hs2019),
// with the checks a verifier must add itself: the Digest of the body, the
// Date window, and the minimum set of signed headers.
package httpsig
