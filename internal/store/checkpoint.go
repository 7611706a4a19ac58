package store

import (
	"context"
	"database/sql"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	sqlite3 "github.com/mattn/go-sqlite3"
)

// sqliteDriver is mattn's driver with SQLite's automatic WAL checkpoint
// turned off on every connection: torget checkpoints in the background
// instead (checkpointer). An automatic checkpoint runs inside the commit
// that crosses the WAL threshold, so that writer — and, through the write
// lock, every other writer, the inbox's acknowledgements among them —
// waited for the copy and its fsync. In WAL mode a checkpoint runs beside
// readers and writers; only its own connection waits.
const sqliteDriver = "sqlite3_torget"

func init() {
	sql.Register(sqliteDriver, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec("PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864", nil)
		return err
	}})
}

// Checkpoint tuning: how often the background checkpointer looks, and the
// WAL size (in 4 KiB pages) past which it restarts the log under the
// write lock so that a reader that never lets go cannot make it grow
// without bound.
const (
	checkpointEvery   = 500 * time.Millisecond
	checkpointRestart = 64 * 1024 // 256 MiB
)

// checkpointer copies the WAL into the database file in the background.
type checkpointer struct {
	db      *sql.DB
	wmu     *sync.Mutex
	log     *slog.Logger
	commits atomic.Int64 // writes since the last checkpoint
	stop    chan struct{}
	done    chan struct{}
}

func startCheckpointer(db *sql.DB, wmu *sync.Mutex, log *slog.Logger) *checkpointer {
	c := &checkpointer{db: db, wmu: wmu, log: log, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

func (c *checkpointer) wrote() {
	if c != nil {
		c.commits.Add(1)
	}
}

func (c *checkpointer) run() {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		if c.commits.Swap(0) == 0 {
			continue
		}
		logPages, err := c.checkpoint("PASSIVE")
		if err == nil && logPages >= checkpointRestart {
			c.wmu.Lock()
			_, err = c.checkpoint("RESTART")
			c.wmu.Unlock()
		}
		if err != nil && c.log != nil {
			c.log.Warn("sqlite checkpoint", "err", err)
		}
	}
}

// checkpoint runs one checkpoint and returns the WAL's size in pages.
func (c *checkpointer) checkpoint(mode string) (logPages int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var busy, moved int
	err = c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint("+mode+")").Scan(&busy, &logPages, &moved)
	return logPages, err
}

// close stops the checkpointer; closing the last connection checkpoints
// what is left.
func (c *checkpointer) close() {
	if c == nil {
		return
	}
	close(c.stop)
	<-c.done
}
