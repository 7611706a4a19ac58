package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/torget/torget/internal/app"
	"github.com/torget/torget/internal/archive"
	"github.com/torget/torget/internal/auth"
	"github.com/torget/torget/internal/config"
	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/queue"
	"github.com/torget/torget/internal/store"
)

// REC-8 "scheduled yearly; the package ID and checksum are logged": with
// archive.schedule = "yearly", on the configured day of January each group
// gets one package of the previous calendar year in archive.dir, made once
// even with two nodes, recorded with its package id and METS.xml SHA-256
// and shown on the archive page; a failure is shown and retried; a restart
// makes nothing twice.
func TestScheduledYearlyArchiveExport(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tg := startInstance(t, func(c *config.Config) {
		c.Archive.Schedule, c.Archive.Dir, c.Archive.ScheduleDate = "yearly", dir, "01-10"
		c.Instance.TimeZone = "Europe/Stockholm"
	})
	if tg.Archiver == nil {
		t.Fatal("no archiver with archive.schedule = yearly")
	}
	tg.user(t, "arkivarie", auth.RoleAdmin)
	for _, slug := range []string{"grupp-a", "grupp-b"} {
		tg.group(t, slug, false)
		if _, _, err := tg.Fed.Publish(ctx, slug, federation.PostInput{Text: "Årets inlägg i " + slug}); err != nil {
			t.Fatal(err)
		}
	}
	sthlm, _ := time.LoadLocation("Europe/Stockholm")
	year := tg.Store.Now().In(sthlm).Year()
	from := time.Date(year, 1, 1, 0, 0, 0, 0, sthlm)
	to := from.AddDate(1, 0, 0)
	setClock := func(at time.Time) {
		tg.Clock.Advance(time.Until(at) - tg.Clock.off)
	}
	loc := sthlm
	second := queue.NewArchiver(tg.Store, tg.ScheduledExport, testLogger(), loc, time.January, 10, time.Hour, time.Hour) // another node
	runOnce := func(a *queue.Archiver) int {
		n, err := a.RunOnce(ctx, ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	// 9 January: not yet.
	setClock(time.Date(year+1, 1, 9, 23, 0, 0, 0, sthlm))
	if n := runOnce(tg.Archiver); n != 0 {
		t.Fatalf("%d exports before the day", n)
	}
	if rs, _ := tg.Store.ArchiveRuns(ctx, 10); len(rs) != 0 {
		t.Fatalf("runs before the day: %+v", rs)
	}

	// 10 January, but the archive folder cannot be written: failed, shown, kept.
	setClock(time.Date(year+1, 1, 10, 0, 30, 0, 0, sthlm))
	block := filepath.Join(dir, ".incomplete")
	if err := os.WriteFile(block, []byte("not a folder"), 0o600); err != nil {
		t.Fatal(err)
	}
	if n := runOnce(tg.Archiver); n != 0 {
		t.Fatalf("%d exports into an unwritable folder", n)
	}
	rs, err := tg.Store.ArchiveRuns(ctx, 10)
	if err != nil || len(rs) != 2 {
		t.Fatalf("runs = %+v, %v", rs, err)
	}
	for _, r := range rs {
		if r.State != store.ArchiveRunPending || r.Attempts != 1 || r.LastError == "" || !r.NextAt.After(tg.Store.Now()) ||
			!r.PeriodFrom.Equal(from) || !r.PeriodTo.Equal(to) {
			t.Fatalf("failed run = %+v", r)
		}
	}
	b := newBrowser(t, tg)
	b.login("arkivarie", testPassword)
	if _, body := b.get("/staff/record"); !strings.Contains(body, "Misslyckades, försök 1") || !strings.Contains(body, "Schemalagda årsexporter") {
		t.Fatalf("the archive page does not show the failure:\n%s", body)
	}
	if n := runOnce(tg.Archiver); n != 0 {
		t.Fatal("retried before its time")
	}

	// The folder is fixed; a day later two nodes race: one package per group.
	if err := os.Rename(block, filepath.Join(t.TempDir(), "moved")); err != nil {
		t.Fatal(err)
	}
	setClock(time.Date(year+1, 1, 11, 1, 0, 0, 0, sthlm))
	var wg sync.WaitGroup
	made, errs := make([]int, 2), make([]error, 2)
	for i, a := range []*queue.Archiver{tg.Archiver, second} {
		wg.Add(1)
		go func() { defer wg.Done(); made[i], errs[i] = a.RunOnce(ctx, ctx) }()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil {
		t.Fatal(errs)
	}
	if made[0]+made[1] != 2 {
		t.Fatalf("exports made by the two nodes: %v, want 2 in all", made)
	}
	rs, _ = tg.Store.ArchiveRuns(ctx, 10)
	b = newBrowser(t, tg) // the session from a day ago has expired
	b.login("arkivarie", testPassword)
	for _, r := range rs {
		if r.State != store.ArchiveRunDone || r.PackageID == "" || r.Path != filepath.Join(dir, r.PackageID) || r.LastError != "" {
			t.Fatalf("run = %+v", r)
		}
		if err := archive.Check(r.Path); err != nil {
			t.Fatal(err)
		}
		mets, err := os.ReadFile(filepath.Join(r.Path, "METS.xml"))
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(mets); hex.EncodeToString(sum[:]) != r.SHA256 {
			t.Fatalf("run sha256 %s is not that of METS.xml", r.SHA256)
		}
		g, _ := tg.Store.GroupByID(ctx, r.GroupID)
		if _, err := os.Stat(filepath.Join(r.Path, "representations", "rep1", "data", "snapshot", g.Slug+".warc.gz")); err != nil {
			t.Fatalf("no snapshot in the scheduled package: %v", err)
		}
		items, _ := os.ReadFile(filepath.Join(r.Path, "representations", "rep1", "data", "items", g.Slug+".json"))
		if !strings.Contains(string(items), "Årets inlägg i "+g.Slug) {
			t.Fatalf("the package of %s lacks the year's post", g.Slug)
		}
		// In the record: package id and checksum, by the scheduler.
		es, err := tg.Store.SearchRecord(ctx, store.RecordQuery{Kind: store.KindArchiveExport, GroupID: g.ID})
		if err != nil || len(es) != 1 || es[0].ObjectIRI != "package:"+r.PackageID || es[0].Actor != app.ScheduledActor ||
			!strings.Contains(es[0].Payload, r.SHA256) {
			t.Fatalf("record of the export: %+v, %v", es, err)
		}
		if _, body := b.get("/staff/record"); !strings.Contains(body, r.PackageID) || !strings.Contains(body, r.SHA256) {
			t.Fatalf("the archive page does not show package %s", r.PackageID)
		}
	}
	entries, _ := os.ReadDir(dir)
	var pkgs []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "uuid-") {
			pkgs = append(pkgs, e.Name())
		}
	}
	if len(pkgs) != 2 {
		t.Fatalf("archive.dir holds %v", pkgs)
	}

	// Nothing twice: not on the next poll, not after a restart, not later in the year.
	if n := runOnce(second); n != 0 {
		t.Fatalf("%d more exports", n)
	}
	tg2 := tg.restart(t, func(c *config.Config) {
		c.Archive.Schedule, c.Archive.Dir, c.Archive.ScheduleDate = "yearly", dir, "01-10"
		c.Instance.TimeZone = "Europe/Stockholm"
	})
	tg.Clock.Advance(30 * 24 * time.Hour)
	if n := runOnce(tg2.Archiver); n != 0 {
		t.Fatalf("%d exports after a restart", n)
	}
	if xs, _ := tg2.Store.ArchiveExports(ctx, 10); len(xs) != 2 {
		t.Fatalf("%d exports in all, want 2", len(xs))
	}
	if _, _, due := tg2.Archiver.Period(time.Date(year+2, 1, 9, 12, 0, 0, 0, sthlm)); due {
		t.Fatal(fmt.Sprint("due before the day in ", year+2))
	}
}
