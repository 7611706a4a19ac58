package web

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/torget/torget/internal/federation"
	"github.com/torget/torget/internal/store"
)

// Images in the compose form, without JavaScript: each file input has
// its alt-text field; an upload is stored (unattached) as soon as the
// form is sent, so it survives a preview or an error, and comes back as
// a hidden "image" id with its alt text and a remove checkbox. Ids from
// the form are checked: the image must be of this group and either
// uploaded by this user and unattached, or attached to the post edited.

type imageField struct {
	N              int // 1-based position in the form
	ID, Alt, Small string
	Width, Height  int
	Error          string
}

type slotField struct {
	N          int
	Alt, Error string
}

type fieldError struct{ Anchor, Msg string }

// mediaRefs lists the form's images for the federation service
// (an empty, non-nil list when there are none: Edit removes them).
func (v *composePage) mediaRefs() []federation.MediaRef {
	refs := []federation.MediaRef{}
	for _, im := range v.Images {
		refs = append(refs, federation.MediaRef{PublicID: im.ID, Alt: im.Alt})
	}
	return refs
}

// fillSlots offers empty file inputs for the images still allowed.
func (v *composePage) fillSlots() {
	if !v.Uploads {
		v.Slots = nil
		return
	}
	free := federation.MaxAttachments - len(v.Images)
	if len(v.Slots) > free {
		v.Slots = v.Slots[:max(free, 0)]
	}
	used := map[int]bool{}
	for _, sl := range v.Slots {
		used[sl.N] = true
	}
	for n := 1; len(v.Slots) < free && n <= 2*federation.MaxAttachments; n++ {
		if !used[n] {
			v.Slots = append(v.Slots, slotField{N: n})
		}
	}
}

func (v *composePage) imageError(anchor, msg string) {
	if v.Errors == nil {
		v.Errors = map[string]string{}
	}
	v.Errors[anchor] = msg
	v.ImageErrors = append(v.ImageErrors, fieldError{Anchor: anchor, Msg: msg})
}

// readImages reads the form's kept and new images into v, storing new
// uploads; problems go into v.Errors. postID is the post edited (0: new).
func (s *Server) readImages(c echo.Context, g *store.Group, postID int64, v *composePage) error {
	if !v.Uploads {
		return nil
	}
	ctx := c.Request().Context()
	r := c.Request()
	l := s.tr(c)
	uid := staffFrom(c).user.ID
	seen := map[string]bool{}
	for _, id := range r.Form["image"] {
		if seen[id] {
			continue
		}
		seen[id] = true
		m, err := s.st.MediaByPublicID(ctx, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		ok := err == nil && m.GroupID == g.ID &&
			((postID != 0 && m.PostID != nil && *m.PostID == postID) ||
				(m.PostID == nil && ((m.UploaderUserID != nil && *m.UploaderUserID == uid) || v.DraftMedia[id])))
		if !ok {
			v.imageError("images", l.T("staff.compose.error.image_gone"))
			continue
		}
		if c.FormValue("remove-"+id) != "" {
			continue
		}
		v.Images = append(v.Images, imageField{ID: id, Alt: strings.TrimSpace(c.FormValue("alt-" + id)),
			Small: s.u.Media(m.SmallKey), Width: m.SmallWidth, Height: m.SmallHeight})
	}
	if r.MultipartForm != nil {
		for n := 1; n <= federation.MaxAttachments; n++ {
			key := "file-" + strconv.Itoa(n)
			fhs := r.MultipartForm.File[key]
			alt := strings.TrimSpace(c.FormValue("alt-new-" + strconv.Itoa(n)))
			if len(fhs) == 0 || (fhs[0].Filename == "" && fhs[0].Size == 0) {
				continue
			}
			if len(v.Images) >= federation.MaxAttachments {
				msg := l.T("staff.compose.error.too_many_images", "Max", federation.MaxAttachments)
				v.Slots = append(v.Slots, slotField{N: n, Alt: alt, Error: msg})
				v.imageError(key, msg)
				continue
			}
			m, msg, err := s.saveUpload(ctx, l, g, uid, fhs[0])
			if err != nil {
				return err
			}
			if msg != "" {
				v.Slots = append(v.Slots, slotField{N: n, Alt: alt, Error: msg})
				v.imageError(key, l.T("staff.compose.error.image_numbered", "N", n, "Reason", msg))
				continue
			}
			v.Images = append(v.Images, imageField{ID: m.PublicID, Alt: alt, Small: s.u.Media(m.SmallKey),
				Width: m.SmallWidth, Height: m.SmallHeight})
		}
	}
	for i := range v.Images {
		im := &v.Images[i]
		im.N = i + 1
		switch {
		case im.Alt == "":
			im.Error = l.T("staff.compose.error.alt_missing")
		case utf8.RuneCountInString(im.Alt) > federation.MaxAltChars:
			im.Error = l.T("staff.compose.error.alt_too_long", "Max", federation.MaxAltChars)
		default:
			continue
		}
		v.imageError("alt-"+im.ID, l.T("staff.compose.error.image_numbered", "N", im.N, "Reason", im.Error))
	}
	return nil
}
