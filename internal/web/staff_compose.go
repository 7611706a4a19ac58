package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"golang.org/x/text/language"

	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/store"
)

// Composing, editing, deleting and pinning posts, through the federation
// service the command line uses too.

type postForm struct {
	Text, Summary, Language string
	// Date and Time schedule the post (the instance's time zone).
	Date, Time string
}

type composePage struct {
	page
	CSRF, Action, Submit, Heading string
	GroupName, GroupPath          string
	Form                          postForm
	Errors                        map[string]string
	Error                         string
	Preview                       template.HTML
	PreviewLang                   string
	HasPreview                    bool
	// Scheduling offers "Save draft" and "Schedule" (new posts and drafts,
	// not published posts).
	Scheduling bool
	TimeZone   string
	Now        string // the instance's local date, for the date input's min
}

func validLanguage(tag string) bool {
	_, err := language.Parse(tag)
	return err == nil
}

func readPostForm(c echo.Context) postForm {
	return postForm{Text: strings.TrimSpace(strings.ReplaceAll(c.FormValue("text"), "\r\n", "\n")),
		Summary: strings.TrimSpace(c.FormValue("summary")), Language: strings.TrimSpace(c.FormValue("language")),
		Date: strings.TrimSpace(c.FormValue("date")), Time: strings.TrimSpace(c.FormValue("time"))}
}

// check returns the form's problems by field, in the words staff read.
func (f *postForm) check(defaultLang string) map[string]string {
	errs := map[string]string{}
	if f.Text == "" {
		errs["text"] = "Skriv inläggets text."
	} else if n := utf8.RuneCountInString(f.Text); n > federation.MaxPostChars {
		errs["text"] = fmt.Sprintf("Texten är %d tecken lång; högst %d tecken får plats.", n, federation.MaxPostChars)
	}
	if f.Language == "" {
		f.Language = defaultLang
	}
	if !validLanguage(f.Language) {
		errs["language"] = "Språket måste vara en språkkod enligt BCP 47, till exempel sv, en eller so."
	}
	if utf8.RuneCountInString(f.Summary) > 500 {
		errs["summary"] = "Innehållsvarningen får vara högst 500 tecken."
	}
	return errs
}

func (s *Server) composeView(c echo.Context, g *store.Group, title string) composePage {
	return composePage{page: s.staffPage(c, title), CSRF: csrfFor(staffFrom(c).token), Heading: title,
		GroupName: g.Name, GroupPath: staffGroupPath(g.Slug)}
}

// renderCompose shows the form again: with a preview, or with errors.
func (s *Server) renderCompose(c echo.Context, v composePage, preview bool) error {
	code := http.StatusOK
	if len(v.Errors) > 0 {
		code = http.StatusUnprocessableEntity
		v.Error = "Inlägget är inte klart. Rätta uppgifterna nedan."
	} else if preview {
		html, err := s.fed.Preview(v.Form.Text)
		if err != nil {
			return err
		}
		v.HasPreview, v.Preview, v.PreviewLang = true, template.HTML(shiftHeadings(html, 2)), v.Form.Language
	}
	return s.render(c, code, "staff_compose.html", v)
}

func (s *Server) composeForm(c echo.Context) error {
	g, err := s.publishableGroup(c)
	if err != nil {
		return err
	}
	v := s.composeView(c, g, "Nytt inlägg i "+g.Name)
	v.Action, v.Submit, v.Form.Language = staffGroupPath(g.Slug)+"/compose", "Publicera", g.Language
	s.offerScheduling(&v)
	return s.render(c, http.StatusOK, "staff_compose.html", v)
}

func (s *Server) compose(c echo.Context) error {
	g, err := s.publishableGroup(c)
	if err != nil {
		return err
	}
	sc := staffFrom(c)
	v := s.composeView(c, g, "Nytt inlägg i "+g.Name)
	v.Action, v.Submit, v.Form = staffGroupPath(g.Slug)+"/compose", "Publicera", readPostForm(c)
	s.offerScheduling(&v)
	v.Errors = v.Form.check(g.Language)
	if act := c.FormValue("action"); act == "draft" || act == "schedule" {
		return s.saveDraft(c, g, "", v, act == "schedule")
	}
	if len(v.Errors) > 0 || c.FormValue("action") != "publish" {
		return s.renderCompose(c, v, true)
	}
	uid := sc.user.ID
	_, postURL, err := s.fed.Publish(c.Request().Context(), g.Slug, federation.PostInput{Text: v.Form.Text, Summary: v.Form.Summary,
		Language: v.Form.Language, AuthorUserID: &uid})
	if errors.Is(err, federation.ErrInvalid) {
		v.Error = "Inlägget publicerades inte: " + err.Error()
		return s.render(c, http.StatusUnprocessableEntity, "staff_compose.html", v)
	}
	if err != nil {
		return err
	}
	if err := s.audit(c, sc.user, sc.user.Username, "post_publish", postURL, "group "+g.Slug); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice(staffGroupPath(g.Slug), "Inlägget är publicerat och skickas till följarna."))
}

func (s *Server) editForm(c echo.Context) error {
	p, g, err := s.staffPost(c)
	if err != nil {
		return err
	}
	v := s.composeView(c, g, "Redigera inlägg i "+g.Name)
	v.Action, v.Submit = "/staff/posts/"+p.PublicID+"/edit", "Spara ändringar"
	v.Form = postForm{Text: p.Source, Summary: p.Summary, Language: p.Language}
	return s.render(c, http.StatusOK, "staff_compose.html", v)
}

func (s *Server) edit(c echo.Context) error {
	p, g, err := s.staffPost(c)
	if err != nil {
		return err
	}
	sc := staffFrom(c)
	v := s.composeView(c, g, "Redigera inlägg i "+g.Name)
	v.Action, v.Submit, v.Form = "/staff/posts/"+p.PublicID+"/edit", "Spara ändringar", readPostForm(c)
	v.Errors = v.Form.check(p.Language)
	if len(v.Errors) > 0 || c.FormValue("action") != "publish" {
		return s.renderCompose(c, v, true)
	}
	uid := sc.user.ID
	postURL := s.u.Post(g.Slug, p.PublicID)
	_, err = s.fed.Edit(c.Request().Context(), postURL, federation.PostInput{Text: v.Form.Text, Summary: v.Form.Summary,
		Language: v.Form.Language, AuthorUserID: &uid})
	if errors.Is(err, federation.ErrInvalid) {
		v.Error = "Ändringen sparades inte: " + err.Error()
		return s.render(c, http.StatusUnprocessableEntity, "staff_compose.html", v)
	}
	if err != nil {
		return err
	}
	if err := s.audit(c, sc.user, sc.user.Username, "post_edit", postURL, "group "+g.Slug); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice(staffGroupPath(g.Slug), "Ändringen är sparad och skickas till följarna."))
}

type deletePage struct {
	page
	CSRF, Action, GroupPath, GroupName string
	Post                               staffPostRow
}

// deleteConfirm asks before deleting: a deleted post cannot come back.
func (s *Server) deleteConfirm(c echo.Context) error {
	p, g, err := s.staffPost(c)
	if err != nil {
		return err
	}
	v := deletePage{page: s.staffPage(c, "Ta bort inlägg"), CSRF: csrfFor(staffFrom(c).token), Action: "/staff/posts/" + p.PublicID + "/delete",
		GroupPath: staffGroupPath(g.Slug), GroupName: g.Name,
		Post: staffPostRow{ID: p.PublicID, URL: s.u.Post(g.Slug, p.PublicID), Summary: p.Summary, Language: p.Language,
			Content: template.HTML(shiftHeadings(p.ContentHTML, 1)), Published: p.PublishedAt.UTC().Format("2006-01-02 15:04 UTC")}}
	return s.render(c, http.StatusOK, "staff_delete.html", v)
}

func (s *Server) deletePost(c echo.Context) error {
	p, g, err := s.staffPost(c)
	if err != nil {
		return err
	}
	sc := staffFrom(c)
	postURL := s.u.Post(g.Slug, p.PublicID)
	if err := s.fed.Delete(c.Request().Context(), postURL); err != nil {
		return err
	}
	if err := s.audit(c, sc.user, sc.user.Username, "post_delete", postURL, "group "+g.Slug); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice(staffGroupPath(g.Slug), "Inlägget är borttaget."))
}

func (s *Server) pinPost(c echo.Context) error   { return s.setPinned(c, true) }
func (s *Server) unpinPost(c echo.Context) error { return s.setPinned(c, false) }

func (s *Server) setPinned(c echo.Context, pinned bool) error {
	p, g, err := s.staffPost(c)
	if err != nil {
		return err
	}
	sc := staffFrom(c)
	postURL := s.u.Post(g.Slug, p.PublicID)
	if _, err := s.fed.Pin(c.Request().Context(), postURL, pinned); err != nil {
		return err
	}
	action, notice := "post_unpin", "Inlägget är inte längre fäst."
	if pinned {
		action, notice = "post_pin", "Inlägget är fäst överst på gruppens sida."
	}
	if err := s.audit(c, sc.user, sc.user.Username, action, postURL, "group "+g.Slug); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice(staffGroupPath(g.Slug), notice))
}
