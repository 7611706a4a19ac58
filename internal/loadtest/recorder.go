package loadtest

import (
	"sync"
	"sync/atomic"
	"time"
)

// Recorder counts what the simulated servers accepted: per inbox, per
// activity id. Accepts of Follows are also indexed by the Follow's id.
type Recorder struct {
	mu          sync.Mutex
	byInbox     map[string]map[string]int
	total       int64
	types       map[string]int64
	accepted    map[string]bool // Follow id → Accept received
	first, last time.Time
	retryable   atomic.Int64 // answers meant to be retried (500s, timeouts)
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder {
	return &Recorder{byInbox: map[string]map[string]int{}, types: map[string]int64{}, accepted: map[string]bool{}}
}

// Record notes that inbox accepted act.
func (r *Recorder) Record(inbox string, act map[string]any) {
	id := idOf(act["id"])
	typ, _ := act["type"].(string)
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.byInbox[inbox]
	if m == nil {
		m = map[string]int{}
		r.byInbox[inbox] = m
	}
	m[id]++
	r.total++
	r.types[typ]++
	if typ == "Accept" {
		if obj := idOf(act["object"]); obj != "" {
			r.accepted[obj] = true
		}
	}
	if r.first.IsZero() {
		r.first = now
	}
	r.last = now
}

// Total is the number of accepted POSTs.
func (r *Recorder) Total() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total
}

// Type is the number of accepted POSTs of one activity type.
func (r *Recorder) Type(t string) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.types[t]
}

// Accepted reports whether an Accept of the Follow followID arrived.
func (r *Recorder) Accepted(followID string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.accepted[followID]
}

// Span is the arrival time of the first and the last recorded POST.
func (r *Recorder) Span() (first, last time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.first, r.last
}

// Retryable is how many POSTs were answered with a simulated failure.
func (r *Recorder) Retryable() int64 { return r.retryable.Load() }

// Reset forgets everything recorded.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byInbox, r.types, r.accepted = map[string]map[string]int{}, map[string]int64{}, map[string]bool{}
	r.total, r.first, r.last = 0, time.Time{}, time.Time{}
	r.retryable.Store(0)
}

// Tally is the outcome of comparing what arrived with what should have.
type Tally struct {
	Expected   int64 // (inbox, activity) pairs expected
	Delivered  int64 // expected pairs that arrived at least once
	Lost       int64 // expected pairs that never arrived
	Duplicates int64 // extra arrivals of expected pairs
	Unexpected int64 // arrivals of pairs not expected
}

// Check compares the recording with the expected set: every inbox in
// inboxes should have received each activity in ids exactly once. Other
// activities (e.g. Accepts) at other inboxes are ignored unless they carry
// one of ids.
func (r *Recorder) Check(inboxes []string, ids []string) Tally {
	r.mu.Lock()
	defer r.mu.Unlock()
	var t Tally
	want := map[string]bool{}
	for _, in := range inboxes {
		want[in] = true
		for _, id := range ids {
			t.Expected++
			switch n := r.byInbox[in][id]; {
			case n == 0:
				t.Lost++
			default:
				t.Delivered++
				t.Duplicates += int64(n - 1)
			}
		}
	}
	idSet := map[string]bool{}
	for _, id := range ids {
		idSet[id] = true
	}
	for in, m := range r.byInbox {
		if want[in] {
			continue
		}
		for id, n := range m {
			if idSet[id] {
				t.Unexpected += int64(n)
			}
		}
	}
	return t
}

// Distinct counts inboxes in inboxes that received id at least once.
func (r *Recorder) Distinct(inboxes []string, id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, in := range inboxes {
		if r.byInbox[in][id] > 0 {
			n++
		}
	}
	return n
}
