package web

import (
	"errors"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/activitypub"
	"github.com/torget/torget/internal/federation"
)

// inbox verifies and stores a POSTed activity, and only then answers 202:
// strict peers take 202 as delivered and never retry.
func (s *Server) inbox(c echo.Context) error {
	r := c.Request()
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/activity+json", "application/ld+json", "application/json":
	default:
		s.m.Inbox.WithLabelValues("", "refused_415").Inc()
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, "send application/activity+json")
	}
	body, err := activitypub.ReadLimited(http.MaxBytesReader(c.Response(), r.Body, s.opt.MaxBodyBytes+1), s.opt.MaxBodyBytes)
	if err != nil {
		s.m.Inbox.WithLabelValues("", "refused_413").Inc()
		var mbe *http.MaxBytesError
		if errors.Is(err, activitypub.ErrTooLarge) || errors.As(err, &mbe) {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "activity too large")
		}
		return echo.NewHTTPError(http.StatusBadRequest, "could not read body")
	}
	res, err := s.fed.Receive(r.Context(), r, body, c.Param("slug"))
	if err != nil {
		var ie *federation.InboxError
		verdict := "error"
		if errors.As(err, &ie) {
			verdict = "refused_" + http.StatusText(ie.Status)
		}
		s.m.Inbox.WithLabelValues("", verdict).Inc()
		return err
	}
	verdict := "accepted"
	switch {
	case res.Duplicate:
		verdict = "duplicate"
	case res.Dropped:
		verdict = "dropped"
	}
	s.m.Inbox.WithLabelValues(res.Activity.Type, verdict).Inc()
	return c.NoContent(http.StatusAccepted)
}
