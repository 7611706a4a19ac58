package app_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/fedtest"
)

// TestNonPublicActivityOnlyToAddressee: the Accept sent to a follower is
// addressed to that follower alone. /activities/ serves it only to a
// signed GET by the addressee; to an anonymous reader or another actor it
// does not exist. A public Create stays readable by anyone.
func TestNonPublicActivityOnlyToAddressee(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	peer := fedtest.NewServer(t, fedtest.Options{Users: []string{"anna", "bertil"}, RootCAs: tg.Pool})
	tg.group(t, "tillgang", false)
	groupID := tg.Base + "/groups/tillgang"
	follow(t, tg, peer, "anna", groupID)
	acc := peer.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Accept" })
	accID, _ := acc.Activity["id"].(string)
	if accID == "" {
		t.Fatal("Accept without id")
	}

	anon := func(u string) int {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		req.Header.Set("Accept", "application/activity+json")
		res, err := tg.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := anon(accID); code != http.StatusNotFound {
		t.Fatalf("anonymous GET of the Accept: %d, want 404", code)
	}
	if code, _, body, err := peer.SignedGet(ctx, "bertil", accID); err != nil || code != http.StatusNotFound {
		t.Fatalf("GET by another actor: %d %s %v, want 404", code, body, err)
	}
	code, _, body, err := peer.SignedGet(ctx, "anna", accID)
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET by the addressee: %d %s %v, want 200", code, body, err)
	}

	_, _, err = tg.Fed.Publish(ctx, "tillgang", federation.PostInput{Text: "Öppet för alla"})
	if err != nil {
		t.Fatal(err)
	}
	cr := peer.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Create" })
	crID, _ := cr.Activity["id"].(string)
	if code := anon(crID); code != http.StatusOK {
		t.Fatalf("anonymous GET of a public Create: %d, want 200", code)
	}
}
