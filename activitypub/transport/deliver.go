package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Outcome classifies a delivery attempt.
type Outcome int

// Delivery outcomes.
const (
	// Delivered: the inbox answered 2xx. A peer's 202 means it accepted
	// the activity; there is nothing more to do.
	Delivered Outcome = iota
	// Retry: a transient failure (408, 429, 5xx, network error, timeout).
	// Retry later with a fresh signature; honour Result.RetryAfter.
	Retry
	// Gone: 404 or 410; the inbox (or its actor) no longer exists, so the
	// caller should drop that follower.
	Gone
	// Failed: a permanent failure (other 4xx, a redirect, an invalid URL,
	// an address refused by the SSRF guard, a signing error). Do not
	// retry.
	Failed
)

// String returns the outcome's name.
func (o Outcome) String() string {
	switch o {
	case Delivered:
		return "delivered"
	case Retry:
		return "retry"
	case Gone:
		return "gone"
	case Failed:
		return "failed"
	}
	return "outcome(" + strconv.Itoa(int(o)) + ")"
}

// Result is the result of one delivery attempt. Status is the HTTP status
// (0 if no response was received). Err is nil only when Delivered; for an
// unacceptable status it is a *StatusError. RetryAfter is the delay the
// peer asked for with Retry-After on a Retry outcome (0 if none), capped at
// MaxRetryAfter.
type Result struct {
	Outcome    Outcome
	Status     int
	Err        error
	RetryAfter time.Duration
}

// MaxRetryAfter caps a peer's Retry-After, so that a hostile or confused
// peer cannot park deliveries for years.
const MaxRetryAfter = 24 * time.Hour

// Deliver POSTs an activity to an inbox with
// Content-Type: application/activity+json, signed by sign (called once per
// call, with body, so it can compute the Digest; pass nil to send
// unsigned, which real peers will refuse).
//
// 2xx → Delivered; 404/410 → Gone; 408, 429, 5xx, network errors and
// timeouts → Retry (Retry-After in seconds or as an HTTP date is honoured,
// as GoToSocial rate-limits with 429 and throttles with 503); an address
// refused by the SSRF guard, an invalid URL, other 4xx and any 3xx →
// Failed. Redirects are never followed for POST: re-posting a signed
// activity elsewhere is not what the signer authorised. At most
// Config.MaxResponseBytes of the response body is drained.
func (c *Client) Deliver(ctx context.Context, inbox string, body []byte, sign SignFunc) Result {
	if _, err := checkURL(inbox); err != nil {
		return Result{Outcome: Failed, Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, inbox, bytes.NewReader(body))
	if err != nil {
		return Result{Outcome: Failed, Err: fmt.Errorf("%w: %v", ErrInvalidURL, err)}
	}
	req.Header.Set("Content-Type", "application/activity+json")
	req.Header.Set("Accept", ActivityAccept)
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if sign != nil {
		if err := sign(req, body); err != nil {
			return Result{Outcome: Failed, Err: fmt.Errorf("transport: signing POST %s: %w", inbox, err)}
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if errors.Is(err, ErrForbiddenAddress) || errors.Is(err, ErrInvalidURL) {
			return Result{Outcome: Failed, Err: err}
		}
		return Result{Outcome: Retry, Err: err}
	}
	drain(resp, c.cfg.MaxResponseBytes)

	res := Result{Status: resp.StatusCode}
	switch code := resp.StatusCode; {
	case code >= 200 && code <= 299:
		res.Outcome = Delivered
		return res
	case code == http.StatusNotFound || code == http.StatusGone:
		res.Outcome = Gone
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		res.Outcome = Retry
		res.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	default:
		res.Outcome = Failed
	}
	res.Err = &StatusError{Code: resp.StatusCode}
	return res
}

// parseRetryAfter parses a Retry-After value: delay-seconds or an HTTP date
// (RFC 9110 §10.2.3). Invalid or past values give 0; the result is capped at
// MaxRetryAfter.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		if secs > int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), MaxRetryAfter)
}
