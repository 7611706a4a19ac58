package activitypub

import (
	"fmt"
	"net/url"
	"strings"
)

// ParseIRI parses s as an absolute http or https IRI with a non-empty host.
// IRIs with userinfo ("https://a.example@evil.example/…") are refused:
// they pass naive string-prefix origin checks while pointing at another host
// (see the hostile/id-userinfo-authority-confusion.json fixture). Errors wrap
// ErrMalformed.
func ParseIRI(s string) (*url.URL, error) {
	if s == "" {
		return nil, fmt.Errorf("%w: empty IRI", ErrMalformed)
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%w: parse IRI: %v", ErrMalformed, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w: IRI %q: scheme must be http or https", ErrMalformed, s)
	}
	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: IRI %q: missing host", ErrMalformed, s)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%w: IRI %q: userinfo not allowed", ErrMalformed, s)
	}
	return u, nil
}

// origin returns scheme://host[:port] with the host lowercased.
func origin(u *url.URL) string {
	return u.Scheme + "://" + strings.ToLower(u.Host)
}

// SameOrigin reports whether a and b are valid IRIs (see ParseIRI) with the
// same scheme, lowercased host and port. Paths and fragments are ignored, so
// a fragment that smuggles another URL cannot change the origin. It returns
// false if either IRI does not parse.
func SameOrigin(a, b string) bool {
	ua, err := ParseIRI(a)
	if err != nil {
		return false
	}
	ub, err := ParseIRI(b)
	if err != nil {
		return false
	}
	return origin(ua) == origin(ub)
}

// Host returns the lowercased host[:port] of iri, or "" if iri is not a
// valid IRI (see ParseIRI).
func Host(iri string) string {
	u, err := ParseIRI(iri)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}
