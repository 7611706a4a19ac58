package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/internal/archive"
	"github.com/torget/torget/internal/store"
)

// The record search (REC-3) and archive export (REC-8) for administrators:
// /staff/record.

const recordPageSize = 50

// recordForm is the search form, as typed.
type recordForm struct {
	From, To, Group, Direction, Author, Kind, Text string
}

type recordRow struct {
	Seq                    int64
	At                     time.Time
	Direction, Kind, Group string
	Actor, Object, Excerpt string
	EntryHash              string
}

type recordPage struct {
	page
	Form      recordForm
	Groups    []store.Group
	Rows      []recordRow
	Older     string
	JSONURL   string
	Error     string
	Exports   []store.ArchiveExport
	ExportErr string
	Runs      []archiveRunRow
}

// archiveRunRow is a scheduled yearly export as the archive page shows it.
type archiveRunRow struct {
	Group, State, PackageID, SHA256, Path string
	From, To                              time.Time
	Failing                               bool
}

func (s *Server) archiveRuns(c echo.Context, groups []store.Group) ([]archiveRunRow, error) {
	rs, err := s.st.ArchiveRuns(c.Request().Context(), 50)
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	for _, g := range groups {
		names[g.ID] = g.Name
	}
	l := s.tr(c)
	out := make([]archiveRunRow, 0, len(rs))
	for _, r := range rs {
		row := archiveRunRow{Group: names[r.GroupID], PackageID: r.PackageID, SHA256: r.SHA256, Path: r.Path, From: r.PeriodFrom, To: r.PeriodTo}
		switch {
		case r.State == store.ArchiveRunDone:
			row.State = l.T("staff.record.run.done")
		case r.LastError != "":
			row.Failing = true
			row.State = l.T("staff.record.run.failing", "Attempts", strconv.Itoa(r.Attempts),
				"Next", r.NextAt.In(s.opt.TimeZone).Format("2006-01-02 15:04"), "Error", r.LastError)
		default:
			row.State = l.T("staff.record.run.pending")
		}
		out = append(out, row)
	}
	return out, nil
}

// directionID is the message for a row's direction: inkommen (received),
// upprättad (drawn up and sent) or internal.
func directionID(d string) string {
	switch d {
	case store.DirIn:
		return "staff.record.dir.in"
	case store.DirOut:
		return "staff.record.dir.out"
	}
	return "staff.record.dir.internal"
}

// query turns the form into a store query; the dates are whole UTC days.
func (s *Server) recordQuery(c echo.Context, f *recordForm) (store.RecordQuery, error) {
	ctx := c.Request().Context()
	q := store.RecordQuery{Direction: f.Direction, Actor: strings.TrimSpace(f.Author), Kind: strings.TrimSpace(f.Kind), Text: strings.TrimSpace(f.Text)}
	if q.Direction != "" && q.Direction != store.DirIn && q.Direction != store.DirOut && q.Direction != store.DirInternal {
		return q, errors.New(s.tr(c).T("staff.record.err.direction"))
	}
	if f.From != "" {
		t, err := time.Parse("2006-01-02", f.From)
		if err != nil {
			return q, errors.New(s.tr(c).T("staff.record.err.date"))
		}
		q.From = t
	}
	if f.To != "" {
		t, err := time.Parse("2006-01-02", f.To)
		if err != nil {
			return q, errors.New(s.tr(c).T("staff.record.err.date"))
		}
		q.To = t.AddDate(0, 0, 1)
	}
	if f.Group != "" {
		g, err := s.st.GroupBySlug(ctx, f.Group)
		if err != nil {
			return q, errors.New(s.tr(c).T("staff.record.err.group"))
		}
		q.GroupID = g.ID
	}
	return q, nil
}

func readRecordForm(c echo.Context) recordForm {
	return recordForm{From: c.QueryParam("from"), To: c.QueryParam("to"), Group: c.QueryParam("group"),
		Direction: c.QueryParam("direction"), Author: c.QueryParam("author"), Kind: c.QueryParam("kind"), Text: c.QueryParam("q")}
}

func (f recordForm) values() url.Values {
	v := url.Values{}
	for k, x := range map[string]string{"from": f.From, "to": f.To, "group": f.Group, "direction": f.Direction, "author": f.Author, "kind": f.Kind, "q": f.Text} {
		if x != "" {
			v.Set(k, x)
		}
	}
	return v
}

func (s *Server) recordSearch(c echo.Context) error {
	ctx := c.Request().Context()
	f := readRecordForm(c)
	v := recordPage{page: s.staffPage(c, s.tr(c).T("staff.nav.record")), Form: f, ExportErr: c.QueryParam("export_error")}
	var err error
	if v.Groups, err = s.st.ListGroups(ctx); err != nil {
		return err
	}
	if v.Exports, err = s.st.ArchiveExports(ctx, 10); err != nil {
		return err
	}
	if v.Runs, err = s.archiveRuns(c, v.Groups); err != nil {
		return err
	}
	q, qerr := s.recordQuery(c, &f)
	if qerr != nil {
		v.Error = qerr.Error()
		return s.render(c, http.StatusBadRequest, "staff_record.html", v)
	}
	q.BeforeSeq, _ = strconv.ParseInt(c.QueryParam("before"), 10, 64)
	q.Limit = recordPageSize
	es, err := s.st.SearchRecord(ctx, q)
	if err != nil {
		return err
	}
	slugs := map[int64]string{}
	for _, g := range v.Groups {
		slugs[g.ID] = g.Slug
	}
	for _, e := range es {
		r := recordRow{Seq: e.Seq, At: e.At, Direction: s.tr(c).T(directionID(e.Direction)), Kind: e.Kind, Actor: e.Actor, Object: e.ObjectIRI,
			Excerpt: excerpt(e.Payload), EntryHash: e.EntryHash}
		if e.GroupID != nil {
			r.Group = slugs[*e.GroupID]
		}
		v.Rows = append(v.Rows, r)
	}
	vals := f.values()
	v.JSONURL = "/staff/record.json?" + vals.Encode()
	if len(es) == recordPageSize {
		vals.Set("before", strconv.FormatInt(es[len(es)-1].Seq, 10))
		v.Older = "/staff/record?" + vals.Encode()
	}
	return s.render(c, http.StatusOK, "staff_record.html", v)
}

// excerpt is a short plain-text view of a payload's content.
func excerpt(payload string) string {
	var a struct {
		Type    string `json:"type"`
		Content string `json:"content"`
		Object  struct {
			Type    string `json:"type"`
			Content string `json:"content"`
		} `json:"object"`
	}
	_ = json.Unmarshal([]byte(payload), &a)
	text := a.Object.Content
	if text == "" {
		text = a.Content
	}
	if text == "" {
		text = payload
	} else {
		text = stripTags(text)
	}
	if r := []rune(text); len(r) > 160 {
		text = string(r[:160]) + "…"
	}
	return text
}

func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
			b.WriteRune(' ')
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// maxRecordExport bounds one JSON export of a result set.
const maxRecordExport = 100000

// recordJSON exports every entry matching the search as JSON, for a
// request for public records (begäran om allmän handling).
func (s *Server) recordJSON(c echo.Context) error {
	ctx := c.Request().Context()
	f := readRecordForm(c)
	q, err := s.recordQuery(c, &f)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	type entry struct {
		store.RecordEntry
		Payload json.RawMessage `json:"Payload"`
	}
	var out []entry
	err = s.st.EachRecord(ctx, q, func(e *store.RecordEntry) error {
		if len(out) >= maxRecordExport {
			return fmt.Errorf("more than %d entries: narrow the search", maxRecordExport)
		}
		out = append(out, entry{RecordEntry: *e, Payload: json.RawMessage(e.Payload)})
		return nil
	})
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	sc := staffFrom(c)
	if err := s.audit(c, sc.user, sc.user.Username, "record_export", "/staff/record.json?"+f.values().Encode(),
		fmt.Sprintf("%d entries", len(out))); err != nil {
		return err
	}
	body, err := json.MarshalIndent(map[string]any{"exported_at": s.st.Now().Format(time.RFC3339), "query": f, "count": len(out), "entries": out}, "", "  ")
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="torget-record-`+s.st.Now().Format("20060102-150405")+`.json"`)
	return c.Blob(http.StatusOK, "application/json; charset=utf-8", body)
}

// archiveExport makes an archive package for a period (and group) and
// sends it as a zip. The package is registered (its METS.xml checksum) as
// a completed export, which closing a group requires.
func (s *Server) archiveExport(c echo.Context) error {
	ctx := c.Request().Context()
	f := recordForm{From: c.FormValue("from"), To: c.FormValue("to"), Group: c.FormValue("group")}
	fail := func(msg string) error {
		return c.Redirect(http.StatusSeeOther, "/staff/record?"+url.Values{"export_error": {msg}}.Encode())
	}
	if f.From == "" || f.To == "" {
		return fail(s.tr(c).T("staff.record.err.period"))
	}
	q, err := s.recordQuery(c, &f)
	if err != nil {
		return fail(err.Error())
	}
	if s.opt.Archive.ArchivalCreator.Name == "" {
		return fail(s.tr(c).T("staff.record.err.not_configured"))
	}
	tmp, err := os.MkdirTemp("", "torget-archive-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	sc := staffFrom(c)
	opt := s.opt.Archive
	opt.From, opt.To, opt.GroupSlug, opt.Out, opt.Actor = q.From, q.To, f.Group, tmp, store.StaffActor(sc.user.ID, sc.user.Username)
	if s.opt.RulesInForce != nil {
		if opt.Rules, err = s.opt.RulesInForce(ctx); err != nil {
			return err
		}
	}
	res, err := archive.Export(ctx, s.st, opt)
	if err != nil {
		return err
	}
	if err := s.audit(c, sc.user, sc.user.Username, "archive_export", res.PackageID,
		fmt.Sprintf("group %q %s..%s sha256 %s", f.Group, f.From, f.To, res.SHA256)); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Type", "application/zip")
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+res.PackageID+`.zip"`)
	c.Response().WriteHeader(http.StatusOK)
	return archive.WriteZip(c.Response(), res.Dir)
}
