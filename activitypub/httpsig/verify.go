package httpsig

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Scheme names reported in Result.Scheme.
const (
	SchemeCavage  = "draft-cavage"
	SchemeRFC9421 = "rfc9421"
)

// VerifyOptions tune VerifyRequest. Zero values mean the defaults given.
type VerifyOptions struct {
	// MaxAge is how far in the past Date (or created) may be. Default 65
	// minutes, Mastodon's window (one hour plus clock skew).
	MaxAge time.Duration
	// MaxFuture is how far in the future Date (or created) may be.
	// Default 60 minutes.
	MaxFuture time.Duration
	// RequireDigest requires a signed, matching digest even for a request
	// without a body. VerifyRequest always requires one when len(body) > 0
	// or the method is POST.
	RequireDigest bool
}

const (
	defaultMaxAge    = 65 * time.Minute
	defaultMaxFuture = 60 * time.Minute
)

func (o VerifyOptions) withDefaults() VerifyOptions {
	if o.MaxAge <= 0 {
		o.MaxAge = defaultMaxAge
	}
	if o.MaxFuture <= 0 {
		o.MaxFuture = defaultMaxFuture
	}
	return o
}

// needDigest reports whether the signature must cover a body digest.
func (o VerifyOptions) needDigest(r *http.Request, body []byte) bool {
	return o.RequireDigest || len(body) > 0 || strings.EqualFold(r.Method, http.MethodPost)
}

// inWindow reports whether t lies within [now-MaxAge, now+MaxFuture].
func (o VerifyOptions) inWindow(t, now time.Time) bool {
	return !t.Before(now.Add(-o.MaxAge)) && !t.After(now.Add(o.MaxFuture))
}

// Result says who signed a request.
type Result struct {
	// KeyID is the signer's key id (keyId / keyid), e.g.
	// "https://example.org/users/x#main-key" or ".../users/x/main-key".
	KeyID string
	// Scheme is SchemeCavage ("draft-cavage") or SchemeRFC9421 ("rfc9421").
	Scheme string
	// Algorithm is the algorithm as the signer named it, e.g. "rsa-sha256",
	// "hs2019", "rsa-v1_5-sha256"; "" when the signer left it out.
	Algorithm string
}

// VerifyRequest verifies an incoming request's HTTP signature. Call it
// before answering: a strict peer takes 202 as "delivered" and never
// retries, so a request must not be accepted and then fail verification
// later (INTEROP.md). Answer 401 on any error; Fedify then retries in the
// other signature scheme ("double knock").
//
// body is the complete request body, already read by the caller; r.Body is
// not touched. now is the current time.
//
// If the request carries a Signature-Input header, it is verified as an RFC
// 9421 signature (Fedify, Mastodon ≥ 4.5); otherwise the Signature header,
// or "Authorization: Signature …" as some older servers send, is verified as
// a draft-cavage-http-signatures-12 signature. Beyond the cryptographic
// check, VerifyRequest enforces what the drafts leave to the verifier and
// what lenient peers have been seen to skip: the signature must cover the
// request target, host and date (or created), and a digest of the body for
// POST or whenever a body is present; the date must lie inside the window of
// opt; the digest must match body.
//
// lookup is called with refresh=false; if the signature does not verify it
// is called once more with refresh=true, for a signer that rotated its key.
//
// The returned error wraps one of the package's Err values (test with
// errors.Is). On error the Result may carry the KeyID for logging; trust it
// only when err is nil.
func VerifyRequest(ctx context.Context, r *http.Request, body []byte, now time.Time, lookup KeyLookup, opt VerifyOptions) (Result, error) {
	opt = opt.withDefaults()
	if len(r.Header.Values("Signature-Input")) > 0 {
		return verifyRFC9421(ctx, r, body, now, lookup, opt)
	}
	raw := r.Header.Values("Signature")
	if len(raw) == 0 {
		for _, a := range r.Header.Values("Authorization") {
			scheme, rest, _ := strings.Cut(strings.TrimSpace(a), " ")
			if strings.EqualFold(scheme, "Signature") {
				raw = append(raw, rest)
			}
		}
	}
	if len(raw) == 0 {
		return Result{}, ErrNoSignature
	}
	// Several Signature fields are joined like any repeated header; if they
	// repeat a parameter the parser reports the header as malformed.
	p, err := parseCavage(strings.Join(raw, ","))
	if err != nil {
		return Result{}, err
	}
	res := Result{KeyID: p.KeyID, Scheme: SchemeCavage, Algorithm: p.Algorithm}

	alg := strings.ToLower(p.Algorithm)
	switch alg {
	case "", "rsa-sha256", "hs2019":
	default:
		// rsa-sha1 is obsolete, hmac-* needs shared secrets, ecdsa-sha256
		// is not used in the fediverse.
		return res, fmt.Errorf("%w: algorithm %q", ErrUnsupported, p.Algorithm)
	}

	if !slices.Contains(p.Headers, "(request-target)") {
		return res, fmt.Errorf("%w: (request-target) not signed", ErrMissingHeader)
	}
	if !slices.Contains(p.Headers, "host") {
		return res, fmt.Errorf("%w: host not signed", ErrMissingHeader)
	}
	signsDate := slices.Contains(p.Headers, "date")
	signsCreated := slices.Contains(p.Headers, "(created)")
	if !signsDate && !signsCreated {
		return res, fmt.Errorf("%w: neither date nor (created) signed", ErrMissingHeader)
	}
	signsDigest := slices.Contains(p.Headers, "digest")
	if opt.needDigest(r, body) && !signsDigest {
		return res, fmt.Errorf("%w: digest not signed", ErrMissingHeader)
	}

	// Build the signing string first: it reports signed-but-absent headers.
	ss, err := cavageSigningString(r, p)
	if err != nil {
		return res, err
	}

	if signsDate {
		d, err := http.ParseTime(r.Header.Get("Date"))
		if err != nil {
			return res, fmt.Errorf("%w: unparseable Date %q", ErrDate, r.Header.Get("Date"))
		}
		if !opt.inWindow(d, now) {
			return res, fmt.Errorf("%w: Date %s", ErrDate, d.Format(time.RFC3339))
		}
	}
	if p.HasCreated && !opt.inWindow(time.Unix(p.Created, 0), now) {
		return res, fmt.Errorf("%w: created %d", ErrDate, p.Created)
	}
	if p.HasExpires && now.After(time.Unix(p.Expires, 0)) {
		return res, fmt.Errorf("%w: expired at %d", ErrDate, p.Expires)
	}

	if signsDigest {
		if err := verifyDigestHeader(r.Header.Values("Digest"), body); err != nil {
			return res, err
		}
	}

	err = verifyWithLookup(ctx, p.KeyID, lookup, func(key crypto.PublicKey) error {
		return verifyCavageSig(key, alg, []byte(ss), p.Signature)
	})
	return res, err
}

// verifyCavageSig checks one draft-cavage signature under key.
//
// "hs2019" names no algorithm by itself (draft §2.3 "derived from metadata
// associated with keyId"): GoToSocial sends it for RSA-SHA256 signatures,
// and for an Ed25519 key it means Ed25519. An absent algorithm is derived
// from the key the same way. "rsa-sha256" requires an RSA key.
func verifyCavageSig(key crypto.PublicKey, alg string, msg, sig []byte) error {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return verifyRSA(k, msg, sig)
	case ed25519.PublicKey:
		if alg == "rsa-sha256" {
			return fmt.Errorf("%w: rsa-sha256 with an Ed25519 key", ErrUnsupported)
		}
		return verifyEd25519(k, msg, sig)
	case *ed25519.PublicKey:
		if alg == "rsa-sha256" || k == nil {
			return fmt.Errorf("%w: rsa-sha256 with an Ed25519 key", ErrUnsupported)
		}
		return verifyEd25519(*k, msg, sig)
	}
	return fmt.Errorf("%w: key type %T", ErrUnsupported, key)
}

func verifyRSA(k *rsa.PublicKey, msg, sig []byte) error {
	if k == nil {
		return fmt.Errorf("%w: nil key", ErrUnsupported)
	}
	sum := sha256.Sum256(msg)
	if err := rsa.VerifyPKCS1v15(k, crypto.SHA256, sum[:], sig); err != nil {
		return fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return nil
}

func verifyEd25519(k ed25519.PublicKey, msg, sig []byte) error {
	if len(k) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: bad Ed25519 key length %d", ErrUnsupported, len(k))
	}
	if !ed25519.Verify(k, msg, sig) {
		return ErrBadSignature
	}
	return nil
}

// verifyWithLookup fetches the key (cached), runs verify, and on failure
// fetches it once more bypassing the cache, for signers that rotated their
// key. Lookup failures wrap ErrKeyUnavailable.
func verifyWithLookup(ctx context.Context, keyID string, lookup KeyLookup, verify func(crypto.PublicKey) error) error {
	if lookup == nil {
		return fmt.Errorf("%w: no key lookup", ErrKeyUnavailable)
	}
	get := func(refresh bool) (crypto.PublicKey, error) {
		k, err := lookup(ctx, keyID, refresh)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrKeyUnavailable, keyID, err)
		}
		if k == nil {
			return nil, fmt.Errorf("%w: %s: no key", ErrKeyUnavailable, keyID)
		}
		return k, nil
	}
	key, err := get(false)
	if err != nil {
		return err
	}
	if err := verify(key); err == nil {
		return nil
	}
	key, err = get(true)
	if err != nil {
		return err
	}
	return verify(key)
}
