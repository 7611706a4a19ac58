package web

import (
	"bytes"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/store"
)

func (s *Server) instanceActor(c echo.Context) error {
	if !wantsAS(c.Request()) {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return asJSON(c, http.StatusOK, s.fed.InstanceActorJSON())
}

// page is the data every page template gets.
type page struct {
	Lang, Title, InstanceName, Organisation, OrganisationURL, ContactEmail, Description string
	// Alternates become <link rel="alternate">: the ActivityPub
	// representation, feeds.
	Alternates []alternate
	OG         *openGraph
	Staff      *staffNav // set on staff pages
	// Languages is the language switch; Lang the page's language.
	Languages []langLink
}

// alternate is one <link rel="alternate">; Kind is "as" (ActivityPub),
// "rss" or "atom" (the template writes the media type: html/template
// would escape the "+" in one we pass).
type alternate struct{ Kind, Title, Href string }

// openGraph is what link previews show (https://ogp.me/); URLs absolute.
type openGraph struct {
	Type, SiteName, Title, Description, URL, Image, ImageAlt, Published string
}

// page returns the common page data; alt is the ActivityPub
// representation of what the page shows, if any.
func (s *Server) page(c echo.Context, title, alt string) page {
	in := s.opt.Instance
	l := s.tr(c)
	if title == "" {
		title = in.Name
	} else if title != in.Name {
		title += " – " + in.Name
	}
	p := page{Lang: l.Lang, Languages: s.langSwitch(c, l.Lang), Title: title, InstanceName: in.Name, Organisation: in.Organisation,
		OrganisationURL: in.OrganisationURL, ContactEmail: in.ContactEmail, Description: in.Description}
	if alt != "" {
		p.Alternates = append(p.Alternates, alternate{Kind: "as", Href: alt})
	}
	return p
}

type postView struct {
	URL, Summary, Language string
	UILang                 string // the page's language, for the post's metadata line
	Content                template.HTML
	Images                 []imageView
	Published              time.Time
	Edited                 bool
	Replies                int64 // visible residents' replies in its thread
}

func (s *Server) postView(c echo.Context, g *store.Group, p *store.Post) postView {
	return postView{URL: s.u.Post(g.Slug, p.PublicID), Summary: p.Summary, Language: p.Language, UILang: s.tr(c).Lang,
		// ContentHTML was sanitised with the allow-list when it was stored;
		// its headings sit below the page's h1 and section h2.
		Content: template.HTML(shiftHeadings(p.ContentHTML, 2)), Images: s.imageViews(p), Published: p.PublishedAt, Edited: p.EditedAt != nil}
}

// groupIconPath is the group avatar every group has until staff can
// upload one (the actor's icon too).
const groupIconPath = "/static/group-icon.png"

type groupPage struct {
	page
	Group         *store.Group
	Handle, Icon  string
	IconAlt       string
	Header        *imageView // the group's header image, if set
	RSS, Atom     string
	Followers     int64
	Pinned, Posts []postView
	Older, Newer  string
	Follow        followForm
	Service       *groupService
	Mode          string
	// Fields are the profile fields; Responsible names the responsible
	// staff's functions (roles), not the people.
	Fields      []profileField
	Responsible string
}

type profileField struct {
	Name, Value string
	Link        bool
}

// responsibleFunctions describes who answers for a group without naming
// staff in public: how many, and their roles.
func (s *Server) responsibleFunctions(c echo.Context, g *store.Group) (string, error) {
	ms, err := s.st.ListGroupStaff(c.Request().Context(), g.ID)
	if err != nil {
		return "", err
	}
	n, seen, roles := 0, map[string]bool{}, []string{}
	for _, m := range ms {
		if !m.Responsible {
			continue
		}
		n++
		if r := s.roleName(c, m.Role); !seen[r] {
			seen[r] = true
			roles = append(roles, r)
		}
	}
	if n == 0 {
		return "", nil
	}
	return s.tr(c).T("group.responsible_value", "Count", n, "Roles", strings.Join(roles, ", ")), nil
}

func (s *Server) group(c echo.Context) error {
	ctx := c.Request().Context()
	if wantsAS(c.Request()) {
		body, err := s.fed.GroupActorJSON(ctx, c.Param("slug"))
		if err != nil {
			return err
		}
		return asJSON(c, http.StatusOK, body)
	}
	g, err := s.fed.Group(ctx, c.Param("slug"))
	if err != nil {
		return err
	}
	allowFollowRedirect(c)
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	version := s.fed.ContentVersion()
	l := s.tr(c)
	cacheKey := g.Slug + "|" + l.Lang // the page's language is part of what it is
	if before == 0 {
		if body, ok := s.pages.get(cacheKey, version); ok {
			return s.html(c, http.StatusOK, body)
		}
	}
	const perPage = 20
	posts, err := s.st.ListPosts(ctx, g.ID, before, perPage)
	if err != nil {
		return err
	}
	n, err := s.fed.FollowerCount(ctx, g.ID)
	if err != nil {
		return err
	}
	groupURL := s.u.Group(g.Slug)
	v := groupPage{page: s.page(c, g.Name, groupURL), Group: g, Handle: s.handle(g.Slug), Followers: n,
		Icon: groupIconPath, IconAlt: l.T("group.icon_alt", "Name", g.Name), RSS: groupURL + "/feed.rss", Atom: groupURL + "/feed.atom",
		Follow: followForm{Slug: g.Slug}}
	if v.Service, err = s.groupServiceFor(ctx, g); err != nil {
		return err
	}
	if m := g.Avatar; m != nil {
		v.Icon, v.IconAlt = s.u.Media(m.SmallKey), g.AvatarAlt
	}
	if m := g.Header; m != nil {
		v.Header = &imageView{Small: s.u.Media(m.SmallKey), Large: s.u.Media(m.LargeKey), Alt: g.HeaderAlt, Width: m.SmallWidth, Height: m.SmallHeight}
	}
	v.Alternates = append(v.Alternates,
		alternate{Kind: "rss", Title: g.Name + " (RSS)", Href: v.RSS},
		alternate{Kind: "atom", Title: g.Name + " (Atom)", Href: v.Atom})
	v.OG = &openGraph{Type: "profile", SiteName: v.InstanceName, Title: g.Name, Description: firstNonEmpty(g.Summary, g.Purpose),
		URL: groupURL, Image: s.u.Base + groupIconPath, ImageAlt: v.IconAlt}
	if g.Avatar != nil {
		v.OG.Image = v.Icon
	}
	for _, f := range federation.GroupFields(g) {
		_, err := activitypub.ParseIRI(f.Value)
		v.Fields = append(v.Fields, profileField{Name: f.Name, Value: f.Value, Link: err == nil})
	}
	if v.Responsible, err = s.responsibleFunctions(c, g); err != nil {
		return err
	}
	if before == 0 {
		pinned, err := s.st.PinnedPosts(ctx, g.ID)
		if err != nil {
			return err
		}
		for i := range pinned {
			v.Pinned = append(v.Pinned, s.postView(c, g, &pinned[i]))
		}
	} else {
		v.Newer = groupURL
		v.Title = l.T("group.title.older", "Name", g.Name) + " – " + v.InstanceName
	}
	for i := range posts {
		v.Posts = append(v.Posts, s.postView(c, g, &posts[i]))
	}
	v.Mode = modeText(s.tr(c), g.DiscussionMode)
	roots := make([]string, 0, len(v.Posts)+len(v.Pinned))
	for _, p := range append(append([]postView{}, v.Pinned...), v.Posts...) {
		roots = append(roots, p.URL)
	}
	counts, err := s.st.CountThread(ctx, roots)
	if err != nil {
		return err
	}
	for i := range v.Pinned {
		v.Pinned[i].Replies = counts[v.Pinned[i].URL]
	}
	for i := range v.Posts {
		v.Posts[i].Replies = counts[v.Posts[i].URL]
	}
	if len(posts) == perPage {
		v.Older = groupURL + "?before=" + strconv.FormatInt(posts[len(posts)-1].ID, 10)
	}
	var buf bytes.Buffer
	if err := s.tmpl(c).ExecuteTemplate(&buf, "group.html", v); err != nil {
		return err
	}
	if before == 0 {
		s.pages.put(cacheKey, version, buf.Bytes())
	}
	return s.html(c, http.StatusOK, buf.Bytes())
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}
