package app_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/torget/torget/internal/app"
	"github.com/torget/torget/internal/archive"
	"github.com/torget/torget/internal/auth"
	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/fedtest"
	"github.com/torget/torget/internal/store"
)

// The life of a group in the record (REC-1, REC-2, REC-8, REC-10, MOD-4,
// ID-5, LIV-3): a post edited twice, a reply received from Mastodon and
// removed by a moderator, the group closed after an archive export. The
// record holds every version and decision with who made it, the chain
// verifies, a modified row is found, and the export passes the package
// check with matching checksums.
func TestRecordOfAGroupsLife(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	g := tg.group(t, "grupp-r", false)
	anna := tg.user(t, "anna", auth.RoleAdmin)
	m := followedBy(t, tg, "grupp-r")
	groupID := tg.Base + "/groups/grupp-r"

	// A post, edited twice, written by staff member anna.
	_, postURL, err := tg.Fed.Publish(ctx, "grupp-r", federation.PostInput{Text: "Version ett", AuthorUserID: &anna.ID})
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"Version två", "Version tre"} {
		if _, err := tg.Fed.Edit(ctx, postURL, federation.PostInput{Text: text, AuthorUserID: &anna.ID}); err != nil {
			t.Fatal(err)
		}
	}
	// A reply from Mastodon (the real payload, moved onto the fake server).
	reply := loadFixture(t, "mastodon/create-note.json")
	replyID := m.ActorID("alice") + "/statuses/107224289116410645"
	reply["id"], reply["actor"] = replyID+"/activity", m.ActorID("alice")
	obj := reply["object"].(map[string]any)
	obj["id"], obj["attributedTo"], obj["inReplyTo"] = replyID, m.ActorID("alice"), postURL
	obj["content"] = "<p>Tack för informationen!</p>"
	delete(reply, "signature")
	if code, body, err := m.Send(ctx, "alice", groupID+"/inbox", reply); err != nil || code != http.StatusAccepted {
		t.Fatalf("reply: %d %s %v", code, body, err)
	}
	var inbound store.RecordEntry
	waitUntil(t, 10*time.Second, "the reply in the record", func() bool {
		es, err := tg.Store.SearchRecord(ctx, store.RecordQuery{Kind: store.KindInbound, Text: "Tack för informationen"})
		if err != nil || len(es) != 1 {
			return false
		}
		inbound = es[0]
		return true
	})
	if inbound.Direction != store.DirIn || !inbound.Verified || inbound.Origin != m.Host || inbound.GroupID == nil || *inbound.GroupID != g.ID ||
		inbound.Category != "inbound.create" || inbound.ObjectIRI != replyID || inbound.Actor != m.ActorID("alice") {
		t.Fatalf("inbound entry = %+v", inbound)
	}
	// A moderator removes the reply. The moderation engine is another
	// package; it records its decision through the same API, in the
	// transaction of the removal.
	decision := `{"decision_id":"MD-1","action":"remove","rule":"R3","reason":"personuppgifter om tredje person","object":"` + replyID + `"}`
	if err := tg.Store.Tx(ctx, func(tx *store.Store) error {
		return tx.AppendRecord(store.WithRecordActor(ctx, store.StaffActor(anna.ID, "anna")), &store.RecordEntry{Kind: store.KindModeration,
			Direction: store.DirInternal, GroupID: &g.ID, Actor: store.StaffActor(anna.ID, "anna"), ObjectIRI: replyID, Payload: decision})
	}); err != nil {
		t.Fatal(err)
	}

	// Closing is refused until an export covers the group's whole life.
	if _, _, err := tg.Fed.CloseGroup(ctx, "grupp-r"); !errors.Is(err, federation.ErrNoArchive) {
		t.Fatalf("close without an export: %v, want ErrNoArchive", err)
	}
	opt := app.ArchiveOptions(tg.Config)
	now := tg.Store.Now()
	opt.From, opt.To, opt.GroupSlug, opt.Out, opt.Actor = now.Add(-time.Hour), now.Add(time.Hour), "grupp-r", t.TempDir(), "user:1:anna"
	// A package that misses the start of the group's life does not count.
	late := opt
	late.From = now.Add(time.Minute)
	if _, err := archive.Export(ctx, tg.Store, late); err != nil {
		t.Fatal(err)
	}
	if _, _, err := tg.Fed.CloseGroup(ctx, "grupp-r"); !errors.Is(err, federation.ErrNoArchive) {
		t.Fatalf("close with an export that misses the start: %v, want ErrNoArchive", err)
	}
	res, err := archive.Export(ctx, tg.Store, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := archive.Check(res.Dir); err != nil {
		t.Fatalf("package check: %v", err)
	}
	closed, x, err := tg.Fed.CloseGroup(ctx, "grupp-r")
	if err != nil {
		t.Fatal(err)
	}
	if x.PackageID != res.PackageID || x.SHA256 != res.SHA256 || closed.ClosedAt == nil {
		t.Fatalf("closed citing %+v, want package %s sha256 %s", x, res.PackageID, res.SHA256)
	}
	upd := m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool {
		o, _ := d.Activity["object"].(map[string]any)
		s, _ := o["summary"].(string)
		return d.Type == "Update" && o["type"] == "Group" && strings.Contains(s, "stängd")
	})
	if !upd.Verified {
		t.Fatalf("the closing Update was not signed as Mastodon expects: %s", upd.VerifyErr)
	}
	if _, body := newBrowser(t, tg).get("/groups/grupp-r"); !strings.Contains(body, "Gruppen är stängd") {
		t.Fatalf("the public page does not say the group is closed:\n%.2000s", body)
	}
	if _, _, err := tg.Fed.Publish(ctx, "grupp-r", federation.PostInput{Text: "Efter stängning"}); err == nil {
		t.Fatal("a closed group took a new post")
	}

	// The record: three versions of the post with their internal author.
	versions, err := tg.Store.SearchRecord(ctx, store.RecordQuery{Kind: "post", GroupID: g.ID})
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for i := len(versions) - 1; i >= 0; i-- {
		e := versions[i]
		if e.ObjectIRI != postURL || e.Direction != store.DirOut || !strings.HasPrefix(e.Actor, "user:"+strconv.FormatInt(anna.ID, 10)) {
			t.Fatalf("post entry %+v", e)
		}
		var a struct {
			Object struct {
				Content string `json:"content"`
			} `json:"object"`
		}
		_ = json.Unmarshal([]byte(e.Payload), &a)
		texts = append(texts, e.Kind+":"+a.Object.Content)
	}
	want := "post.create:<p>Version ett</p> post.update:<p>Version två</p> post.update:<p>Version tre</p>"
	if got := strings.Join(texts, " "); got != want {
		t.Fatalf("versions in the record:\n got %s\nwant %s", got, want)
	}
	// The public JSON of the post does not name its internal author.
	code, _, body, err := m.SignedGet(ctx, "alice", postURL)
	if err != nil || code != 200 || strings.Contains(string(body), "anna") || strings.Contains(string(body), "user:") {
		t.Fatalf("public post JSON: %d %v %s", code, err, body)
	}
	for _, kind := range []string{store.KindModeration, store.KindGroupCreate, store.KindGroupClose, store.KindArchiveExport, store.KindAudit} {
		if es, _ := tg.Store.SearchRecord(ctx, store.RecordQuery{Kind: kind}); len(es) == 0 && kind != store.KindAudit {
			t.Fatalf("no %s entry in the record", kind)
		}
	}
	if es, _ := tg.Store.SearchRecord(ctx, store.RecordQuery{Kind: "inbound", Text: "follow"}); len(es) == 0 {
		t.Fatal("the Follow is not in the record")
	}

	// The chain verifies; a modified row is found at that row.
	r, err := tg.Store.VerifyChain(ctx)
	if err != nil || !r.OK {
		t.Fatalf("verify = %+v, %v", r, err)
	}
	second := versions[1] // "Version två"
	if err := tg.Store.Exec(ctx, "UPDATE record_entries SET payload = REPLACE(payload, 'Version två', 'Version 2') WHERE seq = ?", second.Seq); err != nil {
		t.Fatal(err)
	}
	if r, err := tg.Store.VerifyChain(ctx); err != nil || r.OK || r.BrokenSeq != second.Seq {
		t.Fatalf("verify after tampering = %+v, %v; want broken at %d", r, err, second.Seq)
	}

	// The package holds the versions, the reply and the decision.
	data := filepath.Join(res.Dir, "representations", "rep1", "data")
	items, err := os.ReadFile(filepath.Join(data, "items", "grupp-r.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Version ett", "Version två", "Version tre", "Tack för informationen", `"inReplyTo": "` + postURL} {
		if !strings.Contains(string(items), s) {
			t.Fatalf("items/grupp-r.json lacks %q", s)
		}
	}
	mod, _ := os.ReadFile(filepath.Join(data, "moderation.json"))
	if !strings.Contains(string(mod), "MD-1") || !strings.Contains(string(mod), "personuppgifter") {
		t.Fatalf("moderation.json lacks the decision:\n%s", mod)
	}
	page, _ := os.ReadFile(filepath.Join(data, "html", "group-grupp-r.html"))
	if !strings.Contains(string(page), "Version tre") || !strings.Contains(string(page), "Inkommen") || strings.Contains(string(page), "user:") {
		t.Fatalf("the HTML rendering:\n%s", page)
	}
}

// Administrators search the record and export results and packages from
// /staff/record; editors cannot.
func TestStaffRecordSearchAndExport(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t)
	tg.group(t, "grupp-s", false)
	tg.user(t, "admin", auth.RoleAdmin)
	tg.user(t, "erik", auth.RoleEditor)
	m := followedBy(t, tg, "grupp-s")
	ab := newBrowser(t, tg)
	resp, body := ab.login("admin", testPassword)
	expectRedirect(t, resp, body, "/staff")
	_, postURL, err := tg.Fed.Publish(ctx, "grupp-s", federation.PostInput{Text: "Snöröjningen börjar i natt"})
	if err != nil {
		t.Fatal(err)
	}
	resp, body = ab.get("/staff/record?group=grupp-s&kind=post&q=sn%C3%B6r%C3%B6jningen")
	expectStatus(t, "record search", resp, body, 200)
	checkHeadings(t, "record search", body)
	expectBody(t, "record search", body, "upprättad", "post.create", "Snöröjningen börjar i natt", `<time datetime="`, `<label for="r-from">`)
	resp, body = ab.get("/staff/record?direction=in")
	expectBody(t, "inbound search", body, "inkommen", "inbound.activity", m.ActorID("alice"))
	if strings.Contains(body, "post.create") {
		t.Fatal("direction=in lists a sent post")
	}
	resp, body = ab.get("/staff/record?from=2001-13-01")
	expectStatus(t, "bad date", resp, body, http.StatusBadRequest)
	expectBody(t, "bad date", body, `role="alert"`)

	resp, body = ab.get("/staff/record.json?kind=post")
	expectStatus(t, "JSON export", resp, body, 200)
	var out struct {
		Count   int `json:"count"`
		Entries []struct {
			ObjectIRI string          `json:"ObjectIRI"`
			Payload   json.RawMessage `json:"Payload"`
		} `json:"entries"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil || out.Count != 1 || out.Entries[0].ObjectIRI != postURL ||
		!bytes.Contains(out.Entries[0].Payload, []byte(`"type": "Create"`)) {
		t.Fatalf("JSON export: %v %+v\n%.500s", err, out, body)
	}

	// The archive button sends a zip with one root folder that checks out.
	today := tg.Store.Now().Format("2006-01-02")
	resp, body = ab.form("/staff/record", "/staff/record/archive", url.Values{"from": {today}, "to": {today}, "group": {"grupp-s"}})
	expectStatus(t, "archive export", resp, body, 200)
	if resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("archive export content type %q", resp.Header.Get("Content-Type"))
	}
	zr, err := zip.NewReader(strings.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	roots := map[string]bool{}
	for _, f := range zr.File {
		roots[strings.SplitN(f.Name, "/", 2)[0]] = true
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		rc, _ := f.Open()
		var b bytes.Buffer
		_, _ = b.ReadFrom(rc)
		rc.Close()
		if err := os.WriteFile(p, b.Bytes(), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	if len(roots) != 1 {
		t.Fatalf("zip has %d top-level entries, want 1", len(roots))
	}
	for root := range roots {
		if err := archive.Check(filepath.Join(dir, root)); err != nil {
			t.Fatalf("downloaded package: %v", err)
		}
	}
	if xs, _ := tg.Store.ArchiveExports(ctx, 5); len(xs) != 1 {
		t.Fatalf("%d exports registered, want 1", len(xs))
	}

	eb := newBrowser(t, tg)
	resp, body = eb.login("erik", testPassword)
	expectRedirect(t, resp, body, "/staff")
	for _, p := range []string{"/staff/record", "/staff/record.json"} {
		resp, body = eb.get(p)
		expectStatus(t, "editor "+p, resp, body, http.StatusForbidden)
	}
}
