package archive

import (
	"bytes"
	"encoding/json"
	"html"
	"html/template"
	"strings"
	"time"

	"github.com/microcosm-cc/bluemonday"

	"github.com/torget/torget/internal/markup"
	"github.com/torget/torget/internal/store"
)

// The readable rendering: one static page per group and an index, plain
// HTML with inline CSS, no scripts and no outside resources, so that it
// opens from the package years later. Remote HTML is sanitised with the
// same policy as posts; internal authorship is not shown.

type htmlItem struct {
	At, Direction, Kind, Type, Actor, Object string
	Content                                  template.HTML
	Summary                                  string
}

type htmlGroup struct {
	Name, Slug, Purpose, File string
	Closed                    string
	Items                     []htmlItem
	Sent, Received            int
}

type htmlPage struct {
	Title, Lang, From, To, Package string
	Groups                         []htmlGroup
	Group                          *htmlGroup
}

var pageTmpl = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:50rem;margin:0 auto;padding:1rem;line-height:1.5;color:#1a1a1a;background:#fff}
a{color:#0b4f9c}a:focus{outline:3px solid #1a1a1a;outline-offset:2px}
article{border-top:1px solid #6b6b6b;padding:.5rem 0}
.meta{color:#333;font-size:.95rem}
.notice{border:2px solid #1a1a1a;padding:.5rem}
</style>
</head>
<body>
<header>
<p><a href="index.html">Arkivpaket {{.Package}}</a></p>
<h1>{{.Title}}</h1>
<p>Period: <time datetime="{{.From}}">{{.From}}</time> till <time datetime="{{.To}}">{{.To}}</time> (UTC).</p>
</header>
<main>
{{- if .Group}}{{with .Group}}
{{if .Purpose}}<p><strong>Syfte:</strong> {{.Purpose}}</p>{{end}}
{{if .Closed}}<p class="notice">{{.Closed}}</p>{{end}}
<p>{{.Sent}} upprättade och {{.Received}} inkomna poster under perioden.</p>
<h2>Poster i tidsordning</h2>
{{range .Items}}
<article>
<h3>{{.Direction}}: {{.Kind}}{{if .Type}} ({{.Type}}){{end}}</h3>
<p class="meta"><time datetime="{{.At}}">{{.At}}</time>{{if .Actor}} · {{.Actor}}{{end}}{{if .Object}} · <span>{{.Object}}</span>{{end}}</p>
{{if .Summary}}<p><strong>Innehållsvarning:</strong> {{.Summary}}</p>{{end}}
{{if .Content}}<div>{{.Content}}</div>{{end}}
</article>
{{else}}
<p>Inga poster under perioden.</p>
{{end}}
{{end}}{{else}}
<h2>Grupper</h2>
<ul>
{{range .Groups}}<li><a href="{{.File}}">{{.Name}}</a> ({{.Sent}} upprättade, {{.Received}} inkomna)</li>
{{else}}<li>Inga grupper.</li>{{end}}
</ul>
<p>Hela posterna finns som JSON i <code>representations/rep1/data/</code>: <code>record.json</code> (alla poster med hashkedja), <code>items/</code> (ActivityStreams), <code>moderation.json</code> och <code>rules.json</code>.</p>
{{end}}
</main>
</body>
</html>
`))

var (
	policy = markup.Policy()
	strict = bluemonday.StrictPolicy()
)

func (w *writer) renderHTML(groups []store.Group, entries []store.RecordEntry, opt Options) error {
	byGroup := map[int64]*htmlGroup{}
	page := htmlPage{Lang: "sv", From: opt.From.UTC().Format(time.RFC3339), To: opt.To.UTC().Format(time.RFC3339), Package: w.root}
	page.Package = lastElem(w.root)
	var hgs []*htmlGroup
	for _, g := range groups {
		hg := &htmlGroup{Name: g.Name, Slug: g.Slug, Purpose: g.Purpose, File: "group-" + g.Slug + ".html"}
		if g.ClosedAt != nil {
			hg.Closed = "Gruppen stängdes " + g.ClosedAt.UTC().Format("2006-01-02") + "."
		}
		byGroup[g.ID] = hg
		hgs = append(hgs, hg)
	}
	for _, e := range entries {
		if e.GroupID == nil || !isItem(e.Kind) && e.Kind != store.KindGroupCreate && e.Kind != store.KindGroupUpdate && e.Kind != store.KindGroupClose {
			continue
		}
		hg := byGroup[*e.GroupID]
		if hg == nil {
			continue
		}
		it := htmlItem{At: e.At.UTC().Format(time.RFC3339), Kind: e.Kind, Object: e.ObjectIRI}
		if e.Direction == store.DirIn {
			it.Direction = "Inkommen"
			if strings.Contains(e.Actor, "://") { // a remote actor; staff actors stay internal
				it.Actor = e.Actor
			}
			hg.Received++
		} else {
			it.Direction = "Upprättad"
			hg.Sent++
		}
		it.Type, it.Summary, it.Content = describe(e.Payload)
		hg.Items = append(hg.Items, it)
	}
	for _, hg := range hgs {
		p := page
		p.Title = hg.Name
		p.Group = hg
		var b bytes.Buffer
		if err := pageTmpl.Execute(&b, p); err != nil {
			return err
		}
		if err := w.addData("html/"+hg.File, b.Bytes(), "text/html"); err != nil {
			return err
		}
		page.Groups = append(page.Groups, *hg)
	}
	page.Title = "Arkivpaket: " + w.label
	if w.label == "" {
		page.Title = "Arkivpaket"
	}
	var b bytes.Buffer
	if err := pageTmpl.Execute(&b, page); err != nil {
		return err
	}
	return w.addData("html/index.html", b.Bytes(), "text/html")
}

// describe pulls the activity type, content warning and sanitised content
// out of an ActivityStreams payload.
func describe(payload string) (typ, summary string, content template.HTML) {
	var a struct {
		Type   string          `json:"type"`
		Object json.RawMessage `json:"object"`
	}
	if json.Unmarshal([]byte(payload), &a) != nil {
		return "", "", ""
	}
	var o struct {
		Type    string `json:"type"`
		Name    string `json:"name"`
		Summary string `json:"summary"`
		Content string `json:"content"`
	}
	obj := []byte(a.Object)
	if len(obj) == 0 {
		obj = []byte(payload) // an object recorded by itself (a Group)
	}
	_ = json.Unmarshal(obj, &o)
	typ = a.Type
	if o.Type != "" && len(a.Object) > 0 {
		typ += " " + o.Type
	}
	c := o.Content
	if o.Type == "Group" {
		c = o.Summary
		o.Summary = ""
	}
	return typ, html.UnescapeString(strict.Sanitize(o.Summary)), template.HTML(policy.Sanitize(c)) // #nosec G203: sanitised
}

func lastElem(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' || p[i] == '\\' {
			return p[i+1:]
		}
	}
	return p
}
