package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/i18n"
	"github.com/torget/torget/internal/media"
	"github.com/torget/torget/internal/store"
)

// Images: uploads from staff forms, processed and kept in the media
// storage, and the public route that serves them.

// MediaOptions configure uploads. A nil Storage turns uploads off (the
// forms then show no file fields) and /media answers 404.
type MediaOptions struct {
	Storage media.Storage
	Limits  media.Limits
	// Concurrent bounds how many uploads are processed at once (each may
	// take a few seconds of a core and half a gigabyte at the limits).
	Concurrent int
}

// uploadBodyLimit bounds a multipart request: four images at the byte
// limit plus room for the text fields.
func (o MediaOptions) uploadBodyLimit() int64 {
	return int64(federation.MaxAttachments)*o.Limits.MaxBytes + 1<<20
}

// limitUploads refuses a multipart request larger than the upload limit
// before anything reads it (the CSRF check parses the form), and caps
// the body of one without a length.
func (s *Server) limitUploads(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if safeMethod(r.Method) || !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
			return next(c)
		}
		limit := s.opt.Media.uploadBodyLimit()
		if r.ContentLength > limit {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge,
				s.tr(c).T("staff.media.error.request_too_large", "Size", byteSize(limit)))
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
		return next(c)
	}
}

func byteSize(n int64) string {
	if n >= 1<<20 {
		return strconv.FormatInt(n>>20, 10) + " MB"
	}
	return strconv.FormatInt(n>>10, 10) + " kB"
}

var mediaIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func newMediaID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return mediaIDEncoding.EncodeToString(b)
}

func extFor(mediaType string) string {
	if mediaType == media.TypeJPEG {
		return ".jpg"
	}
	return ".png"
}

// uploadError is a problem with one upload, in the words staff read.
func uploadError(l *i18n.Localizer, err error, limits media.Limits) string {
	switch {
	case errors.Is(err, media.ErrTooLarge):
		return l.T("staff.media.error.too_large", "Size", byteSize(limits.MaxBytes), "Pixels", limits.MaxPixels/1_000_000)
	case errors.Is(err, media.ErrUnsupported):
		return l.T("staff.media.error.unsupported")
	case errors.Is(err, media.ErrInvalid):
		return l.T("staff.media.error.invalid")
	}
	return ""
}

// saveUpload processes an uploaded file and stores it as an unattached
// medium of group g uploaded by user uid. A problem with the file itself
// comes back as a message for the form (and a nil error).
func (s *Server) saveUpload(ctx context.Context, l *i18n.Localizer, g *store.Group, uid int64, fh *multipart.FileHeader) (*store.Media, string, error) {
	mo := s.opt.Media
	if fh.Size > mo.Limits.MaxBytes {
		return nil, uploadError(l, media.ErrTooLarge, mo.Limits), nil
	}
	f, err := fh.Open()
	if err != nil {
		return nil, "", fmt.Errorf("open upload: %w", err)
	}
	defer f.Close()
	select {
	case s.uploads <- struct{}{}:
		defer func() { <-s.uploads }()
	case <-ctx.Done():
		return nil, "", ctx.Err()
	}
	img, err := media.Process(f, mo.Limits)
	if err != nil {
		if msg := uploadError(l, err, mo.Limits); msg != "" {
			return nil, msg, nil
		}
		return nil, "", err
	}
	pid := newMediaID()
	ext := extFor(img.MediaType)
	m := &store.Media{PublicID: pid, GroupID: g.ID, UploaderUserID: &uid,
		LargeKey: "i/" + pid + "/large" + ext, SmallKey: "i/" + pid + "/small" + ext, MediaType: img.MediaType,
		Width: img.Original.Width, Height: img.Original.Height, SmallWidth: img.Preview.Width, SmallHeight: img.Preview.Height,
		Blurhash: img.Blurhash, ByteSize: int64(len(img.Original.Data))}
	for _, put := range []struct {
		key string
		sz  media.Size
	}{{m.LargeKey, img.Original}, {m.SmallKey, img.Preview}} {
		if err := mo.Storage.Put(ctx, put.key, put.sz.MediaType, bytes.NewReader(put.sz.Data), int64(len(put.sz.Data))); err != nil {
			return nil, "", err
		}
	}
	// Persist the row last: a row always has its objects.
	if err := s.st.CreateMedia(ctx, m); err != nil {
		_ = mo.Storage.Delete(ctx, m.LargeKey)
		_ = mo.Storage.Delete(ctx, m.SmallKey)
		return nil, "", err
	}
	return m, "", nil
}

// serveMedia streams a stored object. Keys never change content (a new
// upload gets a new key), so it may be cached for a year.
func (s *Server) serveMedia(c echo.Context) error {
	key := c.Param("*")
	if s.opt.Media.Storage == nil || media.ValidKey(key) != nil {
		return echo.NewHTTPError(http.StatusNotFound, "not found")
	}
	rc, ct, err := s.opt.Media.Storage.Get(c.Request().Context(), key)
	if errors.Is(err, media.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "not found")
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	switch ct {
	case media.TypeJPEG, media.TypePNG, media.TypeGIF, media.TypeWebP:
	default:
		ct = "application/octet-stream" // never served as anything active
	}
	h := c.Response().Header()
	h.Set("Content-Type", ct)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	c.Response().WriteHeader(http.StatusOK)
	if c.Request().Method == http.MethodHead {
		return nil
	}
	_, err = io.Copy(c.Response(), rc)
	return err
}

// imageView is an attached image on a page: the small size, linking to
// the large one.
type imageView struct {
	Small, Large, Alt string
	Width, Height     int
}

func (s *Server) imageViews(p *store.Post) []imageView {
	var out []imageView
	for _, a := range federation.Attachments(p) {
		out = append(out, imageView{Small: s.u.Media(a.SmallKey), Large: s.u.Media(a.LargeKey), Alt: a.Alt,
			Width: a.SmallWidth, Height: a.SmallHeight})
	}
	return out
}
