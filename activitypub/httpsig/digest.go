package httpsig

import (
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
)

// Digest returns the value for a Digest header (RFC 3230 with the SHA-256
// algorithm of RFC 5843): "SHA-256=" + base64(sha256(body)). This is the form
// Mastodon sends and expects inside a draft-cavage signature.
func Digest(body []byte) string {
	sum := sha256.Sum256(body)
	return "SHA-256=" + base64.StdEncoding.EncodeToString(sum[:])
}

// contentDigest returns the value for an RFC 9530 Content-Digest header, a
// structured-field dictionary: "sha-256=:base64:".
func contentDigest(body []byte) string {
	sum := sha256.Sum256(body)
	return "sha-256=:" + base64.StdEncoding.EncodeToString(sum[:]) + ":"
}

// bodySum returns the digest of body under a digest algorithm name
// (lowercase), or nil when the algorithm is not one we recognise.
func bodySum(alg string, body []byte) []byte {
	switch alg {
	case "sha-256":
		s := sha256.Sum256(body)
		return s[:]
	case "sha-512":
		s := sha512.Sum512(body)
		return s[:]
	}
	return nil
}

// verifyDigestHeader checks an RFC 3230 Digest header against body.
//
// Peers may send several comma-separated instance digests
// ("SHA-256=…,SHA-512=…"), and RFC 3230 makes the algorithm name
// case-insensitive. At least one of SHA-256/SHA-512 must be present and every
// recognised one must match; unknown algorithms (MD5, UNIXsum, …) are ignored
// because we cannot check them, but cannot carry the request on their own.
func verifyDigestHeader(values []string, body []byte) error {
	if len(values) == 0 {
		return fmt.Errorf("%w: no Digest header", ErrDigest)
	}
	recognised := 0
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			alg, val, ok := strings.Cut(part, "=")
			if !ok {
				return fmt.Errorf("%w: malformed Digest element %q", ErrDigest, part)
			}
			want := bodySum(strings.ToLower(strings.TrimSpace(alg)), body)
			if want == nil {
				continue
			}
			recognised++
			got, err := decodeBase64(strings.TrimSpace(val))
			if err != nil {
				return fmt.Errorf("%w: bad base64 in Digest", ErrDigest)
			}
			if subtle.ConstantTimeCompare(got, want) != 1 {
				return fmt.Errorf("%w: %s mismatch", ErrDigest, alg)
			}
		}
	}
	if recognised == 0 {
		return fmt.Errorf("%w: no SHA-256 or SHA-512 digest", ErrDigest)
	}
	return nil
}

// verifyContentDigest checks an RFC 9530 Content-Digest header (a
// structured-field dictionary of byte sequences) against body, with the same
// policy as verifyDigestHeader.
func verifyContentDigest(values []string, body []byte) error {
	if len(values) == 0 {
		return fmt.Errorf("%w: no Content-Digest header", ErrDigest)
	}
	members, err := parseDictionary(strings.Join(values, ", "))
	if err != nil {
		return fmt.Errorf("%w: Content-Digest: %v", ErrDigest, err)
	}
	recognised := 0
	for _, m := range members {
		want := bodySum(m.Key, body)
		if want == nil {
			continue
		}
		recognised++
		got, ok := m.Item.Value.([]byte)
		if m.IsInner || !ok {
			return fmt.Errorf("%w: Content-Digest %s is not a byte sequence", ErrDigest, m.Key)
		}
		if subtle.ConstantTimeCompare(got, want) != 1 {
			return fmt.Errorf("%w: %s mismatch", ErrDigest, m.Key)
		}
	}
	if recognised == 0 {
		return fmt.Errorf("%w: no sha-256 or sha-512 digest", ErrDigest)
	}
	return nil
}

// decodeBase64 accepts padded standard base64 and, leniently, the unpadded
// form some implementations emit.
func decodeBase64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err == nil {
		return b, nil
	}
	if !strings.HasSuffix(s, "=") {
		if b, err2 := base64.RawStdEncoding.DecodeString(s); err2 == nil {
			return b, nil
		}
	}
	return nil, err
}
