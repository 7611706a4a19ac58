package federation

import (
	"context"
	"crypto"
	"net/http"

	"github.com/torget/torget/activitypub/httpsig"
)

// VerifyFetcher verifies a signed GET (authorized fetch) and returns the
// actor that owns the signing key. An unsigned or badly signed request
// returns an error; the caller decides what an anonymous reader may see.
func (s *Service) VerifyFetcher(ctx context.Context, r *http.Request) (string, error) {
	_, owner, err := s.verifySignature(ctx, r, nil)
	return owner, err
}

// verifySignature verifies r's HTTP signature (body is what was read of
// it, nil for a GET) with the signer's key, fetched or cached, and
// returns the result and the key's owner.
func (s *Service) verifySignature(ctx context.Context, r *http.Request, body []byte) (httpsig.Result, string, error) {
	var owner string
	res, err := httpsig.VerifyRequest(ctx, r, body, s.opt.Now(), func(ctx context.Context, keyID string, refresh bool) (crypto.PublicKey, error) {
		k, err := s.lookupKey(ctx, keyID, refresh)
		if err != nil {
			return nil, err
		}
		owner = k.owner
		return k.key, nil
	}, httpsig.VerifyOptions{MaxAge: s.opt.SignatureMaxAge, MaxFuture: s.opt.SignatureMaxFuture})
	return res, owner, err
}
