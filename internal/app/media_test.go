package app_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/torget/torget/internal/app"
	"github.com/torget/torget/internal/auth"
	"github.com/torget/torget/internal/config"
	"github.com/torget/torget/internal/fedtest"
	"github.com/torget/torget/internal/media/mediatest"
)

// testPNG is a w×h PNG; noisy ones do not compress.
func testPNG(t *testing.T, w, h int, noisy bool) []byte {
	t.Helper()
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{uint8(x * 5), uint8(y * 7), 120, 255}
			if noisy {
				c = color.RGBA{uint8(x*31 ^ y*17), uint8(x * y), uint8(x*7 + y*13), 255}
			}
			m.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type upload struct {
	field, name string
	data        []byte
}

// multipart posts a multipart form from page to action with that page's
// CSRF token, as a browser sends a form with file inputs.
func (b *browser) multipart(page, action string, form url.Values, files ...upload) (*http.Response, string) {
	b.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("csrf", b.csrf(page))
	for k, vs := range form {
		for _, v := range vs {
			_ = w.WriteField(k, v)
		}
	}
	for _, f := range files {
		fw, err := w.CreateFormFile(f.field, f.name)
		if err != nil {
			b.t.Fatal(err)
		}
		_, _ = fw.Write(f.data)
	}
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, b.base+action, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return b.do(req)
}

var imageIDRe = regexp.MustCompile(`name="image" value="([a-z0-9]+)"`)

func imageIDs(body string) []string {
	var ids []string
	for _, m := range imageIDRe.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func attachmentsOf(d fedtest.Delivery) []map[string]any {
	var out []map[string]any
	as, _ := objectOf(d)["attachment"].([]any)
	for _, a := range as {
		if m, ok := a.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// A post with an image, its alt text and a content warning: an upload
// without alt text is refused with the message shown and nothing
// published, the upload survives the error and a preview, the follower
// receives the Create with the Image attachment, the public page and
// /media serve it, and changing the alt text federates an Update.
func TestComposeWithImage(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t, func(c *config.Config) { c.Media.MaxBytes = 64 << 10 })
	ga := tg.group(t, "grupp-a", false)
	tg.group(t, "grupp-b", false)
	tg.user(t, "admin", auth.RoleAdmin)
	ed := tg.user(t, "erik", auth.RoleEditor)
	if err := tg.Store.AssignGroupStaff(ctx, ga.ID, ed.ID, auth.RoleEditor); err != nil {
		t.Fatal(err)
	}
	m := followedBy(t, tg, "grupp-a")
	const compose = "/staff/groups/grupp-a/compose"
	const alt = "Karta över Älvsjö med avstängda gator markerade i rött"
	pic := testPNG(t, 40, 30, false)

	b := newBrowser(t, tg)
	resp, body := b.login("erik", testPassword)
	expectRedirect(t, resp, body, "/staff")
	resp, body = b.get(compose)
	expectStatus(t, "compose form", resp, body, 200)
	expectBody(t, "compose form", body, `enctype="multipart/form-data"`, `<legend>Bilder (högst 4)</legend>`,
		`<label for="file-1">`, `<label for="alt-new-1">`, `type="file" id="file-1" name="file-1"`)

	// No alt text: refused, message shown, nothing published; the upload is kept.
	form := url.Values{"text": {"Gatorna stängs i helgen."}, "summary": {"Trafik"}, "language": {"sv"}, "action": {"publish"}}
	resp, body = b.multipart(compose, compose, form, upload{"file-1", "karta.png", pic})
	expectStatus(t, "image without alt text", resp, body, http.StatusUnprocessableEntity)
	expectBody(t, "image without alt text", body, `role="alert"`, "Skriv en bildbeskrivning (alt-text)", `aria-invalid="true"`)
	ids := imageIDs(body)
	if len(ids) != 1 {
		t.Fatalf("upload not carried in the form: %v\n%s", ids, body)
	}
	id := ids[0]
	expectBody(t, "image without alt text", body, `href="#alt-`+id+`"`, `id="alt-`+id+`-error"`, `value="Trafik"`)
	if ps := livePosts(t, tg, ga); len(ps) != 0 {
		t.Fatalf("a post without alt text was published: %+v", ps)
	}

	// Another editor cannot use that upload.
	tg.user(t, "eva", auth.RoleAdmin)
	eb := newBrowser(t, tg)
	eb.login("eva", testPassword)
	resp, body = eb.form(compose, compose, url.Values{"text": {"Lånad bild"}, "image": {id}, "alt-" + id: {"x"}, "action": {"publish"}})
	expectStatus(t, "someone else's upload", resp, body, http.StatusUnprocessableEntity)
	expectBody(t, "someone else's upload", body, "finns inte längre")

	// Preview round-trip with the alt text: shown, still nothing published.
	form.Set("image", id)
	form.Set("alt-"+id, alt)
	form.Set("action", "preview")
	resp, body = b.multipart(compose, compose, form)
	expectStatus(t, "preview", resp, body, 200)
	small := tg.Base + "/media/i/" + id + "/small.png"
	expectBody(t, "preview", body, `<summary>Trafik</summary>`, `<img src="`+small+`" alt="`+alt+`" width="40" height="30">`,
		`name="image" value="`+id+`"`, `>`+alt+`</textarea>`)
	if ps := livePosts(t, tg, ga); len(ps) != 0 {
		t.Fatalf("preview published %d posts", len(ps))
	}

	// Publish: the follower gets the Create with the image.
	form.Set("action", "publish")
	resp, body = b.multipart(compose, compose, form)
	expectNotice(t, "publish", resp, body, "/staff/groups/grupp-a")
	ps := livePosts(t, tg, ga)
	if len(ps) != 1 {
		t.Fatalf("posts: %+v", ps)
	}
	cr := m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Create" })
	large := tg.Base + "/media/i/" + id + "/large.png"
	atts := attachmentsOf(cr)
	if !cr.Verified || len(atts) != 1 || objectOf(cr)["summary"] != "Trafik" {
		t.Fatalf("Create: verified=%v attachments %v: %v", cr.Verified, atts, cr.Activity)
	}
	a := atts[0]
	if a["type"] != "Image" || a["name"] != alt || a["mediaType"] != "image/png" || a["url"] != large ||
		a["width"] != float64(40) || a["height"] != float64(30) || a["blurhash"] == nil || a["blurhash"] == "" {
		t.Fatalf("attachment %v", a)
	}

	// /media serves it to anyone, with a type, nosniff and a long cache.
	anon := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: tg.Pool}}}
	r, err := anon.Get(large)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "image/png" || r.Header.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.Contains(r.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("GET %s: %d %v", large, r.StatusCode, r.Header)
	}
	if cfg, err := png.DecodeConfig(bytes.NewReader(data)); err != nil || cfg.Width != 40 || cfg.Height != 30 {
		t.Fatalf("served image: %v %+v", err, cfg)
	}
	for _, bad := range []string{"/media/i/" + id + "/other.png", "/media/../etc/passwd", "/media/i/nope/large.png", "/media/"} {
		if r, err := anon.Get(tg.Base + bad); err != nil || r.StatusCode != http.StatusNotFound {
			t.Fatalf("GET %s: %v %v", bad, r.StatusCode, err)
		} else {
			r.Body.Close()
		}
	}

	// The public post page and the feed show it with its alt text.
	postURL := tg.Base + "/groups/grupp-a/posts/" + ps[0].PublicID
	_, body = newBrowser(t, tg).get("/groups/grupp-a/posts/" + ps[0].PublicID)
	expectBody(t, "public post", body, `<a href="`+large+`"><img src="`+small+`" alt="`+alt+`" width="40" height="30" loading="lazy"></a>`)
	_, body = newBrowser(t, tg).get("/groups/grupp-a")
	expectBody(t, "group page", body, `alt="`+alt+`"`)
	_, body = newBrowser(t, tg).get("/groups/grupp-a/feed.atom")
	expectBody(t, "feed", body, "alt=&#34;"+alt)

	// Edit: change the alt text; the follower gets the Update.
	edit := "/staff/posts/" + ps[0].PublicID + "/edit"
	resp, body = b.get(edit)
	expectBody(t, "edit form", body, `name="image" value="`+id+`"`, `>`+alt+`</textarea>`, `<label for="remove-`+id+`">`)
	const alt2 = "Karta: Huvudsta allé avstängd"
	resp, body = b.multipart(edit, edit, url.Values{"text": {"Gatorna stängs i helgen."}, "summary": {"Trafik"}, "image": {id},
		"alt-" + id: {alt2}, "action": {"publish"}})
	expectNotice(t, "edit alt text", resp, body, "/staff/groups/grupp-a")
	up := m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool { return d.Type == "Update" })
	if atts := attachmentsOf(up); !up.Verified || objectOf(up)["id"] != postURL || len(atts) != 1 || atts[0]["name"] != alt2 || atts[0]["url"] != large {
		t.Fatalf("Update: %v", up.Activity)
	}

	// Edit again: remove that image and add another; the Update carries
	// only the new one.
	resp, body = b.multipart(edit, edit, url.Values{"text": {"Ny karta."}, "image": {id}, "alt-" + id: {alt2}, "remove-" + id: {"1"},
		"alt-new-1": {"Ny karta över omledningen"}, "action": {"publish"}}, upload{"file-1", "ny.png", testPNG(t, 30, 20, false)})
	expectNotice(t, "replace image", resp, body, "/staff/groups/grupp-a")
	up = m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool {
		return d.Type == "Update" && strings.Contains(fmt.Sprint(objectOf(d)["content"]), "Ny karta.")
	})
	if atts := attachmentsOf(up); len(atts) != 1 || atts[0]["name"] != "Ny karta över omledningen" || atts[0]["url"] == large || atts[0]["width"] != float64(30) {
		t.Fatalf("Update after replacing the image: %v", atts)
	}
	if old, err := tg.Store.MediaByPublicID(ctx, id); err != nil || old.PostID != nil {
		t.Fatalf("removed image still attached: %+v %v", old, err)
	}

	// Bad uploads get a clear message; nothing is stored for them.
	resp, body = b.multipart(compose, compose, url.Values{"text": {"x"}, "alt-new-1": {"text"}, "action": {"publish"}},
		upload{"file-1", "brev.png", []byte("Hej, det här är ingen bild.")})
	expectStatus(t, "not an image", resp, body, http.StatusUnprocessableEntity)
	expectBody(t, "not an image", body, "inte en bild av ett slag som stöds", `href="#file-1"`, `id="file-1-error"`, `>text</textarea>`)
	big := testPNG(t, 300, 300, true)
	if len(big) <= 64<<10 {
		t.Fatalf("test image only %d bytes", len(big))
	}
	resp, body = b.multipart(compose, compose, url.Values{"text": {"x"}, "alt-new-1": {"text"}, "action": {"publish"}},
		upload{"file-1", "stor.png", big})
	expectStatus(t, "too large", resp, body, http.StatusUnprocessableEntity)
	expectBody(t, "too large", body, "Bilden är för stor", "64 kB")
	if len(imageIDs(body)) != 0 {
		t.Fatal("a refused upload was kept")
	}
	// An image without alt text can be removed instead (alt text is not
	// demanded of an image being removed).
	resp, body = b.multipart(compose, compose, url.Values{"text": {"x"}, "action": {"preview"}}, upload{"file-1", "c.png", pic})
	expectStatus(t, "upload for removal", resp, body, http.StatusUnprocessableEntity)
	id3 := imageIDs(body)[0]
	resp, body = b.multipart(compose, compose, url.Values{"text": {"x"}, "image": {id3}, "remove-" + id3: {"1"}, "action": {"preview"}})
	expectStatus(t, "remove image without alt", resp, body, http.StatusOK)
	if len(imageIDs(body)) != 0 {
		t.Fatal("removed image still in the form")
	}
	// A request far over the limit is refused before it is read.
	resp, body = b.multipart(compose, compose, url.Values{"text": {"x"}}, upload{"file-1", "enorm.png", make([]byte, 2<<20)})
	expectStatus(t, "request too large", resp, body, http.StatusRequestEntityTooLarge)
	expectBody(t, "request too large", body, "för stort")
	if ps := livePosts(t, tg, ga); len(ps) != 1 {
		t.Fatalf("bad uploads published: %d posts", len(ps))
	}
}

// Two nodes of one site share the database and an S3 bucket: an image
// uploaded through one node is served by the other.
func TestMediaS3SharedByNodes(t *testing.T) {
	endpoint := mediatest.S3Server(t, "torget-media")
	s3 := func(c *config.Config) {
		c.Media.Storage, c.Media.S3Endpoint, c.Media.S3UseTLS, c.Media.S3Bucket = "s3", endpoint, false, "torget-media"
		c.Media.S3Region, c.Media.S3AccessKey, c.Media.S3SecretKey, c.Media.S3Prefix = "us-east-1", "test", "secret", "site/"
		c.Media.Dir = "/nonexistent/never-used"
	}
	tg := startInstance(t, s3)
	ga := tg.group(t, "grupp-a", false)
	tg.user(t, "admin", auth.RoleAdmin)
	b := newBrowser(t, tg)
	b.login("admin", testPassword)
	const compose = "/staff/groups/grupp-a/compose"
	resp, body := b.multipart(compose, compose, url.Values{"text": {"Bild"}, "alt-new-1": {"En röd fyrkant"}, "action": {"publish"}},
		upload{"file-1", "a.png", testPNG(t, 20, 10, false)})
	expectNotice(t, "publish", resp, body, "/staff/groups/grupp-a")
	ps := livePosts(t, tg, ga)
	if len(ps) != 1 || !strings.Contains(ps[0].Attachments, "En röd fyrkant") {
		t.Fatalf("posts %+v", ps)
	}
	key := regexp.MustCompile(`"large":"([^"]+)"`).FindStringSubmatch(ps[0].Attachments)[1]

	// The second node: same configuration, its own process state.
	other, err := app.New(context.Background(), tg.Config, testLogger(), app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	rec := httptest.NewRecorder()
	other.HTTP.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/media/"+key, nil))
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "image/png" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("other node GET /media/%s: %d %v", key, rec.Code, rec.Header())
	}
	if cfg, err := png.DecodeConfig(rec.Body); err != nil || cfg.Width != 20 || cfg.Height != 10 {
		t.Fatalf("other node served %v %+v", err, cfg)
	}
	rec = httptest.NewRecorder()
	other.HTTP.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/media/i/missing/large.png", nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("missing key on S3: %d", rec.Code)
	}
}

// An administrator sets the group's avatar and header with alt text; the
// follower's server receives an Update of the Group whose icon and image
// carry the alt text as name, and the public group page shows them.
func TestGroupAvatarAndHeader(t *testing.T) {
	tg := startInstance(t)
	tg.group(t, "grupp-a", false)
	tg.user(t, "admin", auth.RoleAdmin)
	m := followedBy(t, tg, "grupp-a")
	b := newBrowser(t, tg)
	b.login("admin", testPassword)
	const edit = "/staff/groups/grupp-a/edit"
	resp, body := b.get(edit)
	expectStatus(t, "edit page", resp, body, 200)
	checkHeadings(t, "edit page", body)
	expectBody(t, "edit page", body, `action="/staff/groups/grupp-a/images/avatar"`, `<label for="avatar-alt">`, `<label for="header-file">`)

	resp, body = b.multipart(edit, "/staff/groups/grupp-a/images/avatar", url.Values{"alt": {" "}}, upload{"file", "logo.png", testPNG(t, 50, 50, false)})
	expectStatus(t, "avatar without alt", resp, body, http.StatusUnprocessableEntity)
	expectBody(t, "avatar without alt", body, `role="alert"`, "Skriv en bildbeskrivning", `id="avatar-error"`)

	const avatarAlt, headerAlt = "Kommunens logotyp: ett grönt löv", "Vy över Älvsjö centrum"
	resp, body = b.multipart(edit, "/staff/groups/grupp-a/images/avatar", url.Values{"alt": {avatarAlt}}, upload{"file", "logo.png", testPNG(t, 50, 50, false)})
	expectNotice(t, "avatar", resp, body, edit)
	up := m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool {
		icon, _ := objectOf(d)["icon"].(map[string]any)
		return d.Type == "Update" && icon["name"] == avatarAlt
	})
	icon := objectOf(up)["icon"].(map[string]any)
	if !up.Verified || icon["type"] != "Image" || icon["mediaType"] != "image/png" || !strings.HasPrefix(icon["url"].(string), tg.Base+"/media/i/") {
		t.Fatalf("Update icon %v", icon)
	}
	resp, body = b.multipart(edit, "/staff/groups/grupp-a/images/header", url.Values{"alt": {headerAlt}}, upload{"file", "vy.png", testPNG(t, 120, 40, false)})
	expectNotice(t, "header", resp, body, edit)
	up = m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool {
		img, _ := objectOf(d)["image"].(map[string]any)
		return d.Type == "Update" && img["name"] == headerAlt
	})
	if icon := objectOf(up)["icon"].(map[string]any); icon["name"] != avatarAlt {
		t.Fatalf("header Update lost the icon: %v", icon)
	}
	_, body = newBrowser(t, tg).get("/groups/grupp-a")
	expectBody(t, "group page", body, `alt="`+avatarAlt+`" width="96" height="96"`, `alt="`+headerAlt+`" width="120" height="40"`)

	// Changing only the alt text keeps the image; removing it brings back
	// the default header, federated too.
	resp, body = b.multipart(edit, "/staff/groups/grupp-a/images/avatar", url.Values{"alt": {"Ny logotyp"}})
	expectNotice(t, "avatar alt", resp, body, edit)
	m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool {
		icon, _ := objectOf(d)["icon"].(map[string]any)
		return d.Type == "Update" && icon["name"] == "Ny logotyp" && icon["url"] == objectOf(up)["icon"].(map[string]any)["url"]
	})
	resp, body = b.multipart(edit, "/staff/groups/grupp-a/images/header", url.Values{"remove": {"1"}})
	expectNotice(t, "remove header", resp, body, edit)
	m.WaitFor(t, 10*time.Second, func(d fedtest.Delivery) bool {
		img, _ := objectOf(d)["image"].(map[string]any)
		return d.Type == "Update" && img["url"] == tg.Base+"/static/group-header.png" && img["name"] == nil
	})
}

// An image goes with a scheduled post: its alt text is required when it is
// scheduled, a second editor can keep it when editing the draft, and the
// scheduler federates it as an Image attachment at the set time.
func TestScheduledPostWithImage(t *testing.T) {
	ctx := context.Background()
	tg := startInstance(t, fastScheduler)
	g := tg.group(t, "bilder", false)
	for _, name := range []string{"erik", "eva"} {
		u := tg.user(t, name, auth.RoleEditor)
		if err := tg.Store.AssignGroupStaff(ctx, g.ID, u.ID, auth.RoleEditor); err != nil {
			t.Fatal(err)
		}
	}
	m := followedBy(t, tg, "bilder")
	const compose = "/staff/groups/bilder/compose"
	const alt = "Skiss av den nya lekplatsen vid Älvsjö torg"
	b := newBrowser(t, tg)
	resp, body := b.login("erik", testPassword)
	expectRedirect(t, resp, body, "/staff")

	loc, _ := time.LoadLocation("Europe/Stockholm")
	at := tg.Clock.Now().Add(2 * time.Hour).In(loc)
	form := url.Values{"text": {"Ny lekplats i vår."}, "language": {"sv"}, "action": {"schedule"},
		"date": {at.Format("2006-01-02")}, "time": {at.Format("15:04:05")}}
	// Scheduling an image without alt text is refused like publishing it.
	resp, body = b.multipart(compose, compose, form, upload{"file-1", "lekplats.png", testPNG(t, 40, 30, false)})
	expectStatus(t, "schedule image without alt text", resp, body, http.StatusUnprocessableEntity)
	expectBody(t, "schedule image without alt text", body, "Skriv en bildbeskrivning (alt-text)")
	ids := imageIDs(body)
	if len(ids) != 1 {
		t.Fatalf("upload not carried: %v", ids)
	}
	id := ids[0]
	if ds, _ := tg.Store.ListDrafts(ctx, g.ID); len(ds) != 0 {
		t.Fatalf("a draft was saved without alt text: %+v", ds)
	}
	form.Set("image", id)
	form.Set("alt-"+id, alt)
	resp, body = b.multipart(compose, compose, form)
	expectNotice(t, "schedule with image", resp, body, "/staff/groups/bilder")
	ds, err := tg.Store.ListDrafts(ctx, g.ID)
	if err != nil || len(ds) != 1 || !strings.Contains(ds[0].Media, id) {
		t.Fatalf("drafts %+v %v", ds, err)
	}

	// Another editor of the group opens the draft: the image and its alt
	// text are there, and saving keeps them.
	eb := newBrowser(t, tg)
	eb.login("eva", testPassword)
	edit := "/staff/drafts/" + ds[0].PublicID + "/edit"
	resp, body = eb.get(edit)
	expectStatus(t, "draft with image", resp, body, 200)
	expectBody(t, "draft with image", body, `name="image" value="`+id+`"`, `>`+alt+`</textarea>`)
	form.Set("text", "Ny lekplats i vår – välkomna!")
	resp, body = eb.multipart(edit, edit, form)
	expectNotice(t, "draft saved by another editor", resp, body, "/staff/groups/bilder")
	if ps := livePosts(t, tg, g); len(ps) != 0 {
		t.Fatalf("published before its time: %+v", ps)
	}

	tg.Clock.Advance(2*time.Hour + time.Minute)
	cr := m.WaitFor(t, 10*time.Second, createOf("välkomna"))
	atts := attachmentsOf(cr)
	if len(atts) != 1 || atts[0]["type"] != "Image" || atts[0]["name"] != alt || atts[0]["url"] != tg.Base+"/media/i/"+id+"/large.png" {
		t.Fatalf("scheduled Create attachments: %v", atts)
	}
}
