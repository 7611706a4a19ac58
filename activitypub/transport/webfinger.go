package transport

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/torget/torget/activitypub/webfinger"
)

// webfingerAccept is the Accept header for WebFinger queries.
const webfingerAccept = "application/jrd+json, application/json"

// LookupWebFinger resolves acct ("user@host", also "acct:user@host" or
// "@user@host") via
// https://host/.well-known/webfinger?resource=acct:user@host (GetJSON,
// signed if sign != nil — GoToSocial signs its own WebFinger requests and
// some servers require it).
//
// The answer is trusted only if its subject is the queried account
// (case-insensitive "acct:" prefix, exact user, case-insensitive host).
// Otherwise — domain delegation, or a server canonicalising the user name —
// the subject must be an acct: URI whose host also hosts the rel="self"
// link, and a second lookup of the subject on its own host must answer with
// that same subject and the same self link. Anything else is
// ErrWebFingerMismatch: a server must not be able to claim accounts on
// other domains (Akkoma's "imposter" fixture: bad.com answering for
// acct:oopsie@notwhereitshouldbe.com with a self link on bad.com). The
// self-link host check needs no network, so such an imposter is rejected
// without contacting the claimed domain.
//
// On a mismatch confirmed by round trip the subject's own JRD is returned.
// The caller must still check that the fetched actor's id equals the self
// link and its preferredUsername the user.
func (c *Client) LookupWebFinger(ctx context.Context, acct string, sign SignFunc) (*webfinger.JRD, error) {
	r, err := webfinger.ParseResource(acct)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrInvalidURL, acct, err)
	}
	if !r.IsAcct() {
		return nil, fmt.Errorf("%w: %q is not an account", ErrInvalidURL, acct)
	}
	j, err := c.fetchJRD(ctx, r, sign)
	if err != nil {
		return nil, err
	}
	if subjectMatches(j.Subject, r) {
		return j, nil
	}

	// Round trip: the subject's own host must vouch for it.
	sr, ok := parseAcctSubject(j.Subject)
	if !ok {
		return nil, fmt.Errorf("%w: asked for %s, got subject %q", ErrWebFingerMismatch, r.Acct(), j.Subject)
	}
	self := j.SelfHref()
	su, err := url.Parse(self)
	if self == "" || err != nil || !sameHost(su, sr.Host) {
		return nil, fmt.Errorf("%w: asked for %s, got subject %q with self link %q on another host",
			ErrWebFingerMismatch, r.Acct(), j.Subject, self)
	}
	j2, err := c.fetchJRD(ctx, sr, sign)
	if err != nil {
		return nil, fmt.Errorf("%w: round-trip lookup of %s: %w", ErrWebFingerMismatch, sr.Acct(), err)
	}
	if !subjectMatches(j2.Subject, sr) || j2.SelfHref() != self {
		return nil, fmt.Errorf("%w: round trip of %s gave subject %q, self %q (want %q)",
			ErrWebFingerMismatch, sr.Acct(), j2.Subject, j2.SelfHref(), self)
	}
	return j2, nil
}

func (c *Client) fetchJRD(ctx context.Context, r webfinger.Resource, sign SignFunc) (*webfinger.JRD, error) {
	u := "https://" + r.Host + "/.well-known/webfinger?resource=" + url.QueryEscape(r.Acct())
	body, err := c.GetJSON(ctx, u, webfingerAccept, sign)
	if err != nil {
		return nil, err
	}
	var j webfinger.JRD
	if err := json.Unmarshal(body, &j); err != nil {
		return nil, fmt.Errorf("transport: webfinger %s: %w", r.Acct(), err)
	}
	return &j, nil
}

// parseAcctSubject parses a JRD subject strictly: it must be an acct: URI.
func parseAcctSubject(s string) (webfinger.Resource, bool) {
	if len(s) < 5 || !strings.EqualFold(s[:5], "acct:") || strings.Contains(s, "%") {
		return webfinger.Resource{}, false
	}
	r, err := webfinger.ParseResource(s)
	if err != nil || !r.IsAcct() || strings.HasPrefix(s[5:], "@") {
		return webfinger.Resource{}, false
	}
	return r, true
}

// subjectMatches reports whether subject is acct:<want.User>@<want.Host>,
// with the scheme and host compared case-insensitively and the user exactly.
func subjectMatches(subject string, want webfinger.Resource) bool {
	r, ok := parseAcctSubject(subject)
	return ok && r.User == want.User && r.Host == want.Host
}

// sameHost reports whether u's host equals host (already lowercased),
// ignoring an explicit default port.
func sameHost(u *url.URL, host string) bool {
	h := strings.ToLower(u.Host)
	switch {
	case strings.EqualFold(u.Scheme, "https"):
		h = strings.TrimSuffix(h, ":443")
	case strings.EqualFold(u.Scheme, "http"):
		h = strings.TrimSuffix(h, ":80")
	default:
		return false
	}
	return h != "" && h == strings.TrimSuffix(host, ":443")
}
