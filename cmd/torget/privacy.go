package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strconv"

	"github.com/torget/torget/internal/app"
	"github.com/torget/torget/internal/privacy"
	"github.com/torget/torget/internal/subject"
)

const privacyUsage = `usage:
  torget privacy export @user@host|ACTOR_IRI
  torget privacy erase list
  torget privacy erase register @user@host|ACTOR_IRI --text "what the person asks" [--contact …]
  torget privacy erase decide ID --action remove|pseudonymise|refuse --ground CODE --reasons "…"
  torget privacy erase answer ID
  torget privacy sweep`

// privacy answers data-subject requests and runs the retention sweep:
//
//	torget privacy export @user@host|ACTOR_IRI   (JSON on standard output)
//	torget privacy erase list|register|decide|answer …
//	torget privacy sweep
func (e *cmdEnv) privacy(args []string) error {
	fs := flag.NewFlagSet("privacy", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file")
	text := fs.String("text", "", "the request as the person made it")
	contact := fs.String("contact", "", "how to reach the person (optional)")
	action := fs.String("action", "", "remove, pseudonymise or refuse")
	ground := fs.String("ground", "", "legal ground code")
	reasons := fs.String("reasons", "", "reasons for the decision")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return errors.New(privacyUsage)
	}
	switch {
	case pos[0] == "export" && len(pos) == 2, pos[0] == "sweep" && len(pos) == 1, pos[0] == "erase" && len(pos) >= 2:
	default:
		return errors.New(privacyUsage)
	}
	a, err := e.open(*cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	switch pos[0] {
	case "export":
		return e.subjectExport(a, pos[1])
	case "sweep":
		c, err := privacy.Sweep(e.ctx, a.Store, app.SweepConfig(a.Config), "cli:"+cliUser, a.Store.Now())
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "blanked IP/user agent: %d sessions, %d sign-in attempts, %d audit entries; blanked %d inbox payloads; removed %d deliveries\n",
			c.Sessions, c.LoginAttempts, c.AuditEntries, c.InboxPayloads, c.Deliveries)
		return nil
	}
	m := privacy.Staff{Name: cliUser}
	switch {
	case pos[1] == "list" && len(pos) == 2:
		rs, err := a.Store.ListErasureRequests(e.ctx)
		if err != nil {
			return err
		}
		for _, r := range rs {
			fmt.Fprintf(e.stdout, "%d\t%s\t%s\t%s\n", r.ID, r.Status, r.CreatedAt.UTC().Format("2006-01-02"), r.Handle)
		}
		return nil
	case pos[1] == "register" && len(pos) == 3:
		r, err := a.Erasure.Register(e.ctx, m, pos[2], *contact, *text)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "erasure request %d registered for %s\n", r.ID, r.Handle)
		return nil
	case (pos[1] == "decide" || pos[1] == "answer") && len(pos) == 3:
		id, err := strconv.ParseInt(pos[2], 10, 64)
		if err != nil {
			return fmt.Errorf("request %q: want a number", pos[2])
		}
		if pos[1] == "answer" {
			r, err := a.Store.ErasureRequestByID(e.ctx, id)
			if err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, r.AnswerText)
			return nil
		}
		r, err := a.Erasure.Decide(e.ctx, m, id, *action, *ground, *reasons)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "erasure request %d: %s (answer %s)\n", r.ID, r.Status, r.AnswerIRI)
		return nil
	}
	return errors.New(privacyUsage)
}

func (e *cmdEnv) subjectExport(a *app.App, who string) error {
	iri, err := subject.Resolve(e.ctx, a.Store, who)
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
