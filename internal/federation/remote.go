package federation

import (
	"context"
	"crypto"
	"crypto/rsa"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/activitypub/httpsig"
	"github.com/torget/torget/activitypub/transport"
	"github.com/torget/torget/internal/store"
)

// signGET signs fetches as the instance actor, so that servers in
// "authorized fetch" mode answer.
func (s *Service) signGET(r *http.Request, body []byte) error {
	keyID, key := s.InstanceKey()
	return httpsig.Sign(r, body, keyID, key, s.opt.Now())
}

// SignAs returns a transport.SignFunc signing with key; the signature is
// made afresh at every attempt (peers allow about an hour of clock skew).
func (s *Service) SignAs(keyID string, key *rsa.PrivateKey) transport.SignFunc {
	return func(r *http.Request, body []byte) error {
		return httpsig.Sign(r, body, keyID, key, s.opt.Now())
	}
}

// FetchActor returns a remote actor, from the cache unless it is older
// than the cache TTL or refresh is set. The fetched document's id must be
// the URL it was fetched from.
func (s *Service) FetchActor(ctx context.Context, iri string, refresh bool) (*store.RemoteActor, error) {
	if s.uris.IsLocal(iri) {
		return nil, fmt.Errorf("fetch actor %s: %w: local actor", iri, activitypub.ErrOrigin)
	}
	if !refresh {
		a, err := s.remoteActor(ctx, iri)
		if err == nil && s.opt.Now().Sub(a.FetchedAt) < s.opt.ActorCacheTTL {
			return a, nil
		}
	}
	body, final, err := s.client.Get(ctx, iri, s.signGET)
	if err != nil {
		return nil, fmt.Errorf("fetch actor %s: %w", iri, err)
	}
	act, err := activitypub.DecodeActor(body, s.opt.Limits)
	if err != nil {
		return nil, fmt.Errorf("fetch actor %s: %w", iri, err)
	}
	if act.ID != iri || act.ID != stripFragment(final) && final != iri {
		return nil, fmt.Errorf("fetch actor %s: document id %q differs: %w", iri, act.ID, activitypub.ErrOrigin)
	}
	return s.saveActor(ctx, act, string(body))
}

func (s *Service) saveActor(ctx context.Context, act *activitypub.Actor, raw string) (*store.RemoteActor, error) {
	ra := &store.RemoteActor{IRI: act.ID, Type: act.Type, Host: activitypub.Host(act.ID), KeyID: act.PublicKeyID,
		PublicKeyPEM: act.PublicKeyPEM, Inbox: act.Inbox, SharedInbox: act.SharedInbox,
		PreferredUsername: act.PreferredUsername, Name: act.Name, Raw: raw, FetchedAt: s.opt.Now().UTC()}
	s.lookups.forgetActor(act.ID)
	if err := s.store.UpsertRemoteActor(ctx, ra); err != nil {
		return nil, err
	}
	s.keys.forgetOwner(act.ID)
	return ra, nil
}

func stripFragment(u string) string {
	if i := strings.IndexByte(u, '#'); i >= 0 {
		return u[:i]
	}
	return u
}

// cachedKey is a parsed public key and the actor that owns it.
type cachedKey struct {
	key     crypto.PublicKey
	owner   string
	fetched time.Time
}

// keyCache keeps parsed keys in memory: verifying thousands of
// activities a second must not parse PEM or query the database each time.
type keyCache struct {
	mu  sync.RWMutex
	max int
	m   map[string]cachedKey
}

func newKeyCache(max int) *keyCache { return &keyCache{max: max, m: map[string]cachedKey{}} }

func (c *keyCache) get(keyID string) (cachedKey, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	k, ok := c.m[keyID]
	return k, ok
}

func (c *keyCache) put(keyID string, k cachedKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= c.max {
		// Evict a random tenth: cheap and good enough for a cache whose
		// misses cost one database read.
		n := c.max / 10
		for id := range c.m {
			if n <= 0 {
				break
			}
			if rand.IntN(2) == 0 {
				delete(c.m, id)
				n--
			}
		}
	}
	c.m[keyID] = k
}

func (c *keyCache) forgetOwner(owner string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, k := range c.m {
		if k.owner == owner {
			delete(c.m, id)
		}
	}
}

// minRefetchInterval is the least time between two fetches of one key.
const minRefetchInterval = time.Minute

// errKeyGone marks a key whose actor answered 404/410 (deleted actor).
var errKeyGone = errors.New("key owner is gone")

// lookupKey resolves a signature keyId to a public key and its owner,
// enforcing that the key's id shares the owner's origin and that the
// owner document lists exactly that key.
func (s *Service) lookupKey(ctx context.Context, keyID string, refresh bool) (cachedKey, error) {
	if _, err := activitypub.ParseIRI(keyID); err != nil {
		return cachedKey{}, err
	}
	if s.uris.IsLocal(keyID) {
		return cachedKey{}, fmt.Errorf("key %s: %w: a local key cannot sign remote requests", keyID, activitypub.ErrOrigin)
	}
	if refresh {
		// A refetch is what a bad signature buys: allow one per key and
		// minute, or anyone could make us hammer a victim's server.
		if k, ok := s.keys.get(keyID); ok && s.opt.Now().Sub(k.fetched) < minRefetchInterval {
			return k, nil
		}
	}
	if !refresh {
		if k, ok := s.keys.get(keyID); ok && s.opt.Now().Sub(k.fetched) < s.opt.ActorCacheTTL {
			return k, nil
		}
		if a, err := s.store.RemoteActorByKeyID(ctx, keyID); err == nil && a.GoneAt == nil && s.opt.Now().Sub(a.FetchedAt) < s.opt.ActorCacheTTL {
			return s.cacheActorKey(keyID, a)
		}
	}
	// The key id is the actor URL with a fragment (Mastodon: #main-key) or
	// a path of its own (GoToSocial: /main-key, which serves a stub with the
	// owner). Fetch it, then the owner if what came back is not the owner.
	body, final, err := s.client.Get(ctx, stripFragment(keyID), s.signGET)
	if err != nil {
		var se *transport.StatusError
		if errors.As(err, &se) && (se.Code == http.StatusGone || se.Code == http.StatusNotFound) {
			return cachedKey{}, fmt.Errorf("key %s: %w", keyID, errKeyGone)
		}
		return cachedKey{}, fmt.Errorf("key %s: %w", keyID, err)
	}
	act, err := activitypub.DecodeActor(body, s.opt.Limits)
	if err != nil || act.ID != stripFragment(final) {
		owner, oerr := keyOwner(body, s.opt.Limits)
		if oerr != nil {
			return cachedKey{}, fmt.Errorf("key %s: neither an actor nor a key document: %w", keyID, oerr)
		}
		if !activitypub.SameOrigin(owner, keyID) {
			return cachedKey{}, fmt.Errorf("key %s: owner %s: %w", keyID, owner, activitypub.ErrOrigin)
		}
		a, ferr := s.FetchActor(ctx, owner, true)
		if ferr != nil {
			return cachedKey{}, ferr
		}
		if a.KeyID != keyID {
			return cachedKey{}, fmt.Errorf("key %s: owner lists key %s: %w", keyID, a.KeyID, activitypub.ErrOrigin)
		}
		return s.cacheActorKey(keyID, a)
	}
	if act.PublicKeyID != keyID {
		return cachedKey{}, fmt.Errorf("key %s: actor %s lists key %q: %w", keyID, act.ID, act.PublicKeyID, activitypub.ErrOrigin)
	}
	a, err := s.saveActor(ctx, act, string(body))
	if err != nil {
		return cachedKey{}, err
	}
	return s.cacheActorKey(keyID, a)
}

func (s *Service) cacheActorKey(keyID string, a *store.RemoteActor) (cachedKey, error) {
	pub, err := ParsePublicKey(a.PublicKeyPEM)
	if err != nil {
		return cachedKey{}, fmt.Errorf("key %s: %w", keyID, err)
	}
	k := cachedKey{key: pub, owner: a.IRI, fetched: a.FetchedAt}
	s.keys.put(keyID, k)
	return k, nil
}

// keyOwner reads the owner of a standalone key document.
func keyOwner(body []byte, lim activitypub.Limits) (string, error) {
	m, err := activitypub.DecodeObject(body, lim)
	if err != nil {
		return "", err
	}
	owner, _ := m["owner"].(string)
	if owner == "" {
		if pk, ok := m["publicKey"].(map[string]any); ok {
			owner, _ = pk["owner"].(string)
		}
	}
	if owner == "" {
		return "", errors.New("no owner")
	}
	return owner, nil
}
