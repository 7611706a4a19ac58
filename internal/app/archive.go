package app

import (
	"context"
	"errors"
	"io"
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
