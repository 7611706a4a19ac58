package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/store"
)

// Config is the command line.
type Config struct {
	Scenario    string
	Backend     string
	PostgresURL string
	Quick       bool
	Target      string
	Duration    time.Duration
	Followers   int
	Servers     int
	MinLatency  time.Duration
	MaxLatency  time.Duration
	Follow      string // protocol, bulk or "" (protocol up to 2,000 followers)
	Verify      string // on, off or "" (on up to 10,000 followers)
	Activities  int
	Conc        int
	Child       bool
	Workers     int
	Keys        int
	// Read-path resources on -target (URLs or paths on the target).
	Acct, Actor, Outbox, Object, Page, PostPage, NodeInfo string
	Log                                                   io.Writer
}

type runner struct {
	cfg  Config
	rep  *Report
	pool []Key
	base Baselines
	dir  string
}

// Run runs one scenario and returns its report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	backend := cfg.Backend
	if cfg.Target != "" {
		backend = "target"
	}
	rep := &Report{Scenario: cfg.Scenario, Backend: backend, Log: cfg.Log}
	dir, err := os.MkdirTemp("", "torget-load-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(dir)
	r := &runner{cfg: cfg, rep: rep, dir: dir}
	nkeys := cfg.Keys
	if nkeys <= 0 {
		nkeys = 32
		if cfg.Quick {
			nkeys = 4
		}
	}
	t0 := time.Now()
	if r.pool, err = KeyPool(nkeys); err != nil {
		return rep, err
	}
	rep.Logf("key pool: %d RSA-2048 keys in %v (simulated servers share them round-robin)", nkeys, time.Since(t0).Round(time.Millisecond))
	if err := r.baselines(); err != nil {
		return rep, err
	}
	cpu0, wall0 := SelfCPU(), time.Now()
	switch cfg.Scenario {
	case "fanout":
		err = r.fanout(ctx)
	case "inbox":
		err = r.inbox(ctx)
	case "read":
		err = r.read(ctx)
	case "crash":
		err = r.crash(ctx)
	case "soak":
		err = r.soak(ctx)
	default:
		err = fmt.Errorf("unknown scenario %q (fanout, inbox, read, crash, soak)", cfg.Scenario)
	}
	wall := time.Since(wall0)
	rep.Add(Result{Metric: "tool_process_cpu_seconds", Value: (SelfCPU() - cpu0).Seconds(), Unit: "s", OK: true,
		Notes: fmt.Sprintf("whole load-tool process during the scenario (%.1f s wall, %d CPUs): judge figures against it on a busy machine", wall.Seconds(), runtime.NumCPU())})
	return rep, err
}

func (r *runner) baselines() error {
	d, td := time.Second, 3*time.Second
	if r.cfg.Quick {
		d, td = 200*time.Millisecond, 500*time.Millisecond
	}
	r.base = MeasureRSA(r.pool[0].Priv, d)
	var err error
	r.base.Trivial, r.base.TrivialP99, err = MeasureTrivial(r.conc(32), td)
	if err != nil {
		return err
	}
	b := r.base
	add := func(m string, v float64, u string) {
		r.rep.Add(Result{Scenario: "baseline", Metric: m, Value: v, Unit: u, OK: true})
	}
	add("rsa2048_sign_per_core", b.SignPerCore, "sign/s")
	add(fmt.Sprintf("rsa2048_sign_%d_cores", b.CPUs), b.SignAll, "sign/s")
	add("rsa2048_verify_per_core", b.VerifyPerCore, "verify/s")
	add(fmt.Sprintf("rsa2048_verify_%d_cores", b.CPUs), b.VerifyAll, "verify/s")
	add("trivial_handler", b.Trivial, "req/s")
	return nil
}

func (r *runner) conc(def int) int {
	if r.cfg.Conc > 0 {
		return r.cfg.Conc
	}
	return def
}

func pick(quick bool, q, full int) int {
	if quick {
		return q
	}
	return full
}

func (r *runner) torget(ctx context.Context, child bool, workers int) (*Torget, error) {
	if r.cfg.Workers > 0 {
		workers = r.cfg.Workers
	}
	// A short delivery lease only where a crash is simulated (so the restart
	// reclaims the dead process's rows quickly); elsewhere the default 2m:
	// under heavy load a 3s lease runs out while a delivery waits for the
	// CPU, and a second worker sends it again.
	lease := 2 * time.Minute
	if r.cfg.Scenario == "crash" {
		lease = 3 * time.Second
	}
	return StartTorget(ctx, Options{Backend: r.cfg.Backend, PostgresURL: r.cfg.PostgresURL, Dir: r.dir, Child: child,
		Workers: workers, PerDomain: 4, BaseBackoff: time.Second, Lease: lease, Timeout: 5 * time.Second, MaxConns: 16})
}

// actorRef is one simulated remote actor.
type actorRef struct {
	s *Server
	u int
}

var seq atomic.Int64

func post(c *http.Client, req *http.Request) (int, error) {
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	return resp.StatusCode, nil
}

func getJSON(c *http.Client, u, accept string, v any) error {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", accept)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// protocolFollow makes every actor follow the group through the protocol
// (WebFinger, actor fetch, signed Follow) and waits for every Accept.
func protocolFollow(tg *Torget, fv *Fediverse, slug string, actors []actorRef, conc int) (time.Duration, error) {
	start := time.Now()
	c := NewClient(conc)
	ids := make([]string, len(actors))
	res := ClosedLoop(conc, len(actors), 0, 0, func(i int) error {
		a := actors[i]
		var wf struct {
			Links []struct{ Rel, Type, Href string }
		}
		if err := getJSON(c, tg.Base+"/.well-known/webfinger?resource=acct:"+slug+"@"+tg.Domain, "application/jrd+json", &wf); err != nil {
			return err
		}
		var href string
		for _, l := range wf.Links {
			if l.Rel == "self" {
				href = l.Href
			}
		}
		var actor struct{ ID, Inbox string }
		if err := getJSON(c, href, "application/activity+json", &actor); err != nil {
			return err
		}
		ids[i] = fmt.Sprintf("%s#follows/%d", a.s.Actor(a.u), seq.Add(1))
		body, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": ids[i],
			"type": "Follow", "actor": a.s.Actor(a.u), "object": actor.ID})
		req, err := SignedPost(a.s, a.u, actor.Inbox, body)
		if err != nil {
			return err
		}
		_, err = post(c, req)
		return err
	})
	if res.Failed > 0 {
		return 0, fmt.Errorf("follow: %d of %d failed: %s", res.Failed, len(actors), res.FirstErr)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for _, id := range ids {
		for !fv.Rec.Accepted(id) {
			if time.Now().After(deadline) {
				return 0, fmt.Errorf("no Accept for %s", id)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return time.Since(start), nil
}

func (r *runner) verifyOn(followers int) bool {
	switch r.cfg.Verify {
	case "on":
		return true
	case "off":
		return false
	}
	return followers <= 10000
}

// ---- fan-out ------------------------------------------------------------------

func (r *runner) fanout(ctx context.Context) error {
	q := r.cfg.Quick
	F, S := r.cfg.Followers, r.cfg.Servers
	if F <= 0 {
		F = pick(q, 200, 100000)
	}
	if S <= 0 {
		S = pick(q, 20, 10000)
	}
	users := (F + S - 1) / S
	minL, maxL := r.cfg.MinLatency, r.cfg.MaxLatency
	if maxL == 0 {
		minL, maxL = 20*time.Millisecond, 300*time.Millisecond
		if q {
			minL, maxL = 5*time.Millisecond, 50*time.Millisecond
		}
	}
	share500 := 0.0
	if q {
		share500 = 0.05 // exercise retries in the smoke run
	}
	fv, err := NewFediverse(S, users, r.pool, Behaviour{MinLatency: minL, MaxLatency: maxL, Share500: share500})
	if err != nil {
		return err
	}
	defer fv.Close()
	fv.Verify = r.verifyOn(F)
	tg, err := r.torget(ctx, r.cfg.Child, pick(q, 64, 512))
	if err != nil {
		return err
	}
	defer tg.Close()
	if r.cfg.Child {
		if err := tg.StartChild(); err != nil {
			return err
		}
	}
	g, err := tg.Group(ctx, "fanout")
	if err != nil {
		return err
	}
	actors := make([]actorRef, F)
	for j := range F {
		actors[j] = actorRef{fv.Servers[j%S], j / S}
	}
	mode := r.cfg.Follow
	if mode == "" {
		mode = "bulk"
		if F <= 2000 {
			mode = "protocol"
		}
	}
	t0 := time.Now()
	if mode == "protocol" {
		if _, err := protocolFollow(tg, fv, "fanout", actors, r.conc(16)); err != nil {
			return err
		}
	} else {
		fs := make([]store.Follower, F)
		for j, a := range actors {
			fs[j] = store.Follower{GroupID: g.ID, ActorIRI: a.s.Actor(a.u), Inbox: a.s.Inbox(a.u), SharedInbox: a.s.SharedInbox(),
				Host: a.s.Host, FollowIRI: a.s.Actor(a.u) + "#follows/1", State: store.FollowAccepted}
		}
		if err := tg.App.Store.InsertFollowers(ctx, fs); err != nil {
			return err
		}
	}
	if n, _ := tg.App.Store.CountFollowers(ctx, g.ID, store.FollowAccepted); n != int64(F) {
		return fmt.Errorf("followers = %d, want %d", n, F)
	}
	r.rep.Logf("fanout: %d followers on %d servers (%s mode, %v), latency %v–%v, 500 share %.0f%%, verification %v, torget %s",
		F, S, mode, time.Since(t0).Round(time.Millisecond), minL, maxL, share500*100, fv.Verify, map[bool]string{true: "child process", false: "in-process"}[r.cfg.Child])
	// Drain the Accepts of the follow phase before measuring.
	if err := waitDrained(ctx, tg, 2*time.Minute); err != nil {
		return err
	}
	fv.Rec.Reset()
	posts := pick(q, 2, 1)
	inboxes := make([]string, 0, S)
	for i := range min(F, S) {
		inboxes = append(inboxes, fv.Servers[i].SharedInbox())
	}
	pid := tg.PID()
	cpu0, self0 := ReadProc(pid).CPU, SelfCPU()
	start := time.Now()
	for i := range posts {
		if _, _, err := tg.App.Fed.Publish(ctx, "fanout", federation.PostInput{
			Text: fmt.Sprintf("Inlägg %d: vägarbete på **Huddingevägen** i helgen. #trafik", i)}); err != nil {
			return err
		}
	}
	acts, err := tg.App.Store.OutboxPage(ctx, g.ID, 0, posts)
	if err != nil {
		return err
	}
	ids := make([]string, len(acts))
	for i, a := range acts {
		ids[i] = a.IRI
	}
	want := int64(len(ids) * len(inboxes))
	dl := time.Now().Add(time.Duration(pick(q, 60, 600)) * time.Second)
	for fv.Rec.Total() < want {
		if time.Now().After(dl) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	end := time.Now()
	cpu, self := ReadProc(pid).CPU-cpu0, SelfCPU()-self0
	_ = waitDrained(ctx, tg, 30*time.Second)
	first, last := fv.Rec.Span()
	tally := fv.Rec.Check(inboxes, ids)
	sigErrs, lastSig := fv.SignatureErrors()
	retries := int64(0)
	counts := map[string]int64{}
	for _, a := range acts {
		rows, err := tg.App.Store.DeliveriesFor(ctx, a.ID)
		if err != nil {
			return err
		}
		for _, d := range rows {
			counts[d.Status]++
			if d.Attempts > 1 {
				retries += int64(d.Attempts - 1)
			}
		}
	}
	errs := sigErrs + tally.Unexpected + counts[store.DeliveryFailed] + counts[store.DeliveryPending]
	if counts[store.DeliveryDone] != want {
		errs++
	}
	ok := tally.Lost == 0 && tally.Duplicates == 0 && errs == 0
	notes := fmt.Sprintf("%d followers on %d servers, %s follow, verification %v, %d posts → %d shared-inbox deliveries; rows %v",
		F, S, mode, fv.Verify, posts, want, counts)
	if sigErrs > 0 {
		notes += "; last signature error: " + lastSig
	}
	if last.Before(first) || last.IsZero() {
		last = end
	}
	dur := last.Sub(start)
	rate := float64(tally.Delivered) / dur.Seconds()
	cpuNote := "torget child process CPU"
	if !r.cfg.Child {
		cpu = self
		cpuNote = "whole process CPU: torget + simulated servers (verification and latency timers included)"
	}
	add := func(res Result) {
		res.Lost, res.Duplicates, res.Errors, res.OK = tally.Lost, tally.Duplicates, errs, ok
		r.rep.Add(res)
	}
	add(Result{Metric: "deliveries", Value: float64(tally.Delivered), Unit: "deliveries", Notes: notes})
	add(Result{Metric: "time_to_first_delivery", Value: ms(first.Sub(start)), Unit: "ms"})
	add(Result{Metric: "time_to_last_delivery", Value: dur.Seconds(), Unit: "s", Target: "< 20 s for 100k followers on 10k servers"})
	add(Result{Metric: "deliveries_per_second", Value: rate, Unit: "deliveries/s", Baseline: r.base.SignAll,
		BaselineMetric: fmt.Sprintf("sign/s (%d cores)", r.base.CPUs), Target: "ratio ≥ 0.70"})
	perDel := cpu.Seconds() / float64(max(tally.Delivered, 1))
	add(Result{Metric: "cpu_seconds_per_delivery", Value: perDel, Unit: "s", Baseline: 1 / r.base.SignPerCore,
		BaselineMetric: "s per RSA sign", Notes: cpuNote})
	add(Result{Metric: "retries", Value: float64(retries), Unit: "attempts", Notes: fmt.Sprintf("%d simulated failures (500s)", fv.Rec.Retryable())})
	return nil
}

func waitDrained(ctx context.Context, tg *Torget, d time.Duration) error {
	dl := time.Now().Add(d)
	for time.Now().Before(dl) {
		c, err := tg.App.Store.DeliveryCounts(ctx)
		if err == nil && c[store.DeliveryPending] == 0 {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("deliveries still pending after %v", d)
}

// ---- inbox --------------------------------------------------------------------

type presigned struct {
	id     string
	body   []byte
	header http.Header
}

// activityMix builds activity i from actor a: Create replies (40%),
// Create mentions (20%), Likes (25%), Follows (10%), Undo{Follow} (5%).
func activityMix(i int, a actorRef, groupID, postID, warmFollow string) map[string]any {
	actor := a.s.Actor(a.u)
	n := seq.Add(1)
	now := time.Now().UTC().Format(time.RFC3339)
	pub := "https://www.w3.org/ns/activitystreams#Public"
	note := func(reply bool) map[string]any {
		id := fmt.Sprintf("%s/statuses/%d", actor, n)
		obj := map[string]any{"id": id, "type": "Note", "attributedTo": actor, "published": now, "url": id,
			"to": []string{pub}, "cc": []string{actor + "/followers", groupID},
			"content": `<p><span class="h-card"><a href="` + groupID + `" class="u-url mention">@<span>grupp</span></a></span> ` +
				strings.Repeat("Tack för informationen om avstängningen, vi tar cykeln i stället. ", 4) + `</p>`,
			"tag": []any{map[string]any{"type": "Mention", "href": groupID, "name": "@grupp"}}}
		if reply {
			obj["inReplyTo"] = postID
		}
		return map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": id + "/activity", "type": "Create",
			"actor": actor, "published": now, "to": []string{pub}, "cc": []string{actor + "/followers", groupID}, "object": obj}
	}
	switch k := i % 20; {
	case k < 8:
		return note(true)
	case k < 12:
		return note(false)
	case k < 17:
		return map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": fmt.Sprintf("%s#likes/%d", actor, n),
			"type": "Like", "actor": actor, "object": postID}
	case k < 19:
		return map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": fmt.Sprintf("%s#follows/%d", actor, n),
			"type": "Follow", "actor": actor, "object": groupID}
	default:
		return map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": fmt.Sprintf("%s#undo/%d", actor, n),
			"type": "Undo", "actor": actor, "object": map[string]any{"id": warmFollow, "type": "Follow", "actor": actor, "object": groupID}}
	}
}

func presign(target string, n int, mk func(i int) (actorRef, map[string]any)) ([]presigned, error) {
	out := make([]presigned, n)
	res := ClosedLoop(runtime.GOMAXPROCS(0), n, 0, 0, func(i int) error {
		a, act := mk(i)
		body, _ := json.Marshal(act)
		req, err := SignedPost(a.s, a.u, target, body)
		if err != nil {
			return err
		}
		out[i] = presigned{id: idOf(act["id"]), body: body, header: req.Header}
		return nil
	})
	if res.Failed > 0 {
		return nil, fmt.Errorf("presign: %s", res.FirstErr)
	}
	return out, nil
}

func send(c *http.Client, target string, p presigned) error {
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(string(p.body)))
	if err != nil {
		return err
	}
	req.Header = p.header.Clone()
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	return nil
}

// inboxWorld sets up servers, a group with one post, and actors that have
// each followed the group once (so torget has fetched and cached their keys).
type inboxWorld struct {
	fv      *Fediverse
	actors  []actorRef
	follows map[actorRef]string
	groupID string
	postID  string
}

func (r *runner) inboxWorld(tg *Torget, S, U int) (*inboxWorld, error) {
	ctx := context.Background()
	fv, err := NewFediverse(S, U, r.pool, Behaviour{})
	if err != nil {
		return nil, err
	}
	fv.Verify = true
	if _, err := tg.Group(ctx, "kvarteret"); err != nil {
		fv.Close()
		return nil, err
	}
	_, postID, err := tg.App.Fed.Publish(ctx, "kvarteret", federation.PostInput{Text: "Vägarbete i helgen."})
	if err != nil {
		fv.Close()
		return nil, err
	}
	w := &inboxWorld{fv: fv, follows: map[actorRef]string{}, groupID: tg.Base + "/groups/kvarteret", postID: postID}
	for i := range S * U {
		w.actors = append(w.actors, actorRef{fv.Servers[i%S], i / S})
	}
	if _, err := protocolFollow(tg, fv, "kvarteret", w.actors, r.conc(16)); err != nil {
		fv.Close()
		return nil, err
	}
	return w, nil
}

func (w *inboxWorld) presign(tg *Torget, n int) ([]presigned, error) {
	return presign(tg.Base+"/inbox", n, func(i int) (actorRef, map[string]any) {
		a := w.actors[i%len(w.actors)]
		return a, activityMix(i, a, w.groupID, w.postID, a.s.Actor(a.u)+"#follows/warm")
	})
}

// checkStored waits for the inbox queue to drain and checks that every
// accepted id is stored and processed: lost (missing or still pending) and
// failed.
func checkStored(ctx context.Context, st *store.Store, accepted []string, d time.Duration) (lost, pending, failed int64, counts map[string]int64) {
	dl := time.Now().Add(d)
	for time.Now().Before(dl) {
		c, err := st.InboxCounts(ctx)
		if err == nil && c[store.InboxPending] == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	counts, _ = st.InboxCounts(ctx)
	for _, id := range accepted {
		it, err := st.InboxItemByIRI(ctx, id)
		switch {
		case err != nil:
			lost++
		case it.Status == store.InboxPending:
			pending++
		case it.Status == store.InboxFailed:
			failed++
		}
	}
	return lost, pending, failed, counts
}

// waitInboxDrained waits until no received activity is pending.
func waitInboxDrained(ctx context.Context, st *store.Store, d time.Duration) {
	dl := time.Now().Add(d)
	for time.Now().Before(dl) && ctx.Err() == nil {
		if c, err := st.InboxCounts(ctx); err == nil && c[store.InboxPending] == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *runner) inbox(ctx context.Context) error {
	q := r.cfg.Quick
	S, U := r.cfg.Servers, 5
	if S <= 0 {
		S = pick(q, 10, 100)
	}
	if q {
		U = 3
	}
	N := r.cfg.Activities
	if N <= 0 {
		N = pick(q, 300, 10000)
	}
	tg, err := r.torget(ctx, r.cfg.Child, 32)
	if err != nil {
		return err
	}
	defer tg.Close()
	if r.cfg.Child {
		if err := tg.StartChild(); err != nil {
			return err
		}
	}
	w, err := r.inboxWorld(tg, S, U)
	if err != nil {
		return err
	}
	defer w.fv.Close()
	t0 := time.Now()
	acts, err := w.presign(tg, N+N/2)
	if err != nil {
		return err
	}
	r.rep.Logf("inbox: %d actors on %d servers followed by protocol; %d activities pre-signed in %v", len(w.actors), S, len(acts), time.Since(t0).Round(time.Millisecond))
	c := NewClient(r.conc(64))
	target := tg.Base + "/inbox"
	accepted := make([]bool, len(acts))
	do := func(off int) func(int) error {
		return func(i int) error {
			err := send(c, target, acts[off+i])
			accepted[off+i] = err == nil
			return err
		}
	}
	pid := tg.PID()
	cpu0 := ReadProc(pid).CPU
	a := ClosedLoop(r.conc(64), N, 0, 0, do(0))
	cpuA := ReadProc(pid).CPU - cpu0
	half := a.PerSec() / 2
	// The half-rate phase measures steady state: let the backlog of the
	// full-speed phase be applied first (it is counted by checkStored below).
	waitInboxDrained(ctx, tg.App.Store, 2*time.Minute)
	_ = waitDrained(ctx, tg, 2*time.Minute)
	b := ClosedLoop(r.conc(64), N/2, 0, half, do(N))
	var ids []string
	for i, ok := range accepted {
		if ok {
			ids = append(ids, acts[i].id)
		}
	}
	lost, pending, failed, counts := checkStored(ctx, tg.App.Store, ids, 2*time.Minute)
	lost += pending // without a crash, everything accepted must have been processed
	sigErrs, _ := w.fv.SignatureErrors()
	rejected := a.Failed + b.Failed
	errs := failed + rejected + sigErrs
	ok := lost == 0 && errs == 0
	notes := fmt.Sprintf("%d actors on %d servers, Mastodon-signed; mix 40%% reply, 20%% mention, 25%% Like, 10%% Follow, 5%% Undo; inbox rows %v", len(w.actors), S, counts)
	if a.FirstErr != "" || b.FirstErr != "" {
		notes += "; first rejection: " + a.FirstErr + b.FirstErr
	}
	add := func(res Result) { res.Lost, res.Errors, res.OK = lost, errs, ok; r.rep.Add(res) }
	add(Result{Metric: "accepted_per_second", Value: a.PerSec(), Unit: "activities/s", Baseline: r.base.VerifyAll,
		BaselineMetric: fmt.Sprintf("verify/s (%d cores)", r.base.CPUs), Target: "≥ 2000/s", Notes: notes})
	add(Result{Metric: "latency_p50_at_max", Value: a.P(50), Unit: "ms"})
	add(Result{Metric: "latency_p99_at_max", Value: a.P(99), Unit: "ms"})
	add(Result{Metric: "latency_p50_at_half_rate", Value: b.P(50), Unit: "ms", Notes: fmt.Sprintf("paced at %.0f/s", half)})
	add(Result{Metric: "latency_p99_at_half_rate", Value: b.P(99), Unit: "ms", Target: "< 50 ms"})
	add(Result{Metric: "rejected", Value: float64(rejected), Unit: "requests"})
	cpu := cpuA
	note := "torget child process CPU"
	if !r.cfg.Child {
		cpu = a.CPU
		note = "whole process CPU: torget + load generator + simulated servers"
	}
	add(Result{Metric: "cpu_seconds_per_activity", Value: cpu.Seconds() / float64(max(a.OK, 1)), Unit: "s",
		Baseline: 1 / r.base.VerifyPerCore, BaselineMetric: "s per RSA verify", Notes: note})
	return nil
}

// ---- read path --------------------------------------------------------------------

type readTarget struct {
	name, url, host, accept string
}

func (r *runner) read(ctx context.Context) error {
	var targets []readTarget
	if r.cfg.Target != "" {
		base := strings.TrimRight(r.cfg.Target, "/")
		u, err := url.Parse(base)
		if err != nil {
			return err
		}
		abs := func(s string) string {
			if strings.HasPrefix(s, "http") {
				return s
			}
			return base + s
		}
		if r.cfg.Acct != "" {
			targets = append(targets, readTarget{"webfinger", base + "/.well-known/webfinger?resource=acct:" + url.QueryEscape(r.cfg.Acct), "", "application/jrd+json"})
		}
		for _, x := range []struct{ name, v, accept string }{{"actor", r.cfg.Actor, "application/activity+json"},
			{"outbox_page", r.cfg.Outbox, "application/activity+json"}, {"object", r.cfg.Object, "application/activity+json"},
			{"nodeinfo", r.cfg.NodeInfo, "application/json"}, {"group_page", r.cfg.Page, "text/html"}, {"post_page", r.cfg.PostPage, "text/html"}} {
			if x.v != "" {
				targets = append(targets, readTarget{x.name, abs(x.v), "", x.accept})
			}
		}
		_ = u
		return r.readRun(targets, nil)
	}
	tg, err := r.torget(ctx, r.cfg.Child, 16)
	if err != nil {
		return err
	}
	defer tg.Close()
	if r.cfg.Child {
		if err := tg.StartChild(); err != nil {
			return err
		}
	}
	if _, err := tg.Group(ctx, "lasning"); err != nil {
		return err
	}
	var postID string
	for i := range pick(r.cfg.Quick, 5, 40) {
		if _, postID, err = tg.App.Fed.Publish(ctx, "lasning", federation.PostInput{
			Text: fmt.Sprintf("Inlägg %d om **vägarbete** på Huddingevägen. #trafik", i)}); err != nil {
			return err
		}
	}
	c := NewClient(4)
	var outbox struct {
		First any `json:"first"`
	}
	if err := getJSON(c, tg.Base+"/groups/lasning/outbox", "application/activity+json", &outbox); err != nil {
		return err
	}
	var nodeinfo struct{ Links []struct{ Rel, Href string } }
	if err := getJSON(c, tg.Base+"/.well-known/nodeinfo", "application/json", &nodeinfo); err != nil {
		return err
	}
	ni := ""
	for _, l := range nodeinfo.Links {
		ni = l.Href
	}
	ap := "application/activity+json"
	targets = []readTarget{
		{"webfinger", tg.Base + "/.well-known/webfinger?resource=acct:lasning@" + tg.Domain, "", "application/jrd+json"},
		{"actor", tg.Base + "/groups/lasning", "", ap},
		{"outbox_page", idOf(outbox.First), "", ap},
		{"object", postID, "", ap},
		{"nodeinfo", ni, "", "application/json"},
		{"group_page", tg.Base + "/groups/lasning", "", "text/html"},
		{"post_page", postID, "", "text/html"},
	}
	return r.readRun(targets, tg)
}

func (r *runner) readRun(targets []readTarget, tg *Torget) error {
	d := 5 * time.Second
	if r.cfg.Quick {
		d = 500 * time.Millisecond
	}
	if r.cfg.Duration > 0 {
		d = r.cfg.Duration
	}
	conc := r.conc(32)
	c := NewClient(conc)
	for _, t := range targets {
		if err := Get(c, t.url, t.host, t.accept, http.StatusOK); err != nil {
			r.rep.Add(Result{Metric: t.name + "_req_per_second", Errors: 1, Notes: err.Error()})
			continue
		}
		pid := os.Getpid()
		if tg != nil {
			pid = tg.PID()
		}
		cpu0 := ReadProc(pid).CPU
		res := ClosedLoop(conc, 0, d, 0, func(int) error { return Get(c, t.url, t.host, t.accept, http.StatusOK) })
		cpu := ReadProc(pid).CPU - cpu0
		target := ""
		switch t.name {
		case "webfinger", "actor":
			target = "ratio ≥ 0.40"
		case "group_page", "post_page":
			target = "≥ 5000 req/s"
		}
		ok := res.Failed == 0
		r.rep.Add(Result{Metric: t.name + "_req_per_second", Value: res.PerSec(), Unit: "req/s", Baseline: r.base.Trivial,
			BaselineMetric: "trivial handler req/s", Errors: res.Failed, OK: ok, Target: target,
			Notes: fmt.Sprintf("%d clients; p99 %.2f ms (trivial %.2f ms); %.0f µs CPU/req (%s)", conc, res.P(99), r.base.TrivialP99,
				float64(cpu.Microseconds())/float64(max(res.OK+res.Failed, 1)), map[bool]string{true: "torget process", false: "whole process incl. generator"}[tg != nil && r.cfg.Child]) + errNote(res)})
		r.rep.Add(Result{Metric: t.name + "_p99", Value: res.P(99), Unit: "ms", Baseline: r.base.TrivialP99, BaselineMetric: "trivial p99 ms",
			Errors: res.Failed, OK: ok})
	}
	return nil
}

func errNote(l LoadResult) string {
	if l.FirstErr == "" {
		return ""
	}
	return "; first error: " + l.FirstErr
}
