package web

import (
	"testing"

	"github.com/torget/torget/internal/i18n"
	"github.com/torget/torget/internal/moderation"
)

// Every built-in rule has a display text in the catalogue, and the
// Swedish one is exactly the text stored when the rules are seeded, so an
// unchanged built-in rule reads the same in Swedish wherever it is shown.
func TestBuiltinRuleTextsInCatalogue(t *testing.T) {
	b, err := i18n.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	sv, en := b.Localizer("sv"), b.Localizer("en")
	for _, r := range moderation.DefaultRules() {
		id, ok := builtinRuleTexts[r.ID]
		if !ok {
			t.Errorf("no message id for built-in rule %s", r.ID)
			continue
		}
		if got := sv.T(id); got != r.Text {
			t.Errorf("%s: sv catalogue %q, stored text %q", r.ID, got, r.Text)
		}
		if got := en.T(id); got == r.Text || got == id {
			t.Errorf("%s: no English text (%q)", r.ID, got)
		}
	}
}
