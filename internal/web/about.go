package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/internal/store"
)

// AboutPages are the about pages whose text an administrator may set
// (torget about set PAGE --file F); each has a built-in default.
var AboutPages = []string{"about", "rules", "privacy", "accessibility"}

// aboutTitles are the pages' title message ids.
var aboutTitles = map[string]string{
	"about":         msg("about.title.about"),
	"rules":         msg("about.title.rules"),
	"privacy":       msg("about.title.privacy"),
	"accessibility": msg("about.title.accessibility"),
}

// AboutSettingKey is the settings key holding an about page's Markdown,
// and false for an unknown page.
func AboutSettingKey(page string) (string, bool) {
	if _, ok := aboutTitles[page]; !ok {
		return "", false
	}
	return "about_page." + page, true
}

type aboutPage struct {
	page
	Heading string
	Body    template.HTML
	Groups  []groupItem
	Privacy PrivacyNotice
	Admin   template.HTML // the administrator's own text on the privacy page
}

// about serves /about and /about/PAGE: the administrator's text if set,
// else the built-in default filled in from the configuration.
func (s *Server) about(c echo.Context) error {
	ctx := c.Request().Context()
	name := c.Param("page")
	if c.Path() == "/about" {
		name = "about"
	} else if name == "about" {
		return store.ErrNotFound
	}
	key, ok := AboutSettingKey(name)
	if !ok {
		return store.ErrNotFound
	}
	title := s.tr(c).T(aboutTitles[name])
	v := aboutPage{page: s.page(c, title, ""), Heading: title, Privacy: s.opt.Privacy}
	v.OG = &openGraph{Type: "website", SiteName: v.InstanceName, Title: v.Heading, URL: s.u.Base + c.Request().URL.Path}
	src, err := s.st.Setting(ctx, key)
	if name == "accessibility" && errors.Is(err, store.ErrNotFound) {
		// The built-in statement is the one at /tillganglighet, from the
		// configuration.
		return s.accessibilityStatement(c)
	}
	if name == "privacy" && err == nil {
		// The notice's required fields always come from the configuration
		// (PRV-1); the administrator's text follows them.
		r, rerr := s.aboutMarkup.Render(src)
		if rerr != nil {
			return rerr
		}
		v.Admin = template.HTML(demoteH1(r.HTML)) // sanitised by Render
		err = store.ErrNotFound
	}
	switch {
	case err == nil:
		r, err := s.aboutMarkup.Render(src)
		if err != nil {
			return err
		}
		v.Body = template.HTML(demoteH1(r.HTML)) // sanitised by Render
	case errors.Is(err, store.ErrNotFound):
		gs, err := s.st.ListGroups(ctx)
		if err != nil {
			return err
		}
		for _, g := range gs {
			v.Groups = append(v.Groups, groupItem{Slug: g.Slug, URL: s.u.Group(g.Slug), Name: g.Name, Handle: s.handle(g.Slug), Purpose: g.Purpose})
		}
		var buf bytes.Buffer
		if err := s.tmpl(c).ExecuteTemplate(&buf, "about-"+name, v); err != nil {
			return fmt.Errorf("about page %s: %w", name, err)
		}
		v.Body = template.HTML(buf.String()) // our own template's output
	default:
		return err
	}
	return s.render(c, http.StatusOK, "about.html", v)
}

// demoteH1 keeps the page's title its only h1: headings an administrator
// writes as "# …" become h2 (the sanitiser leaves h1 without attributes).
func demoteH1(h string) string {
	return strings.NewReplacer("<h1>", "<h2>", "</h1>", "</h2>").Replace(h)
}
