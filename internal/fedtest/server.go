package fedtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/torget/torget/internal/fedtest/mastosig"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Well-known JSON-LD contexts and addressing constants.
const (
	// ContextAS is the ActivityStreams JSON-LD context.
	ContextAS = "https://www.w3.org/ns/activitystreams"
	// ContextSecurity is the security vocabulary context used for publicKey.
	ContextSecurity = "https://w3id.org/security/v1"
	// Public is the ActivityStreams public collection.
	Public = "https://www.w3.org/ns/activitystreams#Public"
	// ActivityJSON is the ActivityPub media type.
	ActivityJSON = "application/activity+json"
)

// maxBody bounds inbox bodies and fetched documents.
const maxBody = 1 << 20

// Options configure a Server.
type Options struct {
	// Users are the local usernames; default ["alice"]. The first one signs
	// the server's own fetches (for example of a signer's key).
	Users []string
	// RootCAs are the roots to trust when fetching from other servers, such as
	// torget's test server. The server's own certificate is always trusted;
	// httptest TLS servers share one certificate, so srv.Certificate() of any
	// httptest server works here.
	RootCAs *x509.CertPool
	// Software is "mastodon" (default) or "gotosocial". "gotosocial" uses key
	// ids of the form ActorID+"/main-key" (served as a stub actor to anyone),
	// signs with algorithm="hs2019" and omits a few Mastodon-only actor
	// fields.
	Software string
	// NoSharedInbox leaves endpoints.sharedInbox out of actor documents. The
	// shared inbox route still exists (and records), so tests can assert that
	// nothing was delivered to it.
	NoSharedInbox bool
	// RequireSignedFetch answers 401 to unsigned GETs of actors and their
	// collections, like Mastodon's authorized-fetch mode and GoToSocial.
	RequireSignedFetch bool
}

// Delivery is one POST received at an inbox.
type Delivery struct {
	Path      string         // request path: "/inbox" or "/users/{user}/inbox"
	Body      []byte         // raw body (up to 1 MiB)
	Activity  map[string]any // decoded body; nil if it was not a JSON object
	Type      string         // Activity["type"] when it is a string
	KeyID     string         // keyId of the Signature header, if any
	Verified  bool           // signature verified as Mastodon would
	VerifyErr string         // why verification failed (empty when Verified)
	Status    int            // status code the server answered
	Received  time.Time      // arrival time
}

type user struct {
	name        string
	key         *rsa.PrivateKey // guarded by Server.mu, like the fields below
	pubPEM      string
	displayName string
	gone        bool
}

type cachedKey struct {
	pub   *rsa.PublicKey
	owner string
}

// Server is a fake Mastodon-like fediverse server. Create it with NewServer.
type Server struct {
	// URL is the base URL, https://127.0.0.1:PORT.
	URL string
	// Host is the authority part of URL, 127.0.0.1:PORT.
	Host string

	opt    Options
	srv    *httptest.Server
	client *http.Client
	users  map[string]*user
	order  []string

	mu          sync.Mutex
	received    []Delivery
	fetches     []Fetch
	inboxStatus int
	keys        map[string]cachedKey
	seq         int
	objects     map[string]any // path → document served at GET path (see Serve)
	objectGets  map[string]int // path → GETs of a hosted document
}

// Fetch records a signed GET this server checked (RequireSignedFetch).
type Fetch struct {
	Path      string
	KeyID     string
	Verified  bool // the signature verified against the signer's fetched key
	VerifyErr string
}

// keyFetchHeader marks the GETs fedtest servers make to fetch keys. A
// fedtest server checks such a GET's signature only structurally: two
// servers that both demand signed fetches would otherwise fetch each
// other's keys forever (Mastodon breaks the same loop by serving its
// instance actor unsigned). Real servers never send it, so their GETs are
// verified in full.
const keyFetchHeader = "X-Fedtest-Key-Fetch"

// Fetches returns the signed GETs checked so far, in order.
func (s *Server) Fetches() []Fetch {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Fetch(nil), s.fetches...)
}

// NewServer starts a fake server for opt and registers its shutdown with
// t.Cleanup. Keys are generated here (RSA-2048, one per user).
func NewServer(t testing.TB, opt Options) *Server {
	t.Helper()
	if len(opt.Users) == 0 {
		opt.Users = []string{"alice"}
	}
	if opt.Software == "" {
		opt.Software = "mastodon"
	}
	s := &Server{opt: opt, users: map[string]*user{}, keys: map[string]cachedKey{}}
	type res struct {
		i   int
		key *rsa.PrivateKey
		err error
	}
	ch := make(chan res, len(opt.Users))
	for i := range opt.Users {
		go func() {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			ch <- res{i, k, err}
		}()
	}
	keys := make([]*rsa.PrivateKey, len(opt.Users))
	for range opt.Users {
		r := <-ch
		if r.err != nil {
			t.Fatalf("fedtest: generating key: %v", r.err)
		}
		keys[r.i] = r.key
	}
	for i, name := range opt.Users {
		if _, dup := s.users[name]; dup {
			t.Fatalf("fedtest: duplicate user %q", name)
		}
		der, err := x509.MarshalPKIXPublicKey(&keys[i].PublicKey)
		if err != nil {
			t.Fatalf("fedtest: marshalling key: %v", err)
		}
		s.users[name] = &user{
			name:        name,
			key:         keys[i],
			pubPEM:      string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})),
			displayName: name,
		}
		s.order = append(s.order, name)
	}

	s.srv = httptest.NewUnstartedServer(s.routes())
	s.srv.StartTLS()
	s.URL = s.srv.URL
	s.Host = strings.TrimPrefix(s.URL, "https://")

	pool := x509.NewCertPool()
	if opt.RootCAs != nil {
		pool = opt.RootCAs.Clone()
	}
	pool.AddCert(s.srv.Certificate())
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool},
		ForceAttemptHTTP2: true,
	}
	s.client = &http.Client{Transport: tr, Timeout: 15 * time.Second}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		s.srv.Close()
	})
	return s
}

// ActorID returns the actor id of user: URL + "/users/" + user.
func (s *Server) ActorID(user string) string { return s.URL + "/users/" + user }

// KeyID returns the key id user signs with: ActorID + "#main-key" (Mastodon)
// or ActorID + "/main-key" (Software "gotosocial").
func (s *Server) KeyID(user string) string {
	if s.opt.Software == "gotosocial" {
		return s.ActorID(user) + "/main-key"
	}
	return s.ActorID(user) + "#main-key"
}

// Inbox returns user's personal inbox: ActorID + "/inbox".
func (s *Server) Inbox(user string) string { return s.ActorID(user) + "/inbox" }

// SharedInbox returns the shared inbox, URL + "/inbox" (served even with
// NoSharedInbox, though then no actor advertises it).
func (s *Server) SharedInbox() string { return s.URL + "/inbox" }

// Acct returns user + "@" + Host.
func (s *Server) Acct(user string) string { return user + "@" + s.Host }

// HTTPClient returns a client that trusts Options.RootCAs and this server's
// certificate.
func (s *Server) HTTPClient() *http.Client { return s.client }

// PublicKeyPEM returns user's public key as SPKI PEM ("BEGIN PUBLIC KEY").
func (s *Server) PublicKeyPEM(user string) string {
	u := s.mustUser(user)
	s.mu.Lock()
	defer s.mu.Unlock()
	return u.pubPEM
}

// RotateKey gives user a new RSA key under the same key id, as a server
// that rotated its keys would: peers holding the old key must refetch.
func (s *Server) RotateKey(user string) {
	u := s.mustUser(user)
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		panic(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u.key, u.pubPEM = k, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// SetGone makes user's actor answer 410 Gone, as after an account deletion.
// The user can still sign (Mastodon signs the Delete with the old key).
func (s *Server) SetGone(user string) {
	u := s.mustUser(user)
	s.mu.Lock()
	defer s.mu.Unlock()
	u.gone = true
}

// SetInboxStatus sets the status answered to inbox POSTs whose signature
// verifies (default 202); SetInboxStatus(0) restores the default. Failed
// verifications are always answered 401.
func (s *Server) SetInboxStatus(code int) {
	s.mu.Lock()
	s.inboxStatus = code
	s.mu.Unlock()
}

// SetDisplayName changes the name served in user's actor document.
func (s *Server) SetDisplayName(user, name string) {
	u := s.mustUser(user)
	s.mu.Lock()
	u.displayName = name
	s.mu.Unlock()
}

// Received returns copies of the deliveries received so far, in order of
// arrival.
func (s *Server) Received() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Delivery, len(s.received))
	for i, d := range s.received {
		out[i] = copyDelivery(d)
	}
	return out
}

// Count returns how many received deliveries match pred.
func (s *Server) Count(pred func(Delivery) bool) int {
	n := 0
	for _, d := range s.Received() {
		if pred(d) {
			n++
		}
	}
	return n
}

// WaitFor polls Received until pred matches a delivery and returns it; after
// timeout it calls t.Fatalf with a summary of what was received.
func (s *Server) WaitFor(t testing.TB, timeout time.Duration, pred func(Delivery) bool) Delivery {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := s.Received()
		for _, d := range got {
			if pred(d) {
				return d
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("fedtest %s: no matching delivery within %v; received %d:\n%s", s.Host, timeout, len(got), summarize(got))
			return Delivery{}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func summarize(ds []Delivery) string {
	if len(ds) == 0 {
		return "  (nothing)"
	}
	var b strings.Builder
	for i, d := range ds {
		fmt.Fprintf(&b, "  %d. %s %s status=%d verified=%v keyId=%q", i+1, d.Path, d.Type, d.Status, d.Verified, d.KeyID)
		if d.VerifyErr != "" {
			fmt.Fprintf(&b, " err=%q", d.VerifyErr)
		}
		body := string(d.Body)
		if len(body) > 300 {
			body = body[:300] + "…"
		}
		fmt.Fprintf(&b, "\n     %s\n", body)
	}
	return b.String()
}

func copyDelivery(d Delivery) Delivery {
	d.Body = bytes.Clone(d.Body)
	if d.Activity != nil {
		var m map[string]any
		if json.Unmarshal(d.Body, &m) == nil {
			d.Activity = m
		}
	}
	return d
}

func (s *Server) mustUser(name string) *user {
	u, ok := s.users[name]
	if !ok {
		panic(fmt.Sprintf("fedtest: unknown user %q on %s", name, s.Host))
	}
	return u
}

func (s *Server) userAgent() string {
	return "fedtest/1.0 (Mastodon/4.3.0-compatible; +" + s.URL + "/)"
}

// signOpts control how a request is signed; the zero value signs like
// Mastodon. Tests of this package use them to forge bad requests.
type signOpts struct {
	headers []string  // signed headers; default depends on method
	date    time.Time // Date header; default now
	body    []byte    // if non-nil, sent instead of the signed body
	alg     string    // algorithm parameter; default by Software
	keyOf   string    // if set, sign with this user's private key (forgery)
}

// newSignedRequest builds a request signed as user.
func (s *Server) newSignedRequest(ctx context.Context, user, method, target string, body []byte, o signOpts) (*http.Request, error) {
	u, ok := s.users[user]
	if !ok {
		return nil, fmt.Errorf("fedtest: unknown user %q", user)
	}
	send := body
	if o.body != nil {
		send = o.body
	}
	var rd io.Reader
	if method != http.MethodGet {
		rd = bytes.NewReader(send)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, err
	}
	req.Host = req.URL.Host
	req.Header.Set("User-Agent", s.userAgent())
	if !o.date.IsZero() {
		req.Header.Set("Date", o.date.UTC().Format(http.TimeFormat))
	}
	headers := o.headers
	if method == http.MethodGet {
		req.Header.Set("Accept", ActivityJSON)
		if headers == nil {
			headers = []string{"(request-target)", "host", "date", "accept"}
		}
	} else {
		sum := sha256.Sum256(body)
		req.Header.Set("Digest", "SHA-256="+base64.StdEncoding.EncodeToString(sum[:]))
		req.Header.Set("Content-Type", ActivityJSON)
		if headers == nil {
			headers = []string{"(request-target)", "host", "date", "digest"}
		}
	}
	alg := o.alg
	if alg == "" {
		alg = "rsa-sha256"
		if s.opt.Software == "gotosocial" {
			alg = "hs2019"
		}
	}
	s.mu.Lock()
	key := u.key
	if o.keyOf != "" {
		key = s.mustUser(o.keyOf).key
	}
	s.mu.Unlock()
	if err := mastosig.SignRequest(req, key, s.KeyID(user), alg, headers); err != nil {
		return nil, err
	}
	return req, nil
}

func (s *Server) do(req *http.Request) (int, string, []byte, error) {
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return resp.StatusCode, resp.Header.Get("Content-Type"), b, err
}

// Send POSTs activity (marshalled to JSON) to inbox, signed as user the way
// Mastodon signs: draft-cavage rsa-sha256 (hs2019 for Software "gotosocial")
// over "(request-target) host date digest", with Digest SHA-256 and
// Content-Type application/activity+json. It returns the status code and the
// response body.
func (s *Server) Send(ctx context.Context, user, inbox string, activity any) (int, []byte, error) {
	return s.send(ctx, user, inbox, activity, signOpts{})
}

// SendRaw POSTs body exactly as given (it need not be valid JSON), signed as
// user like Send. Tests use it for malformed and hostile payloads.
func (s *Server) SendRaw(ctx context.Context, user, inbox string, body []byte) (int, []byte, error) {
	req, err := s.newSignedRequest(ctx, user, http.MethodPost, inbox, body, signOpts{})
	if err != nil {
		return 0, nil, err
	}
	code, _, b, err := s.do(req)
	return code, b, err
}

func (s *Server) send(ctx context.Context, user, inbox string, activity any, o signOpts) (int, []byte, error) {
	body, err := json.Marshal(activity)
	if err != nil {
		return 0, nil, err
	}
	req, err := s.newSignedRequest(ctx, user, http.MethodPost, inbox, body, o)
	if err != nil {
		return 0, nil, err
	}
	code, _, b, err := s.do(req)
	return code, b, err
}

// SignedGet GETs target signed as user over "(request-target) host date
// accept", with Accept: application/activity+json. It returns the status,
// the Content-Type and the body (up to 1 MiB).
func (s *Server) SignedGet(ctx context.Context, user, target string) (int, string, []byte, error) {
	req, err := s.newSignedRequest(ctx, user, http.MethodGet, target, nil, signOpts{})
	if err != nil {
		return 0, "", nil, err
	}
	return s.do(req)
}

// WebFinger resolves acct ("user@host", optionally prefixed by "acct:" or
// "@") at https://host/.well-known/webfinger, unsigned as Mastodon does, and
// returns the decoded JRD.
func (s *Server) WebFinger(ctx context.Context, acct string) (map[string]any, error) {
	acct = strings.TrimPrefix(strings.TrimPrefix(acct, "acct:"), "@")
	at := strings.LastIndexByte(acct, '@')
	if at <= 0 || at == len(acct)-1 {
		return nil, fmt.Errorf("fedtest: bad acct %q", acct)
	}
	u := "https://" + acct[at+1:] + "/.well-known/webfinger?resource=" + url.QueryEscape("acct:"+acct)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/jrd+json, application/json")
	req.Header.Set("User-Agent", s.userAgent())
	code, _, b, err := s.do(req)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("fedtest: webfinger %s: status %d: %.200s", acct, code, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("fedtest: webfinger %s: %v", acct, err)
	}
	return m, nil
}

// ---- serving ----

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/webfinger", s.serveWebFinger)
	mux.HandleFunc("GET /users/{user}", s.serveActor)
	mux.HandleFunc("GET /users/{user}/{coll}", s.serveCollection)
	mux.HandleFunc("POST /inbox", s.serveInbox)
	mux.HandleFunc("POST /users/{user}/inbox", s.serveInbox)
	mux.HandleFunc("GET /objects/", s.serveObject)
	return mux
}

func writeJSON(w http.ResponseWriter, ctype string, code int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(code)
	w.Write(b)
}

func (s *Server) serveWebFinger(w http.ResponseWriter, r *http.Request) {
	res := r.URL.Query().Get("resource")
	var name string
	switch {
	case strings.HasPrefix(res, "acct:"):
		acct := strings.TrimPrefix(res, "acct:")
		at := strings.LastIndexByte(acct, '@')
		if at < 0 || !strings.EqualFold(acct[at+1:], s.Host) {
			http.NotFound(w, r)
			return
		}
		name = acct[:at]
	case strings.HasPrefix(res, s.URL+"/users/"):
		name = strings.TrimPrefix(res, s.URL+"/users/")
	default:
		http.Error(w, "bad resource", http.StatusBadRequest)
		return
	}
	if _, ok := s.users[name]; !ok {
		http.NotFound(w, r)
		return
	}
	writeJSON(w, "application/jrd+json; charset=utf-8", http.StatusOK, map[string]any{
		"subject": "acct:" + s.Acct(name),
		"aliases": []string{s.URL + "/@" + name, s.ActorID(name)},
		"links": []any{
			map[string]any{"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": s.URL + "/@" + name},
			map[string]any{"rel": "self", "type": ActivityJSON, "href": s.ActorID(name)},
		},
	})
}

// checkFetchSignature applies RequireSignedFetch: a GET must carry a
// signature covering (request-target) host date, fresh, that verifies
// against the signer's key (fetched and cached like for inbox POSTs).
func (s *Server) checkFetchSignature(w http.ResponseWriter, r *http.Request) bool {
	if !s.opt.RequireSignedFetch {
		return true
	}
	p, err := mastosig.SignatureHeader(r)
	if err == nil {
		err = p.CheckStructure(r, []string{"(request-target)", "host", "date"}, time.Now())
	}
	if err != nil {
		http.Error(w, "Request not signed: "+err.Error(), http.StatusUnauthorized)
		return false
	}
	if r.Header.Get(keyFetchHeader) != "" {
		return true
	}
	f := Fetch{Path: r.URL.Path, KeyID: p["keyid"]}
	err = s.verifyGet(r, p)
	f.Verified = err == nil
	if err != nil {
		f.VerifyErr = err.Error()
	}
	s.mu.Lock()
	s.fetches = append(s.fetches, f)
	s.mu.Unlock()
	if err != nil {
		http.Error(w, "Signature not verified: "+err.Error(), http.StatusUnauthorized)
		return false
	}
	return true
}

func (s *Server) verifyGet(r *http.Request, p mastosig.Params) error {
	ss, err := p.SigningString(r)
	if err != nil {
		return err
	}
	key, err := s.lookupKey(r.Context(), p["keyid"])
	if err != nil {
		return fmt.Errorf("fetching key %s: %v", p["keyid"], err)
	}
	return mastosig.VerifyRSA(key.pub, ss, p["signature"])
}

// ActorDocument returns the actor document served for user.
func (s *Server) ActorDocument(user string) map[string]any {
	u := s.mustUser(user)
	s.mu.Lock()
	name, pubPEM := u.displayName, u.pubPEM
	s.mu.Unlock()
	id := s.ActorID(user)
	doc := map[string]any{
		"@context":                  []any{ContextAS, ContextSecurity},
		"id":                        id,
		"type":                      "Person",
		"following":                 id + "/following",
		"followers":                 id + "/followers",
		"inbox":                     s.Inbox(user),
		"outbox":                    id + "/outbox",
		"preferredUsername":         user,
		"name":                      name,
		"summary":                   "",
		"url":                       s.URL + "/@" + user,
		"manuallyApprovesFollowers": false,
		"publicKey": map[string]any{
			"id":           s.KeyID(user),
			"owner":        id,
			"publicKeyPem": pubPEM,
		},
	}
	if s.opt.Software != "gotosocial" {
		doc["featured"] = id + "/collections/featured"
		doc["discoverable"] = true
		doc["published"] = "2024-01-01T00:00:00Z"
	}
	if !s.opt.NoSharedInbox {
		doc["endpoints"] = map[string]any{"sharedInbox": s.SharedInbox()}
	}
	return doc
}

func (s *Server) serveActor(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("user")
	if _, ok := s.users[name]; !ok {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	gone := s.users[name].gone
	s.mu.Unlock()
	if gone {
		writeJSON(w, ActivityJSON+"; charset=utf-8", http.StatusGone, map[string]any{
			"@context": ContextAS, "id": s.ActorID(name), "type": "Tombstone"})
		return
	}
	if !s.checkFetchSignature(w, r) {
		return
	}
	writeJSON(w, ActivityJSON+"; charset=utf-8", http.StatusOK, s.ActorDocument(name))
}

func (s *Server) serveCollection(w http.ResponseWriter, r *http.Request) {
	name, coll := r.PathValue("user"), r.PathValue("coll")
	if _, ok := s.users[name]; !ok {
		http.NotFound(w, r)
		return
	}
	if coll == "main-key" && s.opt.Software == "gotosocial" {
		// GoToSocial serves a stub actor carrying the key to anyone, so
		// that key fetches never need a signature.
		id := s.ActorID(name)
		writeJSON(w, ActivityJSON+"; charset=utf-8", http.StatusOK, map[string]any{
			"@context":          []any{ContextAS, ContextSecurity},
			"id":                id,
			"type":              "Person",
			"preferredUsername": name,
			"inbox":             s.Inbox(name),
			"publicKey": map[string]any{
				"id": s.KeyID(name), "owner": id, "publicKeyPem": s.PublicKeyPEM(name),
			},
		})
		return
	}
	switch coll {
	case "outbox", "followers", "following":
	default:
		http.NotFound(w, r)
		return
	}
	if !s.checkFetchSignature(w, r) {
		return
	}
	writeJSON(w, ActivityJSON+"; charset=utf-8", http.StatusOK, map[string]any{
		"@context":   ContextAS,
		"id":         s.ActorID(name) + "/" + coll,
		"type":       "OrderedCollection",
		"totalItems": 0,
	})
}

func (s *Server) serveInbox(w http.ResponseWriter, r *http.Request) {
	d := Delivery{Path: r.URL.Path, Received: time.Now()}
	code, msg := s.receive(r, &d)
	if d.VerifyErr == "" && !d.Verified {
		d.VerifyErr = msg
	}
	d.Status = code
	s.mu.Lock()
	s.received = append(s.received, d)
	s.mu.Unlock()
	if code >= 400 {
		http.Error(w, msg, code)
		return
	}
	w.WriteHeader(code)
}

// receive verifies an inbox POST like Mastodon and fills d; it returns the
// status to answer and, for failures, an explanation.
func (s *Server) receive(r *http.Request, d *Delivery) (int, string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if len(body) > maxBody {
		d.Body = body[:maxBody]
		return http.StatusRequestEntityTooLarge, "body larger than 1 MiB"
	}
	d.Body = body
	if err != nil {
		return http.StatusBadRequest, "reading body: " + err.Error()
	}
	var act map[string]any
	if json.Unmarshal(body, &act) == nil && act != nil {
		d.Activity = act
		d.Type, _ = act["type"].(string)
	}
	if name := r.PathValue("user"); name != "" {
		if _, ok := s.users[name]; !ok {
			return http.StatusNotFound, "unknown user " + name
		}
	}
	p, err := mastosig.SignatureHeader(r)
	if err != nil {
		return http.StatusUnauthorized, err.Error()
	}
	d.KeyID = p["keyid"]
	if err := s.verify(r, p, body, act); err != nil {
		return http.StatusUnauthorized, err.Error()
	}
	if d.Activity == nil {
		d.VerifyErr = "body is not a JSON object"
		return http.StatusBadRequest, d.VerifyErr
	}
	d.Verified = true
	s.mu.Lock()
	code := s.inboxStatus
	s.mu.Unlock()
	if code == 0 {
		code = http.StatusAccepted
	}
	return code, ""
}

func (s *Server) verify(r *http.Request, p mastosig.Params, body []byte, act map[string]any) error {
	ss, err := mastosig.CheckPost(r, p, body)
	if err != nil {
		return err
	}
	key, err := s.lookupKey(r.Context(), p["keyid"])
	if err != nil {
		return fmt.Errorf("fetching key %s: %v", p["keyid"], err)
	}
	if err := mastosig.VerifyRSA(key.pub, ss, p["signature"]); err != nil {
		return err
	}
	if act == nil {
		return nil // reported as 400 by the caller
	}
	actor := idOf(act["actor"])
	if actor != key.owner {
		return fmt.Errorf("activity actor %q is not the key owner %q", actor, key.owner)
	}
	return nil
}

// idOf returns v if it is a string, or v["id"] if it is an object.
func idOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		s, _ := x["id"].(string)
		return s
	}
	return ""
}

// lookupKey returns the key for keyID, from the cache or by a signed fetch.
func (s *Server) lookupKey(ctx context.Context, keyID string) (cachedKey, error) {
	s.mu.Lock()
	k, ok := s.keys[keyID]
	s.mu.Unlock()
	if ok {
		return k, nil
	}
	k, err := s.fetchKey(ctx, keyID)
	if err != nil {
		return cachedKey{}, err
	}
	s.mu.Lock()
	s.keys[keyID] = k
	s.mu.Unlock()
	return k, nil
}

func (s *Server) fetchKey(ctx context.Context, keyID string) (cachedKey, error) {
	ku, err := url.Parse(keyID)
	if err != nil || (ku.Scheme != "https" && ku.Scheme != "http") || ku.Host == "" {
		return cachedKey{}, fmt.Errorf("keyId %q is not an http(s) URL", keyID)
	}
	doc, err := s.fetchJSON(ctx, keyID)
	if err != nil {
		return cachedKey{}, err
	}
	if _, isActor := doc["publicKey"]; !isActor {
		// The key id resolved to a key document: follow its owner.
		if _, isKey := doc["publicKeyPem"]; !isKey {
			return cachedKey{}, errors.New("document has neither publicKey nor publicKeyPem")
		}
		owner, _ := doc["owner"].(string)
		if owner == "" {
			return cachedKey{}, errors.New("key document has no owner")
		}
		if doc, err = s.fetchJSON(ctx, owner); err != nil {
			return cachedKey{}, fmt.Errorf("fetching owner: %v", err)
		}
	}
	actorID := idOf(doc)
	au, err := url.Parse(actorID)
	if err != nil || actorID == "" || au.Host != ku.Host {
		return cachedKey{}, fmt.Errorf("actor id %q is not on the key's host %s", actorID, ku.Host)
	}
	var cands []map[string]any
	switch pk := doc["publicKey"].(type) {
	case map[string]any:
		cands = append(cands, pk)
	case []any:
		for _, e := range pk {
			if m, ok := e.(map[string]any); ok {
				cands = append(cands, m)
			}
		}
	}
	for _, c := range cands {
		if idOf(c) != keyID {
			continue
		}
		owner, _ := c["owner"].(string)
		if owner != actorID {
			return cachedKey{}, fmt.Errorf("publicKey.owner %q is not the actor id %q", owner, actorID)
		}
		pemStr, _ := c["publicKeyPem"].(string)
		pub, err := mastosig.ParsePublicKeyPEM(pemStr)
		if err != nil {
			return cachedKey{}, err
		}
		return cachedKey{pub: pub, owner: owner}, nil
	}
	return cachedKey{}, fmt.Errorf("actor %s lists no publicKey with id %s", actorID, keyID)
}

// fetchJSON GETs target (fragment stripped) signed as the first user.
func (s *Server) fetchJSON(ctx context.Context, target string) (map[string]any, error) {
	if i := strings.IndexByte(target, '#'); i >= 0 {
		target = target[:i]
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := s.newSignedRequest(ctx, s.order[0], http.MethodGet, target, nil, signOpts{})
	if err != nil {
		return nil, err
	}
	req.Header.Set(keyFetchHeader, "1")
	code, ctype, b, err := s.do(req)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d: %.200s", target, code, b)
	}
	if !strings.Contains(ctype, "json") {
		return nil, fmt.Errorf("GET %s: content type %q", target, ctype)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("GET %s: %v", target, err)
	}
	return m, nil
}
