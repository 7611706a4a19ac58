package transport

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// newPeer starts a TLS test server. All httptest TLS servers share one
// certificate (valid for 127.0.0.1, ::1, example.com, *.example.com).
func newPeer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func newClient(t *testing.T, srv *httptest.Server, cfg Config) *Client {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	cfg.RootCAs = pool
	if cfg.UserAgent == "" {
		cfg.UserAgent = "torget-test/0.1 (+https://social.example.se/)"
	}
	c := New(cfg)
	// Safety net: never dial anything but loopback from tests.
	c.testDial = func(addr string) (string, error) {
		ap, err := netip.ParseAddrPort(addr)
		if err != nil || !ap.Addr().IsLoopback() {
			t.Errorf("test tried to dial non-loopback %s", addr)
			return "", fmt.Errorf("test: refusing to dial %s", addr)
		}
		return addr, nil
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

func asJSON(w http.ResponseWriter, ct, body string) {
	w.Header().Set("Content-Type", ct)
	_, _ = w.Write([]byte(body))
}

func TestGetContentTypes(t *testing.T) {
	cases := []struct {
		ct string
		ok bool
	}{
		{"application/activity+json", true},
		{"application/activity+json; charset=utf-8", true},
		{`application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, true},
		{"Application/LD+JSON", true},
		{"application/json", false},
		{"text/plain; charset=utf-8", false},
		{"application/octet-stream", false},
		{"text/html", false},
		{"", false},
	}
	for _, tc := range cases {
		srv := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Accept") != ActivityAccept {
				t.Errorf("Accept = %q", r.Header.Get("Accept"))
			}
			w.Header()["Content-Type"] = []string{tc.ct} // even if empty
			_, _ = w.Write([]byte(`{"id":"x"}`))
		})
		c := newClient(t, srv, Config{AllowedNets: loopback})
		body, final, err := c.Get(context.Background(), srv.URL+"/users/alice#main-key", nil)
		if tc.ok {
			if err != nil || string(body) != `{"id":"x"}` || final != srv.URL+"/users/alice" {
				t.Errorf("%q: body %q final %q err %v", tc.ct, body, final, err)
			}
		} else if !errors.Is(err, ErrContentType) {
			t.Errorf("%q: err = %v, want ErrContentType", tc.ct, err)
		}
	}
}

// The Akkoma spoofed-object case: a Note uploaded as a media file and
// served from the same origin with a non-ActivityStreams type.
func TestGetSpoofedUploadRefused(t *testing.T) {
	srv := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
		asJSON(w, "application/json", `{"id":"https://mastodon.example/notes/1","type":"Note"}`)
	})
	c := newClient(t, srv, Config{AllowedNets: loopback})
	if _, _, err := c.Get(context.Background(), srv.URL+"/media/upload.json", nil); !errors.Is(err, ErrContentType) {
		t.Fatalf("err = %v", err)
	}
}

func TestGetRedirectReSigned(t *testing.T) {
	var hops []string
	var mu sync.Mutex
	var srv *httptest.Server
	srv = newPeer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hops = append(hops, r.URL.Path+" "+r.Header.Get("Signature"))
		mu.Unlock()
		switch r.URL.Path {
		case "/a":
			http.Redirect(w, r, "/b", http.StatusMovedPermanently)
		case "/b":
			http.Redirect(w, r, srv.URL+"/c", http.StatusFound)
		case "/c":
			asJSON(w, "application/activity+json", `{"id":"c"}`)
		}
	})
	c := newClient(t, srv, Config{AllowedNets: loopback})
	var n atomic.Int32
	var signed []string
	sign := func(r *http.Request, body []byte) error {
		if body != nil {
			t.Error("GET signer got a body")
		}
		if r.Header.Get("Signature") != "" {
			t.Error("request already carried a Signature")
		}
		k := n.Add(1)
		signed = append(signed, r.URL.Path)
		r.Header.Set("Signature", "sig-"+strconv.Itoa(int(k))+"-"+r.URL.Path)
		return nil
	}
	body, final, err := c.Get(context.Background(), srv.URL+"/a", sign)
	if err != nil || string(body) != `{"id":"c"}` || final != srv.URL+"/c" {
		t.Fatalf("body %q final %q err %v", body, final, err)
	}
	want := []string{"/a sig-1-/a", "/b sig-2-/b", "/c sig-3-/c"}
	if strings.Join(hops, ",") != strings.Join(want, ",") {
		t.Errorf("server saw %v, want %v", hops, want)
	}
	if strings.Join(signed, ",") != "/a,/b,/c" {
		t.Errorf("signer ran for %v", signed)
	}
}

func TestGetTooManyRedirects(t *testing.T) {
	var count atomic.Int32
	srv := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
		count.Add(1)
		http.Redirect(w, r, "/loop"+strconv.Itoa(int(count.Load())), http.StatusTemporaryRedirect)
	})
	c := newClient(t, srv, Config{AllowedNets: loopback, MaxRedirects: 2})
	_, _, err := c.Get(context.Background(), srv.URL+"/start", nil)
	if !errors.Is(err, ErrTooManyRedirects) {
		t.Fatalf("err = %v", err)
	}
	if count.Load() != 3 { // original + 2 followed hops
		t.Errorf("server saw %d requests, want 3", count.Load())
	}
}

func TestGetRedirectToForbiddenAddress(t *testing.T) {
	// Allowed host redirects to one that the guard refuses (::1 here, with
	// only 127.0.0.0/8 allowed): the dialer catches it.
	srv := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://[::1]:1/x", http.StatusFound)
	})
	c := newClient(t, srv, Config{AllowedNets: loopback[:1]})
	if _, _, err := c.Get(context.Background(), srv.URL, nil); !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("err = %v", err)
	}
}

func TestGetTooLarge(t *testing.T) {
	big := `{"x":"` + strings.Repeat("a", 2000) + `"}`
	for _, chunked := range []bool{false, true} {
		srv := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/activity+json")
			if !chunked {
				w.Header().Set("Content-Length", strconv.Itoa(len(big)))
				_, _ = w.Write([]byte(big))
				return
			}
			_, _ = w.Write([]byte(big[:10]))
			w.(http.Flusher).Flush() // chunked: no Content-Length to check up front
			_, _ = w.Write([]byte(big[10:]))
		})
		c := newClient(t, srv, Config{AllowedNets: loopback, MaxResponseBytes: 1024})
		if _, _, err := c.Get(context.Background(), srv.URL, nil); !errors.Is(err, ErrTooLarge) {
			t.Errorf("chunked=%v: err = %v", chunked, err)
		}
		c2 := newClient(t, srv, Config{AllowedNets: loopback, MaxResponseBytes: int64(len(big))})
		if body, _, err := c2.Get(context.Background(), srv.URL, nil); err != nil || string(body) != big {
			t.Errorf("chunked=%v at limit: %d bytes, %v", chunked, len(body), err)
		}
	}
}

func TestGetStatusErrors(t *testing.T) {
	for _, code := range []int{401, 404, 410, 500} {
		srv := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(code)
		})
		c := newClient(t, srv, Config{AllowedNets: loopback})
		_, _, err := c.Get(context.Background(), srv.URL, nil)
		var se *StatusError
		if !errors.As(err, &se) || se.Code != code {
			t.Errorf("%d: err = %v", code, err)
		}
	}
}

func TestGetJSON(t *testing.T) {
	for _, tc := range []struct {
		ct string
		ok bool
	}{
		{"application/json", true},
		{"application/jrd+json; charset=utf-8", true},
		{`application/json; profile="http://nodeinfo.diaspora.software/ns/schema/2.1#"`, true},
		{"application/activity+json", true},
		{"text/html", false},
	} {
		srv := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Accept") != "application/jrd+json" {
				t.Errorf("Accept = %q", r.Header.Get("Accept"))
			}
			asJSON(w, tc.ct, `{}`)
		})
		c := newClient(t, srv, Config{AllowedNets: loopback})
		_, err := c.GetJSON(context.Background(), srv.URL, "application/jrd+json", nil)
		if tc.ok != (err == nil) || (!tc.ok && !errors.Is(err, ErrContentType)) {
			t.Errorf("%q: err = %v", tc.ct, err)
		}
	}
}

func TestUserAgentAlwaysSent(t *testing.T) {
	var uas []string
	var mu sync.Mutex
	srv := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		uas = append(uas, r.UserAgent())
		mu.Unlock()
		if r.UserAgent() == "" {
			w.WriteHeader(http.StatusTeapot) // what GoToSocial does
			return
		}
		asJSON(w, "application/activity+json", `{}`)
	})
	c := newClient(t, srv, Config{AllowedNets: loopback, UserAgent: "torget/0.1.0 (+https://social.example.se/)"})
	if _, _, err := c.Get(context.Background(), srv.URL, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetJSON(context.Background(), srv.URL, "", nil); err != nil {
		t.Fatal(err)
	}
	if r := c.Deliver(context.Background(), srv.URL, []byte(`{}`), nil); r.Outcome != Delivered {
		t.Fatal(r)
	}
	// The default User-Agent is non-empty too.
	c2 := newClient(t, srv, Config{AllowedNets: loopback})
	c2.cfg.UserAgent = New(Config{}).cfg.UserAgent
	if r := c2.Deliver(context.Background(), srv.URL, []byte(`{}`), nil); r.Outcome != Delivered {
		t.Fatal(r)
	}
	for i, ua := range uas {
		if ua == "" || (i < 3 && ua != "torget/0.1.0 (+https://social.example.se/)") {
			t.Errorf("request %d User-Agent %q", i, ua)
		}
	}
}

func TestDeliverOutcomes(t *testing.T) {
	httpDate := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	cases := []struct {
		name       string
		code       int
		retryAfter string
		want       Outcome
		minRA      time.Duration
		maxRA      time.Duration
	}{
		{"202", 202, "", Delivered, 0, 0},
		{"200", 200, "", Delivered, 0, 0},
		{"500", 500, "", Retry, 0, 0},
		{"503 retry-after", 503, "30", Retry, 30 * time.Second, 30 * time.Second},
		{"410", 410, "", Gone, 0, 0},
		{"404", 404, "", Gone, 0, 0},
		{"429 seconds", 429, "120", Retry, 120 * time.Second, 120 * time.Second},
		{"429 date", 429, httpDate, Retry, 80 * time.Second, 91 * time.Second},
		{"429 huge", 429, "99999999999999", Retry, MaxRetryAfter, MaxRetryAfter},
		{"429 garbage", 429, "soon", Retry, 0, 0},
		{"408", 408, "", Retry, 0, 0},
		{"400", 400, "", Failed, 0, 0},
		{"401", 401, "", Failed, 0, 0},
		{"403", 403, "", Failed, 0, 0},
		{"302", 302, "", Failed, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got atomic.Int32
			srv := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
				got.Add(1)
				if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/activity+json" ||
					r.Header.Get("Signature") != "signed" {
					t.Errorf("bad request %s %v", r.Method, r.Header)
				}
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				if tc.code == 302 {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(tc.code)
			})
			c := newClient(t, srv, Config{AllowedNets: loopback})
			signs := 0
			sign := func(r *http.Request, body []byte) error {
				signs++
				if string(body) != `{"type":"Create"}` {
					t.Errorf("signer body %q", body)
				}
				r.Header.Set("Signature", "signed")
				return nil
			}
			res := c.Deliver(context.Background(), srv.URL+"/inbox", []byte(`{"type":"Create"}`), sign)
			if res.Outcome != tc.want || res.Status != tc.code {
				t.Fatalf("got %v/%d (%v), want %v/%d", res.Outcome, res.Status, res.Err, tc.want, tc.code)
			}
			if res.RetryAfter < tc.minRA || res.RetryAfter > tc.maxRA {
				t.Errorf("RetryAfter = %v, want in [%v,%v]", res.RetryAfter, tc.minRA, tc.maxRA)
			}
			if (res.Err == nil) != (tc.want == Delivered) {
				t.Errorf("Err = %v", res.Err)
			}
			if signs != 1 || got.Load() != 1 {
				t.Errorf("signed %d times, server saw %d requests (redirect followed?)", signs, got.Load())
			}
		})
	}
}

func TestDeliverTimeout(t *testing.T) {
	srv := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // lets the server notice the client hanging up
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	c := newClient(t, srv, Config{AllowedNets: loopback, Timeout: 200 * time.Millisecond})
	start := time.Now()
	res := c.Deliver(context.Background(), srv.URL+"/inbox", []byte(`{}`), nil)
	if res.Outcome != Retry || res.Err == nil {
		t.Fatalf("got %+v", res)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestDeliverNetworkErrorRetries(t *testing.T) {
	srv := newPeer(t, func(w http.ResponseWriter, r *http.Request) {})
	c := newClient(t, srv, Config{AllowedNets: loopback})
	url := srv.URL
	srv.Close() // connection refused
	if res := c.Deliver(context.Background(), url+"/inbox", []byte(`{}`), nil); res.Outcome != Retry {
		t.Fatalf("got %+v", res)
	}
}

func TestDeliverSSRFRefused(t *testing.T) {
	var got atomic.Int32
	srv := newPeer(t, func(w http.ResponseWriter, r *http.Request) { got.Add(1) })
	c := newClient(t, srv, Config{}) // no AllowedNets: loopback forbidden
	res := c.Deliver(context.Background(), srv.URL+"/inbox", []byte(`{}`), nil)
	if res.Outcome != Failed || !errors.Is(res.Err, ErrForbiddenAddress) {
		t.Fatalf("got %v %v", res.Outcome, res.Err)
	}
	if _, _, err := c.Get(context.Background(), srv.URL+"/actor", nil); !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("Get: %v", err)
	}
	// A name that resolves to loopback is caught after resolution.
	c.testDial = nil
	if _, _, err := c.Get(context.Background(), strings.Replace(srv.URL, "127.0.0.1", "localhost", 1), nil); !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("Get localhost: %v", err)
	}
	if got.Load() != 0 {
		t.Errorf("server saw %d requests", got.Load())
	}
}

func TestInvalidURLs(t *testing.T) {
	var got atomic.Int32
	srv := newPeer(t, func(w http.ResponseWriter, r *http.Request) { got.Add(1) })
	c := newClient(t, srv, Config{AllowedNets: loopback})
	withUser := strings.Replace(srv.URL, "https://", "https://user:pw@", 1)
	for _, u := range []string{withUser + "/inbox", "ftp://127.0.0.1/x", "file:///etc/passwd", "/relative", "https:///nohost", "gopher://x"} {
		if res := c.Deliver(context.Background(), u, []byte(`{}`), nil); res.Outcome != Failed || !errors.Is(res.Err, ErrInvalidURL) {
			t.Errorf("Deliver %q: %v %v", u, res.Outcome, res.Err)
		}
		if _, _, err := c.Get(context.Background(), u, nil); !errors.Is(err, ErrInvalidURL) {
			t.Errorf("Get %q: %v", u, err)
		}
	}
	// A redirect to a userinfo URL or an https→http downgrade is refused.
	srv2 := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/down" {
			http.Redirect(w, r, "http://127.0.0.1:1/x", http.StatusFound)
			return
		}
		http.Redirect(w, r, withUser+"/x", http.StatusFound)
	})
	for _, p := range []string{"/user", "/down"} {
		if _, _, err := c.Get(context.Background(), srv2.URL+p, nil); !errors.Is(err, ErrInvalidURL) {
			t.Errorf("redirect %s: %v", p, err)
		}
	}
	if got.Load() != 0 {
		t.Errorf("server saw %d requests", got.Load())
	}
}

func TestAddrClassifier(t *testing.T) {
	cases := []struct {
		addr    string
		allowed []netip.Prefix
		ok      bool
	}{
		{"10.0.0.1", nil, false},
		{"172.16.5.4", nil, false},
		{"172.31.255.255", nil, false},
		{"192.168.1.1", nil, false},
		{"169.254.169.254", nil, false},
		{"127.0.0.1", nil, false},
		{"::1", nil, false},
		{"fe80::1", nil, false},
		{"fe80::1%eth0", nil, false},
		{"fc00::1", nil, false},
		{"fd12:3456::1", nil, false},
		{"::ffff:127.0.0.1", nil, false},
		{"::ffff:10.1.2.3", nil, false},
		{"::ffff:169.254.169.254", nil, false},
		{"64:ff9b::7f00:1", nil, false}, // NAT64 of 127.0.0.1
		{"100.64.0.1", nil, false},
		{"0.0.0.0", nil, false},
		{"0.1.2.3", nil, false},
		{"::", nil, false},
		{"224.0.0.1", nil, false},
		{"ff02::1", nil, false},
		{"255.255.255.255", nil, false},
		{"240.0.0.1", nil, false},
		{"192.0.2.1", nil, false},
		{"2001:db8::1", nil, false},
		{"93.184.216.34", nil, true},
		{"2606:4700::1", nil, true},
		{"::ffff:93.184.216.34", nil, true},
		{"64:ff9b::5db8:d822", nil, true}, // NAT64 of 93.184.216.34
		{"172.32.0.1", nil, true},
		{"127.0.0.1", loopback, true},
		{"::1", loopback, true},
		{"::ffff:127.0.0.1", loopback, true},
		{"127.0.0.1", []netip.Prefix{netip.MustParsePrefix("::1/128")}, false},
		{"10.0.0.1", loopback, false},
	}
	for _, tc := range cases {
		if got := addrAllowed(netip.MustParseAddr(tc.addr), tc.allowed); got != tc.ok {
			t.Errorf("addrAllowed(%s, %v) = %v, want %v", tc.addr, tc.allowed, got, tc.ok)
		}
	}
	if addrAllowed(netip.Addr{}, nil) {
		t.Error("zero Addr allowed")
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"0":                             0,
		"-5":                            0,
		"17":                            17 * time.Second,
		"Wed, 01 Jan 2025 12:01:00 GMT": time.Minute,
		"Wed, 01 Jan 2025 11:00:00 GMT": 0,
		"Fri, 01 Jan 2100 00:00:00 GMT": MaxRetryAfter,
		"x":                             0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestWebFingerGoodSubject(t *testing.T) {
	var query string
	srv := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.RawQuery
		if r.URL.Path != "/.well-known/webfinger" || r.Header.Get("Signature") != "s" {
			t.Errorf("unexpected %s %v", r.URL, r.Header)
		}
		asJSON(w, "application/jrd+json; charset=utf-8", `{"subject":"ACCT:Alice@A.Example.com","links":[
			{"rel":"self","type":"application/activity+json","href":"https://a.example.com/users/Alice"}]}`)
	})
	c := newClient(t, srv, Config{AllowedNets: loopback})
	mapHosts(t, c, map[string]*httptest.Server{"a.example.com": srv})
	sign := func(r *http.Request, _ []byte) error { r.Header.Set("Signature", "s"); return nil }
	j, err := c.LookupWebFinger(context.Background(), "@Alice@a.example.com", sign)
	if err != nil {
		t.Fatal(err)
	}
	if j.SelfHref() != "https://a.example.com/users/Alice" || query != "resource=acct%3AAlice%40a.example.com" {
		t.Errorf("self %q query %q", j.SelfHref(), query)
	}
	// The user part is compared exactly: asking for alice gets Alice's
	// answer, which is accepted only through the round trip (the same host
	// vouches for the canonical name), and the canonical subject is returned.
	j, err = c.LookupWebFinger(context.Background(), "alice@a.example.com", sign)
	if err != nil || j.Subject != "ACCT:Alice@A.Example.com" {
		t.Errorf("canonicalised user: %+v, %v", j, err)
	}
}

// mapHosts makes name:443 dial the given loopback servers; any other
// destination fails the test.
func mapHosts(t *testing.T, c *Client, m map[string]*httptest.Server) {
	t.Helper()
	c.testDial = func(addr string) (string, error) {
		for name, srv := range m {
			if addr == name+":443" {
				return srv.Listener.Addr().String(), nil
			}
		}
		t.Errorf("test tried to dial unmapped %s", addr)
		return "", fmt.Errorf("test: refusing to dial %s", addr)
	}
}

func TestWebFingerImposterFixture(t *testing.T) {
	imposter, err := os.ReadFile("testdata/webfinger-imposter-subject-mismatch.json")
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int32
	srv := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/jrd+json")
		_, _ = w.Write(imposter)
	})
	// The test cert covers *.example.com, so bad.com is played by
	// bad.example.com; the self link in the fixture points at bad.com,
	// which is neither the subject's host nor contacted.
	c := newClient(t, srv, Config{AllowedNets: loopback})
	mapHosts(t, c, map[string]*httptest.Server{"bad.example.com": srv})
	_, err = c.LookupWebFinger(context.Background(), "meanie@bad.example.com", nil)
	if !errors.Is(err, ErrWebFingerMismatch) {
		t.Fatalf("err = %v", err)
	}
	if hits.Load() != 1 {
		t.Errorf("%d requests; notwhereitshouldbe.com must not be contacted", hits.Load())
	}
}

func TestWebFingerRoundTrip(t *testing.T) {
	// Domain delegation done right: a.example.com answers for
	// alice@a.example.com with subject alice@b.example.com; b.example.com
	// confirms with the same self link on its own host.
	const self = "https://b.example.com/users/alice"
	jrd := func(subject, self string) string {
		return `{"subject":"` + subject + `","links":[{"rel":"self","type":"application/activity+json","href":"` + self + `"}]}`
	}
	for _, tc := range []struct {
		name  string
		a, b  string
		ok    bool
		b0hit bool // whether b must be contacted
	}{
		{"confirmed", jrd("acct:alice@b.example.com", self), jrd("acct:alice@b.example.com", self), true, true},
		{"other self on b", jrd("acct:alice@b.example.com", self), jrd("acct:alice@b.example.com", "https://b.example.com/users/mallory"), false, true},
		{"b denies subject", jrd("acct:alice@b.example.com", self), jrd("acct:mallory@b.example.com", self), false, true},
		{"self not on subject host", jrd("acct:alice@b.example.com", "https://a.example.com/users/alice"), "", false, false},
		{"subject not acct", jrd("https://b.example.com/users/alice", self), "", false, false},
		{"no self link", `{"subject":"acct:alice@b.example.com","links":[]}`, "", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var bHits atomic.Int32
			a := newPeer(t, func(w http.ResponseWriter, r *http.Request) { asJSON(w, "application/jrd+json", tc.a) })
			b := newPeer(t, func(w http.ResponseWriter, r *http.Request) {
				bHits.Add(1)
				if got := r.URL.Query().Get("resource"); got != "acct:alice@b.example.com" {
					t.Errorf("b asked for %q", got)
				}
				if tc.b == "" {
					w.WriteHeader(404)
					return
				}
				asJSON(w, "application/jrd+json", tc.b)
			})
			c := newClient(t, a, Config{AllowedNets: loopback})
			mapHosts(t, c, map[string]*httptest.Server{"a.example.com": a, "b.example.com": b})
			j, err := c.LookupWebFinger(context.Background(), "alice@a.example.com", nil)
			if tc.ok {
				if err != nil || j.Subject != "acct:alice@b.example.com" || j.SelfHref() != self {
					t.Fatalf("got %+v, %v", j, err)
				}
			} else if !errors.Is(err, ErrWebFingerMismatch) {
				t.Fatalf("err = %v", err)
			}
			if (bHits.Load() > 0) != tc.b0hit {
				t.Errorf("b contacted %d times", bHits.Load())
			}
		})
	}
}

func TestWebFingerErrors(t *testing.T) {
	srv := newPeer(t, func(w http.ResponseWriter, r *http.Request) { asJSON(w, "text/html", "<html>") })
	c := newClient(t, srv, Config{AllowedNets: loopback})
	mapHosts(t, c, map[string]*httptest.Server{"a.example.com": srv})
	if _, err := c.LookupWebFinger(context.Background(), "alice@a.example.com", nil); !errors.Is(err, ErrContentType) {
		t.Errorf("html answer: %v", err)
	}
	for _, in := range []string{"alice", "https://a.example.com/users/alice", "acct:alice@a.example.com/x"} {
		if _, err := c.LookupWebFinger(context.Background(), in, nil); !errors.Is(err, ErrInvalidURL) {
			t.Errorf("%q: %v", in, err)
		}
	}
}
