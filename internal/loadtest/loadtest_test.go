package loadtest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	SortDurations(d)
	for _, c := range []struct {
		p    float64
		want time.Duration
	}{{50, 50 * time.Millisecond}, {99, 99 * time.Millisecond}, {100, 100 * time.Millisecond}, {0, time.Millisecond}} {
		if got := Percentile(d, c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	if Percentile(nil, 50) != 0 {
		t.Error("empty percentile")
	}
}

func TestSlope(t *testing.T) {
	if s := Slope([]float64{0, 1, 2, 3}, []float64{1, 3, 5, 7}); s != 2 {
		t.Errorf("slope %v, want 2", s)
	}
	if s := Slope([]float64{1}, []float64{1}); s != 0 {
		t.Errorf("slope of one point %v", s)
	}
}

func TestRecorderCheck(t *testing.T) {
	r := NewRecorder()
	act := func(id string) map[string]any { return map[string]any{"id": id, "type": "Create"} }
	r.Record("a", act("x"))
	r.Record("a", act("y"))
	r.Record("b", act("x"))
	r.Record("b", act("x")) // duplicate
	r.Record("c", act("x")) // not expected there
	r.Record("c", act("z")) // another activity: ignored
	got := r.Check([]string{"a", "b", "d"}, []string{"x", "y"})
	want := Tally{Expected: 6, Delivered: 3, Lost: 3, Duplicates: 1, Unexpected: 1}
	if got != want {
		t.Errorf("tally %+v, want %+v", got, want)
	}
	if n := r.Distinct([]string{"a", "b", "d"}, "x"); n != 2 {
		t.Errorf("distinct %d", n)
	}
	r.Record("a", map[string]any{"id": "acc", "type": "Accept", "object": map[string]any{"id": "f1"}})
	if !r.Accepted("f1") || r.Accepted("f2") {
		t.Error("Accept of f1 not indexed")
	}
}

// A simulated server verifies a Mastodon-style signature by fetching the
// key from its id, and refuses a tampered body.
func TestFediverseVerifies(t *testing.T) {
	pool, err := KeyPool(1)
	if err != nil {
		t.Fatal(err)
	}
	fv, err := NewFediverse(2, 1, pool, Behaviour{})
	if err != nil {
		t.Fatal(err)
	}
	defer fv.Close()
	fv.Verify = true
	sender := fv.Servers[1] // its actor document serves the key
	body, _ := json.Marshal(map[string]any{"id": sender.Actor(0) + "#1", "type": "Create", "actor": sender.Actor(0)})
	req, err := SignedPost(sender, 0, fv.Servers[0].SharedInbox(), body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		n, last := fv.SignatureErrors()
		t.Fatalf("status %d (%d errors, %s)", resp.StatusCode, n, last)
	}
	if fv.Rec.Check([]string{fv.Servers[0].SharedInbox()}, []string{sender.Actor(0) + "#1"}).Delivered != 1 {
		t.Error("not recorded at the right server's inbox")
	}
	req, _ = SignedPost(sender, 0, fv.Servers[0].SharedInbox(), body)
	tampered := strings.Replace(string(body), "Create", "Delete", 1)
	req2, _ := http.NewRequest(http.MethodPost, req.URL.String(), strings.NewReader(tampered))
	req2.Header = req.Header
	resp, err = http.DefaultClient.Do(req2)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("tampered body: status %d, want 401", resp.StatusCode)
	}
}

func TestReportRatio(t *testing.T) {
	r := &Report{Scenario: "s", Backend: "sqlite"}
	r.Add(Result{Metric: "m", Value: 50, Baseline: 200, OK: true})
	r.Add(Result{Metric: "n", Lost: 1})
	if r.Results[0].Ratio != 0.25 || len(r.Failed()) != 1 {
		t.Errorf("%+v", r.Results)
	}
	var sb strings.Builder
	r.Markdown(&sb)
	if !strings.Contains(sb.String(), "| s | sqlite | m | 50 |") {
		t.Errorf("markdown:\n%s", sb.String())
	}
}
