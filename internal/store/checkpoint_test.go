package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/store/storetest"
)

// SQLite's automatic checkpoint is off on every connection and the
// background checkpointer copies the WAL into the database file while
// the store stays open: the file grows by what was written, without a
// close and without any writer running the checkpoint.
func TestBackgroundCheckpoint(t *testing.T) {
	if storetest.Postgres() {
		t.Log("SQLite only: PostgreSQL checkpoints by itself")
		return
	}
	path := filepath.Join(t.TempDir(), "torget.db")
	s, err := store.Open("sqlite:"+path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var auto int
	if err := s.QueryRow(ctx, "PRAGMA wal_autocheckpoint", &auto); err != nil || auto != 0 {
		t.Fatalf("wal_autocheckpoint = %d (%v), want 0", auto, err)
	}
	// Let any checkpoint of the migration pass, then measure.
	time.Sleep(1500 * time.Millisecond)
	before := fileSize(t, path)
	g := newGroup(t, s, "a")
	text := strings.Repeat("Snöröjning på Storgatan i natt. ", 100)
	for i := range 300 {
		n := &store.RemoteNote{IRI: fmt.Sprintf("https://x.example/n/%d", i), GroupID: g.ID, Type: "Note",
			AuthorIRI: "https://x.example/u/1", AuthorHost: "x.example", ContentHTML: text, Raw: "{}", State: store.NoteVisible}
		if created, err := s.InsertRemoteNote(ctx, n); err != nil || !created || n.ID == 0 {
			t.Fatalf("insert %d: created %v id %d err %v", i, created, n.ID, err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for fileSize(t, path) < before+300*int64(len(text)) {
		if time.Now().After(deadline) {
			t.Fatalf("database file %d bytes (was %d): the WAL was not checkpointed", fileSize(t, path), before)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// BenchmarkInsertNote stores remote notes one per transaction (as the
// inbox did) and sixteen per transaction.
func BenchmarkInsertNote(b *testing.B) {
	for _, per := range []int{1, 16} {
		b.Run(fmt.Sprintf("per_tx=%d", per), func(b *testing.B) {
			s := storetest.Open(b)
			ctx := context.Background()
			g := newGroup(b, s, "a")
			content := "<p>" + strings.Repeat("Snöröjning på Storgatan i natt. ", 10) + "</p>"
			b.ResetTimer()
			for i := 0; i < b.N; i += per {
				err := s.Tx(ctx, func(tx *store.Store) error {
					for j := i; j < min(i+per, b.N); j++ {
						n := &store.RemoteNote{IRI: fmt.Sprintf("https://x.example/n/%d", j), GroupID: g.ID, Type: "Note",
							AuthorIRI: fmt.Sprintf("https://x.example/u/%d", j%8), AuthorHost: "x.example",
							InReplyTo: "https://t.example/p/1", RootIRI: "https://t.example/p/1", Depth: 1,
							ContentHTML: content, Raw: `{"content":"` + content + `"}`, State: store.NoteVisible}
						if _, err := tx.InsertRemoteNote(ctx, n); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
