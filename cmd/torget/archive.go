package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/torget/torget/internal/app"
	"github.com/torget/torget/internal/archive"
	"github.com/torget/torget/internal/gallring"
	"github.com/torget/torget/internal/privacy"
	"github.com/torget/torget/internal/store"
)

// archive: torget archive export|verify|gallra|hold|release.
func (e *cmdEnv) archive(args []string) error {
	if len(args) == 0 {
		return errUsage
	}
	fs := flag.NewFlagSet("archive "+args[0], flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file")
	from := fs.String("from", "", "first day (YYYY-MM-DD, UTC) or RFC 3339 time")
	to := fs.String("to", "", "last day, inclusive (YYYY-MM-DD, UTC) or RFC 3339 time (exclusive)")
	group := fs.String("group", "", "group slug (default: every group)")
	out := fs.String("out", "", "folder in which the package folder is written")
	decision := fs.String("decision", "", "gallring decision id")
	dryRun := fs.Bool("dry-run", false, "report what would be removed")
	object := fs.String("object", "", "object IRI to hold")
	reason := fs.String("reason", "", "why: the request or appeal the hold is for")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if args[0] == "verify" && len(pos) == 1 && *cfgPath == "" && *from == "" {
		// verify PKG checks a package folder and needs no database.
		if err := archive.Check(pos[0]); err != nil {
			return fmt.Errorf("package %s fails: %w", pos[0], err)
		}
		fmt.Fprintf(e.stdout, "package %s: structure and every SHA-256 checksum OK\n", pos[0])
		return nil
	}
	a, err := e.open(*cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	switch args[0] {
	case "export":
		f, t, err := period(*from, *to)
		if err != nil {
			return err
		}
		if *out == "" {
			return errors.New("usage: torget archive export --from DATE --to DATE [--group SLUG] --out DIR")
		}
		opt := a.ExportOptions()
		opt.From, opt.To, opt.GroupSlug, opt.Out, opt.Actor = f, t, *group, *out, "cli:"+cliUser
		if opt.Rules, err = app.RulesInForce(e.ctx, a.Store); err != nil {
			return err
		}
		res, err := archive.Export(e.ctx, a.Store, opt)
		if err != nil {
			return err
		}
		if err := e.audit(a, "archive_export", res.PackageID, fmt.Sprintf("group %q %s..%s sha256 %s", *group,
			f.Format(time.RFC3339), t.Format(time.RFC3339), res.SHA256)); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s\n  package %s, %d record entries, %d files\n  METS.xml sha256 %s\n", res.Dir, res.PackageID, res.Entries, res.Files, res.SHA256)
	case "verify":
		r, err := a.Store.VerifyChain(e.ctx)
		if err != nil {
			return err
		}
		if !r.OK {
			return fmt.Errorf("record chain broken at entry %d: %s (%d entries checked)", r.BrokenSeq, r.Problem, r.Entries)
		}
		fmt.Fprintf(e.stdout, "record chain OK: %d entries, %d removed by logged gallring\n", r.Entries, r.GallraSkips)
	case "gallra":
		res, err := gallring.Run(e.ctx, a.Store, a.Config.Retention, *decision, "cli:"+cliUser, a.Store.Now(), *dryRun, a.Log)
		if err != nil {
			return err
		}
		for _, s := range res.Skipped {
			fmt.Fprintf(e.stdout, "skipped: legal hold\t%d\t%s\t%s\n", s.Seq, s.Category, s.Hash)
		}
		for _, d := range res.Deleted {
			fmt.Fprintf(e.stdout, "removed\t%d\t%s\t%s\n", d.Seq, d.Category, d.Hash)
		}
		verb := "removed"
		if *dryRun {
			verb = "would remove (dry run)"
		}
		fmt.Fprintf(e.stdout, "decision %s: %s %d entries, skipped %d on legal hold\n", *decision, verb, len(res.Deleted), len(res.Skipped))
		if !*dryRun {
			// Technical logs and operational rows follow their own
			// configured periods ([privacy]); the run is recorded.
			c, err := privacy.Sweep(e.ctx, a.Store, app.SweepConfig(a.Config), "cli:"+cliUser, a.Store.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "privacy sweep: %d technical-log rows blanked, %d inbox payloads blanked, %d deliveries removed\n",
				c.Sessions+c.LoginAttempts+c.AuditEntries, c.InboxPayloads, c.Deliveries)
		}
	case "hold":
		if *reason == "" || (len(pos) == 0) == (*object == "") {
			return errors.New("usage: torget archive hold ENTRY… --reason \"…\" | torget archive hold --object IRI --reason \"…\"")
		}
		holds := []*store.RecordHold{}
		if *object != "" {
			holds = append(holds, &store.RecordHold{ObjectIRI: *object})
		}
		for _, p := range pos {
			seq, err := strconv.ParseInt(p, 10, 64)
			if err != nil {
				return fmt.Errorf("entry %q: want a record sequence number", p)
			}
			holds = append(holds, &store.RecordHold{EntrySeq: &seq})
		}
		for _, h := range holds {
			h.Reason, h.CreatedBy = *reason, "cli:"+cliUser
			if err := a.Store.AddHold(e.ctx, h); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "hold %d placed\n", h.ID)
		}
	case "release":
		if len(pos) == 0 {
			return errors.New("usage: torget archive release HOLD_ID…")
		}
		for _, p := range pos {
			id, err := strconv.ParseInt(p, 10, 64)
			if err != nil {
				return fmt.Errorf("hold %q: want a hold id", p)
			}
			if err := a.Store.ReleaseHold(e.ctx, id, "cli:"+cliUser); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "hold %d released\n", id)
		}
	case "holds":
		hs, err := a.Store.ActiveHolds(e.ctx)
		if err != nil {
			return err
		}
		for _, h := range hs {
			target := h.ObjectIRI
			if h.EntrySeq != nil {
				target = "entry " + strconv.FormatInt(*h.EntrySeq, 10)
			}
			fmt.Fprintf(e.stdout, "%d\t%s\t%s\t%s\n", h.ID, h.CreatedAt.UTC().Format(time.RFC3339), target, h.Reason)
		}
	default:
		return errUsage
	}
	return nil
}

// period parses --from and --to: a date means the whole day (UTC), so
// --to 2026-12-31 includes that day.
func period(from, to string) (time.Time, time.Time, error) {
	f, _, err := parseWhen(from)
	if err != nil {
		return f, f, fmt.Errorf("--from: %w", err)
	}
	t, isDate, err := parseWhen(to)
	if err != nil {
		return f, t, fmt.Errorf("--to: %w", err)
	}
	if isDate {
		t = t.AddDate(0, 0, 1)
	}
	if !f.Before(t) {
		return f, t, errors.New("--from must be before --to")
	}
	return f, t, nil
}

func parseWhen(s string) (time.Time, bool, error) {
	s = strings.TrimSpace(s)
	if d, err := time.Parse("2006-01-02", s); err == nil {
		return d.UTC(), true, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, false, fmt.Errorf("%q is not YYYY-MM-DD or an RFC 3339 time", s)
	}
	return t.UTC(), false, nil
}
