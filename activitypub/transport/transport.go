// Package transport is torget's outbound HTTP client for federation:
// fetching ActivityStreams documents, WebFinger and NodeInfo, and delivering
// activities to remote inboxes.
//
// Every connection goes through an SSRF guard: the dialer's Control function
// checks the IP address actually dialled, after DNS resolution, so a public
// name that resolves (or is rebound) to a loopback, private, link-local,
// multicast or otherwise special address is refused, as are redirects to
// such addresses. Config.AllowedNets lifts the guard for chosen networks
// (tests, or a deliberately private federation). Environment proxies
// (HTTP_PROXY) are ignored: going through a proxy would hide the real
// destination from the guard.
//
// Requests are signed by a caller-supplied SignFunc (draft-cavage HTTP
// signatures in practice, see package httpsig). Peers such as GoToSocial and
// Mastodon in authorized-fetch mode answer 401 to unsigned GETs, and reject
// signatures whose Date is too old, so the signer runs afresh for every
// attempt and every redirect hop.
//
// A User-Agent is always sent: GoToSocial answers 418 without one.
package transport

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"time"
)

// Config configures a Client. Zero values select the documented defaults.
type Config struct {
	// UserAgent is sent with every request, e.g.
	// "torget/0.1.0 (+https://social.example.se/)". GoToSocial answers 418
	// to requests without one. Default "torget".
	UserAgent string
	// AllowedNets lists private/loopback networks that may be dialled
	// despite the SSRF guard (tests: 127.0.0.0/8, ::1/128).
	AllowedNets []netip.Prefix
	// Timeout bounds a whole call, including redirects and reading the
	// body. Default 10s.
	Timeout time.Duration
	// MaxResponseBytes bounds the response body read. Default 1 MiB.
	MaxResponseBytes int64
	// MaxRedirects is how many redirects a GET follows. Default 3; a
	// negative value disables redirects. POSTs never follow redirects.
	MaxRedirects int
	// RootCAs verifies server certificates; nil means the system roots.
	RootCAs *x509.CertPool
	// MaxConnsPerHost bounds concurrent connections to one host, so a
	// delivery fan-out does not hammer a small server. Default 8.
	MaxConnsPerHost int
}

// SignFunc signs a prepared request, typically by adding Date, Digest (for
// POST) and Signature headers. body is nil for GET. It is called afresh for
// every attempt and every redirect hop, so signatures never go stale and
// always cover the right (request-target) and Host.
type SignFunc func(r *http.Request, body []byte) error

// Errors returned (wrapped) by the Client. Test with errors.Is.
var (
	// ErrForbiddenAddress: the destination resolved to an address refused
	// by the SSRF guard. Deliver reports it as Failed, never Retry.
	ErrForbiddenAddress = errors.New("transport: forbidden destination address")
	// ErrTooLarge: the response body exceeded Config.MaxResponseBytes.
	ErrTooLarge = errors.New("transport: response too large")
	// ErrContentType: the response's Content-Type is not acceptable, e.g.
	// an uploaded .json file served as application/octet-stream or
	// text/plain pretending to be an ActivityStreams object (Akkoma's
	// "spoofed object" attack).
	ErrContentType = errors.New("transport: unacceptable content type")
	// ErrWebFingerMismatch: a WebFinger answer's subject is not the account
	// asked for and could not be confirmed by a round trip.
	ErrWebFingerMismatch = errors.New("transport: webfinger subject mismatch")
	// ErrInvalidURL: the URL is not absolute http(s), has no host, or
	// carries userinfo (user:password@), which is refused outright.
	ErrInvalidURL = errors.New("transport: invalid URL")
	// ErrTooManyRedirects: a GET was redirected more than
	// Config.MaxRedirects times.
	ErrTooManyRedirects = errors.New("transport: too many redirects")
)

// StatusError reports a response whose HTTP status was not acceptable
// (non-2xx, or a 3xx for POST or without a Location).
type StatusError struct{ Code int }

// Error implements error.
func (e *StatusError) Error() string {
	return fmt.Sprintf("transport: HTTP status %d %s", e.Code, http.StatusText(e.Code))
}

// Client is an SSRF-safe HTTP client for federation. It is safe for
// concurrent use and shares one connection pool; create one per process.
type Client struct {
	cfg    Config
	dialer *net.Dialer
	tr     *http.Transport
	hc     *http.Client

	// testDial, if set (tests only), rewrites the address about to be
	// dialled, so that test names like a.example.com reach loopback
	// servers. The SSRF guard still checks the rewritten address.
	testDial func(addr string) (string, error)
}

// New returns a Client for cfg, filling in defaults.
func New(cfg Config) *Client {
	if cfg.UserAgent == "" {
		cfg.UserAgent = "torget"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.MaxResponseBytes <= 0 {
		cfg.MaxResponseBytes = 1 << 20
	}
	if cfg.MaxRedirects == 0 {
		cfg.MaxRedirects = 3
	} else if cfg.MaxRedirects < 0 {
		cfg.MaxRedirects = 0
	}
	if cfg.MaxConnsPerHost <= 0 {
		cfg.MaxConnsPerHost = 8
	}
	cfg.AllowedNets = append([]netip.Prefix(nil), cfg.AllowedNets...)

	c := &Client{cfg: cfg}
	c.dialer = &net.Dialer{
		Timeout:   min(cfg.Timeout, 30*time.Second),
		KeepAlive: 30 * time.Second,
		Control:   c.control,
	}
	c.tr = &http.Transport{
		Proxy:                  nil, // never: a proxy would hide the destination from the guard
		DialContext:            c.dialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           4096, // one group may reach thousands of hosts: keep their connections
		MaxIdleConnsPerHost:    cfg.MaxConnsPerHost,
		MaxConnsPerHost:        cfg.MaxConnsPerHost,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    min(cfg.Timeout, 10*time.Second),
		ResponseHeaderTimeout:  cfg.Timeout,
		ExpectContinueTimeout:  1 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		TLSClientConfig: &tls.Config{
			RootCAs:    cfg.RootCAs,
			MinVersion: tls.VersionTLS12,
		},
	}
	c.hc = &http.Client{
		Transport: c.tr,
		// Redirects are followed by hand (Get) so that each hop is
		// re-signed and re-validated; POSTs never follow them.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

// CloseIdleConnections closes idle pooled connections (e.g. at shutdown).
func (c *Client) CloseIdleConnections() { c.tr.CloseIdleConnections() }
