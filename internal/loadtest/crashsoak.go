package loadtest

import (
	"context"
	"fmt"
	"time"

	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/store"
)

// ---- crash ----------------------------------------------------------------------

func (r *runner) crash(ctx context.Context) error {
	q := r.cfg.Quick
	S, perHost := pick(q, 20, 100), pick(q, 10, 20)
	workers := 16
	fv, err := NewFediverse(S, perHost, r.pool, Behaviour{MinLatency: 10 * time.Millisecond, MaxLatency: 40 * time.Millisecond})
	if err != nil {
		return err
	}
	defer fv.Close()
	fv.Verify = true
	tg, err := r.torget(ctx, true, workers)
	if err != nil {
		return err
	}
	defer tg.Close()
	g, err := tg.Group(ctx, "krisinfo")
	if err != nil {
		return err
	}
	// Personal inboxes only (no shared inbox): one delivery per follower.
	var fs []store.Follower
	var inboxes []string
	for i, s := range fv.Servers {
		for u := range perHost {
			fs = append(fs, store.Follower{GroupID: g.ID, ActorIRI: s.Actor(u), Inbox: s.Inbox(u), Host: s.Host,
				FollowIRI: fmt.Sprintf("%s#follows/%d", s.Actor(u), i), State: store.FollowAccepted})
			inboxes = append(inboxes, s.Inbox(u))
		}
	}
	if err := tg.App.Store.InsertFollowers(ctx, fs); err != nil {
		return err
	}
	if _, _, err := tg.App.Fed.Publish(ctx, "krisinfo", federation.PostInput{Text: "Viktigt meddelande till allmänheten"}); err != nil {
		return err
	}
	acts, err := tg.App.Store.OutboxPage(ctx, g.ID, 0, 1)
	if err != nil || len(acts) != 1 {
		return fmt.Errorf("outbox: %v %v", acts, err)
	}
	id := acts[0].IRI
	// Fan-out: kill once a fifth of the inboxes have the activity.
	if err := tg.StartChild(); err != nil {
		return err
	}
	killAt := len(inboxes) / 5
	dl := time.Now().Add(60 * time.Second)
	for fv.Rec.Distinct(inboxes, id) < killAt && time.Now().Before(dl) {
		time.Sleep(time.Millisecond)
	}
	tg.Kill()
	atKill := fv.Rec.Distinct(inboxes, id)
	if err := tg.StartChild(); err != nil {
		return err
	}
	restart := time.Now()
	dl = time.Now().Add(90 * time.Second)
	for fv.Rec.Distinct(inboxes, id) < len(inboxes) && time.Now().Before(dl) {
		time.Sleep(5 * time.Millisecond)
	}
	complete := time.Since(restart)
	_ = waitDrained(ctx, tg, 20*time.Second)
	t := fv.Rec.Check(inboxes, []string{id})
	sigErrs, _ := fv.SignatureErrors()
	c, _ := tg.App.Store.DeliveryCounts(ctx)
	errs := sigErrs + t.Unexpected
	if c[store.DeliveryDone] != int64(len(inboxes)) {
		errs++
	}
	r.rep.Add(Result{Metric: "fanout_lost_deliveries", Value: float64(t.Lost), Unit: "deliveries", Lost: t.Lost, Duplicates: t.Duplicates,
		Errors: errs, OK: t.Lost == 0 && errs == 0 && t.Duplicates <= int64(workers), Target: "0 lost",
		Notes: fmt.Sprintf("%d personal inboxes on %d servers; SIGKILL after %d reached; restart finished in %v; duplicates ≤ in-flight (%d workers) allowed; rows %v",
			len(inboxes), S, atKill, complete.Round(time.Millisecond), workers, c)})

	// Inbox burst: kill mid-burst; every 202 must survive the restart.
	w, err := r.inboxWorld(tg, pick(q, 5, 20), 3)
	if err != nil {
		return err
	}
	defer w.fv.Close()
	N := pick(q, 400, 4000)
	ps, err := w.presign(tg, N)
	if err != nil {
		return err
	}
	cl := NewClient(32)
	accepted := make([]bool, N)
	var sent int64
	done := make(chan LoadResult)
	go func() {
		done <- ClosedLoop(32, N, 0, 0, func(i int) error {
			err := send(cl, tg.Base+"/inbox", ps[i])
			accepted[i] = err == nil
			return err
		})
	}()
	base0, _ := tg.App.Store.InboxCounts(ctx)
	total0 := int64(0)
	for _, v := range base0 {
		total0 += v
	}
	dl = time.Now().Add(60 * time.Second)
	for time.Now().Before(dl) {
		cs, _ := tg.App.Store.InboxCounts(ctx)
		n := int64(0)
		for _, v := range cs {
			n += v
		}
		if n-total0 >= int64(N/3) {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	tg.Kill()
	res := <-done
	sent = res.OK
	if err := tg.StartChild(); err != nil {
		return err
	}
	var ids []string
	for i, ok := range accepted {
		if ok {
			ids = append(ids, ps[i].id)
		}
	}
	lost, pending, failed, counts := checkStored(ctx, tg.App.Store, ids, time.Duration(pick(q, 15, 150))*time.Second)
	r.rep.Add(Result{Metric: "inbox_lost_accepted", Value: float64(lost), Unit: "activities", Lost: lost, Errors: failed,
		OK: lost == 0 && failed == 0, Target: "0 lost",
		Notes: fmt.Sprintf("%d POSTs, %d answered 202 (the rest refused while torget was down); every 202 checked in the store; inbox rows %v", N, sent, counts)})
	r.rep.Add(Result{Metric: "inbox_pending_after_restart", Value: float64(pending), Unit: "activities", OK: true,
		Notes: "stored, not yet applied: claimed by the killed process, applied once its lease (delivery.lease) runs out"})
	tg.Term(10 * time.Second)
	return nil
}

// ---- soak ---------------------------------------------------------------------------

func (r *runner) soak(ctx context.Context) error {
	q := r.cfg.Quick
	d := r.cfg.Duration
	if d <= 0 {
		d = 10 * time.Minute
		if q {
			d = 8 * time.Second
		}
	}
	every, sample := time.Minute, 5*time.Second
	if q {
		every, sample = 2*time.Second, 250*time.Millisecond
	}
	S, users := pick(q, 20, 200), pick(q, 5, 10)
	fv, err := NewFediverse(S, users, r.pool, Behaviour{MinLatency: 20 * time.Millisecond, MaxLatency: 300 * time.Millisecond, Share500: 0.02})
	if err != nil {
		return err
	}
	defer fv.Close()
	fv.Verify = true
	// A few unreachable servers (connections closed), one down then up,
	// one whose personal inboxes are gone, one with slow bodies.
	unreachable := 3
	for i := range unreachable {
		fv.Servers[i].SetBehaviour(Behaviour{DownUntil: time.Now().Add(100 * time.Hour)})
	}
	fv.Servers[3].SetBehaviour(Behaviour{DownUntil: time.Now().Add(d / 3)})
	fv.Servers[4].SetBehaviour(Behaviour{Gone: true})
	fv.Servers[5].SetBehaviour(Behaviour{SlowBody: 400 * time.Millisecond, MinLatency: 20 * time.Millisecond, MaxLatency: 300 * time.Millisecond})
	tg, err := r.torget(ctx, true, 32)
	if err != nil {
		return err
	}
	defer tg.Close()
	g, err := tg.Group(ctx, "soak")
	if err != nil {
		return err
	}
	var fs []store.Follower
	for i, s := range fv.Servers {
		for u := range users {
			f := store.Follower{GroupID: g.ID, ActorIRI: s.Actor(u), Inbox: s.Inbox(u), Host: s.Host,
				FollowIRI: s.Actor(u) + "#follows/1", State: store.FollowAccepted}
			if i%2 == 0 {
				f.SharedInbox = s.SharedInbox()
			}
			fs = append(fs, f)
		}
	}
	if err := tg.App.Store.InsertFollowers(ctx, fs); err != nil {
		return err
	}
	if err := tg.StartChild(); err != nil {
		return err
	}
	// Inbox and read traffic from a second set of servers.
	w, err := r.inboxWorld(tg, 10, 3)
	if err != nil {
		return err
	}
	defer w.fv.Close()
	rate := 20.0
	nIn := int(rate * d.Seconds())
	ps, err := w.presign(tg, nIn)
	if err != nil {
		return err
	}
	cl := NewClient(8)
	accepted := make([]bool, nIn)
	inDone := make(chan LoadResult)
	go func() {
		inDone <- ClosedLoop(8, nIn, 0, rate, func(i int) error {
			err := send(cl, tg.Base+"/inbox", ps[i])
			accepted[i] = err == nil
			return err
		})
	}()
	readDone := make(chan LoadResult)
	go func() {
		readDone <- ClosedLoop(4, 0, d, 50, func(i int) error {
			if i%2 == 0 {
				return Get(cl, tg.Base+"/groups/soak", "", "application/activity+json", 200)
			}
			return Get(cl, tg.Base+"/.well-known/webfinger?resource=acct:soak@"+tg.Domain, "", "", 200)
		})
	}()
	start := time.Now()
	var xs, rss, fds, socks, depth, gors []float64
	nextPub := start
	posts := 0
	for time.Since(start) < d {
		if time.Now().After(nextPub) {
			if _, _, err := tg.App.Fed.Publish(ctx, "soak", federation.PostInput{Text: fmt.Sprintf("Soak-inlägg %d", posts)}); err != nil {
				return err
			}
			posts++
			nextPub = nextPub.Add(every)
		}
		p := ReadProc(tg.PID())
		c, _ := tg.App.Store.DeliveryCounts(ctx)
		xs = append(xs, time.Since(start).Minutes())
		rss = append(rss, float64(p.RSS)/(1<<20))
		fds = append(fds, float64(p.FDs))
		socks = append(socks, float64(p.Sockets))
		depth = append(depth, float64(c[store.DeliveryPending]))
		gors = append(gors, ScrapeGauge(cl, tg.Base+"/metrics", "go_goroutines"))
		time.Sleep(sample)
	}
	in, rd := <-inDone, <-readDone
	var ids []string
	for i, ok := range accepted {
		if ok {
			ids = append(ids, ps[i].id)
		}
	}
	lost, pending, failed, _ := checkStored(ctx, tg.App.Store, ids, 30*time.Second)
	lost += pending
	maxOf := func(v []float64) float64 {
		m := 0.0
		for _, x := range v {
			m = max(m, x)
		}
		return m
	}
	half := len(xs) / 2
	trend := func(v []float64) (float64, string) {
		s := Slope(xs[half:], v[half:])
		mean := 0.0
		for _, x := range v[half:] {
			mean += x
		}
		mean /= float64(max(len(v)-half, 1))
		// Growth over the second half as a share of its mean: over 25% is a trend.
		growth := s * (xs[len(xs)-1] - xs[half])
		verdict := "flat"
		if mean > 0 && growth/mean > 0.25 {
			verdict = "GROWING"
		}
		return s, fmt.Sprintf("slope %.3g/min over the second half (%s)", s, verdict)
	}
	errs := failed + in.Failed + rd.Failed
	ok := lost == 0 && errs == 0
	_, rssN := trend(rss)
	_, fdN := trend(fds)
	_, skN := trend(socks)
	_, dpN := trend(depth)
	_, grN := trend(gors)
	note := fmt.Sprintf("%v, %d samples, %d posts (one per %v) to %d followers on %d servers (%d unreachable, 1 down for %v, 1 gone, 1 slow, 2%% 500s); %d inbox activities at %.0f/s, %d reads at 50/s; torget child process",
		d, len(xs), posts, every, len(fs), S, unreachable, (d / 3).Round(time.Second), in.OK, rate, rd.OK)
	add := func(res Result) { res.Lost, res.Errors, res.OK = lost, errs, ok; r.rep.Add(res) }
	add(Result{Metric: "max_rss", Value: maxOf(rss), Unit: "MB", Target: "< 150 MB on SQLite, no growth", Notes: rssN + "; " + note})
	add(Result{Metric: "max_open_fds", Value: maxOf(fds), Unit: "fds", Notes: fdN})
	add(Result{Metric: "max_open_sockets", Value: maxOf(socks), Unit: "sockets", Notes: skN})
	add(Result{Metric: "max_goroutines", Value: maxOf(gors), Unit: "goroutines", Notes: grN + " (from torget's /metrics)"})
	add(Result{Metric: "max_delivery_queue_depth", Value: maxOf(depth), Unit: "pending", Notes: dpN + " (unreachable servers keep retrying)"})
	add(Result{Metric: "inbox_p99", Value: in.P(99), Unit: "ms", Notes: errNote(in)})
	add(Result{Metric: "read_p99", Value: rd.P(99), Unit: "ms", Notes: errNote(rd)})
	add(Result{Metric: "torget_cpu_seconds", Value: ReadProc(tg.PID()).CPU.Seconds(), Unit: "s", Notes: "child process total"})
	return nil
}
