package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/torget/torget/internal/i18n"
)

// Message ids appear in templates as {{t "id" …}}, {{th "id" …}},
// {{tn "id" n …}} (also inside parentheses), and in Go code as
// .T("id", …), .N("id", …) or msg("id") for ids kept in tables.
var (
	templateIDRE = regexp.MustCompile(`[({]-?\s*(?:t|th|tn)\s+"([^"]+)"`)
	goIDRE       = regexp.MustCompile(`(?:\.T|\.N|\bmsg)\(\s*"([^"]+)"`)
)

func usedMessageIDs(t *testing.T) map[string]string {
	t.Helper()
	used := map[string]string{} // id → first file using it
	add := func(file string, re *regexp.Regexp, text string) {
		for _, m := range re.FindAllStringSubmatch(text, -1) {
			if _, ok := used[m[1]]; !ok {
				used[m[1]] = file
			}
		}
	}
	err := fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templateFS, p)
		add(p, templateIDRE, string(b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	// The auto-reply's text (internal/cases) and the alert mails
	// (internal/notify) use the catalogue too.
	for _, dir := range []string{"../cases/*.go", "../notify/*.go"} {
		more, err := filepath.Glob(dir)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, more...)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		add(f, goIDRE, string(b))
	}
	return used
}

// TestCatalogueMatchesCode: every message the templates and handlers use
// exists in Swedish and English, and in Finnish unless it is a staff
// message; no catalogue holds a message nothing uses. A new string needs
// its id in sv.toml, en.toml and (if public) fi.toml.
func TestCatalogueMatchesCode(t *testing.T) {
	b, err := i18n.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	used := usedMessageIDs(t)
	if len(used) < 100 {
		t.Fatalf("found only %d message ids in use: the scan is broken", len(used))
	}
	for _, lang := range i18n.Languages {
		have := map[string]bool{}
		for _, id := range b.MessageIDs(lang) {
			have[id] = true
			if _, ok := used[id]; !ok {
				t.Errorf("%s.toml: %q is used nowhere (remove it, or use it through t/th/tn, .T, .N or msg)", lang, id)
			}
		}
		var missing []string
		for id, file := range used {
			staffOnly := strings.HasPrefix(id, "staff.")
			if !have[id] && !(lang == "fi" && staffOnly) {
				missing = append(missing, id+" (used in "+file+")")
			}
		}
		sort.Strings(missing)
		for _, m := range missing {
			t.Errorf("%s.toml lacks %s", lang, m)
		}
	}
}

// TestNoHardCodedText: templates and handlers carry no Swedish text
// outside the catalogue (a cheap guard: no å, ä or ö in them).
func TestNoHardCodedText(t *testing.T) {
	err := fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(templateFS, p)
		if i := strings.IndexAny(string(b), "åäöÅÄÖ"); i >= 0 {
			t.Errorf("%s: text outside the catalogue near %q", p, string(b[max(0, i-40):min(len(b), i+20)]))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// Nor do handlers: no Swedish letters in Go string literals.
	files, _ := filepath.Glob("*.go")
	lit := regexp.MustCompile("\"[^\"\n]*[åäöÅÄÖ][^\"\n]*\"")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := lit.Find(b); m != nil {
			t.Errorf("%s: text outside the catalogue: %s", f, m)
		}
	}
}
