// Package loadtest is torget's load tool: a simulated fediverse on
// loopback, torget started in-process or as a child process, the
// scenarios of issue 5 (fanout, inbox, read, crash, soak) and same-run
// baselines (RSA-2048 sign/verify, a trivial Go HTTP handler).
package loadtest

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strings"
	"time"
)

// Result is one measured figure. Every result carries the baseline it is
// judged against (0 when none applies) and the ratio value/baseline.
type Result struct {
	Scenario       string  `json:"scenario"`
	Backend        string  `json:"backend"`
	Metric         string  `json:"metric"`
	Value          float64 `json:"value"`
	Unit           string  `json:"unit"`
	Baseline       float64 `json:"baseline"`
	BaselineMetric string  `json:"baseline_metric,omitempty"`
	Ratio          float64 `json:"ratio"`
	Lost           int64   `json:"lost"`
	Duplicates     int64   `json:"duplicates"`
	Errors         int64   `json:"errors"`
	// OK is false when the result shows a correctness failure (something
	// lost, a count mismatch, errors). Speed never makes it false.
	OK     bool   `json:"ok"`
	Target string `json:"target,omitempty"`
	Notes  string `json:"notes,omitempty"`
}

// Report collects the results of one run.
type Report struct {
	Scenario, Backend string
	Results           []Result
	Log               io.Writer
}

// Add appends a result, computing its ratio.
func (r *Report) Add(res Result) {
	if res.Scenario == "" {
		res.Scenario = r.Scenario
	}
	if res.Backend == "" {
		res.Backend = r.Backend
	}
	if res.Baseline != 0 {
		res.Ratio = res.Value / res.Baseline
	}
	r.Results = append(r.Results, res)
	if r.Log != nil {
		fmt.Fprintf(r.Log, "  %s = %.4g %s (ok=%v lost=%d dup=%d err=%d) %s\n", res.Metric, res.Value, res.Unit, res.OK, res.Lost, res.Duplicates, res.Errors, res.Notes)
	}
}

// Logf prints progress to the log writer.
func (r *Report) Logf(format string, args ...any) {
	if r.Log != nil {
		fmt.Fprintf(r.Log, format+"\n", args...)
	}
}

// Failed lists the results that show a correctness failure.
func (r *Report) Failed() []Result {
	var out []Result
	for _, res := range r.Results {
		if !res.OK {
			out = append(out, res)
		}
	}
	return out
}

// Markdown writes the results as a Markdown table.
func (r *Report) Markdown(w io.Writer) {
	fmt.Fprintln(w, "| scenario | backend | metric | value | unit | baseline | ratio | lost | dup | err | ok | notes |")
	fmt.Fprintln(w, "|---|---|---|---:|---|---:|---:|---:|---:|---:|---|---|")
	for _, x := range r.Results {
		base, ratio := "", ""
		if x.Baseline != 0 {
			base = fmt.Sprintf("%s %s", num(x.Baseline), x.BaselineMetric)
			ratio = fmt.Sprintf("%.3f", x.Ratio)
		}
		notes := x.Notes
		if x.Target != "" {
			notes = strings.TrimSpace("target " + x.Target + "; " + notes)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %d | %d | %d | %v | %s |\n", x.Scenario, x.Backend, x.Metric,
			num(x.Value), x.Unit, base, ratio, x.Lost, x.Duplicates, x.Errors, x.OK, strings.ReplaceAll(notes, "|", "/"))
	}
}

func num(v float64) string {
	switch {
	case v == math.Trunc(v) && math.Abs(v) < 1e12:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.4g", v)
	}
}

// WriteJSON writes one JSON object per result (JSON Lines) to path.
func (r *Report) WriteJSON(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, x := range r.Results {
		if err := enc.Encode(x); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// Percentile returns the p-th percentile (0..100) of sorted durations by
// the nearest-rank method; 0 for an empty slice.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// SortDurations sorts in place and returns its argument.
func SortDurations(d []time.Duration) []time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d
}

// Slope is the least-squares slope of y over x (0 with fewer than two
// distinct x).
func Slope(x, y []float64) float64 {
	n := float64(len(x))
	if len(x) < 2 || len(x) != len(y) {
		return 0
	}
	var sx, sy, sxx, sxy float64
	for i := range x {
		sx += x[i]
		sy += y[i]
		sxx += x[i] * x[i]
		sxy += x[i] * y[i]
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return 0
	}
	return (n*sxy - sx*sy) / den
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
