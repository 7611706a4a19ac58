package gallring_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/torget/torget/internal/config"
	"github.com/torget/torget/internal/gallring"
	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/store/storetest"
)

// REC-7: "likes: 1 year, beslut SSA-2026:12" — after the clock passes a
// year, gallring removes likes only, skips what is on legal hold (REC-6),
// and logs the decision id and the hashes it removed.
func TestGallringRemovesOnlyWhatItsDecisionCovers(t *testing.T) {
	clock := time.Date(2026, 1, 15, 9, 0, 0, 0, time.UTC)
	st, err := store.Open(storetest.URL(t), store.Options{Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	add := func(cat, obj string) store.RecordEntry {
		e := store.RecordEntry{Kind: store.KindInbound, Category: cat, Direction: store.DirIn, Actor: "https://remote.test/users/a",
			ObjectIRI: obj, Payload: `{"type":"Like"}`}
		if err := st.AppendRecord(ctx, &e); err != nil {
			t.Fatal(err)
		}
		return e
	}
	like1 := add("inbound.like", "https://torget.test/p/1")
	like2 := add("inbound.like", "https://torget.test/p/2")
	follow := add("inbound.follow", "https://torget.test/groups/g")
	reply := add("inbound.create", "https://remote.test/notes/1")
	if err := st.AddHold(ctx, &store.RecordHold{ObjectIRI: "https://torget.test/p/2", Reason: "begäran 2026-4"}); err != nil {
		t.Fatal(err)
	}
	rules := []config.RetentionRule{
		{Category: "inbound.like", Period: "1y", Decision: "SSA-2026:12"},
		{Category: "inbound.follow", Period: "1y", Decision: "SSA-2026:13"},
	}
	var logBuf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, nil))

	if _, err := gallring.Run(ctx, st, rules, "", "cli:test", st.Now(), false, log); !errors.Is(err, gallring.ErrNoDecision) {
		t.Fatalf("run without a decision: %v", err)
	}
	if _, err := gallring.Run(ctx, st, rules, "SSA-1999:1", "cli:test", st.Now(), false, log); err == nil {
		t.Fatal("a run citing a decision no rule names was accepted")
	}
	// Not a year yet: nothing goes.
	clock = clock.AddDate(0, 11, 0)
	res, err := gallring.Run(ctx, st, rules, "SSA-2026:12", "cli:test", st.Now(), false, log)
	if err != nil || len(res.Deleted) != 0 {
		t.Fatalf("before the period: %+v, %v", res, err)
	}
	clock = clock.AddDate(0, 2, 0)
	res, err = gallring.Run(ctx, st, rules, "SSA-2026:12", "cli:test", st.Now(), false, log)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Deleted) != 1 || res.Deleted[0].Seq != like1.Seq || len(res.Skipped) != 1 || res.Skipped[0].Seq != like2.Seq {
		t.Fatalf("run: deleted %+v skipped %+v; want like %d removed and like %d skipped", res.Deleted, res.Skipped, like1.Seq, like2.Seq)
	}
	for _, e := range []store.RecordEntry{like2, follow, reply} {
		if _, err := st.RecordEntry(ctx, e.Seq); err != nil {
			t.Fatalf("entry %d (%s) is gone: %v", e.Seq, e.Category, err)
		}
	}
	out := logBuf.String()
	for _, want := range []string{"skipped: legal hold", like1.EntryHash, "SSA-2026:12"} {
		if !strings.Contains(out, want) {
			t.Fatalf("log lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(res.Log.Payload, like1.EntryHash) || !strings.Contains(res.Log.Payload, `"decision":"SSA-2026:12"`) {
		t.Fatalf("record log entry: %s", res.Log.Payload)
	}
	if r, err := st.VerifyChain(ctx); err != nil || !r.OK {
		t.Fatalf("chain after gallring: %+v %v", r, err)
	}
}
