package federation

import (
	"context"
	"sync"
	"time"

	"github.com/torget/torget/internal/store"
)

// The inbox applies thousands of replies a second, nearly all to a few
// group posts by a few authors: the look-ups each reply makes (the post it
// answers, the post's group, the author's cached actor) are kept in memory
// here instead of costing a query each time.

// actorCacheTTL bounds how long a node keeps a remote actor row in memory.
// The row is the cache of the actor's document (Options.ActorCacheTTL);
// this only spares re-reading it. saveActor and MarkActorGone drop it.
const actorCacheTTL = 10 * time.Second

// lookupCache holds the hot path's look-ups.
type lookupCache struct {
	mu     sync.RWMutex
	posts  map[string]postRef // post IRI or public id → where it is (never changes)
	slugs  map[int64]string   // group id → slug (never changes)
	actors map[string]actorEntry
	hosts  map[string]time.Time // host → when DomainSeen last ran for it
}

// hostSeenEvery is how often a POST from a host checks its delivery
// breaker (DomainSeen): a host sending many activities a second need not
// check it for each.
const hostSeenEvery = time.Second

// hostDue reports whether DomainSeen should run for host now, and if so
// notes that it does.
func (c *lookupCache) hostDue(host string) bool {
	now := time.Now()
	c.mu.RLock()
	last, ok := c.hosts[host]
	c.mu.RUnlock()
	if ok && now.Sub(last) < hostSeenEvery {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	putBounded(&c.hosts, host, now)
	return true
}

// postRef is what the inbox needs of a group post: its id and group.
type postRef struct {
	postID, groupID int64
}

type actorEntry struct {
	a  store.RemoteActor
	at time.Time
}

const lookupCacheMax = 10000

// putBounded stores v under k in *m, starting the map afresh when it has
// grown past lookupCacheMax (the caller holds the cache's lock).
func putBounded[K comparable, V any](m *map[K]V, k K, v V) {
	if *m == nil || len(*m) > lookupCacheMax {
		*m = map[K]V{}
	}
	(*m)[k] = v
}

func (c *lookupCache) post(ref string) (postRef, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	p, ok := c.posts[ref]
	return p, ok
}

func (c *lookupCache) putPost(ref string, p postRef) {
	c.mu.Lock()
	defer c.mu.Unlock()
	putBounded(&c.posts, ref, p)
}

func (c *lookupCache) slug(id int64) (string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	s, ok := c.slugs[id]
	return s, ok
}

func (c *lookupCache) putSlug(id int64, slug string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	putBounded(&c.slugs, id, slug)
}

func (c *lookupCache) actor(iri string) (*store.RemoteActor, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.actors[iri]
	if !ok || time.Since(e.at) >= actorCacheTTL {
		return nil, false
	}
	a := e.a // a copy: callers may not change the cached row
	return &a, true
}

func (c *lookupCache) putActor(a *store.RemoteActor) {
	c.mu.Lock()
	defer c.mu.Unlock()
	putBounded(&c.actors, a.IRI, actorEntry{a: *a, at: time.Now()})
}

func (c *lookupCache) forgetActor(iri string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.actors, iri)
}

// groupByID returns a group by id from the group cache (see Group). The
// returned group must not be modified.
func (s *Service) groupByID(ctx context.Context, id int64) (*store.Group, error) {
	if slug, ok := s.lookups.slug(id); ok {
		return s.Group(ctx, slug)
	}
	g, err := s.store.GroupByID(ctx, id)
	if err != nil {
		return nil, err
	}
	s.lookups.putSlug(id, g.Slug)
	return g, nil
}

// postPlace finds the group post a reply refers to (by its id URL or
// public id): its id and group, from memory when seen before. The
// returned group must not be modified.
func (s *Service) postPlace(ctx context.Context, ref string) (int64, *store.Group, error) {
	if p, ok := s.lookups.post(ref); ok {
		g, err := s.groupByID(ctx, p.groupID)
		return p.postID, g, err
	}
	p, g, err := s.postForIRI(ctx, ref)
	if err != nil {
		return 0, nil, err
	}
	s.lookups.putPost(ref, postRef{postID: p.ID, groupID: g.ID})
	s.lookups.putSlug(g.ID, g.Slug)
	return p.ID, g, nil
}

// remoteActor reads a cached remote actor row, from memory when fresh.
func (s *Service) remoteActor(ctx context.Context, iri string) (*store.RemoteActor, error) {
	if a, ok := s.lookups.actor(iri); ok {
		return a, nil
	}
	a, err := s.store.RemoteActorByIRI(ctx, iri)
	if err != nil {
		return nil, err
	}
	s.lookups.putActor(a)
	return a, nil
}
