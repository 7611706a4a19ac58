// Package uris builds every ActivityPub id and public URL torget serves,
// in one place, so that ids and routes cannot drift apart.
package uris

import (
	"net/url"
	"strings"
)

// Builder makes absolute URLs on one base ("https://social.example.se").
type Builder struct {
	Base   string // scheme://host[:port], no trailing slash
	Domain string // host[:port]
}

// New returns a Builder for base.
func New(base string) Builder {
	base = strings.TrimRight(base, "/")
	u, _ := url.Parse(base)
	d := ""
	if u != nil {
		d = u.Host
	}
	return Builder{Base: base, Domain: d}
}

// Route patterns (echo syntax) matching the builders below.
const (
	RouteInstanceActor = "/actor"
	RouteInstanceInbox = "/actor/inbox"
	RouteSharedInbox   = "/inbox"
	RouteGroup         = "/groups/:slug"
	RouteGroupInbox    = "/groups/:slug/inbox"
	RouteGroupOutbox   = "/groups/:slug/outbox"
	RouteFollowers     = "/groups/:slug/followers"
	RouteFollowing     = "/groups/:slug/following"
	RouteFeatured      = "/groups/:slug/featured"
	RouteModerators    = "/groups/:slug/moderators"
	RoutePost          = "/groups/:slug/posts/:id"
	RouteActivity      = "/activities/:id"
	RouteTag           = "/tags/:tag"
	RouteMedia         = "/media/*"
	RoutePostReplies   = "/groups/:slug/posts/:id/replies"
	RoutePostContext   = "/groups/:slug/posts/:id/context"
	RouteMediaProxy    = "/media/proxy"
)

func (b Builder) InstanceActor() string              { return b.Base + "/actor" }
func (b Builder) InstanceKey() string                { return b.InstanceActor() + "#main-key" }
func (b Builder) InstanceInbox() string              { return b.Base + "/actor/inbox" }
func (b Builder) SharedInbox() string                { return b.Base + "/inbox" }
func (b Builder) Group(slug string) string           { return b.Base + "/groups/" + slug }
func (b Builder) GroupKey(slug string) string        { return b.Group(slug) + "#main-key" }
func (b Builder) GroupInbox(slug string) string      { return b.Group(slug) + "/inbox" }
func (b Builder) GroupOutbox(slug string) string     { return b.Group(slug) + "/outbox" }
func (b Builder) Followers(slug string) string       { return b.Group(slug) + "/followers" }
func (b Builder) Following(slug string) string       { return b.Group(slug) + "/following" }
func (b Builder) Featured(slug string) string        { return b.Group(slug) + "/featured" }
func (b Builder) Moderators(slug string) string      { return b.Group(slug) + "/moderators" }
func (b Builder) Post(slug, id string) string        { return b.Group(slug) + "/posts/" + id }
func (b Builder) PostReplies(slug, id string) string { return b.Post(slug, id) + "/replies" }
func (b Builder) PostContext(slug, id string) string { return b.Post(slug, id) + "/context" }
func (b Builder) Activity(id string) string          { return b.Base + "/activities/" + id }
func (b Builder) Tag(tag string) string              { return b.Base + "/tags/" + url.PathEscape(tag) }

// Media is the public URL of a stored media object; keys are made of
// URL-safe characters only (media.ValidKey).
func (b Builder) Media(key string) string { return b.Base + "/media/" + key }

// Page URLs take a cursor in the path, not the query: signed fetches from
// Fedify leave the query out of (request-target), so ids peers fetch must
// not carry one.
func (b Builder) OutboxPage(slug string, before int64) string {
	return b.GroupOutbox(slug) + "/page/" + itoa(before)
}

// FollowersPage is one page of the followers collection.
func (b Builder) FollowersPage(slug string, after int64) string {
	return b.Followers(slug) + "/page/" + itoa(after)
}

// IsLocal reports whether iri is on our origin.
func (b Builder) IsLocal(iri string) bool {
	u, err := url.Parse(iri)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Scheme+"://"+u.Host, b.Base)
}

// GroupSlug returns the slug if iri is one of our group actor ids.
func (b Builder) GroupSlug(iri string) (string, bool) {
	p := b.Base + "/groups/"
	if !strings.HasPrefix(iri, p) {
		return "", false
	}
	slug := iri[len(p):]
	if slug == "" || strings.ContainsAny(slug, "/#?") {
		return "", false
	}
	return slug, true
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// MediaProxy is the URL our size-limited, cached media proxy serves a
// remote image at ("" for a URL that is not http(s)).
func (b Builder) MediaProxy(remote string) string {
	u, err := url.Parse(remote)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	return b.Base + RouteMediaProxy + "?url=" + url.QueryEscape(remote)
}
