// Package httpsig signs and verifies HTTP requests the way fediverse servers
// do: draft-cavage-http-signatures-12 (algorithms rsa-sha256 and hs2019),
// with the checks a verifier must add itself: the Digest of the body, the
// Date window, and the minimum set of signed headers. It also verifies RFC
// 9421 HTTP Message Signatures with Content-Digest (RFC 9530), which Fedify
// and Mastodon ≥ 4.5 send.
//
// Outgoing requests are signed with Sign (draft-cavage, rsa-sha256), the one
// format every peer accepts; incoming requests are checked with
// VerifyRequest before the server answers.
package httpsig
