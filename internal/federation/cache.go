package federation

import (
	"context"
	"sync"
	"time"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/internal/store"
)

// groupCacheTTL bounds how long a node serves a group's profile from memory.
// Groups change rarely; with several nodes an edit shows everywhere within
// this time.
const groupCacheTTL = 30 * time.Second

// groupCache keeps groups and their encoded actor documents: WebFinger and
// actor fetches are the most frequent requests a group server gets, and
// encoding the actor through go-fed costs more than serving it.
type groupCache struct {
	mu sync.RWMutex
	m  map[string]groupEntry
}

type groupEntry struct {
	g     *store.Group
	actor []byte
	at    time.Time
}

func (c *groupCache) get(slug string) (groupEntry, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	e, ok := c.m[slug]
	return e, ok && time.Since(e.at) < groupCacheTTL
}

func (c *groupCache) put(slug string, e groupEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[string]groupEntry{}
	}
	c.m[slug] = e
}

func (c *groupCache) forget(slug string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, slug)
}

// Group returns a group by slug, from memory when fresh. The returned
// group must not be modified.
func (s *Service) Group(ctx context.Context, slug string) (*store.Group, error) {
	e, err := s.groupEntry(ctx, slug)
	return e.g, err
}

// GroupActorJSON returns the group's encoded actor document.
func (s *Service) GroupActorJSON(ctx context.Context, slug string) ([]byte, error) {
	e, err := s.groupEntry(ctx, slug)
	return e.actor, err
}

func (s *Service) groupEntry(ctx context.Context, slug string) (groupEntry, error) {
	if e, ok := s.groups.get(slug); ok {
		return e, nil
	}
	g, err := s.store.GroupBySlug(ctx, slug)
	if err != nil {
		return groupEntry{}, err
	}
	body, err := activitypub.EncodeActor(s.GroupActor(g))
	if err != nil {
		return groupEntry{}, err
	}
	e := groupEntry{g: g, actor: body, at: time.Now()}
	s.groups.put(slug, e)
	return e, nil
}

// InstanceActorJSON returns the instance actor's encoded document.
func (s *Service) InstanceActorJSON() []byte { return s.instanceJSON }

// followerCounts caches accepted-follower counts: a COUNT over a large
// group's followers is too slow to run on every page view.
type followerCounts struct {
	mu sync.Mutex
	m  map[int64]countEntry
}

type countEntry struct {
	n  int64
	at time.Time
}

// FollowerCount returns a group's accepted followers, at most
// groupCacheTTL old.
func (s *Service) FollowerCount(ctx context.Context, groupID int64) (int64, error) {
	s.counts.mu.Lock()
	e, ok := s.counts.m[groupID]
	s.counts.mu.Unlock()
	if ok && time.Since(e.at) < groupCacheTTL {
		return e.n, nil
	}
	n, err := s.store.CountFollowers(ctx, groupID, store.FollowAccepted)
	if err != nil {
		return 0, err
	}
	s.counts.mu.Lock()
	if s.counts.m == nil || len(s.counts.m) > 10000 {
		s.counts.m = map[int64]countEntry{}
	}
	s.counts.m[groupID] = countEntry{n, time.Now()}
	s.counts.mu.Unlock()
	return n, nil
}

// ContentVersion changes whenever this node publishes, edits or deletes a
// post: caches of rendered pages compare it to know they are stale.
func (s *Service) ContentVersion() uint64 { return s.contentVersion.Load() }

func (s *Service) contentChanged() { s.contentVersion.Add(1) }
