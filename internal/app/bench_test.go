package app_test

// Throughput benchmarks (not timed tests): run them with
//
//	go test -run '^$' -bench . -benchtime 2s ./internal/app/
//	TORGET_TEST_DB=postgres go test -run '^$' -bench . -benchtime 2s ./internal/app/
//
// Every figure is reported beside this machine's own RSA-2048 rates,
// measured in the same process with one goroutine per core (GOMAXPROCS):
// "sign/s" and "verify/s", and the ratios to them. The targets on a
// 2-core machine with SQLite: fan-out ≥ 0.70 of the signing ceiling, ≥ 2,000
// verified inbox activities/s, ≥ 15,000 actor GETs/s.
//
// Everything — torget, its workers, the fake peers and the load generator —
// runs in this one process and shares its cores, so the figures are a lower
// bound for torget alone.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/torget/torget/activitypub/httpsig"
	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/moderation"
	"github.com/torget/torget/internal/screening"
	"github.com/torget/torget/internal/store"
)

// ---- RSA-2048 baselines ----------------------------------------------------

var benchKeys struct {
	once sync.Once
	keys []*rsa.PrivateKey
	err  error
}

// rsaKeys returns n RSA-2048 keys, generated once per process (n ≤ 8).
func rsaKeys(tb testing.TB, n int) []*rsa.PrivateKey {
	tb.Helper()
	benchKeys.once.Do(func() {
		ks := make([]*rsa.PrivateKey, 8)
		var wg sync.WaitGroup
		var mu sync.Mutex
		for i := range ks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				k, err := rsa.GenerateKey(rand.Reader, 2048)
				mu.Lock()
				defer mu.Unlock()
				if err != nil && benchKeys.err == nil {
					benchKeys.err = err
				}
				ks[i] = k
			}()
		}
		wg.Wait()
		benchKeys.keys = ks
	})
	if benchKeys.err != nil {
		tb.Fatal(benchKeys.err)
	}
	return benchKeys.keys[:n]
}

func signOnce(k *rsa.PrivateKey, sum []byte) error {
	_, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum)
	return err
}

// BenchmarkBaselineRSASign2048 is the machine's PKCS#1 v1.5 RSA-2048
// signing rate on all cores: the ceiling for fan-out (one signature per
// delivery).
func BenchmarkBaselineRSASign2048(b *testing.B) {
	k := rsaKeys(b, 1)[0]
	sum := sha256.Sum256([]byte("signing string"))
	m := startMeter(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := signOnce(k, sum[:]); err != nil {
				b.Error(err)
				return
			}
		}
	})
	r := m.stop(b.N)
	b.ReportMetric(r.PerSec, "sign/s")
	b.ReportMetric(us(r.CPUPerOp), "cpu_us/op")
	reportLoad(b, r)
}

// BenchmarkBaselineRSAVerify2048 is the machine's RSA-2048 verification
// rate on all cores: the ceiling for the inbox (one verification per POST).
func BenchmarkBaselineRSAVerify2048(b *testing.B) {
	k := rsaKeys(b, 1)[0]
	sum := sha256.Sum256([]byte("signing string"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
	if err != nil {
		b.Fatal(err)
	}
	m := startMeter(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
				b.Error(err)
				return
			}
		}
	})
	r := m.stop(b.N)
	b.ReportMetric(r.PerSec, "verify/s")
	b.ReportMetric(us(r.CPUPerOp), "cpu_us/op")
	reportLoad(b, r)
}

// rate is a throughput measured in this run: operations per wall-clock
// second, and process CPU time per operation (robust against other load on
// the machine: on an otherwise idle n-core machine the rate would approach
// n ÷ CPU per op when the work parallelises).
type rate struct {
	PerSec   float64
	CPUPerOp time.Duration
	// Busy is the share of all cores this process kept busy; OthersBusy
	// the share other processes on the machine used meanwhile (Linux only,
	// -1 when unknown). Busy well below 1 while OthersBusy is low means
	// the work waited on something other than the CPU.
	Busy, OthersBusy float64
}

// parallelRate runs op on GOMAXPROCS goroutines for about d.
func parallelRate(d time.Duration, op func() error) (rate, error) {
	var n atomic.Int64
	var firstErr atomic.Value
	deadline := time.Now().Add(d)
	start, cpu0 := time.Now(), processCPU()
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if err := op(); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return rate{}, err
	}
	return rate{PerSec: float64(n.Load()) / time.Since(start).Seconds(), CPUPerOp: (processCPU() - cpu0) / time.Duration(max(n.Load(), 1))}, nil
}

// signCeiling measures the parallel RSA-2048 signing rate for about d.
func signCeiling(tb testing.TB, d time.Duration) rate {
	tb.Helper()
	k := rsaKeys(tb, 1)[0]
	sum := sha256.Sum256([]byte("signing string"))
	r, err := parallelRate(d, func() error { return signOnce(k, sum[:]) })
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// verifyCeiling measures the parallel RSA-2048 verification rate for about d.
func verifyCeiling(tb testing.TB, d time.Duration) rate {
	tb.Helper()
	k := rsaKeys(tb, 1)[0]
	sum := sha256.Sum256([]byte("signing string"))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
	if err != nil {
		tb.Fatal(err)
	}
	r, err := parallelRate(d, func() error { return rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, sum[:], sig) })
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

var ceilings struct {
	once         sync.Once
	sign, verify rate
}

// rsaCeilings are the signing and verifying ceilings measured once per run
// (for benchmarks whose targets are absolute).
func rsaCeilings(tb testing.TB) (sign, verify rate) {
	tb.Helper()
	ceilings.once.Do(func() {
		ceilings.sign = signCeiling(tb, time.Second)
		ceilings.verify = verifyCeiling(tb, time.Second)
	})
	return ceilings.sign, ceilings.verify
}

// meter times the measured part of a benchmark, in wall-clock and process
// CPU time. With TORGET_BENCH_CPUPROFILE=PREFIX it also writes a CPU profile
// of only that part to PREFIX<benchmark name>.prof (each round overwrites
// the last, so the file ends up holding the longest round); with
// TORGET_BENCH_TRACE=PREFIX an execution trace of it (where goroutines
// wait: go tool trace -pprof=sync FILE).
type meter struct {
	b           *testing.B
	start       time.Time
	cpu         time.Duration
	idle, total uint64
	statOK      bool
	prof, trace *os.File
}

func startMeter(b *testing.B) *meter {
	b.Helper()
	m := &meter{b: b}
	// regionFile creates PREFIX<benchmark name>EXT when env names a prefix.
	regionFile := func(env, ext string) *os.File {
		prefix := os.Getenv(env)
		if prefix == "" {
			return nil
		}
		f, err := os.Create(prefix + strings.NewReplacer("/", "_", "=", "_").Replace(b.Name()) + ext)
		if err != nil {
			b.Fatal(err)
		}
		return f
	}
	if f := regionFile("TORGET_BENCH_CPUPROFILE", ".prof"); f != nil {
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			b.Fatalf("region profile (not with -cpuprofile): %v", err)
		}
		m.prof = f
	}
	if f := regionFile("TORGET_BENCH_TRACE", ".trace"); f != nil {
		if err := trace.Start(f); err != nil {
			f.Close()
			b.Fatalf("region trace (not with -trace): %v", err)
		}
		m.trace = f
	}
	b.ResetTimer()
	m.idle, m.total, m.statOK = machineIdle()
	m.start, m.cpu = time.Now(), processCPU()
	return m
}

// stop ends the measured part; ops operations were done in it.
func (m *meter) stop(ops int) rate {
	elapsed, cpu := time.Since(m.start), processCPU()-m.cpu
	m.b.StopTimer()
	if m.prof != nil {
		pprof.StopCPUProfile()
		m.prof.Close()
	}
	if m.trace != nil {
		trace.Stop()
		m.trace.Close()
	}
	r := rate{PerSec: float64(ops) / elapsed.Seconds(), CPUPerOp: cpu / time.Duration(max(ops, 1)), OthersBusy: -1}
	r.Busy = float64(cpu) / float64(elapsed) / float64(runtime.GOMAXPROCS(0))
	if idle, total, ok := machineIdle(); ok && m.statOK && total > m.total {
		machineBusy := 1 - float64(idle-m.idle)/float64(total-m.total)
		r.OthersBusy = max(machineBusy-r.Busy, 0)
	}
	return r
}

// reportLoad reports how busy this process and the rest of the machine were.
func reportLoad(b *testing.B, r rate) {
	b.ReportMetric(r.Busy, "busy_frac")
	if r.OthersBusy >= 0 {
		b.ReportMetric(r.OthersBusy, "others_busy_frac")
	}
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// ---- Fan-out -----------------------------------------------------------------

const (
	fanoutServers   = 100
	fanoutFollowers = 1000
)

// BenchmarkFanout publishes posts to a group with 1,000 followers spread
// over 100 loopback servers; one op is one post, i.e. 1,000 deliveries
// (followers have personal inboxes only, so nothing is merged into shared
// inboxes). The servers read the body and answer 202 without verifying:
// what is measured is torget's side — claiming rows, loading the activity,
// signing, POSTing over plain HTTP/1.1 keep-alive, recording the result.
// It reports deliveries/s and ratio_to_sign_ceiling = deliveries/s ÷ the
// parallel RSA-2048 signing rate measured in the same run.
func BenchmarkFanout(b *testing.B) {
	ctx := context.Background()
	tg := startInstance(b)
	g := tg.group(b, "fanout", false)

	var received atomic.Int64
	recorder := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		received.Add(1)
		w.WriteHeader(http.StatusAccepted)
	})
	servers := make([]*httptest.Server, fanoutServers)
	for i := range servers {
		servers[i] = httptest.NewServer(recorder)
		b.Cleanup(servers[i].Close)
	}
	// Followers are inserted in bulk (store.InsertFollowers), not through
	// the Follow protocol: 1,000 Follow/Accept exchanges would only slow the
	// setup, and the protocol path has its own integration tests.
	fs := make([]store.Follower, fanoutFollowers)
	for i := range fs {
		s := servers[i%fanoutServers]
		actor := fmt.Sprintf("%s/users/u%d", s.URL, i)
		fs[i] = store.Follower{GroupID: g.ID, ActorIRI: actor, Inbox: actor + "/inbox",
			Host: strings.TrimPrefix(s.URL, "http://"), FollowIRI: actor + "#follows/1", State: store.FollowAccepted}
	}
	if err := tg.Store.InsertFollowers(ctx, fs); err != nil {
		b.Fatal(err)
	}

	publish := func(n int) {
		for i := range n {
			if _, _, err := tg.Fed.Publish(ctx, "fanout", federation.PostInput{
				Text: fmt.Sprintf("Inlägg %d: vägarbete på **Huddingevägen** i helgen. #trafik", i)}); err != nil {
				b.Fatal(err)
			}
		}
	}
	wait := func(want int64) {
		deadline := time.Now().Add(5 * time.Minute)
		for received.Load() < want || !tg.drained(b) {
			if time.Now().After(deadline) {
				b.Fatalf("timed out: %d of %d deliveries received", received.Load(), want)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}

	// Warm-up outside the timer: open the connections, cache the group key.
	publish(1)
	wait(fanoutFollowers)

	// The signing ceiling, measured right before (other load on the
	// machine varies; the CPU-time ratio below does not depend on it).
	sign := signCeiling(b, time.Second)
	m := startMeter(b)
	publish(b.N)
	wait(int64(b.N+1) * fanoutFollowers)
	r := m.stop(b.N * fanoutFollowers)

	c, err := tg.Store.DeliveryCounts(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if want := int64(b.N+1) * fanoutFollowers; c[store.DeliveryDone] != want {
		b.Fatalf("deliveries: %v, want %d done", c, want)
	}
	b.ReportMetric(r.PerSec, "deliveries/s")
	b.ReportMetric(sign.PerSec, "sign/s")
	b.ReportMetric(r.PerSec/sign.PerSec, "ratio_to_sign_ceiling")
	b.ReportMetric(us(r.CPUPerOp), "cpu_us/delivery")
	b.ReportMetric(us(sign.CPUPerOp), "cpu_us/sign")
	b.ReportMetric(float64(sign.CPUPerOp)/float64(r.CPUPerOp), "cpu_ratio_to_sign_ceiling")
	reportLoad(b, r)
}

// ---- Verified inbox ------------------------------------------------------------

// benchActors is a tiny fake server of remote actors with known keys,
// served over TLS (torget fetches keys over https only from real peers; the
// harness trusts httptest's certificate).
type benchActors struct {
	srv  *httptest.Server
	keys []*rsa.PrivateKey
}

func newBenchActors(tb testing.TB, n int) *benchActors {
	tb.Helper()
	ba := &benchActors{keys: rsaKeys(tb, n)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{u}", func(w http.ResponseWriter, r *http.Request) {
		var i int
		if _, err := fmt.Sscanf(r.PathValue("u"), "a%d", &i); err != nil || i < 0 || i >= len(ba.keys) {
			http.NotFound(w, r)
			return
		}
		der, _ := x509.MarshalPKIXPublicKey(&ba.keys[i].PublicKey)
		id := ba.actor(i)
		doc := map[string]any{
			"@context":          []any{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"},
			"id":                id,
			"type":              "Person",
			"preferredUsername": fmt.Sprintf("a%d", i),
			"inbox":             id + "/inbox",
			"outbox":            id + "/outbox",
			"followers":         id + "/followers",
			"endpoints":         map[string]any{"sharedInbox": ba.srv.URL + "/inbox"},
			"publicKey": map[string]any{"id": id + "#main-key", "owner": id,
				"publicKeyPem": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))},
		}
		w.Header().Set("Content-Type", "application/activity+json")
		_ = json.NewEncoder(w).Encode(doc)
	})
	accept := func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusAccepted)
	}
	mux.HandleFunc("POST /inbox", accept)
	mux.HandleFunc("POST /users/{u}/inbox", accept)
	ba.srv = httptest.NewTLSServer(mux)
	tb.Cleanup(ba.srv.Close)
	return ba
}

func (ba *benchActors) actor(i int) string { return fmt.Sprintf("%s/users/a%d", ba.srv.URL, i) }

// presigned is an inbox POST signed ahead of time.
type presigned struct {
	body   []byte
	header http.Header
}

// sign signs a POST of body to target as actor i, the way Mastodon does
// ((request-target) host date digest, rsa-sha256).
func (ba *benchActors) sign(i int, target string, body []byte) (presigned, error) {
	r, err := http.NewRequest(http.MethodPost, target, nil)
	if err != nil {
		return presigned{}, err
	}
	r.Header.Set("Content-Type", "application/activity+json")
	if err := httpsig.Sign(r, body, ba.actor(i)+"#main-key", ba.keys[i], time.Now()); err != nil {
		return presigned{}, err
	}
	return presigned{body: body, header: r.Header}, nil
}

var noteSeq atomic.Int64

// createNote is a Mastodon-shaped Create{Note} replying to a group post,
// about 1.2 KB, with a unique id (the inbox de-duplicates by id).
func (ba *benchActors) createNote(i int, groupID, inReplyTo string) []byte {
	actor := ba.actor(i)
	n := noteSeq.Add(1)
	note := fmt.Sprintf("%s/statuses/%d", actor, n)
	act := map[string]any{
		"@context":  []any{"https://www.w3.org/ns/activitystreams", map[string]any{"sensitive": "as:sensitive"}},
		"id":        note + "/activity",
		"type":      "Create",
		"actor":     actor,
		"published": time.Now().UTC().Format(time.RFC3339),
		"to":        []string{"https://www.w3.org/ns/activitystreams#Public"},
		"cc":        []string{actor + "/followers", groupID},
		"object": map[string]any{
			"id": note, "type": "Note", "attributedTo": actor, "inReplyTo": inReplyTo,
			"published": time.Now().UTC().Format(time.RFC3339), "url": note, "sensitive": false,
			"to": []string{"https://www.w3.org/ns/activitystreams#Public"}, "cc": []string{actor + "/followers", groupID},
			"content": `<p><span class="h-card"><a href="` + groupID + `" class="u-url mention">@<span>grupp</span></a></span> ` +
				strings.Repeat("Tack för informationen om avstängningen, vi tar cykeln i stället. ", 6) + `</p>`,
			"tag": []any{map[string]any{"type": "Mention", "href": groupID, "name": "@grupp"}},
		},
	}
	body, _ := json.Marshal(act)
	return body
}

// endpoint is where the load generator sends requests: either a plain
// HTTP server on torget's handler (no TLS cost, as behind a TLS-terminating
// proxy) or torget's own TLS listener. Either way HTTP/1.1 keep-alive, and
// the Host header is torget's domain, as signed.
type endpoint struct {
	base   string
	client *http.Client
}

func endpoints(tb testing.TB, tg *instance) map[string]endpoint {
	tb.Helper()
	plain := httptest.NewServer(tg.HTTP)
	tb.Cleanup(plain.Close)
	mk := func(tlsConf *tls.Config) *http.Client {
		tr := &http.Transport{TLSClientConfig: tlsConf, MaxIdleConns: 256, MaxIdleConnsPerHost: 256, ForceAttemptHTTP2: false}
		tb.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: tr, Timeout: 30 * time.Second}
	}
	return map[string]endpoint{
		"http": {base: plain.URL, client: mk(nil)},
		"tls":  {base: tg.Base, client: mk(&tls.Config{RootCAs: tg.Pool})},
	}
}

// loadConcurrency is the number of requests in flight during the
// concurrent benchmarks (b.SetParallelism(loadParallelism) × GOMAXPROCS).
const loadParallelism = 16

func (e endpoint) do(tg *instance, method, path string, header http.Header, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Host = tg.Domain
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// BenchmarkInboxVerified POSTs pre-signed Create{Note} replies from 8 fake
// remote actors to the shared inbox, 32 at a time; each is answered 202 only
// after its signature is verified and it is stored. One op is one POST. The
// actors' keys were fetched and cached beforehand (one Follow each), and all
// signing happens before the timer starts. The inbox workers run as in
// production and apply (ignore) the stored replies concurrently. It reports
// activities/s (202s per second) and ratio_to_verify_ceiling = activities/s ÷
// the parallel RSA-2048 verification rate measured in the same run.
func BenchmarkInboxVerified(b *testing.B) {
	for _, tr := range []string{"http", "tls"} {
		b.Run("transport="+tr, func(b *testing.B) { benchInbox(b, tr) })
	}
}

func benchInbox(b *testing.B, transport string) {
	const nActors = 8
	tg := startInstance(b)
	tg.group(b, "kvarteret", false)
	groupID := tg.Base + "/groups/kvarteret"
	ba := newBenchActors(b, nActors)
	ep := endpoints(b, tg)[transport]

	// Warm-up: each actor follows the group, so torget fetches and caches
	// its key (a signed GET to the fake server) before the timer.
	for i := range nActors {
		body, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
			"id": fmt.Sprintf("%s#follows/%d", ba.actor(i), noteSeq.Add(1)), "type": "Follow", "actor": ba.actor(i), "object": groupID})
		ps, err := ba.sign(i, groupID+"/inbox", body)
		if err != nil {
			b.Fatal(err)
		}
		if code, resp, err := ep.do(tg, http.MethodPost, "/groups/kvarteret/inbox", ps.header, ps.body); err != nil || code != http.StatusAccepted {
			b.Fatalf("warm-up Follow: %d %s %v", code, resp, err)
		}
	}

	// Pre-sign b.N activities on all cores.
	acts := make([]presigned, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	var signErr atomic.Value
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				j := int(next.Add(1)) - 1
				if j >= len(acts) {
					return
				}
				i := j % nActors
				ps, err := ba.sign(i, tg.Base+"/inbox", ba.createNote(i, groupID, groupID+"/posts/x"))
				if err != nil {
					signErr.CompareAndSwap(nil, err)
					return
				}
				acts[j] = ps
			}
		}()
	}
	wg.Wait()
	if err, ok := signErr.Load().(error); ok {
		b.Fatal(err)
	}

	var idx, accepted, refused atomic.Int64
	var firstErr atomic.Value
	verify := verifyCeiling(b, time.Second)
	b.SetParallelism(loadParallelism)
	m := startMeter(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			a := acts[idx.Add(1)-1]
			code, resp, err := ep.do(tg, http.MethodPost, "/inbox", a.header, a.body)
			if err == nil && code == http.StatusAccepted {
				accepted.Add(1)
				continue
			}
			refused.Add(1)
			firstErr.CompareAndSwap(nil, fmt.Sprintf("%d %s %v", code, resp, err))
		}
	})
	r := m.stop(int(accepted.Load()))
	if n := refused.Load(); n > 0 {
		b.Fatalf("%d of %d POSTs not accepted; first: %v", n, b.N, firstErr.Load())
	}
	b.ReportMetric(r.PerSec, "activities/s")
	b.ReportMetric(verify.PerSec, "verify/s")
	b.ReportMetric(r.PerSec/verify.PerSec, "ratio_to_verify_ceiling")
	b.ReportMetric(us(r.CPUPerOp), "cpu_us/activity")
	b.ReportMetric(us(verify.CPUPerOp), "cpu_us/verify")
	b.ReportMetric(float64(verify.CPUPerOp)/float64(r.CPUPerOp), "cpu_ratio_to_verify_ceiling")
	reportLoad(b, r)
}

// ---- WebFinger and actor GETs -------------------------------------------------

// BenchmarkWebFinger resolves acct:group@domain with 32 concurrent
// keep-alive clients; one op is one request.
func BenchmarkWebFinger(b *testing.B) {
	for _, tr := range []string{"http", "tls"} {
		b.Run("transport="+tr, func(b *testing.B) {
			benchGET(b, tr, func(tg *instance) (string, http.Header) {
				return "/.well-known/webfinger?resource=acct:wf@" + tg.Domain, nil
			}, "wf")
		})
	}
}

// BenchmarkActorGET fetches a group's actor document as ActivityPub JSON
// with 32 concurrent keep-alive clients; one op is one request.
func BenchmarkActorGET(b *testing.B) {
	for _, tr := range []string{"http", "tls"} {
		b.Run("transport="+tr, func(b *testing.B) {
			benchGET(b, tr, func(tg *instance) (string, http.Header) {
				return "/groups/brf-solsidan", http.Header{"Accept": {"application/activity+json"}}
			}, "brf-solsidan")
		})
	}
}

func benchGET(b *testing.B, transport string, target func(*instance) (string, http.Header), slug string) {
	sign, verify := rsaCeilings(b)
	tg := startInstance(b)
	tg.group(b, slug, false)
	ep := endpoints(b, tg)[transport]
	path, header := target(tg)
	if code, body, err := ep.do(tg, http.MethodGet, path, header, nil); err != nil || code != http.StatusOK {
		b.Fatalf("GET %s: %d %s %v", path, code, body, err)
	}
	var failed atomic.Int64
	var firstErr atomic.Value
	b.SetParallelism(loadParallelism)
	m := startMeter(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			code, body, err := ep.do(tg, http.MethodGet, path, header, nil)
			if err != nil || code != http.StatusOK {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, fmt.Sprintf("%d %s %v", code, body, err))
			}
		}
	})
	r := m.stop(b.N)
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d GETs failed; first: %v", n, b.N, firstErr.Load())
	}
	b.ReportMetric(r.PerSec, "req/s")
	b.ReportMetric(us(r.CPUPerOp), "cpu_us/req")
	reportLoad(b, r)
	b.ReportMetric(sign.PerSec, "sign/s")
	b.ReportMetric(verify.PerSec, "verify/s")
}

// ---- Residents' replies with moderation -----------------------------------------

// seedBenchRules publishes a realistic instance rule set of 567 rules for
// the real screener (internal/screening, the moderation engine): 63 word
// and phrase rules, a block list of 500 link domains, limits on links,
// mentions and media, and a pattern; with TORGET_BENCH_RATE_RULES=1 also
// rate limits per author and per server (high enough never to hold). The
// benchmark's replies break none of them, so each is shown.
func seedBenchRules(tb testing.TB, st *store.Store) int {
	tb.Helper()
	ctx := context.Background()
	n := 0
	save := func(r store.ModRule) {
		r.Text, r.LegalGround, r.CreatedBy = "Regel "+r.RuleID, "villkor-spam", "bench"
		if mr := screening.FromStore(r); mr.Validate() != nil {
			tb.Fatalf("rule %s: %v", r.RuleID, mr.Validate())
		}
		if err := st.SaveRule(ctx, &r); err != nil {
			tb.Fatal(err)
		}
		n++
	}
	words := []string{"köp billigt", "gratis pengar", "casino"}
	for i := range 60 {
		words = append(words, fmt.Sprintf("förbjudetord%02d", i))
	}
	for i, w := range words {
		save(store.ModRule{RuleID: fmt.Sprintf("ord-%d", i), Kind: string(moderation.KindWords), Action: string(moderation.Hold), Pattern: w})
	}
	for i := range 500 {
		save(store.ModRule{RuleID: fmt.Sprintf("doman-%d", i), Kind: string(moderation.KindLinkDomain), Action: string(moderation.Reject),
			Pattern: fmt.Sprintf("spam%d.example", i)})
	}
	save(store.ModRule{RuleID: "telefon", Kind: string(moderation.KindRegex), Action: string(moderation.Hold), Pattern: `\b07\d-?\d{7}\b`})
	save(store.ModRule{RuleID: "lankar", Kind: string(moderation.KindMaxLinks), Action: string(moderation.Hold), Lim: 3})
	save(store.ModRule{RuleID: "omnamnanden", Kind: string(moderation.KindMaxMentions), Action: string(moderation.Hold), Lim: 5})
	save(store.ModRule{RuleID: "bilagor", Kind: string(moderation.KindMedia), Action: string(moderation.Hold), Lim: 4})
	if os.Getenv("TORGET_BENCH_RATE_RULES") != "" {
		// Rate rules count the author's or server's items in the window
		// with a query per reply: linear in how many there are.
		save(store.ModRule{RuleID: "takt-avsandare", Kind: string(moderation.KindRateAuthor), Action: string(moderation.Hold), Lim: 1000000, WindowSeconds: 60})
		save(store.ModRule{RuleID: "takt-server", Kind: string(moderation.KindRateServer), Action: string(moderation.Hold), Lim: 1000000, WindowSeconds: 60})
	}
	return n
}

// BenchmarkInboxReplies POSTs pre-signed Create{Note} replies to a group
// post from 8 fake remote actors, 32 at a time, over plain HTTP, with the
// real screener applying 566 published rules (seedBenchRules) besides the
// default ones, and stops the clock only when every reply has been
// verified, stored, recorded, screened and taken into the thread as a
// shown note (a remote_notes row). One op is one reply. It reports
// replies/s end to end, CPU per reply, and the ratio to the parallel
// RSA-2048 verification rate measured in the same run.
func BenchmarkInboxReplies(b *testing.B) {
	const nActors = 8
	_, verify := rsaCeilings(b)
	tg := startInstance(b)
	if n := seedBenchRules(b, tg.Store); n < 560 {
		b.Fatalf("only %d rules", n)
	}
	tg.group(b, "kvarteret", false)
	groupID := tg.Base + "/groups/kvarteret"
	_, postURL, err := tg.Fed.Publish(context.Background(), "kvarteret", federation.PostInput{Text: "Avstängning på Ringvägen"})
	if err != nil {
		b.Fatal(err)
	}
	ba := newBenchActors(b, nActors)
	ep := endpoints(b, tg)["http"]
	for i := range nActors {
		body, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
			"id": fmt.Sprintf("%s#follows/%d", ba.actor(i), noteSeq.Add(1)), "type": "Follow", "actor": ba.actor(i), "object": groupID})
		ps, err := ba.sign(i, groupID+"/inbox", body)
		if err != nil {
			b.Fatal(err)
		}
		if code, resp, err := ep.do(tg, http.MethodPost, "/groups/kvarteret/inbox", ps.header, ps.body); err != nil || code != http.StatusAccepted {
			b.Fatalf("warm-up Follow: %d %s %v", code, resp, err)
		}
	}
	waitUntil(b, 30*time.Second, "follows applied", func() bool {
		c, _ := tg.Store.InboxCounts(context.Background())
		return c[store.InboxPending] == 0
	})
	acts := make([]presigned, b.N)
	for j := range acts {
		i := j % nActors
		ps, err := ba.sign(i, tg.Base+"/inbox", ba.createNote(i, groupID, postURL))
		if err != nil {
			b.Fatal(err)
		}
		acts[j] = ps
	}
	var idx, refused atomic.Int64
	var firstErr atomic.Value
	b.SetParallelism(loadParallelism)
	m := startMeter(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			a := acts[idx.Add(1)-1]
			code, resp, err := ep.do(tg, http.MethodPost, "/inbox", a.header, a.body)
			if err != nil || code != http.StatusAccepted {
				refused.Add(1)
				firstErr.CompareAndSwap(nil, fmt.Sprintf("%d %s %v", code, resp, err))
			}
		}
	})
	accepted := time.Since(m.start)
	if n := refused.Load(); n > 0 {
		b.Fatalf("%d of %d POSTs not accepted; first: %v", n, b.N, firstErr.Load())
	}
	// Poll cheaply (is the last reply sent in the thread?) and count the
	// whole thread only then: a COUNT every 100 ms cost the benchmark a
	// tenth of what it measures.
	var last struct {
		Object struct {
			ID string `json:"id"`
		} `json:"object"`
	}
	if err := json.Unmarshal(acts[len(acts)-1].body, &last); err != nil || last.Object.ID == "" {
		b.Fatalf("last reply's id: %v", err)
	}
	waitUntilEvery(b, 5*time.Minute, 100*time.Millisecond, "replies taken into the thread", func() bool {
		if _, err := tg.Store.RemoteNoteByIRI(context.Background(), last.Object.ID); err != nil {
			return false
		}
		n, err := tg.Store.CountThread(context.Background(), []string{postURL})
		return err == nil && n[postURL] >= int64(b.N)
	})
	r := m.stop(b.N)
	rec, err := tg.Store.SearchRecord(context.Background(), store.RecordQuery{Kind: store.KindInbound, Limit: 1000})
	if err != nil || len(rec) < min(b.N, 1000) {
		b.Fatalf("record has %d inbound entries (%v), want %d", len(rec), err, min(b.N, 1000))
	}
	b.ReportMetric(r.PerSec, "replies/s")
	// How much of the time the POSTs took: the rest the inbox spent
	// applying what it had acknowledged.
	b.ReportMetric(accepted.Seconds()*r.PerSec/float64(b.N), "accept_frac")
	b.ReportMetric(us(r.CPUPerOp), "cpu_us/reply")
	b.ReportMetric(verify.PerSec, "verify/s")
	b.ReportMetric(r.PerSec/verify.PerSec, "ratio_to_verify_ceiling")
	b.ReportMetric(float64(verify.CPUPerOp)/float64(r.CPUPerOp), "cpu_ratio_to_verify_ceiling")
	reportLoad(b, r)
}

// waitUntilEvery is waitUntil polling at the given interval (a benchmark's
// poll must not compete with what it measures).
func waitUntilEvery(tb testing.TB, timeout, every time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(every)
	}
	tb.Fatalf("timed out waiting for %s", what)
}
