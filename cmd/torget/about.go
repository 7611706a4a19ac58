package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/torget/torget/internal/web"
)

// maxAboutBytes bounds an about page's Markdown.
const maxAboutBytes = 64 << 10

// about sets or resets the text of an about page:
//
//	torget about set PAGE --file F   (F "-" reads standard input)
//	torget about reset PAGE          (back to the built-in text)
func (e *cmdEnv) about(args []string) error {
	fs := flag.NewFlagSet("about", flag.ContinueOnError)
	cfgPath := fs.String("config", "", "configuration file")
	file := fs.String("file", "", "Markdown file with the page's text (- for standard input)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	pages := strings.Join(web.AboutPages, "|")
	if len(pos) != 2 || (pos[0] != "set" && pos[0] != "reset") {
		return fmt.Errorf("usage: torget about set %s --file FILE | torget about reset PAGE", pages)
	}
	key, ok := web.AboutSettingKey(pos[1])
	if !ok {
		return fmt.Errorf("unknown page %q (one of %s)", pos[1], pages)
	}
	var text string
	if pos[0] == "set" {
		if *file == "" {
			return fmt.Errorf("usage: torget about set %s --file FILE", pos[1])
		}
		if text, err = e.readText(*file); err != nil {
			return err
		}
	}
	a, err := e.open(*cfgPath)
	if err != nil {
		return err
	}
	defer a.Close()
	if pos[0] == "reset" {
		if err := a.Store.DeleteSetting(e.ctx, key); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "reset about page %s to the built-in text\n", pos[1])
		return nil
	}
	if err := a.Store.SetSetting(e.ctx, key, text); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "set about page %s (%d bytes)\n", pos[1], len(text))
	return nil
}

func (e *cmdEnv) readText(path string) (string, error) {
	var r io.Reader = e.stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return "", err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxAboutBytes+1))
	switch {
	case err != nil:
		return "", fmt.Errorf("read %s: %w", path, err)
	case len(b) > maxAboutBytes:
		return "", fmt.Errorf("%s: more than %d bytes", path, maxAboutBytes)
	case !utf8.Valid(b):
		return "", errors.New(path + ": not UTF-8 text")
	case strings.TrimSpace(string(b)) == "":
		return "", errors.New(path + ": empty (use torget about reset PAGE for the built-in text)")
	}
	return string(b), nil
}
