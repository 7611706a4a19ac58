package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/torget/torget/internal/archive"
	"github.com/torget/torget/internal/config"
	"github.com/torget/torget/internal/snapshot"
	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/web"
)

// ArchiveOptions is the part of an archive export that comes from the
// configuration: the software version and the agents (FGS Paketstruktur
// 2.0), with the instance's organisation and domain as fallbacks.
func ArchiveOptions(cfg config.Config) archive.Options {
	a := cfg.Archive
	org := cfg.Instance.Organisation
	if org == "" {
		org = cfg.Instance.Name
	}
	fallbackID := "domain:" + cfg.Server.Domain
	opt := archive.Options{Software: Version, SubmissionAgreement: a.SubmissionAgreement,
		ArchivalCreator: archive.Agent{Name: a.ArchivalCreator, ID: a.ArchivalCreatorID},
		Submitter:       archive.Agent{Name: a.Submitter, ID: a.SubmitterID}}
	for _, ag := range []*archive.Agent{&opt.ArchivalCreator, &opt.Submitter} {
		if ag.Name == "" {
			ag.Name = org
		}
		if ag.ID == "" {
			ag.ID = fallbackID
		}
	}
	return opt
}

// ExportOptions are ArchiveOptions with the overview snapshot (REC-9): a
// WARC of each group's public pages, fetched through a.HTTP.
func (a *App) ExportOptions() archive.Options {
	opt := ArchiveOptions(a.Config)
	opt.Snapshot = a.Snapshot
	return opt
}

// Snapshot writes a WARC of g's public pages as they are now, following
// the group pages back through the posts published in [from, to).
func (a *App) Snapshot(ctx context.Context, g store.Group, from, to, now time.Time, w io.Writer) error {
	if a.HTTP == nil {
		return errors.New("snapshot: no HTTP handler")
	}
	c := snapshot.Capturer{Handler: a.HTTP, Base: a.Config.Server.BaseURL, Store: a.Store, Software: "torget/" + Version}
	_, err := c.Group(ctx, g, from, to, now, w)
	return err
}

// ScheduledActor is the record actor of scheduled exports.
const ScheduledActor = "scheduler:archive-yearly"

// ScheduledExport makes the package of a scheduled run in archive.dir:
// written under archive.dir/.incomplete/ and moved to
// archive.dir/<package id> when complete and checked, so that archive.dir
// holds only whole packages. The export is recorded (archive.export, with
// the package id and the SHA-256 of its METS.xml) by archive.Export.
func (a *App) ScheduledExport(ctx context.Context, r *store.ArchiveRun) (*store.ArchiveExport, string, error) {
	g, err := a.Store.GroupByID(ctx, r.GroupID)
	if err != nil {
		return nil, "", err
	}
	dir := a.Config.Archive.Dir
	work := filepath.Join(dir, ".incomplete", fmt.Sprintf("run-%d-%d", r.ID, r.Attempts+1))
	opt := a.ExportOptions()
	opt.From, opt.To, opt.GroupSlug, opt.Out, opt.Actor = r.PeriodFrom, r.PeriodTo, g.Slug, work, ScheduledActor
	if opt.Rules, err = RulesInForce(ctx, a.Store); err != nil {
		return nil, "", err
	}
	res, err := archive.Export(ctx, a.Store, opt)
	if err != nil {
		return nil, "", err
	}
	final := filepath.Join(dir, res.PackageID)
	if err := os.Rename(res.Dir, final); err != nil {
		return nil, "", fmt.Errorf("move package %s into archive.dir: %w", res.PackageID, err)
	}
	return &store.ArchiveExport{ID: res.ExportID, PackageID: res.PackageID, SHA256: res.SHA256}, final, nil
}

// RulesInForce is the Markdown of the instance's rules page ("" when the
// built-in default is in force).
func RulesInForce(ctx context.Context, st *store.Store) (string, error) {
	key, _ := web.AboutSettingKey("rules")
	src, err := st.Setting(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	return src, err
}
