package main

import (
	"encoding/json"
	"flag"
	"fmt"

	"github.com/torget/torget/internal/subject"
)

// privacy answers data-subject requests:
//
//	torget privacy export @user@host|ACTOR_IRI   (JSON on standard output)
func (e *cmdEnv) privacy(args []string) error {
	fs := flag.NewFlagSet("privacy", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || pos[0] != "export" {
		return fmt.Errorf("usage: torget privacy export @user@host|ACTOR_IRI")
	}
	a, err := e.open(*cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	iri, err := subject.Resolve(e.ctx, a.Store, pos[1])
	if err != nil {
		return err
	}
	x, err := subject.Build(e.ctx, a.Store, iri, a.Config.Privacy.Controller)
	if err != nil {
		return err
	}
	if err := e.audit(a, "subject_export", iri, "data-subject access export from the command line"); err != nil {
		return err
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(x)
}
