package loadtest

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// LoadResult is what a load run measured.
type LoadResult struct {
	OK, Failed int64
	Elapsed    time.Duration
	CPU        time.Duration // this process's CPU time during the run
	Latencies  []time.Duration
	FirstErr   string
}

// PerSec is successful operations per wall-clock second.
func (l LoadResult) PerSec() float64 { return float64(l.OK) / l.Elapsed.Seconds() }

// P is the p-th latency percentile in milliseconds.
func (l LoadResult) P(p float64) float64 { return ms(Percentile(l.Latencies, p)) }

// ClosedLoop runs op on conc goroutines until n operations were started
// (n > 0) or d passed. op returns nil when the operation succeeded.
// With rate > 0 operations are started at that rate in total (open loop,
// paced), otherwise back to back.
func ClosedLoop(conc, n int, d time.Duration, rate float64, op func(i int) error) LoadResult {
	var next, okN, failN atomic.Int64
	var firstErr atomic.Value
	lats := make([][]time.Duration, conc)
	deadline := time.Now().Add(d)
	start, cpu0 := time.Now(), SelfCPU()
	var wg sync.WaitGroup
	for g := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if n > 0 && i >= n {
					return
				}
				if d > 0 && time.Now().After(deadline) {
					return
				}
				if rate > 0 {
					if wait := time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))); wait > 0 {
						time.Sleep(wait)
					}
				}
				t0 := time.Now()
				err := op(i)
				lats[g] = append(lats[g], time.Since(t0))
				if err != nil {
					failN.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				} else {
					okN.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	r := LoadResult{OK: okN.Load(), Failed: failN.Load(), Elapsed: time.Since(start), CPU: SelfCPU() - cpu0}
	for _, l := range lats {
		r.Latencies = append(r.Latencies, l...)
	}
	SortDurations(r.Latencies)
	r.FirstErr, _ = firstErr.Load().(string)
	return r
}

// NewClient is the load generator's HTTP client: HTTP/1.1 keep-alive with
// enough idle connections for conc workers.
func NewClient(conc int) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: conc * 2, MaxIdleConnsPerHost: conc * 2, IdleConnTimeout: 30 * time.Second,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext}}
}

// Get does one GET and drains the body; it fails unless the status is want.
func Get(c *http.Client, url, host, accept string, want int) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if host != "" {
		req.Host = host
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// Baselines are this machine's reference rates, measured in the same run.
type Baselines struct {
	SignPerCore, SignAll     float64 // RSA-2048 PKCS#1 v1.5 signatures/s
	VerifyPerCore, VerifyAll float64
	Trivial                  float64 // req/s of a trivial handler with the read generator
	TrivialP99               float64 // ms
	CPUs                     int
}

// MeasureRSA measures sign and verify rates with one goroutine and with
// GOMAXPROCS goroutines, d each.
func MeasureRSA(k *rsa.PrivateKey, d time.Duration) (b Baselines) {
	sum := sha256.Sum256([]byte("(request-target): post /inbox\nhost: example\ndate: now\ndigest: x"))
	sig, _ := rsa.SignPKCS1v15(nil, k, crypto.SHA256, sum[:])
	sign := func(int) error { _, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, sum[:]); return err }
	verify := func(int) error { return rsa.VerifyPKCS1v15(&k.PublicKey, crypto.SHA256, sum[:], sig) }
	b.CPUs = runtime.GOMAXPROCS(0)
	b.SignPerCore = ClosedLoop(1, 0, d, 0, sign).PerSec()
	b.SignAll = ClosedLoop(b.CPUs, 0, d, 0, sign).PerSec()
	b.VerifyPerCore = ClosedLoop(1, 0, d, 0, verify).PerSec()
	b.VerifyAll = ClosedLoop(b.CPUs, 0, d, 0, verify).PerSec()
	return b
}

// MeasureTrivial measures a trivial Go HTTP handler on loopback with the
// same generator (conc keep-alive clients) used for the read path.
func MeasureTrivial(conc int, d time.Duration) (float64, float64, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	body := []byte(`{"ok":true}`)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	c := NewClient(conc)
	url := "http://" + ln.Addr().String() + "/"
	r := ClosedLoop(conc, 0, d, 0, func(int) error { return Get(c, url, "", "", http.StatusOK) })
	if r.Failed > 0 {
		return 0, 0, fmt.Errorf("trivial handler: %d failed: %s", r.Failed, r.FirstErr)
	}
	return r.PerSec(), r.P(99), nil
}

// ScrapeGauge reads one unlabelled gauge (e.g. go_goroutines) from a
// Prometheus text endpoint; -1 when it cannot.
func ScrapeGauge(c *http.Client, url, name string) float64 {
	resp, err := c.Get(url)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil || resp.StatusCode != http.StatusOK {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				return f
			}
		}
	}
	return -1
}
