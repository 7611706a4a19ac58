package app

import (
	"context"
	"errors"

	"github.com/torget/torget/internal/archive"
	"github.com/torget/torget/internal/config"
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
