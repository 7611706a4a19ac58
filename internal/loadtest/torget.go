package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/torget/torget/internal/app"
	"github.com/torget/torget/internal/config"
	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/store"
)

// ChildEnv marks a re-executed torget-load process that runs torget itself.
const ChildEnv = "TORGET_LOAD_CHILD"

// ChildMain runs torget (serve) configured from TORGET_* variables; the
// load tool re-executes itself with ChildEnv=1 to get a torget process it
// can SIGKILL and measure apart from the load generator.
func ChildMain() {
	cfg, err := config.Load("", os.Environ())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	a, err := app.New(ctx, cfg, app.NewLogger(cfg.Log), app.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer a.Close()
	if err := a.Serve(ctx, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// Options configure the torget under test.
type Options struct {
	Backend     string // sqlite or postgres
	PostgresURL string
	Dir         string // temporary directory (SQLite file, logs)
	Child       bool   // run torget as a child process
	Workers     int
	PerDomain   int
	BaseBackoff time.Duration
	Lease       time.Duration
	Timeout     time.Duration // federation.request_timeout
	MaxConns    int
}

// Torget is the server under test. App is always usable for the store
// and federation service; in child mode it does not serve or run workers
// (the child does).
type Torget struct {
	App    *app.App
	Cfg    config.Config
	Base   string
	Domain string
	DBURL  string
	opt    Options
	env    []string
	child  *exec.Cmd
	done   chan struct{}
	stop   func()
	drop   func()
}

func newDBURL(o Options) (string, func(), error) {
	if o.Backend != "postgres" {
		return "sqlite:" + filepath.Join(o.Dir, "torget.db"), func() {}, nil
	}
	base := o.PostgresURL
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	schema := "load_" + hex.EncodeToString(b)
	admin, err := store.Open(base, store.Options{MaxOpenConns: 1})
	if err != nil {
		return "", nil, err
	}
	if err := admin.Exec(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return "", nil, err
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema, func() {
		_ = admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		_ = admin.Close()
	}, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// StartTorget starts torget on a fresh database.
func StartTorget(ctx context.Context, o Options) (*Torget, error) {
	dbURL, drop, err := newDBURL(o)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	t := &Torget{DBURL: dbURL, opt: o, drop: drop}
	var ln net.Listener
	if o.Child {
		t.Domain, err = freeAddr()
	} else {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		if err == nil {
			t.Domain = ln.Addr().String()
		}
	}
	if err != nil {
		drop()
		return nil, err
	}
	t.Base = "http://" + t.Domain
	cfg := config.Default()
	cfg.Server.Domain, cfg.Server.BaseURL, cfg.Server.Listen = t.Domain, t.Base, t.Domain
	cfg.Database.URL = dbURL
	cfg.Media.Dir = filepath.Join(o.Dir, "media")
	if o.MaxConns > 0 {
		cfg.Database.MaxOpenConns = o.MaxConns
	}
	cfg.Federation.AllowPrivateNetworks = []string{"127.0.0.0/8"}
	cfg.Federation.RequestTimeout = config.Duration{Duration: o.Timeout}
	cfg.Delivery.Workers, cfg.Delivery.PerDomain = o.Workers, o.PerDomain
	cfg.Delivery.BaseBackoff = config.Duration{Duration: o.BaseBackoff}
	cfg.Delivery.MaxBackoff = config.Duration{Duration: 4 * o.BaseBackoff}
	cfg.Delivery.Lease = config.Duration{Duration: o.Lease}
	cfg.Delivery.ProbeInterval = config.Duration{Duration: 2 * time.Second}
	cfg.Log.Level = "error"
	if err := cfg.Validate(); err != nil {
		drop()
		return nil, err
	}
	t.Cfg = cfg
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := app.New(ctx, cfg, log, app.Options{})
	if err != nil {
		drop()
		return nil, err
	}
	t.App = a
	if !o.Child {
		wctx, cancel := context.WithCancel(ctx)
		srv := &http.Server{Handler: a.HTTP, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		wg := a.RunWorkers(wctx)
		t.stop = func() { cancel(); _ = srv.Close(); wg.Wait() }
		return t, nil
	}
	t.env = []string{ChildEnv + "=1",
		"TORGET_DATABASE_URL=" + dbURL,
		"TORGET_MEDIA_DIR=" + cfg.Media.Dir,
		"TORGET_DATABASE_MAX_OPEN_CONNS=" + strconv.Itoa(cfg.Database.MaxOpenConns),
		"TORGET_SERVER_DOMAIN=" + t.Domain,
		"TORGET_SERVER_BASE_URL=" + t.Base,
		"TORGET_SERVER_LISTEN=" + t.Domain,
		"TORGET_FEDERATION_ALLOW_PRIVATE_NETWORKS=127.0.0.0/8",
		"TORGET_FEDERATION_REQUEST_TIMEOUT=" + o.Timeout.String(),
		"TORGET_DELIVERY_WORKERS=" + strconv.Itoa(o.Workers),
		"TORGET_DELIVERY_PER_DOMAIN=" + strconv.Itoa(o.PerDomain),
		"TORGET_DELIVERY_BASE_BACKOFF=" + o.BaseBackoff.String(),
		"TORGET_DELIVERY_MAX_BACKOFF=" + (4 * o.BaseBackoff).String(),
		"TORGET_DELIVERY_LEASE=" + o.Lease.String(),
		"TORGET_DELIVERY_PROBE_INTERVAL=2s",
		"TORGET_LOG_LEVEL=error",
	}
	return t, nil
}

// StartChild starts (or restarts) the child torget process and waits
// until it answers /readyz.
func (t *Torget) StartChild() error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(t.opt.Dir, "torget.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), t.env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	t.child, t.done = cmd, make(chan struct{})
	done := t.done
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			b, _ := os.ReadFile(filepath.Join(t.opt.Dir, "torget.log"))
			return fmt.Errorf("torget child exited: %s", b)
		default:
		}
		if resp, err := http.Get(t.Base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("torget child not ready in 30s")
}

// Kill sends SIGKILL to the child and waits for it to be gone.
func (t *Torget) Kill() {
	if t.child == nil {
		return
	}
	_ = t.child.Process.Kill()
	<-t.done
	t.child = nil
}

// Term sends SIGTERM to the child and waits up to d, then kills it.
func (t *Torget) Term(d time.Duration) bool {
	if t.child == nil {
		return true
	}
	_ = t.child.Process.Signal(syscall.SIGTERM)
	select {
	case <-t.done:
		t.child = nil
		return true
	case <-time.After(d):
		t.Kill()
		return false
	}
}

// PID is the process torget runs in (this one when in-process).
func (t *Torget) PID() int {
	if t.child != nil {
		return t.child.Process.Pid
	}
	return os.Getpid()
}

// Close stops torget and drops its database schema.
func (t *Torget) Close() {
	if t.stop != nil {
		t.stop()
	}
	t.Term(10 * time.Second)
	_ = t.App.Close()
	t.drop()
}

// Group creates a group.
func (t *Torget) Group(ctx context.Context, slug string) (*store.Group, error) {
	const staff = "lasttest"
	if _, err := t.App.Store.UserByName(ctx, staff); errors.Is(err, store.ErrNotFound) {
		if err := t.App.Store.CreateUser(ctx, &store.User{Username: staff, Role: store.RoleEditor, PasswordHash: "-"}); err != nil {
			return nil, err
		}
	}
	return t.App.Fed.CreateGroup(ctx, federation.GroupInput{Slug: slug, Name: "Grupp " + slug,
		Purpose: "Lasttest", WebsiteURL: "https://example.org/", OwningUnit: "Lasttest", Responsible: []string{staff}})
}

// ProcStat is a sample of a process's resources (Linux /proc).
type ProcStat struct {
	CPU     time.Duration
	RSS     int64 // bytes
	FDs     int
	Sockets int
	Threads int
}

// ReadProc samples process pid.
func ReadProc(pid int) ProcStat {
	var s ProcStat
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// Fields after the command name (which is in parentheses).
		if i := strings.LastIndexByte(string(b), ')'); i > 0 {
			f := strings.Fields(string(b)[i+2:])
			if len(f) > 13 {
				ut, _ := strconv.ParseInt(f[11], 10, 64)
				st, _ := strconv.ParseInt(f[12], 10, 64)
				s.CPU = time.Duration(ut+st) * (time.Second / 100) // USER_HZ = 100
			}
		}
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			k, v, _ := strings.Cut(line, ":")
			fs := strings.Fields(v)
			if len(fs) == 0 {
				continue
			}
			n, _ := strconv.ParseInt(fs[0], 10, 64)
			switch k {
			case "VmRSS":
				s.RSS = n * 1024
			case "Threads":
				s.Threads = int(n)
			}
		}
	}
	if ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid)); err == nil {
		s.FDs = len(ents)
		for _, e := range ents {
			if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, e.Name())); err == nil && strings.HasPrefix(l, "socket:") {
				s.Sockets++
			}
		}
	}
	return s
}

// SelfCPU is this process's CPU time (rusage, user + system).
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
