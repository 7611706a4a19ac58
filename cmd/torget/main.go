// Command torget runs and administers a torget server.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/torget/torget/internal/store"
)

const usage = `torget — federated community groups for cities

Usage:
  torget serve   [--config FILE]
  torget migrate [--config FILE]
  torget demo    [--config FILE]
  torget admin create-user NAME --role admin|moderator|editor --password-stdin [--config FILE]
  torget admin reset-password NAME --password-stdin   (ends the user's sessions)
  torget admin require-totp on|off                    (TOTP mandatory for all staff)
  torget admin set-email NAME ADDRESS                 (where alerts are mailed; "" clears)
  torget admin disable-user|enable-user NAME          (disabling ends the sessions)
  torget group create SLUG --name "…" --purpose "…" --owning-unit "…" --responsible USER[,USER…]
                    [--summary "…"] [--website URL] [--field "Name=Value"]… [--language sv] [--manual-approval]
  torget group edit SLUG [--name "…"] [--purpose "…"] [--owning-unit "…"] [--responsible USER,…] [--summary "…"]
                    [--website URL] [--field "Name=Value"]… (replaces the fields) [--language sv] [--manual-approval=true|false]
  torget group list
  torget group followers SLUG [--pending]
  torget group approve SLUG ACTOR_URL
  torget group reject SLUG ACTOR_URL
  torget post SLUG --text "markdown…" [--summary "content warning"] [--lang sv]
                    [--at "2026-12-01 09:00"] (schedule, instance time zone) [--draft]
  torget post edit ID --text "…" [--summary "…"] [--lang sv]
  torget post delete ID
  torget post pin|unpin ID
  torget about set about|rules|privacy|accessibility --file FILE.md
  torget about reset PAGE
  torget privacy export @user@host|ACTOR_URL          (everything held about an account, as JSON)
  torget privacy erase list|register|decide|answer …  (erasure requests: see torget privacy)
  torget privacy sweep                                (blank old IPs/user agents, finished inbox payloads, deliveries)
  torget group close SLUG        (refused unless an archive export covers the group's whole life)
  torget archive export --from DATE --to DATE [--group SLUG] --out DIR
  torget archive verify [PKG_DIR]   (a package's structure and checksums; without PKG_DIR the record's hash chain)
  torget archive gallra --decision ID [--dry-run]
  torget archive hold ENTRY_SEQ… --reason "…" | --object IRI --reason "…"
  torget archive release HOLD_ID…
  torget archive holds
  torget version

Every command takes --config FILE (default: built-in defaults, SQLite under
./data/) and honours TORGET_SECTION_KEY environment overrides, for example
TORGET_DATABASE_URL=postgres://…
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	if errors.Is(err, errUsage) {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "torget:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	// Record entries made from the command line name it as their actor.
	env := &cmdEnv{ctx: store.WithRecordActor(ctx, "cli:"+cliUser), stdin: stdin, stdout: stdout, stderr: stderr}
	switch args[0] {
	case "serve":
		return env.serve(args[1:])
	case "migrate":
		return env.migrate(args[1:])
	case "demo":
		return env.demo(args[1:])
	case "admin":
		return env.admin(args[1:])
	case "group":
		return env.group(args[1:])
	case "post":
		return env.post(args[1:])
	case "about":
		return env.about(args[1:])
	case "privacy":
		return env.privacy(args[1:])
	case "archive":
		return env.archive(args[1:])
	case "version", "--version", "-v":
		fmt.Fprintln(stdout, "torget", version())
		return nil
	case "help", "--help", "-h":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return errUsage
}
