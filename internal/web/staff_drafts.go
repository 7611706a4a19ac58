package web

import (
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/store"
)

// Drafts and scheduled posts: saved from the compose form, listed on the
// group's staff page, edited, rescheduled, published now or discarded.
// Times are entered and shown in the instance's time zone.

const (
	dateLayout = "2006-01-02"
	timeLayout = "15:04:05"
)

func (s *Server) offerScheduling(v *composePage) {
	v.Scheduling, v.TimeZone = true, s.opt.TimeZone.String()
	v.Now = s.st.Now().In(s.opt.TimeZone).Format(dateLayout)
}

// localTime formats t in the instance's time zone for staff.
func (s *Server) localTime(t time.Time) string {
	return t.In(s.opt.TimeZone).Format("2006-01-02 15:04:05 MST")
}

// when parses the form's date and time (seconds optional) in the
// instance's time zone.
func (s *Server) when(c echo.Context, f postForm) (time.Time, string) {
	l := s.tr(c)
	if f.Date == "" || f.Time == "" {
		return time.Time{}, l.T("staff.drafts.error.no_time")
	}
	clock := f.Time
	if strings.Count(clock, ":") == 1 {
		clock += ":00"
	}
	t, err := time.ParseInLocation(dateLayout+" "+timeLayout, f.Date+" "+clock, s.opt.TimeZone)
	if err != nil {
		return time.Time{}, l.T("staff.drafts.error.bad_time")
	}
	if !t.After(s.st.Now()) {
		return time.Time{}, l.T("staff.drafts.error.past", "Time", s.localTime(t))
	}
	return t, ""
}

// saveDraft stores the form as a draft (id "" for a new one), scheduled
// when schedule is set, and returns to the group's staff page.
func (s *Server) saveDraft(c echo.Context, g *store.Group, id string, v composePage, schedule bool) error {
	var at *time.Time
	if schedule {
		t, msg := s.when(c, v.Form)
		if msg != "" {
			v.Errors["when"] = msg
		}
		at = &t
	}
	if len(v.Errors) > 0 {
		return s.renderCompose(c, v, false)
	}
	sc := staffFrom(c)
	uid := sc.user.ID
	d, err := s.fed.SaveDraft(c.Request().Context(), g.Slug, id, federation.PostInput{Text: v.Form.Text, Summary: v.Form.Summary,
		Language: v.Form.Language, AuthorUserID: &uid, Media: v.mediaRefs()}, at)
	switch {
	case errors.Is(err, federation.ErrPublished):
		return echo.NewHTTPError(http.StatusConflict, s.tr(c).T("staff.drafts.error.gone"))
	case errors.Is(err, federation.ErrInvalid):
		v.Error = s.tr(c).T("staff.drafts.error.not_saved", "Reason", err.Error())
		v.fillSlots()
		return s.render(c, http.StatusUnprocessableEntity, "staff_compose.html", v)
	case err != nil:
		return err
	}
	action, notice := "draft_save", s.tr(c).T("staff.drafts.notice.saved")
	if schedule {
		action, notice = "post_schedule", s.tr(c).T("staff.drafts.notice.scheduled", "Time", s.localTime(*d.ScheduledAt))
	}
	if err := s.audit(c, sc.user, sc.user.Username, action, "draft "+d.PublicID, "group "+g.Slug); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice(staffGroupPath(g.Slug), notice))
}

// staffDraft loads the unpublished draft named by :id and its group, and
// refuses staff who may not publish in that group.
func (s *Server) staffDraft(c echo.Context) (*store.Draft, *store.Group, error) {
	ctx := c.Request().Context()
	d, err := s.st.DraftByPublicID(ctx, c.Param("id"))
	if err != nil {
		return nil, nil, err
	}
	g, err := s.st.GroupByID(ctx, d.GroupID)
	if err != nil {
		return nil, nil, err
	}
	if err := s.mayPublish(c, g); err != nil {
		return nil, nil, err
	}
	if d.State != store.DraftDraft && d.State != store.DraftScheduled {
		return nil, nil, echo.NewHTTPError(http.StatusGone, s.tr(c).T("staff.drafts.error.gone"))
	}
	return d, g, nil
}

func (s *Server) draftView(c echo.Context, d *store.Draft, g *store.Group) composePage {
	v := s.composeView(c, g, s.tr(c).T("staff.drafts.edit_heading", "Group", g.Name))
	v.Action, v.Submit = "/staff/drafts/"+d.PublicID+"/edit", s.tr(c).T("staff.drafts.publish_now")
	s.offerScheduling(&v)
	// The draft's images may be kept by whoever edits it next.
	v.DraftMedia = map[string]bool{}
	for _, r := range federation.DraftMedia(d) {
		v.DraftMedia[r.PublicID] = true
	}
	return v
}

// draftImages shows a draft's images in its form, with their alt text.
func (s *Server) draftImages(c echo.Context, d *store.Draft, v *composePage) error {
	if !v.Uploads {
		return nil
	}
	for _, r := range federation.DraftMedia(d) {
		m, err := s.st.MediaByPublicID(c.Request().Context(), r.PublicID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		v.Images = append(v.Images, imageField{N: len(v.Images) + 1, ID: m.PublicID, Alt: r.Alt, Small: s.u.Media(m.SmallKey),
			Width: m.SmallWidth, Height: m.SmallHeight})
	}
	v.fillSlots()
	return nil
}

func (s *Server) draftForm(c echo.Context) error {
	d, g, err := s.staffDraft(c)
	if err != nil {
		return err
	}
	v := s.draftView(c, d, g)
	v.Form = postForm{Text: d.Source, Summary: d.Summary, Language: d.Language}
	if d.ScheduledAt != nil {
		lt := d.ScheduledAt.In(s.opt.TimeZone)
		v.Form.Date, v.Form.Time = lt.Format(dateLayout), lt.Format(timeLayout)
	}
	if d.LastError != "" {
		v.Error = s.tr(c).T("staff.drafts.failed", "Reason", d.LastError)
	}
	if err := s.draftImages(c, d, &v); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "staff_compose.html", v)
}

func (s *Server) editDraft(c echo.Context) error {
	d, g, err := s.staffDraft(c)
	if err != nil {
		return err
	}
	v := s.draftView(c, d, g)
	v.Form = readPostForm(c)
	v.Errors = v.Form.check(s.tr(c), g.Language)
	if err := s.readImages(c, g, 0, &v); err != nil {
		return err
	}
	switch c.FormValue("action") {
	case "draft":
		return s.saveDraft(c, g, d.PublicID, v, false)
	case "schedule":
		return s.saveDraft(c, g, d.PublicID, v, true)
	case "publish":
		if len(v.Errors) > 0 {
			return s.renderCompose(c, v, false)
		}
		// Save the text as edited, then publish that.
		if _, err := s.fed.SaveDraft(c.Request().Context(), g.Slug, d.PublicID, federation.PostInput{Text: v.Form.Text,
			Summary: v.Form.Summary, Language: v.Form.Language, AuthorUserID: &staffFrom(c).user.ID, Media: v.mediaRefs()}, nil); err != nil {
			return s.draftError(c, v, err)
		}
		return s.publishDraftNow(c, d, g)
	}
	return s.renderCompose(c, v, true)
}

func (s *Server) draftError(c echo.Context, v composePage, err error) error {
	switch {
	case errors.Is(err, federation.ErrPublished):
		return echo.NewHTTPError(http.StatusConflict, s.tr(c).T("staff.drafts.error.gone"))
	case errors.Is(err, federation.ErrInvalid):
		v.Error = s.tr(c).T("staff.compose.error.not_published", "Reason", err.Error())
		return s.render(c, http.StatusUnprocessableEntity, "staff_compose.html", v)
	}
	return err
}

// publishDraft publishes a draft or scheduled post at once.
func (s *Server) publishDraft(c echo.Context) error {
	d, g, err := s.staffDraft(c)
	if err != nil {
		return err
	}
	return s.publishDraftNow(c, d, g)
}

func (s *Server) publishDraftNow(c echo.Context, d *store.Draft, g *store.Group) error {
	sc := staffFrom(c)
	_, postURL, err := s.fed.PublishDraft(c.Request().Context(), d.PublicID)
	if err != nil {
		return s.draftError(c, s.draftView(c, d, g), err)
	}
	if err := s.audit(c, sc.user, sc.user.Username, "post_publish", postURL, "group "+g.Slug+"; draft "+d.PublicID); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice(staffGroupPath(g.Slug), s.tr(c).T("staff.compose.notice.published")))
}

// discardDraft drops a draft or cancels a scheduled post.
func (s *Server) discardDraft(c echo.Context) error {
	d, g, err := s.staffDraft(c)
	if err != nil {
		return err
	}
	sc := staffFrom(c)
	if err := s.fed.DiscardDraft(c.Request().Context(), d.PublicID); err != nil {
		return s.draftError(c, s.draftView(c, d, g), err)
	}
	if err := s.audit(c, sc.user, sc.user.Username, "draft_discard", "draft "+d.PublicID, "group "+g.Slug); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice(staffGroupPath(g.Slug), s.tr(c).T("staff.drafts.notice.discarded")))
}

type draftRow struct {
	ID, Excerpt, Language, State, When, LastError string
	Scheduled                                     bool
}

// draftRows lists a group's drafts for its staff page.
func (s *Server) draftRows(c echo.Context, g *store.Group) ([]draftRow, error) {
	ds, err := s.st.ListDrafts(c.Request().Context(), g.ID)
	if err != nil {
		return nil, err
	}
	out := make([]draftRow, 0, len(ds))
	for _, d := range ds {
		l := s.tr(c)
		r := draftRow{ID: d.PublicID, Excerpt: draftExcerpt(d.Source, 160), Language: d.Language, State: l.T("staff.drafts.state.draft"), LastError: d.LastError}
		if d.State == store.DraftScheduled && d.ScheduledAt != nil {
			r.State, r.Scheduled = l.T("staff.drafts.state.scheduled"), true
			r.When = l.T("staff.drafts.when.scheduled", "Time", s.localTime(*d.ScheduledAt))
		} else {
			r.When = l.T("staff.drafts.when.saved", "Time", s.localTime(d.UpdatedAt))
		}
		out = append(out, r)
	}
	return out, nil
}

func draftExcerpt(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
