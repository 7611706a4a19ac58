// Package webfinger holds the WebFinger (RFC 7033) and host-meta (RFC 6415)
// types torget serves and consumes.
//
// Fediverse quirks handled here:
//   - Peers query with ?resource=acct:user@host, but many send it
//     percent-encoded (acct%3Auser%40host); some clients even encode it twice,
//     so ParseResource tolerates one extra level of encoding.
//   - Users type "@user@host" and "user@host"; both are accepted leniently.
//   - The user part is case-sensitive (GoToSocial and Mastodon compare the
//     subject exactly), while the host is a DNS name and compared
//     case-insensitively.
//   - The actor link is rel="self" with type application/activity+json, or
//     application/ld+json with the ActivityStreams profile.
package webfinger

import (
	"encoding/xml"
	"errors"
	"mime"
	"net/url"
	"strings"
)

// ActivityStreamsProfile is the JSON-LD profile that identifies an
// ActivityStreams document served as application/ld+json.
const ActivityStreamsProfile = "https://www.w3.org/ns/activitystreams"

// ContentType is the media type of a WebFinger response (RFC 7033 §10.2).
const ContentType = "application/jrd+json"

// JRD is a WebFinger JSON Resource Descriptor (RFC 7033).
//
// Subject is the canonical acct: URI of the account; a client that looked up
// a different resource must not trust the answer unless it verifies it (see
// the transport package's LookupWebFinger). Links is always serialised as an
// array; set it to an empty slice, not nil, when serving (nil marshals as null,
// which some peers reject).
type JRD struct {
	Subject string   `json:"subject"`
	Aliases []string `json:"aliases,omitempty"`
	Links   []Link   `json:"links"`
}

// Link is one entry of a JRD's links. Rel is a registered relation name
// ("self", "http://webfinger.net/rel/profile-page") or a URI; Template is used
// instead of Href by OStatus's subscribe link
// ("http://ostatus.org/schema/1.0/subscribe", with a {uri} placeholder).
type Link struct {
	Rel      string `json:"rel"`
	Type     string `json:"type,omitempty"`
	Href     string `json:"href,omitempty"`
	Template string `json:"template,omitempty"`
}

// Resource is a parsed ?resource= value: either an acct: URI (User and Host
// set, URL empty) or an absolute http(s) URL (URL set, Host set to its
// lowercased host[:port], User empty).
type Resource struct {
	User, Host string
	URL        string
}

// ErrResource is returned (wrapped) by ParseResource for values that are
// neither an acct: URI nor an absolute http(s) URL.
var ErrResource = errors.New("webfinger: invalid resource")

// IsAcct reports whether r is an acct: resource rather than a URL.
func (r Resource) IsAcct() bool { return r.URL == "" && r.User != "" }

// Acct returns the canonical "acct:user@host" form of an acct resource, or
// the URL for a URL resource.
func (r Resource) Acct() string {
	if r.URL != "" {
		return r.URL
	}
	return "acct:" + r.User + "@" + r.Host
}

// ParseResource parses "acct:user@host", "user@host", "@user@host"
// (lenient), or an absolute http(s) URL.
//
// Query values arrive percent-encoded (acct%3Auser%40host); the caller passes
// the value already decoded by url.Values, but one extra level of
// percent-encoding is tolerated as well, because some clients encode twice.
// The "acct:" scheme is matched case-insensitively. The host is lowercased;
// the user is kept exactly (usernames are case-sensitive in the fediverse).
// The host may carry a port ("user@localhost:8080").
func ParseResource(s string) (Resource, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "%") {
		// One extra level of encoding. PathUnescape, not QueryUnescape:
		// '+' is a legal username character in some servers.
		u, err := url.PathUnescape(s)
		if err != nil {
			return Resource{}, errors.Join(ErrResource, err)
		}
		s = u
	}
	if s == "" {
		return Resource{}, ErrResource
	}
	lower := strings.ToLower(s)
	if strings.HasPrefix(lower, "http://") || strings.HasPrefix(lower, "https://") {
		u, err := url.Parse(s)
		if err != nil {
			return Resource{}, errors.Join(ErrResource, err)
		}
		if u.Host == "" || u.User != nil {
			return Resource{}, ErrResource
		}
		return Resource{Host: strings.ToLower(u.Host), URL: s}, nil
	}
	if strings.HasPrefix(lower, "acct:") {
		s = s[len("acct:"):]
	}
	s = strings.TrimPrefix(s, "@")
	i := strings.LastIndexByte(s, '@')
	if i <= 0 || i == len(s)-1 {
		return Resource{}, ErrResource
	}
	user, host := s[:i], strings.ToLower(s[i+1:])
	if strings.ContainsAny(user, "@/?# \t\r\n") || strings.ContainsAny(host, "/?#@ \t\r\n\\") {
		return Resource{}, ErrResource
	}
	return Resource{User: user, Host: host}, nil
}

// SelfHref returns the href of the first rel="self" link whose type is
// application/activity+json or application/ld+json with the ActivityStreams
// profile (GoToSocial and Mastodon use the former, some older servers the
// latter). Media type parameters and case are ignored. It returns "" when
// there is no such link.
func (j *JRD) SelfHref() string {
	if j == nil {
		return ""
	}
	for _, l := range j.Links {
		if l.Rel == "self" && l.Href != "" && IsActivityType(l.Type) {
			return l.Href
		}
	}
	return ""
}

// IsActivityType reports whether the media type t denotes an ActivityStreams
// document: application/activity+json (any parameters), or
// application/ld+json whose profile parameter lists the ActivityStreams
// profile (profile is a space-separated list per JSON-LD 1.1).
func IsActivityType(t string) bool {
	mt, params, err := mime.ParseMediaType(t)
	if err != nil {
		return false
	}
	switch mt {
	case "application/activity+json":
		return true
	case "application/ld+json":
		for _, p := range strings.Fields(params["profile"]) {
			if p == ActivityStreamsProfile {
				return true
			}
		}
	}
	return false
}

// HostMeta returns the host-meta XRD document (RFC 6415, served at
// /.well-known/host-meta as application/xrd+xml) pointing to
// base+"/.well-known/webfinger?resource={uri}". Some older clients (and
// Mastodon for domain delegation) discover WebFinger this way. base is the
// scheme and host, e.g. "https://social.example.se"; a trailing slash is
// removed.
func HostMeta(base string) []byte {
	base = strings.TrimRight(base, "/")
	var b strings.Builder
	b.WriteString(xml.Header)
	b.WriteString(`<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">` + "\n")
	b.WriteString(`  <Link rel="lrdd" template="`)
	_ = xml.EscapeText(&b, []byte(base+"/.well-known/webfinger?resource={uri}"))
	b.WriteString(`"/>` + "\n</XRD>\n")
	return []byte(b.String())
}
