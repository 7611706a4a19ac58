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
				(m.PostID == nil && m.UploaderUserID != nil && *m.UploaderUserID == uid))
		if !ok {
			v.imageError("images", "En bild i formuläret finns inte längre eller hör till ett annat inlägg; den togs bort. Ladda upp den igen om den behövs.")
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
				msg := "Högst " + strconv.Itoa(federation.MaxAttachments) + " bilder får plats i ett inlägg."
				v.Slots = append(v.Slots, slotField{N: n, Alt: alt, Error: msg})
				v.imageError(key, msg)
				continue
			}
			m, msg, err := s.saveUpload(ctx, g, uid, fhs[0])
			if err != nil {
				return err
			}
			if msg != "" {
				v.Slots = append(v.Slots, slotField{N: n, Alt: alt, Error: msg})
				v.imageError(key, "Bild "+strconv.Itoa(n)+": "+msg)
				continue
			}
			v.Images = append(v.Images, imageField{ID: m.PublicID, Alt: alt, Small: s.u.Media(m.SmallKey),
				Width: m.SmallWidth, Height: m.SmallHeight})
		}
	}
	for i := range v.Images {
		im := &v.Images[i]
		switch {
		case im.Alt == "":
			im.Error = "Skriv en bildbeskrivning (alt-text): berätta vad bilden visar för den som inte ser den."
		case utf8.RuneCountInString(im.Alt) > federation.MaxAltChars:
			im.Error = "Bildbeskrivningen får vara högst " + strconv.Itoa(federation.MaxAltChars) + " tecken."
		default:
			continue
		}
		v.imageError("alt-"+im.ID, "Bild "+strconv.Itoa(i+1)+": "+im.Error)
	}
	return nil
}
