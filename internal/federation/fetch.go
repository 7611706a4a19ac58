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
	var owner string
	_, err := httpsig.VerifyRequest(ctx, r, nil, s.opt.Now(), func(ctx context.Context, keyID string, refresh bool) (crypto.PublicKey, error) {
		k, err := s.lookupKey(ctx, keyID, refresh)
		if err != nil {
			return nil, err
		}
		owner = k.owner
		return k.key, nil
	}, httpsig.VerifyOptions{MaxAge: s.opt.SignatureMaxAge, MaxFuture: s.opt.SignatureMaxFuture})
	if err != nil {
		return "", err
	}
	return owner, nil
}
