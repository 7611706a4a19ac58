package archive_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/torget/torget/internal/archive"
	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/store/storetest"
)

func exportOptions(t *testing.T, from, to time.Time) archive.Options {
	return archive.Options{From: from, To: to, Out: t.TempDir(), Software: "test-1.0",
		ArchivalCreator: archive.Agent{Name: "Exempelnämnden", ID: "VAT:SE000000000001"},
		Submitter:       archive.Agent{Name: "Exempelstad", ID: "VAT:SE000000000002"}, Rules: "1. Var schysst."}
}

// seed makes a group with a post in three versions, a received reply and
// a moderation decision, and returns the store.
func seed(t *testing.T) (*store.Store, *store.Group) {
	t.Helper()
	st := storetest.Open(t)
	ctx := context.Background()
	g := &store.Group{Slug: "g", Name: "Gruppen", Purpose: "Test", Language: "sv", PrivateKeyPEM: "k", PublicKeyPEM: "k", Discoverable: true}
	if err := st.CreateGroup(ctx, g); err != nil {
		t.Fatal(err)
	}
	add := func(kind, dir, payload string) {
		if err := st.AppendRecord(ctx, &store.RecordEntry{Kind: kind, Direction: dir, GroupID: &g.ID, Actor: "user:1:anna",
			ObjectIRI: "https://torget.test/groups/g/posts/1", Payload: payload}); err != nil {
			t.Fatal(err)
		}
	}
	add(store.KindPostCreate, store.DirOut, `{"type":"Create","object":{"type":"Note","content":"<p>Ett</p>"}}`)
	add(store.KindPostUpdate, store.DirOut, `{"type":"Update","object":{"type":"Note","content":"<p>Två</p>"}}`)
	add(store.KindPostUpdate, store.DirOut, `{"type":"Update","object":{"type":"Note","content":"<p>Tre</p><script>alert(1)</script>"}}`)
	add(store.KindInbound, store.DirIn, `{"type":"Create","object":{"type":"Note","content":"<p>Svar <img src=x onerror=alert(1)></p>"}}`)
	add(store.KindModeration, store.DirInternal, `{"decision_id":"MD-1","action":"remove"}`)
	return st, g
}

func TestExportPassesTheStructuralCheck(t *testing.T) {
	st, _ := seed(t)
	ctx := context.Background()
	now := st.Now()
	opt := exportOptions(t, now.Add(-time.Hour), now.Add(time.Hour))
	res, err := archive.Export(ctx, st, opt)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(res.Dir) != res.PackageID || !strings.HasPrefix(res.PackageID, "uuid-") || res.Entries != 5 {
		t.Fatalf("result %+v", res)
	}
	if err := archive.Check(res.Dir); err != nil {
		t.Fatalf("check: %v", err)
	}
	for _, f := range []string{"METS.xml", "metadata/descriptive/dc.xml", "metadata/preservation/premis.xml", "documentation/package-layout.md",
		"schemas/mets.xsd", "representations/rep1/METS.xml", "representations/rep1/data/record.json", "representations/rep1/data/items/g.json",
		"representations/rep1/data/moderation.json", "representations/rep1/data/rules.json", "representations/rep1/data/html/index.html",
		"representations/rep1/data/html/group-g.html"} {
		if _, err := os.Stat(filepath.Join(res.Dir, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	mets, _ := os.ReadFile(filepath.Join(res.Dir, "METS.xml"))
	for _, want := range []string{`OBJID="` + res.PackageID + `"`, `csip:OAISPACKAGETYPE="SIP"`, `OTHERTYPE="SOFTWARE"`, `>test-1.0<`,
		`ROLE="ARCHIVIST" TYPE="ORGANIZATION"`, `>Exempelnämnden<`, `>Exempelstad<`} {
		if !strings.Contains(string(mets), want) {
			t.Errorf("METS.xml lacks %s", want)
		}
	}
	html, _ := os.ReadFile(filepath.Join(res.Dir, "representations/rep1/data/html/group-g.html"))
	for _, bad := range []string{"<script", "onerror", "user:1"} {
		if strings.Contains(string(html), bad) {
			t.Errorf("the HTML rendering contains %q", bad)
		}
	}
	if !strings.Contains(string(html), "<p>Tre</p>") || !strings.Contains(string(html), `lang="sv"`) {
		t.Errorf("the HTML rendering lacks the last version or its language:\n%s", html)
	}
	xs, err := st.ArchiveExports(ctx, 5)
	if err != nil || len(xs) != 1 || xs[0].SHA256 != res.SHA256 || xs[0].PackageID != res.PackageID {
		t.Fatalf("registered exports %+v, %v", xs, err)
	}
	// The export itself is a record entry, and the chain still verifies.
	if es, _ := st.SearchRecord(ctx, store.RecordQuery{Kind: store.KindArchiveExport}); len(es) != 1 {
		t.Fatal("the export is not in the record")
	}
	if r, err := st.VerifyChain(ctx); err != nil || !r.OK {
		t.Fatalf("chain: %+v %v", r, err)
	}
}

// The test of the test: each kind of damage makes Check fail, naming it.
func TestCheckFindsDamage(t *testing.T) {
	st, _ := seed(t)
	now := st.Now()
	cases := []struct {
		name, want string
		damage     func(dir string) error
	}{
		{"data file altered", "checksum mismatch", func(d string) error {
			return os.WriteFile(filepath.Join(d, "representations/rep1/data/moderation.json"), []byte(`{"decisions":[]}`), 0o640)
		}},
		{"html altered, same size", "checksum mismatch", func(d string) error {
			p := filepath.Join(d, "representations/rep1/data/html/group-g.html")
			b, _ := os.ReadFile(p)
			return os.WriteFile(p, []byte(strings.Replace(string(b), "Tre", "TRE", 1)), 0o640)
		}},
		{"metadata altered", "checksum mismatch", func(d string) error {
			p := filepath.Join(d, "metadata/descriptive/dc.xml")
			b, _ := os.ReadFile(p)
			return os.WriteFile(p, []byte(strings.Replace(string(b), "Dataset", "Datasex", 1)), 0o640)
		}},
		{"extra file", "no METS.xml lists it", func(d string) error {
			return os.WriteFile(filepath.Join(d, "documentation/extra.txt"), []byte("x"), 0o640)
		}},
		{"file removed", "missing", func(d string) error {
			return os.Remove(filepath.Join(d, "schemas/xlink.xsd"))
		}},
		{"agent removed", "FGS-AGENT-ARCHIVIST", func(d string) error {
			return edit(d, "METS.xml", `ROLE="ARCHIVIST"`, `ROLE="OTHER" OTHERROLE="X"`)
		}},
		{"not a SIP", "FGS-SIP", func(d string) error {
			return edit(d, "METS.xml", `csip:OAISPACKAGETYPE="SIP"`, `csip:OAISPACKAGETYPE="AIP"`)
		}},
		{"MD5", "want SHA-256", func(d string) error {
			return edit(d, "representations/rep1/METS.xml", `CHECKSUMTYPE="SHA-256"`, `CHECKSUMTYPE="MD5"`)
		}},
		{"folder renamed", "CSIP1", func(d string) error { return os.Rename(d, d+"-renamed") }},
		{"folder missing", "no documentation/ folder", func(d string) error {
			if err := os.RemoveAll(filepath.Join(d, "documentation")); err != nil {
				return err
			}
			return nil
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := archive.Export(context.Background(), st, exportOptions(t, now.Add(-time.Hour), now.Add(time.Hour)))
			if err != nil {
				t.Fatal(err)
			}
			if err := tc.damage(res.Dir); err != nil {
				t.Fatal(err)
			}
			dir := res.Dir
			if tc.name == "folder renamed" {
				dir += "-renamed"
			}
			err = archive.Check(dir)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("check after %s = %v, want an error with %q", tc.name, err, tc.want)
			}
		})
	}
}

func edit(dir, rel, old, new string) error {
	p := filepath.Join(dir, rel)
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	return os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o640)
}

func TestExportRefusesBadInput(t *testing.T) {
	st, _ := seed(t)
	now := st.Now()
	opt := exportOptions(t, now, now.Add(-time.Hour))
	if _, err := archive.Export(context.Background(), st, opt); err == nil {
		t.Fatal("a period that ends before it starts was accepted")
	}
	opt = exportOptions(t, now.Add(-time.Hour), now)
	opt.ArchivalCreator.Name = ""
	if _, err := archive.Export(context.Background(), st, opt); err == nil {
		t.Fatal("an export without an archival creator was accepted")
	}
	opt = exportOptions(t, now.Add(-time.Hour), now)
	opt.GroupSlug = "nope"
	if _, err := archive.Export(context.Background(), st, opt); err == nil {
		t.Fatal("an export of an unknown group was accepted")
	}
}
