// Package store is torget's persistence: gorm models, migrations and
// queries. It is the only package that imports gorm; callers see plain
// structs and the errors ErrNotFound and ErrConflict.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Errors callers may test with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
)

// Store wraps the database handle.
type Store struct {
	db     *gorm.DB
	wdb    *gorm.DB // db, or on SQLite the one connection every write uses
	driver string
	now    func() time.Time
	// wmu serialises writers of one process on SQLite. SQLite allows one
	// writer at a time; without this, concurrent writers wait in SQLite's
	// busy handler, which sleeps in steps of up to 100 ms. Queued on a Go
	// mutex instead, they run back to back.
	wmu  *sync.Mutex
	inTx bool
	cp   *checkpointer // SQLite files only
}

// Options tune Open.
type Options struct {
	MaxOpenConns int
	Logger       *slog.Logger
	Now          func() time.Time // injectable clock; time.Now by default
}

// Open connects to url ("sqlite:PATH" or "postgres://…"). It does not
// migrate; call Migrate.
func Open(url string, opt Options) (*Store, error) {
	var dial gorm.Dialector
	var driver string
	switch {
	case strings.HasPrefix(url, "sqlite:"):
		driver = "sqlite"
		path := strings.TrimPrefix(url, "sqlite:")
		if path != ":memory:" {
			if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
				return nil, fmt.Errorf("create database folder: %w", err)
			}
		}
		dial = sqlite.New(sqlite.Config{DriverName: sqliteDriver, DSN: sqliteDSN(path)})
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		driver = "postgres"
		dial = postgres.Open(url)
	default:
		return nil, fmt.Errorf("database url %q: want sqlite:PATH or postgres://", url)
	}
	gl := logger.Discard
	if opt.Logger != nil {
		gl = quietLogger{Interface: logger.NewSlogLogger(opt.Logger, logger.Config{SlowThreshold: slowQuery, LogLevel: logger.Warn, IgnoreRecordNotFoundError: true})}
	}
	// A fresh config for each gorm.Open: gorm keeps its pool in it.
	config := func() *gorm.Config {
		gc := &gorm.Config{Logger: gl, TranslateError: true, SkipDefaultTransaction: true, NowFunc: func() time.Time { return time.Now().UTC() }}
		if driver == "sqlite" {
			// Keep prepared statements per connection: parsing and planning a
			// statement costs SQLite more than running the small queries of the
			// inbox path. (pgx caches PostgreSQL's prepared statements itself.)
			gc.PrepareStmt, gc.PrepareStmtMaxSize, gc.PrepareStmtTTL = true, 512, 10*time.Minute
		}
		return gc
	}
	db, err := gorm.Open(dial, config())
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", driver, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	if driver == "sqlite" {
		// The database holds the groups' private keys: owner-only. SQLite
		// creates its -wal and -shm files with the database file's mode.
		if err := sqlDB.Ping(); err != nil {
			return nil, fmt.Errorf("open sqlite database: %w", err)
		}
		if path := strings.TrimPrefix(url, "sqlite:"); path != ":memory:" {
			if err := os.Chmod(path, 0o600); err != nil {
				return nil, fmt.Errorf("restrict database file: %w", err)
			}
		}
	}
	n := opt.MaxOpenConns
	if n <= 0 {
		n = 16
	}
	sqlDB.SetMaxOpenConns(n)
	sqlDB.SetMaxIdleConns(n)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	now := opt.Now
	if now == nil {
		now = time.Now
	}
	st := &Store{db: db, wdb: db, driver: driver, now: func() time.Time { return now().UTC() }, wmu: &sync.Mutex{}}
	if driver == "sqlite" && strings.TrimPrefix(url, "sqlite:") != ":memory:" {
		// One connection for every write. In WAL mode a connection drops
		// its whole page cache when another connection has written since
		// its last transaction: with writes spread over the pool, nearly
		// every write began by reading its b-tree pages back from the
		// files. The writes are serialised anyway (wmu); on their own
		// connection its cache stays warm.
		wdb, err := gorm.Open(sqlite.New(sqlite.Config{DriverName: sqliteDriver, DSN: sqliteDSN(strings.TrimPrefix(url, "sqlite:"))}), config())
		if err != nil {
			_ = sqlDB.Close()
			return nil, fmt.Errorf("open %s database for writing: %w", driver, err)
		}
		wsql, err := wdb.DB()
		if err != nil {
			_ = sqlDB.Close()
			return nil, err
		}
		wsql.SetMaxOpenConns(1)
		wsql.SetMaxIdleConns(1)
		wsql.SetConnMaxIdleTime(0)
		st.wdb = wdb
		st.cp = startCheckpointer(sqlDB, st.wmu, opt.Logger)
	}
	return st, nil
}

// sqliteDSN opens path with WAL for concurrent readers, a busy timeout
// instead of SQLITE_BUSY errors, foreign keys on, and BEGIN IMMEDIATE so
// that write transactions queue instead of failing on upgrade.
func sqliteDSN(path string) string {
	return "file:" + path + "?_journal_mode=WAL&_busy_timeout=10000&_foreign_keys=on&_txlock=immediate&_synchronous=NORMAL"
}

// Driver is "sqlite" or "postgres".
func (s *Store) Driver() string { return s.driver }

// Now is the store's clock.
func (s *Store) Now() time.Time { return s.now() }

// Close closes the connection pool.
func (s *Store) Close() error {
	s.cp.close()
	s.cp = nil
	if s.wdb != s.db {
		if wsql, err := s.wdb.DB(); err == nil {
			_ = wsql.Close()
		}
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.PingContext(ctx)
}

// Tx runs fn in one transaction; fn gets a Store bound to it.
func (s *Store) Tx(ctx context.Context, fn func(tx *Store) error) error {
	defer s.write()()
	return s.wdb.WithContext(ctx).Transaction(func(g *gorm.DB) error {
		return fn(&Store{db: g, wdb: g, driver: s.driver, now: s.now, wmu: s.wmu, inTx: true, cp: s.cp})
	})
}

// write takes the process's SQLite write lock (a no-op on PostgreSQL and
// inside a transaction, which holds it already) and returns its release.
func (s *Store) write() func() {
	if s.driver != "sqlite" || s.inTx {
		return func() {}
	}
	s.wmu.Lock()
	return func() {
		s.wmu.Unlock()
		s.cp.wrote()
	}
}

func (s *Store) ctx(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

// wctx is ctx for writes: the write connection on SQLite (see Open).
func (s *Store) wctx(ctx context.Context) *gorm.DB { return s.wdb.WithContext(ctx) }

// translate maps gorm errors to the package's errors.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return ErrNotFound
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("%w: %v", ErrConflict, err)
	}
	return err
}

// Exec runs a statement (administrative use: tests, maintenance).
func (s *Store) Exec(ctx context.Context, sql string, args ...any) error {
	defer s.write()()
	return s.wctx(ctx).Exec(sql, args...).Error
}

// QueryRow scans the one row a query returns into dest (administrative
// use: tests, maintenance).
func (s *Store) QueryRow(ctx context.Context, sql string, dest any, args ...any) error {
	return s.ctx(ctx).Raw(sql, args...).Row().Scan(dest)
}

// quietLogger passes on only what the Warn level logs: failed and slow
// statements. gorm's slog logger renders every statement with its
// arguments before deciding whether to log it, which cost the inbox path
// more than some of its queries.
type quietLogger struct {
	logger.Interface
	verbose bool // Info level: every statement is logged
}

const slowQuery = time.Second

func (l quietLogger) LogMode(level logger.LogLevel) logger.Interface {
	return quietLogger{l.Interface.LogMode(level), level >= logger.Info}
}

func (l quietLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if !l.verbose && (err == nil || errors.Is(err, gorm.ErrRecordNotFound)) && time.Since(begin) <= slowQuery {
		return
	}
	l.Interface.Trace(ctx, begin, fc, err)
}

// QueryInt runs a query returning one integer (administrative use: tests,
// maintenance).
func (s *Store) QueryInt(ctx context.Context, sql string, args ...any) (int64, error) {
	var n int64
	err := s.ctx(ctx).Raw(sql, args...).Scan(&n).Error
	return n, err
}
