// Package nodeinfo holds the NodeInfo 2.0 and 2.1 documents
// (https://nodeinfo.diaspora.software/) and the /.well-known/nodeinfo
// discovery document.
//
// Fediverse quirks: crawlers (fediverse.observer, FediDB) and peers such as
// Mastodon and Misskey read NodeInfo to show the software name; the name must
// match ^[a-z0-9-]+$ (New lowercases it, real servers like Mobilizon still
// send capitalised names, which decoding tolerates). Version 2.0 has no
// software.repository/homepage. "services" and "protocols" must be arrays,
// never null, and "metadata" an object, never null.
package nodeinfo

import (
	"fmt"
	"strings"
)

// Supported NodeInfo schema versions.
const (
	Version20 = "2.0"
	Version21 = "2.1"
)

// Schema relation URIs used in the discovery document; the document's
// version is the last path segment.
const (
	Schema20 = "http://nodeinfo.diaspora.software/ns/schema/2.0"
	Schema21 = "http://nodeinfo.diaspora.software/ns/schema/2.1"
)

// WellKnownPath is the discovery document's path. Path20 and Path21 are where
// Discovery says the documents live (Mastodon's layout); the HTTP layer must
// serve them there.
const (
	WellKnownPath = "/.well-known/nodeinfo"
	Path20        = "/nodeinfo/2.0"
	Path21        = "/nodeinfo/2.1"
)

// Links is the discovery document served at /.well-known/nodeinfo as
// application/json. Clients pick the highest schema version they know.
type Links struct {
	Links []Link `json:"links"`
}

// Link is one entry of the discovery document: Rel is a schema URI (Schema20,
// Schema21), Href the absolute URL of that version's document.
type Link struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
}

// Discovery returns the discovery document for base (scheme and host, e.g.
// "https://social.example.se"; a trailing slash is removed), listing both
// versions: base+Path20 and base+Path21.
func Discovery(base string) Links {
	base = strings.TrimRight(base, "/")
	return Links{Links: []Link{
		{Rel: Schema20, Href: base + Path20},
		{Rel: Schema21, Href: base + Path21},
	}}
}

// Href returns the href for the given schema version ("2.0", "2.1"), or ""
// if the discovery document lacks it. Trailing "#" on rel URIs (seen in the
// wild) is ignored.
func (l Links) Href(version string) string {
	want := "http://nodeinfo.diaspora.software/ns/schema/" + version
	for _, k := range l.Links {
		if strings.TrimSuffix(k.Rel, "#") == want {
			return k.Href
		}
	}
	return ""
}

// Document is a NodeInfo 2.0 or 2.1 document. The two versions differ only
// in Software.Repository and Software.Homepage (2.1 only).
type Document struct {
	Version           string         `json:"version"`
	Software          Software       `json:"software"`
	Protocols         []string       `json:"protocols"`
	Services          Services       `json:"services"`
	OpenRegistrations bool           `json:"openRegistrations"`
	Usage             Usage          `json:"usage"`
	Metadata          map[string]any `json:"metadata"`
}

// Software names the server software. Name should match ^[a-z0-9-]+$;
// Repository and Homepage exist only in 2.1 and are omitted when empty.
type Software struct {
	Name       string `json:"name"`
	Version    string `json:"version"`
	Repository string `json:"repository,omitempty"`
	Homepage   string `json:"homepage,omitempty"`
}

// Services lists third-party services the node can import from (Inbound) or
// publish to (Outbound), e.g. "atom1.0". Both are always serialised as
// arrays.
type Services struct {
	Inbound  []string `json:"inbound"`
	Outbound []string `json:"outbound"`
}

// Usage holds usage statistics. Every field is optional in the schema;
// absent values decode as 0. LocalComments is omitted when 0 (Mobilizon and
// Diaspora send it; most servers do not).
type Usage struct {
	Users         Users `json:"users"`
	LocalPosts    int64 `json:"localPosts"`
	LocalComments int64 `json:"localComments,omitempty"`
}

// Users counts users: all, active in the last 30 days, and in the last 180
// days.
type Users struct {
	Total          int64 `json:"total"`
	ActiveMonth    int64 `json:"activeMonth"`
	ActiveHalfyear int64 `json:"activeHalfyear"`
}

// New builds a document of the given version ("2.0" or "2.1"; anything else
// panics, it is a programming error). The software name is lowercased as the
// schema requires; for 2.0 Repository and Homepage are dropped. Protocols is
// ["activitypub"], services are empty arrays, and a nil metadata becomes {}.
// OpenRegistrations is false; set it on the result if needed.
func New(version string, sw Software, usage Usage, metadata map[string]any) Document {
	switch version {
	case Version20:
		sw.Repository, sw.Homepage = "", ""
	case Version21:
	default:
		panic(fmt.Sprintf("nodeinfo: unsupported version %q", version))
	}
	sw.Name = strings.ToLower(sw.Name)
	if metadata == nil {
		metadata = map[string]any{}
	}
	return Document{
		Version:   version,
		Software:  sw,
		Protocols: []string{"activitypub"},
		Services:  Services{Inbound: []string{}, Outbound: []string{}},
		Usage:     usage,
		Metadata:  metadata,
	}
}

// ProfileContentType returns the Content-Type to serve a document of the
// given version with, e.g.
// `application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"`
// (the schema URI with a trailing "#", as the NodeInfo spec prescribes).
func ProfileContentType(version string) string {
	return `application/json; profile="http://nodeinfo.diaspora.software/ns/schema/` + version + `#"`
}
