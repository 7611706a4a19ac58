package federation

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// subscribeRel is the WebFinger relation whose template opens the "follow
// this account" page of a visitor's own server (OStatus, kept by Mastodon,
// Pleroma/Akkoma, GoToSocial, Misskey and Friendica).
const subscribeRel = "http://ostatus.org/schema/1.0/subscribe"

// ErrNoSubscribe means the visitor's server did not say where to follow from.
var ErrNoSubscribe = errors.New("no subscribe template")

// SubscribeURL asks the server of acct ("user@host"), through WebFinger and
// the SSRF-guarded client, where its users follow a remote account, and
// returns that page for objectURI. Only an absolute https URL is returned:
// the template comes from another server and the browser is sent to it.
func (s *Service) SubscribeURL(ctx context.Context, acct, objectURI string) (string, error) {
	jrd, err := s.client.LookupWebFinger(ctx, acct, s.signGET)
	if err != nil {
		return "", fmt.Errorf("webfinger %s: %w", acct, err)
	}
	for _, l := range jrd.Links {
		if l.Rel != subscribeRel || !strings.Contains(l.Template, "{uri}") {
			continue
		}
		raw := strings.ReplaceAll(l.Template, "{uri}", url.QueryEscape(objectURI))
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil {
			return "", fmt.Errorf("%w: unusable template %q from %s", ErrNoSubscribe, l.Template, acct)
		}
		return u.String(), nil
	}
	return "", fmt.Errorf("%w: %s", ErrNoSubscribe, acct)
}

// AuthorizeInteractionURL is where Mastodon and compatible servers let
// their users follow objectURI; the fallback when host did not answer.
func AuthorizeInteractionURL(host, objectURI string) string {
	return "https://" + host + "/authorize_interaction?uri=" + url.QueryEscape(objectURI)
}
