// Package archive writes the record of a period as an archive package
// following FGS Paketstruktur 2.0 (E-ARK CSIP 2.1.0 + E-ARK SIP 2.1.0),
// and checks such packages. PACKAGE.md describes the layout.
package archive

import (
	"archive/zip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/torget/torget/internal/store"
)

//go:embed schemas/*.xsd PACKAGE.md
var embedded embed.FS

// Agent is an organisation named in the package header.
type Agent struct {
	Name string
	ID   string // identification code, e.g. "VAT:SE2120000142" (organisation number)
}

// Options say what to export and who is named in the package.
type Options struct {
	From, To  time.Time // the period: From <= at < To
	GroupSlug string    // one group; empty: every group and the entries of none
	Out       string    // folder in which the package folder is made

	Software            string // software version for the CREATOR/SOFTWARE agent
	ArchivalCreator     Agent  // arkivbildare (ROLE=ARCHIVIST)
	Submitter           Agent  // the submitting organisation (ROLE=CREATOR)
	SubmissionAgreement string // optional altRecordID
	Rules               string // Markdown of the rules page in force at export time
	Actor               string // who exports (record actor)
	Now                 time.Time
	// Snapshot writes a WARC of the group's public pages as they are at
	// export time (REC-9), to representations/rep1/data/snapshot/<slug>.warc.gz;
	// nil: no snapshot.
	Snapshot func(ctx context.Context, g store.Group, from, to, now time.Time, w io.Writer) error
}

// Result describes a written package.
type Result struct {
	PackageID string // also the root folder's name and METS/@OBJID
	Dir       string
	Files     int
	SHA256    string // SHA-256 of the root METS.xml, which pins every file's checksum
	ExportID  int64
	Entries   int
}

// ContentType is the package's csip:OTHERCONTENTINFORMATIONTYPE.
const ContentType = "torget-record-v1"

// Export writes one package for the period and records it as a
// completed export (store.AddArchiveExport) after checking it with Check.
func Export(ctx context.Context, st *store.Store, opt Options) (*Result, error) {
	if opt.From.IsZero() || opt.To.IsZero() || !opt.From.Before(opt.To) {
		return nil, errors.New("archive export: --from must be before --to")
	}
	if opt.Out == "" {
		return nil, errors.New("archive export: no output folder")
	}
	if opt.Now.IsZero() {
		opt.Now = st.Now()
	}
	if opt.ArchivalCreator.Name == "" || opt.Submitter.Name == "" {
		return nil, errors.New("archive export: the archival creator and the submitter must be named (config [archive])")
	}
	q := store.RecordQuery{From: opt.From, To: opt.To}
	var groups []store.Group
	var groupID *int64
	if opt.GroupSlug != "" {
		g, err := st.GroupBySlug(ctx, opt.GroupSlug)
		if err != nil {
			return nil, err
		}
		groups = []store.Group{*g}
		q.GroupID, groupID = g.ID, &g.ID
	} else {
		gs, err := st.ListGroups(ctx)
		if err != nil {
			return nil, err
		}
		groups = gs
	}
	var entries []store.RecordEntry
	if err := st.EachRecord(ctx, q, func(e *store.RecordEntry) error {
		entries = append(entries, *e)
		return nil
	}); err != nil {
		return nil, err
	}
	id, err := newPackageID()
	if err != nil {
		return nil, err
	}
	root := filepath.Join(opt.Out, id)
	if err := os.MkdirAll(root, 0o750); err != nil {
		return nil, fmt.Errorf("archive export: %w", err)
	}
	w := &writer{root: root, created: opt.Now.UTC().Format(time.RFC3339)}
	if err := w.content(groups, entries, opt); err != nil {
		return nil, err
	}
	if err := w.snapshots(ctx, groups, opt); err != nil {
		return nil, err
	}
	if err := w.metadata(id, groups, opt); err != nil {
		return nil, err
	}
	if err := w.fixed(); err != nil {
		return nil, err
	}
	if err := w.mets(id, opt); err != nil {
		return nil, err
	}
	if err := Check(root); err != nil {
		return nil, fmt.Errorf("archive export: the written package fails its own check: %w", err)
	}
	sum, err := fileSHA256(filepath.Join(root, "METS.xml"))
	if err != nil {
		return nil, err
	}
	x := &store.ArchiveExport{PackageID: id, GroupID: groupID, PeriodFrom: opt.From.UTC(), PeriodTo: opt.To.UTC(), SHA256: sum,
		Files: w.count() + 1, CreatedBy: opt.Actor}
	if err := st.AddArchiveExport(ctx, x); err != nil {
		return nil, err
	}
	return &Result{PackageID: id, Dir: root, Files: x.Files, SHA256: sum, ExportID: x.ID, Entries: len(entries)}, nil
}

func newPackageID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return "uuid-" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// file is one written file, with what the METS needs about it.
type file struct {
	rel, mime    string // rel: slash path from the package root
	size         int64
	sum          string
	formatName   string
	formatKey    string // PRONOM
	group        string // "data", "documentation", "schemas", "metadata"
	representRel string // path relative to the representation folder
}

type writer struct {
	root, created, label string
	data                 []file // representations/rep1/data/…
	docs, schemas        []file
	dc, premis           file
	rep                  file // representations/rep1/METS.xml
}

func (w *writer) count() int {
	return len(w.data) + len(w.docs) + len(w.schemas) + 3
}

func (w *writer) write(rel string, body []byte, mime string) (file, error) {
	p := filepath.Join(w.root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return file{}, err
	}
	if err := os.WriteFile(p, body, 0o640); err != nil {
		return file{}, fmt.Errorf("archive export: write %s: %w", rel, err)
	}
	sum := sha256.Sum256(body)
	return file{rel: rel, mime: mime, size: int64(len(body)), sum: hex.EncodeToString(sum[:])}, nil
}

func (w *writer) addData(rel string, body []byte, mime string) error {
	f, err := w.write("representations/rep1/data/"+rel, body, mime)
	if err != nil {
		return err
	}
	f.representRel = "data/" + rel
	switch mime {
	case "application/json", "application/activity+json":
		f.formatName, f.formatKey = "JSON Data Interchange Format", "fmt/817"
	case "text/html":
		f.formatName, f.formatKey = "Hypertext Markup Language 5", "fmt/471"
	}
	w.data = append(w.data, f)
	return nil
}

// recordJSON is one entry as exported: every field, the payload as JSON.
type recordJSON struct {
	Seq         int64           `json:"seq"`
	At          string          `json:"at"`
	Kind        string          `json:"kind"`
	Category    string          `json:"category"`
	Direction   string          `json:"direction"`
	Group       string          `json:"group,omitempty"`
	Actor       string          `json:"actor,omitempty"`
	Object      string          `json:"object,omitempty"`
	Origin      string          `json:"origin,omitempty"`
	Verified    bool            `json:"signature_verified"`
	ContentHash string          `json:"content_hash"`
	PrevHash    string          `json:"prev_hash"`
	EntryHash   string          `json:"entry_hash"`
	Payload     json.RawMessage `json:"payload"`
}

// Kinds that go to moderation.json and rules.json.
var (
	moderationKinds = map[string]bool{store.KindModeration: true, store.KindBlock: true, store.KindDomainPolicy: true}
	ruleKinds       = map[string]bool{store.KindRuleChange: true}
)

func (w *writer) content(groups []store.Group, entries []store.RecordEntry, opt Options) error {
	slugs := map[int64]string{}
	for _, g := range groups {
		slugs[g.ID] = g.Slug
	}
	all := make([]recordJSON, 0, len(entries))
	byGroup := map[int64][]json.RawMessage{}
	moderation, rules := []recordJSON{}, []recordJSON{}
	for _, e := range entries {
		r := recordJSON{Seq: e.Seq, At: e.At.UTC().Format(time.RFC3339Nano), Kind: e.Kind, Category: e.Category, Direction: e.Direction,
			Actor: e.Actor, Object: e.ObjectIRI, Origin: e.Origin, Verified: e.Verified, ContentHash: e.ContentHash,
			PrevHash: e.PrevHash, EntryHash: e.EntryHash, Payload: json.RawMessage(e.Payload)}
		if e.GroupID != nil {
			r.Group = slugs[*e.GroupID]
			if isItem(e.Kind) {
				byGroup[*e.GroupID] = append(byGroup[*e.GroupID], json.RawMessage(e.Payload))
			}
		}
		all = append(all, r)
		if moderationKinds[e.Kind] {
			moderation = append(moderation, r)
		}
		if ruleKinds[e.Kind] {
			rules = append(rules, r)
		}
	}
	period := map[string]string{"from": opt.From.UTC().Format(time.RFC3339), "to": opt.To.UTC().Format(time.RFC3339)}
	if err := w.addJSON("record.json", map[string]any{"type": ContentType, "period": period, "entries": all}, "application/json"); err != nil {
		return err
	}
	for _, g := range groups {
		items := byGroup[g.ID]
		if items == nil {
			items = []json.RawMessage{}
		}
		coll := map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "type": "OrderedCollection",
			"summary":    "Activities of " + g.Name + " " + period["from"] + " to " + period["to"] + ", as sent or received",
			"totalItems": len(items), "orderedItems": items}
		if err := w.addJSON("items/"+g.Slug+".json", coll, "application/activity+json"); err != nil {
			return err
		}
	}
	if err := w.addJSON("moderation.json", map[string]any{"period": period, "decisions": moderation}, "application/json"); err != nil {
		return err
	}
	if err := w.addJSON("rules.json", map[string]any{"period": period, "rules_in_force": opt.Rules, "changes": rules}, "application/json"); err != nil {
		return err
	}
	return w.renderHTML(groups, entries, opt)
}

const warcMIME = "application/warc"

// snapshots writes one WARC per group (REC-9).
func (w *writer) snapshots(ctx context.Context, groups []store.Group, opt Options) error {
	if opt.Snapshot == nil {
		return nil
	}
	for _, g := range groups {
		rel := "snapshot/" + g.Slug + ".warc.gz"
		f, err := w.writeStream("representations/rep1/data/"+rel, warcMIME, func(out io.Writer) error {
			return opt.Snapshot(ctx, g, opt.From, opt.To, opt.Now, out)
		})
		if err != nil {
			return fmt.Errorf("archive export: snapshot of %s: %w", g.Slug, err)
		}
		f.representRel = "data/" + rel
		f.formatName, f.formatKey = "WARC", "fmt/289"
		w.data = append(w.data, f)
	}
	return nil
}

// writeStream writes a file from fill without holding it in memory.
func (w *writer) writeStream(rel, mime string, fill func(io.Writer) error) (file, error) {
	p := filepath.Join(w.root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return file{}, err
	}
	out, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return file{}, err
	}
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(out, h)}
	err = fill(cw)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return file{}, err
	}
	return file{rel: rel, mime: mime, size: cw.n, sum: hex.EncodeToString(h.Sum(nil))}, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// isItem reports whether an entry is an item of the group's conversation
// (what items/<group>.json lists): posts sent and activities received.
func isItem(kind string) bool {
	return strings.HasPrefix(kind, "post.") || kind == store.KindInbound
}

func (w *writer) addJSON(rel string, v any, mime string) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return w.addData(rel, append(b, '\n'), mime)
}

// fixed writes the documentation and the schemas.
func (w *writer) fixed() error {
	doc, err := embedded.ReadFile("PACKAGE.md")
	if err != nil {
		return err
	}
	f, err := w.write("documentation/package-layout.md", doc, "text/markdown")
	if err != nil {
		return err
	}
	w.docs = append(w.docs, f)
	names, err := embedded.ReadDir("schemas")
	if err != nil {
		return err
	}
	sort.Slice(names, func(i, j int) bool { return names[i].Name() < names[j].Name() })
	for _, n := range names {
		b, err := embedded.ReadFile(path.Join("schemas", n.Name()))
		if err != nil {
			return err
		}
		f, err := w.write("schemas/"+n.Name(), b, "application/xml")
		if err != nil {
			return err
		}
		w.schemas = append(w.schemas, f)
	}
	return nil
}

func fileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// WriteZip writes the package folder dir as a zip with the package folder
// as its one top-level entry (CSIPSTR1).
func WriteZip(w io.Writer, dir string) error {
	zw := zip.NewWriter(w)
	base := filepath.Base(filepath.Clean(dir))
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		f, err := zw.Create(base + "/" + filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(f, src)
		return err
	})
	if err != nil {
		return err
	}
	return zw.Close()
}
