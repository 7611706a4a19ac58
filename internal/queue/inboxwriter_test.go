package queue

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/store/storetest"
)

// Concurrent writers are batched, each learns whether its row was new, and
// after the writer stops, writes still go through (directly).
func TestInboxWriterGroupCommit(t *testing.T) {
	st := storetest.Open(t)
	w := NewInboxWriter(st)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()

	const n = 300
	var mu sync.Mutex
	newRows := 0
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			iri := fmt.Sprintf("https://remote.example/activities/%d", i%200) // 100 repeats
			ok, err := w.Write(context.Background(), &store.InboxItem{ActivityIRI: &iri, ActorIRI: "https://remote.example/u", Type: "Like", Raw: "{}"})
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				newRows++
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	if newRows != 200 {
		t.Fatalf("%d writes reported new, want 200 (100 were repeats)", newRows)
	}
	c, err := st.InboxCounts(context.Background())
	if err != nil || c[store.InboxPending] != 200 {
		t.Fatalf("stored %v, %v; want 200 pending", c, err)
	}
	cancel()
	<-done
	iri := "https://remote.example/activities/after-stop"
	if ok, err := w.Write(context.Background(), &store.InboxItem{ActivityIRI: &iri, ActorIRI: "https://remote.example/u", Type: "Like", Raw: "{}"}); !ok || err != nil {
		t.Fatalf("write after stop: %v %v", ok, err)
	}
}
