package web

import (
	"sync"
	"time"
)

// pageTTL bounds how stale a cached public page may be. Posts published on
// this node show at once (the content version changes); posts published on
// another node of the same site show within this time.
const pageTTL = 5 * time.Second

// pageCache keeps rendered public pages: a group's front page is what
// visitors without a fediverse account load most, and rendering it (a query
// and twenty posts through html/template) costs far more than serving it.
type pageCache struct {
	mu sync.Mutex
	m  map[string]cachedPage
}

type cachedPage struct {
	body    []byte
	version uint64
	at      time.Time
}

func (c *pageCache) get(key string, version uint64) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.m[key]
	if !ok || p.version != version || time.Since(p.at) > pageTTL {
		return nil, false
	}
	return p.body, true
}

func (c *pageCache) put(key string, version uint64, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 1000 {
		c.m = map[string]cachedPage{}
	}
	c.m[key] = cachedPage{body: body, version: version, at: time.Now()}
}
