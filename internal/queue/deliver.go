// Package queue runs torget's persistent job queues: outgoing deliveries
// and incoming activities. The database is the schedule: workers lease due
// rows, so a crash loses nothing and several processes can share the work.
package queue

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/torget/torget/activitypub/httpsig"
	"github.com/torget/torget/activitypub/transport"
	"github.com/torget/torget/internal/metrics"
	"github.com/torget/torget/internal/store"
)

// KeySource returns the key an activity is signed with: its group's, or
// the instance actor's when groupID is nil.
type KeySource func(ctx context.Context, groupID *int64) (keyID string, key *rsa.PrivateKey, err error)

// DeliveryConfig tunes the Deliverer.
type DeliveryConfig struct {
	Workers          int           // concurrent deliveries in this process
	PerDomain        int           // concurrent deliveries to one host
	RetryFor         time.Duration // give up after this long (at least 48h in production)
	MaxBackoff       time.Duration // longest wait between attempts
	BaseBackoff      time.Duration // first wait (default 30s)
	BreakerThreshold int           // consecutive failures that open a host's breaker
	ProbeInterval    time.Duration // how often a host with an open breaker is tried
	// Deliverable, if set, says whether the federation policy lets us
	// deliver to a host; deliveries to a rejected host are dropped.
	Deliverable func(ctx context.Context, host string) bool
	Lease       time.Duration // how long a claimed row is ours (default 2m)
	Poll        time.Duration // how often to look for due rows when idle (default 1s)
	Now         func() time.Time
}

// Deliverer sends queued activities.
type Deliverer struct {
	st     *store.Store
	client *transport.Client
	keys   KeySource
	log    *slog.Logger
	m      *metrics.Metrics
	cfg    DeliveryConfig
	worker string
	wake   chan struct{}

	mu      sync.Mutex
	hostSem map[string]chan struct{}
	bodies  map[int64]cachedBody
	// healthy remembers hosts this process saw succeed with no failure
	// since, so that a success need not write the breaker row each time.
	healthy map[string]time.Time
}

// healthyFor is how long a success is taken to mean "breaker closed"
// without looking: another node's failures count from then on.
const healthyFor = time.Minute

type cachedBody struct {
	body    []byte
	groupID *int64
}

// NewDeliverer returns a Deliverer; call Run.
func NewDeliverer(st *store.Store, client *transport.Client, keys KeySource, log *slog.Logger, m *metrics.Metrics, cfg DeliveryConfig) *Deliverer {
	if cfg.Lease == 0 {
		cfg.Lease = 2 * time.Minute
	}
	if cfg.Poll == 0 {
		cfg.Poll = time.Second
	}
	if cfg.BaseBackoff == 0 {
		cfg.BaseBackoff = 30 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.BreakerThreshold == 0 {
		cfg.BreakerThreshold = 8
	}
	if cfg.ProbeInterval == 0 {
		cfg.ProbeInterval = 10 * time.Minute
	}
	return &Deliverer{st: st, client: client, keys: keys, log: log, m: m, cfg: cfg, worker: workerID(),
		wake: make(chan struct{}, 1), hostSem: map[string]chan struct{}{}, bodies: map[int64]cachedBody{},
		healthy: map[string]time.Time{}}
}

// workerID names this process in leases.
func workerID() string {
	h, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", h, os.Getpid(), hex.EncodeToString(b))
}

// Wake makes an idle Deliverer look for work now.
func (d *Deliverer) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx is done, then waits for the deliveries in flight
// to finish (each bounded by the transport's timeout) and returns.
func (d *Deliverer) Run(ctx context.Context) {
	slots := make(chan struct{}, d.cfg.Workers)
	var wg sync.WaitGroup
	inflight := context.WithoutCancel(ctx)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for ctx.Err() == nil {
		free := cap(slots) - len(slots)
		if free == 0 {
			// Wait for a slot.
			select {
			case slots <- struct{}{}:
				<-slots
			case <-ctx.Done():
			}
			continue
		}
		rows, err := d.st.ClaimDeliveries(ctx, d.worker, d.cfg.Lease, free)
		if err != nil && ctx.Err() == nil {
			d.log.Error("claim deliveries", "err", err)
		}
		if len(rows) == 0 {
			timer.Reset(d.cfg.Poll)
			select {
			case <-d.wake:
			case <-timer.C:
			case <-ctx.Done():
			}
			continue
		}
		for i := range rows {
			row := rows[i]
			slots <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-slots; wg.Done() }()
				d.deliver(inflight, &row)
			}()
		}
	}
	wg.Wait()
}

func (d *Deliverer) host(h string) chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.hostSem[h]
	if !ok {
		s = make(chan struct{}, d.cfg.PerDomain)
		d.hostSem[h] = s
	}
	return s
}

func (d *Deliverer) body(ctx context.Context, id int64) (cachedBody, error) {
	d.mu.Lock()
	b, ok := d.bodies[id]
	d.mu.Unlock()
	if ok {
		return b, nil
	}
	a, err := d.st.ActivityByID(ctx, id)
	if err != nil {
		return cachedBody{}, err
	}
	b = cachedBody{body: []byte(a.JSON), groupID: a.GroupID}
	d.mu.Lock()
	if len(d.bodies) > 256 {
		clear(d.bodies)
	}
	d.bodies[id] = b
	d.mu.Unlock()
	return b, nil
}

func (d *Deliverer) knownHealthy(host string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.healthy[host]
	return ok && time.Since(t) < healthyFor
}

func (d *Deliverer) setHealthy(host string, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !ok {
		delete(d.healthy, host)
		return
	}
	if len(d.healthy) > 100000 {
		clear(d.healthy)
	}
	d.healthy[host] = time.Now()
}

// Backoff returns the wait before attempt n+1 (n ≥ 1 attempts made): base·2^(n-1), capped, ±20 % jitter.
func Backoff(n int, base, max time.Duration) time.Duration {
	w := base
	for i := 1; i < n && w < max; i++ {
		w *= 2
	}
	if w > max {
		w = max
	}
	j := time.Duration(float64(w) * (0.8 + 0.4*mrand.Float64()))
	return j
}

func (d *Deliverer) deliver(ctx context.Context, row *store.Delivery) {
	log := d.log.With("delivery_id", row.ID, "inbox", row.Inbox)
	if d.cfg.Deliverable != nil && !d.cfg.Deliverable(ctx, row.Host) {
		log.Info("delivery dropped: domain policy rejects the host")
		_ = d.st.FinishDelivery(ctx, row, d.worker, store.DeliveryFailed, 0, "domain policy: host rejected")
		return
	}
	b, err := d.body(ctx, row.ActivityID)
	if err != nil {
		log.Error("load activity", "err", err)
		_ = d.st.FinishDelivery(ctx, row, d.worker, store.DeliveryFailed, 0, err.Error())
		return
	}
	keyID, key, err := d.keys(ctx, b.groupID)
	if err != nil {
		log.Error("signing key", "err", err)
		_ = d.st.RetryDelivery(ctx, row, d.worker, d.cfg.Now().Add(time.Minute), 0, err.Error())
		return
	}
	sem := d.host(row.Host)
	sem <- struct{}{}
	start := time.Now()
	res := d.client.Deliver(ctx, row.Inbox, b.body, func(r *http.Request, body []byte) error {
		return httpsig.Sign(r, body, keyID, key, d.cfg.Now())
	})
	<-sem
	if d.m != nil {
		d.m.DeliveryTime.Observe(time.Since(start).Seconds())
	}
	msg := ""
	if res.Err != nil {
		msg = res.Err.Error()
	}
	result := ""
	switch res.Outcome {
	case transport.Delivered:
		result = "delivered"
		err = d.st.FinishDelivery(ctx, row, d.worker, store.DeliveryDone, res.Status, "")
		if err == nil && !d.knownHealthy(row.Host) {
			// A crash right before this leaves a failure count that the
			// next success resets: nothing is lost.
			if err = d.st.DomainSucceeded(ctx, row.Host); err == nil {
				d.setHealthy(row.Host, true)
			}
		}
	case transport.Gone:
		result = "gone"
		// The state and its consequence commit together: a crash between
		// them would leave a follower we keep delivering to.
		var n int64
		err = d.st.Tx(ctx, func(tx *store.Store) error {
			if err := tx.FinishDelivery(ctx, row, d.worker, store.DeliveryGone, res.Status, msg); err != nil {
				return err
			}
			var err error
			n, err = tx.DeleteFollowersByInbox(ctx, row.Inbox)
			return err
		})
		log.Info("inbox gone: followers removed", "status", res.Status, "removed", n)
	case transport.Failed:
		result = "failed"
		log.Warn("delivery failed permanently", "status", res.Status, "err", msg)
		err = d.st.FinishDelivery(ctx, row, d.worker, store.DeliveryFailed, res.Status, msg)
	default:
		result = "retry"
		d.setHealthy(row.Host, false)
		now := d.cfg.Now()
		if _, berr := d.st.DomainFailed(ctx, row.Host, d.cfg.BreakerThreshold, d.cfg.ProbeInterval); berr != nil {
			log.Warn("domain breaker", "err", berr)
		}
		if now.Sub(row.CreatedAt) >= d.cfg.RetryFor {
			result = "failed"
			log.Warn("delivery given up", "attempts", row.Attempts+1, "err", msg)
			err = d.st.FinishDelivery(ctx, row, d.worker, store.DeliveryFailed, res.Status, "gave up: "+msg)
			break
		}
		wait := Backoff(row.Attempts+1, d.cfg.BaseBackoff, d.cfg.MaxBackoff)
		if res.RetryAfter > wait {
			wait = res.RetryAfter
		}
		next := now.Add(wait)
		if last := row.CreatedAt.Add(d.cfg.RetryFor); next.After(last) {
			next = last // one last attempt when the retry window ends
		}
		err = d.st.RetryDelivery(ctx, row, d.worker, next, res.Status, msg)
	}
	if d.m != nil {
		d.m.Deliveries.WithLabelValues(result).Inc()
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Error("record delivery result", "err", err)
	}
}
