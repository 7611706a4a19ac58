package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/store/storetest"
)

// BenchmarkAppendRecord: one entry per transaction, as a publish makes it.
func BenchmarkAppendRecord(b *testing.B) {
	s := storetest.Open(b)
	ctx := context.Background()
	payload := `{"type":"Create","object":{"type":"Note","content":"<p>Snöröjning på Storgatan i natt.</p>"}}`
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := s.AppendRecord(ctx, &store.RecordEntry{Kind: store.KindPostCreate, Direction: store.DirOut, Payload: payload}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSearchRecord10k searches 10,000 entries (REC-3) by group,
// direction and text and checks the subset it returns.
func BenchmarkSearchRecord10k(b *testing.B) {
	s := storetest.Open(b)
	ctx := context.Background()
	g := newGroup(b, s, "a")
	if err := s.Tx(ctx, func(tx *store.Store) error {
		for i := 0; i < 10000; i++ {
			dir, text := store.DirOut, "vanlig text"
			if i%4 == 0 {
				dir = store.DirIn
			}
			if i%100 == 0 {
				text = "Snöröjning på Storgatan"
			}
			if err := tx.AppendRecord(ctx, &store.RecordEntry{Kind: store.KindInbound, Direction: dir, GroupID: &g.ID,
				Payload: fmt.Sprintf(`{"n":%d,"content":%q}`, i, text)}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		es, err := s.SearchRecord(ctx, store.RecordQuery{GroupID: g.ID, Direction: store.DirIn, Text: "snöröjning", Limit: 1000})
		if err != nil {
			b.Fatal(err)
		}
		if len(es) != 100 { // i%100 == 0 are all i%4 == 0
			b.Fatalf("%d hits, want 100", len(es))
		}
	}
}
