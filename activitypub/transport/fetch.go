package transport

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// ActivityAccept is the Accept header sent by Get: both ActivityStreams
// media types, since servers differ in which one they key on.
const ActivityAccept = `application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`

// Get fetches an ActivityStreams document with GET and
// Accept: ActivityAccept, signed by sign (may be nil; most servers in
// authorized-fetch mode need it).
//
// It follows at most Config.MaxRedirects redirects (301, 302, 303, 307,
// 308), re-validating and re-signing each hop; an https→http downgrade is
// refused. It refuses a response whose Content-Type is not
// application/activity+json or application/ld+json (any parameters) with
// ErrContentType: an attacker may upload a .json "media" file to a server
// and have it served from that server's origin as something else. It reads
// at most Config.MaxResponseBytes (more gives ErrTooLarge); a non-2xx answer
// gives *StatusError.
//
// finalURL is the URL of the last hop, without any fragment (Go never sends
// fragments, so fetching a key id like ".../actor#main-key" returns
// ".../actor"). The caller must check that the document's id equals it (or
// at least shares its origin and is refetched) before trusting the document.
func (c *Client) Get(ctx context.Context, iri string, sign SignFunc) (body []byte, finalURL string, err error) {
	return c.get(ctx, iri, ActivityAccept, sign, isActivityStreamsType)
}

// GetJSON is Get for non-ActivityStreams JSON such as a WebFinger JRD or a
// NodeInfo document: the Accept header is the caller's (default
// "application/json"), and the Content-Type need only be JSON-ish:
// application/json, application/jrd+json or any */*+json (NodeInfo is
// served as application/json with a profile parameter). Redirects are
// followed as for Get (WebFinger is often redirected to the real host).
func (c *Client) GetJSON(ctx context.Context, rawURL, accept string, sign SignFunc) ([]byte, error) {
	if accept == "" {
		accept = "application/json"
	}
	body, _, err := c.get(ctx, rawURL, accept, sign, isJSONType)
	return body, err
}

func isActivityStreamsType(mt string) bool {
	return mt == "application/activity+json" || mt == "application/ld+json"
}

func isJSONType(mt string) bool {
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

func (c *Client) get(ctx context.Context, rawURL, accept string, sign SignFunc, typeOK func(string) bool) ([]byte, string, error) {
	u, err := checkURL(rawURL)
	if err != nil {
		return nil, "", err
	}
	u.Fragment, u.RawFragment = "", ""
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()

	for hop := 0; ; hop++ {
		cur := u.String()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, cur, nil)
		if err != nil {
			return nil, "", fmt.Errorf("%w: %v", ErrInvalidURL, err)
		}
		req.Header.Set("Accept", accept)
		req.Header.Set("User-Agent", c.cfg.UserAgent)
		if sign != nil {
			if err := sign(req, nil); err != nil {
				return nil, "", fmt.Errorf("transport: signing GET %s: %w", cur, err)
			}
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			return nil, "", err
		}
		if isRedirect(resp.StatusCode) {
			loc := resp.Header.Get("Location")
			drain(resp, 64<<10)
			if loc == "" {
				return nil, "", &StatusError{Code: resp.StatusCode}
			}
			if hop >= c.cfg.MaxRedirects {
				return nil, "", fmt.Errorf("%w: more than %d from %s", ErrTooManyRedirects, c.cfg.MaxRedirects, rawURL)
			}
			next, err := u.Parse(loc)
			if err != nil {
				return nil, "", fmt.Errorf("%w: bad Location %q: %v", ErrInvalidURL, loc, err)
			}
			if err := validURL(next); err != nil {
				return nil, "", err
			}
			if strings.EqualFold(u.Scheme, "https") && !strings.EqualFold(next.Scheme, "https") {
				return nil, "", fmt.Errorf("%w: redirect from https to %s", ErrInvalidURL, next.Scheme)
			}
			next.Fragment, next.RawFragment = "", ""
			u = next
			continue
		}
		body, err := c.readOK(resp, typeOK)
		if err != nil {
			return nil, "", fmt.Errorf("GET %s: %w", cur, err)
		}
		return body, cur, nil
	}
}

// readOK checks the status and content type of resp and reads its body
// within the size limit. It always closes the body.
func (c *Client) readOK(resp *http.Response, typeOK func(string) bool) ([]byte, error) {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		drain(resp, 64<<10)
		return nil, &StatusError{Code: resp.StatusCode}
	}
	defer resp.Body.Close()
	ct := resp.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !typeOK(strings.ToLower(mt)) {
		return nil, fmt.Errorf("%w: %q", ErrContentType, ct)
	}
	limit := c.cfg.MaxResponseBytes
	if resp.ContentLength > limit {
		return nil, fmt.Errorf("%w: Content-Length %d > %d", ErrTooLarge, resp.ContentLength, limit)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	return body, nil
}

// drain reads and discards up to limit bytes so the connection can be
// reused, then closes the body.
func drain(resp *http.Response, limit int64) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, limit))
	_ = resp.Body.Close()
}

// GetImage fetches a remote image (a custom emoji, an avatar, an
// attachment) for the media proxy: unsigned, through the same SSRF guard,
// redirect rules and size limit as Get, accepting only raster image types
// (never SVG, which can carry script) or application/octet-stream, which
// object stores often send for anything. It returns the body and its
// declared media type; the caller must check the bytes themselves.
func (c *Client) GetImage(ctx context.Context, rawURL string) ([]byte, string, error) {
	var mediaType string
	body, _, err := c.get(ctx, rawURL, "image/png, image/jpeg, image/gif, image/webp, image/avif", nil, func(mt string) bool {
		switch mt {
		case "image/png", "image/jpeg", "image/gif", "image/webp", "image/avif", "application/octet-stream", "binary/octet-stream":
			mediaType = mt
			return true
		}
		return false
	})
	return body, mediaType, err
}
