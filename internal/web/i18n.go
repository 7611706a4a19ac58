package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/internal/i18n"
)

// The interface language. Chosen, first match wins, by: a ?lang= query
// parameter (the language switch on every page; it also sets the lang
// cookie), the lang cookie, the signed-in staff member's account setting,
// and the browser's Accept-Language. Staff pages exist in Swedish and
// English only; a Finnish choice shows them in Swedish.
//
// Pages vary with Accept-Language and Cookie (the html helper says so),
// and the page cache keys on the language.

const (
	langCookie    = "lang"
	langCookieAge = 365 * 24 * 60 * 60
	localizerKey  = "i18n.localizer"
)

// tr returns the request's localizer, choosing the language on first use.
func (s *Server) tr(c echo.Context) *i18n.Localizer {
	if l, ok := c.Get(localizerKey).(*i18n.Localizer); ok {
		return l
	}
	l := s.i18n.Localizer(s.chooseLang(c))
	c.Set(localizerKey, l)
	return l
}

// staffArea reports whether a path is one of the staff-only pages.
func staffArea(p string) bool {
	return p == "/staff" || strings.HasPrefix(p, "/staff/") || p == "/login/totp"
}

func (s *Server) chooseLang(c echo.Context) string {
	r := c.Request()
	var candidates []string
	if q := r.URL.Query().Get("lang"); i18n.Supported(q) {
		c.SetCookie(s.cookie(langCookie, q, langCookieAge))
		candidates = append(candidates, q)
	}
	if ck, err := c.Cookie(langCookie); err == nil {
		candidates = append(candidates, ck.Value)
	}
	if sc := staffFrom(c); sc != nil {
		candidates = append(candidates, sc.user.Locale)
	}
	candidates = append(candidates, s.i18n.Match(r.Header.Get("Accept-Language")))
	staff := staffArea(r.URL.Path)
	for _, l := range candidates {
		if i18n.Supported(l) && (!staff || staffLanguage(l)) {
			return l
		}
	}
	return i18n.Default
}

func staffLanguage(lang string) bool {
	for _, l := range i18n.StaffLanguages {
		if l == lang {
			return true
		}
	}
	return false
}

// langLink is one entry of the language switch.
type langLink struct {
	Lang, Name, Href string
	Current          bool
}

// langSwitch links the page in every other language it exists in. After a
// form post (whose page has no address of its own) the links go home.
func (s *Server) langSwitch(c echo.Context, current string) []langLink {
	r := c.Request()
	langs := i18n.Languages
	if staffArea(r.URL.Path) {
		langs = i18n.StaffLanguages
	}
	path, q := "/", url.Values{}
	if r.Method == http.MethodGet {
		path, q = r.URL.Path, r.URL.Query()
	}
	var out []langLink
	for _, l := range langs {
		q.Set("lang", l)
		out = append(out, langLink{Lang: l, Name: i18n.Names[l], Href: path + "?" + q.Encode(), Current: l == current})
	}
	return out
}

// templateFuncs are the functions templates call; the language-dependent
// ones are bound to l (nil while parsing).
func templateFuncs(l *i18n.Localizer) template.FuncMap {
	return template.FuncMap{
		"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"inc": func(i int) int { return i + 1 },
		"deref": func(p *int64) int64 {
			if p == nil {
				return 0
			}
			return *p
		},
		// t "id" ["Name" value …]: a message as text.
		"t": func(id string, args ...any) string { return l.T(id, args...) },
		// tn "id" count ["Name" value …]: a message's plural form for count.
		"tn": func(id string, n any, args ...any) string { return l.N(id, toInt(n), args...) },
		// th "id" ["Name" value …]: a message holding markup of our own
		// (links, emphasis); the values are escaped before they go in.
		"th": func(id string, args ...any) template.HTML {
			for i := 1; i < len(args); i += 2 {
				if v, ok := args[i].(template.HTML); ok {
					args[i] = string(v)
				} else {
					args[i] = template.HTMLEscapeString(toString(args[i]))
				}
			}
			return template.HTML(l.T(id, args...)) // catalogue text is ours; values escaped above
		},
		"date": func(t time.Time) string { return l.Date(t) },
		// orglink and maillink are links for messages (th) to wrap.
		"orglink": func(href, name string) template.HTML {
			if !strings.HasPrefix(href, "https://") && !strings.HasPrefix(href, "http://") {
				return template.HTML(template.HTMLEscapeString(name))
			}
			return template.HTML(`<a href="` + template.HTMLEscapeString(href) + `">` + template.HTMLEscapeString(name) + `</a>`)
		},
		"maillink": func(addr string) template.HTML {
			e := template.HTMLEscapeString(addr)
			return template.HTML(`<a href="mailto:` + e + `">` + e + `</a>`)
		},
		"num": func(n any) string { return l.Number(int64(toInt(n))) },
	}
}

// msg marks a message id kept in a table rather than passed to T at once,
// so that the catalogue test finds it.
func msg(id string) string { return id }

func toInt(n any) int {
	switch v := n.(type) {
	case int:
		return v
	case int64:
		return int(v)
	case int32:
		return int(v)
	}
	return 0
}

func toString(v any) string {
	switch s := v.(type) {
	case string:
		return s
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}
