package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/internal/privacy"
	"github.com/torget/torget/internal/store"
	"github.com/torget/torget/internal/subject"
)

// Erasure requests (GDPR art. 17, PRV-5), for administrators:
// /staff/privacy/erasure.

func (s *Server) erasureRoutes(admin *echo.Group) {
	if s.opt.Erasure == nil {
		return
	}
	admin.GET("/privacy/erasure", s.erasureList)
	admin.POST("/privacy/erasure", s.erasureRegister)
	admin.GET("/privacy/erasure/:id", s.erasurePage)
	admin.POST("/privacy/erasure/:id/decide", s.erasureDecide)
	admin.GET("/privacy/erasure/:id/answer", s.erasureAnswer)
}

type erasureListPage struct {
	page
	CSRF             string
	Requests         []erasureRow
	Error            string
	Account, Contact string
	Text             string
}

type erasureRow struct {
	ID         int64
	Handle     string
	StatusName string
	Open       bool
	Received   store.ErasureRequest
}

var erasureStatusNames = map[string]string{
	store.ErasureOpen:          msg("staff.erasure.status.open"),
	store.ErasureRemoved:       msg("staff.erasure.status.removed"),
	store.ErasurePseudonymised: msg("staff.erasure.status.pseudonymised"),
	store.ErasureRefused:       msg("staff.erasure.status.refused"),
}

func (s *Server) erasureList(c echo.Context) error {
	return s.renderErasureList(c, http.StatusOK, "")
}

func (s *Server) renderErasureList(c echo.Context, code int, errMsg string) error {
	rs, err := s.st.ListErasureRequests(c.Request().Context())
	if err != nil {
		return err
	}
	l := s.tr(c)
	v := erasureListPage{page: s.staffPage(c, l.T("staff.erasure.heading")), CSRF: csrfFor(staffFrom(c).token), Error: errMsg,
		Account: c.FormValue("account"), Contact: c.FormValue("contact"), Text: c.FormValue("text")}
	for _, r := range rs {
		v.Requests = append(v.Requests, erasureRow{ID: r.ID, Handle: r.Handle, StatusName: l.T(erasureStatusNames[r.Status]),
			Open: r.Status == store.ErasureOpen, Received: r})
	}
	return s.render(c, code, "staff_erasure_list.html", v)
}

func (s *Server) erasureRegister(c echo.Context) error {
	sc := staffFrom(c)
	r, err := s.opt.Erasure.Register(c.Request().Context(), privacy.Staff{ID: sc.user.ID, Name: sc.user.Username},
		c.FormValue("account"), c.FormValue("contact"), c.FormValue("text"))
	l := s.tr(c)
	switch {
	case errors.Is(err, privacy.ErrInvalid):
		return s.renderErasureList(c, http.StatusUnprocessableEntity, l.T("staff.erasure.error.text"))
	case errors.Is(err, privacy.ErrUnknownAccount):
		return s.renderErasureList(c, http.StatusUnprocessableEntity, l.T("staff.export.not_found", "Account", c.FormValue("account")))
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice(erasurePath(r.ID), l.T("staff.erasure.registered")))
}

type erasurePageView struct {
	page
	CSRF       string
	Notice     string
	Error      string
	Request    *store.ErasureRequest
	StatusName string
	Open       bool
	Ground     string
	Grounds    []groundOption
	Held       *subject.Export
	Action     string
	Reasons    string
	Chosen     string
	DecidedAt  time.Time
}

type groundOption struct{ Code, Label, Statute string }

var erasureGroundLabels = map[string]string{
	"gdpr-17-1":     msg("staff.erasure.ground.gdpr-17-1"),
	"gdpr-21":       msg("staff.erasure.ground.gdpr-21"),
	"tf-arkivlagen": msg("staff.erasure.ground.tf-arkivlagen"),
	"gdpr-17-3-b":   msg("staff.erasure.ground.gdpr-17-3-b"),
	"gdpr-17-3-d":   msg("staff.erasure.ground.gdpr-17-3-d"),
}

func (s *Server) erasurePage(c echo.Context) error {
	return s.renderErasure(c, http.StatusOK, c.QueryParam("notice"), "")
}

func (s *Server) loadErasure(c echo.Context) (*store.ErasureRequest, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return nil, store.ErrNotFound
	}
	return s.st.ErasureRequestByID(c.Request().Context(), id)
}

func (s *Server) renderErasure(c echo.Context, code int, notice, errMsg string) error {
	ctx := c.Request().Context()
	r, err := s.loadErasure(c)
	if err != nil {
		return err
	}
	l := s.tr(c)
	v := erasurePageView{page: s.staffPage(c, l.T("staff.erasure.request.heading", "ID", r.ID)), CSRF: csrfFor(staffFrom(c).token),
		Notice: notice, Error: errMsg, Request: r, StatusName: l.T(erasureStatusNames[r.Status]), Open: r.Status == store.ErasureOpen,
		Action: c.FormValue("action"), Reasons: c.FormValue("reasons"), Chosen: c.FormValue("ground")}
	if r.DecidedAt != nil {
		v.DecidedAt = *r.DecidedAt
	}
	for _, g := range privacy.Grounds {
		o := groundOption{Code: g.Code, Label: l.T(erasureGroundLabels[g.Code]), Statute: g.Statute}
		v.Grounds = append(v.Grounds, o)
		if g.Code == r.LegalGround {
			v.Ground = o.Label + " (" + o.Statute + ")"
		}
	}
	if v.Held, err = subject.Build(ctx, s.st, r.SubjectIRI, s.opt.Privacy.Controller); err != nil {
		return err
	}
	return s.render(c, code, "staff_erasure.html", v)
}

func (s *Server) erasureDecide(c echo.Context) error {
	r, err := s.loadErasure(c)
	if err != nil {
		return err
	}
	sc := staffFrom(c)
	l := s.tr(c)
	_, err = s.opt.Erasure.Decide(c.Request().Context(), privacy.Staff{ID: sc.user.ID, Name: sc.user.Username}, r.ID,
		c.FormValue("action"), c.FormValue("ground"), c.FormValue("reasons"))
	if errors.Is(err, privacy.ErrInvalid) || errors.Is(err, store.ErrConflict) {
		return s.renderErasure(c, http.StatusUnprocessableEntity, "", l.T("staff.erasure.error.decision"))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice(erasurePath(r.ID), l.T("staff.erasure.decided")))
}

// erasureAnswer downloads the written answer (the letter sent).
func (s *Server) erasureAnswer(c echo.Context) error {
	r, err := s.loadErasure(c)
	if err != nil {
		return err
	}
	if r.AnswerText == "" {
		return store.ErrNotFound
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="svar-radering-`+strconv.FormatInt(r.ID, 10)+`.txt"`)
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", []byte(r.AnswerText+"\n"))
}

func erasurePath(id int64) string { return "/staff/privacy/erasure/" + strconv.FormatInt(id, 10) }
