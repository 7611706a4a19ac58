package app_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/torget/torget/internal/auth"
	"github.com/torget/torget/internal/config"
	"github.com/torget/torget/internal/fedtest"
	"github.com/torget/torget/internal/store"
)

// zoneAt names a fixed time zone in which it is now hour:MM: the test
// clock stays in step with the fake servers' (signatures carry the time),
// the instance's time zone moves instead.
func zoneAt(hour int) func(*config.Config) {
	off := (hour - time.Now().UTC().Hour() + 24) % 24 // hours east of UTC
	name := fmt.Sprintf("Etc/GMT-%d", off)            // POSIX sign: GMT-3 is UTC+3
	if off > 14 {
		name = fmt.Sprintf("Etc/GMT+%d", 24-off)
	}
	return func(c *config.Config) { c.Instance.TimeZone = name }
}

// SVC-2: with the auto-reply on, a direct message at 22:00 (outside the
// staffed hours) gets one reply per conversation, in the case's language,
// with the hours, the response time and the other channels; at 10:00 none.
func TestAutoReplyOutsideHours(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t, zoneAt(22))
	g := tg.group(t, "senior", false)
	tg.user(t, "admin", auth.RoleAdmin)
	ab := newBrowser(t, tg)
	ab.login("admin", testPassword)
	form := url.Values{"staffed_hours": {"Vardagar 8–20"}, "response_time": {"en arbetsdag"},
		"channels": {"Telefon: 08-123 456\nE-post: senior@stad.example"}, "open_hours": {"mån-fre 08-20"}, "auto_reply": {"1"}}
	if resp, _ := ab.form("/staff/dashboard", "/staff/groups/senior/contact", form); resp.StatusCode != 422 {
		t.Fatalf("unreadable hours: %d", resp.StatusCode)
	}
	form.Set("open_hours", "mon-sun 08:00-20:00")
	resp, body := ab.form("/staff/dashboard", "/staff/groups/senior/contact", form)
	expectNotice(t, "contact", resp, body, "/staff/dashboard")
	if gc, err := tg.Store.GroupContactFor(ctx, g.ID); err != nil || !gc.AutoReply || gc.OpenHours != "mon-sun 08:00-20:00" {
		t.Fatalf("contact %+v %v", gc, err)
	}

	m := fedtest.NewServer(t, fedtest.Options{Users: []string{"liisa"}, RootCAs: tg.Pool})
	groupIRI := tg.Base + "/groups/senior"
	handle := "senior@" + tg.Domain
	dm := func(in *instance, n int, conv, text string) string {
		t.Helper()
		act, id := residentNote(t, m, "liisa", groupIRI, handle, text, true, n)
		obj := act["object"].(map[string]any)
		obj["contentMap"] = map[string]any{"fi": obj["content"]}
		obj["conversation"] = "tag:" + m.Host + ",2026:objectId=" + conv + ":objectType=Conversation"
		sendNote(t, m, "liisa", groupIRI+"/inbox", act)
		waitUntil(t, 10*time.Second, "case for "+id, func() bool {
			for _, c := range casesOf(t, in, store.CaseFilter{GroupIDs: []int64{g.ID}}) {
				if c.SourceIRI == id {
					return true
				}
			}
			return false
		})
		// The case is created before the auto-reply is claimed, in the same
		// application of the activity: wait until it is applied in full.
		actID, _ := act["id"].(string)
		waitUntil(t, 10*time.Second, "activity "+actID+" applied", func() bool {
			it, err := in.Store.InboxItemByIRI(ctx, actID)
			return err == nil && it.Status != store.InboxPending
		})
		return id
	}
	// The auto-reply is claimed and queued while the message is applied:
	// once the activity is applied, whether there is one is settled.
	replies := func(in *instance, id string) int {
		t.Helper()
		for _, c := range casesOf(t, in, store.CaseFilter{GroupIDs: []int64{g.ID}}) {
			if c.SourceIRI == id {
				ok, err := in.Store.AutoReplied(ctx, c.ID)
				if err != nil {
					t.Fatal(err)
				}
				n := m.Count(func(d fedtest.Delivery) bool { o := objectOf(d); return o != nil && o["inReplyTo"] == id })
				if ok && n == 0 {
					m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { o := objectOf(d); return o != nil && o["inReplyTo"] == id })
					n = 1
				}
				return n
			}
		}
		t.Fatalf("no case for %s", id)
		return 0
	}
	first := dm(tg, 1, "c1", "Haluaisin varata ajan jalkahoitoon")
	d := m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool {
		o := objectOf(d)
		return d.Type == "Create" && o != nil && o["inReplyTo"] == first
	})
	o := objectOf(d)
	content, _ := o["content"].(string)
	for _, want := range []string{"Kiitos viestistäsi ryhmälle Grupp senior", "Palveluajat: Vardagar 8–20", "Vastaamme: en arbetsdag", "Telefon: 08-123 456", "senior@stad.example"} {
		if !strings.Contains(content, want) {
			t.Errorf("auto-reply lacks %q: %s", want, content)
		}
	}
	if cm, _ := o["contentMap"].(map[string]any); cm["fi"] == nil || d.Path != "/users/liisa/inbox" || !d.Verified {
		t.Errorf("auto-reply not in Finnish, or not a verified delivery to liisa: %s", d.Body)
	}
	// The same conversation again: no second auto-reply. Another one: one.
	again := dm(tg, 2, "c1", "Vielä yksi kysymys")
	if n := replies(tg, first); n != 1 {
		t.Errorf("first message: %d auto-replies", n)
	}
	if n := replies(tg, again); n != 0 {
		t.Errorf("second auto-reply in one conversation (%d)", n)
	}
	other := dm(tg, 3, "c2", "Uusi asia")
	if n := replies(tg, other); n != 1 {
		t.Errorf("new conversation: %d auto-replies, want 1", n)
	}

	// At 10:00, within the hours: none.
	day := tg.restart(t, zoneAt(10))
	morning := dm(day, 4, "c3", "Huomenta, kysymys")
	if n := replies(day, morning); n != 0 {
		t.Errorf("auto-reply within the staffed hours")
	}
}
