// Command torget-load measures torget against a simulated fediverse on
// loopback: go run ./cmd/torget-load -scenario fanout|inbox|read|crash|soak
// [-db sqlite|postgres] [-quick] [-target URL] [-duration D] -json REPORT.json
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"

	"github.com/torget/torget/internal/loadtest"
)

func main() {
	if os.Getenv(loadtest.ChildEnv) == "1" {
		loadtest.ChildMain()
		return
	}
	var c loadtest.Config
	var jsonPath string
	flag.StringVar(&c.Scenario, "scenario", "", "fanout, inbox, read, crash or soak")
	flag.StringVar(&c.Backend, "db", "sqlite", "sqlite or postgres")
	flag.StringVar(&c.PostgresURL, "postgres", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "PostgreSQL URL (a schema is created and dropped)")
	flag.BoolVar(&c.Quick, "quick", false, "small numbers, seconds per scenario (CI smoke)")
	flag.StringVar(&c.Target, "target", "", "run the read scenario against this server's base URL instead of a local torget")
	flag.DurationVar(&c.Duration, "duration", 0, "soak length (default 10m, -quick 8s) or read duration per endpoint")
	flag.IntVar(&c.Followers, "followers", 0, "fanout followers (default 100000; -quick 200)")
	flag.IntVar(&c.Servers, "servers", 0, "simulated servers (fanout default 10000)")
	flag.DurationVar(&c.MinLatency, "min-latency", 0, "simulated inbox latency, low end (default 20ms)")
	flag.DurationVar(&c.MaxLatency, "max-latency", 0, "simulated inbox latency, high end (default 300ms)")
	flag.StringVar(&c.Follow, "follow", "", "protocol or bulk (default: protocol up to 2000 followers)")
	flag.StringVar(&c.Verify, "verify", "", "on or off: simulated servers verify torget's signatures (default on up to 10000 followers)")
	flag.IntVar(&c.Activities, "activities", 0, "inbox activities at full speed (default 10000; -quick 300)")
	flag.IntVar(&c.Conc, "conc", 0, "load generator concurrency")
	flag.BoolVar(&c.Child, "child", false, "run torget as a child process (CPU figures are then torget's alone)")
	flag.IntVar(&c.Workers, "workers", 0, "torget delivery.workers (default per scenario)")
	flag.IntVar(&c.Keys, "keys", 0, "RSA key pool size (default 32; -quick 4)")
	flag.StringVar(&c.Acct, "acct", "", "-target: user@host for WebFinger")
	flag.StringVar(&c.Actor, "actor", "", "-target: actor URL or path")
	flag.StringVar(&c.Outbox, "outbox", "", "-target: outbox page URL or path")
	flag.StringVar(&c.Object, "object", "", "-target: object URL or path")
	flag.StringVar(&c.NodeInfo, "nodeinfo", "", "-target: NodeInfo URL or path")
	flag.StringVar(&c.Page, "page", "", "-target: public HTML page URL or path")
	flag.StringVar(&c.PostPage, "post-page", "", "-target: public post page URL or path")
	flag.StringVar(&jsonPath, "json", "", "write one JSON object per result (JSON Lines) here")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of this process (in-process torget included) here")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if c.Target != "" && c.Scenario == "" {
		c.Scenario = "read"
	}
	if c.Target != "" && c.Scenario != "read" {
		fmt.Fprintln(os.Stderr, "-target runs the read scenario only")
		os.Exit(2)
	}
	c.Log = os.Stderr
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := loadtest.Run(ctx, c)
	pprof.StopCPUProfile()
	rep.Markdown(os.Stdout)
	if jsonPath != "" {
		if werr := rep.WriteJSON(jsonPath); werr != nil {
			fmt.Fprintln(os.Stderr, werr)
			os.Exit(1)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	if bad := rep.Failed(); len(bad) > 0 {
		fmt.Fprintf(os.Stderr, "%d results show a correctness failure (lost, duplicates, count mismatch or errors)\n", len(bad))
		os.Exit(1)
	}
}
