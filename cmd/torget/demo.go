package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/torget/torget/internal/auth"
	"github.com/torget/torget/internal/cases"
	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/store"
)

// demo runs the server on SQLite with a demo group and a demo admin, and
// prints how to reach them. Running it again reuses the data and prints a
// fresh admin password. The admin is created first: it is the demo
// group's responsible staff member.
func (e *cmdEnv) demo(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	a, err := e.open(*cfgPath)
	if err != nil {
		return err
	}
	cfg := a.Config
	defer a.Close()
	password := auth.RandomPassword(16)
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	u, err := a.Store.UserByName(e.ctx, "admin")
	switch {
	case errors.Is(err, store.ErrNotFound):
		err = a.Store.CreateUser(e.ctx, &store.User{Username: "admin", Role: auth.RoleAdmin, PasswordHash: hash})
	case err == nil:
		err = a.Store.SetPassword(e.ctx, u.ID, hash)
	}
	if err == nil {
		err = e.audit(a, "demo_admin_password", "admin", "demo start: new password for the demo administrator")
	}
	if err != nil {
		return err
	}
	const slug = "hagersten-alvsjo"
	g, err := a.Store.GroupBySlug(e.ctx, slug)
	if errors.Is(err, store.ErrNotFound) {
		g, err = a.Fed.CreateGroup(e.ctx, federation.GroupInput{Slug: slug, Name: "Hägersten-Älvsjö (demo)",
			Purpose: "Information från stadsdelsförvaltningen till invånarna i Hägersten-Älvsjö.",
			Summary: "Demogrupp i torget.", WebsiteURL: "https://start.stockholm/", Language: "sv",
			OwningUnit: "Stadsdelsförvaltning Hägersten-Älvsjö", Responsible: []string{"admin"}})
		if err == nil {
			_, _, err = a.Fed.Publish(e.ctx, slug, federation.PostInput{Text: "Välkommen till **Hägersten-Älvsjö** på torget! #demo"})
		}
		if err == nil {
			// A case to show on /staff/cases: a request from the
			// accessibility feedback form.
			_, err = a.Cases.FromFeedback(e.ctx, cases.Feedback{Kind: "request", Text: "Jag behöver protokollet från senaste mötet som ljudfil (demo).",
				Contact: "invanare@example.org", Page: "/groups/" + slug, Language: "sv"})
		}
	}
	if err != nil {
		return err
	}
	return a.Serve(e.ctx, func(addr string) {
		fmt.Fprintf(e.stdout, `
torget demo is running.
  URL:    %s/
  Group:  @%s@%s  (%s)
  Login:  admin / %s
  Data:   %s
Press Ctrl-C to stop.
`, cfg.Server.BaseURL, g.Slug, cfg.Server.Domain, a.Fed.URIs().Group(g.Slug), password, cfg.Database.URL)
	})
}
