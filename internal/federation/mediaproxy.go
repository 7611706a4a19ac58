package federation

import (
	"container/list"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/torget/torget/internal/media"
)

// The media proxy shows residents' images (custom emoji, image
// attachments) without hot-linking: the page links to our proxy, which
// fetches the image once through the SSRF-guarded client (size-limited),
// checks by its bytes that it is a JPEG, PNG, GIF or WebP within the pixel
// limits (never SVG, which can carry script), and serves it from a bounded
// memory cache. A refused or failed image is remembered for a while, so a
// page full of references to a huge file does not fetch it again for each
// reader. Proxy URLs are signed, so the proxy fetches only what torget
// itself put on a page.

const (
	mediaCacheBytes  = 32 << 20
	mediaFailedCache = 10 * time.Minute
)

// proxyLimits bound what the proxy serves: a browser decodes every pixel.
var proxyLimits = media.Limits{MaxBytes: 16 << 20, MaxPixels: 16_000_000, MaxSide: 8000}

// ErrMediaRefused: the remote file is not a raster image within the limits.
var ErrMediaRefused = errors.New("not a raster image within the proxy's limits")

type mediaEntry struct {
	url, mediaType string
	body           []byte
	failed         time.Time // when fetching or checking it failed
	err            error
}

type mediaCache struct {
	mu    sync.Mutex
	ll    *list.List
	m     map[string]*list.Element
	bytes int
}

func (c *mediaCache) get(u string) (mediaEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[u]; ok {
		c.ll.MoveToFront(e)
		return e.Value.(mediaEntry), true
	}
	return mediaEntry{}, false
}

func (c *mediaCache) put(e mediaEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.ll, c.m = list.New(), map[string]*list.Element{}
	}
	if _, ok := c.m[e.url]; ok {
		return
	}
	c.m[e.url] = c.ll.PushFront(e)
	c.bytes += len(e.body)
	for c.bytes > mediaCacheBytes && c.ll.Len() > 1 {
		old := c.ll.Back()
		c.ll.Remove(old)
		oe := old.Value.(mediaEntry)
		delete(c.m, oe.url)
		c.bytes -= len(oe.body)
	}
}

func (c *mediaCache) drop(u string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[u]; ok {
		c.ll.Remove(e)
		delete(c.m, u)
		c.bytes -= len(e.Value.(mediaEntry).body)
	}
}

func (s *Service) mediaKey() []byte {
	s.mediaKeyOnce.Do(func() {
		h := sha256.New()
		h.Write([]byte("torget media proxy\x00"))
		if s.instanceKey != nil {
			h.Write(x509.MarshalPKCS1PrivateKey(s.instanceKey))
		}
		s.mediaSecret = h.Sum(nil)
	})
	return s.mediaSecret
}

func (s *Service) mediaSig(remote string) string {
	m := hmac.New(sha256.New, s.mediaKey())
	m.Write([]byte(remote))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// MediaURL is the signed proxy URL of a remote image ("" if not http(s)).
func (s *Service) MediaURL(remote string) string {
	u := s.uris.MediaProxy(remote)
	if u == "" {
		return ""
	}
	return u + "&sig=" + s.mediaSig(remote)
}

// ProxyMedia returns a remote image for the proxy, from the cache or
// fetched once. ok is false for a URL torget did not sign.
func (s *Service) ProxyMedia(ctx context.Context, remote, sig string) (body []byte, mediaType string, ok bool, err error) {
	if !hmac.Equal([]byte(sig), []byte(s.mediaSig(remote))) {
		return nil, "", false, nil
	}
	now := s.opt.Now()
	if e, hit := s.media.get(remote); hit {
		if e.failed.IsZero() {
			return e.body, e.mediaType, true, nil
		}
		if now.Sub(e.failed) < mediaFailedCache {
			return nil, "", true, e.err
		}
		s.media.drop(remote)
	}
	body, _, err = s.client.GetImage(ctx, remote)
	if err == nil {
		var mt string
		if mt, err = media.Inspect(body, proxyLimits); err == nil {
			s.media.put(mediaEntry{url: remote, mediaType: mt, body: body})
			return body, mt, true, nil
		}
		err = fmt.Errorf("%w: %v", ErrMediaRefused, err)
	}
	if ctx.Err() == nil { // not the reader going away
		s.media.put(mediaEntry{url: remote, failed: now, err: err})
	}
	return nil, "", true, err
}
