package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/torget/torget/internal/app"
	"github.com/torget/torget/internal/auth"
	"github.com/torget/torget/internal/config"
	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/store"
)

func version() string { return app.Version }

type cmdEnv struct {
	ctx            context.Context
	stdin          io.Reader
	stdout, stderr io.Writer
}

func (e *cmdEnv) load(path string) (config.Config, *slog.Logger, error) {
	cfg, err := config.Load(path, os.Environ())
	if err != nil {
		return cfg, nil, err
	}
	return cfg, app.NewLogger(cfg.Log), nil
}

// open loads the configuration and builds the app without serving.
func (e *cmdEnv) open(path string) (*app.App, error) {
	cfg, log, err := e.load(path)
	if err != nil {
		return nil, err
	}
	return app.New(e.ctx, cfg, log, app.Options{})
}

func (e *cmdEnv) serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	a, err := e.open(*cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.Serve(e.ctx, nil)
}

func (e *cmdEnv) migrate(args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	cfg, log, err := e.load(*cfgPath)
	if err != nil {
		return err
	}
	st, err := store.Open(cfg.Database.URL, store.Options{Logger: log})
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(e.ctx); err != nil {
		return err
	}
	v, err := st.SchemaVersion(e.ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "database schema at version %d\n", v)
	return nil
}

func (e *cmdEnv) admin(args []string) error {
	if len(args) == 0 {
		return errUsage
	}
	switch args[0] {
	case "create-user":
		return e.createUser(args[1:])
	case "reset-password":
		return e.resetPassword(args[1:])
	case "require-totp":
		return e.requireTOTP(args[1:])
	case "set-email":
		return e.setEmail(args[1:])
	case "disable-user", "enable-user":
		return e.setDisabled(args[1:], args[0] == "disable-user")
	}
	return errUsage
}

// cliUser is the audit log's name for changes made from the command line.
const cliUser = "cli"

// audit records a change made from the command line.
func (e *cmdEnv) audit(a *app.App, action, target, detail string) error {
	return a.Store.AppendAudit(e.ctx, &store.AuditEntry{Username: cliUser, Action: action, Target: target,
		UserAgent: "torget " + version() + " (command line)", Detail: detail})
}

// readPassword reads one line from standard input.
func (e *cmdEnv) readPassword() (string, error) {
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func (e *cmdEnv) createUser(args []string) error {
	fs := flag.NewFlagSet("admin create-user", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file")
	role := fs.String("role", "", "admin, moderator or editor")
	stdinPw := fs.Bool("password-stdin", false, "read the password from standard input")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || !auth.ValidRole(*role) || !*stdinPw {
		return fmt.Errorf("usage: torget admin create-user NAME --role admin|moderator|editor --password-stdin")
	}
	hash, a, err := e.passwordAndApp(*cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Store.CreateUser(e.ctx, &store.User{Username: pos[0], Role: *role, PasswordHash: hash}); err != nil {
		return err
	}
	if err := e.audit(a, "user_create", pos[0], "role "+*role); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "created %s %s\n", *role, pos[0])
	return nil
}

// passwordAndApp reads a password from standard input, hashes it (before
// anything is opened, so a weak password fails fast) and opens the app.
func (e *cmdEnv) passwordAndApp(cfgPath string) (string, *app.App, error) {
	pw, err := e.readPassword()
	if err != nil {
		return "", nil, err
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return "", nil, err
	}
	a, err := e.open(cfgPath)
	if err != nil {
		return "", nil, err
	}
	return hash, a, nil
}

// resetPassword sets a new password, which the user must change at the
// next sign-in, and ends the user's sessions.
func (e *cmdEnv) resetPassword(args []string) error {
	fs := flag.NewFlagSet("admin reset-password", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file")
	stdinPw := fs.Bool("password-stdin", false, "read the password from standard input")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || !*stdinPw {
		return fmt.Errorf("usage: torget admin reset-password NAME --password-stdin")
	}
	hash, a, err := e.passwordAndApp(*cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Store.UserByName(e.ctx, pos[0])
	if err != nil {
		return err
	}
	ended, err := a.Store.ResetPassword(e.ctx, u.ID, hash, true)
	if err != nil {
		return err
	}
	if err := e.audit(a, "password_reset", u.Username, fmt.Sprintf("from the command line; %d sessions ended", ended)); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "new password set for %s; %d sessions ended; it must be changed at the next sign-in\n", u.Username, ended)
	return nil
}

// setEmail sets (or, with "", clears) the address a staff member's alerts
// are mailed to.
func (e *cmdEnv) setEmail(args []string) error {
	fs := flag.NewFlagSet("admin set-email", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return fmt.Errorf("usage: torget admin set-email NAME ADDRESS (\"\" to clear)")
	}
	a, err := e.open(*cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Store.UserByName(e.ctx, pos[0])
	if err != nil {
		return err
	}
	if err := a.Store.SetUserEmail(e.ctx, u.ID, pos[1]); err != nil {
		return fmt.Errorf("set-email: %w", err)
	}
	if err := e.audit(a, "email_change", u.Username, "e-mail "+strconv.Quote(pos[1])); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "e-mail of %s set to %q\n", u.Username, pos[1])
	return nil
}

// setDisabled disables (ending its sessions) or enables a staff account.
func (e *cmdEnv) setDisabled(args []string, disabled bool) error {
	fs := flag.NewFlagSet("admin disable-user", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("usage: torget admin disable-user|enable-user NAME")
	}
	a, err := e.open(*cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Store.UserByName(e.ctx, pos[0])
	if err != nil {
		return err
	}
	if err := a.Store.SetUserDisabled(e.ctx, u.ID, disabled); err != nil {
		return err
	}
	action, word := "user_enable", "enabled"
	if disabled {
		action, word = "user_disable", "disabled"
	}
	if err := e.audit(a, action, u.Username, "from the command line"); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s %s\n", word, u.Username)
	return nil
}

func (e *cmdEnv) requireTOTP(args []string) error {
	fs := flag.NewFlagSet("admin require-totp", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || (pos[0] != "on" && pos[0] != "off") {
		return fmt.Errorf("usage: torget admin require-totp on|off")
	}
	a, err := e.open(*cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Store.SetSetting(e.ctx, store.SettingRequireTOTP, pos[0]); err != nil {
		return err
	}
	if err := e.audit(a, "require_totp", "instance", pos[0]); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "TOTP required for all staff: %s\n", pos[0])
	return nil
}

func (e *cmdEnv) group(args []string) error {
	if len(args) == 0 {
		return errUsage
	}
	fs := flag.NewFlagSet("group", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file")
	name := fs.String("name", "", "display name")
	purpose := fs.String("purpose", "", "what the group is for (required)")
	summary := fs.String("summary", "", "short description")
	website := fs.String("website", "", "official website link")
	lang := fs.String("language", "sv", "default language of posts")
	manual := fs.Bool("manual-approval", false, "approve followers by hand")
	pending := fs.Bool("pending", false, "list pending follow requests")
	unit := fs.String("owning-unit", "", "the unit that provides the group (required)")
	responsible := fs.String("responsible", "", "comma-separated usernames of the responsible staff (at least one)")
	var fields fieldFlags
	fs.Var(&fields, "field", `profile field "Name=Value" (repeat, at most 4)`)
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	a, err := e.open(*cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	u := a.Fed.URIs()
	switch args[0] {
	case "create":
		if len(pos) != 1 {
			return fmt.Errorf("usage: torget group create SLUG --name … --purpose …")
		}
		g, err := a.Fed.CreateGroup(e.ctx, federation.GroupInput{Slug: pos[0], Name: *name, Purpose: *purpose, Summary: *summary,
			WebsiteURL: *website, Language: *lang, ManualApproval: *manual, OwningUnit: *unit,
			Responsible: splitList(*responsible), Fields: fields})
		if err != nil {
			return err
		}
		if err := e.audit(a, "group_create", u.Group(g.Slug), "name "+g.Name); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "created group @%s@%s\n%s\n", g.Slug, u.Domain, u.Group(g.Slug))
	case "edit":
		if len(pos) != 1 {
			return fmt.Errorf("usage: torget group edit SLUG [--name …] [--purpose …] [--summary …] [--website URL] [--language sv] [--manual-approval=true|false]")
		}
		g, err := a.Store.GroupBySlug(e.ctx, pos[0])
		if err != nil {
			return err
		}
		// Only the flags given change; the slug and keys never do.
		in := federation.GroupInput{Name: g.Name, Purpose: g.Purpose, Summary: g.Summary, WebsiteURL: g.WebsiteURL,
			Language: g.Language, ManualApproval: g.ManualApproval, OwningUnit: g.OwningUnit, Fields: federation.GroupFields(g)}
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "name":
				in.Name = *name
			case "purpose":
				in.Purpose = *purpose
			case "summary":
				in.Summary = *summary
			case "website":
				in.WebsiteURL = *website
			case "language":
				in.Language = *lang
			case "manual-approval":
				in.ManualApproval = *manual
			case "owning-unit":
				in.OwningUnit = *unit
			case "responsible":
				in.Responsible = splitList(*responsible)
				if in.Responsible == nil {
					in.Responsible = []string{}
				}
			case "field":
				in.Fields = fields
			}
		})
		ng, err := a.Fed.UpdateGroup(e.ctx, g.Slug, in)
		if err != nil {
			return err
		}
		if err := e.audit(a, "group_edit", u.Group(ng.Slug), "name "+ng.Name); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "updated group @%s@%s\n", ng.Slug, u.Domain)
	case "list":
		gs, err := a.Store.ListGroups(e.ctx)
		if err != nil {
			return err
		}
		for _, g := range gs {
			n, _ := a.Store.CountFollowers(e.ctx, g.ID, store.FollowAccepted)
			fmt.Fprintf(e.stdout, "%s\t@%s@%s\t%d followers\t%s\n", g.Slug, g.Slug, u.Domain, n, g.Name)
		}
	case "followers":
		if len(pos) != 1 {
			return errUsage
		}
		g, err := a.Store.GroupBySlug(e.ctx, pos[0])
		if err != nil {
			return err
		}
		state := store.FollowAccepted
		if *pending {
			state = store.FollowPending
		}
		var after int64
		for {
			fs, err := a.Store.ListFollowers(e.ctx, g.ID, state, after, 500)
			if err != nil {
				return err
			}
			for _, f := range fs {
				fmt.Fprintf(e.stdout, "%s\t%s\n", f.ActorIRI, f.State)
				after = f.ID
			}
			if len(fs) < 500 {
				return nil
			}
		}
	case "close":
		if len(pos) != 1 {
			return fmt.Errorf("usage: torget group close SLUG")
		}
		g, x, err := a.Fed.CloseGroup(e.ctx, pos[0])
		if err != nil {
			return err
		}
		if err := e.audit(a, "group_close", u.Group(g.Slug), fmt.Sprintf("archive export %s sha256 %s", x.PackageID, x.SHA256)); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "closed group @%s@%s (archive export %s, METS.xml sha256 %s)\n", g.Slug, u.Domain, x.PackageID, x.SHA256)
	case "approve", "reject":
		if len(pos) != 2 {
			return fmt.Errorf("usage: torget group %s SLUG ACTOR_URL", args[0])
		}
		if args[0] == "approve" {
			err = a.Fed.Approve(e.ctx, pos[0], pos[1])
		} else {
			err = a.Fed.Reject(e.ctx, pos[0], pos[1])
		}
		if err != nil {
			return err
		}
		if err := e.audit(a, "follow_"+args[0], pos[1], "group "+pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%sd %s\n", strings.TrimSuffix(args[0], "e"), pos[1])
	default:
		return errUsage
	}
	return nil
}

func (e *cmdEnv) post(args []string) error {
	fs := flag.NewFlagSet("post", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file")
	text := fs.String("text", "", "Markdown text")
	summary := fs.String("summary", "", "content warning")
	lang := fs.String("lang", "", "language (BCP 47); the group's by default")
	at := fs.String("at", "", `schedule for "YYYY-MM-DD HH:MM[:SS]" in the instance's time zone`)
	draft := fs.Bool("draft", false, "save as a draft, unpublished")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return errUsage
	}
	a, err := e.open(*cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	switch {
	case pos[0] == "edit" && len(pos) == 2:
		if _, err := a.Fed.Edit(e.ctx, pos[1], federation.PostInput{Text: *text, Summary: *summary, Language: *lang}); err != nil {
			return err
		}
		if err := e.audit(a, "post_edit", pos[1], ""); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "edited %s\n", pos[1])
	case (pos[0] == "pin" || pos[0] == "unpin") && len(pos) == 2:
		if _, err := a.Fed.Pin(e.ctx, pos[1], pos[0] == "pin"); err != nil {
			return err
		}
		if err := e.audit(a, "post_"+pos[0], pos[1], ""); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%sned %s\n", pos[0], pos[1])
	case pos[0] == "delete" && len(pos) == 2:
		if err := a.Fed.Delete(e.ctx, pos[1]); err != nil {
			return err
		}
		if err := e.audit(a, "post_delete", pos[1], ""); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "deleted %s\n", pos[1])
	case len(pos) == 1 && (*at != "" || *draft):
		in := federation.PostInput{Text: *text, Summary: *summary, Language: *lang}
		var when *time.Time
		if *at != "" {
			t, err := parseLocalTime(a, *at)
			if err != nil {
				return err
			}
			when = &t
		}
		d, err := a.Fed.SaveDraft(e.ctx, pos[0], "", in, when)
		if err != nil {
			return err
		}
		action := "draft_save"
		if when != nil {
			action = "post_schedule"
		}
		if err := e.audit(a, action, "draft "+d.PublicID, "group "+pos[0]); err != nil {
			return err
		}
		if when != nil {
			loc, _ := a.Config.Instance.Location()
			fmt.Fprintf(e.stdout, "scheduled draft %s for %s\n", d.PublicID, d.ScheduledAt.In(loc).Format("2006-01-02 15:04:05 MST"))
		} else {
			fmt.Fprintf(e.stdout, "saved draft %s\n", d.PublicID)
		}
	case len(pos) == 1:
		_, id, err := a.Fed.Publish(e.ctx, pos[0], federation.PostInput{Text: *text, Summary: *summary, Language: *lang})
		if err != nil {
			return err
		}
		if err := e.audit(a, "post_publish", id, "group "+pos[0]); err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, id)
	default:
		return errUsage
	}
	return nil
}

// fieldFlags collects repeated --field "Name=Value" flags.
type fieldFlags []federation.Field

func (f *fieldFlags) String() string { return fmt.Sprint(*f) }

func (f *fieldFlags) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("--field wants Name=Value, got %q", v)
	}
	*f = append(*f, federation.Field{Name: strings.TrimSpace(name), Value: strings.TrimSpace(value)})
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseLocalTime reads "2026-12-01 09:00[:05]" in the instance's time zone.
func parseLocalTime(a *app.App, v string) (time.Time, error) {
	loc, err := a.Config.Instance.Location()
	if err != nil {
		return time.Time{}, err
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, strings.TrimSpace(v), loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("--at %q: want \"YYYY-MM-DD HH:MM\" (time zone %s)", v, loc)
}
