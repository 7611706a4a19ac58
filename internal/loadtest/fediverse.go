package loadtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"github.com/torget/torget/internal/fedtest/mastosig"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Behaviour is how one simulated server answers. The zero value answers
// at once with 202.
type Behaviour struct {
	MinLatency, MaxLatency time.Duration // uniform delay before answering an inbox POST
	Share500               float64       // share of inbox POSTs answered 500 (not recorded)
	ShareTimeout           float64       // share of inbox POSTs held for TimeoutDelay (torget gives up first)
	TimeoutDelay           time.Duration
	Gone                   bool          // personal inboxes answer 410 Gone
	SlowBody               time.Duration // actor and WebFinger bodies are written in pieces over this long
	DownUntil              time.Time     // before this, every connection is closed without an answer
}

// Key is one entry of the key pool.
type Key struct {
	Priv   *rsa.PrivateKey
	PubPEM string
}

// KeyPool generates n RSA-2048 keys on all cores. Simulated servers share
// the pool round-robin: generating 10,000 keys would take minutes.
func KeyPool(n int) ([]Key, error) {
	keys := make([]Key, n)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	next := atomic.Int64{}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				k, err := rsa.GenerateKey(rand.Reader, 2048)
				if err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
				keys[i] = Key{Priv: k, PubPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))}
			}
		}()
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return nil, err
	}
	return keys, nil
}

// Server is one simulated remote server: its own loopback IP, key, users
// u0…u{Users-1} and a shared inbox.
type Server struct {
	Index int
	IP    string
	Host  string // IP:port, as torget sees it
	Key   Key
	Users int
	b     atomic.Pointer[Behaviour]
}

// URL is the server's base URL.
func (s *Server) URL() string { return "http://" + s.Host }

// Actor is user u's actor id.
func (s *Server) Actor(u int) string { return fmt.Sprintf("%s/users/u%d", s.URL(), u) }

// KeyID is user u's key id.
func (s *Server) KeyID(u int) string { return s.Actor(u) + "#main-key" }

// Inbox is user u's personal inbox.
func (s *Server) Inbox(u int) string { return s.Actor(u) + "/inbox" }

// SharedInbox is the server's shared inbox.
func (s *Server) SharedInbox() string { return s.URL() + "/inbox" }

// SetBehaviour changes how the server answers from now on.
func (s *Server) SetBehaviour(b Behaviour) { s.b.Store(&b) }

// Fediverse is a set of simulated servers served from one listener on
// 0.0.0.0:Port; each server has its own address in 127.1.0.0/16 and is
// told apart by the connection's local (destination) address.
type Fediverse struct {
	Port    int
	Servers []*Server
	byIP    map[string]*Server
	// Verify makes inbox POSTs check torget's signature as Mastodon does
	// (key fetched from torget once per key id and cached).
	Verify bool
	Rec    *Recorder

	ln     net.Listener
	srv    *http.Server
	client *http.Client
	keys   sync.Map // key id → *fetchedKey
	sigErr atomic.Int64
	local  func(*http.Request) net.Addr
	lastSE atomic.Value
}

type fetchedKey struct {
	once  sync.Once
	pub   *rsa.PublicKey
	owner string
	err   error
}

// ServerIP is the loopback address of server i.
func ServerIP(i int) string { return fmt.Sprintf("127.1.%d.%d", i/250, i%250+1) }

// NewFediverse starts n servers with users users each, keys from pool.
func NewFediverse(n, users int, pool []Key, b Behaviour) (*Fediverse, error) {
	ln, err := net.Listen("tcp4", "0.0.0.0:0")
	if err != nil {
		return nil, err
	}
	f := &Fediverse{Port: ln.Addr().(*net.TCPAddr).Port, byIP: map[string]*Server{}, Rec: NewRecorder(), ln: ln,
		client: &http.Client{Timeout: 20 * time.Second}}
	for i := range n {
		s := &Server{Index: i, IP: ServerIP(i), Key: pool[i%len(pool)], Users: users}
		s.Host = fmt.Sprintf("%s:%d", s.IP, f.Port)
		s.SetBehaviour(b)
		f.Servers = append(f.Servers, s)
		f.byIP[s.IP] = s
	}
	type ctxKey struct{}
	f.srv = &http.Server{
		Handler:           http.HandlerFunc(f.serve),
		ReadHeaderTimeout: 10 * time.Second,
		// Keep few idle connections: 10,000 servers × torget's pool would
		// exhaust file descriptors in one process.
		IdleTimeout: 3 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, ctxKey{}, c.LocalAddr())
		},
	}
	f.srv.SetKeepAlivesEnabled(true)
	go func() { _ = f.srv.Serve(ln) }()
	f.local = func(r *http.Request) net.Addr { a, _ := r.Context().Value(ctxKey{}).(net.Addr); return a }
	return f, nil
}

// Close stops the listener.
func (f *Fediverse) Close() { _ = f.srv.Close() }

// SignatureErrors is how many inbox POSTs failed verification, and the last reason.
func (f *Fediverse) SignatureErrors() (int64, string) {
	s, _ := f.lastSE.Load().(string)
	return f.sigErr.Load(), s
}

func (f *Fediverse) server(r *http.Request) *Server {
	if a, ok := f.local(r).(*net.TCPAddr); ok {
		return f.byIP[a.IP.String()]
	}
	return nil
}

func (f *Fediverse) serve(w http.ResponseWriter, r *http.Request) {
	s := f.server(r)
	if s == nil {
		http.Error(w, "no simulated server at this address", http.StatusMisdirectedRequest)
		return
	}
	b := s.b.Load()
	if time.Now().Before(b.DownUntil) {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/.well-known/webfinger":
		f.webfinger(w, r, s, b)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/users/"):
		f.actor(w, r, s, b)
	case r.Method == http.MethodPost && (r.URL.Path == "/inbox" || strings.HasPrefix(r.URL.Path, "/users/") && strings.HasSuffix(r.URL.Path, "/inbox")):
		f.inbox(w, r, s, b)
	default:
		http.NotFound(w, r)
	}
}

func (f *Fediverse) user(s *Server, name string) (int, bool) {
	var u int
	if _, err := fmt.Sscanf(name, "u%d", &u); err != nil || u < 0 || u >= s.Users {
		return 0, false
	}
	return u, true
}

func writeSlow(w http.ResponseWriter, ctype string, body []byte, slow time.Duration) {
	w.Header().Set("Content-Type", ctype)
	if slow <= 0 {
		_, _ = w.Write(body)
		return
	}
	const pieces = 4
	step := (len(body) + pieces - 1) / pieces
	fl, _ := w.(http.Flusher)
	for i := 0; i < len(body); i += step {
		_, _ = w.Write(body[i:min(i+step, len(body))])
		if fl != nil {
			fl.Flush()
		}
		time.Sleep(slow / pieces)
	}
}

func (f *Fediverse) webfinger(w http.ResponseWriter, r *http.Request, s *Server, b *Behaviour) {
	res := strings.TrimPrefix(r.URL.Query().Get("resource"), "acct:")
	name, host, _ := strings.Cut(res, "@")
	u, ok := f.user(s, name)
	if !ok || host != s.Host {
		http.NotFound(w, r)
		return
	}
	body, _ := json.Marshal(map[string]any{"subject": "acct:" + res,
		"links": []any{map[string]any{"rel": "self", "type": "application/activity+json", "href": s.Actor(u)}}})
	writeSlow(w, "application/jrd+json", body, b.SlowBody)
}

func (f *Fediverse) actor(w http.ResponseWriter, r *http.Request, s *Server, b *Behaviour) {
	rest := strings.TrimPrefix(r.URL.Path, "/users/")
	u, ok := f.user(s, rest)
	if !ok {
		http.NotFound(w, r)
		return
	}
	id := s.Actor(u)
	body, _ := json.Marshal(map[string]any{
		"@context":          []any{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
		"id":                id,
		"type":              "Person",
		"preferredUsername": fmt.Sprintf("u%d", u),
		"name":              fmt.Sprintf("Användare %d på %s", u, s.IP),
		"inbox":             id + "/inbox",
		"outbox":            id + "/outbox",
		"followers":         id + "/followers",
		"following":         id + "/following",
		"url":               id,
		"endpoints":         map[string]any{"sharedInbox": s.SharedInbox()},
		"publicKey":         map[string]any{"id": id + "#main-key", "owner": id, "publicKeyPem": s.Key.PubPEM},
	})
	writeSlow(w, "application/activity+json", body, b.SlowBody)
}

func (f *Fediverse) inbox(w http.ResponseWriter, r *http.Request, s *Server, b *Behaviour) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if b.Gone && r.URL.Path != "/inbox" {
		w.WriteHeader(http.StatusGone)
		return
	}
	var act map[string]any
	_ = json.Unmarshal(body, &act)
	if f.Verify {
		if err := f.verify(r, body, act); err != nil {
			f.sigErr.Add(1)
			f.lastSE.Store(s.Host + r.URL.Path + ": " + err.Error())
			http.Error(w, "signature: "+err.Error(), http.StatusUnauthorized)
			return
		}
	}
	if b.MaxLatency > 0 {
		d := b.MinLatency
		if b.MaxLatency > b.MinLatency {
			d += time.Duration(mrand.Int64N(int64(b.MaxLatency - b.MinLatency)))
		}
		time.Sleep(d)
	}
	x := mrand.Float64()
	switch {
	case x < b.Share500:
		f.Rec.retryable.Add(1)
		http.Error(w, "simulated failure", http.StatusInternalServerError)
		return
	case x < b.Share500+b.ShareTimeout:
		f.Rec.retryable.Add(1)
		select {
		case <-time.After(b.TimeoutDelay):
		case <-r.Context().Done():
		}
		return // whatever happens, not recorded: torget has given up
	}
	if r.Context().Err() != nil {
		return
	}
	f.Rec.Record("http://"+s.Host+r.URL.Path, act)
	w.WriteHeader(http.StatusAccepted)
}

// verify checks an inbox POST as Mastodon does: (request-target), host,
// date and digest signed; Digest matches; Date within an hour; the key
// fetched from its id; the activity's actor is the key's owner.
func (f *Fediverse) verify(r *http.Request, body []byte, act map[string]any) error {
	p, err := mastosig.SignatureHeader(r)
	if err != nil {
		return err
	}
	ss, err := mastosig.CheckPost(r, p, body)
	if err != nil {
		return err
	}
	v, _ := f.keys.LoadOrStore(p["keyid"], &fetchedKey{})
	k := v.(*fetchedKey)
	k.once.Do(func() { k.pub, k.owner, k.err = f.fetchKey(p["keyid"]) })
	if k.err != nil {
		return fmt.Errorf("fetch key %s: %w", p["keyid"], k.err)
	}
	if err := mastosig.VerifyRSA(k.pub, ss, p["signature"]); err != nil {
		return err
	}
	if actor := idOf(act["actor"]); actor != k.owner {
		return fmt.Errorf("activity actor %q is not the key owner %q", actor, k.owner)
	}
	return nil
}

func (f *Fediverse) fetchKey(keyID string) (*rsa.PublicKey, string, error) {
	u, _, _ := strings.Cut(keyID, "#")
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", "application/activity+json")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	var doc struct {
		PublicKey struct {
			ID, Owner, PublicKeyPem string
		} `json:"publicKey"`
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return nil, "", err
	}
	if doc.PublicKey.ID != keyID {
		return nil, "", fmt.Errorf("key id %q, want %q", doc.PublicKey.ID, keyID)
	}
	pub, err := mastosig.ParsePublicKeyPEM(doc.PublicKey.PublicKeyPem)
	return pub, doc.PublicKey.Owner, err
}

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

// SignedPost builds a POST of body to target signed by server s's user u
// exactly as Mastodon signs: (request-target) host date digest, rsa-sha256.
func SignedPost(s *Server, u int, target string, body []byte) (*http.Request, error) {
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/activity+json")
	req.Header.Set("Digest", "SHA-256="+digestB64(body))
	if err := mastosig.SignRequest(req, s.Key.Priv, s.KeyID(u), "rsa-sha256", []string{"(request-target)", "host", "date", "digest"}); err != nil {
		return nil, err
	}
	return req, nil
}

func digestB64(body []byte) string {
	sum := sha256.Sum256(body)
	return base64.StdEncoding.EncodeToString(sum[:])
}
