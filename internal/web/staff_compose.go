package web

import (
	"errors"
	"html/template"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"golang.org/x/text/language"

	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/i18n"
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
	// Uploads: images are offered when media storage is configured.
	Uploads      bool
	Images       []imageField // uploaded or attached, carried by id
	Slots        []slotField  // empty file inputs
	ImageErrors  []fieldError // for the summary at the top
	MaxBytes     string
	MaxImages    int
	DraftMedia   map[string]bool   // images of the draft edited: kept whoever uploaded them
	InReplyTo    string            // the resident's note a staff reply answers
	ReplyTo      *store.RemoteNote // shown above the form
	ReplyContent template.HTML
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
func (f *postForm) check(l *i18n.Localizer, defaultLang string) map[string]string {
	errs := map[string]string{}
	if f.Text == "" {
		errs["text"] = l.T("staff.compose.error.text_empty")
	} else if n := utf8.RuneCountInString(f.Text); n > federation.MaxPostChars {
		errs["text"] = l.T("staff.compose.error.text_too_long", "Length", l.Number(int64(n)), "Max", l.Number(federation.MaxPostChars))
	}
	if f.Language == "" {
		f.Language = defaultLang
	}
	if !validLanguage(f.Language) {
		errs["language"] = l.T("staff.form.error.language")
	}
	if utf8.RuneCountInString(f.Summary) > 500 {
		errs["summary"] = l.T("staff.compose.error.summary_too_long", "Max", 500)
	}
	return errs
}

func (s *Server) composeView(c echo.Context, g *store.Group, title string) composePage {
	return composePage{page: s.staffPage(c, title), CSRF: csrfFor(staffFrom(c).token), Heading: title,
		GroupName: g.Name, GroupPath: staffGroupPath(g.Slug), Uploads: s.opt.Media.Storage != nil,
		MaxBytes: byteSize(s.opt.Media.Limits.MaxBytes), MaxImages: federation.MaxAttachments}
}

// renderCompose shows the form again: with a preview, or with errors.
func (s *Server) renderCompose(c echo.Context, v composePage, preview bool) error {
	code := http.StatusOK
	v.fillSlots()
	if len(v.Errors) > 0 {
		code = http.StatusUnprocessableEntity
		v.Error = s.tr(c).T("staff.compose.error.not_ready")
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
	v := s.composeView(c, g, s.tr(c).T("staff.compose.new_heading", "Group", g.Name))
	v.Action, v.Submit, v.Form.Language = staffGroupPath(g.Slug)+"/compose", s.tr(c).T("staff.compose.publish"), g.Language
	v.fillSlots()
	if err := s.replyContext(c, g, &v, c.QueryParam("svar")); err != nil {
		return err
	}
	s.offerScheduling(&v)
	return s.render(c, http.StatusOK, "staff_compose.html", v)
}

func (s *Server) compose(c echo.Context) error {
	g, err := s.publishableGroup(c)
	if err != nil {
		return err
	}
	sc := staffFrom(c)
	v := s.composeView(c, g, s.tr(c).T("staff.compose.new_heading", "Group", g.Name))
	v.Action, v.Submit, v.Form = staffGroupPath(g.Slug)+"/compose", s.tr(c).T("staff.compose.publish"), readPostForm(c)
	if err := s.replyContext(c, g, &v, c.FormValue("in_reply_to")); err != nil {
		return err
	}
	s.offerScheduling(&v)
	v.Errors = v.Form.check(s.tr(c), g.Language)
	if err := s.readImages(c, g, 0, &v); err != nil {
		return err
	}
	if act := c.FormValue("action"); act == "draft" || act == "schedule" {
		return s.saveDraft(c, g, "", v, act == "schedule")
	}
	if len(v.Errors) > 0 || c.FormValue("action") != "publish" {
		return s.renderCompose(c, v, true)
	}
	uid := sc.user.ID
	_, postURL, err := s.fed.Publish(c.Request().Context(), g.Slug, federation.PostInput{Text: v.Form.Text, Summary: v.Form.Summary,
		Language: v.Form.Language, AuthorUserID: &uid, Media: v.mediaRefs(), InReplyTo: v.InReplyTo})
	if errors.Is(err, federation.ErrInvalid) {
		v.Error = s.tr(c).T("staff.compose.error.not_published", "Reason", err.Error())
		v.fillSlots()
		return s.render(c, http.StatusUnprocessableEntity, "staff_compose.html", v)
	}
	if err != nil {
		return err
	}
	if err := s.audit(c, sc.user, sc.user.Username, "post_publish", postURL, "group "+g.Slug); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice(staffGroupPath(g.Slug), s.tr(c).T("staff.compose.notice.published")))
}

func (s *Server) editForm(c echo.Context) error {
	p, g, err := s.staffPost(c)
	if err != nil {
		return err
	}
	v := s.composeView(c, g, s.tr(c).T("staff.compose.edit_heading", "Group", g.Name))
	v.Action, v.Submit = "/staff/posts/"+p.PublicID+"/edit", s.tr(c).T("staff.common.save_changes")
	v.Form = postForm{Text: p.Source, Summary: p.Summary, Language: p.Language}
	for i, a := range federation.Attachments(p) {
		v.Images = append(v.Images, imageField{N: i + 1, ID: a.ID, Alt: a.Alt, Small: s.u.Media(a.SmallKey), Width: a.SmallWidth, Height: a.SmallHeight})
	}
	v.fillSlots()
	return s.render(c, http.StatusOK, "staff_compose.html", v)
}

func (s *Server) edit(c echo.Context) error {
	p, g, err := s.staffPost(c)
	if err != nil {
		return err
	}
	sc := staffFrom(c)
	v := s.composeView(c, g, s.tr(c).T("staff.compose.edit_heading", "Group", g.Name))
	v.Action, v.Submit, v.Form = "/staff/posts/"+p.PublicID+"/edit", s.tr(c).T("staff.common.save_changes"), readPostForm(c)
	v.Errors = v.Form.check(s.tr(c), p.Language)
	if err := s.readImages(c, g, p.ID, &v); err != nil {
		return err
	}
	if len(v.Errors) > 0 || c.FormValue("action") != "publish" {
		return s.renderCompose(c, v, true)
	}
	uid := sc.user.ID
	postURL := s.u.Post(g.Slug, p.PublicID)
	in := federation.PostInput{Text: v.Form.Text, Summary: v.Form.Summary, Language: v.Form.Language, AuthorUserID: &uid, InReplyTo: v.InReplyTo}
	if v.Uploads {
		in.Media = v.mediaRefs()
	}
	_, err = s.fed.Edit(c.Request().Context(), postURL, in)
	if errors.Is(err, federation.ErrInvalid) {
		v.Error = s.tr(c).T("staff.compose.error.not_saved", "Reason", err.Error())
		v.fillSlots()
		return s.render(c, http.StatusUnprocessableEntity, "staff_compose.html", v)
	}
	if err != nil {
		return err
	}
	if err := s.audit(c, sc.user, sc.user.Username, "post_edit", postURL, "group "+g.Slug); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice(staffGroupPath(g.Slug), s.tr(c).T("staff.compose.notice.edited")))
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
	v := deletePage{page: s.staffPage(c, s.tr(c).T("staff.delete.title")), CSRF: csrfFor(staffFrom(c).token), Action: "/staff/posts/" + p.PublicID + "/delete",
		GroupPath: staffGroupPath(g.Slug), GroupName: g.Name,
		Post: staffPostRow{ID: p.PublicID, URL: s.u.Post(g.Slug, p.PublicID), Summary: p.Summary, Language: p.Language,
			Content: template.HTML(shiftHeadings(p.ContentHTML, 1)), Published: p.PublishedAt}}
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
	return c.Redirect(http.StatusSeeOther, withNotice(staffGroupPath(g.Slug), s.tr(c).T("staff.delete.notice.deleted")))
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
	action, notice := "post_unpin", s.tr(c).T("staff.group.notice.unpinned")
	if pinned {
		action, notice = "post_pin", s.tr(c).T("staff.group.notice.pinned")
	}
	if err := s.audit(c, sc.user, sc.user.Username, action, postURL, "group "+g.Slug); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice(staffGroupPath(g.Slug), notice))
}

// replyContext prepares the form for a reply as the group to a resident's
// shown note in the group's threads ("" : a new post).
func (s *Server) replyContext(c echo.Context, g *store.Group, v *composePage, iri string) error {
	if iri == "" {
		return nil
	}
	n, err := s.st.RemoteNoteByIRI(c.Request().Context(), iri)
	if err != nil || n.GroupID != g.ID || n.State != store.NoteVisible || n.DeletedAt != nil {
		return store.ErrNotFound
	}
	v.InReplyTo, v.ReplyTo, v.ReplyContent = n.IRI, n, template.HTML(shiftHeadings(n.ContentHTML, 2))
	v.Heading = s.tr(c).T("staff.reply.heading", "Group", g.Name)
	v.Title = v.Heading
	return nil
}
