package httpsig

import (
	"context"
	"crypto"
	"errors"
)

// Verification errors. Every one of them means "answer 401".
var (
	ErrNoSignature    = errors.New("httpsig: request is not signed")
	ErrMalformed      = errors.New("httpsig: malformed signature header")
	ErrMissingHeader  = errors.New("httpsig: a required header is not signed")
	ErrDate           = errors.New("httpsig: date outside the accepted window")
	ErrDigest         = errors.New("httpsig: digest does not match the body")
	ErrBadSignature   = errors.New("httpsig: signature does not verify")
	ErrUnsupported    = errors.New("httpsig: unsupported algorithm")
	ErrKeyUnavailable = errors.New("httpsig: key could not be obtained")
)

// KeyLookup returns the public key for a keyId. refresh=true asks the caller
// to bypass its cache and fetch the key again (key rotation): VerifyRequest
// calls it once with false and, if the signature does not verify, once more
// with true.
type KeyLookup func(ctx context.Context, keyID string, refresh bool) (crypto.PublicKey, error)
